"""Optional parts of a block: a chain of steps that some instances have and others skip.

ResNet's first block of a stage convolves its shortcut, the others pass the input
through; a MobileNetV2 block adds its input back only where shapes allow. Both are a chain
of steps whose absence means "use this variable instead". Finding which chains turn a
larger segment into a smaller one lets both be one block class with a flag.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from generator.core.ir import Assign, Call, LayerSpec, Symbol
from generator.core.structure.dataflow import layers_in, rename_variables, variables_in
from generator.core.structure.shapes import segment_shape

MAX_CHAIN = 6  # steps in one optional chain
MAX_CHAINS = 3  # optional chains in one segment
SEARCH_BUDGET = 400  # removals compared by shape per pair of segments
VISIT_BUDGET = 20_000  # choices of chains tried per pair of segments
# Skipping a concatenation changes the width of all that follows: an instance without
# one is another unit (DenseNet's transition beside its dense block), not an option.
WIDENING = frozenset({"layers.Concatenate"})


@dataclass(frozen=True)
class Chain:
    """Steps (indices, in dataflow order) that can be skipped: their last output is then
    ``bypass``."""

    steps: tuple[int, ...]
    bypass: str


def candidate_chains(steps: Sequence[Assign], result: str) -> list[Chain]:
    """Every chain: each step's output is read exactly once, by the next one."""
    readers: dict[str, list[int]] = {}
    for index, step in enumerate(steps):
        for var in variables_in(step.value):
            readers.setdefault(var, []).append(index)
    chains = []
    for head, step in enumerate(steps):
        if len(step.targets) != 1 or step.unpack:
            continue
        for bypass in dict.fromkeys(variables_in(step.value)):
            links = [head]
            while True:
                chains.append(Chain(tuple(links), bypass))
                tail = steps[links[-1]].targets[0]
                users = readers.get(tail, [])
                if len(users) != 1 or tail == result or len(links) >= MAX_CHAIN:
                    break
                following = steps[users[0]]
                if len(following.targets) != 1 or following.unpack:
                    break
                links.append(users[0])
    return chains


def without(
    steps: Sequence[Assign], result: str, chains: Sequence[Chain]
) -> tuple[list[Assign], str]:
    """The steps with ``chains`` skipped: their outputs replaced by their bypasses."""
    removed = {index for chain in chains for index in chain.steps}
    mapping = bypasses(steps, chains)
    kept = [
        Assign(step.targets, rename_variables(step.value, mapping), step.unpack)
        for index, step in enumerate(steps)
        if index not in removed
    ]
    return kept, mapping.get(result, result)


def bypasses(steps: Sequence[Assign], chains: Sequence[Chain]) -> dict[str, str]:
    """Each skipped chain's output -> what stands in for it."""
    mapping = {steps[chain.steps[-1]].targets[0]: chain.bypass for chain in chains}
    for key in list(mapping):  # a bypass may itself be a skipped chain's output
        seen = {key}
        while mapping[key] in mapping and mapping[key] not in seen:
            seen.add(mapping[key])
            mapping[key] = mapping[mapping[key]]
    return mapping


def find_removal(
    steps: Sequence[Assign],
    source: str,
    result: str,
    layers: dict[str, LayerSpec],
    wanted: Any,
    wanted_length: int,
    removed: Counter | None = None,
    known: Sequence[Chain] = (),
) -> tuple[Chain, ...] | None:
    """Disjoint chains whose removal gives a segment of shape ``wanted``, or None.

    ``removed``, when known, counts the layer classes the chains must hold between them
    (what the larger segment has and the smaller lacks): chains with any other layer
    are never tried, and a removal is compared by shape only when its classes add up.
    A chain that overlaps one of the ``known`` optional parts without being it is never
    tried either: the parts of one block do not overlap."""
    excess = len(steps) - wanted_length
    if excess <= 0:
        return None
    # Skipping steps renumbers variables and layers but leaves each kept step as it was,
    # so the skipped steps are exactly the ones the wanted shape lacks.
    signatures = step_signatures(segment_shape(steps, source, result, layers)[0])
    wanted_signatures = step_signatures(wanted)
    extra = Counter(signatures) - Counter(wanted_signatures)
    if sum(extra.values()) != excess:
        return None
    candidates = []
    classes: dict[Chain, Counter] = {}
    skipped: dict[Chain, Counter] = {}
    for chain in candidate_chains(steps, result):
        if len(chain.steps) > excess or any(
            chain != other and set(chain.steps) & set(other.steps) for other in known
        ):
            continue
        skipped[chain] = Counter(signatures[i] for i in chain.steps)
        if skipped[chain] - extra:
            continue
        classes[chain] = layer_classes([steps[i] for i in chain.steps], layers)
        if not may_skip(classes[chain]):
            continue
        if removed is None or not classes[chain] - removed:
            candidates.append(chain)
    budget = [SEARCH_BUDGET, VISIT_BUDGET]

    def search(start: int, chosen: list[Chain], used: set[int], need: Counter, slots: int):
        budget[1] -= 1
        if not need:
            if removed is not None and sum((classes[c] for c in chosen), Counter()) != removed:
                return None
            kept_signatures = [s for i, s in enumerate(signatures) if i not in used]
            if kept_signatures != wanted_signatures:
                return None
            budget[0] -= 1
            kept, new_result = without(steps, result, chosen)
            shape, _ = segment_shape(kept, source, new_result, layers)
            return tuple(chosen) if shape == wanted else None
        if slots == 0:
            return None
        left = sum(need.values())
        for index in range(start, len(candidates)):
            if budget[0] <= 0 or budget[1] <= 0:
                return None
            chain = candidates[index]
            if skipped[chain] - need or used.intersection(chain.steps):
                continue
            if slots == 1 and len(chain.steps) != left:
                continue
            found = search(
                index + 1,
                [*chosen, chain],
                used | set(chain.steps),
                need - skipped[chain],
                slots - 1,
            )
            if found is not None:
                return found
        return None

    # Fewest chains first: one skipped shortcut, not its convolution and its norm apart.
    for count in range(1, MAX_CHAINS + 1):
        found = search(0, [], set(), extra, count)
        if found is not None:
            return found
    return None


def step_signatures(shape: Any) -> list[Any]:
    """Each step of a segment's shape (see ``segment_shape``) with variables blurred and
    layers spelled out: what skipping other steps cannot change."""
    shaped_steps, _, layer_shapes = shape

    def blur(value: Any) -> Any:
        if isinstance(value, tuple):
            if len(value) == 2 and value[0] in ("var", "name"):
                return "ref"
            if len(value) == 2 and value[0] == "layer":
                return layer_shapes[value[1]]
            return tuple(blur(v) for v in value)
        return value

    return [(len(targets), unpack, blur(value)) for targets, unpack, value in shaped_steps]


def may_skip(classes: Counter) -> bool:
    """Whether a chain calling layers of these classes can be an optional part."""
    return not any(
        isinstance(func, Symbol) and func.module == "keras" and func.qualname in WIDENING
        for func in classes
    )


def layer_classes(steps: Sequence[Assign], layers: dict[str, LayerSpec]) -> Counter:
    """How many layers of each class (constructor callee) the steps call."""
    return Counter(
        constructor.func if isinstance(constructor := layers[attr].constructor, Call) else None
        for step in steps
        for attr in layers_in(step.value)
    )
