"""Turns a spec into the same IR that ``scaffold convert`` produces, checking it against
the shipped catalog of Keras layers (no Keras import).

Every mistake becomes a ``SpecError`` (exit 2) with the spec location and, where one is
close, a suggestion: unknown layer or argument, missing argument, undefined reference,
cycle, unused input or layer, invalid parameter name.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from generator import __version__
from generator.catalog import load_catalog
from generator.errors import SpecError
from generator.ir import (
    Assign,
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
    Value,
)
from generator.naming import (
    KERAS_MODEL_ATTRIBUTES,
    MODULE_RESERVED,
    PYTHON_RESERVED,
    attribute_registry,
    class_registry,
    local_registry,
    to_snake,
)
from generator.spec import (
    BlockDecl,
    LayerCall,
    Loc,
    ModelSpec,
    NodeSpec,
    ParamDecl,
    ParamRef,
    suggest,
)

_LAYER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def spec_to_ir(spec: ModelSpec, class_name: str, package: str) -> ModuleIR:
    """Build (and validate) the module IR for ``spec``."""
    classes = class_registry()
    main_name = classes.claim(class_name, style="pascal")
    blocks: dict[str, _Block] = {}
    models: list[ModelIR] = []
    for block in spec.blocks:
        if block.name in blocks or block.name in load_catalog()["layers"]:
            raise SpecError(f"block name {block.name!r} is already taken", where=str(block.loc))
        cls = classes.claim(block.name, style="pascal")
        ir = _GraphBuilder(
            kind="block",
            class_name=cls,
            keras_name=block.name,
            params=block.params,
            inputs=(),
            nodes=block.nodes,
            blocks=blocks,
            outputs=None,
            outputs_loc=None,
            summary=block.doc or f"Block {block.name!r}: {_describe(block.nodes)}.",
            where=str(block.loc),
        ).build()
        blocks[block.name] = _Block(cls, block)
        models.append(ir)
    main = _GraphBuilder(
        kind="model",
        class_name=main_name,
        keras_name=to_snake(class_name) or "model",
        params=spec.params,
        inputs=spec.inputs,
        nodes=spec.nodes,
        blocks=blocks,
        outputs=spec.outputs,
        outputs_loc=spec.outputs_loc,
        summary=spec.doc or f"{main_name}: {_describe(spec.nodes)}.",
        where=spec.source,
    ).build()
    models.append(main)
    module = ModuleIR(
        models=tuple(models),
        package=package,
        header=Header(source_name=spec.source, tool_version=__version__),
    )
    module.validate()
    return module


def _describe(nodes: tuple[NodeSpec, ...]) -> str:
    names = [n.call.name + (f" x{n.repeat}" if n.repeat else "") for n in nodes]
    if len(names) > 8:
        names = [*names[:4], "...", *names[-3:]]
    return " -> ".join(names)


@dataclass(frozen=True)
class _Block:
    class_name: str
    decl: BlockDecl


@dataclass
class _Node:
    spec: NodeSpec
    name: str
    inputs: list[str] = field(default_factory=list)
    input_locs: list[Loc] = field(default_factory=list)


class _GraphBuilder:
    def __init__(
        self,
        *,
        kind: str,
        class_name: str,
        keras_name: str,
        params: tuple[ParamDecl, ...],
        inputs: tuple[Any, ...],
        nodes: tuple[NodeSpec, ...],
        blocks: dict[str, _Block],
        outputs: Any,
        outputs_loc: Loc | None,
        summary: str,
        where: str,
    ) -> None:
        self.kind = kind
        self.class_name = class_name
        self.keras_name = keras_name
        self.param_decls = params
        self.input_decls = inputs
        self.node_specs = nodes
        self.blocks = blocks
        self.outputs = outputs
        self.outputs_loc = outputs_loc
        self.summary = summary
        self.where = where
        self.catalog = load_catalog()["layers"]

    # -- parameters -------------------------------------------------------------------------

    def params(self) -> tuple[Param, ...]:
        seen: set[str] = set()
        result = []
        reserved = KERAS_MODEL_ATTRIBUTES | MODULE_RESERVED | PYTHON_RESERVED
        for decl in self.param_decls:
            if not decl.name.isidentifier():
                raise SpecError(
                    f"invalid parameter name {decl.name!r}: not a Python identifier",
                    where=str(decl.loc),
                )
            if keyword.iskeyword(decl.name):
                raise SpecError(
                    f"invalid parameter name {decl.name!r}: a Python keyword", where=str(decl.loc)
                )
            if decl.name in reserved:
                raise SpecError(
                    f"invalid parameter name {decl.name!r}: it is reserved (a keyword, builtin or "
                    "keras.Model attribute); choose another name",
                    where=str(decl.loc),
                )
            if decl.name in seen:
                raise SpecError(f"parameter {decl.name!r} is declared twice", where=str(decl.loc))
            seen.add(decl.name)
            if not _is_literal(decl.default):
                raise SpecError(
                    f"the default of {decl.name!r} must be a literal", where=str(decl.loc)
                )
            if decl.required and self.kind == "model":
                raise SpecError(
                    f"parameter {decl.name!r} needs a default: the model must build from its "
                    "defaults",
                    where=str(decl.loc),
                )
            result.append(
                Param(decl.name, _literal(decl.default), decl.type, decl.doc, decl.required)
            )
        return tuple(result)

    # -- graph ------------------------------------------------------------------------------

    def build(self) -> ModelIR:
        params = self.params()
        param_names = {p.name for p in params}
        if self.kind == "block":
            input_names = ["inputs"]
            input_specs: tuple[InputSpec, ...] = (InputSpec("inputs", "inputs", (), ""),)
            structure = "single"
        else:
            input_names = [decl.name for decl in self.input_decls]
            structure = "single" if len(input_names) == 1 else "dict"
        nodes = self.name_nodes(set(input_names))
        self.link(nodes, input_names)
        order = self.topological(nodes)
        outputs = self.output_names(nodes)
        self.check_used(nodes, order, input_names, outputs)

        chain = self.is_chain(order, outputs)
        locals_ = local_registry(tuple(sorted(param_names)))
        var_of: dict[str, str] = {}
        if self.kind == "model":
            specs = []
            for decl in self.input_decls:
                var = "inputs" if structure == "single" else locals_.claim(decl.name)
                var_of[decl.name] = var
                specs.append(InputSpec(decl.name, var, decl.shape, decl.dtype))
            input_specs = tuple(specs)
        else:
            var_of["inputs"] = "inputs"
        if chain:
            locals_.reserve("x")

        attrs = attribute_registry()
        for name in param_names:
            attrs.reserve(name)
        layers: list[LayerSpec] = []
        steps: list[Step] = []
        for node in order:
            attr = attrs.claim(node.name)
            constructor, takes_training, merge, label = self.constructor(node, param_names)
            repeat = self.repeat_count(node, param_names)
            if repeat:
                kwargs = tuple(
                    (k, IndexedName(node.name) if k == "name" else v) for k, v in constructor.kwargs
                )
                constructor = Call(constructor.func, constructor.args, kwargs)
            layers.append(LayerSpec(attr, node.name, constructor, label, repeat))
            args = self.call_args(node, var_of, merge)
            out = "x" if chain else locals_.claim(node.name)
            training = (("training", TrainingFlag()),) if takes_training else ()
            if repeat:
                if len(node.inputs) != 1:
                    raise SpecError(
                        "a repeated layer takes exactly one input", where=str(node.spec.loc)
                    )
                loop_var = locals_.claim("layer")
                if not chain:
                    steps.append(Assign((out,), args[0]))
                body = Assign((out,), Call(Name(loop_var), (Name(out),), training))
                steps.append(ForEach(loop_var, attr, (body,)))
            else:
                steps.append(Assign((out,), Call(SelfAttr(attr), args, training)))
            var_of[node.name] = out
        return ModelIR(
            class_name=self.class_name,
            keras_name=self.keras_name,
            inputs=input_specs,
            input_structure=structure,  # type: ignore[arg-type]
            layers=tuple(layers),
            steps=tuple(steps),
            outputs=self.output_value(outputs, var_of),
            params=params,
            summary=self.summary,
            kind="block" if self.kind == "block" else "model",
        )

    def repeat_count(self, node: _Node, param_names: set[str]) -> Value:
        repeat = node.spec.repeat
        if isinstance(repeat, str):
            if repeat not in param_names:
                raise SpecError(
                    f"repeat names unknown parameter {repeat!r}{suggest(repeat, param_names)}",
                    where=str(node.spec.loc),
                )
            return Name(repeat)
        return repeat

    def name_nodes(self, taken: set[str]) -> list[_Node]:
        nodes: list[_Node] = []
        counters: dict[str, int] = {}
        used = set(taken)
        explicit = {n.name for n in self.node_specs if n.name}
        for spec in self.node_specs:
            name = spec.name or self.call_name_kwarg(spec.call)
            if name is not None:
                if not _LAYER_NAME.match(name):
                    raise SpecError(
                        f"invalid layer name {name!r}: use letters, digits and underscores",
                        where=str(spec.loc),
                    )
                if name in used:
                    raise SpecError(f"the name {name!r} is used twice", where=str(spec.loc))
            else:
                base = to_snake(spec.call.name) or "layer"
                index = counters.get(base, 0)
                name = base if index == 0 else f"{base}_{index}"
                while name in used or name in explicit:
                    index += 1
                    name = f"{base}_{index}"
                counters[base] = index + 1
            used.add(name)
            nodes.append(_Node(spec, name))
        return nodes

    def call_name_kwarg(self, call: LayerCall) -> str | None:
        for key, value in call.kwargs:
            if key == "name":
                if not isinstance(value, str):
                    raise SpecError("name= must be a string", where=str(call.loc))
                return value
        return None

    def link(self, nodes: list[_Node], input_names: list[str]) -> None:
        known = {n.name for n in nodes} | set(input_names)
        previous: str | None = input_names[0] if len(input_names) == 1 else None
        for node in nodes:
            if node.spec.inputs is None:
                if previous is None:
                    raise SpecError(
                        "this layer needs 'inputs:': the model has several inputs "
                        f"({', '.join(input_names)})",
                        where=str(node.spec.loc),
                    )
                node.inputs = [previous]
                node.input_locs = [node.spec.loc]
            else:
                for ref, loc in zip(
                    node.spec.inputs,
                    node.spec.input_locs or [node.spec.loc] * len(node.spec.inputs),
                    strict=False,
                ):
                    if ref not in known:
                        raise SpecError(
                            f"reference to undefined node {ref!r}{suggest(ref, known)}",
                            where=str(loc),
                        )
                    if ref == node.name:
                        raise SpecError(f"cycle: {ref} -> {ref}", where=str(loc))
                node.inputs = list(node.spec.inputs)
                node.input_locs = list(node.spec.input_locs)
            previous = node.name

    def topological(self, nodes: list[_Node]) -> list[_Node]:
        """Stable topological order: list order wherever the references allow it."""
        by_name = {n.name: n for n in nodes}
        done: set[str] = set()
        order: list[_Node] = []
        visiting: list[str] = []

        def visit(node: _Node) -> None:
            if node.name in done:
                return
            if node.name in visiting:
                cycle = visiting[visiting.index(node.name) :] + [node.name]
                raise SpecError(f"cycle: {' -> '.join(cycle)}", where=str(node.spec.loc))
            visiting.append(node.name)
            for ref in node.inputs:
                if ref in by_name:
                    visit(by_name[ref])
            visiting.pop()
            done.add(node.name)
            order.append(node)

        for node in nodes:
            visit(node)
        return order

    def output_names(self, nodes: list[_Node]) -> Any:
        known = {n.name for n in nodes}
        where = str(self.outputs_loc) if self.outputs_loc else self.where

        def check(name: Any) -> str:
            if not isinstance(name, str) or name not in known:
                raise SpecError(
                    f"output refers to undefined node {name!r}{suggest(str(name), known)}",
                    where=where,
                )
            return name

        if self.outputs is None:
            return nodes[-1].name
        if isinstance(self.outputs, str):
            return check(self.outputs)
        if isinstance(self.outputs, list) and self.outputs:
            return [check(n) for n in self.outputs]
        if isinstance(self.outputs, dict) and self.outputs:
            return {str(k): check(v) for k, v in self.outputs.items()}
        raise SpecError("outputs must be a node name, a list of names or a mapping", where=where)

    def check_used(
        self, nodes: list[_Node], order: list[_Node], input_names: list[str], outputs: Any
    ) -> None:
        needed: set[str] = set()
        targets = list(_flat(outputs))
        by_name = {n.name: n for n in nodes}
        while targets:
            name = targets.pop()
            if name in needed:
                continue
            needed.add(name)
            if name in by_name:
                targets.extend(by_name[name].inputs)
        for name in input_names:
            if name not in needed:
                loc = next((str(d.loc) for d in self.input_decls if d.name == name), self.where)
                raise SpecError(f"input {name!r} is never used", where=loc)
        for node in nodes:
            if node.name not in needed:
                raise SpecError(
                    f"layer {node.name!r} does not lead to any output; "
                    "use it or list it in outputs",
                    where=str(node.spec.loc),
                )

    def is_chain(self, order: list[_Node], outputs: Any) -> bool:
        """A straight line: ``x = self.layer(x)`` reads better than named variables."""
        if len(self.input_decls) > 1 or not isinstance(outputs, str) or outputs != order[-1].name:
            return False
        previous = None
        for node in order:
            if len(node.inputs) != 1 or (previous is not None and node.inputs[0] != previous):
                return False
            previous = node.name
        return True

    # -- layers -----------------------------------------------------------------------------

    def constructor(self, node: _Node, param_names: set[str]) -> tuple[Call, bool, bool, str]:
        call = node.spec.call
        if call.name in self.blocks:
            block = self.blocks[call.name]
            value = self.block_call(call, block, param_names)
            kwargs = (*value.kwargs, ("name", node.name))
            return Call(value.func, value.args, kwargs), True, False, block.class_name
        entry = self.catalog_entry(call)
        value = self.layer_call(call, param_names, name=node.name)
        if entry["merge"] and len(node.inputs) < 2:
            raise SpecError(
                f"{call.name} merges several inputs; give it 'inputs: [a, b]'", where=str(call.loc)
            )
        return value, bool(entry["training"]), bool(entry["merge"]), call.name

    def catalog_entry(self, call: LayerCall) -> dict[str, Any]:
        entry = self.catalog.get(call.name)
        if entry is None:
            options = set(self.catalog) | set(self.blocks)
            raise SpecError(
                f"unknown layer {call.name!r}{suggest(call.name, options)}", where=str(call.loc)
            )
        return entry

    def layer_call(self, call: LayerCall, param_names: set[str], name: str | None) -> Call:
        entry = self.catalog_entry(call)
        params = entry["params"]
        names = [p["name"] for p in params]
        given: dict[str, Value] = {}
        if len(call.args) > len(names):
            raise SpecError(
                f"{call.name} takes at most {len(names)} positional arguments", where=str(call.loc)
            )
        for param, arg in zip(names, call.args, strict=False):
            given[param] = self.value(arg, param_names)
        kwargs: list[tuple[str, Value]] = []
        for (key, arg), loc in zip(
            call.kwargs, call.kwarg_locs or [call.loc] * len(call.kwargs), strict=False
        ):
            if key == "name":
                continue
            if key not in names:
                raise SpecError(
                    f"{call.name} has no argument {key!r}{suggest(key, names)}", where=str(loc)
                )
            if key in given:
                raise SpecError(f"{call.name} got {key!r} twice", where=str(loc))
            kwargs.append((key, self.value(arg, param_names)))
            given[key] = kwargs[-1][1]
        missing = [p["name"] for p in params if p["required"] and p["name"] not in given]
        if missing:
            raise SpecError(
                f"{call.name} is missing required argument {missing[0]!r}", where=str(call.loc)
            )
        positional = tuple(given[p] for p in names[: len(call.args)])
        if name is not None:
            kwargs.append(("name", name))
        return Call(Symbol("keras", entry["path"]), positional, tuple(kwargs))

    def block_call(self, call: LayerCall, block: _Block, param_names: set[str]) -> Call:
        declared = [p.name for p in block.decl.params]
        if len(call.args) > len(declared):
            raise SpecError(
                f"block {call.name} takes {len(declared)} arguments", where=str(call.loc)
            )
        given: dict[str, Value] = dict(
            zip(declared, (self.value(a, param_names) for a in call.args), strict=False)
        )
        for key, arg in call.kwargs:
            if key == "name":
                continue
            if key not in declared:
                raise SpecError(
                    f"block {call.name} has no parameter {key!r}{suggest(key, declared)}",
                    where=str(call.loc),
                )
            given[key] = self.value(arg, param_names)
        missing = [p.name for p in block.decl.params if p.required and p.name not in given]
        if missing:
            raise SpecError(
                f"block {call.name} is missing parameter {missing[0]!r}", where=str(call.loc)
            )
        return Call(
            Symbol("", block.class_name), (), tuple((k, given[k]) for k in declared if k in given)
        )

    def value(self, arg: Any, param_names: set[str]) -> Value:
        if isinstance(arg, ParamRef):
            if arg.name not in param_names:
                raise SpecError(
                    f"unknown name {arg.name!r}{suggest(arg.name, param_names)}; declare it as a "
                    "parameter (--param NAME=VALUE or params:)",
                    where=str(arg.loc),
                )
            return Name(arg.name)
        if isinstance(arg, LayerCall):
            return self.layer_call(arg, param_names, name=None)
        if isinstance(arg, tuple):
            return tuple(self.value(a, param_names) for a in arg)
        if isinstance(arg, list):
            return ListValue(tuple(self.value(a, param_names) for a in arg))
        if isinstance(arg, dict):
            return DictValue(tuple((k, self.value(v, param_names)) for k, v in arg.items()))
        return arg

    def call_args(self, node: _Node, var_of: dict[str, str], merge: bool) -> tuple[Value, ...]:
        refs = tuple(Name(var_of[ref]) for ref in node.inputs)
        if merge:
            return (ListValue(refs),)
        return refs

    def output_value(self, outputs: Any, var_of: dict[str, str]) -> Value:
        if isinstance(outputs, str):
            return Name(var_of[outputs])
        if isinstance(outputs, list):
            return ListValue(tuple(Name(var_of[n]) for n in outputs))
        return DictValue(tuple((k, Name(var_of[v])) for k, v in outputs.items()))


def _flat(outputs: Any) -> list[str]:
    if isinstance(outputs, str):
        return [outputs]
    if isinstance(outputs, list):
        return list(outputs)
    return list(outputs.values())


def _is_literal(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_literal(v) for k, v in value.items())
    return False


def _literal(value: Any) -> Value:
    if isinstance(value, list):
        return ListValue(tuple(_literal(v) for v in value))
    if isinstance(value, tuple):
        return tuple(_literal(v) for v in value)
    if isinstance(value, dict):
        return DictValue(tuple((k, _literal(v)) for k, v in value.items()))
    return value
