"""Builds one block class from the instances of a repeated unit.

Values that differ between instances become the block's parameters (a value that is
always k times another becomes ``k * filters``); optional chains become flags; inner layers
keep their original Keras names, derived from the block's own name where every instance
follows one scheme (``self.name + "_1_conv"``), else passed in as ``layer_names``.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.core.ir import (
    INPUT_CHANNELS,
    Assign,
    BinOp,
    Call,
    Compare,
    FormattedName,
    IfExp,
    InputSpec,
    LayerSpec,
    ModelIR,
    Name,
    OwnName,
    Param,
    SelfAttr,
    Step,
    Subscript,
    Symbol,
    TrainingFlag,
    Value,
    When,
    iter_values,
)
from generator.core.layer_words import claim_attributes, is_auto_name, layer_word
from generator.core.naming import KERAS_MODEL_ATTRIBUTES, MODULE_RESERVED, NameRegistry, to_snake
from generator.core.structure.chains import Chain, bypasses
from generator.core.structure.dataflow import (
    KEEP,
    all_assigns,
    layers_in,
    rename_variables,
    substitute,
    transform,
    variables_in,
)
from generator.core.structure.families import Family, Occurrence
from generator.core.structure.layer_roles import FOLLOWING_LAYERS, OPERATOR_LAYERS
from generator.core.structure.param_groups import Slot, grouped_parameters
from generator.core.structure.shapes import (
    Path,
    fill_holes,
    is_literal,
    literal_view,
    same_literal,
)

SEPARATORS = "_-./"
MIN_PREFIX = 4  # characters: shorter shared beginnings are words, not a model's name
# Layers that carry a block's computation, by their attribute word: what a block whose
# layer names say nothing is named after.
MAIN_LAYER_WORDS = frozenset(
    {"conv", "deconv", "depthwise", "separable", "dense", "attention", "lstm", "gru", "embedding"}
)
RESIDUAL = "residual"  # the flag of an optional part that adds the block's input back
NAMES_PARAM = "layer_names"


class NotFactorable(Exception):
    """This run cannot be one block safely; its steps stay as they are."""


@dataclass
class BlockParam:
    name: str
    values: list[Any]  # one per instance: literal values
    doc: str
    flag: bool = False
    counter: bool = False  # Keras's numbering of unnamed layers, not a hyperparameter
    kind: str = ""  # what the value measures (see ``_kind``); shared only within a kind
    known: list[bool] | None = None  # where the value matters (None: everywhere)
    stem: str = ""  # the argument it fills whole (``filters``), before names clashed

    def subset(self, start: int, stop: int) -> BlockParam:
        """The same parameter for instances ``start`` to ``stop`` only."""
        known = None if self.known is None else self.known[start:stop]
        return dataclasses.replace(self, values=self.values[start:stop], known=known)


@dataclass
class Blocks:
    """What replaces a run of instances: the element class and each instance's arguments.

    ``block`` is the generated Layer class, or None when the unit is a single layer (the
    instances are then that Keras class itself, ``template`` its call with ``Name``s
    where parameters go)."""

    element: Symbol
    block: ModelIR | None
    params: list[BlockParam]
    names: list[str]
    template: Call | None
    reads_training: bool
    label: str
    own_names: list[str] = field(default_factory=list)  # every Keras name it replaces
    instance_own: list[list[str]] = field(default_factory=list)  # the same, per instance
    # Values the block computes itself (``residual``), still telling where stages begin.
    hints: list[BlockParam] = field(default_factory=list)

    def subset(self, start: int, stop: int) -> Blocks:
        """The same class, for instances ``start`` to ``stop`` only."""
        params = [p.subset(start, stop) for p in self.params]
        hints = [p.subset(start, stop) for p in self.hints]
        own = self.instance_own[start:stop]
        return dataclasses.replace(
            self,
            params=params,
            hints=hints,
            names=self.names[start:stop],
            own_names=[n for names in own for n in names],
            instance_own=own,
        )


def build_blocks(
    model: ModelIR,
    families: Sequence[Family],
    units: Sequence[Sequence[Occurrence]],
    classes: NameRegistry,
    fallback: str = "block",
) -> Blocks:
    """The block (or layer list) that computes every unit of a run; ``fallback`` names
    its class where the layers' names do not.

    Raises:
        NotFactorable: the instances differ in a way a parameter cannot express.
    """
    layers = {layer.attr: layer for layer in model.layers}
    registry = NameRegistry(
        KERAS_MODEL_ATTRIBUTES | MODULE_RESERVED | {NAMES_PARAM, INPUT_CHANNELS, "input_shape"},
        "layer",
    )
    fresh = _Fresh()
    steps: list[Assign | When] = []
    slots: dict[str, _Slot] = {}  # placeholder attribute -> slot
    current = "inputs"
    flags: list[list[bool]] = []
    for position in range(len(units[0])):
        column = [unit[position] for unit in units]
        family = families[column[0].family]
        always = frozenset(set.intersection(*(o.skipped for o in column)))
        sometimes = frozenset(set.union(*(o.skipped for o in column))) - always
        kept, result, skipped = _kept_steps(family, always)
        local = {family.anchor.source: current}
        optional: dict[int, tuple[int, Chain]] = {}  # step index -> (flag, chain)
        for chain_index in sorted(sometimes):
            chain = family.chains[chain_index]
            flags.append([chain_index not in o.skipped for o in column])
            for index in chain.steps:
                optional[index] = (len(flags) - 1, chain)
        by_index = dict(kept)
        emit = _Emitter(position, family, column, local, fresh, slots)
        for index, step in kept:
            if index not in optional:
                steps.append(emit(step, None))
                continue
            flag, chain = optional[index]
            if index != chain.steps[-1]:
                continue  # the whole chain is written where its last step is
            body = tuple(emit(by_index[link], flag) for link in chain.steps)
            bypass = rename_variables(Name(skipped.get(chain.bypass, chain.bypass)), local)
            steps.append(When(Name(f"<flag{flag}>"), body, (Assign(body[-1].targets, bypass),)))
        current = local.get(result, result)
    if not slots:
        raise NotFactorable("a unit without layers is left as it is")
    names = _instance_names(list(slots.values()), layers, len(units))
    training = _single_layer_call(steps)
    if training is not None:
        return _layer_run(next(iter(slots.values())), layers, registry, training)
    sizes = dict(model.channels)
    channels = [sizes.get(unit[0].segment.source) for unit in units]
    widths = [sizes.get(unit[-1].segment.result) for unit in units]
    return _block_class(
        model,
        steps,
        slots,
        flags,
        names,
        current,
        layers,
        registry,
        classes,
        (channels, widths),
        fallback,
    )


def _single_layer_call(steps: list[Assign | When]) -> bool | None:
    """For a unit that is one layer called on the unit's input (and ``training`` at
    most): whether it passes ``training``; else None."""
    if len(steps) != 1 or not isinstance(steps[0], Assign):
        return None
    call = steps[0].value
    if not (isinstance(call, Call) and isinstance(call.func, SelfAttr)):
        return None
    if call.args != (Name("inputs"),) or len(steps[0].targets) != 1:
        return None
    if call.kwargs == ():
        return False
    if call.kwargs == (("training", TrainingFlag(None)),):
        return True
    return None


@dataclass
class _Emitter:
    """Writes one segment's steps into the block: fresh variables, placeholder layer
    attributes, and a slot per layer."""

    position: int
    family: Family
    column: list[Occurrence]
    local: dict[str, str]
    fresh: _Fresh
    slots: dict[str, _Slot]

    def __call__(self, step: Assign, flag: int | None) -> Assign:
        for attr in layers_in(step.value):
            key = f"<{self.position}:{attr}>"
            self.slots.setdefault(key, _Slot(self.family, attr, self.column, flag))
        return _renamed(step, self.position, self.local, self.fresh)


@dataclass
class _Slot:
    family: Family
    attr: str  # the anchor's attribute
    column: list[Occurrence]
    flag: int | None

    def spec_of(self, instance: int, layers: dict[str, LayerSpec]) -> LayerSpec | None:
        attr = self.column[instance].layer_of.get(self.attr)
        return None if attr is None else layers[attr]


class _Fresh:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"t{self.count}"


def _kept_steps(
    family: Family, always: frozenset[int]
) -> tuple[list[tuple[int, Assign]], str, dict[str, str]]:
    """The anchor's steps (with their indices) without the chains no instance has."""
    chains = [family.chains[i] for i in sorted(always)]
    removed = {index for chain in chains for index in chain.steps}
    mapping = bypasses(family.steps, chains)
    result = mapping.get(family.anchor.result, family.anchor.result)
    kept = [
        (index, Assign(step.targets, rename_variables(step.value, mapping), step.unpack))
        for index, step in enumerate(family.steps)
        if index not in removed
    ]
    return kept, result, mapping


def _renamed(step: Assign, position: int, local: dict[str, str], fresh: _Fresh) -> Assign:
    """The step with fresh variable names and placeholder layer attributes (one unit may
    hold two segments of one family, so anchor attributes alone are ambiguous)."""
    value = rename_variables(step.value, local)
    value = _replace_attrs(value, lambda attr: f"<{position}:{attr}>")
    targets = []
    for target in step.targets:
        local[target] = fresh()
        targets.append(local[target])
    return Assign(tuple(targets), value, step.unpack)


# -- names ---------------------------------------------------------------------------------


@dataclass
class _Names:
    """How each inner layer's Keras name is made, for every instance alike: from the
    block's own name (``self.name + "_1_conv"``), from a number (``conv2d_12``: Keras's
    own numbering of unnamed layers, one counter per group of layers numbered together),
    or listed in ``layer_names`` where neither fits."""

    block_names: list[str]  # each instance's name, when some layer's name derives from it
    schemes: list[tuple]  # per slot: ("own", suffix), ("number", text, group, offset), ("list",)
    counters: list[list[int]]  # per group: each instance's number
    listed: list[tuple[str | None, ...]]  # per instance: the names of the "list" slots
    own_slots: dict[int, str] = field(default_factory=dict)  # slot -> suffix, from the names


_NUMBERED = re.compile(r"^(.*?)_(0|[1-9][0-9]*)$")


def _instance_names(slots: list[_Slot], layers: dict[str, LayerSpec], count: int) -> _Names:
    """The names; a weightless layer Keras named takes the block's name (``self.name +
    "_relu"``) where that makes a counter parameter, or a listed name, unneeded. Where a
    layer with weights shares its counter, the counter stays, and the names with it:
    a chain written once as a class (``ConvBnAct``) is then the same in every block."""
    table = [[_spec_name(s, i, layers) for s in slots] for i in range(count)]
    given = _one_given_name(slots, layers, count)
    plain = _names_with(table, {}, given)
    candidates = _weightless_suffixes(slots, layers, count, plain.own_slots)
    sharing = {
        scheme[2]
        for j, scheme in enumerate(plain.schemes)
        if scheme[0] == "number" and j not in candidates
    }
    derived = {
        j: suffix
        for j, suffix in candidates.items()
        if plain.schemes[j][0] == "list"
        or (plain.schemes[j][0] == "number" and plain.schemes[j][2] not in sharing)
    }
    return _names_with(table, derived, given) if derived else plain


def _one_given_name(slots: list[_Slot], layers: dict[str, LayerSpec], count: int) -> int | None:
    """The one slot a person named in every instance, each differently, where Keras named
    all the others: InceptionV3's ``mixed0``, ``mixed1``… on the block's concatenation.
    That name is the block's (``name=self.name`` inside), as Keras's own code names the
    module after it."""
    given = []
    for j, slot in enumerate(slots):
        specs = [slot.spec_of(i, layers) for i in range(count)]
        present = [spec for spec in specs if spec is not None]
        if any(not is_auto_name(spec.name, spec.class_label) for spec in present):
            if len(present) < count or len({spec.name for spec in present}) < count:
                return None
            given.append(j)
    return given[0] if len(given) == 1 else None


def _names_with(
    table: list[list[str | None]], derived: dict[int, str], given: int | None = None
) -> _Names:
    prefixes, own = own_prefixes(table)
    if not own and given is not None:
        prefixes, own = [str(row[given]) for row in table], {given: ""}
    schemes: list[tuple] = []  # ("own", suffix), ("number", text, group, offset, bare), ("list",)
    groups: list[tuple[int, list[int | None]]] = []  # (first slot, its numbers)
    counters: list[list[int | None]] = []
    for j in range(len(table[0])):
        if j in own or j in derived:
            schemes.append(("own", own[j] if j in own else derived[j]))
            continue
        numbered = _numbers(table, j)
        if numbered is None:
            schemes.append(("list",))
            continue
        text, numbers, bare = numbered
        for group, (_, base) in enumerate(groups):
            offset = _constant_offset(numbers, base)
            if offset is not None:
                schemes.append(("number", text, group, offset, bare))
                for k, n in enumerate(numbers):
                    if base[k] is None and n is not None:
                        base[k] = n - offset
                break
        else:
            groups.append((j, list(numbers)))
            schemes.append(("number", text, len(groups) - 1, 0, bare))
    for group, (_, base) in enumerate(groups):
        # Numbered from a layer some instances lack, the first instance's counter may
        # fall below 0 (``number_1=-1`` and ``activation_{number_1 + 1}``): count from
        # the smallest instead, so each counter is a number a name holds.
        lowest = min((b for b in base if b is not None), default=0)
        if lowest < 0:
            base = [None if b is None else b - lowest for b in base]
            schemes = [
                (*scheme[:3], scheme[3] + lowest, *scheme[4:])
                if scheme[0] == "number" and scheme[2] == group
                else scheme
                for scheme in schemes
            ]
        counters.append(list(base))
    listed_slots = [j for j, scheme in enumerate(schemes) if scheme[0] == "list"]
    listed = [tuple(row[j] for j in listed_slots) for row in table] if listed_slots else []
    return _Names(
        prefixes if own else [],
        schemes,
        [_forward_filled(c) for c in counters],
        listed,
        own,
    )


def _weightless_suffixes(
    slots: list[_Slot], layers: dict[str, LayerSpec], count: int, own: dict[int, str]
) -> dict[int, str]:
    """Slots of a weightless layer (an ``Add``, a ``ReLU``) that Keras named in every
    instance: named after the block (``self.name + "_relu"``) rather than by a counter
    parameter (``f"re_lu_{number}"``), for no weights pair by its name and ``verify``
    accepts such a layer under another name. A suffix ends no other layer's name."""
    everywhere = [layer.name for layer in layers.values()]
    taken = set(own.values())
    found: dict[int, str] = {}
    for j, slot in enumerate(slots):
        specs = [spec for i in range(count) if (spec := slot.spec_of(i, layers)) is not None]
        if j in own or not specs or not all(_made_up_weightless(spec) for spec in specs):
            continue
        word, number = layer_word(specs[0].class_label), 0
        suffix = f"_{word}"
        while suffix in taken or any(name.endswith(suffix) for name in everywhere):
            number += 1
            suffix = f"_{word}_{number}"
        taken.add(suffix)
        found[j] = suffix
    return found


def _made_up_weightless(spec: LayerSpec) -> bool:
    call = spec.constructor
    return (
        isinstance(call, Call)
        and isinstance(call.func, Symbol)
        and call.func.module == "keras"
        and call.func.qualname in OPERATOR_LAYERS
        and is_auto_name(spec.name, spec.class_label)
    )


def _numbers(table: list[list[str | None]], j: int) -> tuple[str, list[int | None], bool] | None:
    """``conv2d``, ``conv2d_1``, ``conv2d_12``… (Keras's numbering, the first bare) or
    ``conv_0``, ``conv_1``…: one text, each instance's number, and whether 0 is bare."""
    texts: set[str] = set()
    numbers: list[int | None] = []
    bare = suffixed_zero = False
    for row in table:
        name = row[j]
        if name is None:
            numbers.append(None)
            continue
        match = _NUMBERED.match(name)
        text, number = (match.group(1), int(match.group(2))) if match else (name, 0)
        bare = bare or match is None
        suffixed_zero = suffixed_zero or (match is not None and number == 0)
        texts.add(text)
        numbers.append(number)
    if len(texts) != 1 or (bare and suffixed_zero):
        return None
    text = texts.pop()
    if not text or len(set(numbers) - {None}) < 2:
        return None
    return text, numbers, bare


def _constant_offset(numbers: list[int | None], base: list[int | None]) -> int | None:
    offsets = {n - b for n, b in zip(numbers, base, strict=True) if n is not None and b is not None}
    return offsets.pop() if len(offsets) == 1 else None


def _forward_filled(values: list[int | None]) -> list[int]:
    known = [v for v in values if v is not None]
    out, last = [], known[0] if known else 0
    for value in values:
        last = last if value is None else value
        out.append(last)
    return out


def own_prefixes(table: list[list[str | None]]) -> tuple[list[str], dict[int, str]]:
    """Each instance's name and the suffixes that derive layer names from it, if at least
    two layers of every instance are named that way."""
    count, width = len(table), len(table[0])
    suffixes = {}
    for j in range(width):
        suffix = common_suffix([name for row in table if (name := row[j]) is not None])
        cut = min((i for i, ch in enumerate(suffix) if ch in SEPARATORS), default=len(suffix))
        suffixes[j] = suffix[cut:]
    prefixes = []
    for row in table:
        votes: dict[str, int] = {}
        for j, name in enumerate(row):
            if name is not None and len(name) > len(suffixes[j]):
                candidate = name[: len(name) - len(suffixes[j])]
                votes[candidate] = votes.get(candidate, 0) + 1
        best = max(votes.items(), key=lambda item: (item[1], item[0]), default=("", 0))
        if best[1] < 2:
            return [], {}
        prefixes.append(best[0])
    if len(set(prefixes)) != count:
        return [], {}
    own = {}
    for j in range(width):
        column = [(row[j], prefix) for row, prefix in zip(table, prefixes, strict=True)]
        named = [(name, prefix) for name, prefix in column if name is not None]
        rests = {name[len(prefix) :] for name, prefix in named if name.startswith(prefix)}
        present = len(named)
        matching = sum(name.startswith(prefix) for name, prefix in named)
        if len(rests) == 1 and matching == present:
            own[j] = rests.pop()
    return (prefixes, own) if own else ([], {})


def _spec_name(slot: _Slot, instance: int, layers: dict[str, LayerSpec]) -> str | None:
    spec = slot.spec_of(instance, layers)
    return None if spec is None else spec.name


def common_suffix(names: list[str]) -> str:
    return common_prefix([name[::-1] for name in names])[::-1]


def common_prefix(names: list[str]) -> str:
    if not names:
        return ""
    first, last = min(names), max(names)
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return first[:length]


def model_prefix(names: Sequence[str]) -> str:
    """The beginning every layer name of a model shares, up to a separator
    (``convnext_tiny_``): the model's name, which attributes and block classes leave out.
    Empty when shorter than MIN_PREFIX or when it is itself a layer's whole name."""
    if len(names) < 2:
        return ""
    prefix = common_prefix(list(names))
    cut = max((i + 1 for i, ch in enumerate(prefix) if ch in SEPARATORS), default=0)
    prefix = prefix[:cut]
    if len(prefix) < MIN_PREFIX or any(name == prefix for name in names):
        return ""
    return prefix


def attr_from_suffix(suffix: str) -> str:
    """``"_1_conv"`` → ``conv_1``: words first, numbers after, as a person names things."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", suffix) if w]
    numbers = [w for w in words if w.isdigit()]
    text = [w for w in words if not w.isdigit()]
    return to_snake("_".join(text + numbers))


def class_stem(names: Sequence[str]) -> str:
    """The part of the instance names that does not count instances: digit and letter
    runs that differ between instances are dropped (``conv2_block1``… → ``conv_block``,
    ``block2a``, ``block2b``… → ``block``)."""
    split = [re.findall(r"\d+|[A-Za-z]+|[^A-Za-z\d]+", name) for name in names]
    if len({len(parts) for parts in split}) != 1:
        return re.sub(r"\d+", "", names[0])
    kept = [column[0] for column in zip(*split, strict=True) if len(set(column)) == 1]
    return re.sub(r"_+", "_", "".join(kept)).strip("_")


# -- the layer list of a single-layer unit -------------------------------------------------


def _layer_run(
    slot: _Slot, layers: dict[str, LayerSpec], registry: NameRegistry, training: bool
) -> Blocks:
    specs = [slot.spec_of(i, layers) for i in range(len(slot.column))]
    anchor = layers[slot.attr]
    values, params = _holes([specs], [anchor], registry)
    template = fill_holes(_template_of(specs, anchor), values[0])
    assert isinstance(template.func, Symbol)
    return Blocks(
        element=template.func,
        block=None,
        params=params,
        names=[spec.name for spec in specs if spec is not None],
        template=template,
        reads_training=training,
        label=anchor.class_label,
        own_names=[spec.name for spec in specs if spec is not None],
        instance_own=[[spec.name] if spec is not None else [] for spec in specs],
    )


# -- the block class -----------------------------------------------------------------------


def _block_class(
    model: ModelIR,
    steps: list[Assign | When],
    slots: dict[str, _Slot],
    flags: list[list[bool]],
    names: _Names,
    result: str,
    layers: dict[str, LayerSpec],
    registry: NameRegistry,
    classes: NameRegistry,
    sizes: tuple[list[int | None], list[int | None]],
    fallback: str,
) -> Blocks:
    channels, out_channels = sizes  # each instance's input and output widths
    count = len(flags[0]) if flags else len(next(iter(slots.values())).column)
    slot_list = list(slots.values())
    anchors = [layers[s.attr] for s in slot_list]
    per_slot_specs = [[s.spec_of(i, layers) for i in range(count)] for s in slot_list]
    attr_names = [
        _attribute_name(scheme, anchor.class_label)
        for scheme, anchor in zip(names.schemes, anchors, strict=True)
    ]
    # The beginning all share (``convnext_tiny_downsampling_``) says nothing.
    shared = common_prefix(attr_names) if all(attr_names) else ""
    shared = shared[: shared.rfind("_") + 1] if len(shared) >= 4 else ""
    attrs = claim_attributes(
        registry,
        [name[len(shared) :] for name in attr_names],
        [
            "" if name[len(shared) :] else layer_word(a.class_label)
            for name, a in zip(attr_names, anchors, strict=True)
        ],
    )
    if any(_channels_first(spec) for specs in per_slot_specs for spec in specs if spec):
        channels = []  # the recorded sizes are of the last axis, not of the channels
    values, params = _holes(per_slot_specs, anchors, registry, channels)
    flag_names = []
    adding_back: list[str] = []  # the flags of a part that adds the input back
    projecting: list[str] = []  # the flags of a convolved shortcut
    for number, present in enumerate(flags):
        flag_layers = [attrs[i] for i, s in enumerate(slot_list) if s.flag == number]
        step = next(
            s for s in steps if isinstance(s, When) and s.condition == Name(f"<flag{number}>")
        )
        wanted, doc = _flag_name(step, flag_layers, steps)
        flag_names.append(registry.claim(wanted))
        if wanted == RESIDUAL:
            adding_back.append(flag_names[-1])
        if doc.startswith(SHORTCUT_DOC):
            projecting.append(flag_names[-1])
        params.append(BlockParam(flag_names[-1], list(present), doc, True))
    derived = derived_parameters(params)
    gated = {
        name: [i for i, s in enumerate(slot_list) if s.flag == n]
        for n, name in enumerate(flag_names)
    }
    derived.update(_ratio_flags(params, gated, values))
    undecided = [name for name in adding_back if name not in derived]
    # A shortcut convolution that seems to follow the stride (``strides == 2``) is there
    # because the shape changes; with other widths a stride of 1 changes it too.
    strides = {p.name for p in params if p.kind == "strides"}
    by_stride = [
        name
        for name in projecting
        if name in derived
        and {v.id for v in iter_values(derived[name]) if isinstance(v, Name)} <= strides
    ]
    computed: dict[str, Value] = {}
    if (undecided or by_stride) and _only_strides_resize(
        params, derived, values, per_slot_specs, gated, adding_back
    ):
        computed = _shape_kept(params, undecided, channels, out_channels)
        computed.update(_shape_kept(params, by_stride, channels, out_channels, changed=True))
        for name in computed:
            derived.pop(name, None)
        for name in set(by_stride) & set(computed):
            _stride_with_block(values, gated[name], per_slot_specs, params)
    hints = [p for p in params if p.name in computed]
    params = [p for p in params if p.name not in derived and p.name not in computed]
    values = [{path: substitute(value, derived) for path, value in v.items()} for v in values]
    conditions = [derived.get(name, Name(name)) for name in flag_names]
    read_by_flags = {
        node.id
        for expression in (*derived.values(), *computed.values())
        for node in iter_values(expression)
        if isinstance(node, Name)
    }
    slots_read = [
        Slot(attr, anchor.class_label, {path: _hole_name(path, anchor) for path in holes})
        for attr, anchor, holes in zip(attrs, anchors, values, strict=True)
    ]
    params, values = grouped_parameters(params, values, slots_read, read_by_flags)
    counter_params = []
    for group, counter in enumerate(names.counters):
        counter_params.append(registry.claim("number"))
        text = next(sc[1] for sc in names.schemes if sc[0] == "number" and sc[2] == group)
        params.append(
            BlockParam(
                counter_params[-1],
                counter,
                f"the number in its layers' names ({text}_{max(counter)}: {max(counter)})",
                counter=True,
            )
        )
    if names.listed:
        params.append(
            BlockParam(
                NAMES_PARAM,
                names.listed,
                "the Keras names of its layers named neither way, in order (None: absent)",
            )
        )
    block_layers = []
    for index, (slot, anchor) in enumerate(zip(slot_list, anchors, strict=True)):
        layer_name = _layer_name(names, index, counter_params)
        call = fill_holes(_template_of(per_slot_specs[index], anchor), values[index])
        block_layers.append(
            LayerSpec(
                attrs[index],
                anchor.name,
                Call(call.func, call.args, (*call.kwargs, ("name", layer_name))),
                anchor.class_label,
                arg_names=anchor.arg_names,
                defaults=anchor.defaults,
                when=None if slot.flag is None else conditions[slot.flag],
                deferred=Name(INPUT_CHANNELS) in iter_values(call),
            )
        )
    if computed or any(layer.deferred for layer in block_layers):
        # All made in build(), in their order: one place creates the block's layers.
        block_layers = [dataclasses.replace(layer, deferred=True) for layer in block_layers]
    attr_of = dict(zip(slots, attrs, strict=True))
    final_steps = [_final_step(step, attr_of, conditions) for step in steps]
    stem = class_stem(names.block_names) if names.block_names else ""
    prefix = model_prefix([layer.name for layer in model.layers])
    if prefix and stem.startswith(prefix) and stem != prefix:
        stem = stem[len(prefix) :]  # ConvNeXt's StageBlock, not ConvnextTinyStageBlock
    if not names.block_names and fallback == "block":
        # Names Keras made up say nothing: the block is named for its main layer
        # (DeconvBlock, SeparableBlock), which tells a U-Net's two kinds apart.
        words = [layer_word(anchor.class_label) for anchor in anchors]
        main = next((word for word in words if word in MAIN_LAYER_WORDS), "")
        stem = f"{main}_block" if main else ""
        if main in ("conv", "") and _adds_its_input(final_steps, block_layers):
            stem = "residual_block"  # what keras.io's EDSR, ResNets and CycleGAN call it
    class_name = classes.claim(stem or fallback, style="pascal")
    reads = any(
        isinstance(v, TrainingFlag)
        for step in final_steps
        for inner in ((step,) if isinstance(step, Assign) else (*step.body, *step.orelse))
        for v in iter_values(inner.value)
    )
    block = ModelIR(
        class_name=class_name,
        keras_name=class_name,
        inputs=(InputSpec("inputs", "inputs", (), ""),),
        input_structure="single",
        layers=tuple(block_layers),
        steps=tuple(final_steps),
        outputs=Name(result),
        params=tuple(
            Param(p.name, None, doc=doc, required=True)
            for p, doc in zip(params, _distinct_docs(params, block_layers), strict=True)
        ),
        summary=f"A block that {model.class_name} repeats.",
        kind="block",
        computed=tuple(computed.items()),
        example=(
            *((p.name, p.values[0]) for p in params),
            ("name", names.block_names[0] if names.block_names else f"{to_snake(class_name)}_1"),
        ),
    )
    return Blocks(
        element=Symbol("", class_name),
        block=block,
        params=params,
        names=names.block_names,
        template=None,
        reads_training=reads,
        label=class_name,
        own_names=[spec.name for specs in per_slot_specs for spec in specs if spec is not None],
        instance_own=[
            [spec.name for specs in per_slot_specs if (spec := specs[k]) is not None]
            for k in range(count)
        ],
        hints=hints,
    )


def _adds_its_input(steps: list[Step], layers: list[LayerSpec]) -> bool:
    """Whether a block adds its input, or a projection of it (two steps at most), to
    what a longer path computes from it: a residual block."""
    labels = {layer.attr: layer.class_label for layer in layers}
    depth = {"inputs": 0}
    for step in steps:
        branches = (step.body, step.orelse) if isinstance(step, When) else ((step,),)
        for branch in branches:
            for assign in branch:
                if not isinstance(assign, Assign):
                    continue
                read = [depth[v] for v in variables_in(assign.value) if v in depth]
                if not read:
                    continue
                if _is_addition(assign.value, labels) and len(read) == 2:
                    if min(read) <= 2 < max(read) and max(read) > min(read) + 1:
                        return True
                for target in assign.targets:
                    depth[target] = max(depth.get(target, 0), 1 + max(read))
    return False


def _is_addition(value: Value, labels: dict[str, str]) -> bool:
    if isinstance(value, BinOp):
        return value.op == "+"
    if isinstance(value, Call) and isinstance(value.func, SelfAttr):
        return labels.get(value.func.attr) == "Add"
    return False


def _attribute_name(scheme: tuple, class_label: str) -> str:
    """From the names the instances share; empty where they share nothing or only what
    Keras makes up (``re_lu_3``, ``re_lu_7``…: the class's word then names it)."""
    if scheme[0] == "own":
        return attr_from_suffix(scheme[1])
    if scheme[0] == "number" and not is_auto_name(scheme[1], class_label):
        return to_snake(scheme[1])
    return ""


def _layer_name(names: _Names, index: int, counter_params: list[str]) -> Value:
    scheme = names.schemes[index]
    if scheme[0] == "own":
        return OwnName(scheme[1])
    if scheme[0] == "list":
        listed = [j for j, other in enumerate(names.schemes) if other[0] == "list"]
        return Subscript(Name(NAMES_PARAM), listed.index(index))
    _, text, group, offset, bare = scheme
    counter = Name(counter_params[group])
    number: Value = counter
    if offset:
        number = BinOp("+" if offset > 0 else "-", counter, abs(offset))
    numbered = FormattedName((f"{text}_", number))
    if bare and any(n + offset == 0 for n in names.counters[group]):
        return IfExp(number, numbered, text)  # Keras names the first of a class bare
    return numbered


# What a flag's doc says it switches: these, then the layers' attribute names.
SHORTCUT_DOC = "whether the shortcut goes through "
HAS_DOC = "whether the block has "
OPTIONAL_STEP = "this step"


def _flag_name(when: When, flag_layers: list[str], steps: list[Assign | When]) -> tuple[str, str]:
    """Name an optional part by its role: a convolved shortcut, an added residual, or
    else the layer it holds."""
    base = re.sub(r"_?\d+$", "", flag_layers[0]) if flag_layers else "step"
    bypass = when.orelse[0].value
    tail = when.body[-1].targets[0]
    readers = [s for s in steps if isinstance(s, Assign) and tail in variables_in(s.value)]
    # Merged with a path of its own, not with what was computed from it (a
    # squeeze-and-excitation gate multiplies the tensor it was computed from).
    merged = any(
        any(not _derives_from(other, tail, steps) for other in set(variables_in(r.value)) - {tail})
        for r in readers
    )
    adds_input = any(
        "inputs" in (read := variables_in(step.value)) and len(set(read)) >= 2 for step in when.body
    )
    if bypass == Name("inputs") and merged:
        return f"{base}_shortcut", SHORTCUT_DOC + ", ".join(flag_layers)
    if bypass != Name("inputs") and adds_input:
        return RESIDUAL, "whether the block adds its input back"
    return f"use_{base}", HAS_DOC + (", ".join(flag_layers) or OPTIONAL_STEP)


def _derives_from(var: str, source: str, steps: list[Assign | When]) -> bool:
    """Whether ``var`` is computed, through any steps, from ``source``."""
    reads: dict[str, set[str]] = {}
    for assign in all_assigns(tuple(steps)):
        for target in assign.targets:
            reads.setdefault(target, set()).update(variables_in(assign.value))
    seen, todo = set(), [var]
    while todo:
        current = todo.pop()
        if current == source:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(reads.get(current, set()) - {current})
    return False


def _final_step(step: Assign | When, attr_of: dict[str, str], conditions: list[Value]):
    """Placeholders replaced by the block's attributes and conditions."""

    def fix(assign: Assign) -> Assign:
        value = _replace_attrs(assign.value, lambda attr: attr_of.get(attr, attr))
        return Assign(assign.targets, value, assign.unpack)

    if isinstance(step, When):
        assert isinstance(step.condition, Name)
        number = int(step.condition.id[len("<flag") : -1])
        body = tuple(fix(a) for a in step.body)
        return When(conditions[number], body, tuple(fix(a) for a in step.orelse))
    return fix(step)


def _replace_attrs(value: Value, rename: Callable[[str], str]) -> Value:
    return transform(
        value, lambda node: SelfAttr(rename(node.attr)) if isinstance(node, SelfAttr) else KEEP
    )


# -- holes become parameters ---------------------------------------------------------------


def _holes(
    per_slot_specs: list[list[LayerSpec | None]],
    anchors: list[LayerSpec],
    registry: NameRegistry,
    channels: Sequence[int | None] = (),
) -> tuple[list[dict[Path, Value]], list[BlockParam]]:
    """For each slot, what goes in each hole: the shared value, or a parameter (or a
    multiple of one); and the parameters with each instance's value.

    Layers every instance has go first, so an optional layer's values (unknown where it
    is absent) are matched against parameters the others already define.
    """
    params: list[BlockParam] = []
    filled: list[dict[Path, Value]] = [{} for _ in anchors]
    tuples: list[tuple[int, Path, list[list[Any]]]] = []
    order = sorted(range(len(anchors)), key=lambda i: None in per_slot_specs[i])
    for index in order:
        specs, anchor = per_slot_specs[index], anchors[index]
        views = [None if spec is None else _full_view(spec) for spec in specs]
        explicit = literal_view(_template_of(specs, anchor))
        defaults = dict(anchor.defaults)  # Keras's, of the unwritten parameters
        for spec in specs:
            defaults.update(spec.defaults if spec is not None else ())
        # The anchor's own literals too: it may not be an instance of this run, and a
        # literal without a known default (``trainable=False``) must not spread.
        paths: dict[Path, None] = dict.fromkeys(literal_view(anchor))
        paths.update(dict.fromkeys(explicit))
        for view in views:
            if view is not None:
                paths.update(dict.fromkeys(view))
        for path in paths:
            vector: list[Any] = []
            for view in views:
                if view is None:
                    vector.append(_ABSENT)
                elif path in view:
                    vector.append(view[path])
                else:
                    raise NotFactorable(f"{anchor.name}: no known default for {path}")
            present = [v for v in vector if v is not _ABSENT]
            if all(v == present[0] and type(v) is type(present[0]) for v in present):
                # Keras's default is written where an instance wrote it, not because the
                # anchor (a layer of the family, perhaps outside this run) spelled out
                # another value.
                default = defaults.get(path[1], _ABSENT) if len(path) == 2 else _ABSENT
                if path in explicit or not same_literal(present[0], default):
                    filled[index][path] = present[0]
                continue
            vector = _spatial_ints(vector, path, anchor)
            parts = _tuple_parts(vector)
            if parts is None:
                filled[index][path] = _parameter(vector, path, anchor, params, registry, channels)
            else:
                tuples.append((index, path, parts))
    # Components of tuples last: ``(1, 1, filters)`` reads a layer's own argument, not
    # ``filters=target_shape_2``.
    for index, path, parts in tuples:
        filled[index][path] = tuple(
            known[0]
            if all(v == known[0] and type(v) is type(known[0]) for v in known)
            else _parameter(part, (*path, k), anchors[index], params, registry, channels)
            for k, part in enumerate(parts)
            for known in ([v for v in part if v is not _ABSENT],)
        )
    _ratios_over_constants(filled, per_slot_specs, params)
    _widths_over_constants(filled, per_slot_specs, anchors, params)
    return filled, params


def _widths_over_constants(
    filled: list[dict[Path, Value]],
    per_slot_specs: list[list[LayerSpec | None]],
    anchors: list[LayerSpec],
    params: list[BlockParam],
) -> None:
    """``filters`` rather than ``16`` in an optional layer that has 16 filters wherever
    it exists, where the block's ``filters`` is 16 there too and differs elsewhere:
    keras.io's speaker recognition adds a convolution in its 16-filter blocks only, and a
    model built with other widths must widen it with the rest."""
    widths = [p for p in params if p.kind == "width" and not p.flag and not p.counter]
    for index, holes in enumerate(filled):
        specs = per_slot_specs[index]
        if None not in specs:
            continue
        for path, value in holes.items():
            if not _is_int(value) or _kind(_hole_name(path, anchors[index]), [value]) != "width":
                continue
            vector = [_ABSENT if spec is None else value for spec in specs]
            param = next(
                (p for p in widths if len(set(p.values)) > 1 and _agrees(vector, p.values, 1)),
                None,
            )
            if param is not None:
                holes[path] = Name(param.name)


def _ratios_over_constants(
    filled: list[dict[Path, Value]],
    per_slot_specs: list[list[LayerSpec | None]],
    params: list[BlockParam],
) -> None:
    """``self.expansion * channels`` rather than ``6 * channels`` where the block has an
    expansion parameter that is 6 wherever the layer exists: EfficientNet's expansion
    convolution (absent where the expansion is 1) and its squeeze-and-excitation reshape
    must widen by the same factor, or a model built with other expansions breaks."""
    ratios = [p for p in params if p.kind == _RATIO]
    if not ratios:
        return
    # A factor that a layer of every instance keeps while the ratio changes is the
    # block's own (a projection ``2 * channels``): a shortcut of that width, present
    # only where the ratio happens to be 2, follows the projection, not the ratio.
    pinned = {
        value.left
        for index, holes in enumerate(filled)
        if None not in per_slot_specs[index]
        for hole in holes.values()
        for value in (hole if isinstance(hole, tuple) else (hole,))
        if isinstance(value, BinOp) and _times_channels(value)
    }
    for index, holes in enumerate(filled):
        vector = [_ABSENT if spec is None else 1 for spec in per_slot_specs[index]]
        for path, value in holes.items():
            if isinstance(value, tuple):
                holes[path] = tuple(_as_ratio(v, vector, ratios, pinned) for v in value)
            else:
                holes[path] = _as_ratio(value, vector, ratios, pinned)


def _template_of(specs: Sequence[LayerSpec | None], anchor: LayerSpec) -> LayerSpec:
    """The constructor a slot's holes are filled in: its first instance's, which spells
    out what this run's layers do (the family's anchor may stride where they do not)."""
    return next((spec for spec in specs if spec is not None), anchor)


def _times_channels(value: Value) -> bool:
    """``k * channels`` with a literal ``k``."""
    return (
        isinstance(value, BinOp)
        and value.op == "*"
        and _is_int(value.left)
        and value.right == Name(INPUT_CHANNELS)
    )


def _as_ratio(value: Value, vector: list[Any], ratios: list[BlockParam], pinned: set[Any]) -> Value:
    """``k * channels`` as ``ratio * channels`` for the first ratio parameter that is
    ``k`` and matters wherever ``vector``'s layer exists (``k`` not ``pinned``)."""
    if not isinstance(value, BinOp) or not _times_channels(value) or value.left in pinned:
        return value
    for param in ratios:
        known = param.known or [True] * len(vector)
        if all(
            v is _ABSENT or (ratio == value.left and here)
            for v, ratio, here in zip(vector, param.values, known, strict=True)
        ):
            _also_known(param, vector)
            return BinOp("*", Name(param.name), Name(INPUT_CHANNELS))
    return value


def _tuple_parts(vector: list[Any]) -> list[list[Any]] | None:
    """Per component, each instance's value, for tuples of one length that agree in some
    component (``target_shape`` (1, 1, 96) and (1, 1, 144) read ``(1, 1, filters)``);
    else None."""
    present = [v for v in vector if v is not _ABSENT]
    if not all(isinstance(v, tuple) for v in present) or len({len(v) for v in present}) != 1:
        return None
    parts = [[_ABSENT if v is _ABSENT else v[k] for v in vector] for k in range(len(present[0]))]
    if any(isinstance(value, tuple) for part in parts for value in part):
        return None
    constant = [
        all(v == part_values[0] and type(v) is type(part_values[0]) for v in part_values)
        for part_values in ([v for v in part if v is not _ABSENT] for part in parts)
    ]
    return parts if any(constant) and not all(constant) else None


# Keras layer arguments that take an int for "the same along every axis".
_SPATIAL = frozenset({"strides", "kernel_size", "pool_size", "dilation_rate", "size"})


def _spatial_ints(vector: list[Any], path: Path, anchor: LayerSpec) -> list[Any]:
    """``(2, 2)`` as ``2`` where Keras reads both alike, so ``strides`` reads as 1 or 2
    rather than ``(1, 1)`` or 2."""
    call = anchor.constructor
    key = _hole_name(path, anchor) if len(path) == 2 else ""
    if key not in _SPATIAL or not isinstance(call, Call):
        return vector
    if not (isinstance(call.func, Symbol) and call.func.module == "keras"):
        return vector
    return [
        v[0] if isinstance(v, tuple) and v and all(_is_int(i) and i == v[0] for i in v) else v
        for v in vector
    ]


class _Absent:
    pass


def _filled(vector: list[Any]) -> tuple:
    """Where a layer is absent its value does not matter: repeat the one before (or
    after), so a per-stage pattern stays visible."""
    known = [v for v in vector if v is not _ABSENT]
    out, last = [], known[0]
    for value in vector:
        last = last if value is _ABSENT else value
        out.append(last)
    return tuple(out)


_ABSENT = _Absent()


def _full_view(spec: LayerSpec) -> dict[Path, Value]:
    view = literal_view(spec)
    for key, value in spec.defaults:
        view.setdefault(("kw", key), value)
    return view


def _parameter(
    vector: list[Any],
    path: Path,
    anchor: LayerSpec,
    params: list[BlockParam],
    registry: NameRegistry,
    channels: Sequence[int | None] = (),
) -> Value:
    """An existing parameter of the same kind (or, for widths, an integer multiple of
    one) that agrees wherever this layer exists, else a new parameter.

    Kinds keep coincidences out: a kernel size of 3 and 3 filters are equal by chance,
    and ``8 * kernel_size`` filters would read as nonsense."""
    wanted = _hole_name(path, anchor)
    kind = _kind(wanted, vector)
    same_kind = [p for p in params if p.kind == kind and not p.flag]
    for param in same_kind:
        if _agrees(vector, param.values, 1):
            _also_known(param, vector)
            return Name(param.name)
    if kind == "width" and channels:
        relation = _of_channels(vector, channels)
        if relation is not None:
            return relation
        for param in params:
            if param.kind == _RATIO and _agrees(vector, _times(param.values, channels), 1):
                _also_known(param, vector)
                return BinOp("*", Name(param.name), Name(INPUT_CHANNELS))
    for param in same_kind if kind == "width" else []:
        base = param.values
        if not all(_is_int(b) and b for b in base):
            continue
        pairs = [(v, b) for v, b in zip(vector, base, strict=True) if v is not _ABSENT]
        if not all(_is_int(v) for v, _ in pairs) or pairs[0][0] % pairs[0][1]:
            continue
        factor = pairs[0][0] // pairs[0][1]
        if factor > 1 and _agrees(vector, base, factor):
            _also_known(param, vector)
            return BinOp("*", factor, Name(param.name))
    for param in same_kind if kind == "width" else []:
        divisor = _divisor(vector, param.values)
        if divisor is not None:
            _also_known(param, vector)
            return BinOp("//", Name(param.name), divisor)
    ratios = _ratios(vector, channels) if kind == "width" else None
    if ratios is not None:
        # Widths that are each a whole multiple of the input's, by a factor that changes
        # (EfficientNet's expansion: 1 in its first block, 6 after): Keras's expand_ratio.
        name = registry.claim("expansion")
        doc = f"how many times its input's width the {anchor.class_label} ``{wanted}`` is"
        params.append(
            BlockParam(name, list(_filled(ratios)), doc, kind=_RATIO, known=_known_where(vector))
        )
        return BinOp("*", Name(name), Name(INPUT_CHANNELS))
    name = registry.claim(wanted)
    doc = f"``{_hole_label(path, anchor)}`` of its {anchor.class_label}"
    stem = wanted if len(path) == 2 else ""  # ``kernel_size_1`` of a tuple is one element
    params.append(
        BlockParam(
            name, list(_filled(vector)), doc, kind=kind, known=_known_where(vector), stem=stem
        )
    )
    return Name(name)


def _of_channels(vector: list[Any], channels: Sequence[int | None]) -> Value | None:
    """``6 * channels`` (or ``channels // 4``, or ``channels``) where every value is that
    multiple (or fraction, rounded down) of the block's input width: MobileNetV2 expands
    its input six times, so the expansion's filters follow from the input, not from a
    parameter."""
    pairs = [(v, c) for v, c in zip(vector, channels, strict=True) if v is not _ABSENT]
    sizes = [c for _, c in pairs if c is not None]
    if len(sizes) != len(pairs) or not all(_is_int(v) and v > 0 for v, _ in pairs):
        return None
    width = Name(INPUT_CHANNELS)
    (value, _), size = pairs[0], sizes[0]
    values = [v for v, _ in pairs]
    if value % size == 0 and all(
        v == c * (value // size) for v, c in zip(values, sizes, strict=True)
    ):
        factor = value // size
        return width if factor == 1 else BinOp("*", factor, width)
    if size % value == 0 and all(
        c == v * (size // value) for v, c in zip(values, sizes, strict=True)
    ):
        return BinOp("//", width, size // value)
    # Rounded down, as DenseNet's transition takes ``int(channels * 0.5)`` of an odd
    # width; inputs of two widths at least, so one width cannot make the case alone.
    divisor = size // value
    if (
        divisor >= 2
        and len(set(sizes)) >= 2
        and all(v == c // divisor for v, c in zip(values, sizes, strict=True))
    ):
        return BinOp("//", width, divisor)
    return None


_RATIO = "ratio"  # the kind of a parameter that multiplies the input's width


def _times(ratios: list[Any], channels: Sequence[int | None]) -> list[Any]:
    return [r * c if _is_int(r) and c else None for r, c in zip(ratios, channels, strict=True)]


def _ratios(vector: list[Any], channels: Sequence[int | None]) -> list[Any] | None:
    """Each width divided by its block's input width, where every known width is a
    whole multiple of it and the multiples differ (a constant one is ``k * channels``)
    in fewer values than the widths do."""
    if not channels:
        return None
    ratios: list[Any] = []
    for value, size in zip(vector, channels, strict=True):
        if value is _ABSENT:
            ratios.append(_ABSENT)
        elif _is_int(value) and size and value > 0 and value % size == 0:
            ratios.append(value // size)
        else:
            return None
    order = [r for r in ratios if r is not _ABSENT]
    changes = sum(a != b for a, b in zip(order, order[1:], strict=False))
    widths = {v for v in vector if v is not _ABSENT}
    # An expansion holds from some block on (EfficientNet: 1 in block1a, then 6), in
    # fewer values than the widths; a width that doubles at each stage's first block
    # (1, 2, 1, 2, 1 times the input) is just a width.
    return ratios if changes == 1 and len(set(order)) < len(widths) else None


def _channels_first(spec: LayerSpec) -> bool:
    """Whether a layer reads its channels elsewhere than on the last axis: a
    ``data_format="channels_first"``, or a normalization over axis 1."""
    view = _full_view(spec)
    return view.get(("kw", "data_format")) == "channels_first" or view.get(("kw", "axis")) in (
        1,
        (1,),
    )


def _divisor(vector: list[Any], base: list[Any]) -> int | None:
    """``k`` when every known value is ``base // k`` with nothing left over (an
    EfficientNet squeeze-and-excitation width: the expansion's 1/24), else None."""
    pairs = [(v, b) for v, b in zip(vector, base, strict=True) if v is not _ABSENT]
    if not all(_is_int(v) and v > 0 and _is_int(b) for v, b in pairs):
        return None
    value, whole = pairs[0]
    if whole % value or whole // value < 2:
        return None
    divisor = whole // value
    return divisor if all(b == v * divisor for v, b in pairs) else None


def _known_where(vector: list[Any]) -> list[bool] | None:
    """Where the value matters: where its layer exists (None: in every instance)."""
    present = [v is not _ABSENT for v in vector]
    return None if all(present) else present


def _also_known(param: BlockParam, vector: list[Any]) -> None:
    """The parameter now matters wherever ``vector``'s layer exists too."""
    if param.known is not None:
        present = zip(param.known, vector, strict=True)
        param.known = [known or value is not _ABSENT for known, value in present]


# Arguments that measure space, not channels: a value is shared only with the same argument.
_GEOMETRY = _SPATIAL | {"padding", "cropping", "axis", "seed"}


def _kind(hole: str, vector: list[Any]) -> str:
    """What a hole's value measures: ``width`` for the integers that count channels,
    features or groups (a tuple's components such as ``target_shape_2`` included), else
    the argument's own name (kernel sizes, strides, rates, strings)."""
    base = re.sub(r"_\d+$", "", hole)
    if base in _GEOMETRY:
        return base
    if all(_is_int(v) for v in vector if v is not _ABSENT):
        return "width"
    return base


def _agrees(vector: list[Any], values: list[Any], factor: int) -> bool:
    for value, base in zip(vector, values, strict=True):
        if value is _ABSENT:
            continue
        expected = base * factor if factor != 1 else base
        if value != expected or type(value) is not type(expected):
            return False
    return True


def _is_int(value: Value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hole_label(path: Path, anchor: LayerSpec) -> str:
    """What a hole is, for docs: ``kernel_size[1]`` for one element of a tuple."""
    base = _hole_name(path[:2], anchor)
    return base if len(path) == 2 else f"{base}[{path[2]}]"


def _hole_name(path: Path, anchor: LayerSpec) -> str:
    if path[0] == "arg":
        index = path[1]
        base = anchor.arg_names[index] if index < len(anchor.arg_names) else f"arg_{index}"
    else:
        base = path[1]
    return base if len(path) == 2 else f"{base}_{path[2]}"


# -- parameters that follow others ---------------------------------------------------------

# A padding follows the stride or kernel size it pads for, and so does an optional padding
# layer: MobileNetV2 writes ``padding="same" if strides == 1 else "valid"``.
_DRIVERS = ("strides", "kernel_size", "dilation_rate", "pool_size")
_FOLLOWERS = frozenset({"padding", "cropping"})
MIN_SUPPORT = 2  # instances that must show each value of the driver


def _distinct_docs(params: list[BlockParam], layers: list[LayerSpec]) -> list[str]:
    """Each parameter's description; where several would read alike (InceptionResNetV2's
    three "``filters`` of its Conv2D"), each names the layers of that class that read it,
    and any other layer reading it with its class."""
    seen = Counter(p.doc for p in params)
    docs = []
    for param in params:
        readers = [layer for layer in layers if Name(param.name) in iter_values(layer.constructor)]
        if seen[param.doc] < 2 or not readers:
            docs.append(param.doc)
            continue
        named = [f"``{r.attr}``" for r in readers if param.doc.endswith(f" {r.class_label}")]
        others = [
            f"``{r.attr}`` ({r.class_label})"
            for r in readers
            if not param.doc.endswith(f" {r.class_label}")
        ]
        doc = f"{param.doc} {', '.join(named)}" if named else param.doc
        docs.append(f"{doc}; also read by {', '.join(others)}" if others else doc)
    return docs


def derived_parameters(params: list[BlockParam]) -> dict[str, Value]:
    """Flags and paddings that every instance computes from a stride or kernel size (one
    value of it decides: ``strides == 2``, ``"valid" if strides == 2 else "same"``), by
    name. Each value of the driver must show in two instances or more: one instance
    agrees with anything."""
    drivers = [
        p for kind in _DRIVERS for p in params if p.kind == kind and not (p.flag or p.counter)
    ]
    derived: dict[str, Value] = {}
    for param in params:
        if param.counter or not (param.flag or param.kind in _FOLLOWERS):
            continue
        for driver in drivers:
            expression = _follows(param, driver)
            if expression is not None:
                derived[param.name] = expression
                break
    return derived


# Arguments that change a layer's spatial size, besides its strides.
_RESIZING = frozenset({"padding", "cropping", "pool_size", "size", "dilation_rate"})
# Layers that keep the size of what they read.
_SIZE_KEEPING = FOLLOWING_LAYERS | {"GaussianNoise", "GaussianDropout", "Dense"}


def _only_strides_resize(
    params: list[BlockParam],
    derived: dict[str, Value],
    values: list[dict[Path, Value]],
    per_slot_specs: list[list[LayerSpec | None]],
    gated: dict[str, list[int]],
    residuals: list[str],
) -> bool:
    """Whether, with its strides at 1, a block built from any parameters keeps its spatial
    size wherever the original's did: no parameter but the strides resizes (a padding or
    pool size that differs between instances, a kernel size under ``"valid"`` padding;
    a padding that follows the strides is fine), and no optional part but the residual
    holds a layer that might (a pooling present in some instances only)."""
    strides = {p.name for p in params if p.kind == "strides"}
    unit_strides = [
        all(p.values[k] == 1 for p in params if p.name in strides)
        for k in range(len(params[0].values) if params else 0)
    ]

    def reads_strides_only(name: str) -> bool:
        return {v.id for v in iter_values(derived[name]) if isinstance(v, Name)} <= strides

    # Layers only a stride other than 1 brings in (the padding before a strided
    # convolution) do not matter here.
    striding_only = {
        index
        for name, slots in gated.items()
        if name in derived and reads_strides_only(name)
        for flag in params
        if flag.name == name
        and not any(on for on, one in zip(flag.values, unit_strides, strict=True) if one)
        for index in slots
    }
    for param in params:
        if param.flag or param.counter or param.kind not in _RESIZING | {"kernel_size"}:
            continue
        readers = [
            index
            for index, holes in enumerate(values)
            if Name(param.name) in iter_values(tuple(holes.values())) and index not in striding_only
        ]
        if not readers or (param.name in derived and reads_strides_only(param.name)):
            continue
        if param.name in derived or param.kind != "kernel_size":
            return False
        if not all(_same_padding(per_slot_specs[i], unit_strides) for i in readers):
            return False
    for name, slots in gated.items():  # the block's other optional parts
        if name in derived or name in residuals:
            continue
        for index in slots:
            if not all(spec is None or _keeps_size(spec) for spec in per_slot_specs[index]):
                return False
    return True


def _keeps_size(spec: LayerSpec) -> bool:
    """A layer that keeps its input's spatial size: a normalization, activation, dropout
    or Dense, or a convolution of kernel 1 and stride 1."""
    if spec.class_label in _SIZE_KEEPING:
        return True
    arguments = {_hole_name(path, spec): value for path, value in _full_view(spec).items()}
    ones = (1, (1,), (1, 1), (1, 1, 1))
    return (
        spec.class_label.startswith("Conv")
        and arguments.get("kernel_size") in ones
        and arguments.get("strides") in ones
    )


def _same_padding(specs: list[LayerSpec | None], unit_strides: list[bool]) -> bool:
    """``padding="same"`` in every instance whose strides are all 1."""
    return all(
        _full_view(spec).get(("kw", "padding")) == "same"
        for spec, unit in zip(specs, unit_strides, strict=True)
        if spec is not None and unit
    )


def _shape_kept(
    params: list[BlockParam],
    flags: list[str],
    channels: Sequence[int | None],
    out_channels: Sequence[int | None],
    changed: bool = False,
) -> dict[str, Value]:
    """``residual`` as ``(self.strides, channels) == (1, self.filters)``, made in
    ``build``: the block adds its input back exactly where its output keeps its input's
    shape, as Keras's MobileNetV2 and EfficientNet decide (``in_channels ==
    pointwise_filters and stride == 1``), so a model built with other widths or strides
    adds back wherever shapes allow. ``changed``: the flags of a part present exactly
    where the shape changes (a convolved shortcut, ``stride != 1 or x.shape[-1] !=
    filters`` in keras.io's ResNets), as ``!=``. The width parameter must be the
    output's width in every instance, the strides parameters integers, and each outcome
    seen twice."""
    found: dict[str, Value] = {}
    if not flags or not channels or None in channels or None in out_channels:
        return found
    plain = [p for p in params if not (p.flag or p.counter) and p.known is None]
    strides = [p for p in plain if p.kind == "strides" and all(_is_int(v) for v in p.values)]
    if any(p.kind == "strides" and p not in strides for p in params):
        return found  # a stride that is a tuple, or absent somewhere: not this pattern
    outputs = [p for p in plain if p.kind == "width" and list(p.values) == list(out_channels)]
    if not outputs:
        return found
    kept = [
        all(p.values[k] == 1 for p in strides) and channels[k] == out_channels[k]
        for k in range(len(channels))
    ]
    if min(kept.count(True), kept.count(False)) < MIN_SUPPORT:
        return found
    left: tuple[Value, ...] = (*(Name(p.name) for p in strides), Name(INPUT_CHANNELS))
    right: tuple[Value, ...] = (*(1 for _ in strides), Name(outputs[0].name))
    op = "!=" if changed else "=="
    test = Compare(left[0], op, right[0]) if len(left) == 1 else Compare(left, op, right)
    wanted = [k != changed for k in kept]
    for flag in (p for p in params if p.name in flags):
        if list(flag.values) == wanted:
            found[flag.name] = test
    return found


def _stride_with_block(
    values: list[dict[Path, Value]],
    slots: list[int],
    per_slot_specs: list[list[LayerSpec | None]],
    params: list[BlockParam],
) -> None:
    """A shortcut convolution that existed only with a stride of 2 wrote ``strides=2``;
    present wherever the shape changes, it strides as the block does."""
    strides = [p for p in params if p.kind == "strides" and not (p.flag or p.counter)]
    for index in slots:
        present = [k for k, spec in enumerate(per_slot_specs[index]) if spec is not None]
        for path, value in values[index].items():
            if path != ("kw", "strides") or not is_literal(value):
                continue
            for param in strides:
                if all(same_literal(param.values[k], value) for k in present):
                    values[index][path] = Name(param.name)
                    break


def _ratio_flags(
    params: list[BlockParam], gated: dict[str, list[int]], values: list[dict[Path, Value]]
) -> dict[str, Value]:
    """``expansion != 1`` for a flag whose layers widen the input by a ratio parameter
    that is 1 exactly where they are absent: EfficientNet's expansion convolution, which
    Keras's own code makes ``if expand_ratio != 1``. The ratio must be known (from layers
    every instance has) wherever the flag is off."""
    found: dict[str, Value] = {}
    ratios = [p for p in params if p.kind == _RATIO and not (p.flag or p.counter)]
    for flag in (p for p in params if p.flag and not p.counter):
        widths = set(
            iter_values(tuple(v for i in gated.get(flag.name, ()) for v in values[i].values()))
        )
        for ratio in ratios:
            if BinOp("*", Name(ratio.name), Name(INPUT_CHANNELS)) not in widths:
                continue
            known = ratio.known or [True] * len(ratio.values)
            if all(
                here and _is_int(value) and (value != 1) is on
                for value, on, here in zip(ratio.values, flag.values, known, strict=True)
            ):
                found[flag.name] = Compare(Name(ratio.name), "!=", 1)
                break
    return found


def _follows(param: BlockParam, driver: BlockParam) -> Value | None:
    count = len(param.values)
    matters = param.known or [True] * count
    # The driver must be known wherever the follower matters: a filled-in stride of an
    # absent layer decides nothing.
    driver_known = driver.known or [True] * count
    if any(m and not d for m, d in zip(matters, driver_known, strict=True)):
        return None
    # Compared by ``==`` in the generated code: a tuple would be a list after a .keras
    # round trip, and ``[1, 3] == (1, 3)`` is False.
    if not all(_is_int(v) or isinstance(v, str) for v in driver.values):
        return None
    known = [k for k in range(count) if matters[k]]
    outcome_of: dict[str, tuple[Any, Any]] = {}
    support: dict[str, int] = {}
    for k in known:
        key = _typed_key(driver.values[k])
        value = param.values[k]
        if key in outcome_of and _typed_key(outcome_of[key][1]) != _typed_key(value):
            return None
        outcome_of[key] = (driver.values[k], value)
        support[key] = support.get(key, 0) + 1
    outcomes = {_typed_key(value): value for _, value in outcome_of.values()}
    if len(outcomes) != 2 or min(support.values()) < MIN_SUPPORT:
        return None
    # A flag reads as the value that turns it on: ``strides == 2``, not ``strides != 1``.
    ordered = sorted(outcomes.items(), key=lambda item: item[1] is not True)
    for key, outcome in ordered:
        deciding = [d for d, value in outcome_of.values() if _typed_key(value) == key]
        if len(deciding) != 1:
            continue
        other = next(v for k, v in outcomes.items() if k != key)
        test = Compare(Name(driver.name), "==", deciding[0])
        if param.flag:
            return test if outcome is True else Compare(Name(driver.name), "!=", deciding[0])
        return IfExp(test, outcome, other)
    return None


def _typed_key(value: Any) -> str:
    return f"{type(value).__name__}:{value!r}"
