"""Groups a model's segments into families (one block class each) and finds where a
family's instances follow one another (a loop, or a stage of loops)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.core.ir import Assign, Call, LayerSpec, ModelIR, Symbol, Value
from generator.core.structure.chains import Chain, find_removal, layer_classes, without
from generator.core.structure.dataflow import Segment, layers_in, variables_in
from generator.core.structure.shapes import segment_shape

MAX_UNIT = 12  # segments in one repeated unit
# A layer called inside another layer's call must have a name TensorFlow accepts as a
# name scope (a space, a colon or a leading underscore is refused).
SCOPE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
MAX_EXCESS = 8  # steps an instance may skip (its optional chains) and stay in a family
MIN_KEPT = 2 / 3  # and the share of the family's steps it must keep


@dataclass
class Family:
    """Segments that one block class can compute: the largest (the anchor) and, for the
    others, which of the anchor's optional chains they skip."""

    anchor: Segment
    steps: tuple[Assign, ...]
    chains: list[Chain] = field(default_factory=list)


@dataclass
class Occurrence:
    """One segment of the model as an instance of its family."""

    segment: Segment
    family: int
    skipped: set[int]  # indices into the family's chains: the optional parts it lacks
    layer_of: dict[str, str]  # anchor layer attribute -> this segment's attribute


def eligible(
    model: ModelIR,
    segment: Segment,
    layer_uses: dict[str, int],
    nested: set[str],
    layers: dict[str, LayerSpec],
) -> bool:
    """A segment can be part of a block when it reads nothing but its source (an input
    joined late, ``x + bias``, stays outside), and its layers are used nowhere else and are
    plain layers (not lists, not nested models, which pair their weights by their own
    names). A single layer that writes a model output and is made otherwise than the
    layer before it is the model's head: a person writes it apart from the hidden layers,
    and it takes ``num_classes``."""
    steps = model.steps[segment.start : segment.stop]
    if len(steps) == 1 and _a_head(model, segment.start, layers):
        return False
    known = {segment.source}
    for step in steps:
        assert isinstance(step, Assign)
        if not known.issuperset(variables_in(step.value)):
            return False
        known.update(step.targets)
        for attr in layers_in(step.value):
            spec = layers[attr]
            if not SCOPE_NAME.match(spec.name):
                return False  # TensorFlow refuses it as a name scope inside a block
            if layer_uses[attr] != 1 or spec.repeat or not isinstance(spec.constructor, Call):
                return False
            func = spec.constructor.func
            if isinstance(func, Symbol) and func.module == "" and func.qualname in nested:
                return False
    return True


def _a_head(model: ModelIR, index: int, layers: dict[str, LayerSpec]) -> bool:
    step = model.steps[index]
    assert isinstance(step, Assign)
    if not set(step.targets) & set(variables_in(model.outputs)):
        return False
    before = model.steps[index - 1] if index else None
    made = [
        _unnamed(layers[attr].constructor)
        for s in (step, before)
        if isinstance(s, Assign)
        for attr in layers_in(s.value)
    ]
    return len(made) != 2 or made[0] != made[1]


def _unnamed(constructor: Value) -> Value:
    if not isinstance(constructor, Call):
        return constructor
    return Call(
        constructor.func,
        constructor.args,
        tuple(kw for kw in constructor.kwargs if kw[0] != "name"),
    )


def classify(
    model: ModelIR, segments: Sequence[Segment], usable: Sequence[bool]
) -> tuple[list[Family], list[Occurrence | None]]:
    """Each usable segment's family; larger segments are anchors for smaller ones."""
    layers = {layer.attr: layer for layer in model.layers}
    shaped: dict[Any, list[int]] = {}
    info: dict[int, tuple[Any, list[str], tuple[Assign, ...]]] = {}
    for index, segment in enumerate(segments):
        if not usable[index]:
            continue
        steps = tuple(s for s in model.steps[segment.start : segment.stop] if isinstance(s, Assign))
        shape, attrs = segment_shape(steps, segment.source, segment.result, layers)
        info[index] = (shape, attrs, steps)
        shaped.setdefault(shape, []).append(index)
    families: list[Family] = []
    family_of_shape: dict[Any, tuple[int, tuple[Chain, ...], list[str]]] = {}
    # Largest shapes first: each becomes an anchor unless a larger anchor contains it.
    for shape in sorted(shaped, key=lambda s: -len(info[shaped[s][0]][2])):
        first = shaped[shape][0]
        _, attrs, steps = info[first]
        joined = _join(families, layers, shape, len(steps), layer_classes(steps, layers))
        if joined is None:
            families.append(Family(segments[first], steps))
            family_of_shape[shape] = (len(families) - 1, (), attrs)
        else:
            family_of_shape[shape] = joined
            chains = families[joined[0]].chains
            chains.extend(c for c in joined[1] if c not in chains)
    occurrences: list[Occurrence | None] = []
    for index, segment in enumerate(segments):
        if index not in info:
            occurrences.append(None)
            continue
        shape, attrs, _ = info[index]
        family_index, skipped_chains, anchor_attrs = family_of_shape[shape]
        family = families[family_index]
        skipped = {family.chains.index(chain) for chain in skipped_chains}
        occurrences.append(
            Occurrence(
                segment,
                family_index,
                skipped,
                dict(zip(anchor_attrs, attrs, strict=True)),
            )
        )
    return families, occurrences


def _join(
    families: list[Family],
    layers: dict[str, LayerSpec],
    shape: Any,
    length: int,
    classes: Counter,
) -> tuple[int, tuple[Chain, ...], list[str]] | None:
    for index, family in enumerate(families):
        anchor = family.anchor
        excess = len(family.steps) - length
        if excess <= 0 or excess > MAX_EXCESS or length < MIN_KEPT * len(family.steps):
            continue
        anchor_classes = layer_classes(family.steps, layers)
        if classes - anchor_classes:
            continue
        removed = anchor_classes - classes
        chains = find_removal(
            family.steps,
            anchor.source,
            anchor.result,
            layers,
            shape,
            length,
            removed,
            family.chains,
        )
        if chains is None:
            continue
        if any(set(c.steps) & set(o.steps) for c in chains for o in family.chains if c != o):
            continue  # overlaps an optional part found before: keep it a family of its own
        kept, result = without(family.steps, anchor.result, chains)
        _, anchor_attrs = segment_shape(kept, anchor.source, result, layers)
        return index, chains, anchor_attrs
    return None


@dataclass
class Run:
    """Consecutive instances of one unit; each unit lists its segments' occurrences."""

    units: list[list[Occurrence]]

    @property
    def first(self) -> Segment:
        return self.units[0][0].segment

    @property
    def last(self) -> Segment:
        return self.units[-1][-1].segment

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(o.family for o in self.units[0])


def find_runs(
    occurrences: Sequence[Occurrence | None],
    max_unit: int = MAX_UNIT,
    taken: set[int] | frozenset[int] = frozenset(),
    cohesion: Sequence[int] = (),
    forks: Sequence[bool] = (),
) -> list[Run]:
    """Greedy, left to right: at each position the repeat covering the most segments
    (None, or an index in ``taken``, marks a segment that cannot be in a new run).

    Layer names are a hint: ``cohesion[i]`` is how much segment ``i``'s first layer name
    shares with the last name before it. A repeat is passed over when it would end
    inside a block (``block2a_expand_bn`` | ``block2a_expand_activation``) and another
    that starts inside it, where the names change more, reaches further; and a unit of
    several segments starts where the names change most, so each unit is the model's
    own blocks (``block2a_*``, ``block2b_*``), not the tail of one and the head of the
    next. Auto-generated names share nothing, and change nothing: there, a unit starts
    where the graph forks (``forks[i]``: segment ``i``'s input is read twice in it, the
    shortcut and the main path of a residual block), not at the activation before.
    """
    keys = [None if o is None or i in taken else o.family for i, o in enumerate(occurrences)]
    runs = []
    index = 0
    while index < len(keys):
        best = _best_repeat(keys, index, max_unit)
        if best is None or _cut_short(keys, index, best, max_unit, cohesion):
            index += 1
            continue
        length, count = best
        shift = _best_phase(keys, index, length, count, cohesion, forks)
        if shift:
            index += shift
            count = _repeats(keys, index, length)
        units = [[occurrences[index + k * length + p] for p in range(length)] for k in range(count)]
        runs.append(Run([[o for o in unit if o is not None] for unit in units]))
        index += count * length
    return runs


def _cut_short(
    keys: Sequence[Any],
    index: int,
    best: tuple[int, int],
    max_unit: int,
    cohesion: Sequence[int],
) -> bool:
    """Whether the repeat ``best`` at ``index`` ends inside a block that a repeat starting
    later, at a clearer boundary, covers and goes beyond."""
    end = index + best[0] * best[1]
    if not cohesion or end >= len(cohesion):
        return False
    for later in range(index + 1, end):
        if cohesion[later] >= cohesion[end]:
            continue
        other = _best_repeat(keys, later, max_unit)
        if other is not None and later + other[0] * other[1] > end:
            return True
    return False


def _best_repeat(keys: Sequence[Any], index: int, max_unit: int) -> tuple[int, int] | None:
    """(unit length, count) of the repeat from ``index`` that covers the most segments."""
    best: tuple[int, int] | None = None
    for length in range(1, max_unit + 1):
        count = _repeats(keys, index, length)
        if count == 0:
            break
        if count >= 2 and (best is None or count * length > best[0] * best[1]):
            best = (length, count)
    return best


def _repeats(keys: Sequence[Any], index: int, length: int) -> int:
    """How many times ``keys[index : index + length]`` repeats from ``index`` on."""
    unit = keys[index : index + length]
    if len(unit) < length or any(k is None for k in unit):
        return 0
    count = 1
    while keys[index + count * length : index + (count + 1) * length] == unit:
        count += 1
    return count


def _best_phase(
    keys: Sequence[Any],
    index: int,
    length: int,
    count: int,
    cohesion: Sequence[int],
    forks: Sequence[bool] = (),
) -> int:
    """How far to shift a run of units of ``length`` segments so that its units start
    where the layer names change most, else where the graph forks (0: where it was
    found). A shift keeps at least two units and gives up at most one."""
    if length < 2 or not (cohesion or forks):
        return 0

    def score(shift: int) -> tuple[float, float]:
        starts = range(
            index + shift, index + shift + _repeats(keys, index + shift, length) * length, length
        )
        shared = sum(cohesion[i] for i in starts) if cohesion else 0
        forking = sum(forks[i] for i in starts) if forks else 0
        return shared / max(len(starts), 1), -forking / max(len(starts), 1)

    best, best_score = 0, score(0)
    for shift in range(1, length):
        repeats = _repeats(keys, index + shift, length)
        if repeats < 2 or repeats < count - 1:
            continue
        if (value := score(shift)) < best_score:
            best, best_score = shift, value
    return best
