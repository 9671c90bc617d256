"""Numerical check that a generated subclass computes what the original model computes.

This is the foundation that ``scaffold verify`` builds on: import the generated module in
isolation, build it, copy the original's weights, run both on the same seeded inputs and
report the largest differences per output.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any

import numpy as np

# float32 tolerances: outputs agree to this unless the code differs.
DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-4


@dataclass(frozen=True)
class Difference:
    label: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float

    def within(self, atol: float = DEFAULT_ATOL, rtol: float = DEFAULT_RTOL) -> bool:
        return self.max_abs <= atol or self.max_rel <= rtol


def import_source(source: str, module_name: str = "scaffold_generated") -> types.ModuleType:
    """Execute generated source in a fresh module object that ``sys.modules`` never holds."""
    module = types.ModuleType(module_name)
    module.__file__ = f"<{module_name}>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def sample_inputs(model: Any, *, batch: int = 4, seed: int = 0) -> Any:
    """Seeded inputs in the model's input structure, respecting dtypes and index ranges."""
    from keras import tree

    rng = np.random.default_rng(seed)
    limits = _integer_input_limits(model)
    flat = []
    for tensor in tree.flatten(
        model._inputs_struct if hasattr(model, "_inputs_struct") else model.inputs
    ):
        shape = tuple(
            batch if i == 0 else (d if d is not None else 7) for i, d in enumerate(tensor.shape)
        )
        dtype = str(tensor.dtype)
        if "int" in dtype:
            high, pad = limits.get(id(tensor), (10, False))
            values = rng.integers(0, max(high, 1), size=shape)
            if pad and values.ndim >= 2:
                values[..., -2:] = 0  # trailing padding exercises the masked path
            flat.append(values.astype(dtype))
        elif dtype == "bool":
            flat.append(rng.random(shape) > 0.5)
        elif dtype == "string":
            flat.append(np.array(["a"] * int(np.prod(shape))).reshape(shape))
        else:
            flat.append(rng.standard_normal(shape).astype(dtype))
    struct = model._inputs_struct if hasattr(model, "_inputs_struct") else model.inputs[0]
    return tree.pack_sequence_as(struct, flat)


def _integer_input_limits(model: Any) -> dict[int, tuple[int, bool]]:
    """Map each integer model input to (exclusive upper bound, feeds a mask_zero embedding)."""
    limits: dict[int, tuple[int, bool]] = {}
    inputs = getattr(model, "inputs", None) or []
    for tensor in inputs:
        high, pad = 10, False
        for consumer in _consumers(model, tensor):
            config = consumer.get_config() if hasattr(consumer, "get_config") else {}
            for key in ("input_dim", "num_tokens", "num_bins"):
                if isinstance(config.get(key), int):
                    high = min(high, config[key]) if high != 10 else config[key]
            pad = pad or bool(config.get("mask_zero"))
        limits[id(tensor)] = (high, pad)
    return limits


def _consumers(model: Any, tensor: Any) -> list[Any]:
    found = []
    for depth_nodes in getattr(model, "_nodes_by_depth", {}).values():
        for node in depth_nodes:
            if any(t is tensor for t in node.input_tensors) and node.operation is not None:
                found.append(node.operation)
    if not found and getattr(model, "layers", None):
        found.append(model.layers[0])
    return found


def transfer_weights(original: Any, generated: Any) -> None:
    """Copy all weights in order, then refresh state that ``set_weights`` leaves stale."""
    generated.set_weights(original.get_weights())
    for layer in _all_layers(generated):
        if type(layer).__name__ == "Normalization" and hasattr(layer, "finalize_state"):
            layer.finalize_state()


def _all_layers(model: Any) -> list[Any]:
    layers = []
    for layer in getattr(model, "layers", []):
        layers.append(layer)
        layers.extend(_all_layers(layer))
    return layers


def compare_outputs(expected: Any, actual: Any) -> list[Difference]:
    """Per-output max abs/rel differences; raises ValueError if the structures differ."""
    from keras import tree

    tree.assert_same_structure(expected, actual)
    differences = []
    for (path, want), got in zip(
        tree.flatten_with_path(expected), tree.flatten(actual), strict=True
    ):
        want_arr = np.asarray(want, dtype=np.float64)
        got_arr = np.asarray(got, dtype=np.float64)
        if want_arr.shape != got_arr.shape:
            raise ValueError(f"output {path}: shape {got_arr.shape} != {want_arr.shape}")
        diff = np.abs(want_arr - got_arr)
        max_abs = float(diff.max()) if diff.size else 0.0
        denom = np.maximum(np.abs(want_arr), 1e-12)
        max_rel = float((diff / denom).max()) if diff.size else 0.0
        label = "/".join(str(p) for p in path) or "output"
        differences.append(Difference(label, tuple(want_arr.shape), max_abs, max_rel))
    return differences


def layer_outputs(model: Any, inputs: Any, *, training: bool = False) -> dict[str, list[Any]]:
    """Run ``model`` and record what every (nested) layer returned, by layer name.

    Both the original and the generated model call their layers through ``__call__``,
    which calls the instance's ``call``; wrapping that per instance records outputs
    without changing what is computed. A shared layer records one entry per call.
    """
    recorded: dict[str, list[Any]] = {}
    patched = []
    for layer in _all_layers(model):
        original_call = layer.call

        def recording_call(
            *args: Any, __call=original_call, __name=layer.name, **kwargs: Any
        ) -> Any:
            result = __call(*args, **kwargs)
            recorded.setdefault(__name, []).append(result)
            return result

        layer.call = recording_call
        patched.append(layer)
    try:
        model(inputs, training=training)
    finally:
        for layer in patched:
            del layer.call
    return recorded


def compare_layers(
    expected: dict[str, list[Any]], actual: dict[str, list[Any]]
) -> list[Difference]:
    """Differences for every layer name both runs recorded, in the expected run's order."""
    from keras import tree

    differences = []
    for name, want_calls in expected.items():
        got_calls = actual.get(name)
        if got_calls is None or len(got_calls) != len(want_calls):
            continue
        for index, (want, got) in enumerate(zip(want_calls, got_calls, strict=True)):
            want_flat, got_flat = tree.flatten(want), tree.flatten(got)
            if len(want_flat) != len(got_flat):
                continue
            label = name if len(want_calls) == 1 else f"{name}#{index}"
            for diff in compare_outputs(want_flat, got_flat):
                differences.append(
                    Difference(
                        f"{label}[{diff.label}]" if len(want_flat) > 1 else label,
                        diff.shape,
                        diff.max_abs,
                        diff.max_rel,
                    )
                )
    return differences
