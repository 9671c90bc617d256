"""Grows runs over the blocks next to them that the cuts split apart.

A MobileNetV2 block that adds its input back keeps that input alive, so it is one
segment; the last block of a stage does not, so every one of its steps is a segment of
its own. Such a neighbour joins the run when its segments together are an instance of the
run's family without some optional chains (no residual add). The longest such stretch
wins: a shorter one may be the tail of a block that happens to match.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.core.ir import Assign, ModelIR
from generator.core.structure.chains import Chain, find_removal, without
from generator.core.structure.dataflow import Segment, flat_steps
from generator.core.structure.families import (
    MAX_EXCESS,
    MIN_KEPT,
    Family,
    Occurrence,
    Run,
)
from generator.core.structure.families import (
    layer_classes as _layer_classes,
)
from generator.core.structure.shapes import segment_shape

MAX_ABSORBED = 16  # segments that may make up one instance


def grow_runs(
    model: ModelIR,
    families: list[Family],
    occurrences: list[Occurrence | None],
    runs: list[Run],
) -> list[Run]:
    steps = flat_steps(model)
    if steps is None:
        return runs
    grower = _Grower(model, steps, families, occurrences, runs)
    for run in runs:
        if len(run.units[0]) == 1:
            grower.grow(run)
    return _merged(runs)


class _Grower:
    def __init__(
        self,
        model: ModelIR,
        steps: list[Assign],
        families: list[Family],
        occurrences: list[Occurrence | None],
        runs: list[Run],
    ) -> None:
        self.steps = steps
        self.layers = {layer.attr: layer for layer in model.layers}
        self.families = families
        self.atomic = occurrences
        self.runs = runs
        self.index_of = {o.segment.start: i for i, o in enumerate(occurrences) if o is not None}
        self.taken: set[int] = set()
        for run in runs:
            for unit in run.units:
                for occurrence in unit:
                    self.taken.add(self.index_of[occurrence.segment.start])

    def grow(self, run: Run) -> None:
        family = run.key[0]
        while True:  # backwards
            first = self.index_of[run.first.start]
            found = self._absorb(family, range(first - 1, max(first - 1 - MAX_ABSORBED, -1), -1))
            if found is None:
                break
            run.units.insert(0, [found])
        while True:  # forwards
            last = self.index_of[run.last.start] + self._length(run.units[-1][0])
            stop = min(last + MAX_ABSORBED, len(self.atomic))
            found = self._absorb(family, range(last, stop))
            if found is None:
                break
            run.units.append([found])

    def _length(self, occurrence: Occurrence) -> int:
        """How many atomic segments an occurrence spans."""
        start = self.index_of[occurrence.segment.start]
        count = 0
        while (
            start + count < len(self.atomic)
            and (o := self.atomic[start + count]) is not None
            and o.segment.stop <= occurrence.segment.stop
        ):
            count += 1
        return max(count, 1)

    def _absorb(self, family: int, indices: range) -> Occurrence | None:
        """The longest stretch of free segments (from the run outwards) that is an instance
        of ``family``: a shorter one may be a block's tail that happens to match."""
        anchor_length = len(self.families[family].steps)
        stretches: list[list[int]] = []
        chosen: list[int] = []
        for index in indices:
            if index in self.taken or self.atomic[index] is None:
                break
            chosen.append(index)
            stretches.append(sorted(chosen))
        for stretch in reversed(stretches):
            first, last = self.atomic[stretch[0]], self.atomic[stretch[-1]]
            assert first is not None and last is not None
            segment = Segment(
                first.segment.start, last.segment.stop, first.segment.source, last.segment.result
            )
            length = segment.stop - segment.start
            if not MIN_KEPT * anchor_length <= length <= anchor_length + MAX_EXCESS:
                continue
            found = self._relate(family, segment)
            if found is not None:
                self.taken.update(stretch)
                return found
        return None

    def _relate(self, number: int, segment: Segment) -> Occurrence | None:
        """An occurrence of the family when the segment is its anchor without some
        optional chains (or all of it), else None."""
        family = self.families[number]
        steps = self.steps[segment.start : segment.stop]
        shape, attrs = segment_shape(steps, segment.source, segment.result, self.layers)
        anchor = family.anchor
        ours, theirs = _layer_classes(steps, self.layers), _layer_classes(family.steps, self.layers)
        if any(theirs.get(cls, 0) < count for cls, count in ours.items()):
            return None
        if len(steps) < len(family.steps):
            chains = find_removal(
                family.steps, anchor.source, anchor.result, self.layers, shape, len(steps)
            )
            if chains is not None and not _overlapping(chains, family.chains):
                return self._member(number, segment, chains, attrs)
        anchor_shape, anchor_attrs = segment_shape(
            family.steps, anchor.source, anchor.result, self.layers
        )
        if shape == anchor_shape:
            return Occurrence(segment, number, set(), dict(zip(anchor_attrs, attrs, strict=True)))
        return None

    def _member(
        self, number: int, segment: Segment, chains: Sequence[Chain], attrs: list[str]
    ) -> Occurrence:
        family = self.families[number]
        for chain in chains:
            if chain not in family.chains:
                family.chains.append(chain)
        kept, result = without(family.steps, family.anchor.result, chains)
        _, kept_attrs = segment_shape(kept, family.anchor.source, result, self.layers)
        skipped = {family.chains.index(chain) for chain in chains}
        return Occurrence(segment, number, skipped, dict(zip(kept_attrs, attrs, strict=True)))


def _overlapping(chains: Sequence[Chain], known: Sequence[Chain]) -> bool:
    return any(set(c.steps) & set(o.steps) for c in chains for o in known if c != o)


def _merged(runs: list[Run]) -> list[Run]:
    """Runs of one family that now touch become one."""
    runs = sorted(runs, key=lambda run: run.first.start)
    merged: list[Run] = []
    for run in runs:
        if merged and merged[-1].key == run.key and merged[-1].last.stop == run.first.start:
            merged[-1].units.extend(run.units)
        else:
            merged.append(run)
    return merged
