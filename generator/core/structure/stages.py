"""Writes the instances of a block as the model's constructor would: stage by stage.

A run of instances splits into stages, each a first block and a tail of identical ones
(ResNet: the first block of a stage strides and convolves its shortcut). What changes
from stage to stage becomes a hyperparameter of the model (``stage_filters=(64, 128,
...)``, ``stage_depths=(3, 4, 6, 3)``); the block names follow the same loop indices
(``f"conv{s + 2}_block{i + 1}"``). Where that does not fit, each instance is written out.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from generator.core.ir import (
    BinOp,
    Call,
    Compare,
    Comprehension,
    FormattedName,
    IfExp,
    ListValue,
    Name,
    Param,
    SliceValue,
    Subscript,
    Symbol,
    Value,
    iter_values,
)
from generator.core.naming import NameRegistry
from generator.core.structure.blocks import NAMES_PARAM, Blocks
from generator.core.structure.dataflow import substitute
from generator.core.structure.heads import CLASSIFIER_DROPOUT
from generator.core.structure.progressions import (
    GLOBAL_INDEX,
    TOTAL_BLOCKS,
    affine,
    linear,
    plus,
    rate_mark,
    schedule,
    scheduled,
)

MIN_LOOPED_BLOCKS = 3  # two blocks are a stage of a first and one more
MAX_LOOPED_VALUES = 2  # tuples of one entry per block, beyond which blocks are written out


@dataclass(frozen=True)
class Construction:
    """The constructor expression of a block list and the model parameters it reads."""

    constructor: Value
    params: tuple[Param, ...]
    names: tuple[str, ...]  # each instance's Keras name


def construct(
    blocks: Blocks,
    names: Sequence[str] | None,
    attr: str,
    params: NameRegistry,
    *,
    base: str = "block",
    taken: frozenset[str] = frozenset(),
    counted: bool = True,
) -> Construction:
    """The list of ``blocks``' instances as the constructor builds it.

    ``names`` are the instances' Keras names; None lets this choose them, after ``base``
    and the loop indices, avoiding ``taken``. ``params`` hands out the model's constructor
    parameter names. Without ``counted``, a list of like instances has its length
    written in, not a ``num_`` parameter (the model's call indexes each instance).
    """
    count = len(blocks.params[0].values) if blocks.params else len(names or ())
    values = [{p.name: p.values[k] for p in blocks.params} for k in range(count)]
    counters = {p.name for p in blocks.params if p.counter}
    # A value counting along the whole list (a dropout rate rising block by block) is
    # one expression of the block's position, not a per-stage value.
    progressing: dict[str, Value] = {
        p.name: found
        for p in blocks.params
        if not (p.counter or p.flag) and (found := linear(p.values, p.known)) is not None
    }
    schedules = {
        p.name: rate
        for p in blocks.params
        if not (p.counter or p.flag) and (rate := schedule(p.values, p.known)) is not None
    }
    counted_along = progressing.keys() | schedules.keys()
    for counting in (counted_along, set()) if counted_along else (set(),):
        rows = [
            {k: v for k, v in row.items() if k not in counters | counting}
            | {hint.name: hint.values[k] for hint in blocks.hints}
            for k, row in enumerate(values)
        ]
        stages = _stages(rows)
        # Any two blocks are a "first, then identical" pair: stages of two are real when
        # some stage repeats a block, or when no value needs both a per-stage first and a
        # per-stage rest (ResNet18's stages of two: one width per stage, the first block
        # strides); else 24 stages of two say nothing.
        repeated = any(stop - start >= 3 for start, stop in stages)
        splits = [stages] if len(stages) == 1 or len(stages) <= count // 2 else []
        if count >= MIN_LOOPED_BLOCKS and counted:
            # One loop over the blocks; not for a list ``call`` reads entry by entry (between
            # stages): a tuple of another length would not change what ``call`` reads.
            splits.append([(k, k + 1) for k in range(count)])
        for split in splits:
            chosen = names or _made_up(base, split if split is stages else [(0, count)], taken)
            built = _staged(
                blocks,
                values,
                split,
                chosen,
                attr,
                params,
                {name: found for name, found in progressing.items() if name in counting},
                {name: rate for name, rate in schedules.items() if name in counting},
                two_per_stage=repeated,
                length_parameter=counted,
            )
            if built is not None:
                return built
    chosen = names or _made_up(base, [(0, count)], taken)
    calls = tuple(_element(blocks, row, n) for row, n in zip(values, chosen, strict=True))
    return Construction(ListValue(calls), (), tuple(chosen))


def _made_up(base: str, stages: list[tuple[int, int]], taken: frozenset[str]) -> list[str]:
    """``block_1``… (one stage) or ``block_2_1``… (stage, then block): names no other layer
    of the model has."""
    number = 0
    while True:
        stem = base if number == 0 else f"{base}{number}"
        if len(stages) == 1:
            names = [f"{stem}_{i + 1}" for i in range(stages[0][1] - stages[0][0])]
        else:
            names = [
                f"{stem}_{s + 1}_{i + 1}"
                for s, (start, stop) in enumerate(stages)
                for i in range(stop - start)
            ]
        if not taken.intersection(names):
            return names
        number += 1


def _typed(row: dict[str, Any]) -> tuple:
    """A row compared by type and value: ``1``, ``1.0`` and ``True`` differ here."""
    return tuple((key, type(value).__name__, repr(value)) for key, value in row.items())


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and repr(a) == repr(b)


def _stages(values: list[dict[str, Value]]) -> list[tuple[int, int]]:
    """Split into the fewest groups of [first, then identical ones] (a first block alone
    is a group too: MobileNetV2's first block is a stage of one)."""
    rows = [_typed(row) for row in values]
    count = len(rows)
    alike = [1] * (count + 1)  # rows from j on equal to row j
    for j in range(count - 2, -1, -1):
        if rows[j] == rows[j + 1]:
            alike[j] = alike[j + 1] + 1
    # Per end: (stages, stages whose first block is like the rest, where that stage starts).
    # Among splits into equally few stages, a first block that is like the others (or
    # like the block before it) is no first block: [b2, b3], [b4, b5] with b4 == b5
    # loses to [b1, b2], [b3, b4, b5]. Stages start only next to where the rows change
    # (inside a run of equal rows a start is never better), so a run of 5,000 equal
    # blocks costs one step, not 5,000 squared.
    changes = [j for j in range(1, count) if rows[j] != rows[j - 1]]
    starts = sorted({0} | {k for j in changes for k in (j - 1, j, j + 1) if 0 <= k < count})
    ends = sorted({*starts, count} - {0})
    best: dict[int, tuple[int, int, int]] = {0: (0, 0, 0)}
    for start in starts:
        if start not in best:
            continue
        longest = start + 1 + (alike[start + 1] if start + 1 < count else 0)
        for stop in ends[bisect.bisect_right(ends, start) : bisect.bisect_right(ends, longest)]:
            plain = (stop - start > 1 and rows[start] == rows[start + 1]) or (
                start > 0 and rows[start] == rows[start - 1]
            )
            cost = (best[start][0] + 1, best[start][1] + plain, start)
            if stop not in best or cost[:2] < best[stop][:2]:
                best[stop] = cost
    stages = []
    stop = count
    while stop:
        start = best[stop][2]
        stages.append((start, stop))
        stop = start
    return stages[::-1]


def _rate_parameters(
    blocks: Blocks, schedules: dict[str, float], attr: str, params: NameRegistry
) -> dict[str, Param]:
    """The model parameter each scheduled rate rises to, named after the layer that
    reads it (``drop_rate``: the ``rate`` of the block's ``drop``), never the
    classifier's ``dropout_rate``."""
    found = {}
    for name, rate in schedules.items():
        readers = [
            layer
            for layer in (blocks.block.layers if blocks.block is not None else ())
            if Name(name) in iter_values(layer.constructor)
        ]
        wanted = readers[0].attr if len(readers) == 1 else ""
        wanted = wanted if wanted.endswith(name) else f"{wanted}_{name}".lstrip("_")
        model_name = params.claim("drop_rate" if wanted == CLASSIFIER_DROPOUT else wanted)
        layer = f"the {readers[0].class_label}" if len(readers) == 1 else "the layers"
        doc = (
            f"``{name}`` of {layer} in each of {attr}, rising to it: block n of N takes "
            f"{model_name} * n / N"
        )
        found[name] = Param(model_name, rate, doc=doc)
    return found


def _staged(
    blocks: Blocks,
    values: list[dict[str, Any]],
    stages: list[tuple[int, int]],
    names: Sequence[str],
    attr: str,
    params: NameRegistry,
    progressing: dict[str, Value],
    schedules: dict[str, float],
    two_per_stage: bool = True,
    length_parameter: bool = True,
) -> Construction | None:
    """The comprehension over stages, or None where it does not fit (``two_per_stage``:
    whether a value may take a per-stage tuple for the first blocks and one for the
    rest). ``progressing`` and ``schedules`` count along the whole list; a schedule becomes
    a model parameter only over stages, where the list is all of a network's blocks and
    its length follows ``stage_depths`` (a list between stages, one run of several, or a
    stage of its own would make it a parameter of some blocks only)."""
    loop = NameRegistry({"s", "i"}, "value")
    stage_var, index_var = Name("s"), Name("i")
    many = len(stages) > 1
    # Every block differs from the one before (a U-Net's widths 256, 128, 64, 32): one
    # loop over the blocks, each value a tuple with one entry per block.
    per_block = many and all(stop - start == 1 for start, stop in stages)
    depth_var = Name(loop.claim("depth"))
    depths = tuple(stop - start for start, stop in stages)
    zipped: list[_Zipped] = []
    expressions: dict[str, Value] = {}
    for param in blocks.params:
        if param.name in schedules and many and not per_block:
            expressions[param.name] = scheduled(param.name)
            continue
        if param.name in progressing and not per_block:
            # (in one loop over the blocks the tuple sets their number: a width counting
            # along would be computed past its end, so it is a tuple too)
            expressions[param.name] = progressing[param.name]
            continue
        if param.name in schedules:
            return None  # only a schedule fits this value, and not here
        if param.counter and per_block:
            along = linear(param.values, param.known)
            if along is None:
                return None
            expressions[param.name] = along
            continue
        if param.counter:
            counted = _counted(param.name, values, stages, zipped, loop, index_var)
            if counted is None:
                return None
            expressions[param.name] = counted
            continue
        column = [row[param.name] for row in values]
        if (
            many
            and param.flag
            and all(v is column[1] for v in column[2:])
            and column[0] != column[1]
        ):
            # Only the very first block differs (MobileNetV2's expands nothing).
            test = _first_block(stage_var, index_var, many and not per_block)
            expressions[param.name] = test if column[0] else Compare(test.left, "!=", test.right)
            continue
        heads = [values[start][param.name] for start, _ in stages]
        tails = [values[start + 1][param.name] for start, stop in stages if stop - start > 1]
        tail_of = {
            s: values[start + 1][param.name]
            for s, (start, stop) in enumerate(stages)
            if stop - start > 1
        }
        uniform = all(_same(heads[s], tail) for s, tail in tail_of.items())
        # Layer names are no hyperparameter: written in the loop, as the numbering is.
        naming = param.name == NAMES_PARAM
        if uniform:
            expressions[param.name] = _per_stage(param.name, heads, zipped, loop, inline=naming)
            continue
        if len({(type(t).__name__, repr(t)) for t in tails}) == 1:
            tail = tails[0]
            head = _per_stage(param.name, heads, zipped, loop, inline=naming)
            if head is True and tail is False:
                expressions[param.name] = Compare(index_var, "==", 0)
            elif head is False and tail is True:
                expressions[param.name] = Compare(index_var, "!=", 0)
            else:
                expressions[param.name] = IfExp(Compare(index_var, "==", 0), head, tail)
            continue
        if not many or not two_per_stage:
            return None
        tails_per_stage = [tail_of.get(s, heads[s]) for s in range(len(stages))]
        head = _per_stage(f"first_{param.name}", heads, zipped, loop, inline=naming)
        rest = _per_stage(param.name, tails_per_stage, zipped, loop, inline=naming)
        expressions[param.name] = IfExp(Compare(index_var, "==", 0), head, rest)
    name = _name_pattern(names, [(0, len(names))] if per_block else stages, stage_var, index_var)
    if name is None:
        return None
    element: Value = _element(blocks, expressions, name)
    if per_block:
        return _looped_blocks(element, zipped, attr, params, index_var, tuple(names))
    if not many:
        element = substitute(element, {GLOBAL_INDEX.id: index_var})
        if not length_parameter:
            length = Call(Symbol("", "range"), (depths[0],))
            return Construction(Comprehension(element, ((index_var, length),)), (), tuple(names))
        count = params.claim(f"num_{attr}")
        constructor = Comprehension(
            element, ((index_var, Call(Symbol("", "range"), (Name(count),))),)
        )
        return Construction(
            constructor,
            (Param(count, depths[0], doc=f"blocks in {attr}"),),
            tuple(names),
        )
    zipped.append(_Zipped(depth_var, "depths", depths))
    model_params: list[Param] = []
    iterables: list[Value] = []
    for entry in zipped:
        if entry.inline:
            iterables.append(entry.values)
            continue
        model_name = params.claim(f"stage_{entry.wanted}")
        model_params.append(
            Param(model_name, entry.values, doc=_param_doc(entry.wanted, attr, many))
        )
        iterables.append(Name(model_name))
    # A block's position in the whole list: the depths of the stages before, plus i.
    rates = _rate_parameters(blocks, schedules, attr, params)
    element = substitute(element, {rate_mark(p): Name(rates[p].name) for p in rates})
    before = Call(Symbol("", "sum"), (Subscript(iterables[-1], SliceValue(None, stage_var)),))
    element = substitute(element, {GLOBAL_INDEX.id: BinOp("+", before, index_var)})
    element = substitute(element, {TOTAL_BLOCKS.id: Call(Symbol("", "sum"), (iterables[-1],))})
    targets = tuple(entry.variable for entry in zipped)
    # strict: stage tuples of different lengths are a mistake, not a shorter network
    zip_call = Call(Symbol("", "zip"), tuple(iterables), (("strict", True),))
    uses_stage = any(n == stage_var for n in _names_in(element))
    target: Value = targets if len(targets) > 1 else targets[0]
    iterable: Value = zip_call if len(targets) > 1 else iterables[0]
    outer = (
        ((stage_var, target), Call(Symbol("", "enumerate"), (iterable,)))
        if uses_stage
        else (target, iterable)
    )
    inner = (index_var, Call(Symbol("", "range"), (depth_var,)))
    return Construction(
        Comprehension(element, (outer, inner)),
        (*model_params, *rates.values()),
        tuple(names),
    )


def _looped_blocks(
    element: Value,
    zipped: list[_Zipped],
    attr: str,
    params: NameRegistry,
    index_var: Name,
    names: tuple[str, ...],
) -> Construction | None:
    """``[Block(filters=filters, ...) for i, filters in enumerate(block_filters)]``: one
    entry per block in each tuple, as Keras's own U-Net loops ``for filters in [256, 128,
    64, 32]``. None where more than MAX_LOOPED_VALUES values would each need a tuple,
    or a value that is no number would (written out, the blocks read better)."""
    if (
        Name("s") in _names_in(element)
        or not zipped
        or len(zipped) > MAX_LOOPED_VALUES
        or any(entry.inline for entry in zipped)  # a layer-numbering counter off its line
    ):
        return None
    if not all(_numeric(v) for entry in zipped for v in entry.values):
        return None  # a flag is structure and a name is naming: neither is tuned
    stem = re.sub(r"s(_\d+)?$", r"\1", attr)  # conv_blocks_1 → conv_block_1
    model_params = tuple(
        Param(
            params.claim(f"{stem}_{entry.wanted}"),
            entry.values,
            doc=f"{entry.wanted} of each of {attr}",
        )
        for entry in zipped
    )
    iterables = [Name(p.name) for p in model_params]
    targets = tuple(entry.variable for entry in zipped)
    element = substitute(element, {GLOBAL_INDEX.id: index_var})
    target: Value = targets if len(targets) > 1 else targets[0]
    iterable: Value = (
        Call(Symbol("", "zip"), tuple(iterables), (("strict", True),))
        if len(iterables) > 1
        else iterables[0]
    )
    clause = (
        ((index_var, target), Call(Symbol("", "enumerate"), (iterable,)))
        if index_var in _names_in(element)
        else (target, iterable)
    )
    return Construction(Comprehension(element, (clause,)), model_params, names)


def _numeric(value: Any) -> bool:
    """A number, or a tuple of numbers (a block's widths): what a person tunes."""
    if isinstance(value, tuple):
        return bool(value) and all(_numeric(v) for v in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Zipped:
    """A value that changes from stage to stage: its loop variable, the model parameter
    it comes from (or, ``inline``, a literal: Keras's layer numbering is no
    hyperparameter), and its value per stage."""

    variable: Name
    wanted: str
    values: tuple
    inline: bool = False


def _counted(
    name: str,
    values: list[dict[str, Any]],
    stages: list[tuple[int, int]],
    zipped: list[_Zipped],
    loop: NameRegistry,
    index_var: Name,
) -> Value | None:
    """A layer-numbering counter: ``first + step * i`` in every stage, or None."""
    steps = set()
    firsts = []
    for start, stop in stages:
        run = [values[k][name] for k in range(start, stop)]
        firsts.append(run[0])
        if len(run) > 1:
            step = run[1] - run[0]
            if any(v != run[0] + step * i for i, v in enumerate(run)):
                return None
            steps.add(step)
    if len(steps) > 1:
        return None
    step = steps.pop() if steps else 0
    if len(set(firsts)) == 1:
        first: Value = firsts[0]
    else:
        first = Name(loop.claim(name))
        zipped.append(_Zipped(first, name, tuple(firsts), inline=True))
    return first if step == 0 else affine(first, step, index_var)


def _per_stage(
    wanted: str,
    per_stage: list[Value],
    zipped: list[_Zipped],
    loop: NameRegistry,
    inline: bool = False,
) -> Value:
    """A value that is the same everywhere is written as it is; one that changes per
    stage becomes a loop variable over a model parameter (``inline``: over a literal)."""
    if len({(type(v).__name__, repr(v)) for v in per_stage}) == 1:
        return per_stage[0]
    variable = Name(loop.claim(wanted))
    plural = wanted if wanted.endswith("s") else f"{wanted}s"
    zipped.append(_Zipped(variable, plural, tuple(per_stage), inline=inline))
    return variable


def _param_doc(wanted: str, attr: str, many: bool) -> str:
    if wanted == "depths":
        return f"blocks in each stage of {attr}"
    return f"{wanted} of each stage of {attr}" if many else f"{wanted} of {attr}"


def _element(blocks: Blocks, expressions: dict[str, Value], name: Value) -> Call:
    if blocks.template is not None:
        call = substitute(blocks.template, expressions)
        assert isinstance(call, Call)
        return Call(call.func, call.args, (*call.kwargs, ("name", name)))
    kwargs = tuple((p.name, expressions[p.name]) for p in blocks.params)
    return Call(blocks.element, (), (*kwargs, ("name", name)))


def _names_in(value: Value) -> list[Name]:
    return [v for v in iter_values(value) if isinstance(v, Name)]


def _name_pattern(names: Sequence[str], stages, stage_var: Name, index_var: Name) -> Value | None:
    """An f-string of the loop indices that gives every instance's name, or None.

    A number counts stages (``conv{s + 2}``), blocks within a stage (``block{i + 1}``) or
    blocks along the whole list (``block_{n}``: ``GLOBAL_INDEX``); a letter that counts
    blocks in a stage is ``chr(i + 97)`` (EfficientNet's ``block2a``, ``block2b``)."""
    coordinates = [
        (s, i, start + i) for s, (start, stop) in enumerate(stages) for i in range(stop - start)
    ]
    axes = ((stage_var, 0), (index_var, 1), (GLOBAL_INDEX, 2))
    pattern = _pattern(names, coordinates, axes)
    if pattern is None and len(names) > 2:
        # The first block named apart (MobileNetV2's ``expanded_conv``, then ``block_1``...)
        rest = _pattern(names[1:], coordinates[1:], axes)
        if rest is not None:
            return IfExp(_first_block(stage_var, index_var, len(stages) > 1), names[0], rest)
    return pattern


def _first_block(stage_var: Name, index_var: Name, many: bool) -> Compare:
    """Whether the loop is at the very first block: ``(s, i) == (0, 0)``."""
    return Compare((stage_var, index_var), "==", (0, 0)) if many else Compare(index_var, "==", 0)


def _pattern(names: Sequence[str], coordinates, axes) -> Value | None:
    split = [re.split(r"(\d+)", name) for name in names]
    if len({len(parts) for parts in split}) != 1:
        return None
    parts: list[Value] = []
    for position, column in enumerate(zip(*split, strict=True)):
        if position % 2 == 0:
            if len(set(column)) == 1:
                if column[0]:
                    parts.append(column[0])
                continue
            lettered = _lettered(column, coordinates, axes)
            if lettered is None:
                return None
            parts.extend(lettered)
            continue
        if any(len(d) > 1 and d.startswith("0") for d in column):
            return None
        numbers = [int(d) for d in column]
        if len(set(numbers)) == 1:
            parts.append(column[0])
            continue
        counted = _counting(numbers, coordinates, axes)
        if counted is None:
            return None
        parts.append(counted)
    if not any(isinstance(p, (Name, BinOp, Call)) for p in parts):
        return None
    merged: list[Value] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    return FormattedName(tuple(merged))


def _counting(numbers: list[int], coordinates, axes) -> Value | None:
    """``variable + offset`` for the first axis the numbers count along, or None."""
    for variable, axis in axes:
        offsets = {n - c[axis] for n, c in zip(numbers, coordinates, strict=True)}
        if len(offsets) == 1:
            return plus(variable, offsets.pop())
    return None


def _lettered(column: Sequence[str], coordinates, axes) -> list[Value] | None:
    """Text that ends in a letter counting blocks: the text, then ``chr(n + 97)``."""
    stems = {text[:-1] for text in column}
    if len(stems) != 1 or not all(text and "a" <= text[-1] <= "z" for text in column):
        return None
    counted = _counting([ord(text[-1]) for text in column], coordinates, axes)
    if counted is None:
        return None
    stem = stems.pop()
    return [*([stem] if stem else []), Call(Symbol("", "chr"), (counted,))]
