"""Variable names a person would choose: ``x`` along the main path, ``shortcut`` for a
tensor kept aside for later, ``branch`` for one waiting to be concatenated.

A name is reused as soon as the tensor it held is read for the last time, the way
hand-written Keras code writes ``x = layer(x)`` line after line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from generator.core.ir import Assign, ForEach, ModelIR, Name, Step, When
from generator.core.structure.dataflow import rename_variables, variables_in

MAIN, KEPT, BRANCH, PART = "x", "shortcut", "branch", "part"


@dataclass
class _Event:
    reads: list[str]
    targets: tuple[str, ...]
    unpack: bool
    # Where its reads count: its own place, or for an optional part's ``else`` the place
    # where the part begins (the branches exclude each other, so what only the ``else``
    # reads need not outlive the part's first step).
    read_at: int


def readable_variables(model: ModelIR, reserved: set[str]) -> ModelIR:
    """``model`` with its call's variables renamed; inputs keep their names.

    In a model, a tensor kept aside and each of several outputs keep the name their layer
    gave them (``score``, ``branch_3x3``); in a block, whose variables were named after
    one instance only, they become ``shortcut`` and ``branch``.
    """
    generic = model.kind == "block"
    events = _events(model.steps)
    outputs = variables_in(model.outputs)
    several_outputs = len(set(outputs)) > 1
    defined: dict[str, int] = {}
    last_read: dict[str, int] = {}
    reads: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        for var in event.reads:
            last_read[var] = max(last_read.get(var, -1), event.read_at)
            reads.setdefault(var, []).append(event.read_at)
        for target in event.targets:
            defined[target] = index  # the last definition: an optional part's else
    for var in outputs:
        last_read[var] = len(events)
        reads.setdefault(var, []).append(len(events))
    merges = {}  # variable -> how many variables its last reader reads
    for event in events:
        for var in event.reads:
            if last_read.get(var) == event.read_at:
                merges[var] = len(set(event.reads))
    fixed = {spec.var for spec in model.inputs}
    taken = set(reserved) | fixed | {p.name for p in model.params} | {"training"}
    _reserve_loop_variables(model.steps, taken)
    holder: dict[str, str] = {}  # name -> variable holding it now
    names: dict[str, str] = {var: var for var in fixed}
    prefer = _prefer_bypass(model.steps, last_read, fixed)
    dying: dict[int, list[str]] = {}
    for var, index in last_read.items():
        dying.setdefault(index, []).append(var)
    for index, event in enumerate(events):
        for var in dying.get(index, ()):
            if names.get(var) in holder and holder[names[var]] == var:
                del holder[names[var]]
        for var, bypass in prefer.get(index, {}).items():
            wanted = names.get(bypass)
            if wanted and wanted not in fixed and var not in names and wanted not in holder:
                names[var] = wanted
                holder[wanted] = var
        for target in event.targets:
            if target in names:
                continue
            if event.unpack or len(event.targets) > 1:
                base = PART if generic else target  # a model keeps its layer's names
            elif several_outputs and target in outputs and not generic:
                base = target
            elif _kept_aside(reads.get(target, []), defined[target]):
                if generic:
                    base = BRANCH if merges.get(target, 0) >= 3 else KEPT
                else:
                    base = target
            else:
                base = MAIN
            name = _free(base, holder, taken)
            names[target] = name
            if target in last_read and last_read[target] > index:
                holder[name] = target
    return dataclasses.replace(
        model,
        steps=tuple(_renamed_steps(model.steps, names)),
        outputs=rename_variables(model.outputs, names),
    )


def _events(steps: tuple[Step, ...]) -> list[_Event]:
    events: list[_Event] = []

    def add(inner: Assign, read_at: int | None = None) -> None:
        at = len(events) if read_at is None else read_at
        events.append(_Event(variables_in(inner.value), inner.targets, inner.unpack, at))

    for step in steps:
        if isinstance(step, Assign):
            add(step)
        elif isinstance(step, ForEach):
            for inner in step.body:
                add(inner)
        else:
            begins = len(events)
            for inner in step.body:
                add(inner)
            for inner in step.orelse:
                add(inner, begins)
    return events


def _prefer_bypass(steps, last_read, fixed) -> dict[int, dict[str, str]]:
    """An optional tail that replaces the tensor it bypasses takes that tensor's name:
    ``if self.residual: x = self.add([inputs, x])`` needs no ``else``, and neither does
    ``x = self.drop(x)`` before it."""
    prefer: dict[int, dict[str, str]] = {}
    index = 0
    for step in steps:
        if isinstance(step, When):
            tail_index = index + len(step.body) - 1
            bypass = variables_in(step.orelse[0].value) if step.orelse else []
            if bypass and bypass[0] not in fixed and last_read.get(bypass[0]) == index:
                tail = step.body[-1].targets[0]
                prefer.setdefault(tail_index, {})[tail] = bypass[0]
            index += len(step.body) + len(step.orelse)
        elif isinstance(step, ForEach):
            index += len(step.body)
        else:
            index += 1
    return prefer


def _kept_aside(read_at: list[int], defined_at: int) -> bool:
    """Read later than the steps right after it: a tensor kept for a skip connection."""
    positions = sorted(p for p in set(read_at) if p > defined_at)
    return positions != list(range(defined_at + 1, defined_at + 1 + len(positions)))


def _free(base: str, holder: dict[str, str], taken: set[str]) -> str:
    number = 0
    while True:
        name = base if number == 0 else f"{base}_{number}"
        if name not in holder and name not in taken:
            return name
        number += 1


def _reserve_loop_variables(steps: tuple[Step, ...], taken: set[str]) -> None:
    for step in steps:
        if isinstance(step, ForEach):
            taken.add(step.var)


def _renamed_steps(steps: tuple[Step, ...], names: dict[str, str]) -> list[Step]:
    out: list[Step] = []
    for step in steps:
        if isinstance(step, Assign):
            renamed = _assign(step, names)
            if renamed is not None:
                out.append(renamed)
        elif isinstance(step, ForEach):
            body = tuple(a for a in (_assign(s, names) for s in step.body) if a is not None)
            out.append(ForEach(step.var, step.attr, body))
        else:
            body = tuple(a for a in (_assign(s, names) for s in step.body) if a is not None)
            orelse = tuple(a for a in (_assign(s, names) for s in step.orelse) if a is not None)
            out.append(When(step.condition, body, orelse))
    return out


def _assign(step: Assign, names: dict[str, str]) -> Assign | None:
    targets = tuple(names.get(t, t) for t in step.targets)
    value = rename_variables(step.value, names)
    if value == Name(targets[0]) and len(targets) == 1:
        return None  # ``x = x``
    return Assign(targets, value, step.unpack)
