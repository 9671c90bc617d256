"""Reads YAML specs (documented in docs/spec.md) into located spec objects.

Works on PyYAML's node tree, not on constructed Python values, so every element keeps
the line and column it came from.
"""

from __future__ import annotations

from typing import Any

import yaml

from generator.errors import SpecError, one_line
from generator.from_spec.expressions import parse_call, parse_chain
from generator.from_spec.one_line import parse_shape
from generator.from_spec.spec import (
    DTYPES,
    BlockDecl,
    InputDecl,
    LayerCall,
    Loc,
    ModelSpec,
    NodeSpec,
    ParamDecl,
    TrainingDecl,
    suggest,
)

MAX_SPEC_CHARS = 1_000_000  # the presets are under 2,000
MAX_NODES = 20_000  # YAML nodes after expanding aliases; a 500-layer spec has ~3,000
MAX_DEPTH = 50  # a spec nests about 6 levels
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
}


def load_spec(text: str, source: str) -> ModelSpec:
    """Parse a YAML spec (documented in docs/spec.md).

    Bounded: the text, its nesting and the number of nodes once aliases are expanded are
    all limited, so a hostile spec ("billion laughs") is refused in milliseconds.
    """
    if len(text) > MAX_SPEC_CHARS:
        raise SpecError(
            f"the spec has {len(text):,} characters (limit {MAX_SPEC_CHARS:,})", where=source
        )
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise SpecError(f"invalid YAML: {one_line(exc.problem or exc)}", where=where) from None
    except yaml.reader.ReaderError as exc:  # a byte or character YAML does not allow
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SpecError(
            f"invalid YAML: {exc.reason}: #x{code:04x} at character {exc.position}",
            where=source,
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {one_line(exc)}", where=source) from None
    except RecursionError:
        raise SpecError(f"the YAML nests deeper than {MAX_DEPTH} levels", where=source) from None
    if root is None:
        raise SpecError("the spec is empty", where=source)
    _check_bounds(root, source)
    return _Reader(source).model(root)


def _check_bounds(root: yaml.Node, source: str) -> None:
    """Count nodes as construction would see them (aliases expanded), iteratively."""
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        where = f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"
        if count > MAX_NODES:
            raise SpecError(
                f"the spec expands to more than {MAX_NODES:,} YAML nodes (aliases that "
                "repeat aliases?)",
                where=where,
            )
        if depth > MAX_DEPTH:
            raise SpecError(f"the YAML nests deeper than {MAX_DEPTH} levels", where=where)
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise SpecError(f"unsupported YAML tag {tag!r}; a spec is plain YAML", where=where)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend(((key, depth + 1), (value, depth + 1)))


class _Nodes:
    """Reading PyYAML nodes with their locations."""

    def __init__(self, source: str) -> None:
        self.source = source

    def loc(self, node: yaml.Node) -> Loc:
        return Loc(self.source, node.start_mark.line + 1, node.start_mark.column + 1)

    def value(self, node: yaml.Node) -> Any:
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:  # a tag SafeLoader refuses (!!python/object, ...)
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError(f"invalid YAML: {problem}", where=str(self.loc(node))) from None
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

    def scalar_loc(self, node: yaml.Node) -> Loc:
        loc = self.loc(node)
        return loc.shifted(0, 1) if getattr(node, "style", None) in ("'", '"') else loc


class _Inputs(_Nodes):
    """``input_shape:``/``inputs:`` and ``dtype:``."""

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
        if dtype not in DTYPES:
            raise SpecError(
                f"unknown dtype {dtype!r}{suggest(dtype, DTYPES)}", where=str(self.loc(node))
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


class _Reader(_Nodes):
    """The spec's structure: top-level keys, parameters, blocks and layer entries."""

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
            "imports",
            "task",
            "loss",
            "metrics",
        }
        for key, (key_node, _) in top.items():
            if key not in known:
                raise SpecError(
                    f"unknown top-level key {key!r}{suggest(key, known)}",
                    where=str(self.loc(key_node)),
                )
        if "layers" not in top:
            raise SpecError("the spec has no 'layers'", where=str(self.loc(root)))
        inputs = _Inputs(self.source).inputs(top)
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
            named_inputs="inputs" in top,
            imports=self.imports(top["imports"][1]) if "imports" in top else (),
            imports_loc=self.loc(top["imports"][1]) if "imports" in top else None,
            doc=str(self.value(top["doc"][1])) if "doc" in top else "",
            training=self.training(top),
        )

    def training(self, top: dict[str, tuple[yaml.Node, yaml.Node]]) -> TrainingDecl:
        """``task:``, ``loss:``, ``metrics:``: a value for the whole model, a mapping by
        output key or a list in output order; losses and metrics are Keras class calls."""
        locs: dict[str, Loc] = {
            key: self.loc(top[key][1]) for key in ("task", "loss", "metrics") if key in top
        }
        task = self.value(top["task"][1]) if "task" in top else None
        loss = self.per_output(top["loss"][1], self.call) if "loss" in top else None
        metrics = None
        if "metrics" in top:
            metrics = self.per_output(top["metrics"][1], self.calls, whole=self.calls)
        return TrainingDecl(task, loss, metrics, locs)

    def per_output(self, node: yaml.Node, read: Any, whole: Any = None) -> Any:
        if isinstance(node, yaml.MappingNode):
            return {key: read(value) for key, (_, value) in self.mapping(node, "it").items()}
        if whole is not None:  # metrics: a list is the whole model's list ...
            items = node.value if isinstance(node, yaml.SequenceNode) else ()
            if items and all(isinstance(item, yaml.SequenceNode) for item in items):
                return [read(item) for item in items]  # ... unless it is a list of lists
            return whole(node)
        if isinstance(node, yaml.SequenceNode):
            return [read(item) for item in node.value]
        return read(node)

    def call(self, node: yaml.Node) -> LayerCall | None:
        if isinstance(node, yaml.ScalarNode) and self.value(node) is None:
            return None  # this output has no loss
        if not isinstance(node, yaml.ScalarNode):
            raise SpecError(
                "expected a Keras class call such as MeanSquaredError()", where=str(self.loc(node))
            )
        return parse_call(str(self.value(node)), self.scalar_loc(node))

    def calls(self, node: yaml.Node) -> list[LayerCall]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        return [call for call in map(self.call, items) if call is not None]

    def imports(self, node: yaml.Node) -> tuple[str, ...]:
        """``imports: [mypkg.layers]``: modules that define the user's own layers."""
        value = self.value(node)
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(
            isinstance(n, str) and all(part.isidentifier() for part in n.split(".")) for n in names
        ):
            raise SpecError(
                "imports is a list of module names (mypkg.layers)", where=str(self.loc(node))
            )
        return tuple(names)

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

    def node(self, item: yaml.Node) -> NodeSpec:
        fields = self.mapping(item, "a layer entry")
        allowed = {"layer", "name", "inputs", "repeat"}
        for key, (key_node, _) in fields.items():
            if key not in allowed:
                raise SpecError(
                    f"unknown key {key!r}{suggest(key, allowed)}", where=str(self.loc(key_node))
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
