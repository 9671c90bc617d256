"""Nested Sequential models of plain layers are written as ``tf.keras.Sequential([...])``.

ConvNeXt's stem is a nested Sequential of a convolution and a normalization; as a class
of its own it costs a docstring, ``build`` and ``call`` (some 35 lines) to say what
keras.applications says in one expression. The expression keeps the model's name and its
layers theirs, so weights still pair by name, and a Sequential builds on the shape it is
first called with.
"""

from __future__ import annotations

import dataclasses

from generator.core.ir import (
    Assign,
    Call,
    ListValue,
    ModelIR,
    Name,
    SelfAttr,
    Symbol,
    TrainingFlag,
)
from generator.core.structure.sequential_lists import (
    SequentialParts,
    class_called,
    layer_uses,
    listed_sequentials,
)

# The keyword arguments ``keras.Sequential`` itself takes.
SEQUENTIAL_KWARGS = frozenset({"name", "trainable"})


# What a line count estimate takes a layer, and a block class around them, to cost.
LINES_PER_LAYER = 3
CLASS_LINES = 30


def inline_pays(members: list[ModelIR], models: list[ModelIR] | tuple[ModelIR, ...]) -> bool:
    """Whether look-alike nested Sequentials read shorter each written where it is
    created (as keras.applications writes ConvNeXt's three downsampling blocks) than as
    one block class and its calls."""
    users = _creations(models)
    if not all(users.get(m.class_name) == 1 and _layer_list(m) is not None for m in members):
        return False
    layers = len(members[0].layers)
    written_out = len(members) * (LINES_PER_LAYER * layers + 3)
    as_class = CLASS_LINES + LINES_PER_LAYER * layers + 3 * len(members)
    return written_out < as_class


def _creations(models: list[ModelIR] | tuple[ModelIR, ...]) -> dict[str, int]:
    """How many layers create each generated class (2 for one Sequential cannot be)."""
    users: dict[str, int] = {}
    for model in models:
        for layer in model.layers:
            call = layer.constructor
            if isinstance(call, Call) and (name := class_called(call)) is not None:
                users[name] = users.get(name, 0) + (1 if _plain_creation(call) else 2)
    return users


def inline_sequentials(models: list[ModelIR], taken: set[str]) -> list[ModelIR]:
    """``models`` without the nested Sequential classes that read better as an
    expression, their single user creating ``tf.keras.Sequential([...])`` instead (look-
    alike ones in one list: ``sequential_lists.py``). ``taken``: names new parameters
    must not take."""
    users = _creations(models)
    parts: dict[str, SequentialParts] = {}
    kept: list[ModelIR] = []
    for index, model in enumerate(models):
        model = _with_inlined(listed_sequentials(model, parts, taken)[0], parts)
        found = _layer_list(model) if index < len(models) - 1 else None
        if found is not None and users.get(model.class_name) == 1:
            parts[model.class_name] = found
        else:
            kept.append(model)
    if not parts:
        return models
    return [_with_inlined(model, parts) for model in kept]


def _plain_creation(call: Call) -> bool:
    """Whether a nested model is created with nothing ``keras.Sequential`` cannot take."""
    return not call.args and all(key in SEQUENTIAL_KWARGS for key, _ in call.kwargs)


def _layer_list(model: ModelIR) -> SequentialParts | None:
    """The constructors of ``model``'s layers in call order (and their positional
    arguments' names), when ``model`` is a Sequential that calls each of its plain layers
    once in a line; else None."""
    if (
        not model.sequential
        or model.kind != "model"
        or model.params
        or len(model.inputs) != 1
        or model.inputs[0].dtype != "float32"  # Sequential builds at its first layer's dtype
        or model.inputs[0].sparse
        or model.input_structure != "single"
    ):
        return None
    by_attr = {layer.attr: layer for layer in model.layers}
    current = model.inputs[0].var
    constructors = []
    arg_names: list[tuple[str, ...]] = []
    for step in model.steps:
        if not isinstance(step, Assign) or step.unpack or len(step.targets) != 1:
            return None
        call = step.value
        if (
            not isinstance(call, Call)
            or not isinstance(call.func, SelfAttr)
            or call.args != (Name(current),)
            or any(k != "training" or v != TrainingFlag(None) for k, v in call.kwargs)
        ):
            return None
        layer = by_attr.pop(call.func.attr, None)
        if layer is None or layer.repeat or layer.when is not None or layer.deferred:
            return None
        if not isinstance(layer.constructor, Call):
            return None
        if any(key == "dtype" for key, _ in layer.constructor.kwargs):
            return None  # a Sequential would cast its input to the first layer's dtype
        constructors.append(layer.constructor)
        arg_names.append(layer.arg_names)
        current = step.targets[0]
    if by_attr or model.outputs != Name(current) or not constructors:
        return None
    items = ListValue(tuple(constructors))
    return SequentialParts(items, tuple(arg_names), model.inputs[0].shape)


def _with_inlined(model: ModelIR, parts: dict[str, SequentialParts]) -> ModelIR:
    """``model`` creating ``tf.keras.Sequential([...])`` where it created a class in
    ``parts``. One called more than once opens with its declared ``tf.keras.Input``:
    built at its first call's shape, it would refuse another (a detection head shared
    by feature maps of several sizes)."""
    calls = layer_uses(model)
    layers = []
    for layer in model.layers:
        name = class_called(layer.constructor)
        if name in parts:
            call = layer.constructor
            assert isinstance(call, Call) and _plain_creation(call)
            items = parts[name].items
            if calls.get(layer.attr, 0) > 1:
                shape = Call(Symbol("keras", "Input"), (), (("shape", parts[name].input_shape),))
                items = ListValue((shape, *items.items))
            constructor = Call(Symbol("keras", "Sequential"), (items,), call.kwargs)
            layer = dataclasses.replace(layer, constructor=constructor, class_label="Sequential")
        layers.append(layer)
    return dataclasses.replace(model, layers=tuple(layers))
