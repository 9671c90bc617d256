"""Grows runs over the blocks next to them that the cuts split apart.

A MobileNetV2 block that adds its input back keeps that input alive, so it is one
segment; the last block of a stage does not, so every one of its steps is a segment of
its own. Such a neighbour joins the run when its segments together are an instance of the
run's family without some optional chains (no residual add). The longest such stretch
wins: a shorter one may be the tail of a block that happens to match.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from generator.core.ir import Assign, ModelIR
from generator.core.structure.blocks import own_prefixes
from generator.core.structure.chains import Chain, find_removal, layer_classes, without
from generator.core.structure.dataflow import Segment, flat_steps
from generator.core.structure.families import (
    MAX_EXCESS,
    MIN_KEPT,
    Family,
    Occurrence,
    Run,
)
from generator.core.structure.shapes import segment_shape
from generator.core.structure.union import inserted_chains, remapped, unite

MAX_ABSORBED = 16  # segments that may make up one instance
# The share of the family's steps an instance must keep when its layers are named as the
# run's are (EfficientNet's block1a, without expansion, padding or residual): names are
# a hint that lets a smaller part of the block count.
MIN_KEPT_NAMED = 1 / 2


@dataclass(frozen=True)
class _Proposal:
    """An occurrence, what admitting it changes in its family, and whether its layers
    must be named as the run's are for it to count."""

    occurrence: Occurrence
    commit: Callable[[], None]
    needs_names: bool = False


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
        while True:  # backwards
            first = self.index_of[run.first.start]
            found = self._absorb(run, range(first - 1, max(first - 1 - MAX_ABSORBED, -1), -1))
            if found is None:
                break
            run.units.insert(0, [found])
        while True:  # forwards
            last = self.index_of[run.last.start] + self._length(run.units[-1][0])
            stop = min(last + MAX_ABSORBED, len(self.atomic))
            found = self._absorb(run, range(last, stop))
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

    def _absorb(self, run: Run, indices: range) -> Occurrence | None:
        """The longest stretch of free segments (from the run outwards) that is an instance
        of the run's family, as it is or together with it (each lacks a part the other
        has): a shorter one may be a block's tail that happens to match. Either way its
        layers must be named as the run's are, where those follow one scheme
        (``block_3_expand`` beside ``block_4_expand``): the stem before MobileNetV2's
        first block has the shape of a block's expansion, not its names."""
        family = run.key[0]
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
            if not self._sized(family, length, MIN_KEPT_NAMED):
                continue
            for relate in (self._relate, self._unite):
                proposal = relate(family, segment)
                if proposal is None or not self._named_alike(run, proposal.occurrence):
                    continue
                strict = proposal.needs_names or not self._sized(family, length, MIN_KEPT)
                if strict and not self._named_alike(run, proposal.occurrence, strictly=True):
                    continue
                proposal.commit()
                self.taken.update(stretch)
                return proposal.occurrence
        return None

    def _sized(self, family: int, length: int, share: float) -> bool:
        anchor_length = len(self.families[family].steps)
        return share * anchor_length <= length <= anchor_length + MAX_EXCESS

    def _named_alike(self, run: Run, candidate: Occurrence, strictly: bool = False) -> bool:
        """Whether the candidate's layers are named as the run's are: every layer that
        the run's first two blocks name after themselves (``block_1_expand``,
        ``block_2_expand``) the candidate names after itself too. Unless ``strictly``,
        a run whose names follow no such scheme says nothing against a candidate."""
        members = [unit[0] for unit in run.units[:2]]
        attrs = list(dict.fromkeys(a for o in (*members, candidate) for a in o.layer_of))

        def row(occurrence: Occurrence) -> list[str | None]:
            return [
                self.layers[occurrence.layer_of[a]].name if a in occurrence.layer_of else None
                for a in attrs
            ]

        table = [row(o) for o in members]
        _, before = own_prefixes(table)
        _, after = own_prefixes([*table, row(candidate)])
        if strictly and len([j for j in before if attrs[j] in candidate.layer_of]) < 2:
            return False
        return all(j in after for j in before if attrs[j] in candidate.layer_of)

    def _relate(self, number: int, segment: Segment) -> _Proposal | None:
        """An occurrence of the family when the segment is its anchor without some
        optional chains (or all of it), else None."""
        family = self.families[number]
        steps = self.steps[segment.start : segment.stop]
        shape, attrs = segment_shape(steps, segment.source, segment.result, self.layers)
        anchor = family.anchor
        ours, theirs = layer_classes(steps, self.layers), layer_classes(family.steps, self.layers)
        if ours - theirs:
            return None
        if len(steps) < len(family.steps):
            removed = theirs - ours
            chains = find_removal(
                family.steps,
                anchor.source,
                anchor.result,
                self.layers,
                shape,
                len(steps),
                removed,
                family.chains,
            )
            if chains is not None and not _overlapping(chains, family.chains):
                return self._member(number, segment, chains, attrs)
        anchor_shape, anchor_attrs = segment_shape(
            family.steps, anchor.source, anchor.result, self.layers
        )
        if shape == anchor_shape:
            occurrence = Occurrence(
                segment, number, set(), dict(zip(anchor_attrs, attrs, strict=True))
            )
            return _Proposal(occurrence, lambda: None)
        return None

    def _member(
        self, number: int, segment: Segment, chains: Sequence[Chain], attrs: list[str]
    ) -> _Proposal:
        family = self.families[number]
        known = family.chains + [c for c in chains if c not in family.chains]
        kept, result = without(family.steps, family.anchor.result, chains)
        _, kept_attrs = segment_shape(kept, family.anchor.source, result, self.layers)
        skipped = {known.index(chain) for chain in chains}
        occurrence = Occurrence(segment, number, skipped, dict(zip(kept_attrs, attrs, strict=True)))

        def commit() -> None:
            family.chains = known

        return _Proposal(occurrence, commit)

    def _unite(self, number: int, segment: Segment) -> _Proposal | None:
        """An occurrence when the segment and the family are one block with optional parts
        that each lacks (``union.py``); the family's steps then gain the segment's own."""
        family = self.families[number]
        steps = self.steps[segment.start : segment.stop]
        anchor = family.anchor
        familiar = layer_classes(family.steps, self.layers)
        for inserted in inserted_chains(steps, segment, family.steps, self.layers):
            kept, result = without(steps, segment.result, inserted)
            shape, _ = segment_shape(kept, segment.source, result, self.layers)
            united_length = len(family.steps) + len(steps) - len(kept)
            if len(kept) < MIN_KEPT * united_length:
                continue
            if len(kept) == len(family.steps):
                anchor_shape, _ = segment_shape(
                    family.steps, anchor.source, anchor.result, self.layers
                )
                skipped: tuple[Chain, ...] | None = () if anchor_shape == shape else None
            else:
                removed = familiar - layer_classes(kept, self.layers)
                skipped = find_removal(
                    family.steps,
                    anchor.source,
                    anchor.result,
                    self.layers,
                    shape,
                    len(kept),
                    removed,
                    family.chains,
                )
            if skipped is None or _overlapping(skipped, family.chains):
                continue
            union = unite(family.steps, anchor, skipped, steps, segment, inserted, self.layers)
            if union is None:
                continue
            chains = [remapped(chain, union.moved) for chain in family.chains]
            new = [len(chains) + i for i in range(len(union.inserted))]
            chains.extend(union.inserted)
            lacking = [remapped(chain, union.moved) for chain in skipped]
            chains.extend(c for c in lacking if c not in chains)
            lacks = {chains.index(chain) for chain in lacking}
            commit = functools.partial(self._adopt, number, union.steps, chains, new)
            # A part made of layers the block has elsewhere (a convolution) may be the
            # neighbour's: only names can tell. A zero padding the block lacks cannot.
            needs_names = any(
                cls in familiar
                for chain in inserted
                for cls in layer_classes([steps[i] for i in chain.steps], self.layers)
            )
            occurrence = Occurrence(segment, number, lacks, union.layer_of)
            return _Proposal(occurrence, commit, needs_names)
        return None

    def _adopt(
        self, number: int, steps: tuple[Assign, ...], chains: list[Chain], new: list[int]
    ) -> None:
        """The family becomes the union: its members found so far skip the new chains."""
        for occurrence in self._members(number):
            occurrence.skipped.update(new)
        self.families[number].steps = steps
        self.families[number].chains = chains

    def _members(self, number: int) -> list[Occurrence]:
        """Every occurrence of the family found so far, once each."""
        found = {
            id(o): o
            for o in [
                *self.atomic,
                *(o for run in self.runs for unit in run.units for o in unit),
            ]
            if o is not None and o.family == number
        }
        return list(found.values())


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
