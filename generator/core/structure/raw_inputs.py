"""Which tensors of a generated ``call`` may still hold what the user passed, as passed.

A Functional model converts its inputs to their declared dtype (an ``int64`` array fed to
a float32 model becomes float32). A converted model's ``call`` casts its dense numeric
inputs the same way (``ModelIR.casts_inputs``); what it cannot cast (a sparse input) and
what reaches a block class before any layer computes on it stays raw, and many layers
keep the dtype they are given (``Dropout``, ``Reshape``, an activation). ``+`` on such a
tensor does not promote as ``keras.ops.add`` (the ``Add`` layer) does, so structure
recovery keeps the ``Add`` there (core/structure/operators.py). A tensor is clean once
a layer that computes in floating point has made it (a ``Dense``, a convolution, a
normalization); anything else made from a raw tensor is raw.
"""

from __future__ import annotations

from generator.core.ir import (
    Assign,
    Call,
    Comprehension,
    ForEach,
    LayerSpec,
    ListValue,
    ModelIR,
    Name,
    SelfAttr,
    Symbol,
    Value,
    When,
    iter_values,
)
from generator.core.structure.dataflow import variables_in

# Layers whose output is floating point whatever they are given (they compute with
# weights or in their compute dtype).
FLOAT_OUTPUT_LAYERS = frozenset(
    {
        "Dense",
        "EinsumDense",
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "Conv1DTranspose",
        "Conv2DTranspose",
        "Conv3DTranspose",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "SeparableConv1D",
        "SeparableConv2D",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "Normalization",
        "Rescaling",
        "Embedding",
        "LSTM",
        "GRU",
        "SimpleRNN",
        "MultiHeadAttention",
    }
)


# Merge layers: they promote their inputs to one dtype (``keras.ops.add``), so one
# floating-point input makes the result floating point.
PROMOTING_LAYERS = frozenset(
    {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"}
)


class RawTensors:
    """The raw-tensor analysis of a module's classes (models first analysed on demand)."""

    def __init__(self, models: list[ModelIR]) -> None:
        self.models = {model.class_name: model for model in models}
        self._passes: dict[str, bool] = {}
        self.fed = self._classes_fed_raw()

    def before_each_step(self, model: ModelIR) -> list[tuple[Assign, frozenset[str]]]:
        """Each assignment of ``model``'s call, in order, with the variables holding a
        raw tensor just before it."""
        raw_inputs = model.kind == "model" or model.class_name in self.fed
        return self._walk(model, raw_inputs)[0]

    def _walk(
        self, model: ModelIR, raw_inputs: bool
    ) -> tuple[list[tuple[Assign, frozenset[str]]], set[str]]:
        cast = {spec.var for spec in model.cast_inputs()}  # converted as Keras would
        raw: set[str] = {s.var for s in model.inputs if s.var not in cast} if raw_inputs else set()
        layers = {layer.attr: layer for layer in model.layers}
        loops = {step.var: step.attr for step in model.steps if isinstance(step, ForEach)}
        found: list[tuple[Assign, frozenset[str]]] = []

        def visit(assign: Assign) -> None:
            found.append((assign, frozenset(raw)))
            made_raw = self._makes_raw(assign.value, raw, layers, loops)
            for target in assign.targets:
                if made_raw:
                    raw.add(target)
                else:
                    raw.discard(target)

        for step in model.steps:
            if isinstance(step, When):
                before = set(raw)
                for assign in step.body:
                    visit(assign)
                after_body = set(raw)
                raw.clear()
                raw.update(before)
                for assign in step.orelse:
                    visit(assign)
                raw.update(after_body)  # raw after either branch
            elif isinstance(step, ForEach):
                for assign in step.body:  # its first round reads what came before
                    visit(assign)
            else:
                assert isinstance(step, Assign), "stage loops are made after this pass"
                visit(step)
        return found, raw

    def _makes_raw(
        self,
        value: Value,
        raw: set[str],
        layers: dict[str, LayerSpec],
        loops: dict[str, str],
    ) -> bool:
        if raw.isdisjoint(variables_in(value)):
            return False
        if isinstance(value, Call):
            layer = None
            if isinstance(value.func, SelfAttr):
                layer = layers.get(value.func.attr)
            elif isinstance(value.func, Name) and value.func.id in loops:
                layer = layers.get(loops[value.func.id])
            if layer is not None:
                if layer.class_label in FLOAT_OUTPUT_LAYERS:
                    return False
                if layer.class_label in PROMOTING_LAYERS:  # int64 and float32 give float32
                    return set(variables_in(value)) <= raw
                generated = generated_classes(layer.constructor) & self.models.keys()
                if generated:
                    return any(self._passes_raw(name) for name in sorted(generated))
        return True

    def _passes_raw(self, class_name: str) -> bool:
        """Whether a generated class given a raw tensor may return one."""
        if class_name not in self._passes:
            self._passes[class_name] = True  # a class never calls itself; be safe
            model = self.models[class_name]
            _, raw = self._walk(model, raw_inputs=True)
            self._passes[class_name] = not raw.isdisjoint(variables_in(model.outputs))
        return self._passes[class_name]

    def _classes_fed_raw(self) -> set[str]:
        """The generated classes some instance of which is called on a raw tensor."""
        fed: set[str] = set()
        while True:
            found = set(fed)
            for model in self.models.values():
                raw_inputs = model.kind == "model" or model.class_name in fed
                classes = {
                    layer.attr: generated_classes(layer.constructor) for layer in model.layers
                }
                loops = {step.var: step.attr for step in model.steps if isinstance(step, ForEach)}
                for step, raw in self._walk(model, raw_inputs)[0]:
                    for call in _calls(step.value):
                        if raw.isdisjoint(variables_in(call.args)):
                            continue
                        if isinstance(call.func, SelfAttr):
                            found |= classes.get(call.func.attr, set())
                        elif isinstance(call.func, Name):
                            found |= classes.get(loops.get(call.func.id, ""), set())
            if found == fed:
                return fed
            fed = found


def _calls(value: Value) -> list[Call]:
    return [v for v in iter_values(value) if isinstance(v, Call)]


def generated_classes(constructor: Value) -> set[str]:
    """The classes defined in the generated module that ``constructor`` creates (also as
    the element of a comprehension, or the items of a list, of them)."""
    while isinstance(constructor, Comprehension):
        constructor = constructor.element
    if isinstance(constructor, Call) and isinstance(constructor.func, Symbol):
        return {constructor.func.qualname} if constructor.func.module == "" else set()
    if isinstance(constructor, ListValue):
        return {name for item in constructor.items for name in generated_classes(item)}
    return set()
