"""``scaffold new --smoke-test``: build the generated model with TensorFlow and run it once.

The one part of ``scaffold new`` allowed to import TensorFlow. A shape mistake in the spec
is reported with the name of the layer that raised it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from generator.core.ir import ModuleIR
from generator.errors import SpecError, one_line
from generator.from_keras.internals import flatten_layers

UNKNOWN_DIM = 7


def smoke_test(source: str, module: ModuleIR) -> str:
    """Build and call the main class; return a one-paragraph report, or raise SpecError
    naming the layer that failed and where the spec declares it."""
    from generator.from_keras.environment import import_keras
    from generator.from_spec.catalog import keras_series
    from generator.verify.isolation import load_generated_class

    keras = import_keras()
    notes = []
    if keras_series(keras.__version__) != keras_series():
        notes.append(
            f"warning: the layer catalog covers Keras {keras_series()}.x, this is Keras "
            f"{keras.__version__}; regenerate it with `python -m generator.from_spec.catalog`"
        )
    main = module.main
    cls = load_generated_class(source, main.class_name, "--smoke-test")
    failing: list[str] = []
    try:
        model = cls()
        _watch_layers(model, failing)
        model.build(None)
        outputs = model(_dummy_inputs(main), training=False)
    except Exception as exc:
        raise _layer_error(exc, failing, module, source) from None
    shapes = keras.tree.map_structure(lambda t: tuple(t.shape), outputs)
    notes.append(
        f"smoke test passed: {main.class_name} built with {model.count_params():,} parameters; "
        f"output shape {shapes} for a batch of 2"
    )
    return "\n".join(notes)


def _layer_error(exc: Exception, failing: list[str], module: ModuleIR, source: str) -> SpecError:
    """One line: the spec location and name of the layer that failed, and why."""
    name = failing[0] if failing else _constructing(exc, module, source)
    layer = _declared(name, module) if name else None
    what = f"layer {layer.name!r} ({layer.class_label})" if layer else module.main.class_name
    where = layer.origin if layer and layer.origin else "--smoke-test"
    return SpecError(f"{what}: {one_line(exc, 400)}", where=where)


def _constructing(exc: Exception, module: ModuleIR, source: str) -> str | None:
    """The layer whose constructor raised: the generated line ``self.<attr> = ...``."""
    attrs = {layer.attr: layer.name for model in module.models for layer in model.layers}
    lines = source.splitlines()
    frame = exc.__traceback__
    found = None
    while frame is not None:
        if frame.tb_frame.f_code.co_filename.startswith("<scaffold"):
            number = frame.tb_lineno
            line = lines[number - 1] if 0 < number <= len(lines) else ""
            match = re.match(r"\s*self\.(\w+) = ", line)
            if match and match.group(1) in attrs:
                found = attrs[match.group(1)]
        frame = frame.tb_next
    return found


def _declared(name: str, module: ModuleIR) -> Any:
    """The ``LayerSpec`` of a Keras layer name (``block_3`` of a repeated ``block``)."""
    layers = [layer for model in module.models for layer in model.layers]
    exact = next((layer for layer in layers if layer.name == name), None)
    if exact is not None:
        return exact
    return next(
        (
            layer
            for layer in layers
            if layer.repeat and re.fullmatch(rf"{re.escape(layer.name)}_\d+", name)
        ),
        None,
    )


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
