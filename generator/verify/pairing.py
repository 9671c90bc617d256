"""Pairs the layers of the original and the generated model, and copies weights across.

Layers are matched by their name path (``outer/inner/dense``), recursively through nested
models; weights are copied pair by pair with count, shape and dtype checked one to one,
so a generated class whose layout differs is reported, never silently misloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from generator.from_keras.exact_operators import operator_layer_classes
from generator.from_keras.internals import direct_sublayers
from generator.verify.report import Check


@dataclass
class LayerPairs:
    """Leaf layers of both models matched by their name path (``outer/inner/dense``)."""

    leaves: list[tuple[str, Any, Any]] = field(default_factory=list)
    problems: list[Check] = field(default_factory=list)


def _is_container(layer: Any) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _named_children(model: Any) -> list[Any]:
    import keras

    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def is_block(layer: Any, root: Any) -> bool:
    """A layer class generated beside ``root`` that holds layers: a block from structure
    recovery, whose inner layers keep the names they had in the original's flat graph."""
    return (
        not _is_container(layer)
        and type(layer).__module__ == type(root).__module__
        and bool(direct_sublayers(layer))
    )


def _leaf_children(model: Any, root: Any, keep: set[str]) -> list[Any]:
    """Children, with blocks replaced by what they hold (recursively), except a block
    named like one of the original's nested models (``keep``): it stands for it."""
    found = []
    for layer in _named_children(model) if _is_container(model) else direct_sublayers(model):
        if is_block(layer, root) and layer.name not in keep:
            found.extend(_leaf_children(layer, root, keep))
        else:
            found.append(layer)
    return found


def _written_as_operator(layer: Any) -> bool:
    """A layer of a class structure recovery may write as an operator, and stateless."""
    return type(layer) in operator_layer_classes() and not layer.variables


def pair_layers(original: Any, generated: Any, prefix: str = "") -> LayerPairs:
    pairs = LayerPairs()
    # A block named like one of the original's nested models stands for it; a block
    # named like a plain layer holds that layer (``self.name`` as an inner layer's name).
    nested = {layer.name for layer in _named_children(original) if _is_container(layer)}
    ours = {layer.name: layer for layer in _leaf_children(generated, generated, nested)}
    seen: set[str] = set()
    for layer in _named_children(original):
        path = f"{prefix}{layer.name}"
        seen.add(layer.name)
        twin = ours.get(layer.name)
        if twin is None and _written_as_operator(layer):
            continue  # an Add written as ``+``: the layers after it compare its result
        if twin is None:
            pairs.problems.append(
                Check(
                    "weights",
                    path,
                    status="mismatch",
                    note="layer missing from the generated model",
                )
            )
            continue
        if _is_container(layer) and (_is_container(twin) or is_block(twin, generated)):
            inner = pair_layers(layer, twin, f"{path}/")
            pairs.leaves.extend(inner.leaves)
            pairs.problems.extend(inner.problems)
        else:
            pairs.leaves.append((path, layer, twin))
    for name in ours:
        if name not in seen and ours[name].weights:
            pairs.problems.append(
                Check(
                    "weights",
                    f"{prefix}{name}",
                    status="mismatch",
                    note="layer not in the original model",
                )
            )
    return pairs


def copy_weights(pairs: LayerPairs) -> list[Check]:
    """Copy weights pair by pair; count, shape and dtype must match one to one."""
    checks = list(pairs.problems)
    for path, layer, twin in pairs.leaves:
        theirs, ours = layer.weights, twin.weights
        trainable = (len(layer.trainable_weights), len(twin.trainable_weights))
        if layer.trainable != twin.trainable or trainable[0] != trainable[1]:
            note = (
                f"trainable={twin.trainable} with {trainable[1]} trainable weights in the "
                f"generated layer, trainable={layer.trainable} with {trainable[0]} in the original"
            )
            checks.append(Check("weights", path, status="mismatch", note=note))
            continue
        if len(theirs) != len(ours):
            note = f"{len(ours)} weights in the generated layer, {len(theirs)} in the original"
            if not ours and theirs:
                note += " (is the layer never called, so never built?)"
            checks.append(Check("weights", path, status="mismatch", note=note))
            continue
        bad = [
            (o.path, tuple(o.shape), str(o.dtype), tuple(t.shape), str(t.dtype))
            for o, t in zip(ours, theirs, strict=True)
            if tuple(o.shape) != tuple(t.shape) or str(o.dtype) != str(t.dtype)
        ]
        if bad:
            path_, shape, dtype, want_shape, want_dtype = bad[0]
            checks.append(
                Check(
                    "weights",
                    path,
                    status="mismatch",
                    note=f"{path_}: {shape} {dtype}, expected {want_shape} {want_dtype}",
                )
            )
            continue
        for o, t in zip(ours, theirs, strict=True):
            o.assign(t.value)
        if type(twin).__name__ == "Normalization" and hasattr(twin, "finalize_state"):
            twin.finalize_state()  # set_weights does not refresh the cached mean/variance
    return checks


def transfer_weights(original: Any, generated: Any) -> None:
    """Copy all weights by layer name; raise if the layouts differ."""
    checks = copy_weights(pair_layers(original, generated))
    problems = [c for c in checks if c.status == "mismatch"]
    if problems:
        raise ValueError(f"{problems[0].label}: {problems[0].note}")


def all_layers(model: Any, prefix: str = "", root: Any = None) -> Iterator[tuple[str, Any]]:
    """Every layer with its name path, nested models' layers included; a block's inner
    layers take the path they had in the flat original (the block's own is its name)."""
    root = model if root is None else root
    children = getattr(model, "layers", None) if _is_container(model) else direct_sublayers(model)
    for layer in children or []:
        path = f"{prefix}{layer.name}"
        yield path, layer
        if _is_container(layer):
            yield from all_layers(layer, f"{path}/")
        elif is_block(layer, root):
            yield from all_layers(layer, prefix, root)


def unstorable_names(model: Any) -> list[str]:
    """Layer names (and weight paths) that HDF5, and so ``model.save``, cannot store."""
    names = [path for path, _ in all_layers(model) if "\x00" in path]
    names += [w.path for w in getattr(model, "weights", []) if "\x00" in str(w.path)]
    return names
