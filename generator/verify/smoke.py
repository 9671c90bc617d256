"""``scaffold new --smoke-test``: build the generated model with TensorFlow and run it once.

The one part of ``scaffold new`` allowed to import TensorFlow. A shape mistake in the spec
is reported with the name of the layer that raised it.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from generator.core.ir import ModuleIR
from generator.errors import SpecError
from generator.from_keras.internals import flatten_layers

UNKNOWN_DIM = 7


def smoke_test(source: str, module: ModuleIR) -> str:
    """Build and call the main class; return a one-paragraph report, or raise SpecError."""
    from generator.from_keras.environment import import_keras
    from generator.from_spec.catalog import load_catalog
    from generator.verify.isolation import load_generated_class

    keras = import_keras()
    notes = []
    catalog_version = load_catalog()["keras_version"]
    if catalog_version != keras.__version__:
        notes.append(
            f"warning: the layer catalog was made with Keras {catalog_version}, this is Keras "
            f"{keras.__version__}; regenerate it with `python -m generator.from_spec.catalog`"
        )
    main = module.main
    cls = load_generated_class(source, main.class_name, "--smoke-test")
    model = cls()
    failing: list[str] = []
    _watch_layers(model, failing)
    inputs = _dummy_inputs(main)
    try:
        model.build(None)
        outputs = model(inputs, training=False)
    except Exception as exc:
        where = f"layer {failing[0]!r}" if failing else main.class_name
        message = " ".join(str(exc).split())
        raise SpecError(f"{where}: {message[:400]}", where="--smoke-test") from exc
    shapes = keras.tree.map_structure(lambda t: tuple(t.shape), outputs)
    notes.append(
        f"smoke test passed: {main.class_name} built with {model.count_params():,} parameters; "
        f"output shape {shapes} for a batch of 2"
    )
    return "\n".join(notes)


def _watch_layers(model: Any, failing: list[str]) -> None:
    """Remember the innermost layer whose build or call raises.

    The wrappers keep the wrapped signatures (Keras inspects ``build``'s parameters).
    """
    for layer in flatten_layers(model, include_self=False):
        for method in ("build", "call"):
            setattr(layer, method, _watched(getattr(layer, method), layer.name, failing))


def _watched(method: Any, name: str, failing: list[str]) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception:
            if not failing:
                failing.append(name)
            raise

    return wrapper


def _dummy_inputs(main: Any) -> Any:
    rng = np.random.default_rng(0)
    arrays = {}
    for spec in main.inputs:
        shape = (2, *(d if d is not None else UNKNOWN_DIM for d in spec.shape))
        if "int" in spec.dtype:
            arrays[spec.key] = rng.integers(1, 3, size=shape).astype(spec.dtype)
        elif spec.dtype == "bool":
            arrays[spec.key] = rng.random(shape) > 0.5
        else:
            arrays[spec.key] = rng.standard_normal(shape).astype(spec.dtype)
    if main.input_structure == "single":
        return next(iter(arrays.values()))
    return arrays
