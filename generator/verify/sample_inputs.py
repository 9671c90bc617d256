"""Seeded inputs that exercise a model the way real data would.

Shapes and dtypes follow the model's inputs; unknown dimensions get a concrete size the
model's graph accepts (7, else longer: strided convolutions shrink a sequence);
integer inputs stay inside the index range of the Embedding or lookup layers they feed;
inputs that feed ``mask_zero`` embeddings end in padding, so the masked path runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from generator.from_keras.internals import has_graph, inputs_struct, nodes_by_depth
from generator.from_keras.unknown_sizes import concrete_shape, unknown_size

DEFAULT_INT_HIGH = 10

_INDEX_KEYS = ("input_dim", "num_tokens", "num_bins", "vocabulary_size")
_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@dataclass(frozen=True)
class InputFacts:
    """What the layers an input feeds say about its values."""

    high: int = DEFAULT_INT_HIGH  # exclusive bound of integer indices
    pad: bool = False  # feeds a ``mask_zero`` embedding
    vocabulary: tuple[Any, ...] = ()  # a lookup layer's tokens (strings or ints)


def sample_inputs(model: Any, *, batch: int = 4, seed: int = 0) -> Any:
    """One batch in the model's input structure (tensors as NumPy arrays)."""
    from keras import tree

    struct = inputs_struct(model)
    rng = np.random.default_rng(seed)
    facts = input_facts(model)
    size = unknown_size(model)
    flat = []
    for tensor in tree.flatten(struct):
        shape = concrete_shape(tensor.shape, batch, size)
        dtype = str(tensor.dtype)
        known = facts.get(id(tensor), InputFacts())
        if known.vocabulary and dtype in ("string", *_INT_DTYPES):
            values = rng.choice(np.asarray(known.vocabulary, dtype=object), size=shape)
            flat.append(values if dtype == "string" else values.astype(dtype))
        elif "int" in dtype:
            values = rng.integers(1 if known.pad else 0, max(known.high, 1), size=shape)
            if known.pad and values.ndim >= 2:
                values[..., -2:] = 0  # trailing padding exercises the masked path
            flat.append(values.astype(dtype))
        elif dtype == "bool":
            flat.append(rng.random(shape) > 0.5)
        elif dtype == "string":
            flat.append(np.full(shape, "a", dtype=object))
        else:
            flat.append(rng.standard_normal(shape).astype(dtype))
    return tree.pack_sequence_as(struct, flat)


def input_facts(model: Any) -> dict[int, InputFacts]:
    """Model input → what the layers it reaches say about its values.

    Follows each integer or string input downstream through every node whose outputs
    keep its dtype (reshapes, slices, nested models) to the index and lookup layers it
    reaches: their sizes bound integer indices, and a lookup's vocabulary gives the
    values to draw (a ``StringLookup`` without OOV indices refuses anything else).
    """
    found: dict[int, InputFacts] = {}
    consumers = _consumer_map(model)
    for tensor in getattr(model, "inputs", None) or []:
        dtype = str(tensor.dtype)
        if "int" not in dtype and dtype != "string":
            continue
        bounds: list[int] = []
        pad = False
        vocabulary: tuple[Any, ...] = ()
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
                tokens = _vocabulary(operation)
                strict = config.get("num_oov_indices") == 0
                if tokens and (not vocabulary or strict):  # unknown tokens refused there
                    vocabulary = tokens
                frontier.extend(out for out in outputs if _kind(str(out.dtype)) == _kind(dtype))
                if has_graph(operation):
                    inner = input_facts(operation).values()
                    bounds.extend(f.high for f in inner)
                    pad = pad or any(f.pad for f in inner)
                    vocabulary = vocabulary or next(
                        (f.vocabulary for f in inner if f.vocabulary), ()
                    )
        high = min(bounds) if bounds else DEFAULT_INT_HIGH
        found[id(tensor)] = InputFacts(high, pad, vocabulary)
    return found


def _kind(dtype: str) -> str:
    return "int" if "int" in dtype else dtype


def _vocabulary(operation: Any) -> tuple[Any, ...]:
    get_vocabulary = getattr(operation, "get_vocabulary", None)
    if get_vocabulary is None:
        return ()
    try:
        tokens = get_vocabulary(include_special_tokens=False)
    except Exception:
        return ()
    return tuple(t.item() if hasattr(t, "item") else t for t in tokens)


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
