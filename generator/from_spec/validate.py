"""Checks a parsed spec before anything is generated, and reports where it is wrong.

Pure: reads the spec objects and the shipped layer catalog (no Keras import), raises a
``SpecError`` (exit 2) with the spec location and, where one is close, a suggestion:
unknown layer or argument, missing argument, undefined reference, cycle, unused input or
layer, invalid parameter name. What it returns is the same spec with every name resolved
and the nodes in call order, so that ``lower`` can build the IR without checking again.
"""

from __future__ import annotations

import keyword
import re
from typing import Any, Literal

from generator.core.naming import KERAS_MODEL_ATTRIBUTES, MODULE_RESERVED, PYTHON_RESERVED, to_snake
from generator.errors import SpecError
from generator.from_spec.catalog import load_catalog
from generator.from_spec.check_calls import CallChecker
from generator.from_spec.custom_layers import custom_layers
from generator.from_spec.spec import (
    BlockDecl,
    CheckedGraph,
    CheckedNode,
    CheckedSpec,
    InputDecl,
    LayerCall,
    ModelSpec,
    NodeSpec,
    Outputs,
    ParamDecl,
    suggest,
)
from generator.from_spec.training import check_training

_LAYER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_spec(spec: ModelSpec) -> CheckedSpec:
    """Check ``spec`` completely.

    Raises:
        SpecError: the first mistake, with its location.
    """
    catalog = load_catalog()
    if spec.imports:
        where = str(spec.imports_loc) if spec.imports_loc else "--custom-objects"
        layers = {**catalog["layers"], **custom_layers(spec.imports, where)}
        catalog = {**catalog, "layers": layers}
    blocks: dict[str, BlockDecl] = {}
    checked_blocks = []
    for block in spec.blocks:
        if block.name in blocks or block.name in catalog["layers"]:
            raise SpecError(f"block name {block.name!r} is already taken", where=str(block.loc))
        checked_blocks.append(_GraphCheck(block).run(CallChecker(catalog, blocks, block.params)))
        blocks[block.name] = block
    model = _GraphCheck(spec).run(CallChecker(catalog, blocks, spec.params))
    training = check_training(spec, model, catalog)
    return CheckedSpec(spec, tuple(checked_blocks), model, catalog["layers"], training, catalog)


def check_params(decls: tuple[ParamDecl, ...], kind: str) -> None:
    """Parameter names are identifiers nobody else owns; model parameters have defaults."""
    seen: set[str] = set()
    reserved = KERAS_MODEL_ATTRIBUTES | MODULE_RESERVED | PYTHON_RESERVED
    for decl in decls:
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
        if not is_literal(decl.default):
            raise SpecError(f"the default of {decl.name!r} must be a literal", where=str(decl.loc))
        if decl.type and decl.type not in PARAM_TYPES:
            raise SpecError(
                f"unknown type {decl.type!r} for parameter {decl.name!r}"
                f"{suggest(decl.type, PARAM_TYPES)}; use one of {', '.join(sorted(PARAM_TYPES))}",
                where=str(decl.loc),
            )
        if decl.type and not decl.required and not _has_type(decl.default, decl.type):
            raise SpecError(
                f"the default of {decl.name!r} is {decl.default!r}, not a {decl.type}",
                where=str(decl.loc),
            )
        if decl.required and kind == "model":
            raise SpecError(
                f"parameter {decl.name!r} needs a default: the model must build from its defaults",
                where=str(decl.loc),
            )


PARAM_TYPES = {"int", "float", "bool", "str", "list", "tuple", "dict"}


def _has_type(value: Any, type_name: str) -> bool:
    if value is None:
        return True  # "no value" fits every type (Keras's own optional arguments)
    if isinstance(value, bool):
        return type_name == "bool"
    accepted: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (int, float),
        "str": (str,),
        "list": (list,),
        "tuple": (list, tuple),  # YAML writes a tuple as a list
        "dict": (dict,),
        "bool": (),
    }
    return isinstance(value, accepted[type_name])


def is_literal(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_literal(v) for k, v in value.items())
    return False


class _GraphCheck:
    """The structure of one graph, the model or a block: names, references, order,
    outputs, dead ends."""

    def __init__(self, decl: ModelSpec | BlockDecl) -> None:
        self.decl = decl
        if isinstance(decl, BlockDecl):
            self.kind: Literal["model", "block"] = "block"
            self.inputs: tuple[InputDecl, ...] = ()
            self.outputs: Any = None
            self.where = self.outputs_where = str(decl.loc)
        else:
            self.kind = "model"
            self.inputs = decl.inputs
            self.outputs = decl.outputs
            self.where = decl.source
            self.outputs_where = str(decl.outputs_loc) if decl.outputs_loc else decl.source
        self.params = decl.params
        self.node_specs = decl.nodes
        self.param_names = {p.name for p in decl.params}

    def run(self, calls: CallChecker) -> CheckedGraph:
        check_params(self.params, self.kind)
        input_names = ["inputs"] if self.kind == "block" else [d.name for d in self.inputs]
        names = self.node_names(set(input_names))
        links = self.links(names, input_names)
        order = self.topological(names, links)
        outputs = self.output_names(names)
        self.check_used(names, links, input_names, outputs)
        checked = tuple(calls.node(spec, name, tuple(links[name])) for spec, name in order)
        for decl in self.params:
            if decl.name not in calls.used:
                raise SpecError(
                    f"parameter {decl.name!r} is never used; use it in a layer argument or "
                    "remove it",
                    where=str(decl.loc),
                )
        return CheckedGraph(
            kind=self.kind,
            name=self.decl.name if isinstance(self.decl, BlockDecl) else "",
            doc=self.decl.doc,
            params=self.params,
            inputs=self.inputs,
            declared=self.node_specs,
            nodes=checked,
            outputs=outputs,
            chain=self.is_chain(checked, outputs),
        )

    def node_names(self, taken: set[str]) -> list[str]:
        """One unique name per node: given (``name:`` or ``name=``) or from its layer."""
        names: list[str] = []
        counters: dict[str, int] = {}
        used = set(taken)
        explicit = {n.name for n in self.node_specs if n.name}
        for spec in self.node_specs:
            name = spec.name or _name_kwarg(spec.call)
            if name is not None:
                if not _LAYER_NAME.match(name):
                    raise SpecError(
                        f"invalid layer name {name!r}: use letters, digits and underscores",
                        where=str(spec.loc),
                    )
                if name in used:
                    raise SpecError(f"the name {name!r} is used twice", where=str(spec.loc))
            else:
                base = to_snake(spec.call.name.rsplit(".", 1)[-1]) or "layer"
                index = counters.get(base, 0)
                name = base if index == 0 else f"{base}_{index}"
                while name in used or name in explicit:
                    index += 1
                    name = f"{base}_{index}"
                counters[base] = index + 1
            used.add(name)
            names.append(name)
        return names

    def links(self, names: list[str], input_names: list[str]) -> dict[str, list[str]]:
        """Each node's inputs: given by ``inputs:``, or the previous entry."""
        known = set(names) | set(input_names)
        previous: str | None = input_names[0] if len(input_names) == 1 else None
        links: dict[str, list[str]] = {}
        for spec, name in zip(self.node_specs, names, strict=True):
            if spec.inputs is None:
                if previous is None:
                    raise SpecError(
                        "this layer needs 'inputs:': the model has several inputs "
                        f"({', '.join(input_names)})",
                        where=str(spec.loc),
                    )
                links[name] = [previous]
            else:
                locs = spec.input_locs or (spec.loc,) * len(spec.inputs)
                for ref, loc in zip(spec.inputs, locs, strict=False):
                    if ref not in known:
                        raise SpecError(
                            f"reference to undefined node {ref!r}{suggest(ref, known)}",
                            where=str(loc),
                        )
                    if ref == name:
                        raise SpecError(f"cycle: {ref} -> {ref}", where=str(loc))
                links[name] = list(spec.inputs)
            previous = name
        return links

    def topological(
        self, names: list[str], links: dict[str, list[str]]
    ) -> list[tuple[NodeSpec, str]]:
        """Stable topological order: list order wherever the references allow it."""
        spec_of = dict(zip(names, self.node_specs, strict=True))
        done: set[str] = set()
        order: list[tuple[NodeSpec, str]] = []
        visiting: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                cycle = visiting[visiting.index(name) :] + [name]
                raise SpecError(f"cycle: {' -> '.join(cycle)}", where=str(spec_of[name].loc))
            visiting.append(name)
            for ref in links[name]:
                if ref in spec_of:
                    visit(ref)
            visiting.pop()
            done.add(name)
            order.append((spec_of[name], name))

        for name in names:
            visit(name)
        return order

    def output_names(self, names: list[str]) -> Outputs:
        known = set(names)

        def check(name: Any) -> str:
            if not isinstance(name, str) or name not in known:
                raise SpecError(
                    f"output refers to undefined node {name!r}{suggest(str(name), known)}",
                    where=self.outputs_where,
                )
            return name

        if self.outputs is None:
            return names[-1]
        if isinstance(self.outputs, str):
            return check(self.outputs)
        if isinstance(self.outputs, list) and self.outputs:
            return [check(n) for n in self.outputs]
        if isinstance(self.outputs, dict) and self.outputs:
            return {str(k): check(v) for k, v in self.outputs.items()}
        raise SpecError(
            "outputs must be a node name, a list of names or a mapping", where=self.outputs_where
        )

    def check_used(
        self,
        names: list[str],
        links: dict[str, list[str]],
        input_names: list[str],
        outputs: Outputs,
    ) -> None:
        """Every input and every layer leads to an output."""
        needed: set[str] = set()
        targets = list(output_list(outputs))
        while targets:
            name = targets.pop()
            if name in needed:
                continue
            needed.add(name)
            targets.extend(links.get(name, ()))
        for name in input_names:
            if name not in needed:
                loc = next((str(d.loc) for d in self.inputs if d.name == name), self.where)
                raise SpecError(f"input {name!r} is never used", where=loc)
        for spec, name in zip(self.node_specs, names, strict=True):
            if name not in needed:
                raise SpecError(
                    f"layer {name!r} does not lead to any output; use it or list it in outputs",
                    where=str(spec.loc),
                )

    def is_chain(self, nodes: tuple[CheckedNode, ...], outputs: Outputs) -> bool:
        if len(self.inputs) > 1 or not isinstance(outputs, str) or outputs != nodes[-1].name:
            return False
        previous = None
        for node in nodes:
            if len(node.inputs) != 1 or (previous is not None and node.inputs[0] != previous):
                return False
            previous = node.name
        return True


def _name_kwarg(call: LayerCall) -> str | None:
    for key, value in call.kwargs:
        if key == "name":
            if not isinstance(value, str):
                raise SpecError("name= must be a string", where=str(call.loc))
            return value
    return None


def output_list(outputs: Outputs) -> list[str]:
    """The node names an ``outputs`` value refers to, in order."""
    if isinstance(outputs, str):
        return [outputs]
    if isinstance(outputs, list):
        return list(outputs)
    return list(outputs.values())
