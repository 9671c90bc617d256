"""The number of outputs of each head as a constructor parameter (``num_classes=1000``):
the first thing a person changes when reusing a converted model; and the rate of the
Dropout right before that Dense layer (``dropout_rate=0.2``, Keras's EfficientNet's
``dropout_rate``), the next thing they tune when fine-tuning."""

from __future__ import annotations

import dataclasses
from collections import Counter

from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    DictValue,
    LayerSpec,
    ListValue,
    ModelIR,
    Name,
    Param,
    SelfAttr,
    Step,
    Symbol,
    UnaryOp,
    Value,
    step_targets,
    step_values,
)
from generator.core.naming import to_snake
from generator.core.structure.attributes import parameter_registry
from generator.core.structure.dataflow import layers_in, variables_in
from generator.core.structure.variables import JOINING_FUNCTIONS, JOINING_LAYERS, joins

_DENSE = Symbol("keras", "layers.Dense")
_DROPOUT = Symbol("keras", "layers.Dropout")
CLASSIFIER_DROPOUT = "dropout_rate"  # Keras's EfficientNet's name for it
_PASS_THROUGH = {"Activation", "ReLU", "Softmax", "Dropout"}  # a head may end in these


def head_parameters(model: ModelIR, taken: set[str]) -> ModelIR:
    """``model`` with the units of each output's Dense layer as a parameter, and the rate
    of a Dropout that feeds that layer."""
    layers = {layer.attr: layer for layer in model.layers}
    registry = parameter_registry(model, taken, "units")
    heads = _heads(model.outputs, set(model.made_up_names))
    changed: dict[str, tuple[str, Value, str]] = {}  # attr: parameter, default, doc
    # A Dropout called elsewhere too is not one head's to tune.
    calls = Counter(layers_in(tuple(v for step in model.steps for v in step_values(step))))
    dense = {var: found for _, var in heads if (found := _dense_behind(var, model.steps, layers))}
    tied = _tied_heads(dense, model, layers)
    for key, var in heads:
        found = dense.get(var)
        if found is None or found[0] in changed:
            continue
        attr, units, index = found
        if len(heads) == 1:
            wanted = "num_classes" if units > 1 else "num_outputs"
        else:
            wanted = f"{to_snake(str(key)) or 'output'}_units"
        doc = f"units of the output layer {layers[attr].name!r}"
        together = tied.get(attr, [attr])
        if len(together) > 1:
            wanted = f"{_common_words([to_snake(layers[a].name) for a in together])}_units"
            names = " and ".join(repr(layers[a].name) for a in together)
            doc = f"units of the output layers {names}, read together"
        changed.update((a, (registry.claim(wanted), units, doc)) for a in together[:1])
        changed.update((a, changed[together[0]]) for a in together[1:])
        dropout = _dropout_before(index, model.steps, layers, model.outputs)
        if dropout is not None and calls[dropout[0]] == 1:
            wanted = (
                CLASSIFIER_DROPOUT
                if len(heads) == 1
                else f"{to_snake(str(key)) or 'output'}_{CLASSIFIER_DROPOUT}"
            )
            doc = (
                f"rate of the Dropout {layers[dropout[0]].name!r} before the output layer "
                f"{layers[attr].name!r}"
            )
            changed[dropout[0]] = (registry.claim(wanted), dropout[1], doc)
    if not changed:
        return model
    new_layers = []
    for layer in model.layers:
        if layer.attr in changed:
            call = layer.constructor
            assert isinstance(call, Call)
            param = Name(changed[layer.attr][0])
            layer = dataclasses.replace(
                layer, constructor=Call(call.func, (param, *call.args[1:]), call.kwargs)
            )
        new_layers.append(layer)
    params = [Param(*entry[:2], doc=entry[2]) for entry in dict.fromkeys(changed.values())]
    return dataclasses.replace(model, layers=tuple(new_layers), params=(*params, *model.params))


def _heads(outputs: Value, made_up: set[str]) -> list[tuple[object, str]]:
    """(key, variable) of each output: a listed output is keyed by its variable where
    that is a person's name (``z_mean``), else by its place (``output_0``)."""
    if isinstance(outputs, Name):
        return [(None, outputs.id)]
    if isinstance(outputs, DictValue):
        return [(k, v.id) for k, v in outputs.items if isinstance(v, Name)]
    items = outputs.items if isinstance(outputs, ListValue) else outputs
    if isinstance(items, tuple):
        named = [v for v in items if isinstance(v, Name)]
        own = len({v.id for v in named}) == len(named) and not made_up & {v.id for v in named}
        return [(v.id if own else f"output_{i}", v.id) for i, v in enumerate(named)]
    return []


def _tied_heads(
    dense: dict[str, tuple[str, int, int]], model: ModelIR, layers: dict[str, LayerSpec]
) -> dict[str, list[str]]:
    """Output Dense layers (``dense``: output variable -> its Dense) of equal units that
    one step reads together (a VAE's ``z_mean`` and ``z_log_var``, which ``Sampling``
    combines): one parameter sizes them all, or a changed one would no longer fit the
    other. Attribute -> its group."""
    groups: dict[str, list[str]] = {}
    # Each variable's heads, followed through elementwise steps (``0.5 * z_log_var``).
    origin: dict[str, list[str]] = {var: [var] for var in dense}
    for step in model.steps:
        if not isinstance(step, Assign):
            continue
        read = list(dict.fromkeys(variables_in(step.value)))
        came_from = list(dict.fromkeys(head for var in read for head in origin.get(var, [])))
        if len(read) == 1 and len(step.targets) == 1 and _elementwise(step.value):
            origin.setdefault(step.targets[0], came_from)
            continue
        if len(came_from) < 2 or joins(step.value, layers, JOINING_FUNCTIONS, JOINING_LAYERS):
            continue  # set side by side, they may differ
        attrs = list(dict.fromkeys(dense[var][0] for var in came_from))
        if len(attrs) > 1 and len({dense[var][1] for var in came_from}) == 1:
            group = list(dict.fromkeys(a for attr in attrs for a in groups.get(attr, [attr])))
            groups.update((attr, group) for attr in group)
    return groups


# keras.ops and keras.activations functions that keep their input's shape.
_ELEMENTWISE = frozenset(
    "abs exp expm1 log log1p sqrt rsqrt square negative sign sigmoid tanh softplus "
    "relu gelu silu elu selu softsign exponential linear cast".split()
)


def _elementwise(value: Value) -> bool:
    """A step whose result has its one variable's shape: arithmetic with numbers, or an
    elementwise function of it."""
    if isinstance(value, BinOp):
        return _elementwise(value.left) and _elementwise(value.right)
    if isinstance(value, UnaryOp):
        return _elementwise(value.operand)
    if isinstance(value, Call):
        func = value.func
        return (
            isinstance(func, Symbol)
            and func.module == "keras"
            and func.qualname.rsplit(".", 1)[-1] in _ELEMENTWISE
            and all(_elementwise(arg) for arg in value.args)
        )
    return isinstance(value, (Name, int, float))


def _common_words(names: list[str]) -> str:
    """The words all ``names`` start with (``z`` of ``z_mean`` and ``z_log_var``), else
    the first name."""
    words = [name.split("_") for name in names]
    common = []
    for group in zip(*words, strict=False):
        if len(set(group)) > 1:
            break
        common.append(group[0])
    return "_".join(common) or names[0]


def _dense_behind(
    var: str, steps: tuple[Step, ...], layers: dict[str, LayerSpec]
) -> tuple[str, int, int] | None:
    """The Dense layer whose units an output has (through an activation or dropout): its
    attribute, its units and the step that calls it."""
    index = len(steps)
    for _ in range(3):
        found = _last_definition(var, steps, index)
        if found is None:
            return None
        index, value = found
        if _is_activation_function(value):
            assert isinstance(value, Call)
            source = value.args[0] if len(value.args) == 1 else None
        else:
            if not (isinstance(value, Call) and isinstance(value.func, SelfAttr)):
                return None
            layer = layers[value.func.attr]
            call = layer.constructor
            if isinstance(call, Call) and call.func == _DENSE and not layer.repeat:
                units = call.args[0] if call.args else None
                if isinstance(units, int) and not isinstance(units, bool):
                    return layer.attr, units, index
                return None
            if layer.class_label not in _PASS_THROUGH or not value.args or _halves(layer):
                return None
            source = value.args[0]
        if not isinstance(source, Name):
            return None
        var = source.id
    return None


def _dropout_before(
    index: int, steps: tuple[Step, ...], layers: dict[str, LayerSpec], outputs: Value
) -> tuple[str, float] | None:
    """The Dropout (one layer, its rate a number) whose output step ``index`` reads
    alone, and nothing else reads: the classifier's dropout, ``x = self.top_dropout(x);
    x = self.predictions(x)``."""
    step = steps[index]
    assert isinstance(step, Assign) and isinstance(step.value, Call)
    if len(step.value.args) != 1 or not isinstance(step.value.args[0], Name):
        return None
    var = step.value.args[0].id
    found = _last_definition(var, steps, index)
    if found is None or _reads(var, steps[found[0] + 1 :], outputs) != 1:
        return None  # another layer or head reads the dropped-out tensor too
    value = found[1]
    if not (isinstance(value, Call) and isinstance(value.func, SelfAttr)):
        return None
    layer = layers[value.func.attr]
    call = layer.constructor
    if layer.repeat or not (isinstance(call, Call) and call.func == _DROPOUT and call.args):
        return None
    rate = call.args[0]
    return (layer.attr, rate) if type(rate) is float else None


def _reads(var: str, steps: tuple[Step, ...], outputs: Value) -> int:
    """How many times the steps (then the outputs) read ``var`` before binding it again."""
    count = 0
    for step in steps:
        count += sum(variables_in(value).count(var) for value in step_values(step))
        if var in step_targets(step):
            return count
    return count + variables_in(outputs).count(var)


def _halves(layer: LayerSpec) -> bool:
    """An ``Activation("glu")``: its output has half its input's last axis."""
    call = layer.constructor
    return isinstance(call, Call) and "glu" in (*call.args, dict(call.kwargs).get("activation"))


def _last_definition(var: str, steps: tuple[Step, ...], before: int) -> tuple[int, Value] | None:
    """Where ``var`` was last bound before step ``before``, and to what; None when that
    is inside a loop or an optional part (a name reused along the main path, ``x``)."""
    for index in range(before - 1, -1, -1):
        step = steps[index]
        if isinstance(step, Assign):
            if var in step.targets:
                return (index, step.value) if step.targets == (var,) else None
            continue
        if var in step_targets(step):
            return None
    return None


def _is_activation_function(value: Value) -> bool:
    """``keras.activations.softmax(x)``: an Activation layer written as what it calls
    (``glu`` halves the last axis: not a pass-through)."""
    return (
        isinstance(value, Call)
        and isinstance(value.func, Symbol)
        and value.func.module == "keras"
        and value.func.qualname.startswith("activations.")
        and value.func.qualname != "activations.glu"
    )
