"""Parses layer calls (``Conv2D(32, 3, activation='relu')``) and ``A > B > C`` chains.

Parsed with ``ast`` and never evaluated: arguments are literals, parameter names or
nested layer calls, each with the spec location it came from.
"""

from __future__ import annotations

import ast

from generator.errors import SpecError
from generator.from_spec.spec import Arg, Expr, LayerCall, Loc, NodeSpec, ParamRef


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
    name = _dotted(node.func) if isinstance(node, ast.Call) else None
    if name is None:
        raise SpecError(
            f"expected a layer call such as Dense(64), got {ast.unparse(node)!r}", where=str(here)
        )
    assert isinstance(node, ast.Call)
    if any(isinstance(a, ast.Starred) for a in node.args) or any(
        k.arg is None for k in node.keywords
    ):
        raise SpecError("*args and **kwargs are not allowed in a spec", where=str(here))
    args = tuple(_arg_from_ast(a, loc, text) for a in node.args)
    kwargs = tuple((k.arg, _arg_from_ast(k.value, loc, text)) for k in node.keywords if k.arg)
    kwarg_locs = tuple(_node_loc(k, loc) for k in node.keywords)
    return LayerCall(name, args, kwargs, here, kwarg_locs)


_OPERATORS: dict[type, str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.USub: "-",
    ast.UAdd: "+",
}


def _dotted(node: ast.expr) -> str | None:
    """``Dense`` or ``mypkg.layers.PositionEmbedding`` (a custom layer); else ``None``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def _arg_from_ast(node: ast.expr, loc: Loc, text: str) -> Arg:
    if isinstance(node, ast.Name):
        return ParamRef(node.id, _node_loc(node, loc))
    if isinstance(node, ast.Call):
        return _call_from_ast(node, loc, text)
    if isinstance(node, (ast.BinOp, ast.UnaryOp)) and not _is_number_literal(node):
        return _expression(node, loc)
    if isinstance(node, (ast.Tuple, ast.List)):
        items = [_arg_from_ast(e, loc, text) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else list(items)
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError):
        raise SpecError(
            "arguments must be literals, parameter names, arithmetic on them or layer "
            f"calls, got {ast.unparse(node)!r}",
            where=str(_node_loc(node, loc)),
        ) from None


def _is_number_literal(node: ast.expr) -> bool:
    """``-3`` and ``1e-3`` are plain literals, not expressions."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return False
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _expression(node: ast.expr, loc: Loc) -> Arg:
    """Numbers, parameter names and ``+ - * / // % **`` only (parentheses group)."""
    here = _node_loc(node, loc)
    if isinstance(node, ast.Name):
        return ParamRef(node.id, here)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        if not isinstance(node.value, bool):
            return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _expression(node.left, loc), _expression(node.right, loc)
        return Expr(_OPERATORS[type(node.op)], (left, right), here)
    if isinstance(node, ast.UnaryOp) and type(node.op) in (ast.USub, ast.UAdd):
        return Expr(_OPERATORS[type(node.op)], (_expression(node.operand, loc),), here)
    raise SpecError(
        "expressions use numbers, parameter names, parentheses and + - * / // % ** only, "
        f"got {ast.unparse(node)!r}",
        where=str(here),
    )
