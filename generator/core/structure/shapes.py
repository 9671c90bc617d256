"""Canonical shapes of segments: what two instances of one block have in common.

A shape keeps layer classes, wiring and every non-literal argument, and replaces literal
arguments (filters, strides, rates, activations) by holes, so instances that differ only in
such values share a shape. Literal keyword arguments are left out of the shape altogether:
the reader writes only non-default ones, so one instance may omit ``strides`` that another
sets; ``literal_view`` compares them with the defaults filled in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from generator.core.ir import (
    Assign,
    Call,
    DictValue,
    LayerSpec,
    ListValue,
    Name,
    SelfAttr,
    Value,
)

HOLE = "<hole>"
Path = tuple[Any, ...]


def is_literal(value: Value) -> bool:
    """A value that can become a block parameter: a scalar or a tuple of literals."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, tuple) and all(is_literal(v) for v in value)


def same_literal(a: Any, b: Any) -> bool:
    """Equal and of one type, tuples item by item: ``1.0`` is not ``1``, nor ``True``."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(same_literal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def map_literals(value: Value, replace: Callable[[Value], Value]) -> Value:
    """``value`` with every literal (outermost first, in source order) replaced."""
    if is_literal(value):
        return replace(value)
    if isinstance(value, tuple):
        return tuple(map_literals(v, replace) for v in value)
    if isinstance(value, ListValue):
        return ListValue(tuple(map_literals(v, replace) for v in value.items))
    if isinstance(value, DictValue):
        return DictValue(tuple((k, map_literals(v, replace)) for k, v in value.items))
    if isinstance(value, Call):
        return Call(
            value.func,
            tuple(map_literals(a, replace) for a in value.args),
            tuple((k, map_literals(v, replace)) for k, v in value.kwargs),
        )
    return value


def layer_shape(spec: LayerSpec) -> Any:
    """The class and the non-literal structure of a layer's constructor."""
    call = spec.constructor
    assert isinstance(call, Call)
    args = tuple(_abstract(a) for a in call.args)
    kwargs = tuple(
        (key, _abstract(value))
        for key, value in call.kwargs
        if key != "name" and not is_literal(value)
    )
    return (call.func, args, kwargs)


def literal_view(spec: LayerSpec) -> dict[Path, Value]:
    """Every hole of the constructor by path: ``("arg", 0)``, ``("kw", "strides")``, and
    ``("kw", "kernel_initializer", 0)`` for literals inside a nested call."""
    call = spec.constructor
    assert isinstance(call, Call)
    view: dict[Path, Value] = {}
    for index, arg in enumerate(call.args):
        _collect(arg, ("arg", index), view)
    for key, value in call.kwargs:
        if key != "name":
            _collect(value, ("kw", key), view)
    return view


def fill_holes(spec: LayerSpec, values: dict[Path, Value]) -> Call:
    """The constructor with holes replaced (``values`` may add keyword arguments);
    ``name`` is dropped (the caller names the layer)."""
    call = spec.constructor
    assert isinstance(call, Call)
    args = tuple(_fill(a, ("arg", i), values) for i, a in enumerate(call.args))
    kwargs = [(k, _fill(v, ("kw", k), values)) for k, v in call.kwargs if k != "name"]
    present = {k for k, _ in kwargs}
    for path, value in values.items():
        if path[0] == "kw" and len(path) == 2 and path[1] not in present:
            kwargs.append((path[1], value))
            present.add(path[1])
    return Call(call.func, args, tuple(kwargs))


def segment_shape(
    steps: Sequence[Assign], source: str, result: str, layers: dict[str, LayerSpec]
) -> tuple[Any, list[str]]:
    """The shape of a segment and its layer attributes in the order the shape numbers them."""
    variables = {source: 0}
    slots: dict[str, int] = {}

    def canon(value: Value) -> Any:
        if isinstance(value, Name):
            return ("var", variables[value.id]) if value.id in variables else ("name", value.id)
        if isinstance(value, SelfAttr):
            return ("layer", slots.setdefault(value.attr, len(slots)))
        if isinstance(value, (tuple, list)):
            return tuple(canon(v) for v in value)
        if dataclasses.is_dataclass(value):
            fields = dataclasses.fields(value)
            return (type(value).__name__, *(canon(getattr(value, f.name)) for f in fields))
        return value

    shaped = []
    for step in steps:
        value = canon(step.value)
        targets = []
        for target in step.targets:
            variables[target] = len(variables)
            targets.append(variables[target])
        shaped.append((tuple(targets), step.unpack, value))
    attrs = list(slots)
    shape = (tuple(shaped), variables.get(result), tuple(layer_shape(layers[a]) for a in attrs))
    return shape, attrs


def _abstract(value: Value) -> Value:
    return map_literals(value, lambda _: HOLE)


def _collect(value: Value, path: Path, view: dict[Path, Value]) -> None:
    if is_literal(value):
        view[path] = value
        return
    found: list[Value] = []

    def keep(literal: Value) -> Value:
        found.append(literal)
        return literal

    map_literals(value, keep)
    for index, literal in enumerate(found):
        view[path + (index,)] = literal


def _fill(value: Value, path: Path, values: dict[Path, Value]) -> Value:
    if is_literal(value):
        return values.get(path, value)
    counter = iter(range(1 << 30))
    return map_literals(value, lambda literal: values.get(path + (next(counter),), literal))
