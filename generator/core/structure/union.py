"""One block from two instances that each lack a part the other has.

MobileNetV2's and EfficientNet's first block of a stage pads its input before a strided
depthwise convolution and adds nothing back; the other blocks of the stage add their
input back and pad nothing. Neither is the other without some chains, so neither can be
the anchor of both. Their union can: the anchor's steps with the other instance's own
chains written in where they belong, each an optional part that one instance skips.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from generator.core.ir import Assign, LayerSpec, Name, SelfAttr
from generator.core.structure.chains import (
    MAX_CHAINS,
    Chain,
    candidate_chains,
    layer_classes,
    may_skip,
    without,
)
from generator.core.structure.dataflow import KEEP, Segment, layers_in, transform, variables_in
from generator.core.structure.shapes import segment_shape

MAX_INSERTED = 3  # layers an instance may bring into a family as its own optional chains


@dataclass(frozen=True)
class Union:
    """The family's steps with the instance's chains written in."""

    steps: tuple[Assign, ...]
    moved: dict[int, int]  # the family's step index -> its index in ``steps``
    inserted: tuple[Chain, ...]  # the instance's chains, as optional parts of ``steps``
    layer_of: dict[str, str]  # attribute in ``steps`` -> the instance's attribute


class _Conflict(Exception):
    """Both instances change one place of a step: they are not one block."""


def inserted_chains(
    steps: Sequence[Assign], segment: Segment, family_steps: Sequence[Assign], layers: dict
) -> list[tuple[Chain, ...]]:
    """Sets of chains inside ``steps`` (never its first or last layers: those may be a
    neighbour's) whose layers are exactly what the family's steps do not have."""
    extra = layer_classes(steps, layers) - layer_classes(family_steps, layers)
    if not extra or sum(extra.values()) > MAX_INSERTED:
        return []
    readers = Counter(var for step in steps for var in variables_in(step.value))
    classes = {
        chain: layer_classes([steps[i] for i in chain.steps], layers)
        for chain in candidate_chains(steps, segment.result)
        if chain.bypass != segment.source
        and steps[chain.steps[-1]].targets[0] != segment.result
        and readers[steps[chain.steps[-1]].targets[0]] > 0
    }
    inside = [chain for chain, own in classes.items() if not own - extra and may_skip(own)]
    found: list[tuple[Chain, ...]] = []

    def search(start: int, chosen: list[Chain], left: Counter) -> None:
        if not left:
            found.append(tuple(chosen))
            return
        if len(chosen) == MAX_CHAINS:
            return
        used = {i for chain in chosen for i in chain.steps}
        for index in range(start, len(inside)):
            chain = inside[index]
            if used.intersection(chain.steps) or classes[chain] - left:
                continue
            search(index + 1, [*chosen, chain], left - classes[chain])

    search(0, [], extra)
    return found


def unite(
    family_steps: Sequence[Assign],
    family_segment: Segment,
    skipped: Sequence[Chain],
    steps: Sequence[Assign],
    segment: Segment,
    inserted: Sequence[Chain],
    layers: dict[str, LayerSpec],
) -> Union | None:
    """The union of the family's steps without ``skipped`` and ``steps`` without
    ``inserted`` (which must have one shape), or None where both change one place."""
    kept_a, _ = without(family_steps, family_segment.result, skipped)
    kept_b, _ = without(steps, segment.result, inserted)
    _, attrs_a = segment_shape(kept_a, family_segment.source, family_segment.result, layers)
    _, attrs_b = segment_shape(kept_b, segment.source, segment.result, layers)
    skipped_a = {i for chain in skipped for i in chain.steps}
    skipped_b = {i for chain in inserted for i in chain.steps}
    index_a = [i for i in range(len(family_steps)) if i not in skipped_a]
    index_b = [i for i in range(len(steps)) if i not in skipped_b]
    variables = {segment.source: family_segment.source}
    for a, b in zip(index_a, index_b, strict=True):
        variables.update(zip(steps[b].targets, family_steps[a].targets, strict=True))
    attrs = dict(zip(attrs_b, attrs_a, strict=True))

    def translated(step: Assign) -> Assign:
        def rename(node: Any) -> Any:
            if isinstance(node, Name) and node.id in variables:
                return Name(variables[node.id])
            if isinstance(node, SelfAttr) and node.attr in attrs:
                return SelfAttr(attrs[node.attr])
            return KEEP

        return Assign(step.targets, transform(step.value, rename), step.unpack)

    chain_of_output = {steps[chain.steps[-1]].targets[0]: chain for chain in inserted}
    united: list[Assign] = []
    moved: dict[int, int] = {}
    placed: dict[Chain, tuple[int, ...]] = {}
    try:
        merged = {
            a: _merged3(base.value, family_steps[a].value, translated(steps[b]).value)
            for a, b, base in zip(index_a, index_b, kept_a, strict=True)
        }
    except _Conflict:
        return None
    for index, step in enumerate(family_steps):
        value = merged.get(index, step.value)
        for var in variables_in(value):
            chain = chain_of_output.get(var)
            if chain is not None and chain not in placed:
                start = len(united)
                united.extend(translated(steps[i]) for i in chain.steps)
                placed[chain] = tuple(range(start, len(united)))
        moved[index] = len(united)
        united.append(Assign(step.targets, value, step.unpack))
    if len(placed) != len(inserted):
        return None  # a chain whose output only an omitted step read
    new_chains = tuple(
        Chain(placed[chain], variables.get(chain.bypass, chain.bypass)) for chain in inserted
    )
    layer_of = {a: b for b, a in attrs.items()}
    for chain in inserted:
        for i in chain.steps:
            layer_of.update((attr, attr) for attr in layers_in(steps[i].value))
    return Union(tuple(united), moved, new_chains, layer_of)


def _merged3(base: Any, left: Any, right: Any) -> Any:
    """``base`` with the changes ``left`` and ``right`` each make to it."""
    if left == base:
        return right
    if right == base or left == right:
        return left
    if not (type(base) is type(left) is type(right)):
        raise _Conflict
    if isinstance(base, tuple) and len(base) == len(left) == len(right):
        return tuple(_merged3(b, x, y) for b, x, y in zip(base, left, right, strict=True))
    if dataclasses.is_dataclass(base) and not isinstance(base, type):
        merged = {
            name: _merged3(getattr(base, name), getattr(left, name), getattr(right, name))
            for name in (f.name for f in dataclasses.fields(base))
        }
        return dataclasses.replace(base, **merged)
    raise _Conflict


def remapped(chain: Chain, moved: dict[int, int]) -> Chain:
    return Chain(tuple(moved[i] for i in chain.steps), chain.bypass)
