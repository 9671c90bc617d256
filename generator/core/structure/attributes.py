"""Attribute names without the prefix every layer name of a model shares:
``self.stem_conv``, not ``self.convnext_tiny_stem_conv``. The Keras ``name=`` keeps it,
so weights still pair by name."""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.core.ir import Assign, ForEach, ModelIR, Name, SelfAttr
from generator.core.layer_words import claim_attributes, is_auto_name
from generator.core.naming import (
    KERAS_MODEL_ATTRIBUTES,
    MODULE_RESERVED,
    NameRegistry,
    attribute_registry,
    to_snake,
)
from generator.core.structure.blocks import model_prefix
from generator.core.structure.dataflow import KEEP, all_assigns, transform, variables_in


def short_attributes(model: ModelIR) -> ModelIR:
    """Attributes without the model's name, and the words for names Keras made up
    numbered again over the layers left once blocks took theirs (``self.conv``, not
    ``self.conv_1`` when the other convolutions went into a block)."""
    registry = attribute_registry()
    if any(layer.attr_word for layer in model.layers):
        for param in model.params:
            registry.reserve(param.name)
        attrs = claim_attributes(
            registry,
            [layer.attr for layer in model.layers],
            [layer.attr_word for layer in model.layers],
        )
        renames = {layer.attr: attr for layer, attr in zip(model.layers, attrs, strict=True)}
        return _renamed(
            model, renames, {p.name: p.name for p in model.params}, _following(model, renames)
        )
    prefix = model_prefix([layer.name for layer in model.layers])
    if not prefix or any(is_auto_name(layer.name, layer.class_label) for layer in model.layers):
        return model  # ``dense_``: what Keras's names share is no model's name
    renames = {layer.attr: registry.claim(layer.name[len(prefix) :]) for layer in model.layers}
    # Parameters named after an attribute (``num_convnext_tiny_stage_0_blocks``) follow it.
    long = to_snake(prefix)
    params = {
        p.name: registry.claim(p.name.replace(long + "_", "", 1) if long in p.name else p.name)
        for p in model.params
    }
    return _renamed(model, renames, params)


def _following(model: ModelIR, renames: dict[str, str]) -> dict[str, str]:
    """The variables named after a renamed attribute (a tensor kept for an output, named
    when the attributes were numbered over the whole graph), renamed with it, so that
    ``dense_3 = self.dense_2(x)`` never says one layer and calls another; none where a
    new name is another variable's."""
    assigned = {target for step in all_assigns(model.steps) for target in step.targets}
    following = {old: new for old, new in renames.items() if old != new and old in assigned}
    names = assigned | set(variables_in((model.steps, model.outputs)))
    names |= {spec.var for spec in model.inputs} | {"inputs", "training"}
    if set(following.values()) & (names - following.keys()):
        return {}
    return following


def _renamed(
    model: ModelIR,
    renames: dict[str, str],
    params: dict[str, str],
    variables: dict[str, str] | None = None,
) -> ModelIR:
    variables = variables or {}

    def rename(node: Any) -> Any:
        if isinstance(node, SelfAttr):
            return SelfAttr(renames[node.attr])
        if isinstance(node, Name) and node.id in params:
            return Name(params[node.id])
        if isinstance(node, Name) and node.id in variables:
            return Name(variables[node.id])
        if isinstance(node, Assign) and variables.keys() & set(node.targets):
            return dataclasses.replace(
                node, targets=tuple(variables.get(t, t) for t in node.targets)
            )
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
    outputs = transform(model.outputs, rename) if variables else model.outputs
    return dataclasses.replace(
        model, layers=layers, steps=tuple(steps), params=new_params, outputs=outputs
    )


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
