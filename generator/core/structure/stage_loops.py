"""Stages of blocks as one loop: ``for s, blocks in enumerate(self.stages)``.

ConvNeXt runs four lists of one block class with a downsampling layer between each two;
Keras's own ``convnext.py`` loops over the stages, downsampling (after the first) and
then running the stage's blocks. After ``merged_depths`` the lists read one
``stage_depths`` tuple; this pass makes them one list of lists and their calls one loop:

    self.stages = [
        [Block(name=f"stage_{s}_block_{i}") for i in range(depth)]
        for s, depth in enumerate(stage_depths)
    ]
    ...
    for s, blocks in enumerate(self.stages):
        if s > 0:
            x = self.downsampling_blocks[s - 1](x, training=training)
        for block in blocks:
            x = block(x)

It applies only to three stages or more (two sets of steps between them, so numbers can
be seen counting), where the lists differ in nothing but the stage number (counting by
one, in their blocks' names and in ``stage_depths[s]``) and the steps between each two
lists differ in nothing but a number counting by one (the index of a list they call,
``self.downsampling_blocks[0]``, ``[1]``, ...). Lists with nothing between them are one
list already (``stages.py``). The pass runs last: passes before it never see a ``Loop``.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    Check,
    Compare,
    Comprehension,
    ForEach,
    FormattedName,
    LayerSpec,
    Loop,
    ModelIR,
    Name,
    Param,
    SelfAttr,
    Step,
    Subscript,
    Symbol,
    When,
    iter_values,
    step_targets,
    step_values,
)
from generator.core.naming import attribute_registry
from generator.core.structure.dataflow import KEEP, transform

STAGE, DEPTH, BLOCKS = "s", "depth", "blocks"  # the loops' own names
# Steps between stages that show their numbers counting: with one, ``[1]`` stays ``[1]``
# and the loop would hold for the default stages only.
MIN_BETWEEN = 2
_RANGE, _ENUMERATE, _LEN = Symbol("", "range"), Symbol("", "enumerate"), Symbol("", "len")


class _Differs(Exception):
    """Instances differ in more than a number counting with the stage."""


def stage_loops(model: ModelIR) -> ModelIR:
    """``model`` with its stages of block lists as one loop, where they are (see above)."""
    layers = {layer.attr: layer for layer in model.layers}
    loops = [i for i, step in enumerate(model.steps) if isinstance(step, ForEach)]
    for first in range(len(loops)):
        for count in range(len(loops) - first, 1, -1):  # the longest run of stages first
            positions = loops[first : first + count]
            made = _stages(model, layers, positions)
            if made is not None:
                return made
    return model


def _stages(model: ModelIR, layers: dict[str, LayerSpec], positions: list[int]) -> ModelIR | None:
    steps = model.steps
    runs = [step for step in (steps[p] for p in positions) if isinstance(step, ForEach)]
    first = runs[0]
    if any(run.var != first.var or run.body != first.body for run in runs):
        return None
    between = [steps[a + 1 : b] for a, b in zip(positions, positions[1:], strict=False)]
    if len(between) < MIN_BETWEEN or not between[0]:
        return None
    if any(len(group) != len(between[0]) for group in between):
        return None
    if not all(isinstance(step, Assign) for group in between for step in group):
        return None
    attrs = [run.attr for run in runs]
    depths = _depths(model, [layers[a] for a in attrs])
    if depths is None or _read_elsewhere(model, set(attrs), positions):
        return None
    try:
        element = _unify([layers[a].constructor for a in attrs], shift=0)
        lead = tuple(
            _unified_assign([group[k] for group in between]) for k in range(len(between[0]))
        )
    except _Differs:
        return None
    inner = _with_depth(element, depths)
    if inner is None or not _free_names(model, [layers[a].constructor for a in attrs]):
        return None
    registry = attribute_registry()
    for name in [layer.attr for layer in model.layers] + [p.name for p in model.params]:
        registry.reserve(name)
    stages_attr = registry.claim("stages")
    template = layers[attrs[0]]
    stages = LayerSpec(
        stages_attr,
        stages_attr,
        Comprehension(
            inner,
            (((Name(STAGE), Name(DEPTH)), Call(_ENUMERATE, (Name(depths.name),))),),
        ),
        template.class_label,
    )
    loop = Loop(
        (Name(STAGE), Name(BLOCKS)),
        Call(_ENUMERATE, (SelfAttr(stages_attr),)),
        (
            When(Compare(Name(STAGE), ">", 0), lead),
            Loop(Name(first.var), Name(BLOCKS), first.body),
        ),
    )
    lead_values = tuple(step_values(step) for step in lead)
    counted = _counted_by_stages(model, lead_values, depths, len(runs))
    following = _lengths_following_stages(model, lead_values, set(counted))
    if following is None:
        return None
    new_layers = []
    for layer in model.layers:
        if layer.attr == attrs[0]:
            new_layers.append(stages)
        elif layer.attr in counted:
            new_layers.append(counted[layer.attr][0])
        elif layer.attr not in attrs:
            new_layers.append(layer)
    dropped = {name for _, name in counted.values() if name}
    params = tuple(
        dataclasses.replace(p, doc=f"blocks in each stage of {stages_attr}")
        if p.name == depths.name
        else p
        for p in model.params
        if p.name not in dropped
    )
    new_steps = (*steps[: positions[0]], loop, *steps[positions[-1] + 1 :])
    per_stage = BinOp("-", Call(_LEN, (Name(depths.name),)), 1)
    checks = tuple(
        Check(
            Compare(Call(_LEN, (Name(name),)), "!=", per_stage),
            f"{name} needs len({depths.name}) - 1 entries",
        )
        for name in following
    )
    return dataclasses.replace(
        model,
        layers=tuple(new_layers),
        steps=new_steps,
        params=params,
        checks=model.checks + checks,
    )


def _counted_by_stages(
    model: ModelIR, lead_values: tuple[Any, ...], depths: Param, stages: int
) -> dict[str, tuple[LayerSpec, str]]:
    """The lists the steps between stages call (``self.pools[s - 1]``) whose length is a
    parameter of its own (``range(num_pools)``, default one less than the stages), each
    rewritten to count ``range(len(stage_depths) - 1)``, with that parameter's name: a
    model built with another number of stages then has one list entry between each two."""
    read = {v.attr for v in iter_values(lead_values) if isinstance(v, SelfAttr)}
    found: dict[str, tuple[LayerSpec, str]] = {}
    for layer in model.layers:
        constructor = layer.constructor
        if layer.attr not in read or not isinstance(constructor, Comprehension):
            continue
        if len(constructor.clauses) != 1:
            continue
        target, iterable = constructor.clauses[0]
        if not (isinstance(iterable, Call) and iterable.func == _RANGE and len(iterable.args) == 1):
            continue
        count = iterable.args[0]
        if isinstance(count, Name):
            param = next((p for p in model.params if p.name == count.id), None)
            if param is None or param.default != stages - 1 or _reads(model, layer.attr, count):
                continue
        elif not isinstance(count, int) or count != stages - 1:
            continue
        between = BinOp("-", Call(_LEN, (Name(depths.name),)), 1)
        rewritten = Comprehension(constructor.element, ((target, Call(_RANGE, (between,))),))
        dropped = count.id if isinstance(count, Name) else ""
        found[layer.attr] = (dataclasses.replace(layer, constructor=rewritten), dropped)
    return found


def _lengths_following_stages(
    model: ModelIR, lead_values: tuple[Any, ...], counted: set[str]
) -> list[str] | None:
    """The parameters that the lists the steps between stages index take their lengths
    from (``downsampling_filters``): each must have one entry per stage but the first.
    None when such a list is written out entry by entry, or counted by anything else:
    it would fail on a model built with more stages. Lists ``counted`` follow the stages
    by construction."""
    indexed = {
        v.value.attr
        for v in iter_values(lead_values)
        if isinstance(v, Subscript) and isinstance(v.value, SelfAttr)
    }
    layers = {layer.attr: layer for layer in model.layers}
    params = {p.name for p in model.params}
    lengths: list[str] = []
    for attr in sorted(indexed - counted):
        constructor = layers[attr].constructor if attr in layers else None
        if not isinstance(constructor, Comprehension):
            return None
        names = [
            v.id
            for _, iterable in constructor.clauses
            for v in iter_values(iterable)
            if isinstance(v, Name) and v.id in params
        ]
        if not names:
            return None
        lengths += [name for name in names if name not in lengths]
    return lengths


def _reads(model: ModelIR, attr: str, name: Name) -> bool:
    """Whether anything but the constructor of ``attr`` reads the parameter ``name``."""
    others = tuple(layer.constructor for layer in model.layers if layer.attr != attr)
    steps = tuple(step_values(step) for step in model.steps)
    return any(v == name for v in iter_values((others, steps, model.outputs)))


def _depths(model: ModelIR, lists: list[LayerSpec]) -> Param | None:
    """The tuple parameter the lists take their lengths from, one entry per list, in order
    (``range(stage_depths[k])`` for the k-th)."""
    names = set()
    for index, layer in enumerate(lists):
        constructor = layer.constructor
        if layer.repeat or not isinstance(constructor, Comprehension):
            return None
        if len(constructor.clauses) != 1:
            return None
        _, iterable = constructor.clauses[0]
        if not (
            isinstance(iterable, Call)
            and iterable.func == _RANGE
            and len(iterable.args) == 1
            and isinstance(subscript := iterable.args[0], Subscript)
            and isinstance(subscript.value, Name)
            and subscript.key == index
        ):
            return None
        names.add(subscript.value.id)
    if len(names) != 1:
        return None
    (name,) = names
    param = next((p for p in model.params if p.name == name), None)
    if param is None or not isinstance(param.default, tuple) or len(param.default) != len(lists):
        return None
    return param


def _read_elsewhere(model: ModelIR, attrs: set[str], positions: list[int]) -> bool:
    """Whether a list is read by anything but its own loop (or a layer's constructor)."""
    others = [step for i, step in enumerate(model.steps) if i not in positions]
    read = [(SelfAttr(s.attr) if isinstance(s, ForEach) else None, step_values(s)) for s in others]
    found = iter_values((tuple(read), model.outputs))
    return any(isinstance(v, SelfAttr) and v.attr in attrs for v in found)


def _unified_assign(steps: list[Step]) -> Assign:
    assigns = [step for step in steps if isinstance(step, Assign)]
    first = assigns[0]
    if len(assigns) != len(steps) or any(
        a.targets != first.targets or a.unpack != first.unpack for a in assigns
    ):
        raise _Differs
    return Assign(first.targets, _unify([a.value for a in assigns], shift=1), first.unpack)


def _unify(values: list[Any], shift: int) -> Any:
    """One value for all ``values`` (the j-th instance's), with each number that counts
    ``n, n + 1, ...`` along them written as the stage plus a constant; the j-th instance
    is stage ``j + shift``."""
    first = values[0]
    if all(v == first and type(v) is type(first) for v in values):
        return first
    kinds = {type(v) for v in values}
    if kinds == {int}:
        return _counting(values, shift)
    if kinds == {str}:
        return _counting_text(values, shift)
    if len(kinds) != 1:
        raise _Differs
    if isinstance(first, tuple):
        if len({len(v) for v in values}) != 1:
            raise _Differs
        return tuple(_unify([v[k] for v in values], shift) for k in range(len(first)))
    if isinstance(first, (Name, SelfAttr, Symbol)):
        raise _Differs  # another variable, layer or function: not a number
    if isinstance(first, Call):
        keys = [key for key, _ in first.kwargs]
        if any([key for key, _ in v.kwargs] != keys for v in values):
            raise _Differs
        return Call(
            _unify([v.func for v in values], shift),
            _unify([v.args for v in values], shift),
            tuple(
                (key, _unify([v.kwargs[k][1] for v in values], shift)) for k, key in enumerate(keys)
            ),
        )
    if isinstance(first, FormattedName):
        parts = _unify([v.parts for v in values], shift)
        return FormattedName(_joined(parts))
    if dataclasses.is_dataclass(first) and not isinstance(first, type):
        fields = {
            f.name: _unify([getattr(v, f.name) for v in values], shift)
            for f in dataclasses.fields(first)
        }
        return type(first)(**fields)
    raise _Differs


def _counting(numbers: list[int], shift: int) -> Any:
    if any(n != numbers[0] + j for j, n in enumerate(numbers)):
        raise _Differs
    offset = numbers[0] - shift
    if offset == 0:
        return Name(STAGE)
    return BinOp("+" if offset > 0 else "-", Name(STAGE), abs(offset))


def _counting_text(texts: list[str], shift: int) -> FormattedName:
    """``"stage_0_block_"``, ``"stage_1_block_"`` -> ``f"stage_{s}_block_"``."""
    prefix = os.path.commonprefix(texts)
    rests = [t[len(prefix) :] for t in texts]
    suffix = os.path.commonprefix([r[::-1] for r in rests])[::-1]
    while prefix and prefix[-1].isdigit():  # the whole number differs: "stage_1" "0"
        prefix = prefix[:-1]
    while suffix and suffix[0].isdigit():
        suffix = suffix[1:]
    middles = [t[len(prefix) : len(t) - len(suffix)] for t in texts]
    if not all(m.isdigit() and m == str(int(m)) for m in middles):
        raise _Differs
    number = _counting([int(m) for m in middles], shift)
    return FormattedName(tuple(p for p in (prefix, number, suffix) if p != ""))


def _joined(parts: tuple[Any, ...]) -> tuple[Any, ...]:
    """Parts of an f-string with unified parts spliced in and neighbouring text joined."""
    flat: list[Any] = []
    for part in parts:
        for piece in part.parts if isinstance(part, FormattedName) else (part,):
            if isinstance(piece, str) and flat and isinstance(flat[-1], str):
                flat[-1] += piece
            elif piece != "":
                flat.append(piece)
    return tuple(flat)


def _with_depth(element: Any, depths: Param) -> Any:
    """The unified list ``[... for i in range(stage_depths[s])]`` as ``range(depth)``."""
    wanted = Subscript(Name(depths.name), Name(STAGE))
    uses = [v for v in iter_values(element) if v == wanted]
    if len(uses) != 1:
        return None
    return transform(element, lambda node: Name(DEPTH) if node == wanted else KEEP)


def _free_names(model: ModelIR, constructors: list[Any]) -> bool:
    """The loops' names shadow nothing: no parameter, input or variable of ``call``, and
    no name the lists' constructors read."""
    ours = {STAGE, DEPTH, BLOCKS}
    taken = {p.name for p in model.params} | {spec.var for spec in model.inputs}
    for step in model.steps:
        taken |= step_targets(step)
        if isinstance(step, ForEach):
            taken.add(step.var)
    taken |= {v.id for v in iter_values(tuple(constructors)) if isinstance(v, Name)}
    return not ours & taken
