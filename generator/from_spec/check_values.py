"""Checks argument values against what the catalog says a Keras layer accepts.

A value is a literal, a parameter (checked with its default, where it is used), or an
expression on parameters (computed from their defaults by ``evaluate``, never by Python's
``eval``). What the catalog does not describe stays unchecked: a check here must never
refuse what Keras accepts.
"""

from __future__ import annotations

import math
from typing import Any

from generator.errors import SpecError
from generator.from_spec.spec import Expr, LayerCall, ParamRef, suggest

UNKNOWN = object()  # a value that depends on a parameter without a default
_LIMIT = 10**18  # results beyond this are refused rather than computed


def evaluate(arg: Any, defaults: dict[str, Any]) -> Any:
    """The value an argument has when every parameter keeps its default (or ``UNKNOWN``).

    Raises:
        SpecError: an expression divides by zero or grows beyond any layer size.
    """
    if isinstance(arg, ParamRef):
        return defaults.get(arg.name, UNKNOWN)
    if isinstance(arg, Expr):
        values = [evaluate(operand, defaults) for operand in arg.operands]
        if any(v is UNKNOWN for v in values):
            return UNKNOWN
        return _compute(arg, values)
    if isinstance(arg, (tuple, list)):
        items = [evaluate(item, defaults) for item in arg]
        return UNKNOWN if any(v is UNKNOWN for v in items) else type(arg)(items)
    if isinstance(arg, LayerCall):
        return UNKNOWN
    return arg


def _compute(expr: Expr, values: list[Any]) -> Any:
    where = str(expr.loc)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(f"arithmetic needs numbers, got {value!r}", where=where)
    if len(values) == 1:
        return -values[0] if expr.op == "-" else values[0]
    left, right = values
    if expr.op in ("/", "//", "%") and right == 0:
        raise SpecError(
            "the expression divides by zero (with the parameters' defaults)", where=where
        )
    if expr.op == "**" and (abs(right) > 64 or abs(left) > _LIMIT):
        raise SpecError("the power is too large for any layer argument", where=where)
    result = {
        "+": lambda: left + right,
        "-": lambda: left - right,
        "*": lambda: left * right,
        "/": lambda: left / right,
        "//": lambda: left // right,
        "%": lambda: left % right,
        "**": lambda: left**right,
    }[expr.op]()
    if isinstance(result, complex) or abs(result) > _LIMIT or not math.isfinite(result):
        raise SpecError("the expression is too large for any layer argument", where=where)
    return result


def check_value(
    layer: str, slot: dict[str, Any], value: Any, names: dict[str, list[str]], where: str
) -> None:
    """``value`` fits the catalog entry ``slot`` of ``layer``'s constructor.

    Raises:
        SpecError: it does not; the message says what the argument takes.
    """
    if value is UNKNOWN or isinstance(value, (LayerCall, dict)):
        return
    param = slot["name"]
    kind = slot.get("kind")
    if value is None:
        if kind is None and slot.get("types") and slot.get("default", 0) is not None:
            raise SpecError(
                f"{layer} argument {param!r} must be {_expected(slot)}, got None", where=where
            )
        return
    if kind is not None:
        known = names.get(kind, [])
        if not isinstance(value, str) or value not in known:
            raise SpecError(
                f"unknown {kind} {value!r} for {layer}({param}=...){suggest(str(value), known)}",
                where=where,
            )
        return
    if "choices" in slot and isinstance(value, str):
        if value.lower() not in slot["choices"]:
            options = " or ".join(repr(c) for c in slot["choices"])
            raise SpecError(
                f"{layer} argument {param!r} must be {options}, got {value!r}"
                f"{suggest(value.lower(), slot['choices'])}",
                where=where,
            )
        return
    types = slot.get("types")
    if types and not _fits(types, slot, value):
        raise SpecError(
            f"{layer} argument {param!r} must be {_expected(slot)}, got {value!r}", where=where
        )


def _fits(types: list[str], slot: dict[str, Any], value: Any) -> bool:
    for kind in types:
        if kind == "bool" and isinstance(value, bool):
            return True
        if isinstance(value, bool):
            continue
        if kind in ("int", "int_or_sequence") and isinstance(value, int):
            return _in_range(slot, value)
        if kind == "number" and isinstance(value, (int, float)):
            return _in_range(slot, value)
        if kind in ("int_or_sequence", "sequence") and isinstance(value, (tuple, list)):
            return True  # the probes measured a bare int: elements may differ (value_range)
    return False


def _in_range(slot: dict[str, Any], value: float) -> bool:
    low, high = slot.get("min"), slot.get("max")
    if low is not None and (value < low or (slot.get("min_open") and value == low)):
        return False
    return not (high is not None and (value > high or (slot.get("max_open") and value == high)))


def _expected(slot: dict[str, Any]) -> str:
    words = {
        "int": "an int",
        "number": "a number",
        "bool": "True or False",
        "int_or_sequence": "an int or a tuple of ints",
        "sequence": "a tuple",
    }
    text = " or ".join(words[t] for t in slot.get("types", []) if t in words) or "a value"
    low, high = slot.get("min"), slot.get("max")
    if low == 1 and high is None:
        return text.replace("an int", "a positive int")
    if low is not None and high is not None:
        left = "(" if slot.get("min_open") else "["
        right = ")" if slot.get("max_open") else "]"
        return f"{text} in {left}{low:g}, {high:g}{right}"
    if low is not None:
        return f"{text} >= {low:g}" if not slot.get("min_open") else f"{text} > {low:g}"
    return text


def quoted_name_hint(name: str, names: dict[str, list[str]]) -> str:
    """``; to pass the activation 'relu', quote it: 'relu'`` for a known unquoted name."""
    for kind, known in names.items():
        if name in known:
            return f"; to pass the {kind} {name!r}, quote it: '{name}'"
    return ""
