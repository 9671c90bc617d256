"""Seeded inputs that exercise a model the way real data would.

Shapes and dtypes follow the model's inputs; unknown dimensions get concrete sizes;
integer inputs stay inside the index range of the Embedding or lookup layers they feed;
inputs that feed ``mask_zero`` embeddings end in padding, so the masked path runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generator.from_keras.internals import has_graph, inputs_struct, nodes_by_depth

UNKNOWN_DIM = 7  # size used for every ``None`` dimension except the batch
DEFAULT_INT_HIGH = 10

_INDEX_KEYS = ("input_dim", "num_tokens", "num_bins", "vocabulary_size")


def sample_inputs(model: Any, *, batch: int = 4, seed: int = 0) -> Any:
    """One batch in the model's input structure (tensors as NumPy arrays)."""
    from keras import tree

    struct = inputs_struct(model)
    rng = np.random.default_rng(seed)
    limits = integer_input_limits(model)
    flat = []
    for tensor in tree.flatten(struct):
        shape = tuple(
            batch if i == 0 else (d if d is not None else UNKNOWN_DIM)
            for i, d in enumerate(tensor.shape)
        )
        dtype = str(tensor.dtype)
        if "int" in dtype:
            high, pad = limits.get(id(tensor), (DEFAULT_INT_HIGH, False))
            values = rng.integers(1 if pad else 0, max(high, 1), size=shape)
            if pad and values.ndim >= 2:
                values[..., -2:] = 0  # trailing padding exercises the masked path
            flat.append(values.astype(dtype))
        elif dtype == "bool":
            flat.append(rng.random(shape) > 0.5)
        elif dtype == "string":
            flat.append(np.full(shape, "a", dtype=object))
        else:
            flat.append(rng.standard_normal(shape).astype(dtype))
    return tree.pack_sequence_as(struct, flat)


def integer_input_limits(model: Any) -> dict[int, tuple[int, bool]]:
    """Integer model input → (exclusive upper bound, feeds a ``mask_zero`` embedding).

    Follows each input downstream through every node whose outputs stay integer
    (reshapes, slices, nested models) to the index layers it reaches.
    """
    limits: dict[int, tuple[int, bool]] = {}
    consumers = _consumer_map(model)
    for tensor in getattr(model, "inputs", None) or []:
        if "int" not in str(tensor.dtype):
            continue
        bounds: list[int] = []
        pad = False
        frontier, seen = [tensor], set()
        while frontier:
            current = frontier.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            for operation, outputs in consumers.get(id(current), []):
                config = _config(operation)
                for key in _INDEX_KEYS:
                    if isinstance(config.get(key), int):
                        bounds.append(config[key])
                pad = pad or bool(config.get("mask_zero"))
                for out in outputs:
                    if "int" in str(out.dtype):
                        frontier.append(out)
                if has_graph(operation):
                    inner = integer_input_limits(operation)
                    bounds.extend(high for high, _ in inner.values())
                    pad = pad or any(p for _, p in inner.values())
        limits[id(tensor)] = (min(bounds) if bounds else DEFAULT_INT_HIGH, pad)
    return limits


def _consumer_map(model: Any) -> dict[int, list[tuple[Any, list[Any]]]]:
    found: dict[int, list[tuple[Any, list[Any]]]] = {}
    for nodes in nodes_by_depth(model).values():
        for node in nodes:
            if node.operation is None:
                continue
            for tensor in node.input_tensors:
                found.setdefault(id(tensor), []).append((node.operation, list(node.outputs)))
    return found


def _config(operation: Any) -> dict[str, Any]:
    try:
        config = operation.get_config()
    except Exception:
        return {}
    return config if isinstance(config, dict) else {}
