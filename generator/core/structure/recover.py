"""Structure recovery: repeated parts of a converted model become block classes and loops.

An IR-to-IR pass, so it needs no Keras and never changes what a model computes: every
block step is a step of the original graph, with the same layers (same Keras names, so
weights pair by name) and the same arguments. Any part it cannot factor stays flat.
"""

from __future__ import annotations

import dataclasses
import re

from generator.core.collector import collector_paused
from generator.core.ir import (
    Assign,
    Call,
    ForEach,
    LayerSpec,
    ListValue,
    ModelIR,
    ModuleIR,
    Name,
    Param,
    SelfAttr,
    Step,
    Subscript,
    TrainingFlag,
    Value,
)
from generator.core.layer_words import layer_word
from generator.core.naming import NameRegistry, attribute_registry, class_registry, to_snake
from generator.core.structure.attributes import short_attributes
from generator.core.structure.between import units_between
from generator.core.structure.blocks import Blocks, NotFactorable, build_blocks
from generator.core.structure.blocks import common_prefix as _common_prefix
from generator.core.structure.dataflow import (
    Segment,
    flat_steps,
    layers_in,
    single_tensor_segments,
    variables_in,
)
from generator.core.structure.depths import merged_depths
from generator.core.structure.families import (
    Family,
    Occurrence,
    Run,
    classify,
    eligible,
    find_runs,
)
from generator.core.structure.growth import grow_runs
from generator.core.structure.heads import head_parameters
from generator.core.structure.motifs import factor_motifs, frequent_chains
from generator.core.structure.nested import merge_nested_models
from generator.core.structure.operators import operators_in_models
from generator.core.structure.sequentials import inline_sequentials
from generator.core.structure.shared_objects import shared_objects
from generator.core.structure.stage_loops import stage_loops
from generator.core.structure.stages import construct
from generator.core.structure.variables import readable_variables

MIN_BLOCK_STEPS = 6  # steps a run of a block class must replace to be worth a class
MIN_LAYER_RUN = 3  # layers a list of one layer class must replace
TRANSITION = "transition"  # what the units between runs are called where names say nothing


def recover_structure(module: ModuleIR, operators: bool = True) -> ModuleIR:
    """The module with each model's repeated units factored into blocks, and (with
    ``operators``, where the reader vouches they are exact) weightless layers written as
    operators."""
    with collector_paused():
        return _recover(module, module.exact_operators if operators else frozenset())


def _recover(module: ModuleIR, operators: frozenset[str]) -> ModuleIR:
    classes = class_registry()
    for name in [h.class_name for h in module.helpers] + [m.class_name for m in module.models]:
        classes.reserve(name)
    module = merge_nested_models(module, classes)
    nested = {m.class_name for m in module.models}
    models: list[ModelIR] = []
    for model in module.models:
        if model.kind != "model":  # a merged nested model: its names derive from its own
            models.append(model)
            continue
        blocks, factored = _factor(model, classes, nested)
        models.extend(blocks)
        models.append(factored)
    models = factor_motifs(models, classes)
    reserved = (
        {name for name, _ in module.constants}
        | {asset.name for asset in module.assets}
        | {m.class_name for m in models}
        | {h.class_name for h in module.helpers}
        | {"tf", "keras", "np", "Path", "assets"}
    )
    models = inline_sequentials(models, reserved)
    if operators:
        models = operators_in_models(models, operators)
    models = [readable_variables(m, reserved) for m in models]
    models = [short_attributes(m) if m.kind == "model" else m for m in models]
    models = [merged_depths(m, reserved) if m.kind == "model" else m for m in models]
    models = [stage_loops(m) if m.kind == "model" else m for m in models]
    models[-1] = head_parameters(models[-1], reserved)
    return shared_objects(dataclasses.replace(module, models=tuple(models)), reserved)


def _factor(
    model: ModelIR, classes: NameRegistry, nested: set[str]
) -> tuple[list[ModelIR], ModelIR]:
    segments = single_tensor_segments(model)
    steps = flat_steps(model)
    if len(segments) < 2 or steps is None:
        return [], model
    uses: dict[str, int] = {}
    for step in steps:
        for attr in layers_in(step.value):
            uses[attr] = uses.get(attr, 0) + 1
    by_attr = {layer.attr: layer for layer in model.layers}
    usable = [eligible(model, segment, uses, nested, by_attr) for segment in segments]
    families, occurrences = classify(model, segments, usable)
    # Single-segment units first, grown over the neighbours the cuts split apart; then
    # units of several segments among what is left.
    # A pair of one-layer segments is no list (MIN_LAYER_RUN) and must not hold on to a
    # layer a block next to it needs (a stem convolution, then a block's expansion).
    single = [
        run
        for run in find_runs(occurrences, max_unit=1)
        if len(run.units) >= MIN_LAYER_RUN or len(families[run.key[0]].steps) > 1
    ]
    runs = grow_runs(model, families, occurrences, single)
    covered = {
        index
        for index, occurrence in enumerate(occurrences)
        if occurrence is not None
        and any(run.first.start <= occurrence.segment.start < run.last.stop for run in runs)
    }
    cohesion = _name_cohesion(model, segments)
    forks = [_forks(by_attr, steps, segment) for segment in segments]
    runs += find_runs(occurrences, taken=covered, cohesion=cohesion, forks=forks)
    runs = sorted(runs + _lone_units(families, occurrences, runs), key=lambda r: r.first.start)
    keras_names = {layer.name for layer in model.layers}
    attrs = attribute_registry()
    for layer in model.layers:
        attrs.reserve(layer.attr)
    for param in model.params:
        attrs.reserve(param.name)
    groups: dict[tuple[int, ...], list[Run]] = {}
    for run in runs:  # runs of one unit share one block class
        groups.setdefault(run.key, []).append(run)
    classes_before = []
    replacements: list[Replacement] = []
    placed: list[list[Run]] = []  # each group's runs that became blocks
    for group in groups.values():
        spans = [(unit[0].segment.start, unit[-1].segment.stop) for r in group for unit in r.units]
        if frequent_chains(model, spans):
            continue  # calls of a motif class read better (factor_motifs, below)
        built_group = _build_group(model, families, group, classes)
        if built_group is None:
            continue
        blocks, kept_runs = built_group
        offset = 0
        placed.append([])
        for run in kept_runs:
            part = blocks.subset(offset, offset + len(run.units))
            offset += len(run.units)
            first, last = run.first, run.last
            if _clashing_names(part, keras_names):
                continue
            names = list(part.names) or None
            base = to_snake(blocks.label) or "block"
            if len(run.units) == 1 and blocks.block is not None:
                # A lone instance (the module after a pooling): an attribute of its own.
                name = names[0] if names else _next_name(base, keras_names)
                attr = attrs.claim(to_snake(name) if names else name)
                built = construct(part, [name], attr, attrs, base=base)
                assert isinstance(built.constructor, ListValue)
                keras_names.add(name)
                spec = LayerSpec(attr, name, built.constructor.items[0], blocks.label)
                replacements.append(Replacement(first, last, spec, part, (), single=True))
                placed[-1].append(run)
                continue
            attr = attrs.claim(_list_attr(part, names, len(kept_runs) > 1))
            built = construct(part, names, attr, attrs, base=base, taken=frozenset(keras_names))
            keras_names.update(built.names)
            spec = LayerSpec(attr, attr, built.constructor, blocks.label)
            replacements.append(Replacement(first, last, spec, part, built.params))
            placed[-1].append(run)
        if blocks.block is not None and any(r.blocks.block is blocks.block for r in replacements):
            classes_before.append(blocks.block)
    for runs_of_class in placed:
        between = _between(
            model,
            families,
            segments,
            occurrences,
            runs_of_class,
            replacements,
            classes,
            keras_names,
        )
        if between is None:
            continue
        blocks, units = between
        assert blocks.block is not None  # _between makes classes only
        names = list(blocks.names) or None
        attr = attrs.claim(_list_attr(blocks, names, True))
        built = construct(
            blocks,
            names,
            attr,
            attrs,
            base=to_snake(blocks.label),
            taken=frozenset(keras_names),
            counted=False,  # the call reads each instance by its index
        )
        keras_names.update(built.names)
        spec = LayerSpec(attr, attr, built.constructor, blocks.label)
        for index, unit in enumerate(units):
            replacements.append(
                Replacement(unit[0].segment, unit[-1].segment, spec, blocks, built.params, index)
            )
        classes_before.append(blocks.block)
    if not replacements:
        return [], model
    replacements.sort(key=lambda r: r.first.start)
    return classes_before, _rewrite(model, replacements)


@dataclasses.dataclass(frozen=True)
class Replacement:
    """Segments ``first`` to ``last`` of the call become blocks: a loop over ``spec``'s
    list, or (with ``index``) one call of that list's instance ``index``."""

    first: Segment
    last: Segment
    spec: LayerSpec
    blocks: Blocks
    params: tuple[Param, ...]
    index: int | None = None
    single: bool = False  # ``spec`` is one block, called once


def _between(
    model: ModelIR,
    families: list[Family],
    segments: list[Segment],
    occurrences: list[Occurrence | None],
    runs: list[Run],
    replacements: list[Replacement],
    classes: NameRegistry,
    keras_names: set[str],
) -> tuple[Blocks, list[list[Occurrence]]] | None:
    """One block class for the units between ``runs`` (``between.py``) and the units;
    None where there are none, they are single layers, their names would clash with
    others, or they do not pay."""
    taken = [(r.first.start, r.last.stop) for r in replacements]
    units = units_between(segments, occurrences, runs, taken)
    if units is None or sum(u[-1].segment.stop - u[0].segment.start for u in units) < (
        MIN_BLOCK_STEPS
    ):
        return None
    try:
        trial = build_blocks(model, families, units, NameRegistry(), fallback=TRANSITION)
    except NotFactorable:
        return None
    if trial.block is None or _clashing_names(trial, keras_names):
        return None  # before the class claims its name
    return build_blocks(model, families, units, classes, fallback=TRANSITION), units


def _next_name(base: str, taken: set[str]) -> str:
    """``conv_block_3`` after ``conv_block_1`` and ``conv_block_2``."""
    return next(f"{base}_{n}" for n in range(1, len(taken) + 2) if f"{base}_{n}" not in taken)


def _lone_units(
    families: list[Family], occurrences: list[Occurrence | None], runs: list[Run]
) -> list[Run]:
    """A block a run repeats that also stands alone elsewhere (GoogLeNet's Inception
    module after a pooling): a run of one, so it is an instance of the same class."""
    covered = {
        index
        for index, occurrence in enumerate(occurrences)
        if occurrence is not None
        and any(run.first.start <= occurrence.segment.start < run.last.stop for run in runs)
    }
    keys = {run.key for run in runs if len(run.key) > 1 or len(families[run.key[0]].steps) > 1}
    lone: list[Run] = []
    index = 0
    while index < len(occurrences):
        for key in sorted(keys, key=len, reverse=True):
            span = range(index, index + len(key))
            found = [occurrences[i] for i in span if i < len(occurrences)]
            if (
                len(found) == len(key)
                and all(o is not None for o in found)
                and not covered & set(span)
                and tuple(o.family for o in found if o is not None) == key
            ):
                lone.append(Run([[o for o in found if o is not None]]))
                index += len(key)
                break
        else:
            index += 1
    return lone


def _forks(layers: dict[str, LayerSpec], steps: list[Assign], segment: Segment) -> bool:
    """Whether two steps of ``segment`` read its input (a residual block's shortcut and
    main path), where its first layer's name says nothing of where blocks start (Keras
    made it up)."""
    inside = steps[segment.start : segment.stop]
    first = next((layers[a] for s in inside for a in layers_in(s.value) if a in layers), None)
    if first is None or _words(first):
        return False
    return sum(segment.source in variables_in(s.value) for s in inside) >= 2


def _name_cohesion(model: ModelIR, segments: list[Segment]) -> list[int]:
    """For each segment, how many leading name words its first layer shares with the
    last layer of the segment before (``block2a_expand_bn`` → ``block2a_project_conv``:
    1; → ``block2b_expand_conv``: 0). Names Keras made up (``conv2d_7``) say nothing:
    they share no word with anything."""
    layers = {layer.attr: layer for layer in model.layers}
    ends: list[tuple[list[str], list[str]]] = []
    for segment in segments:
        steps = [s for s in model.steps[segment.start : segment.stop] if isinstance(s, Assign)]
        words = [_words(layers[a]) for step in steps for a in layers_in(step.value) if a in layers]
        ends.append((words[0], words[-1]) if words else ([], []))
    cohesion = [0]
    for (_, last), (first, _) in zip(ends, ends[1:], strict=False):
        shared = 0
        while shared < min(len(last), len(first)) and last[shared] == first[shared]:
            shared += 1
        cohesion.append(shared)
    return cohesion


def _words(layer: LayerSpec) -> list[str]:
    auto = re.fullmatch(rf"{re.escape(to_snake(layer.class_label))}(_\d+)?", layer.name)
    return [] if auto else _NAME_WORDS.split(layer.name)


_NAME_WORDS = re.compile(r"[_./\-]+")


def _build_group(
    model: ModelIR, families: list[Family], runs: list[Run], classes: NameRegistry
) -> tuple[Blocks, list[Run]] | None:
    """One block class for every run of a unit, or None when it does not pay or fit."""
    while runs:
        units = [unit for run in runs for unit in run.units]
        try:
            blocks = build_blocks(model, families, units, NameRegistry())
        except NotFactorable:
            return None
        if blocks.block is None:
            fitting = [run for run in runs if len(run.units) >= MIN_LAYER_RUN]
        else:
            steps = sum(run.last.stop - run.first.start for run in runs)
            fitting = runs if steps >= MIN_BLOCK_STEPS else []
        if fitting == runs:
            return build_blocks(model, families, units, classes), runs
        runs = fitting
    return None


def _clashing_names(blocks: Blocks, keras_names: set[str]) -> bool:
    """Whether instance names derived from the layers' names would clash with another
    layer's (made-up names never do: ``construct`` avoids them)."""
    others = keras_names - set(blocks.own_names)
    return len(set(blocks.names)) != len(blocks.names) or bool(others & set(blocks.names))


def _list_attr(blocks: Blocks, names: list[str] | None, shared: bool) -> str:
    """``conv_blocks`` (``dense_layers`` for a list of Keras layers); when runs share a
    class, after what their instances' names share (``conv2_blocks``, ``conv3_blocks``)."""
    if blocks.block is None:  # ``conv2ds``, ``denses`` read as no word
        plural = layer_word(blocks.label) + "_layers"
    else:
        plural = _blocks_of(to_snake(blocks.label))
    if shared and names:
        prefix = _common_prefix(names)
        # A number the names share whole names the run (``block17_1``... ``block17_20``:
        # block17s); one cut short is the instances' counter (``unit10``, ``unit11``).
        if not re.search(r"[_\-./]$", prefix):
            prefix = re.sub(r"\d+$", "", prefix)
        prefix = re.sub(r"[_\-./]+$", "", prefix)
        if len(prefix) >= 3:
            return _blocks_of(to_snake(prefix))
    return plural


def _blocks_of(word: str) -> str:
    """``conv_blocks``, ``block17s``; a word that describes rather than names
    (InceptionV3's ``mixed``) takes ``_blocks``: ``mixed_blocks``, not ``mixeds``."""
    return f"{word}_blocks" if word.endswith("ed") else f"{word}s"


def _rewrite(model: ModelIR, replacements: list[Replacement]) -> ModelIR:
    original = flat_steps(model)
    assert original is not None
    steps: list[Step] = list(model.steps)
    layers = list(model.layers)
    params = list(model.params)
    taken = {spec.var for spec in model.inputs} | {
        target for step in model.steps for target in getattr(step, "targets", ())
    }

    def free(word: str) -> str:
        return next(n for n in (word, *(f"{word}_{i}" for i in range(1, 1000))) if n not in taken)

    block_variable, layer_variable = free("block"), free("layer")
    # From the last run to the first, so earlier step indices stay valid.
    for replacement in reversed(replacements):
        first, last, spec = replacement.first, replacement.last, replacement.spec
        removed = {
            attr for step in original[first.start : last.stop] for attr in layers_in(step.value)
        }
        position = min(i for i, layer in enumerate(layers) if layer.attr in removed)
        layers = [layer for layer in layers if layer.attr not in removed]
        kwargs: tuple[tuple[str, Value], ...] = ()
        if replacement.blocks.reads_training:
            kwargs = (("training", TrainingFlag(None)),)
        variable = last.result
        if replacement.index is not None:  # one instance of a list of units between runs
            if replacement.index == 0:
                layers.insert(position, spec)
                params[:0] = replacement.params
            call = Call(
                Subscript(SelfAttr(spec.attr), replacement.index), (Name(first.source),), kwargs
            )
            steps[first.start : last.stop] = [Assign((variable,), call)]
            continue
        layers.insert(position, spec)
        params[:0] = replacement.params
        if replacement.single:
            call = Call(SelfAttr(spec.attr), (Name(first.source),), kwargs)
            steps[first.start : last.stop] = [Assign((variable,), call)]
            continue
        # ``for layer in self.dense_layers``, ``for block in self.conv_blocks``
        loop_variable = layer_variable if replacement.blocks.block is None else block_variable
        body = Assign((variable,), Call(Name(loop_variable), (Name(variable),), kwargs))
        steps[first.start : last.stop] = [
            Assign((variable,), Name(first.source)),
            ForEach(loop_variable, spec.attr, (body,)),
        ]
    return dataclasses.replace(
        model, layers=tuple(layers), steps=tuple(steps), params=tuple(params)
    )
