"""Weightless layers written as what they compute: ``shortcut + x``,
``keras.activations.relu(x)``, ``keras.ops.concatenate([a, b], axis=3)``.

Hand-written Keras keeps attributes for what holds weights and writes a residual sum as
``+``; an ``Add`` attribute per block (``self.add = layers.Add(name=...)``) says nothing
the operator does not. The rewrite holds only where Keras computes exactly the same: the
reader names the layer classes whose every call qualifies (``ModuleIR.exact_operators``:
float32, dense, one rank, no masks, no arithmetic on a model's raw input), and a layer
qualifies only when configured with literals and nothing but its name and its own
arguments. Weightless layers hold no weights, so weights still pair by name;
``--weightless-layers`` keeps them as layers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    ForEach,
    LayerSpec,
    ListValue,
    ModelIR,
    Name,
    SelfAttr,
    Step,
    Symbol,
    Value,
    When,
    iter_values,
)
from generator.core.structure.blocks import HAS_DOC, SHORTCUT_DOC
from generator.core.structure.dataflow import all_assigns, rename_variables, variables_in
from generator.core.structure.layer_roles import OPERATOR_LAYERS
from generator.core.structure.raw_inputs import RawTensors

# The merges written as Python operators, which do not promote dtypes as ``keras.ops``
# does: the reader keeps them off a model's raw inputs.
ARITHMETIC_LAYERS = frozenset({"layers.Add", "layers.Subtract", "layers.Multiply"})

# Names ``Activation`` resolves to the function of the same name in keras.activations,
# each of which takes a symbolic tensor (tests/test_operators.py checks both against
# Keras). Left out: ``threshold`` (required arguments an ``Activation`` cannot pass) and
# ``hard_silu``, ``hard_swish``, ``mish``, ``sparsemax`` (they convert their argument to
# a tensor, which a ``keras.Input`` that ``build`` traces with cannot be).
ACTIVATIONS = frozenset(
    {
        "celu",
        "elu",
        "exponential",
        "gelu",
        "glu",
        "hard_shrink",
        "hard_sigmoid",
        "hard_tanh",
        "leaky_relu",
        "linear",
        "log_sigmoid",
        "log_softmax",
        "relu",
        "relu6",
        "selu",
        "sigmoid",
        "silu",
        "soft_shrink",
        "softmax",
        "softplus",
        "softsign",
        "sparse_plus",
        "sparse_sigmoid",
        "squareplus",
        "swish",
        "tanh",
        "tanh_shrink",
    }
)

_BINARY = {"layers.Add": "+", "layers.Subtract": "-", "layers.Multiply": "*"}


class _Marker:
    """A rewrite's answer that is no value."""


_IDENTITY = _Marker()  # what a linear Activation computes: its input, unchanged
_REFUSED = _Marker()  # this call cannot be written as an operator
Rewrite = Callable[[tuple[Value, ...]], "Value | _Marker"]


def operators_in_models(models: list[ModelIR], exact: frozenset[str]) -> list[ModelIR]:
    """Each model with its weightless layers of the ``exact`` classes written as
    operators where that computes the same."""
    raw = RawTensors(models)
    return [weightless_as_operators(model, exact, raw) for model in models]


def weightless_as_operators(
    model: ModelIR, exact: frozenset[str], raw_tensors: RawTensors | None = None
) -> ModelIR:
    """``model`` with the calls of each qualifying weightless layer of the ``exact``
    classes written as operators and the layer dropped; a layer some call of which
    cannot be rewritten stays whole. ``raw_tensors``: where the module's tensors may
    still be what the user passed (by default: ``model`` alone, its inputs raw)."""
    rewrites: dict[str, Rewrite] = {}
    for layer in model.layers:
        rewrite = _rewrite_for(layer, exact)
        if rewrite is not None:
            rewrites[layer.attr] = rewrite
    _keep_names_of_parameters(model, rewrites)
    if not rewrites:
        return model
    optional = {
        id(a) for step in model.steps if isinstance(step, When) for a in all_assigns((step,))
    }
    arithmetic = {layer.attr for layer in model.layers if _qualname(layer) in ARITHMETIC_LAYERS}
    raw_tensors = raw_tensors or RawTensors([model])
    for step, raw in raw_tensors.before_each_step(model):
        for call in _layer_calls(step.value):
            attr = call.func.attr  # type: ignore[union-attr]
            if attr not in rewrites:
                continue
            rewritten = rewrites[attr](call.args)
            if (
                call.kwargs
                or rewritten is _REFUSED
                # A linear activation in an optional part would leave an empty branch.
                or (rewritten is _IDENTITY and id(step) in optional)
                # ``+`` does not promote what a user feeds (int64) as ``keras.ops.add``
                # does, and a subclass, unlike a Functional model, does not cast it.
                or (attr in arithmetic and not raw.isdisjoint(variables_in(call.args)))
            ):
                del rewrites[attr]
    assigned = _assignment_counts(model)
    rewriter = _Rewriter(rewrites, assigned)
    steps = rewriter.steps(model.steps)
    used = {attr for step in all_assigns(steps) for attr in _attrs_in(step.value)}
    used |= _attrs_in(model.outputs)
    layers = tuple(
        layer for layer in model.layers if layer.attr not in rewrites or layer.attr in used
    )
    outputs = rename_variables(model.outputs, rewriter.renames)
    dropped = {layer.attr for layer in model.layers} - {layer.attr for layer in layers}
    params = tuple(
        dataclasses.replace(param, doc=_without_layers(param.doc, dropped))
        for param in model.params
    )
    return dataclasses.replace(model, layers=layers, steps=steps, outputs=outputs, params=params)


def _without_layers(doc: str, dropped: set[str]) -> str:
    """A flag's doc ("whether the block has expand, expand_bn, expand_relu") without the
    layers that are operators now."""
    for prefix in (SHORTCUT_DOC, HAS_DOC):
        if doc.startswith(prefix):
            kept = [a for a in doc[len(prefix) :].split(", ") if a not in dropped]
            return prefix + ", ".join(kept) if kept else doc
    return doc


def _qualname(layer: LayerSpec) -> str:
    call = layer.constructor
    if isinstance(call, Call) and isinstance(call.func, Symbol) and call.func.module == "keras":
        return call.func.qualname
    return ""


def _keep_names_of_parameters(model: ModelIR, rewrites: dict[str, Rewrite]) -> None:
    """Leave out a layer whose name reads a block parameter nothing else reads (Keras's
    numbering, ``f"add_{number}"``): dropping it would leave the parameter unused."""
    others = [layer for layer in model.layers if layer.attr not in rewrites]
    read = {
        v.id
        for value in (
            *(layer.constructor for layer in others),
            *(layer.when for layer in model.layers),
            *(step.condition for step in model.steps if isinstance(step, When)),
        )
        for v in iter_values(value)
        if isinstance(v, Name)
    }
    for layer in model.layers:
        if layer.attr in rewrites:
            call = layer.constructor
            assert isinstance(call, Call)
            name = dict(call.kwargs).get("name")
            if not all(v.id in read for v in iter_values(name) if isinstance(v, Name)):
                del rewrites[layer.attr]


def _rewrite_for(layer: LayerSpec, exact: frozenset[str]) -> Rewrite | None:
    """How a call of ``layer`` reads as an operator (None: it stays a layer)."""
    call = layer.constructor
    if layer.repeat or not isinstance(call, Call) or not isinstance(call.func, Symbol):
        return None
    if call.func.module != "keras" or call.func.qualname not in exact & OPERATOR_LAYERS.keys():
        return None
    understood = OPERATOR_LAYERS[call.func.qualname]
    config = dict(zip(layer.arg_names, call.args, strict=False))
    if len(call.args) > len(layer.arg_names):
        return None
    for key, value in call.kwargs:
        if key != "name":
            config[key] = value
    if not set(config) <= understood or not all(_literal(v) for v in config.values()):
        return None
    kind = call.func.qualname
    if kind == "layers.Activation":
        activation = config.get("activation")
        if activation not in ACTIVATIONS:
            return None
        if activation == "linear":
            return lambda args: _IDENTITY if len(args) == 1 else _REFUSED
        function = Symbol("keras", f"activations.{activation}")
        return lambda args: Call(function, args) if len(args) == 1 else _REFUSED
    if kind == "layers.ReLU":
        relu = Symbol("keras", "activations.relu")
        kwargs = tuple(sorted(config.items()))
        return lambda args: Call(relu, args, kwargs) if len(args) == 1 else _REFUSED
    if kind == "layers.Concatenate":
        defaults = dict(layer.defaults)
        axis = config.get("axis", defaults.get("axis", -1))
        concatenate = Symbol("keras", "ops.concatenate")
        return lambda args: (
            Call(concatenate, (ListValue(items),), (("axis", axis),))
            if (items := _merged(args)) is not None
            else _REFUSED
        )
    token = _BINARY[kind]

    def binary(args: tuple[Value, ...]) -> Value | _Marker:
        items = _merged(args)
        if items is None or (token == "-" and len(items) != 2):
            return _REFUSED
        result = items[0]
        for item in items[1:]:
            result = BinOp(token, result, item)
        return result

    return binary


def _literal(value: Value) -> bool:
    return all(
        isinstance(v, (bool, int, float, str, tuple)) or v is None for v in iter_values(value)
    )


def _merged(args: tuple[Value, ...]) -> tuple[Value, ...] | None:
    """The tensors a merge layer's one list argument holds (two or more)."""
    if len(args) != 1:
        return None
    items = args[0].items if isinstance(args[0], ListValue) else args[0]
    if not isinstance(items, tuple) or len(items) < 2:
        return None
    return items


class _Rewriter:
    """Rewrites a call's steps in order, dropping linear activations by renaming."""

    def __init__(
        self,
        rewrites: dict[str, Rewrite],
        assigned: dict[str, int],
    ) -> None:
        self.rewrites = rewrites
        self.assigned = assigned
        self.renames: dict[str, str] = {}

    def steps(self, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        result: list[Step] = []
        for step in steps:
            if isinstance(step, When):
                result.append(
                    dataclasses.replace(
                        step, body=self.assigns(step.body), orelse=self.assigns(step.orelse)
                    )
                )
            elif isinstance(step, ForEach):
                result.append(dataclasses.replace(step, body=self.assigns(step.body)))
            else:
                assert isinstance(step, Assign), "stage loops are made after this pass"
                if (rewritten := self.assign(step)) is not None:
                    result.append(rewritten)
        return tuple(result)

    def assigns(self, steps: tuple[Assign, ...]) -> tuple[Assign, ...]:
        return tuple(a for step in steps if (a := self.assign(step)) is not None)

    def assign(self, step: Assign) -> Assign | None:
        """``step`` rewritten; None when it computes nothing (a linear activation)."""
        call = rename_variables(step.value, self.renames)
        if (
            not isinstance(call, Call)
            or not isinstance(call.func, SelfAttr)
            or call.func.attr not in self.rewrites
            or step.unpack
            or len(step.targets) != 1
        ):
            return dataclasses.replace(step, value=call)
        replacement = self.rewrites[call.func.attr](call.args)
        if replacement is _IDENTITY:
            (source,) = variables_in(call.args)
            (target,) = step.targets
            if target == source:
                return None  # ``x = identity(x)``
            if self.assigned.get(target, 0) == 1 and self.assigned.get(source, 0) <= 1:
                self.renames[target] = source
                return None
            replacement = call.args[0]  # a name bound twice: keep ``y = x``
        assert not isinstance(replacement, _Marker)  # refused layers were left out
        return dataclasses.replace(step, value=replacement)


def _layer_calls(value: Value) -> list[Call]:
    return [v for v in iter_values(value) if isinstance(v, Call) and isinstance(v.func, SelfAttr)]


def _attrs_in(value: Value) -> set[str]:
    return {v.attr for v in iter_values(value) if isinstance(v, SelfAttr)}


def _assignment_counts(model: ModelIR) -> dict[str, int]:
    """How many times each variable is bound (inputs and loop variables count once)."""
    counts: dict[str, int] = {}
    for spec in model.inputs:
        counts[spec.var] = counts.get(spec.var, 0) + 1
    for assign in all_assigns(model.steps):
        for target in assign.targets:
            counts[target] = counts.get(target, 0) + 1
    for step in model.steps:
        if isinstance(step, ForEach):
            counts[step.var] = counts.get(step.var, 0) + 1
    return counts
