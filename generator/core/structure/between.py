"""The units between runs of one block class: DenseNet's transitions.

DenseNet121 runs four lists of one dense block with a transition between each two
(batch normalization, ReLU, a 1x1 convolution halving the width, pooling). The
transitions are not consecutive, so no run finds them; here, where the steps between
every two runs of one class are the same sequence of families, they become one block
class too, its instances one list (``self.pools[0]`` ... ``[2]``), as Keras's own
``densenet.py`` calls ``transition_block`` between its ``dense_block`` calls. With the
runs, that list is what lets the stages become one loop (``stage_loops``).
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.core.structure.dataflow import Segment
from generator.core.structure.families import Occurrence, Run

MIN_GAPS = 2  # with one, nothing repeats


def units_between(
    segments: Sequence[Segment],
    occurrences: Sequence[Occurrence | None],
    runs: Sequence[Run],
    taken: Sequence[tuple[int, int]],
) -> list[list[Occurrence]] | None:
    """The segments between each two consecutive ``runs`` as units of one block, or None
    unless there are ``MIN_GAPS`` or more, each the same non-empty sequence of families,
    every segment eligible and outside the step spans in ``taken``."""
    ordered = sorted(runs, key=lambda run: run.first.start)
    if len(ordered) < MIN_GAPS + 1:
        return None
    index_of = {segment.start: i for i, segment in enumerate(segments)}
    units: list[list[Occurrence]] = []
    for before, after in zip(ordered, ordered[1:], strict=False):
        first, stop = index_of.get(before.last.stop), index_of.get(after.first.start)
        if first is None or stop is None or stop <= first:
            return None
        unit = list(occurrences[first:stop])
        if any(o is None for o in unit):
            return None
        units.append([o for o in unit if o is not None])
    keys = {tuple(o.family for o in unit) for unit in units}
    if len(keys) != 1:
        return None
    spans = [(unit[0].segment.start, unit[-1].segment.stop) for unit in units]
    if any(a < stop and start < b for a, b in spans for start, stop in taken):
        return None
    return units
