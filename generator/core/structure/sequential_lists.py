"""Look-alike nested Sequentials kept apart by other steps become one list.

ConvNeXt's three downsampling blocks differ only in their widths (192, 384, 768) and in
the number in their names; written out, each is a 15-line ``tf.keras.Sequential([...])``.
keras.applications builds them in its loop over stages, and the paper's reference code
keeps them in one ``downsample_layers`` list. This pass writes one comprehension over a
``downsampling_filters=(192, 384, 768)`` parameter and calls
``self.downsampling_blocks[k]`` where each was called. Names keep their numbers, so
weights still pair by name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    Comprehension,
    FormattedName,
    LayerSpec,
    ListValue,
    ModelIR,
    Name,
    Param,
    SelfAttr,
    Step,
    Subscript,
    Symbol,
    Value,
    iter_values,
)
from generator.core.naming import attribute_registry, to_snake
from generator.core.structure.attributes import parameter_registry
from generator.core.structure.dataflow import all_assigns

MIN_MEMBERS = 2  # look-alike Sequentials that make a list

_SEQUENTIAL = Symbol("keras", "Sequential")
_COUNTER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class SequentialParts:
    """A nested Sequential that could be written where it is created: its layers'
    constructors in call order, and the names of their positional arguments."""

    items: ListValue
    arg_names: tuple[tuple[str, ...], ...]
    input_shape: tuple[int | None, ...] = ()  # declared, without the batch dimension


class _Mismatch(Exception):
    """The members differ in more than numbers and numbered names."""


@dataclass(frozen=True)
class _Hole:
    """Where the members differ: a number (``kind="number"``) or a numbered name."""

    kind: str
    index: int


@dataclass
class _Holes:
    # (what it is: ``filters`` of the Conv2D, the values)
    numbers: list[tuple[tuple[str, str], tuple[int, ...]]] = field(default_factory=list)
    names: list[tuple[str, str, tuple[int, ...]]] = field(default_factory=list)  # prefix, suffix
    own_name: int | None = None  # which of ``names`` is the Sequentials' own


def listed_sequentials(
    parent: ModelIR, parts: dict[str, SequentialParts], taken: set[str]
) -> tuple[ModelIR, set[str]]:
    """``parent`` with each group of look-alike nested Sequentials it creates (each once,
    called once) as one list; and the nested classes it no longer needs."""
    calls = _called_once(parent)
    groups: dict[object, list[LayerSpec]] = {}
    for layer in parent.layers:
        call = layer.constructor
        name = class_called(call)
        if name not in parts or layer.attr not in calls or layer.repeat or layer.when is not None:
            continue
        assert isinstance(call, Call)
        if call.args or any(key not in ("name", "trainable") for key, _ in call.kwargs):
            continue
        groups.setdefault(_signature(_sequential(call, parts[name])), []).append(layer)
    consumed: set[str] = set()
    for members in groups.values():
        if len(members) < MIN_MEMBERS:
            continue
        listed = _listed(parent, members, parts, taken)
        if listed is not None:
            parent = listed
            consumed.update(class_called(m.constructor) or "" for m in members)
    return parent, consumed


def _listed(
    parent: ModelIR, members: list[LayerSpec], parts: dict[str, SequentialParts], taken: set[str]
) -> ModelIR | None:
    values = []
    for member in members:
        call = member.constructor
        assert isinstance(call, Call)
        values.append(_sequential(call, parts[class_called(call) or ""]))
    if any(isinstance(v, Name) for value in values for v in iter_values(value)):
        return None  # a loop variable could shadow it
    holes = _Holes()
    arg_names = parts[class_called(members[0].constructor) or ""].arg_names
    try:
        template = _unify(values, holes, None, arg_names, top=True)
    except _Mismatch:
        return None
    counter = _counter(holes)
    if counter is None or holes.own_name is None:
        return None
    first, _ = counter
    prefix, suffix, _ = holes.names[holes.own_name]
    list_attr_wanted = to_snake(re.sub(r"[_\-./]+$", "", prefix + suffix)) or "sequential"
    attrs = attribute_registry()
    for name in [layer.attr for layer in parent.layers] + [p.name for p in parent.params]:
        attrs.reserve(name)  # parameters are attributes too (``self.down_filters``)
    list_attr = attrs.claim(_plural(list_attr_wanted))
    stem = re.sub(r"_(block|layer)$", "", list_attr_wanted)
    registry = parameter_registry(parent, taken | {list_attr}, "values")
    index_var = Name("i")
    loop_names: dict[tuple[tuple[str, str], tuple[int, ...]], Name] = {}
    params: list[Param] = []
    for (argument, owner), numbers in holes.numbers:
        if ((argument, owner), numbers) in loop_names:
            continue  # one argument of one layer class, alike in every member
        name = registry.claim(f"{stem}_{_plural(argument)}")
        doc = f"``{argument}`` of the {owner} in each of {list_attr}"
        params.append(Param(name, numbers, doc=doc))
        used = {n.id for n in loop_names.values()}
        loop_names[(argument, owner), numbers] = Name(argument if argument not in used else name)
    if any(n == index_var for n in loop_names.values()):
        return None
    element = _filled(template, holes, loop_names, index_var, counter)
    iterables = [Name(p.name) for p in params]
    if not iterables:
        iterable: Value = Call(
            Symbol("", "range"), (first, first + len(members)) if first else (len(members),)
        )
        clause: tuple[Value, Value] = (index_var, iterable)
    else:
        targets = tuple(loop_names.values())
        zipped: Value = (
            iterables[0]
            if len(iterables) == 1
            else Call(Symbol("", "zip"), tuple(iterables), (("strict", True),))
        )
        start = (("start", first),) if first else ()
        target = targets[0] if len(targets) == 1 else targets
        clause = ((index_var, target), Call(Symbol("", "enumerate"), (zipped,), start))
    spec = LayerSpec(list_attr, list_attr, Comprehension(element, (clause,)), "Sequential")
    position = {m.attr: k for k, m in enumerate(members)}
    layers: list[LayerSpec] = []
    for layer in parent.layers:
        if layer.attr not in position:
            layers.append(layer)
        elif position[layer.attr] == 0:
            layers.append(spec)
    steps = tuple(_indexed(step, list_attr, position) for step in parent.steps)
    return dataclasses.replace(
        parent, layers=tuple(layers), steps=steps, params=(*params, *parent.params)
    )


def _sequential(call: Call, part: SequentialParts) -> Call:
    return Call(_SEQUENTIAL, (part.items,), call.kwargs)


def _signature(value: Value) -> object:
    """What look-alike members share: everything but numbers and names."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int
    if isinstance(value, str):
        return str
    if isinstance(value, tuple):
        return tuple(_signature(v) for v in value)
    if isinstance(value, ListValue):
        return ("list", tuple(_signature(v) for v in value.items))
    if isinstance(value, Call):
        return (
            "call",
            value.func,
            tuple(_signature(v) for v in value.args),
            tuple((k, _signature(v)) for k, v in value.kwargs),
        )
    return value


def _unify(
    values: Sequence[Value],
    holes: _Holes,
    label: tuple[str, str] | None,
    arg_names: tuple[tuple[str, ...], ...],
    top: bool = False,
) -> Value:
    """The members' common form; where they differ, a hole (raises ``_Mismatch`` where a
    difference is no number and no numbered name)."""
    first = values[0]
    if all(v == first for v in values):
        return first
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        if label is None:
            raise _Mismatch
        holes.numbers.append((label, tuple(values)))  # type: ignore[arg-type]
        return _Hole("number", len(holes.numbers) - 1)  # type: ignore[return-value]
    if all(isinstance(v, str) for v in values):
        split = _numbered(values)  # type: ignore[arg-type]
        if split is None:
            raise _Mismatch
        holes.names.append(split)
        return _Hole("name", len(holes.names) - 1)  # type: ignore[return-value]
    if all(isinstance(v, tuple) for v in values) and len({len(v) for v in values}) == 1:  # type: ignore[arg-type]
        return tuple(
            _unify([v[i] for v in values], holes, label, arg_names)  # type: ignore[index]
            for i in range(len(first))  # type: ignore[arg-type]
        )
    if all(isinstance(v, ListValue) for v in values):
        lists = [v.items for v in values]  # type: ignore[union-attr]
        if len({len(items) for items in lists}) != 1:
            raise _Mismatch
        return ListValue(
            tuple(
                _unify_item(
                    [items[j] for items in lists], holes, arg_names[j] if top else (), arg_names
                )
                for j in range(len(lists[0]))
            )
        )
    if all(isinstance(v, Call) for v in values):
        calls: list[Call] = values  # type: ignore[assignment]
        if top:
            args = tuple(
                _unify([c.args[i] for c in calls], holes, None, arg_names, top=True)
                for i in range(len(first.args))  # type: ignore[union-attr]
            )
            kwargs = []
            for key, _ in first.kwargs:  # type: ignore[union-attr]
                named = len(holes.names)
                kwargs.append((key, _unify([dict(c.kwargs)[key] for c in calls], holes, None, ())))
                if key == "name" and len(holes.names) > named:
                    holes.own_name = named
            return Call(first.func, args, tuple(kwargs))  # type: ignore[union-attr]
    raise _Mismatch


def _unify_item(
    values: Sequence[Value],
    holes: _Holes,
    names: tuple[str, ...],
    arg_names: tuple[tuple[str, ...], ...],
) -> Value:
    """One layer of the Sequential: positional arguments take their parameter's name."""
    first = values[0]
    if not all(isinstance(v, Call) for v in values):
        return _unify(values, holes, None, arg_names)
    calls: list[Call] = values  # type: ignore[assignment]
    if len({(c.func, len(c.args), tuple(k for k, _ in c.kwargs)) for c in calls}) != 1:
        raise _Mismatch
    assert isinstance(first, Call)
    layer = first.func.qualname.split(".")[-1] if isinstance(first.func, Symbol) else "layer"
    args = tuple(
        _unify(
            [c.args[i] for c in calls],
            holes,
            (names[i], layer) if i < len(names) else None,
            arg_names,
        )
        for i in range(len(first.args))
    )
    kwargs = tuple(
        (key, _unify([dict(c.kwargs)[key] for c in calls], holes, (key, layer), arg_names))
        for key, _ in first.kwargs
    )
    return Call(first.func, args, kwargs)


def _numbered(texts: list[str]) -> tuple[str, str, tuple[int, ...]] | None:
    """(prefix, suffix, numbers) when the texts differ only in one decimal number."""
    prefix = _common_prefix(texts)
    suffix = _common_prefix([t[len(prefix) :][::-1] for t in texts])[::-1]
    while prefix and prefix[-1].isdigit():
        prefix = prefix[:-1]
    while suffix and suffix[0].isdigit():
        suffix = suffix[1:]
    middles = [t[len(prefix) : len(t) - len(suffix)] for t in texts]
    if not all(m.isdigit() and str(int(m)) == m for m in middles):
        return None
    return prefix, suffix, tuple(int(m) for m in middles)


def _common_prefix(texts: list[str]) -> str:
    shortest = min(texts, key=len)
    for i, ch in enumerate(shortest):
        if any(t[i] != ch for t in texts):
            return shortest[:i]
    return shortest


def _counter(holes: _Holes) -> tuple[int, list[int]] | None:
    """The members' counter (the consecutive numbers in their own names) and each
    name's offset from it."""
    if holes.own_name is None:
        return None
    numbers = holes.names[holes.own_name][2]
    first = numbers[0]
    if list(numbers) != list(range(first, first + len(numbers))):
        return None
    offsets = []
    for _, _, other in holes.names:
        offset = other[0] - first
        if any(o - n != offset for o, n in zip(other, numbers, strict=True)):
            return None
        offsets.append(offset)
    return first, offsets


def _filled(
    template: Value,
    holes: _Holes,
    loop_names: dict[tuple[tuple[str, str], tuple[int, ...]], Name],
    index_var: Name,
    counter: tuple[int, list[int]],
) -> Value:
    _, offsets = counter

    def fill(value: Value) -> Value:
        if isinstance(value, _Hole):
            if value.kind == "number":
                return loop_names[holes.numbers[value.index]]
            prefix, suffix, _ = holes.names[value.index]
            offset = offsets[value.index]
            number: Value = (
                index_var
                if not offset
                else BinOp("+" if offset > 0 else "-", index_var, abs(offset))
            )
            return FormattedName(tuple(p for p in (prefix, number, suffix) if p != ""))
        if isinstance(value, tuple):
            return tuple(fill(v) for v in value)
        if isinstance(value, ListValue):
            return ListValue(tuple(fill(v) for v in value.items))
        if isinstance(value, Call):
            return Call(
                value.func,
                tuple(fill(v) for v in value.args),
                tuple((k, fill(v)) for k, v in value.kwargs),
            )
        return value

    return fill(template)


def _plural(label: str) -> str:
    """``filters`` stays, ``block`` → ``blocks``, ``class`` → ``classes``."""
    if label.endswith("ss"):
        return label + "es"
    return label if label.endswith("s") else label + "s"


def layer_uses(model: ModelIR) -> dict[str, int]:
    """How many times the steps of ``model``'s call read each of its layers."""
    uses: dict[str, int] = {}
    for assign in all_assigns(model.steps):
        for node in iter_values(assign.value):
            if isinstance(node, SelfAttr):
                uses[node.attr] = uses.get(node.attr, 0) + 1
    return uses


def _called_once(model: ModelIR) -> set[str]:
    """Layers called exactly once, by a top-level step of their own (``x = self.a(x)``)."""
    uses = layer_uses(model)
    for node in iter_values(model.outputs):
        if isinstance(node, SelfAttr):
            uses[node.attr] = uses.get(node.attr, 0) + 2
    return {
        step.value.func.attr
        for step in model.steps
        if isinstance(step, Assign)
        and isinstance(step.value, Call)
        and isinstance(step.value.func, SelfAttr)
        and uses.get(step.value.func.attr) == 1
    }


def class_called(constructor: Value) -> str | None:
    """The generated class a layer's constructor calls, if any."""
    if isinstance(constructor, Call) and isinstance(constructor.func, Symbol):
        if constructor.func.module == "":
            return constructor.func.qualname
    return None


def _indexed(step: Step, list_attr: str, position: dict[str, int]) -> Step:
    if not isinstance(step, Assign) or not isinstance(step.value, Call):
        return step
    call = step.value
    if not isinstance(call.func, SelfAttr) or call.func.attr not in position:
        return step
    func = Subscript(SelfAttr(list_attr), position[call.func.attr])
    return dataclasses.replace(step, value=Call(func, call.args, call.kwargs))
