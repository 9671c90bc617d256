"""Short chains of layers written many times over become one small Layer class: Keras's
own ``conv2d_bn`` (a convolution, its batch normalization, its activation), which
InceptionResNetV2 calls 200 times, anywhere in the graph, in and out of blocks.

A chain is consecutive steps of one class's ``call`` where each step reads only the one
before it, whose layers are used nowhere else. Chains of one shape (layer classes and
non-literal structure) become one class when that saves lines; values that differ
become its parameters. Inner layers keep their Keras names, so weights still pair by
name: ``name + "_bn"`` when a chain's names share a stem (``conv_7b``, ``conv_7b_bn``),
or ``f"conv2d_{number}"`` for the names Keras numbers itself.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    ForEach,
    FormattedName,
    IfExp,
    InputSpec,
    LayerSpec,
    ModelIR,
    Name,
    OwnName,
    Param,
    SelfAttr,
    Subscript,
    Symbol,
    TrainingFlag,
    Value,
    When,
)
from generator.core.naming import NameRegistry, attribute_registry, to_snake
from generator.core.structure.dataflow import layers_in, variables_in
from generator.core.structure.families import SCOPE_NAME
from generator.core.structure.layer_roles import FOLLOWING_LAYERS
from generator.core.structure.shapes import is_literal, layer_shape, same_literal

CHAIN_LENGTHS = (4, 3, 2)  # the longest first: conv-bn-act-dropout before conv-bn-act
MIN_OCCURRENCES = 6
LINES_PER_LAYER = 3  # what an attribute and its call take, written out, about
CLASS_LINES = 30  # what a small block class costs, docstring included, about


@dataclass(frozen=True)
class _Window:
    model: int  # index into the module's classes
    start: int  # index of the first step
    length: int


def factor_motifs(models: list[ModelIR], classes: NameRegistry) -> list[ModelIR]:
    """The classes with frequent chains factored: motif classes first, then the rest.
    Longer chains first, and the most frequent shape first; a factored chain is one call
    of a motif class, which never chains again."""
    chains = [_chains(model) for model in models]
    made: list[ModelIR] = []
    for length in CHAIN_LENGTHS:
        counts: Counter[Any] = Counter()
        for m, model in enumerate(models):
            for chain in chains[m]:
                for start in range(chain[0], chain[-1] - length + 2):
                    counts[_signature(model, start, length)] += 1
        for signature, count in counts.most_common():
            if count < MIN_OCCURRENCES:
                break
            if signature is None:
                continue
            windows = _windows(models, chains, signature, length)
            built = _motif(models, windows, classes) if len(windows) >= MIN_OCCURRENCES else None
            if built is None:
                continue
            motif, models = built
            chains = [_chains(model) for model in models]
            made.append(motif)
    return [*made, *models]


def frequent_chains(model: ModelIR, units: list[tuple[int, int]]) -> bool:
    """Whether every unit (steps ``start:stop`` of a flat model) is a chain the motif pass
    will factor anyway: one shape, written ``MIN_OCCURRENCES`` times or more outside the
    units, often enough to pay for its class by the motif pass's own reckoning. A run of
    such chains (InceptionResNetV2's stem: three ``conv2d_bn`` calls) then reads best as
    calls of the motif class, not as a block class of its own."""
    lengths = {stop - start for start, stop in units}
    if len(lengths) != 1 or (length := lengths.pop()) not in CHAIN_LENGTHS:
        return False
    chains = _chains(model)
    for start, stop in units:  # chains of layer calls, before their shapes are read
        if not any(chain[0] <= start and stop - 1 <= chain[-1] for chain in chains):
            return False
    wanted = _signature(model, units[0][0], length)
    if wanted is None:
        return False
    if any(_signature(model, start, length) != wanted for start, _ in units):
        return False
    taken = {start for start, _ in units}
    windows = _windows([model], [chains], wanted, length)
    outside = sum(window.start not in taken for window in windows)
    saved = (outside + len(units)) * LINES_PER_LAYER * (length - 1)
    return outside >= MIN_OCCURRENCES and saved > CLASS_LINES + 6 * length


def _chains(model: ModelIR) -> list[list[int]]:
    """Maximal runs of chained steps (at least two) in ``model.steps``."""
    reads = Counter(_reads(model))
    uses = Counter(attr for step in _all_steps(model) for attr in layers_in(step.value))
    layers = {layer.attr: layer for layer in model.layers}
    runs: list[list[int]] = []
    current: list[int] = []
    for index, step in enumerate(model.steps):
        link = _link(step, layers, uses)
        if link is None:
            current = []
            continue
        follows = (
            current
            and link == model.steps[current[-1]].targets[0]  # type: ignore[union-attr]
            and reads[link] == 1
        )
        if follows:
            current.append(index)
        else:
            current = [index]
            runs.append(current)
    return [run for run in runs if len(run) >= 2]


def _link(step: Any, layers: dict[str, LayerSpec], uses: Counter[str]) -> str | None:
    """The variable a step reads when it is ``y = self.layer(x[, training=training])``
    with a plain Keras layer used only there; else None."""
    if not isinstance(step, Assign) or step.unpack or len(step.targets) != 1:
        return None
    call = step.value
    if not isinstance(call, Call) or not isinstance(call.func, SelfAttr):
        return None
    if len(call.args) != 1 or not isinstance(call.args[0], Name):
        return None
    if any(key != "training" for key, _ in call.kwargs):
        return None
    spec = layers.get(call.func.attr)
    if spec is None or uses[spec.attr] != 1 or spec.repeat or spec.when is not None:
        return None
    constructor = spec.constructor
    if not isinstance(constructor, Call) or not isinstance(constructor.func, Symbol):
        return None
    if constructor.func.module != "keras" or not any(k == "name" for k, _ in constructor.kwargs):
        return None
    return call.args[0].id


# A motif reads as one idea when it opens with a layer that has weights of its own and
# closes with what follows such a layer: its normalization, activation or dropout.
_CLOSING = FOLLOWING_LAYERS


def _signature(model: ModelIR, start: int, length: int) -> Any:
    """The window's shape, or None when it does not read as one idea (see _CLOSING)."""
    layers = {layer.attr: layer for layer in model.layers}
    labels = []
    parts = []
    for step in model.steps[start : start + length]:
        assert isinstance(step, Assign) and isinstance(step.value, Call)
        assert isinstance(step.value.func, SelfAttr)
        spec = layers[step.value.func.attr]
        labels.append(spec.class_label)
        # The call's own arguments too: a ``training=True`` fixed in the graph (MC
        # dropout) is not the caller's ``training``.
        parts.append((_motif_layer_shape(spec), step.value.kwargs))
    if labels[0] in _CLOSING or labels[-1] not in _CLOSING:
        return None
    return tuple(parts)


def _motif_layer_shape(spec: LayerSpec) -> Any:
    """``layer_shape``, with a block's parameters taken for literals: inside a block that
    sizes its chains by its own arguments (InceptionResNetV2's ``block17``: ``filters``,
    ``(1, kernel_size)``), a chain is the same idea as one written with numbers, and an
    instance passes the block's parameter on (``ConvBnAct(self.filters, 1, ...)``)."""
    call = spec.constructor
    assert isinstance(call, Call)
    if not any(_parameter_expression(v) for v in (*call.args, *(v for _, v in call.kwargs))):
        return layer_shape(spec)
    literal = dataclasses.replace(
        spec,
        constructor=Call(
            call.func,
            tuple(0 if _parameter_expression(a) else a for a in call.args),
            tuple((key, value) for key, value in call.kwargs if not _parameter_expression(value)),
        ),
    )
    return layer_shape(literal)


def _parameter_expression(value: Value) -> bool:
    """A value built from a block's parameters and numbers (``filters``, ``(1, k)``,
    ``number + 2``, ``filters[1]``), and not a literal alone."""
    if is_literal(value):
        return False

    def plain(v: Value) -> bool:
        if is_literal(v) or isinstance(v, Name):
            return True
        if isinstance(v, tuple):
            return all(plain(item) for item in v)
        if isinstance(v, Subscript):
            return isinstance(v.value, Name) and isinstance(v.key, int)
        return isinstance(v, BinOp) and plain(v.left) and plain(v.right)

    return plain(value)


def _windows(
    models: list[ModelIR],
    chains: list[list[list[int]]],
    signature: Any,
    length: int,
) -> list[_Window]:
    """Non-overlapping windows of ``signature``, left to right in each chain."""
    found = []
    for m, model in enumerate(models):
        for chain in chains[m]:
            start, last = chain[0], chain[-1]
            while start + length - 1 <= last:
                if _signature(model, start, length) == signature:
                    found.append(_Window(m, start, length))
                    start += length
                else:
                    start += 1
    return found


# -- one motif class ----------------------------------------------------------------------------


def _motif(
    models: list[ModelIR], windows: list[_Window], classes: NameRegistry
) -> tuple[ModelIR, list[ModelIR]] | None:
    length = windows[0].length
    windows = _named_alike(models, windows)
    if len(windows) < MIN_OCCURRENCES:
        return None
    specs = [_window_specs(models[w.model], w) for w in windows]
    names = _names(specs)
    holes = _holes(specs)
    if names is None or holes is None:
        return None
    inner_names, instance_names = names
    fixed, found_holes = holes
    saved = len(windows) * (length - 1) * LINES_PER_LAYER
    if saved <= CLASS_LINES + 3 * length + 3 * len(found_holes):
        return None
    labels = [spec.class_label for spec in specs[0]]
    class_name = classes.claim("_".join(_short(label) for label in labels), style="pascal")
    registry = NameRegistry(set(), "layer")
    params = [
        _MotifParam(
            registry.claim(h.name), h.values, _default(fixed[h.slot], specs[0][h.slot], h), h
        )
        for h in found_holes
    ]
    if instance_names.counter:
        if registry.claim("number") != "number":
            return None  # an argument named number: the inner names would read it
        params.append(_MotifParam("number", instance_names.counter, _NO_DEFAULT, None))
    params.sort(key=lambda p: p.default is not _NO_DEFAULT)  # required ones first
    names_of = {(p.hole.slot, p.hole.path): p.name for p in params if p.hole is not None}
    attrs = attribute_registry()
    block_layers, steps, current = [], [], "inputs"
    first = models[windows[0].model].steps[windows[0].start : windows[0].start + length]
    for k, spec in enumerate(specs[0]):
        call = spec.constructor
        assert isinstance(call, Call)

        def filled(path: tuple, k: int = k) -> Value:
            return fixed[k][path] if path in fixed[k] else Name(names_of[(k, path)])

        args = tuple(filled(("arg", i)) for i in range(len(call.args)))
        kwargs = tuple((key, filled(("kw", key))) for key in fixed[k]["keys"])
        attr = attrs.claim(_short(spec.class_label))
        block_layers.append(
            LayerSpec(
                attr,
                spec.name,
                Call(call.func, args, (*kwargs, ("name", inner_names[k]))),
                spec.class_label,
                arg_names=spec.arg_names,
                defaults=spec.defaults,
            )
        )
        step = first[k]
        assert isinstance(step, Assign) and isinstance(step.value, Call)
        steps.append(Assign(("x",), Call(SelfAttr(attr), (Name(current),), step.value.kwargs)))
        current = "x"
    reads_training = any(
        isinstance(value, TrainingFlag)
        for step in steps
        for _, value in step.value.kwargs  # type: ignore[union-attr]
    )
    example = _example_instance(params, instance_names)
    motif = ModelIR(
        class_name=class_name,
        keras_name=class_name,
        inputs=(InputSpec("inputs", "inputs", (), ""),),
        input_structure="single",
        layers=tuple(block_layers),
        steps=tuple(steps),
        outputs=Name(current),
        params=tuple(
            Param(
                p.name,
                None if p.default is _NO_DEFAULT else p.default,
                doc=_doc(p.hole, labels),
                required=p.default is _NO_DEFAULT,
            )
            for p in params
        ),
        summary=f"{', '.join(labels)}: a chain {models[-1].class_name} writes "
        f"{len(windows)} times.",
        kind="block",
        example=(
            *(
                (p.name, p.values[example])
                for p in params
                if not same_literal(p.values[example], p.default)
            ),
            *((("name", instance_names.values[example]),) if instance_names.named else ()),
        ),
    )
    rewritten = list(models)
    by_model: dict[int, list[tuple[int, _Window]]] = {}
    for number, window in enumerate(windows):
        by_model.setdefault(window.model, []).append((number, window))
    for m, found in by_model.items():
        rewritten[m] = _rewrite(
            rewritten[m], found, class_name, params, instance_names, reads_training
        )
    return motif, rewritten


@dataclass(frozen=True)
class _MotifParam:
    name: str
    values: list[Value]  # one per instance
    default: Any  # the inner layer's own default for it, or _NO_DEFAULT
    hole: _Hole | None  # None: the number in the names


_NO_DEFAULT = object()


_SHORT_NAMES = {
    "BatchNormalization": "bn",
    "LayerNormalization": "ln",
    "GroupNormalization": "gn",
    "Activation": "act",
    "Dropout": "drop",
    "DepthwiseConv2D": "dw_conv",
    "SeparableConv2D": "sep_conv",
}


def _short(label: str) -> str:
    """``Conv2D`` → ``conv``, ``BatchNormalization`` → ``bn``: the names people use."""
    if label in _SHORT_NAMES:
        return _SHORT_NAMES[label]
    return re.sub(r"_?\d+d$", "", to_snake(label)) or to_snake(label)


def _default(fixed: dict, spec: LayerSpec, hole: _Hole) -> Any:
    """A keyword hole's default, so instances write only what differs from it: the value
    most instances take (as Keras's ``conv2d_bn`` defaults to ``padding="same"``), else
    the inner layer's own default."""
    if hole.path[0] != "kw":
        return _NO_DEFAULT
    plain = [v for v in hole.values if is_literal(v)]
    if plain:
        value, count = Counter(repr(v) for v in plain).most_common(1)[0]
        if 2 * count > len(hole.values):
            return next(v for v in plain if repr(v) == value)
    if hole.path[1] not in fixed["defaults"]:
        return _NO_DEFAULT
    return _spatial(fixed["defaults"][hole.path[1]], hole.path, spec)


def _example_instance(params: list[_MotifParam], names: _InstanceNames) -> int:
    """An instance whose arguments are all plain values (not a block's parameters)."""
    for index in range(len(names.values)):
        values = [p.values[index] for p in params] + ([names.values[index]] if names.named else [])
        if all(isinstance(v, int | float | str | bool | tuple | type(None)) for v in values):
            return index
    return 0


def _named_alike(models: list[ModelIR], windows: list[_Window]) -> list[_Window]:
    """The largest group of windows whose layers are named one way (a shared stem with
    the same suffixes, or Keras's numbering of the same classes): one class derives its
    inner names one way."""
    groups: dict[Any, list[_Window]] = {}
    for window in windows:
        names = [_name_of(spec) for spec in _window_specs(models[window.model], window)]
        if any(isinstance(n, str) and not SCOPE_NAME.match(n) for n in names):
            continue  # TensorFlow refuses it as a name scope inside a layer
        stem = _stem(names)
        if stem is not None and isinstance(stem[0], str) and not SCOPE_NAME.match(stem[0]):
            continue
        numbered = _numbers(names)
        if stem is not None:
            key: Any = ("stem", stem[1])
        elif numbered is not None:
            key = ("numbered", tuple(text for text, _ in numbered))
        else:
            continue
        groups.setdefault(key, []).append(window)
    return max(groups.values(), key=len, default=[])


def _window_specs(model: ModelIR, window: _Window) -> list[LayerSpec]:
    layers = {layer.attr: layer for layer in model.layers}
    found = []
    for step in model.steps[window.start : window.start + window.length]:
        assert isinstance(step, Assign) and isinstance(step.value, Call)
        assert isinstance(step.value.func, SelfAttr)
        found.append(layers[step.value.func.attr])
    return found


@dataclass(frozen=True)
class _Hole:
    name: str  # the argument it fills (``filters``, ``kernel_size``)
    slot: int
    path: tuple
    values: list[Value]  # one per instance


def _holes(specs: list[list[LayerSpec]]) -> tuple[list[dict], list[_Hole]] | None:
    """Per slot: the values every instance shares (by path, and ``"keys"``: the keyword
    arguments written); and the holes where instances differ. None when instances
    differ in a way parameters cannot say (an argument only some of them write)."""
    fixed: list[dict] = []
    params: list[_Hole] = []
    for k in range(len(specs[0])):
        calls = [c for c in (instance[k].constructor for instance in specs) if isinstance(c, Call)]
        if len(calls) != len(specs) or len({len(c.args) for c in calls}) != 1:
            return None
        keys: dict[str, None] = {}
        for call in calls:
            keys.update((key, None) for key, _ in call.kwargs if key != "name")
        defaults: dict[str, Value] = {}
        for instance in specs:  # each instance lists the defaults of what it leaves out
            defaults.update(instance[k].defaults)
        shared: dict = {"keys": [], "defaults": defaults}
        paths: list[tuple[str, Any]] = [("arg", i) for i in range(len(calls[0].args))]
        paths += [("kw", key) for key in keys]
        for path in paths:
            vector = [_spatial(_value(c, path, defaults), path, specs[0][k]) for c in calls]
            if any(v is _MISSING for v in vector):
                return None  # written by some, with no known default for the others
            same = all(v == vector[0] and type(v) is type(vector[0]) for v in vector)
            if path[0] == "kw":
                known: Any = defaults.get(path[1], _MISSING)
                default = _spatial(known, path, specs[0][k])
                if same and default == vector[0] and type(default) is type(vector[0]):
                    continue  # the default everywhere: not written
                shared["keys"].append(path[1])
            if same:
                shared[path] = vector[0]
            else:
                params.append(_Hole(_param_name(specs[0], k, path), k, path, vector))
        fixed.append(shared)
    return fixed, params


_MISSING = object()


_SPATIAL = frozenset({"strides", "kernel_size", "pool_size", "dilation_rate", "size"})


def _spatial(value: Any, path: tuple, spec: LayerSpec) -> Any:
    """``(2, 2)`` as ``2`` where Keras reads both alike (``strides``, ``kernel_size``)."""
    key = path[1] if path[0] == "kw" else dict(enumerate(spec.arg_names)).get(path[1], "")
    if key in _SPATIAL and isinstance(value, tuple) and value and len(set(value)) == 1:
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return value[0]
    return value


def _value(call: Any, path: tuple, defaults: dict[str, Value]) -> Any:
    if path[0] == "arg":
        return call.args[path[1]]
    return dict(call.kwargs).get(path[1], defaults.get(path[1], _MISSING))


def _param_name(slot_specs: list[LayerSpec], slot: int, path: tuple) -> str:
    spec = slot_specs[slot]
    if path[0] == "arg":
        index = path[1]
        return spec.arg_names[index] if index < len(spec.arg_names) else f"arg_{index}"
    return path[1]


def _doc(hole: _Hole | None, labels: list[str]) -> str:
    if hole is None:
        return "the number in its layers' names, as Keras numbered them"
    return f"``{hole.name}`` of its {labels[hole.slot]}"


# -- names ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _InstanceNames:
    values: list[Value]  # each instance's Keras name (a Value in its class)
    counter: list[Value]  # each instance's number, when the names are numbered
    named: bool  # whether instances take a name (the stem); numbered ones are unnamed


_NUMBERED = re.compile(r"(.*?)(?:_(\d+))?")


def _names(specs: list[list[LayerSpec]]) -> tuple[list[Value], _InstanceNames] | None:
    """The inner layers' names in the motif class, and each instance's name (or number).

    A stem the names share (``conv_7b``, ``conv_7b_bn``, ``conv_7b_ac``; a block's
    ``self.name + "_1_conv"``...) names the instance; names Keras numbered
    (``conv2d_12``, ``batch_normalization_12``) need the number, the same offsets apart
    in every instance. Anything else: None.
    """
    values = [[_name_of(spec) for spec in instance] for instance in specs]
    stems = [_stem(names) for names in values]
    found_stems = [stem for stem in stems if stem is not None]
    if len(found_stems) == len(stems) and len({stem[1] for stem in found_stems}) == 1:
        own = [stem[0] for stem in found_stems]
        if len({repr(v) for v in own}) == len(own):
            inner: list[Value] = [OwnName(suffix) for suffix in found_stems[0][1]]
            return inner, _InstanceNames(own, [], True)
    numbered = [_numbers(names) for names in values]
    found_numbers = [n for n in numbered if n is not None]
    if len(found_numbers) != len(numbered):
        return None
    if len({tuple(text for text, _ in n) for n in found_numbers}) != 1:
        return None
    offsets = {tuple(_offset(v, n[0][1]) for _, v in n) for n in found_numbers}
    if len(offsets) != 1:
        return None
    offset_list = next(iter(offsets))
    counters = [n[0][1] for n in found_numbers]
    inner = []
    for (text, _), offset in zip(found_numbers[0], offset_list, strict=True):
        if offset is None:
            return None
        counter = Name("number")
        number: Value = (
            counter if not offset else BinOp("+" if offset > 0 else "-", counter, abs(offset))
        )
        numbered_name = FormattedName((f"{text}_", number))
        # Keras names the first layer of a class bare (``conv2d``): only where that
        # can happen, an instance numbered by a block's parameter included.
        bare = any(not isinstance(c, int) or c + offset == 0 for c in counters)
        inner.append(IfExp(number, numbered_name, text) if bare else numbered_name)
    # Unnamed: Keras names each instance itself; weights pair by the inner names.
    return inner, _InstanceNames([None] * len(found_numbers), counters, False)


def _name_of(spec: LayerSpec) -> Value:
    assert isinstance(spec.constructor, Call)
    return dict(spec.constructor.kwargs)["name"]


def _stem(names: list[Value]) -> tuple[Value, tuple[str, ...]] | None:
    """(the instance's name, each inner name's suffix after it), when the names share a
    stem: plain strings, or a block's ``OwnName`` suffixes."""
    texts = [n for n in names if isinstance(n, str)]
    if len(texts) == len(names):
        stem = _shared_stem(texts)
        return (stem, tuple(t[len(stem) :] for t in texts)) if len(stem) >= 2 else None
    owned = [n.suffix for n in names if isinstance(n, OwnName)]
    if len(owned) == len(names):
        stem = _shared_stem(owned)
        return (OwnName(stem), tuple(t[len(stem) :] for t in owned)) if stem else None
    return None


def _shared_stem(texts: list[str]) -> str:
    """The longest beginning all share that ends where a word does (``conv_7b`` of
    ``conv_7b``, ``conv_7b_bn``), or ``""``."""
    stem = os.path.commonprefix(texts).rstrip("_-./")
    while stem and any(t != stem and t[len(stem)] not in "_-./" for t in texts):
        stem = stem[:-1].rstrip("_-./")
    return stem


def _numbers(names: list[Value]) -> list[tuple[str, Value]] | None:
    """(text, number) of each name: ``conv2d_12`` → (``conv2d``, 12), ``conv2d`` → 0; a
    block's ``f"conv2d_{number + 1}"`` → (``conv2d``, ``number + 1``)."""
    found: list[tuple[str, Value]] = []
    for name in names:
        if isinstance(name, str):
            match = _NUMBERED.fullmatch(name)
            if match is None or not match.group(1):
                return None
            found.append((match.group(1), int(match.group(2) or 0)))
        elif isinstance(name, IfExp) and isinstance(name.orelse, str):
            inner = _numbers([name.body])
            if inner is None or inner[0][0] != name.orelse:
                return None
            found.append(inner[0])
        elif isinstance(name, FormattedName) and len(name.parts) == 2:
            text, number = name.parts
            if not isinstance(text, str) or not text.endswith("_"):
                return None
            found.append((text[:-1], number))
        else:
            return None
    return found


def _offset(value: Value, base: Value) -> int | None:
    """``value - base`` when both are ``x + constant`` for one ``x``."""
    a, b = _split(value), _split(base)
    if a[0] != b[0]:
        return None
    return a[1] - b[1]


def _split(value: Value) -> tuple[Value, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return None, value
    if isinstance(value, BinOp) and value.op in "+-" and isinstance(value.right, int):
        return value.left, value.right if value.op == "+" else -value.right
    return value, 0


# -- rewriting a class ---------------------------------------------------------------------------


def _rewrite(
    model: ModelIR,
    found: list[tuple[int, _Window]],
    class_name: str,
    params: list[_MotifParam],
    names: _InstanceNames,
    reads_training: bool,
) -> ModelIR:
    steps = list(model.steps)
    layers = list(model.layers)
    registry = attribute_registry()
    for layer in layers:
        registry.reserve(layer.attr)
    for param in model.params:
        registry.reserve(param.name)
    for number, window in sorted(found, key=lambda item: -item[1].start):
        window_steps = steps[window.start : window.start + window.length]
        attrs = [step.value.func.attr for step in window_steps]  # type: ignore[union-attr]
        name = names.values[number]
        # Named after the stem its layers share (``self.conv_7b``), else its first layer.
        attr = (
            registry.claim(to_snake(name)) if isinstance(name, str) and to_snake(name) else attrs[0]
        )
        first = next(i for i, layer in enumerate(layers) if layer.attr in attrs)
        args = tuple(p.values[number] for p in params if p.default is _NO_DEFAULT)
        kwargs = [
            (p.name, p.values[number])
            for p in params
            if p.default is not _NO_DEFAULT and not same_literal(p.values[number], p.default)
        ]
        if names.named:
            kwargs.append(("name", names.values[number]))
        constructor = Call(Symbol("", class_name), args, tuple(kwargs))
        given = names.values[number]
        keras_name = given if isinstance(given, str) else attrs[0]
        # Made in build() where the layers it replaces were (they read the input's width).
        deferred = any(layer.deferred for layer in layers if layer.attr in attrs)
        # Named after its first layer, it is numbered again with it (attributes.py).
        word = next(layer.attr_word for layer in layers if layer.attr == attrs[0])
        word = word if attr == attrs[0] else ""
        layers = [layer for layer in layers if layer.attr not in attrs]
        layers.insert(
            first,
            LayerSpec(attr, keras_name, constructor, class_name, deferred=deferred, attr_word=word),
        )
        head, last = window_steps[0], window_steps[-1]
        call_kwargs = (("training", TrainingFlag(None)),) if reads_training else ()
        steps[window.start : window.start + window.length] = [
            Assign(last.targets, Call(SelfAttr(attr), head.value.args, call_kwargs))  # type: ignore[union-attr]
        ]
    return dataclasses.replace(model, layers=tuple(layers), steps=tuple(steps))


def _reads(model: ModelIR) -> list[str]:
    found = []
    for step in _all_steps(model):
        found.extend(variables_in(step.value))
    found.extend(variables_in(model.outputs))
    return found


def _all_steps(model: ModelIR) -> list[Assign]:
    found: list[Assign] = []
    pending = list(model.steps)
    while pending:
        step = pending.pop(0)
        if isinstance(step, Assign):
            found.append(step)
        elif isinstance(step, ForEach):
            pending.extend(step.body)
            found.append(Assign((), SelfAttr(step.attr)))  # the loop reads its layer list
        elif isinstance(step, When):
            pending.extend((*step.body, *step.orelse))
    return found
