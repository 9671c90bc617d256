"""Reads architecture specs (a YAML file or a one-line chain) into located, plain data.

Nothing here imports Keras or TensorFlow. Every element keeps the file, line and column it
came from, so a mistake is reported as ``model.yaml:12:7: unknown layer 'Dense2' (did you
mean 'Dense'?)``. Layer calls are parsed with ``ast``, never evaluated.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.errors import SpecError


@dataclass(frozen=True)
class Loc:
    source: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"

    def shifted(self, line_offset: int, column_offset: int) -> Loc:
        """A position inside a scalar that starts here (``ast`` offsets are 0-based)."""
        if line_offset:
            return Loc(self.source, self.line + line_offset, column_offset + 1)
        return Loc(self.source, self.line, self.column + column_offset)


@dataclass(frozen=True)
class ParamRef:
    name: str
    loc: Loc


@dataclass(frozen=True)
class LayerCall:
    """``Conv2D(32, 3, activation='relu')``: a layer (or block) name and its arguments."""

    name: str
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...]
    loc: Loc
    kwarg_locs: tuple[Loc, ...] = ()


Arg = None | bool | int | float | str | tuple | list | dict | ParamRef | LayerCall


@dataclass(frozen=True)
class NodeSpec:
    """One entry of ``layers:``; ``inputs`` ``None`` means "the previous entry"."""

    call: LayerCall
    loc: Loc
    name: str | None = None
    inputs: tuple[str, ...] | None = None
    input_locs: tuple[Loc, ...] = ()
    repeat: int | str = 0  # a count, or the name of an int parameter


@dataclass(frozen=True)
class InputDecl:
    name: str
    shape: tuple[int | None, ...]
    dtype: str
    loc: Loc


@dataclass(frozen=True)
class ParamDecl:
    name: str
    default: Any
    type: str
    doc: str
    loc: Loc
    required: bool = False  # declared without a default (blocks only)


@dataclass(frozen=True)
class BlockDecl:
    name: str
    params: tuple[ParamDecl, ...]
    nodes: tuple[NodeSpec, ...]
    loc: Loc
    doc: str = ""


@dataclass(frozen=True)
class ModelSpec:
    source: str
    inputs: tuple[InputDecl, ...]
    params: tuple[ParamDecl, ...]
    nodes: tuple[NodeSpec, ...]
    blocks: tuple[BlockDecl, ...] = ()
    outputs: Any = None  # None (last node), a name, a list of names, or {key: name}
    outputs_loc: Loc | None = None
    name: str | None = None
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_DTYPES = {
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "string",
}


# -- layer calls ------------------------------------------------------------------------------


def parse_call(text: str, loc: Loc) -> LayerCall:
    """Parse one ``Name(args)`` expression (a bare ``Name`` means no arguments)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = loc.shifted(0, (exc.offset or 1) - 1)
        raise SpecError(
            f"cannot parse layer call {text.strip()!r}: {exc.msg}", where=str(where)
        ) from None
    return _call_from_ast(tree.body, loc, text.strip())


def parse_chain(text: str, loc: Loc) -> tuple[NodeSpec, ...]:
    """``"Conv2D(32, 3) > Flatten() > Dense(num_classes)"`` → one node per layer."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        where = loc.shifted(0, (exc.offset or 1) - 1)
        raise SpecError(f"cannot parse layers: {exc.msg}", where=str(where)) from None
    body = tree.body
    if isinstance(body, ast.Compare):
        if not all(isinstance(op, ast.Gt) for op in body.ops):
            raise SpecError("separate layers with '>'", where=str(loc))
        items = [body.left, *body.comparators]
    else:
        items = [body]
    nodes = []
    for item in items:
        call = _call_from_ast(item, loc, text)
        nodes.append(NodeSpec(call=call, loc=call.loc))
    return tuple(nodes)


def _node_loc(node: ast.AST, loc: Loc) -> Loc:
    return loc.shifted(getattr(node, "lineno", 1) - 1, getattr(node, "col_offset", 0))


def _call_from_ast(node: ast.expr, loc: Loc, text: str) -> LayerCall:
    here = _node_loc(node, loc)
    if isinstance(node, ast.Name):
        return LayerCall(node.id, (), (), here)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise SpecError(
            f"expected a layer call such as Dense(64), got {ast.unparse(node)!r}", where=str(here)
        )
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        raise SpecError("*args and **kwargs are not allowed in a spec", where=str(here))
    args = tuple(_arg_from_ast(a, loc, text) for a in node.args)
    kwargs = tuple((k.arg, _arg_from_ast(k.value, loc, text)) for k in node.keywords if k.arg)
    kwarg_locs = tuple(_node_loc(k, loc) for k in node.keywords)
    return LayerCall(node.func.id, args, kwargs, here, kwarg_locs)


def _arg_from_ast(node: ast.expr, loc: Loc, text: str) -> Arg:
    if isinstance(node, ast.Name):
        return ParamRef(node.id, _node_loc(node, loc))
    if isinstance(node, ast.Call):
        return _call_from_ast(node, loc, text)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_arg_from_ast(e, loc, text) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else list(items)
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError):
        raise SpecError(
            "arguments must be literals, parameter names or layer calls, "
            f"got {ast.unparse(node)!r}",
            where=str(_node_loc(node, loc)),
        ) from None


# -- one-line specs --------------------------------------------------------------------------


def parse_shape(text: str, where: str) -> tuple[int | None, ...]:
    """``"28,28,1"`` → ``(28, 28, 1)``; ``None`` marks an unknown dimension."""
    dims: list[int | None] = []
    for part in text.replace("(", "").replace(")", "").split(","):
        part = part.strip()
        if not part:
            continue
        if part.lower() == "none":
            dims.append(None)
        elif part.isdigit() and int(part) > 0:
            dims.append(int(part))
        else:
            raise SpecError(
                f"invalid shape {text!r}: dimensions are positive integers or None", where=where
            )
    if not dims:
        raise SpecError(f"invalid shape {text!r}: give at least one dimension", where=where)
    return tuple(dims)


def parse_param(text: str, where: str) -> ParamDecl:
    """``"num_classes=10"`` → a parameter with a literal default."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise SpecError(f"expected NAME=VALUE, got {text!r}", where=where)
    try:
        default = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        default = value.strip()  # a bare word is a string
    return ParamDecl(
        name, default, type(default).__name__ if default is not None else "", "", Loc(where, 1, 1)
    )


def chain_spec(
    layers: str, input_shape: str | None, params: tuple[str, ...], dtype: str = "float32"
) -> ModelSpec:
    """The spec of ``scaffold new NAME --input-shape ... --layers ... --param ...``."""
    if input_shape is None:
        raise SpecError("--layers needs --input-shape", where="--input-shape")
    loc = Loc("--layers", 1, 1)
    shape = parse_shape(input_shape, "--input-shape")
    return ModelSpec(
        source="--layers",
        inputs=(InputDecl("inputs", shape, dtype, Loc("--input-shape", 1, 1)),),
        params=tuple(parse_param(p, "--param") for p in params),
        nodes=parse_chain(layers, loc),
    )


# -- YAML specs -------------------------------------------------------------------------------


def load_spec(text: str, source: str) -> ModelSpec:
    """Parse a YAML spec (documented in docs/spec.md)."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise SpecError(f"invalid YAML: {exc.problem or exc}", where=where) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", where=source) from None
    if root is None:
        raise SpecError("the spec is empty", where=source)
    return _Reader(source).model(root)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def loc(self, node: yaml.Node) -> Loc:
        return Loc(self.source, node.start_mark.line + 1, node.start_mark.column + 1)

    def value(self, node: yaml.Node) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise SpecError(f"{what} must be a mapping", where=str(self.loc(node)))
        found: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = str(self.value(key))
            if name in found:
                raise SpecError(f"duplicate key {name!r} in {what}", where=str(self.loc(key)))
            found[name] = (key, value)
        return found

    def model(self, root: yaml.Node) -> ModelSpec:
        top = self.mapping(root, "the spec")
        known = {
            "name",
            "doc",
            "input_shape",
            "dtype",
            "inputs",
            "params",
            "blocks",
            "layers",
            "outputs",
        }
        for key, (key_node, _) in top.items():
            if key not in known:
                raise SpecError(
                    f"unknown top-level key {key!r}{_suggest(key, known)}",
                    where=str(self.loc(key_node)),
                )
        if "layers" not in top:
            raise SpecError("the spec has no 'layers'", where=str(self.loc(root)))
        inputs = self.inputs(top)
        params = self.params(top["params"][1]) if "params" in top else ()
        blocks = self.blocks(top["blocks"][1]) if "blocks" in top else ()
        nodes = self.nodes(top["layers"][1])
        outputs, outputs_loc = None, None
        if "outputs" in top:
            outputs_node = top["outputs"][1]
            outputs, outputs_loc = self.value(outputs_node), self.loc(outputs_node)
        return ModelSpec(
            source=self.source,
            inputs=inputs,
            params=params,
            nodes=nodes,
            blocks=blocks,
            outputs=outputs,
            outputs_loc=outputs_loc,
            name=str(self.value(top["name"][1])) if "name" in top else None,
            doc=str(self.value(top["doc"][1])) if "doc" in top else "",
        )

    def inputs(self, top: dict[str, tuple[yaml.Node, yaml.Node]]) -> tuple[InputDecl, ...]:
        dtype = str(self.value(top["dtype"][1])) if "dtype" in top else "float32"
        if "input_shape" in top and "inputs" in top:
            raise SpecError(
                "give either input_shape or inputs, not both", where=str(self.loc(top["inputs"][0]))
            )
        if "input_shape" in top:
            node = top["input_shape"][1]
            return (InputDecl("inputs", self.shape(node), self.dtype(dtype, node), self.loc(node)),)
        if "inputs" not in top:
            raise SpecError("the spec needs input_shape or inputs", where=f"{self.source}:1:1")
        declared = []
        for name, (key, value) in self.mapping(top["inputs"][1], "inputs").items():
            if isinstance(value, yaml.MappingNode):
                fields = self.mapping(value, f"input {name!r}")
                if "shape" not in fields:
                    raise SpecError(f"input {name!r} needs a shape", where=str(self.loc(value)))
                shape = self.shape(fields["shape"][1])
                input_dtype = str(self.value(fields["dtype"][1])) if "dtype" in fields else dtype
                dtype_node = fields["dtype"][1] if "dtype" in fields else value
                declared.append(
                    InputDecl(name, shape, self.dtype(input_dtype, dtype_node), self.loc(key))
                )
            else:
                declared.append(
                    InputDecl(name, self.shape(value), self.dtype(dtype, value), self.loc(key))
                )
        if not declared:
            raise SpecError("inputs is empty", where=str(self.loc(top["inputs"][1])))
        return tuple(declared)

    def dtype(self, dtype: str, node: yaml.Node) -> str:
        if dtype not in _DTYPES:
            raise SpecError(
                f"unknown dtype {dtype!r}{_suggest(dtype, _DTYPES)}", where=str(self.loc(node))
            )
        return dtype

    def shape(self, node: yaml.Node) -> tuple[int | None, ...]:
        value = self.value(node)
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if isinstance(value, str):
            return parse_shape(value, str(self.loc(node)))
        if (
            not isinstance(value, list)
            or not value
            or not all(
                v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0)
                for v in value
            )
        ):
            raise SpecError(
                "a shape is a list of positive integers (or null for unknown)",
                where=str(self.loc(node)),
            )
        return tuple(value)

    def params(self, node: yaml.Node) -> tuple[ParamDecl, ...]:
        declared = []
        for name, (key, value) in self.mapping(node, "params").items():
            if isinstance(value, yaml.MappingNode):
                fields = self.mapping(value, f"parameter {name!r}")
                required = "default" not in fields
                default = None if required else self.value(fields["default"][1])
                type_name = str(self.value(fields["type"][1])) if "type" in fields else ""
                doc = str(self.value(fields["doc"][1])) if "doc" in fields else ""
            else:
                default, type_name, doc, required = self.value(value), "", "", False
            if not type_name and default is not None:
                type_name = type(default).__name__
            declared.append(ParamDecl(name, default, type_name, doc, self.loc(key), required))
        return tuple(declared)

    def blocks(self, node: yaml.Node) -> tuple[BlockDecl, ...]:
        declared = []
        for name, (key, value) in self.mapping(node, "blocks").items():
            fields = self.mapping(value, f"block {name!r}")
            if "layers" not in fields:
                raise SpecError(f"block {name!r} has no layers", where=str(self.loc(value)))
            params = self.params(fields["params"][1]) if "params" in fields else ()
            doc = str(self.value(fields["doc"][1])) if "doc" in fields else ""
            declared.append(
                BlockDecl(name, params, self.nodes(fields["layers"][1]), self.loc(key), doc)
            )
        return tuple(declared)

    def nodes(self, node: yaml.Node) -> tuple[NodeSpec, ...]:
        if isinstance(node, yaml.ScalarNode):
            return parse_chain(str(self.value(node)), self.scalar_loc(node))
        if not isinstance(node, yaml.SequenceNode):
            raise SpecError(
                "layers must be a list (or one 'A > B > C' chain)", where=str(self.loc(node))
            )
        found: list[NodeSpec] = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                found.extend(parse_chain(str(self.value(item)), self.scalar_loc(item)))
            else:
                found.append(self.node(item))
        if not found:
            raise SpecError("layers is empty", where=str(self.loc(node)))
        return tuple(found)

    def scalar_loc(self, node: yaml.Node) -> Loc:
        loc = self.loc(node)
        return loc.shifted(0, 1) if getattr(node, "style", None) in ("'", '"') else loc

    def node(self, item: yaml.Node) -> NodeSpec:
        fields = self.mapping(item, "a layer entry")
        allowed = {"layer", "name", "inputs", "repeat"}
        for key, (key_node, _) in fields.items():
            if key not in allowed:
                raise SpecError(
                    f"unknown key {key!r}{_suggest(key, allowed)}", where=str(self.loc(key_node))
                )
        if "layer" not in fields:
            raise SpecError("a layer entry needs 'layer: Name(...)'", where=str(self.loc(item)))
        layer_node = fields["layer"][1]
        call = parse_call(str(self.value(layer_node)), self.scalar_loc(layer_node))
        name = str(self.value(fields["name"][1])) if "name" in fields else None
        inputs: tuple[str, ...] | None = None
        input_locs: tuple[Loc, ...] = ()
        if "inputs" in fields:
            inputs_node = fields["inputs"][1]
            if isinstance(inputs_node, yaml.SequenceNode):
                inputs = tuple(str(self.value(n)) for n in inputs_node.value)
                input_locs = tuple(self.loc(n) for n in inputs_node.value)
            else:
                inputs = (str(self.value(inputs_node)),)
                input_locs = (self.loc(inputs_node),)
        repeat = 0
        if "repeat" in fields:
            repeat_node = fields["repeat"][1]
            repeat = self.value(repeat_node)
            valid_count = isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 0
            if not valid_count and not (isinstance(repeat, str) and repeat.isidentifier()):
                raise SpecError(
                    "repeat must be a positive integer or an int parameter's name",
                    where=str(self.loc(repeat_node)),
                )
        return NodeSpec(call, self.loc(item), name, inputs, input_locs, repeat)


def _suggest(word: str, options: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


suggest = _suggest
