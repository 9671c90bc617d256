"""Nested models that differ only in literal values become one block class.

Three nested Sequential models that differ only in 192, 384, 768 would be converted as
three classes; this pass writes one ``Layer`` class with a ``filters`` parameter
instead, and the parents create it with each model's values. The instance keeps the
nested model's name, and its layers theirs, so weights still pair by name
(``verify.pairing`` descends into a block where the original had a model). Short ones
that read better written where they are created (ConvNeXt's two-layer downsampling
blocks) are left to ``sequentials.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.core.ir import Assign, Call, LayerSpec, ModelIR, ModuleIR, Name, SelfAttr, Symbol
from generator.core.naming import NameRegistry
from generator.core.structure.blocks import Blocks, NotFactorable, build_blocks, class_stem
from generator.core.structure.dataflow import (
    KEEP,
    Segment,
    flat_steps,
    rename_variables,
    transform,
)
from generator.core.structure.families import Family, Occurrence
from generator.core.structure.sequentials import inline_pays
from generator.core.structure.shapes import segment_shape


def merge_nested_models(module: ModuleIR, classes: NameRegistry) -> ModuleIR:
    """The module with each group of look-alike nested models as one block class."""
    groups: dict[Any, list[ModelIR]] = {}
    for model in module.models[:-1]:
        key = _shape(model)
        if key is not None:
            groups.setdefault(key, []).append(model)
    replaced: dict[str, tuple[str, tuple[tuple[str, Any], ...]]] = {}
    blocks_before: dict[str, ModelIR] = {}  # first member's class -> the block class
    for members in groups.values():
        if len(members) < 2 or inline_pays(members, module.models):
            continue
        merged = _merge(members, classes)
        if merged is None:
            continue
        blocks, block = merged
        blocks_before[members[0].class_name] = block
        for index, member in enumerate(members):
            arguments = tuple((p.name, p.values[index]) for p in blocks.params)
            replaced[member.class_name] = (block.class_name, arguments)
    if not replaced:
        return module
    models: list[ModelIR] = []
    for model in module.models:
        if model.class_name in blocks_before:
            models.append(blocks_before[model.class_name])
        if model.class_name in replaced:
            continue
        models.append(_pointed_to_blocks(model, replaced))
    return dataclasses.replace(module, models=tuple(models))


def _shape(model: ModelIR) -> Any:
    """What two nested models must share to be one class (None: never merged)."""
    steps = flat_steps(model)
    if (
        steps is None
        or model.kind != "model"
        or model.input_structure != "single"
        or not isinstance(model.outputs, Name)
        or model.params
        or any(layer.repeat or not isinstance(layer.constructor, Call) for layer in model.layers)
    ):
        return None
    layers = {layer.attr: layer for layer in model.layers}
    spec = model.inputs[0]
    shape, _ = segment_shape(steps, spec.var, model.outputs.id, layers)
    return (spec.dtype, len(spec.shape), shape)


def _merge(members: list[ModelIR], classes: NameRegistry) -> tuple[Blocks, ModelIR] | None:
    """One block class for ``members``: their steps side by side in one scratch model,
    each an occurrence of one family."""
    layers: list[LayerSpec] = []
    steps: list[Assign] = []
    segments = []
    for index, member in enumerate(members):
        attrs = {layer.attr: f"m{index}_{layer.attr}" for layer in member.layers}
        member_steps = flat_steps(member)
        assert member_steps is not None and isinstance(member.outputs, Name)
        variables = {spec.var: f"m{index}_{spec.var}" for spec in member.inputs}
        for step in member_steps:
            variables.update({t: f"m{index}_{t}" for t in step.targets})
        start = len(steps)
        for step in member_steps:
            value = _with_attributes(rename_variables(step.value, variables), attrs)
            steps.append(Assign(tuple(variables[t] for t in step.targets), value, step.unpack))
        layers.extend(dataclasses.replace(layer, attr=attrs[layer.attr]) for layer in member.layers)
        segments.append(
            Segment(
                start,
                len(steps),
                variables[member.inputs[0].var],
                variables[member.outputs.id],
            )
        )
    scratch = dataclasses.replace(
        members[0], layers=tuple(layers), steps=tuple(steps), outputs=Name(segments[-1].result)
    )
    by_attr = {layer.attr: layer for layer in layers}
    shapes = [segment_shape(steps[s.start : s.stop], s.source, s.result, by_attr) for s in segments]
    family = Family(segments[0], tuple(steps[segments[0].start : segments[0].stop]))
    units = [
        [Occurrence(segment, 0, set(), dict(zip(shapes[0][1], attrs, strict=True)))]
        for segment, (_, attrs) in zip(segments, shapes, strict=True)
    ]
    try:
        blocks = build_blocks(scratch, [family], units, NameRegistry())
    except NotFactorable:
        return None
    block = blocks.block
    if block is None:
        return None
    # Inner names derived from the instance's own name must derive from the nested
    # model's name, which the instance keeps.
    if blocks.names and blocks.names != [m.keras_name for m in members]:
        return None
    summary = f"One class for the {len(members)} nested models like {members[0].keras_name!r}."
    class_name = classes.claim(
        class_stem([m.class_name for m in members]) or "Block", style="pascal"
    )
    example = tuple(
        (key, members[0].keras_name if key == "name" else value) for key, value in block.example
    )
    # It stands for nested Functional models, which convert what they are given to their
    # Input's dtype (an int32 tensor to float32); a Layer would pass it on as it is.
    dtype = members[0].inputs[0].dtype
    block = dataclasses.replace(
        block,
        summary=summary,
        class_name=class_name,
        example=example,
        inputs=tuple(dataclasses.replace(spec, dtype=dtype) for spec in block.inputs),
        casts_inputs=True,
    )
    return blocks, block


def _with_attributes(value: Any, attrs: dict[str, str]) -> Any:
    def rename(node: Any) -> Any:
        return SelfAttr(attrs[node.attr]) if isinstance(node, SelfAttr) else KEEP

    return transform(value, rename)


def _pointed_to_blocks(
    model: ModelIR, replaced: dict[str, tuple[str, tuple[tuple[str, Any], ...]]]
) -> ModelIR:
    layers = []
    for layer in model.layers:
        call = layer.constructor
        if (
            isinstance(call, Call)
            and isinstance(call.func, Symbol)
            and call.func.module == ""
            and call.func.qualname in replaced
        ):
            class_name, arguments = replaced[call.func.qualname]
            call = Call(Symbol("", class_name), (), (*arguments, *call.kwargs))
            layer = dataclasses.replace(layer, constructor=call, class_label=class_name)
        layers.append(layer)
    return dataclasses.replace(model, layers=tuple(layers))
