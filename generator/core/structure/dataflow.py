"""Where a model's forward pass can be cut: the points where one tensor carries everything.

Between two such cuts lies a segment with one input and one output, the natural unit a
person would write as a block (a residual unit ends where its sum is the only live tensor).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator.core.ir import (
    Assign,
    Call,
    ForEach,
    Loop,
    ModelIR,
    Name,
    SelfAttr,
    Step,
    Symbol,
    Value,
    When,
    iter_values,
)


def variables_in(value: Value) -> list[str]:
    """Names a value reads, in the order they appear (duplicates kept)."""
    found = [v.id for v in iter_values(value) if isinstance(v, Name)]
    found.reverse()  # iter_values pops from a stack: restore source order
    return found


def layers_in(value: Value) -> list[str]:
    return [v.attr for v in iter_values(value) if isinstance(v, SelfAttr)]


@dataclass(frozen=True)
class Segment:
    """Steps ``[start, stop)`` of a model's call: they read only ``source`` (and what they
    define), and only ``result`` is read after them."""

    start: int
    stop: int
    source: str
    result: str


def single_tensor_segments(model: ModelIR) -> list[Segment]:
    """The segments between consecutive single-tensor cuts, in order.

    A cut after step ``i`` is where exactly one variable defined so far is still read by
    a later step or by the outputs. An input not read by the first step counts from the
    step that first reads it: a second input joined at the end (``x + bias``) cuts
    nothing before, and the segment that joins it reads more than its source
    (``eligible`` keeps it out of blocks).
    """
    steps = flat_steps(model)
    if steps is None:
        return []
    defined_at = {spec.var: -1 for spec in model.inputs}
    last_use: dict[str, int] = {}
    first_use: dict[str, int] = {}
    for index, step in enumerate(steps):
        for var in variables_in(step.value):
            if var in defined_at:
                last_use[var] = index
                first_use.setdefault(var, index)
        for target in step.targets:
            defined_at[target] = index
    for spec in model.inputs:
        if spec.var in first_use and defined_at[spec.var] == -1:
            # Read by the first step: the source of the first segment.
            defined_at[spec.var] = -1 if first_use[spec.var] == 0 else first_use[spec.var]
    for var in variables_in(model.outputs):
        if var in defined_at:
            last_use[var] = len(steps)
    # A variable is live after step i for defined_at <= i < last_use.
    births: dict[int, list[str]] = {}
    dying: dict[int, set[str]] = {}
    for var, use in last_use.items():
        if defined_at[var] >= use:  # an input read once: never live at a cut
            continue
        births.setdefault(defined_at[var], []).append(var)
        dying.setdefault(use, set()).add(var)
    live: set[str] = set()
    cuts: list[tuple[int, str]] = []
    pairs: dict[int, tuple[str, str]] = {}  # two live: a cut if one of them waits
    for index in range(-1, len(steps)):
        live -= dying.get(index, set())
        live.update(births.get(index, ()))
        if len(live) == 1:
            cuts.append((index, next(iter(live))))
        elif len(live) == 2:
            first, second = sorted(live)
            pairs[index] = (first, second)
    cuts = sorted(cuts + _cuts_beside_a_waiting_tensor(steps, model, pairs, defined_at))
    return [
        Segment(start + 1, stop + 1, source, result)
        for (start, source), (stop, result) in zip(cuts, cuts[1:], strict=False)
    ]


# A tensor that waits over this many steps or more, unread, may have cuts beside it.
MIN_WAIT = 6


def _cuts_beside_a_waiting_tensor(
    steps: list[Assign],
    model: ModelIR,
    pairs: dict[int, tuple[str, str]],
    defined_at: dict[str, int],
) -> list[tuple[int, str]]:
    """Cuts where a second tensor is live but waits, unread, for a step after the
    repeated units between (EDSR's global skip: ``x = x + body(x)`` over twelve residual
    blocks). A cut after step ``i`` carries the other tensor when the waiting one is read
    by no step from ``i`` to its next use. Kept only where they split the wait into two
    or more consecutive units alike (same kinds of steps, two or more each): beside a
    residual block's own shortcut they would only cut the block into single layers.
    """
    if not pairs:
        return []
    reads: dict[str, list[int]] = {}
    for index, step in enumerate(steps):
        for var in dict.fromkeys(variables_in(step.value)):
            reads.setdefault(var, []).append(index)
    waits: dict[tuple[str, int], list[tuple[int, str]]] = {}  # (tensor, next read): cuts
    for index, (first, second) in sorted(pairs.items()):
        for waiting, carried in ((first, second), (second, first)):
            uses = reads.get(waiting, [])
            position = bisect.bisect_right(uses, index)
            if position == len(uses):
                continue  # read by the outputs only: no later step to wait for
            previous = uses[position - 1] if position else defined_at[waiting]
            if uses[position] - previous < MIN_WAIT:
                continue
            waits.setdefault((waiting, uses[position]), []).append((index, carried))
    constructors = {layer.attr: layer.constructor for layer in model.layers}
    kinds = [_kind(step, constructors) for step in steps]
    found: list[tuple[int, str]] = []
    for inner in waits.values():
        bounds = [index for index, _ in inner]
        units = [tuple(kinds[a + 1 : b + 1]) for a, b in zip(bounds, bounds[1:], strict=False)]
        if any(a == b and len(a) >= 2 for a, b in zip(units, units[1:], strict=False)):
            found += inner
    return found


def _kind(step: Assign, constructors: dict[str, Value]) -> str:
    """What a step computes, names aside: its layer's class, or its function."""
    value = step.value
    if isinstance(value, Call) and isinstance(value.func, SelfAttr):
        constructor = constructors.get(value.func.attr)
        if isinstance(constructor, Call) and isinstance(constructor.func, Symbol):
            return constructor.func.qualname
        return type(constructor).__name__
    if isinstance(value, Call) and isinstance(value.func, Symbol):
        return value.func.qualname
    return type(value).__name__


def all_assigns(steps: tuple[Step, ...]) -> list[Assign]:
    """Every assignment of a call in order, those of optional parts and loops included."""
    found: list[Assign] = []
    for step in steps:
        if isinstance(step, When):
            found += [*step.body, *step.orelse]
        elif isinstance(step, ForEach):
            found += step.body
        elif isinstance(step, Loop):
            found += all_assigns(step.body)
        else:
            found.append(step)
    return found


def flat_steps(model: ModelIR) -> list[Assign] | None:
    """The call's steps when each is one assignment (a converted model's), else None."""
    steps = [step for step in model.steps if isinstance(step, Assign)]
    return steps if len(steps) == len(model.steps) else None


KEEP: Any = object()  # what a ``transform`` callback returns to keep a node


def name_uses(tree: Any) -> dict[str, int]:
    """How often each variable name is read anywhere in ``tree`` (steps, layers, outputs)."""
    uses: dict[str, int] = {}

    def count(node: Any) -> Any:
        if isinstance(node, Name):
            uses[node.id] = uses.get(node.id, 0) + 1
        return KEEP

    transform(tree, count)
    return uses


def transform(value: Any, replace: Callable[[Any], Any]) -> Any:
    """``value`` rebuilt bottom-up, each IR node passed through ``replace`` (which returns
    a replacement, None included, or ``KEEP`` to keep the node as rebuilt)."""
    if isinstance(value, tuple):
        rebuilt: Any = tuple(transform(v, replace) for v in value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: transform(getattr(value, f.name), replace) for f in dataclasses.fields(value)
        }
        rebuilt = dataclasses.replace(value, **changes)
    else:
        rebuilt = value
    replaced = replace(rebuilt)
    return rebuilt if replaced is KEEP else replaced


def substitute(value: Any, expressions: dict[str, Any]) -> Any:
    """``value`` with each ``Name`` in ``expressions`` replaced by its expression."""
    return transform(
        value,
        lambda node: (
            expressions[node.id] if isinstance(node, Name) and node.id in expressions else KEEP
        ),
    )


def rename_variables(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with each ``Name`` in ``mapping`` renamed."""
    if not mapping or mapping.keys().isdisjoint(variables_in(value)):
        return value  # rebuilding every node only to change none is the slow part
    return transform(
        value,
        lambda node: (
            Name(mapping[node.id]) if isinstance(node, Name) and node.id in mapping else KEEP
        ),
    )
