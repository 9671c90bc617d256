"""Lowers a checked spec to the same IR that ``scaffold convert`` produces.

Every check has already run (``validate``), so this only gives names and builds IR
values: one ``LayerSpec`` and one ``call`` step per node, a loop for ``repeat:``, the
blocks as ``Layer`` classes before the model that uses them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from generator import __version__
from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    DictValue,
    ForEach,
    Header,
    IndexedName,
    InputSpec,
    LayerSpec,
    ListValue,
    ModelIR,
    ModuleIR,
    Name,
    Param,
    SelfAttr,
    Step,
    Symbol,
    TrainingFlag,
    UnaryOp,
    Value,
    iter_values,
)
from generator.core.naming import attribute_registry, class_registry, local_registry, to_snake
from generator.core.structure.dataflow import substitute, variables_in
from generator.from_spec.spec import (
    CheckedGraph,
    CheckedNode,
    CheckedSpec,
    Expr,
    LayerCall,
    ModelSpec,
    NodeSpec,
    ParamRef,
)
from generator.from_spec.training import lower_training
from generator.from_spec.validate import check_spec


def spec_to_ir(spec: ModelSpec, class_name: str, package: str) -> ModuleIR:
    """Check ``spec``, then build (and validate) its module IR."""
    return lower(check_spec(spec), class_name, package)


def lower(checked: CheckedSpec, class_name: str, package: str) -> ModuleIR:
    classes = class_registry()
    main_name = classes.claim(class_name, style="pascal")
    block_classes: dict[str, str] = {}
    models: list[ModelIR] = []
    for block in checked.blocks:
        cls = classes.claim(block.name, style="pascal")
        summary = block.doc or f"Block {block.name!r}: {_describe(block.declared)}."
        lowering = _GraphLowering(block, block_classes, checked.layers)
        models.append(lowering.model(cls, block.name, summary))
        block_classes[block.name] = cls
    model = checked.model
    summary = model.doc or f"{main_name}: {_describe(model.declared)}."
    keras_name = to_snake(class_name) or "model"
    lowering = _GraphLowering(model, block_classes, checked.layers, checked.spec.named_inputs)
    models.append(lowering.model(main_name, keras_name, summary))
    modules = {
        value.func.module
        for model_ir in models
        for layer in model_ir.layers
        for value in iter_values(layer.constructor)
        if isinstance(value, Call)
        and isinstance(value.func, Symbol)
        and value.func.module not in ("", "keras")
    }
    module = ModuleIR(
        models=_with_examples(models),
        package=package,
        header=Header(source_name=checked.spec.source, tool_version=__version__),
        imports=tuple(f"import {name}" for name in sorted(modules)),
        training=lower_training(checked.training, model.outputs, checked.catalog),
    )
    module.validate()
    return module


def _with_examples(models: list[ModelIR]) -> tuple[ModelIR, ...]:
    """Each block with the arguments its docstring example passes: those of a layer that
    makes it, the maker's parameters read at their defaults (or at the maker's own example
    values, for a block inside a block): ``ResidualBlock(filters=32)``."""
    examples: dict[str, tuple[tuple[str, Value], ...]] = {}
    for _ in models:  # a block inside a block learns its values once its maker has
        for maker in models:
            known = {p.name: p.default for p in maker.params if not p.required}
            known.update(examples.get(maker.class_name, ()))
            for layer in maker.layers:
                call = layer.constructor
                if not (isinstance(call, Call) and isinstance(call.func, Symbol)):
                    continue
                if call.func.module or call.func.qualname in examples:
                    continue
                kwargs = tuple(
                    (key, substitute(value, known)) for key, value in call.kwargs if key != "name"
                )
                if not any(variables_in(value) for _, value in kwargs):  # all known
                    examples[call.func.qualname] = kwargs
    return tuple(
        dataclasses.replace(model, example=examples[model.class_name])
        if model.kind == "block" and model.class_name in examples
        else model
        for model in models
    )


def _describe(nodes: tuple[NodeSpec, ...]) -> str:
    names = [n.call.name + (f" x{n.repeat}" if n.repeat else "") for n in nodes]
    if len(names) > 8:
        names = [*names[:4], "...", *names[-3:]]
    return " -> ".join(names)


class _GraphLowering:
    def __init__(
        self,
        graph: CheckedGraph,
        block_classes: dict[str, str],
        layers: dict[str, Any],
        named_inputs: bool = False,
    ) -> None:
        self.graph = graph
        self.block_classes = block_classes
        self.named_inputs = named_inputs  # keep a dict of one input a dict
        self.catalog = layers

    def model(self, class_name: str, keras_name: str, summary: str) -> ModelIR:
        graph = self.graph
        params = tuple(
            Param(d.name, literal(d.default), d.type, d.doc, d.required) for d in graph.params
        )
        param_names = {p.name for p in params}
        locals_ = local_registry(tuple(sorted(param_names)))
        var_of: dict[str, str] = {}
        if graph.kind == "block":
            input_specs: tuple[InputSpec, ...] = (InputSpec("inputs", "inputs", (), ""),)
            structure = "single"
            var_of["inputs"] = "inputs"
        else:
            structure = "dict" if self.named_inputs or len(graph.inputs) > 1 else "single"
            specs = []
            for decl in graph.inputs:
                var = "inputs" if structure == "single" else locals_.claim(decl.name)
                var_of[decl.name] = var
                specs.append(InputSpec(decl.name, var, decl.shape, decl.dtype))
            input_specs = tuple(specs)
        if graph.chain:
            locals_.reserve("x")
        attrs = attribute_registry()
        for name in param_names:
            attrs.reserve(name)
        layers: list[LayerSpec] = []
        steps: list[Step] = []
        for node in graph.nodes:
            attr = attrs.claim(node.name)
            constructor, label = self.constructor(node)
            count = node.spec.repeat
            repeat: Value = Name(count) if isinstance(count, str) else count
            if repeat:
                kwargs = tuple(
                    (k, IndexedName(node.name) if k == "name" else v) for k, v in constructor.kwargs
                )
                constructor = Call(constructor.func, constructor.args, kwargs)
            layers.append(
                LayerSpec(attr, node.name, constructor, label, repeat, origin=str(node.spec.loc))
            )
            refs = tuple(Name(var_of[ref]) for ref in node.inputs)
            args: tuple[Value, ...] = (ListValue(refs),) if node.merge else refs
            out = "x" if graph.chain else locals_.claim(node.name)
            training = (("training", TrainingFlag()),) if node.takes_training else ()
            if repeat:
                loop_var = locals_.claim("layer")
                if args[0] != Name(out):  # the loop starts from its input: ``x = inputs``
                    steps.append(Assign((out,), args[0]))
                body = Assign((out,), Call(Name(loop_var), (Name(out),), training))
                steps.append(ForEach(loop_var, attr, (body,)))
            else:
                steps.append(Assign((out,), Call(SelfAttr(attr), args, training)))
            var_of[node.name] = out
        return ModelIR(
            class_name=class_name,
            keras_name=keras_name,
            inputs=input_specs,
            input_structure=structure,  # type: ignore[arg-type]
            layers=tuple(layers),
            steps=tuple(steps),
            outputs=_output_value(graph.outputs, var_of),
            params=params,
            summary=summary,
            kind=graph.kind,
        )

    def constructor(self, node: CheckedNode) -> tuple[Call, str]:
        """The node's constructor call (named after the node) and its class label."""
        call = node.spec.call
        if node.block is not None:
            cls = self.block_classes[node.block.name]
            declared = [p.name for p in node.block.params]
            given = dict(zip(declared, (value(a, self.catalog) for a in call.args), strict=False))
            for key, arg in call.kwargs:
                if key != "name":
                    given[key] = value(arg, self.catalog)
            kwargs = (*((k, given[k]) for k in declared if k in given), ("name", node.name))
            return Call(Symbol("", cls), (), kwargs), cls
        return layer_call(call, self.catalog, name=node.name), call.name


def layer_call(call: LayerCall, catalog: dict[str, Any], name: str | None) -> Call:
    """``layers.Dense(64, activation='relu', name=...)``; a nested call's ``name=`` is dropped."""
    args = tuple(value(a, catalog) for a in call.args)
    kwargs = [(k, value(v, catalog)) for k, v in call.kwargs if k != "name"]
    if name is not None:
        kwargs.append(("name", name))
    entry = catalog[call.name]
    return Call(Symbol(entry.get("module", "keras"), entry["path"]), args, tuple(kwargs))


def value(arg: Any, catalog: dict[str, Any]) -> Value:
    """A checked spec argument as an IR value."""
    if isinstance(arg, ParamRef):
        return Name(arg.name)
    if isinstance(arg, LayerCall):
        return layer_call(arg, catalog, name=None)
    if isinstance(arg, Expr):
        operands = [value(operand, catalog) for operand in arg.operands]
        if len(operands) == 1:
            return UnaryOp(arg.op, operands[0])
        return BinOp(arg.op, operands[0], operands[1])
    if isinstance(arg, tuple):
        return tuple(value(a, catalog) for a in arg)
    if isinstance(arg, list):
        return ListValue(tuple(value(a, catalog) for a in arg))
    if isinstance(arg, dict):
        return DictValue(tuple((k, value(v, catalog)) for k, v in arg.items()))
    return arg


def literal(default: Any) -> Value:
    """A parameter's literal default as an IR value."""
    if isinstance(default, list):
        return ListValue(tuple(literal(v) for v in default))
    if isinstance(default, tuple):
        return tuple(literal(v) for v in default)
    if isinstance(default, dict):
        return DictValue(tuple((k, literal(v)) for k, v in default.items()))
    return default


def _output_value(outputs: Any, var_of: dict[str, str]) -> Value:
    if isinstance(outputs, str):
        return Name(var_of[outputs])
    if isinstance(outputs, list):
        return ListValue(tuple(Name(var_of[n]) for n in outputs))
    return DictValue(tuple((k, Name(var_of[v])) for k, v in outputs.items()))
