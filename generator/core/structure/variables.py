"""Variable names a person would choose: ``x`` along the main path, ``shortcut`` for a
tensor kept aside for later, ``branch`` for one waiting to be concatenated, ``gate`` for
one computed from ``x`` to scale it.

A name is reused as soon as the tensor it held is read for the last time, the way
hand-written Keras code writes ``x = layer(x)`` line after line. A branch (the steps from
a tensor that is read again later to a tensor kept aside) carries one name throughout,
and a tensor that several branches read stays ``x`` while they run, as Keras's own
Inception code writes ``branch_1 = conv(x); branch_1 = conv(branch_1)``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    ForEach,
    LayerSpec,
    ModelIR,
    Name,
    SelfAttr,
    Step,
    Symbol,
    Value,
    When,
    iter_values,
)
from generator.core.layer_words import layer_word
from generator.core.structure.dataflow import all_assigns, rename_variables, variables_in

MAIN, KEPT, BRANCH, PART, GATE = "x", "shortcut", "branch", "part", "gate"
# Functions and layer classes that join tensors side by side: what they read are branches.
JOINING_FUNCTIONS = frozenset({"concatenate", "stack", "hstack", "vstack", "dstack"})
JOINING_LAYERS = frozenset({"Concatenate"})
# And those that scale one tensor by another computed from it (squeeze-and-excitation).
SCALING_FUNCTIONS, SCALING_LAYERS = frozenset({"multiply"}), frozenset({"Multiply"})


@dataclass
class _Event:
    reads: list[str]
    targets: tuple[str, ...]
    unpack: bool
    value: Value
    container: int  # the body it sits in: the call's own, a loop's, an ``if``'s or ``else``'s
    # Where its reads count: its own place, or for an optional part's ``else`` the place
    # where the part begins (the branches exclude each other, so what only the ``else``
    # reads need not outlive the part's first step).
    read_at: int


def readable_variables(model: ModelIR, reserved: set[str]) -> ModelIR:
    """``model`` with its call's variables renamed; inputs keep their names.

    In a model, a tensor kept aside and each of several outputs keep the name their layer
    gave them (``score``, ``branch_3x3``) unless Keras made that name up (``conv2d_7``)
    or it names one instance of a loop; in a block, whose variables were named after one
    instance only, they become ``shortcut`` and ``branch``.
    """
    generic = model.kind == "block"
    model = dataclasses.replace(model, steps=_short_branch_first(model))
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
    layers = {layer.attr: layer for layer in model.layers}
    merges = {}  # variable -> how many variables its last reader reads
    joined = set()  # variables whose last reader sets them side by side
    added = set()  # variables whose last reader adds them to another
    for event in events:
        for var in event.reads:
            if last_read.get(var) == event.read_at:
                merges[var] = len(set(event.reads))
                if joins(event.value, layers, JOINING_FUNCTIONS, JOINING_LAYERS):
                    joined.add(var)
                if joins(event.value, layers, frozenset({"add"}), frozenset({"Add"})):
                    added.add(var)
    fixed = {spec.var for spec in model.inputs}
    # An input's name is free once the input is read for the last time: an input
    # named ``x`` hands ``x`` on to the main path instead of making it ``x_1``.
    taken = set(reserved) | {p.name for p in model.params} | {"training"}
    _reserve_loop_variables(model.steps, taken)
    made_up, loop_results = set(model.made_up_names), _loop_results(model.steps)
    kept = {
        var
        for var, index in defined.items()
        if _kept_aside(reads.get(var, []), index) and not (several_outputs and var in outputs)
    }
    sources = _sources(events, fixed) if len(fixed) > 1 else {}
    gates = _gates(events, layers, kept)
    branch_of = _branches(events, reads, last_read, kept | gates, fixed | set(outputs))
    gates &= set(branch_of.values())  # computed from the tensor they scale

    def single(var: str) -> bool:
        event = events[defined[var]]
        return not event.unpack and len(event.targets) == 1

    masks = _masks(events)

    def base_of(var: str) -> str:
        """The name ``var``'s branch would take, before counters."""
        if var in masks:
            return masks[var]
        if not single(var):
            return PART if generic else var  # a model keeps its layer's names
        if several_outputs and var in outputs and not generic:
            return var
        if var in gates:
            return GATE
        if var in kept:
            side_by_side = var in joined or merges.get(var, 0) >= 3
            if generic:
                return BRANCH if side_by_side else KEPT
            if var in loop_results or var in made_up:  # ``sigmoid`` still says something
                if side_by_side:
                    return BRANCH
                if var in loop_results and var not in added:
                    # One input's stack of blocks, read by another input's path: not a
                    # shortcut, what that input became (``encoder_outputs``).
                    return _outputs_of(sources.get(var, set()))
                if var in loop_results or var in added:
                    return KEPT
            return var
        return MAIN

    staying = _staying_main(events, defined, last_read, kept, branch_of, base_of, fixed)
    holder: dict[str, str] = {var: var for var in fixed}  # name -> variable holding it now
    names: dict[str, str] = {var: var for var in fixed}
    branch_names: dict[str, str] = {}  # a branch's kept tensor -> the branch's name
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
            terminal = branch_of.get(target, target)
            name = branch_names.get(terminal)
            if name is None or name in holder:
                base = base_of(terminal)
                if terminal in staying and MAIN not in holder:
                    base = MAIN
                if base == MAIN and MAIN in holder:  # not ``x_1`` beside ``x``
                    base = _beside_main(terminal, events[defined[terminal]], layers, joined)
                name = _free(base, holder, taken)
                branch_names[terminal] = name
            names[target] = name
            if target in last_read and last_read[target] > index:
                holder[name] = target
    return dataclasses.replace(
        model,
        steps=tuple(_loops_carry_x(_renamed_steps(model.steps, names), fixed, model.outputs)),
        outputs=rename_variables(model.outputs, names),
    )


def _short_branch_first(model: ModelIR) -> tuple[Step, ...]:
    """Of two chains from one tensor that are added together, the shorter one first: it
    is the shortcut (``shortcut = conv(inputs)``), kept aside while the longer one runs as
    ``x``, as a person writes a residual block; in keras.io's U-Net the main path comes
    first and would be the tensor kept aside. Steps only move earlier past steps that
    do not feed them, so the model computes the same."""
    steps = list(model.steps)
    layers = {layer.attr: layer for layer in model.layers}
    readers: dict[str, int] = {}
    for assign in all_assigns(model.steps):
        for var in set(variables_in(assign.value)):
            readers[var] = readers.get(var, 0) + 1
    for var in variables_in(model.outputs):
        readers[var] = readers.get(var, 0) + 1
    producer = _producers(steps)
    index = 0
    while index < len(steps):
        step = steps[index]
        index += 1
        if not isinstance(step, Assign) or not joins(
            step.value, layers, frozenset({"add"}), frozenset({"Add"})
        ):
            continue
        operands = list(dict.fromkeys(variables_in(step.value)))
        if len(operands) != 2:
            continue
        chains = [
            c for operand in operands if (c := _chain(steps, producer, operand, readers)) and c[0]
        ]
        if len(chains) != 2:
            continue
        (first, source_a), (second, source_b) = sorted(chains, key=lambda c: c[0][0])
        if source_a != source_b or len(second) >= len(first) or second[0] < first[-1]:
            continue
        moved = [steps[i] for i in second]
        skipped = set(second)
        rest = [s for i, s in enumerate(steps) if i not in skipped]
        steps = rest[: first[0]] + moved + rest[first[0] :]
        producer = _producers(steps)
    return tuple(steps)


def _producers(steps: list[Step]) -> dict[str, int]:
    """Each variable a top-level step of one target defines -> that step's index; an
    optional part (``if self.use_conv: ... else: x = inputs``) defines what both of its
    branches end with."""
    found: dict[str, int] = {}
    for i, s in enumerate(steps):
        if isinstance(s, Assign) and not s.unpack and len(s.targets) == 1:
            found[s.targets[0]] = i
        elif isinstance(s, When) and s.body and s.orelse:
            ends = {s.body[-1].targets, s.orelse[-1].targets}
            if len(ends) == 1 and len(target := next(iter(ends))) == 1:
                found[target[0]] = i
    return found


def _tensors_read(step: Step) -> set[str]:
    """The tensors a step reads from before it: an optional part's, in either branch
    (its condition reads block parameters, not tensors)."""
    if isinstance(step, Assign):
        return set(variables_in(step.value))
    assert isinstance(step, When)
    read: set[str] = set()
    for branch in (step.body, step.orelse):
        defined: set[str] = set()
        for assign in branch:
            read.update(set(variables_in(assign.value)) - defined)
            defined.update(assign.targets)
    return read


def _chain(
    steps: list[Step], producer: dict[str, int], tail: str, readers: dict[str, int]
) -> tuple[list[int], str] | None:
    """The top-level steps, in order, of the chain that ends in ``tail``: each reads one
    tensor that only it reads; and the tensor the chain starts from."""
    chain: list[int] = []
    current = tail
    while current in producer and readers.get(current, 0) == 1:
        read = _tensors_read(steps[producer[current]])
        if len(read) != 1:
            return None
        chain.append(producer[current])
        current = read.pop()
    return sorted(chain), current


def _branches(
    events: list[_Event],
    reads: dict[str, list[int]],
    last_read: dict[str, int],
    kept: set[str],
    fixed: set[str],
) -> dict[str, str]:
    """Each tensor of a branch -> the branch's kept tensor, whose name it takes.

    A branch is a chain of single-tensor steps in one body, each read only by the next,
    that starts by reading a tensor read again after it (``conv(x)`` while ``x`` feeds
    other branches) and ends in a tensor kept aside: ``shortcut = conv(x);
    shortcut = norm(shortcut)`` rather than ``y = conv(x); shortcut = norm(y)``.
    """
    producer: dict[str, int] = {}  # the first definition: an optional part's own steps
    for index, event in enumerate(events):
        if len(event.targets) == 1 and not event.unpack:
            producer.setdefault(event.targets[0], index)
    branch_of: dict[str, str] = {}
    # The latest first: a tensor kept aside inside a longer branch belongs to that branch.
    for terminal in sorted(kept, key=lambda v: (-producer.get(v, -1), v)):
        if terminal not in producer or terminal in fixed or terminal in branch_of:
            continue
        chain = [terminal]
        event = events[producer[terminal]]
        while len(set(event.reads)) == 1:
            source = event.reads[0]
            head = producer.get(source)
            if (
                head is None
                or source in fixed
                or source in branch_of
                or len(reads.get(source, [])) != 1
                or events[head].container != event.container
            ):
                break
            chain.append(source)
            event = events[head]
        sources = set(event.reads)
        if len(chain) > 1 and len(sources) == 1:
            (source,) = sources
            if last_read.get(source, -1) > event.read_at:
                branch_of.update((var, terminal) for var in chain)
    return branch_of


def _gates(events: list[_Event], layers: dict[str, LayerSpec], kept: set[str]) -> set[str]:
    """Tensors that scale a tensor kept aside: ``x * gate``, Keras's squeeze-and-excitation
    (``se = ...(x); x = multiply([x, se])``), where ``x`` stays the main path."""
    found = set()
    for event in events:
        read = set(event.reads)
        if len(read) != 2 or not joins(event.value, layers, SCALING_FUNCTIONS, SCALING_LAYERS):
            continue
        scaled = read & kept
        if len(scaled) == 1:
            found |= read - scaled - kept
    return found


def _staying_main(
    events: list[_Event],
    defined: dict[str, int],
    last_read: dict[str, int],
    kept: set[str],
    branch_of: dict[str, str],
    base_of: Callable[[str], str],
    fixed: set[str],
) -> set[str]:
    """Tensors kept aside that can stay ``x``: no other ``x`` is defined while they live
    (every reader but the last starts a branch of its own name), as the tensor that
    several Inception branches read. The outermost wins where such tensors nest."""
    mains = [0] * (len(events) + 1)  # mains[i]: how many ``x`` events[:i] define
    for var, index in defined.items():
        if base_of(branch_of.get(var, var)) == MAIN:
            mains[index + 1] += 1
    for index in range(len(events)):
        mains[index + 1] += mains[index]
    staying: set[str] = set()
    free_from = 0  # a tensor that stays ``x`` lives until here
    for var in sorted(kept, key=lambda v: (defined[v], v)):
        start, stop = defined[var], last_read.get(var, -1)
        if var in fixed or start < free_from or stop > len(events) - 1:
            continue
        if events[start].unpack or len(events[start].targets) != 1:
            continue  # one part of an unpacking is no main path
        if stop > start and mains[stop] - mains[start + 1] == 0:
            staying.add(var)
            free_from = stop
    return staying


def joins(
    value: Value, layers: dict[str, LayerSpec], functions: frozenset, classes: frozenset
) -> bool:
    """A call of one of the ``functions`` (``keras.ops.concatenate``) or of a layer of one
    of the ``classes``; ``+`` counts as ``add`` and ``*`` as ``multiply``."""
    if isinstance(value, BinOp):
        return (value.op == "+" and "add" in functions) or (
            value.op == "*" and "multiply" in functions
        )
    if not isinstance(value, Call):
        return False
    func = value.func
    if isinstance(func, Symbol):
        return func.qualname.rsplit(".", 1)[-1] in functions
    if isinstance(func, SelfAttr) and func.attr in layers:
        constructor = layers[func.attr].constructor
        if isinstance(constructor, Call) and isinstance(constructor.func, Symbol):
            return constructor.func.qualname.rsplit(".", 1)[-1] in classes
    return False


def _loop_results(steps: tuple[Step, ...]) -> set[str]:
    """Variables a loop of blocks assigns: named after one instance only."""
    return {t for step in steps if isinstance(step, ForEach) for a in step.body for t in a.targets}


def _sources(events: list[_Event], inputs: set[str]) -> dict[str, set[str]]:
    """The model inputs each variable is computed from."""
    found: dict[str, set[str]] = {var: {var} for var in inputs}
    for event in events:
        came_from = set().union(*(found.get(var, set()) for var in event.reads))
        for target in event.targets:
            found[target] = found.get(target, set()) | came_from
    return found


def _outputs_of(sources: set[str]) -> str:
    """What a stack of blocks kept for later is called: after its one input of several
    (``encoder_inputs`` → ``encoder_outputs``), else ``shortcut`` (in a single-input
    model a custom layer may add it back: InceptionResNetV2's scaled sum)."""
    if len(sources) != 1:
        return KEPT
    stem = re.sub(r"_?(inputs?|ids|tokens)$", "", next(iter(sources)))
    return f"{stem}_outputs" if stem else KEPT


def _events(steps: tuple[Step, ...]) -> list[_Event]:
    events: list[_Event] = []
    containers = iter(range(1, 1 << 30))

    def add(inner: Assign, container: int, read_at: int | None = None) -> None:
        at = len(events) if read_at is None else read_at
        reads = variables_in(inner.value)
        events.append(_Event(reads, inner.targets, inner.unpack, inner.value, container, at))

    for step in steps:
        if isinstance(step, Assign):
            add(step, 0)
        elif isinstance(step, ForEach):
            body = next(containers)
            for inner in step.body:
                add(inner, body)
        else:
            assert isinstance(step, When), "stage loops are made after naming"
            begins = len(events)
            body, orelse = next(containers), next(containers)
            for inner in step.body:
                add(inner, body)
            for inner in step.orelse:
                add(inner, orelse, begins)
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


def _beside_main(var: str, event: _Event, layers: dict[str, LayerSpec], joined: set) -> str:
    """A second tensor computed while ``x`` lives: a ``branch`` where they are set side
    by side, else named for the layer that makes it (``attention = self.attention(x,
    x)``, then ``x = x + attention``), else ``x_1``."""
    if var in joined:
        return BRANCH
    value = event.value
    if not event.unpack and isinstance(value, Call) and isinstance(value.func, SelfAttr):
        layer = layers.get(value.func.attr)
        if layer is not None:
            return layer_word(layer.class_label)
    return MAIN


def _masks(events: list[_Event]) -> dict[str, str]:
    """Tensors every reader takes as one mask keyword (``mask=``, ``attention_mask=``):
    named for it, not ``x``, as ``mask = keras.ops.not_equal(inputs, 0)``."""
    keywords: dict[str, set[str | None]] = {}
    for event in events:
        as_keyword: dict[str, int] = {}
        for node in iter_values(event.value):
            if isinstance(node, Call):
                for key, arg in node.kwargs:
                    if isinstance(arg, Name):
                        keywords.setdefault(arg.id, set()).add(key)
                        as_keyword[arg.id] = as_keyword.get(arg.id, 0) + 1
        for var in set(event.reads):
            if event.reads.count(var) > as_keyword.get(var, 0):  # also read otherwise
                keywords.setdefault(var, set()).add(None)
    found = {}
    for var, keys in keywords.items():
        (only,) = keys if len(keys) == 1 else (None,)
        if only is not None and only.endswith("mask"):
            found[var] = only
    return found


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


def _loops_carry_x(steps: list[Step], fixed: set[str], outputs: Value) -> list[Step]:
    """``for block in ...: x = block(x)`` then ``shortcut = x``, rather than ``shortcut = x``
    and a loop over ``shortcut``: a loop whose result is kept aside runs on the tensor it
    starts from when nothing reads that tensor again."""
    out = list(steps)
    for index in range(len(out) - 1):
        alias, loop = out[index], out[index + 1]
        if not (
            isinstance(alias, Assign)
            and isinstance(loop, ForEach)
            and len(alias.targets) == 1
            and not alias.unpack
            and isinstance(alias.value, Name)
            and alias.value.id not in fixed
        ):
            continue
        kept, start = alias.targets[0], alias.value.id
        carried = {t for a in loop.body for t in a.targets} | {
            v for a in loop.body for v in variables_in(a.value)
        }
        if carried - {kept, loop.var} or not _overwritten_first(out[index + 2 :], start, outputs):
            continue
        mapping = {kept: start}
        body = tuple(
            Assign(
                tuple(mapping.get(t, t) for t in a.targets),
                rename_variables(a.value, mapping),
                a.unpack,
            )
            for a in loop.body
        )
        out[index] = ForEach(loop.var, loop.attr, body)
        out[index + 1] = Assign((kept,), Name(start))
    return out


def _overwritten_first(steps: list[Step], var: str, outputs: Value) -> bool:
    """Whether the steps assign ``var`` before anything reads it (and it is no output)."""
    for step in steps:
        inner = [step] if isinstance(step, Assign) else [*step.body, *getattr(step, "orelse", ())]
        if isinstance(step, When) and var in variables_in(step.condition):
            return False
        if any(var in variables_in(a.value) for a in inner):
            return False
        if any(var in a.targets for a in inner):
            return isinstance(step, Assign)  # a conditional assignment may not happen
    return var not in variables_in(outputs)


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
            assert isinstance(step, When), "stage loops are made after naming"
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
