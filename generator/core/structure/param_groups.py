"""Parameters of one kind that a block's layers of one class read whole become a tuple.

InceptionResNetV2's block widens three convolutions by three values; written as
``filters``, ``filters_1``, ``filters_2`` they are three names that say nothing apart.
Keras's own ResNet50 took ``filters`` and unpacked ``filters1, filters2, filters3 =
filters``; the block reads ``filters[1]`` instead, and a model passes ``filters=(128, 160,
192)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.core.ir import Name, Subscript, Value, iter_values
from generator.core.structure.dataflow import KEEP, transform
from generator.core.structure.progressions import linear, schedule
from generator.core.structure.shapes import Path

if TYPE_CHECKING:
    from generator.core.structure.blocks import BlockParam

MIN_GROUP = 2


@dataclass(frozen=True)
class Slot:
    """One layer of the block: its attribute, its class and the argument each hole is."""

    attr: str
    class_label: str
    arguments: dict[Path, str]


def grouped_parameters(
    params: list[BlockParam],
    holes: list[dict[Path, Value]],
    slots: Sequence[Slot],
    fixed: set[str],
) -> tuple[list[BlockParam], list[dict[Path, Value]]]:
    """``params`` with each group of two or more as one tuple parameter where the first
    of them was, and each layer's ``holes`` reading ``name[k]``. A group: parameters of
    one argument (``stem``) and kind, each with a value in every instance, read whole as
    that argument by layers of one class and nowhere else, none in ``fixed`` (read by a
    flag or a computed value) and none counting along the list."""
    readings = _readings(holes, slots)
    groups: dict[tuple[str, str, str], list[BlockParam]] = {}
    for param in params:
        read = readings.get(param.name, set())
        if not param.stem or param.known is not None or param.name in fixed or len(read) != 1:
            continue
        (reading,) = read
        if reading is not None and reading[1] == param.stem:
            groups.setdefault((param.stem, param.kind, reading[0]), []).append(param)
    chosen = [
        group
        for group in groups.values()
        if len(group) >= MIN_GROUP and not any(_counts_along(p) for p in group)
    ]
    if not chosen:
        return params, holes
    members = {param.name: (group[0].name, k) for group in chosen for k, param in enumerate(group)}
    holes = [{path: _indexed(value, members) for path, value in slot.items()} for slot in holes]
    tuples = {}  # the first of each group stands for it
    for group in chosen:
        values = [tuple(p.values[k] for p in group) for k in range(len(group[0].values))]
        doc = _doc(group[0].stem, group[0].name, holes, slots)
        tuples[group[0].name] = dataclasses.replace(group[0], values=values, doc=doc)
    return [
        tuples.get(param.name, param)
        for param in params
        if param.name in tuples or param.name not in members
    ], holes


def _counts_along(param: BlockParam) -> bool:
    """A value that counts along the list (``4 + 2 * i``, a rising rate): the model's
    loop writes it as one expression of the block's position, which a tuple would hide."""
    return (
        linear(param.values, param.known) is not None
        or schedule(param.values, param.known) is not None
    )


def _readings(
    holes: list[dict[Path, Value]], slots: Sequence[Slot]
) -> dict[str, set[tuple[str, str] | None]]:
    """For each name, how layers read it: ``(class, argument)`` where a hole is that
    name alone, None where it is part of a value (``4 * filters``, ``(1, 1, filters)``)."""
    found: dict[str, set[tuple[str, str] | None]] = {}
    for slot_holes, slot in zip(holes, slots, strict=True):
        for path, value in slot_holes.items():
            whole = (slot.class_label, slot.arguments[path]) if isinstance(value, Name) else None
            for node in iter_values(value):
                if isinstance(node, Name):
                    found.setdefault(node.id, set()).add(whole)
    return found


def _indexed(value: Value, members: dict[str, tuple[str, int]]) -> Any:
    return transform(
        value,
        lambda node: (
            Subscript(Name(members[node.id][0]), members[node.id][1])
            if isinstance(node, Name) and node.id in members
            else KEEP
        ),
    )


def _doc(stem: str, name: str, holes: list[dict[Path, Value]], slots: Sequence[Slot]) -> str:
    """``filters`` of its Conv2Ds ``conv2d_1``, ``conv2d_2``, ``conv2d_3``, in order."""
    readers: dict[int, list[str]] = {}
    labels = set()
    for slot_holes, slot in zip(holes, slots, strict=True):
        for value in slot_holes.values():
            if isinstance(value, Subscript) and value.value == Name(name):
                assert isinstance(value.key, int)
                readers.setdefault(value.key, []).append(f"``{slot.attr}``")
                labels.add(slot.class_label)
    parts = [" and ".join(readers[k]) for k in sorted(readers)]
    return f"``{stem}`` of its {labels.pop()}s {', '.join(parts)}, in order"
