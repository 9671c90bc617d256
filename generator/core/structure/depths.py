"""Separate lists of one block class take their lengths from one parameter.

DenseNet121's four dense blocks sit between transitions, so each is a list of its own;
with a count parameter each, the constructor reads ``num_conv2_blocks=6,
num_conv3_blocks=12, ...``. Keras's own DenseNet takes ``blocks=[6, 12, 24, 16]``: one
tuple a person edits to get DenseNet169. This pass writes ``stage_depths=(6, 12, 24, 16)``
and ``range(stage_depths[1])``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.core.ir import (
    Call,
    Comprehension,
    ModelIR,
    Name,
    Param,
    Subscript,
    Symbol,
)
from generator.core.naming import to_snake
from generator.core.structure.attributes import parameter_registry
from generator.core.structure.dataflow import KEEP, name_uses, transform

MIN_LISTS = 2  # lists of one class whose counts become one tuple


def merged_depths(model: ModelIR, taken: set[str]) -> ModelIR:
    """``model`` with the count parameters of each block class's lists as one tuple."""
    params = {p.name: p for p in model.params}
    by_class: dict[str, list[tuple[str, str]]] = {}  # class -> [(count parameter, attr)]
    for layer in model.layers:
        found = _counted_list(layer.constructor)
        if found is not None and _is_count(getattr(params.get(found[1]), "default", None)):
            by_class.setdefault(found[0], []).append((found[1], layer.attr))
    if all(len(members) < MIN_LISTS for members in by_class.values()):
        return model
    uses = name_uses(
        (model.layers, model.steps, model.outputs)
    )  # a count read anywhere else stays a parameter of its own
    groups = {}
    for class_name, members in by_class.items():
        members = [m for m in members if uses.get(m[0]) == 1]
        if len(members) >= MIN_LISTS:
            groups[class_name] = members
    if not groups:
        return model
    registry = parameter_registry(model, taken, "depths")
    replaced: dict[str, Any] = {}  # count parameter -> ``depths[k]``
    merged: dict[str, Param] = {}  # first count parameter of a group -> the tuple
    for class_name, members in groups.items():
        # Another pass may own ``stage_depths`` (ResNet50V2's third stage): then the
        # class's own name, not ``stage_depths_``.
        own = f"{to_snake(class_name)}_depths"
        wanted = "stage_depths" if len(groups) == 1 and "stage_depths" not in registry else own
        name = registry.claim(wanted)
        for index, (count, _) in enumerate(members):
            replaced[count] = Subscript(Name(name), index)
        attrs = [attr for _, attr in members]
        listed = ", ".join(attrs[:-1]) + f" and {attrs[-1]}"
        merged[members[0][0]] = Param(
            name,
            tuple(params[count].default for count, _ in members),
            doc=f"blocks in {listed}",
        )

    def rename(node: Any) -> Any:
        return replaced[node.id] if isinstance(node, Name) and node.id in replaced else KEEP

    layers = tuple(
        dataclasses.replace(layer, constructor=transform(layer.constructor, rename))
        for layer in model.layers
    )
    new_params = tuple(
        merged.get(p.name, p) for p in model.params if p.name in merged or p.name not in replaced
    )
    return dataclasses.replace(model, layers=layers, params=new_params)


def _counted_list(constructor: Any) -> tuple[str, str] | None:
    """(block class, count parameter) of ``[Block(...) for i in range(count)]``."""
    if not isinstance(constructor, Comprehension) or len(constructor.clauses) != 1:
        return None
    element, (_, iterable) = constructor.element, constructor.clauses[0]
    if not (
        isinstance(element, Call)
        and isinstance(element.func, Symbol)
        and element.func.module == ""
        and isinstance(iterable, Call)
        and iterable.func == Symbol("", "range")
        and len(iterable.args) == 1
        and isinstance(iterable.args[0], Name)
        and not iterable.kwargs
    ):
        return None
    return element.func.qualname, iterable.args[0].id


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
