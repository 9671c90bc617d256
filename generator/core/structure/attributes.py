"""Attribute names without the prefix every layer name of a model shares:
``self.stem_conv``, not ``self.convnext_tiny_stem_conv``. The Keras ``name=`` keeps it,
so weights still pair by name."""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.core.ir import ForEach, ModelIR, Name, SelfAttr
from generator.core.naming import (
    KERAS_MODEL_ATTRIBUTES,
    MODULE_RESERVED,
    NameRegistry,
    attribute_registry,
    to_snake,
)
from generator.core.structure.blocks import SEPARATORS, common_prefix
from generator.core.structure.dataflow import KEEP, transform

MIN_PREFIX = 4  # characters: shorter shared beginnings are words, not a model's name


def short_attributes(model: ModelIR) -> ModelIR:
    names = [layer.name for layer in model.layers]
    if len(names) < 2:
        return model
    prefix = common_prefix(names)
    cut = max((i + 1 for i, ch in enumerate(prefix) if ch in SEPARATORS), default=0)
    prefix = prefix[:cut]
    if len(prefix) < MIN_PREFIX or any(name == prefix for name in names):
        return model
    registry = attribute_registry()
    renames = {layer.attr: registry.claim(layer.name[len(prefix) :]) for layer in model.layers}
    # Parameters named after an attribute (``num_convnext_tiny_stage_0_blocks``) follow it.
    long = to_snake(prefix)
    params = {
        p.name: registry.claim(p.name.replace(long + "_", "", 1) if long in p.name else p.name)
        for p in model.params
    }

    def rename(node: Any) -> Any:
        if isinstance(node, SelfAttr):
            return SelfAttr(renames[node.attr])
        if isinstance(node, Name) and node.id in params:
            return Name(params[node.id])
        return KEEP

    steps = [
        ForEach(step.var, renames[step.attr], transform(step.body, rename))
        if isinstance(step, ForEach)
        else transform(step, rename)
        for step in model.steps
    ]
    layers = tuple(
        dataclasses.replace(
            layer, attr=renames[layer.attr], constructor=transform(layer.constructor, rename)
        )
        for layer in model.layers
    )
    new_params = tuple(
        dataclasses.replace(p, name=params[p.name], doc=_renamed_doc(p.doc, renames))
        for p in model.params
    )
    return dataclasses.replace(model, layers=layers, steps=tuple(steps), params=new_params)


def _renamed_doc(doc: str, renames: dict[str, str]) -> str:
    """A parameter's description names the attribute it sizes: by its new name."""
    for old in sorted(renames, key=len, reverse=True):
        doc = doc.replace(f" {old} ", f" {renames[old]} ").replace(f" {old};", f" {renames[old]};")
        if doc.endswith(f" {old}"):
            doc = doc[: -len(old)] + renames[old]
    return doc


def parameter_registry(model: ModelIR, taken: set[str], fallback: str) -> NameRegistry:
    """Names for new constructor parameters of ``model``: parameters are attributes too
    (``self.num_classes``), so never a layer's, an existing parameter's or Keras's."""
    return NameRegistry(
        taken
        | {p.name for p in model.params}
        | {layer.attr for layer in model.layers}
        | KERAS_MODEL_ATTRIBUTES
        | MODULE_RESERVED,
        fallback,
    )
