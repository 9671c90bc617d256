"""Reads a built Sequential or Functional Keras model into a ``ModuleIR``.

The graph is replayed in the order Keras itself runs it (``_nodes_by_depth``, deepest
first), one statement per node. Nested Sequential/Functional models become classes of
their own; a nested model used twice is one instance called twice.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from generator.core.ir import (
    Assign,
    Call,
    Code,
    DictValue,
    EllipsisValue,
    Header,
    InputSpec,
    LayerSpec,
    ListValue,
    ModelIR,
    ModuleIR,
    Name,
    SelfAttr,
    SliceValue,
    Structure,
    Subscript,
    Symbol,
    TrainingFlag,
    Value,
)
from generator.core.layer_words import (
    attribute_word,
    claim_attributes,
    made_up_name,
    named_input,
)
from generator.core.naming import attribute_registry, class_registry, local_registry
from generator.errors import UnsupportedModelError
from generator.from_keras.arguments import init_parameters
from generator.from_keras.constants import Constants, is_constant
from generator.from_keras.exact_operators import exact_operator_layers
from generator.from_keras.execution_order import execution_order, unpack_singleton
from generator.from_keras.function_source import recover_lambda
from generator.from_keras.internals import (
    call_takes_training,
    flatten_layers,
    has_graph,
    inputs_struct,
    is_functional,
    outputs_struct,
)
from generator.from_keras.ops import op_expression
from generator.from_keras.training_use import reads_training
from generator.from_keras.unknown_sizes import EXAMPLE_SIZES, unknown_size
from generator.from_keras.values import ValueWriter

LONG_LITERAL = 32  # list items written in place; longer lists become module constants


@dataclass(frozen=True)
class ReadOptions:
    class_name: str | None = None
    package: str = "keras_scaffold"
    custom_objects: dict[str, Any] | None = None
    allow_code: bool = False  # recover Lambda source (--unsafe)
    assets_file: str = ""  # where constants too large for source go, beside the module


def read_model(
    model: Any, options: ReadOptions | None = None, header: Header | None = None
) -> ModuleIR:
    """Build the IR of ``model`` and of every model nested in it."""
    options = options or ReadOptions()
    header = header or Header()
    reader = _ModuleReader(options)
    reader.read(model, options.class_name)
    module = ModuleIR(
        models=tuple(reader.models),
        package=options.package,
        header=header,
        imports=tuple(sorted(reader.values.imports)),
        helpers=tuple(reader.values.helpers.values()),
        compile_config=reader.values.compile_arguments(model),
        constants=tuple(reader.constants.definitions),
        assets=tuple(reader.constants.assets),
        assets_file=options.assets_file if reader.constants.assets else "",
        exact_operators=exact_operator_layers(model),
    )
    module.validate()
    return module


def _layers_within(model: Any) -> list[Any]:
    """Every layer of ``model``, nested models' included (each once)."""
    found: dict[int, Any] = {}
    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        if id(layer) in found:
            continue
        found[id(layer)] = layer
        if is_graph_model(layer):
            stack.extend(layer.layers)
    return list(found.values())


def is_graph_model(obj: Any) -> bool:
    """Sequential and Functional models have a graph we can replay; subclasses do not."""
    import keras

    return isinstance(obj, keras.Sequential) or is_functional(obj)


class _ModuleReader:
    def __init__(self, options: ReadOptions) -> None:
        self.options = options
        self.classes = class_registry()
        self.values = ValueWriter(
            lambda wanted: self.classes.claim(wanted, style="pascal"), options.custom_objects
        )
        self.models: list[ModelIR] = []
        self.constants = Constants({"tf", "keras"}, options.assets_file)
        self._class_of: dict[int, str] = {}

    def read(self, model: Any, class_name: str | None = None) -> str:
        """Read ``model`` (once) and return the name of its generated class."""
        known = self._class_of.get(id(model))
        if known is not None:
            return known
        name = self.classes.claim(class_name or model.name, style="pascal")
        self._class_of[id(model)] = name
        import keras

        if isinstance(model, keras.Sequential):
            ir = _SequentialReader(self, model, name).read()
        else:
            ir = _FunctionalReader(self, model, name).read()
        self.models.append(ir)
        return name


class _ModelReaderBase:
    def __init__(self, owner: _ModuleReader, model: Any, class_name: str) -> None:
        self.owner = owner
        self.model = model
        self.class_name = class_name
        self.attrs = attribute_registry()
        self.locals = local_registry()
        self.attr_of: dict[int, str] = {}
        self.worded: set[int] = set()  # layers whose attribute is a word, not their name
        self.layers: list[LayerSpec] = []

    def where(self, layer: Any) -> str:
        return f"layer {layer.name!r} ({type(layer).__name__})"

    def read_layers(self) -> None:
        import keras

        self.check_no_layer_crosses_models()
        kept = [
            layer for layer in self.model.layers if not isinstance(layer, keras.layers.InputLayer)
        ]
        words = [attribute_word(layer.name, type(layer).__name__) for layer in kept]
        attrs = claim_attributes(self.attrs, [layer.name for layer in kept], words)
        for layer, attr, word in zip(kept, attrs, words, strict=True):
            self.attr_of[id(layer)] = attr
            if word:
                self.worded.add(id(layer))
            constructor = self.constructor(layer)
            arg_names, defaults = _signature_facts(type(layer), constructor)
            self.layers.append(
                LayerSpec(
                    attr,
                    layer.name,
                    constructor,
                    type(layer).__name__,
                    arg_names=arg_names,
                    defaults=defaults,
                    attr_word=word,
                )
            )

    def check_no_layer_crosses_models(self) -> None:
        """A layer used both inside a nested model and outside it (or in two nested
        models) is one object in Keras, but each generated class creates its own layers:
        the copies would hold two sets of weights.

        Raises:
            UnsupportedModelError: naming the layer and the nested model.
        """
        import keras

        def counted(layers: list[Any]) -> list[Any]:  # an Input may be shared: no weights
            return [layer for layer in layers if not isinstance(layer, keras.layers.InputLayer)]

        # The owner of each layer: None for the parent, else the nested model (by
        # identity: two nested models may share a name, even an empty one).
        owner: dict[int, Any] = {id(layer): None for layer in counted(self.model.layers)}
        for nested in self.model.layers:
            if is_graph_model(nested):
                inside = _layers_within(nested)
            elif isinstance(nested, keras.layers.Wrapper):  # TimeDistributed(model), ...
                inside = list(flatten_layers(nested, include_self=False))
            else:
                continue
            for layer in counted(inside):
                elsewhere = owner.setdefault(id(layer), nested)
                if elsewhere is not nested:
                    raise UnsupportedModelError(
                        f"layer {layer.name!r} is used inside {_holder(nested)} and in "
                        f"{'its parent' if elsewhere is None else _holder(elsewhere)}; a "
                        "layer shared across models is not supported",
                        where=f"model {self.model.name!r}",
                    )

    def constructor(self, layer: Any) -> Call:
        where = self.where(layer)
        if isinstance(layer, keras_layers().Lambda):
            return self.lambda_constructor(layer, where=where)
        if is_graph_model(layer):
            class_name = self.owner.read(layer)
            kwargs: list[tuple[str, Value]] = [("name", layer.name)]
            if not layer.trainable:
                kwargs.append(("trainable", False))
            return Call(Symbol("", class_name), (), tuple(kwargs))
        call = self.owner.values.layer_constructor(layer, where=where)
        return self.long_literals_as_constants(call, layer.name, where=where)

    def long_literals_as_constants(self, call: Call, name: str, *, where: str) -> Call:
        """A vocabulary of hundreds of tokens reads better as a module-level constant."""
        kwargs = tuple(
            (key, self.owner.constants.define(f"{name}_{key}", value, where=where))
            if isinstance(value, ListValue) and len(value.items) > LONG_LITERAL
            else (key, value)
            for key, value in call.kwargs
        )
        return Call(call.func, call.args, kwargs)

    def lambda_constructor(self, layer: Any, *, where: str) -> Call:
        """``Lambda(<function>, ...)``: a registered function is imported by name; a lambda
        is recovered from its source file, and only when the user allowed code (--unsafe)."""
        function = layer.function
        if getattr(function, "__name__", "") != "<lambda>":
            function_value: Value = self.owner.values.symbol(function, where=where)
        elif not self.owner.options.allow_code:
            raise UnsupportedModelError(
                "this Lambda layer holds Python code; pass --unsafe to recover its source "
                "(only for models you trust), or rewrite it as a layer class",
                where=where,
            )
        else:
            recovered = recover_lambda(function, where=where)
            self.owner.values.imports.update(recovered.imports)
            function_value = Code(recovered.text)
        kwargs: list[tuple[str, Value]] = []
        config = layer.get_config()
        for key in ("output_shape", "mask", "arguments"):
            value = config.get(key)
            if value not in (None, {}):
                kwargs.append((key, self.owner.values.value(value, where=where)))
        kwargs.append(("name", layer.name))
        return Call(Symbol("keras", "layers.Lambda"), (function_value,), tuple(kwargs))

    def layer_call(self, layer: Any, args: tuple[Value, ...], kwargs: dict[str, Value]) -> Call:
        """``self.attr(args, ..., training=training)`` with Keras's injected kwargs removed."""
        kwargs = dict(kwargs)
        if "mask" in kwargs and _no_mask(kwargs["mask"]):
            # Layer.__call__ records mask=None on every node, {"p": None} for a nested
            # model of dict inputs, which its call does not even take.
            del kwargs["mask"]
        recorded = kwargs.pop("training", None)
        takes_training = call_takes_training(layer)
        default = _training_default(layer) if takes_training else None
        if isinstance(recorded, bool) and recorded != default:
            # MC dropout: kept even where call does not name it, for Keras hands it on to
            # the layers inside through its call context.
            kwargs["training"] = TrainingFlag(recorded)
        elif takes_training and (has_graph(layer) or reads_training(type(layer))):
            kwargs["training"] = TrainingFlag(None)
        return Call(SelfAttr(self.attr_of[id(layer)]), args, tuple(kwargs.items()))

    def input_specs(self, struct: Any) -> tuple[tuple[InputSpec, ...], Structure]:
        from keras import KerasTensor

        if isinstance(struct, KerasTensor):
            return (self._input_spec(struct, struct.name, single=True),), "single"
        if isinstance(struct, dict):
            specs = []
            for key, tensor in struct.items():
                if not isinstance(tensor, KerasTensor):
                    raise UnsupportedModelError(
                        "nested input structures are not supported yet",
                        where=f"model {self.model.name!r}",
                    )
                specs.append(self._input_spec(tensor, str(key)))
            return tuple(specs), "dict"
        if isinstance(struct, (list, tuple)) and all(isinstance(t, KerasTensor) for t in struct):
            kind: Structure = "tuple" if isinstance(struct, tuple) else "list"
            return tuple(
                self._input_spec(t, t.name, var=None if named_input(t.name) else f"input_{i}")
                for i, t in enumerate(struct, start=1)
            ), kind
        raise UnsupportedModelError(
            "nested input structures are not supported yet", where=f"model {self.model.name!r}"
        )

    def _input_spec(
        self, tensor: Any, key: str, single: bool = False, var: str | None = None
    ) -> InputSpec:
        """``var``: the variable's name where the input's own says nothing (a list's
        ``keras_tensor_9`` is written ``input_1``)."""
        var = "inputs" if single else self.locals.claim(var or key)
        return InputSpec(
            key=key,
            var=var,
            shape=tuple(tensor.shape[1:]),
            dtype=str(tensor.dtype),
            sparse=bool(getattr(tensor, "sparse", False)),
        )

    def output_shapes(self, struct: Any) -> tuple[tuple[str, tuple[int | None, ...]], ...]:
        from keras import tree

        shapes = []
        for path, tensor in tree.flatten_with_path(struct):
            label = "/".join(repr(p) if isinstance(p, str) else str(p) for p in path) or "output"
            shapes.append((label, tuple(tensor.shape[1:])))
        return tuple(shapes)


def _no_mask(value: Any) -> bool:
    """``None``, or a list, tuple or dict of nothing but ``None``."""
    if value is None:
        return True
    if isinstance(value, DictValue):
        return all(_no_mask(item) for _, item in value.items)
    if isinstance(value, ListValue):
        return all(_no_mask(item) for item in value.items)
    if isinstance(value, (list, tuple)):
        return all(_no_mask(item) for item in value)
    return False


def _summary(kind: str, model: Any) -> str:
    """The class docstring's first line: the original's name where a person chose it
    (Keras's own, ``functional_3``, says nothing)."""
    if made_up_name(model):
        return f"Subclass of a {kind} model."
    return f"Subclass of the {kind} model {model.name!r}."


class _SequentialReader(_ModelReaderBase):
    def read(self) -> ModelIR:
        model = self.model
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):
            inputs = None
        if not inputs:
            raise UnsupportedModelError(
                "the Sequential model is not built, so its input shape is unknown; build it "
                "(model.build(input_shape) or a keras.Input first) and save it again",
                where=f"model {model.name!r}",
            )
        self.read_layers()
        specs, structure = self.input_specs(inputs[0])
        self.locals.reserve("x")
        steps: list[Assign] = []
        current: Value = Name(specs[0].var)
        for layer in model.layers:
            if id(layer) not in self.attr_of:
                continue
            kwargs: dict[str, Value] = {}
            call = self.layer_call(layer, (current,), kwargs)
            steps.append(Assign(("x",), call))
            current = Name("x")
        return ModelIR(
            class_name=self.class_name,
            keras_name=model.name,
            inputs=specs,
            input_structure=structure,
            layers=tuple(self.layers),
            steps=tuple(steps),
            outputs=current,
            output_shapes=self.output_shapes(model.outputs[0]),
            summary=_summary("Sequential", model),
            sequential=True,
            casts_inputs=True,
            example_size=unknown_size(model, EXAMPLE_SIZES),
        )


class _FunctionalReader(_ModelReaderBase):
    def read(self) -> ModelIR:
        from keras import KerasTensor
        from keras.layers import Layer

        model = self.model
        self.read_layers()
        specs, structure = self.input_specs(inputs_struct(model))
        self.channels: dict[str, int] = {  # last-axis sizes, for ModelIR.channels
            spec.var: spec.shape[-1]
            for spec in specs
            if spec.shape and isinstance(spec.shape[-1], int)
        }
        self.made_up_names: set[str] = set()  # for ModelIR.made_up_names
        tensors: dict[int, Value] = {
            id(tensor): Name(spec.var)
            for tensor, spec in zip(_structure_items(inputs_struct(model)), specs, strict=True)
        }

        def to_value(obj: Any) -> Value:
            if isinstance(obj, KerasTensor):
                return tensors[id(obj)]
            if isinstance(obj, (list, tuple)):
                items = tuple(to_value(o) for o in obj)
                return items if isinstance(obj, tuple) else ListValue(items)
            if isinstance(obj, dict):
                return DictValue(tuple((k, to_value(v)) for k, v in obj.items()))
            if isinstance(obj, slice):
                return SliceValue(to_value(obj.start), to_value(obj.stop), to_value(obj.step))
            if obj is Ellipsis:
                return EllipsisValue()
            if is_constant(obj):
                return self.owner.constants.value(obj, op_name, where=f"model {model.name!r}")
            return self.owner.values.value(obj, where=f"model {model.name!r}")

        steps: list[Assign] = []
        op_name = model.name
        for node in execution_order(model):
            op = node.operation
            op_name = op.name
            args = tuple(to_value(a) for a in node.arguments.args)
            kwargs = {k: to_value(v) for k, v in node.arguments.kwargs.items()}
            where = f"operation {op.name!r} ({type(op).__name__})"
            if isinstance(op, Layer):
                if id(op) not in self.attr_of:
                    raise UnsupportedModelError(
                        "layer is called but not tracked by the model", where=where
                    )
                value: Value = self.layer_call(op, args, kwargs)
            else:
                value = op_expression(
                    op,
                    args,
                    kwargs,
                    tuple(node.arguments.args),
                    str(node.outputs[0].dtype) if node.outputs else "",
                    self.owner.values,
                    where=where,
                )
            # A tensor is named after its layer as the attribute is: ``bn_1 = self.bn_1(x)``.
            base = self.attr_of[id(op)] if id(op) in self.worded else op.name
            steps.append(self._assign(node, op, base, value, tensors))
        outputs = to_value(unpack_singleton(outputs_struct(model)))
        return ModelIR(
            class_name=self.class_name,
            keras_name=model.name,
            inputs=specs,
            input_structure=structure,
            layers=tuple(self.layers),
            steps=tuple(steps),
            outputs=outputs,
            output_shapes=self.output_shapes(outputs_struct(model)),
            summary=_summary("Functional", model),
            channels=tuple(sorted(self.channels.items())),
            casts_inputs=True,
            made_up_names=tuple(sorted(self.made_up_names)),
            example_size=unknown_size(model, EXAMPLE_SIZES),
        )

    def _assign(
        self, node: Any, op: Any, base: str, value: Value, tensors: dict[int, Value]
    ) -> Assign:
        outputs = node.outputs
        if len(outputs) == 1 and not _returns_structure(op):
            var = self.locals.claim(base)
            if made_up_name(op):
                self.made_up_names.add(var)
            tensors[id(outputs[0])] = Name(var)
            if (size := _last_axis(outputs[0])) is not None:
                self.channels[var] = size
            return Assign((var,), value)
        struct = outputs_struct(op)
        if struct is not None and not isinstance(struct, (list, tuple)):
            # A nested model returning a dict (or nested structure): index by path.
            from keras import tree

            var = self.locals.claim(base)
            for (path, _), tensor in zip(tree.flatten_with_path(struct), outputs, strict=True):
                ref: Value = Name(var)
                for key in path:
                    ref = Subscript(ref, key)
                tensors[id(tensor)] = ref
            return Assign((var,), value)
        parts = _part_names(op, len(outputs))
        if _stacked_cells(op):
            # Traced, it returns [output, h1, h2]; run, [output, [h1], [h2]].
            value = Call(Symbol("keras", "tree.flatten"), (value,))
            parts = ["output", *(f"state_{i}" for i in range(1, len(outputs)))]
        names = tuple(self.locals.claim(f"{base}_{part}") for part in parts)
        for name, tensor in zip(names, outputs, strict=True):
            tensors[id(tensor)] = Name(name)
        return Assign(names, value, unpack=True)


def _stacked_cells(op: Any) -> bool:
    """An RNN (or a Bidirectional one) over stacked cells that returns its states: the
    states come back as one list per cell when run, flat when traced."""
    from keras.layers import StackedRNNCells

    layers = [op, getattr(op, "forward_layer", None), getattr(op, "backward_layer", None)]
    return bool(getattr(op, "return_state", False)) and any(
        isinstance(getattr(layer, "cell", None), StackedRNNCells) for layer in layers
    )


def _part_names(op: Any, count: int) -> list[str]:
    """What each output of a layer that returns several is, for its variable's name:
    ``lstm_output, lstm_state_h, lstm_state_c`` as keras.io's seq2seq writes
    ``encoder_outputs, state_h, state_c``; else numbered (``split_0``, ``split_1``)."""
    numbered = [str(i) for i in range(count)]
    kind = type(op).__name__
    if kind == "MultiHeadAttention" and count == 2:
        return ["output", "scores"]
    if not getattr(op, "return_state", False) or count < 2:
        return numbered
    directions = ["forward", "backward"] if kind == "Bidirectional" else [""]
    states, left = divmod(count - 1, len(directions))
    if left or states not in (1, 2):
        return numbered
    suffixes = ["state"] if states == 1 else ["state_h", "state_c"]
    if kind == "Bidirectional":
        suffixes = ["state"] if states == 1 else ["h", "c"]
    return ["output"] + [
        "_".join(filter(None, (direction, suffix)))
        for direction in directions
        for suffix in suffixes
    ]


def _holder(layer: Any) -> str:
    """``nested model 'inner'`` or ``wrapper 'time_distributed'``."""
    return f"{'nested model' if is_graph_model(layer) else 'wrapper'} {layer.name!r}"


def _last_axis(tensor: Any) -> int | None:
    shape = getattr(tensor, "shape", None)
    return shape[-1] if shape and isinstance(shape[-1], int) else None


def keras_layers() -> Any:
    import keras

    return keras.layers


def _structure_items(struct: Any) -> list[Any]:
    """Input tensors in the order ``input_specs`` lists them (dict insertion order)."""
    if isinstance(struct, dict):
        return list(struct.values())
    if isinstance(struct, (list, tuple)):
        return list(struct)
    return [struct]


def _returns_structure(op: Any) -> bool:
    """A nested model whose outputs are a list/dict returns that structure even for one tensor."""
    from keras import KerasTensor

    struct = unpack_singleton(outputs_struct(op))
    return struct is not None and not isinstance(struct, KerasTensor)


def _signature_facts(
    cls: type, constructor: Call
) -> tuple[tuple[str, ...], tuple[tuple[str, Value], ...]]:
    """The parameters the positional arguments fill, and the literal defaults of those not
    written: what structure recovery needs to compare two instances of one layer class."""
    params = list(init_parameters(cls).values())
    arg_names = tuple(p.name for p in params[: len(constructor.args)])
    written = set(arg_names) | {key for key, _ in constructor.kwargs}
    defaults = tuple(
        (p.name, _literal_default(p.default))
        for p in params
        if p.name not in written
        and p.default is not inspect.Parameter.empty
        and _literal_default(p.default) is not _NOT_LITERAL
    )
    return arg_names, defaults


_NOT_LITERAL = object()


def _literal_default(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        items = tuple(_literal_default(v) for v in value)
        return _NOT_LITERAL if any(i is _NOT_LITERAL for i in items) else items
    return _NOT_LITERAL


def _training_default(layer: Any) -> Any:
    try:
        param = inspect.signature(layer.call).parameters.get("training")
    except (TypeError, ValueError):
        return None
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default
