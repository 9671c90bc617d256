"""Which weightless layers of a model compute exactly what operators would.

``Add()([a, b])`` is ``a + b`` and ``Activation("relu")(x)`` is
``keras.activations.relu(x)`` only when no layer machinery acts around the call: under a
float32 policy, float32 tensors are never cast; with dense tensors of one rank a merge
layer reshapes nothing; without masks there is none to carry. Structure recovery writes
a layer class as operators only when every call of that class meets all of it (and
keeps ``+`` off a model's raw inputs itself: core/structure/operators.py).
"""

from __future__ import annotations

from typing import Any

from generator.core.structure.operators import OPERATOR_LAYERS
from generator.from_keras.internals import (
    flatten_layers,
    inbound_nodes,
    keras_mask,
)


def exact_operator_layers(model: Any) -> frozenset[str]:
    """The ``OPERATOR_LAYERS`` classes (``"layers.Add"``) every call of which in
    ``model`` (nested models and layers included) an operator computes exactly; none
    where any tensor may carry a mask (a nested model hands masks on inside without
    showing them on its outputs)."""
    import keras

    layers = list(flatten_layers(model, include_self=False))
    if any(_may_create_mask(keras, layer) for layer in layers):
        return frozenset()
    classes = operator_layer_classes()
    exact = set(OPERATOR_LAYERS)
    for layer in layers:
        qualname = classes.get(type(layer))
        if qualname is not None and getattr(layer.dtype_policy, "name", None) != "float32":
            exact.discard(qualname)
        for node in inbound_nodes(layer):
            inputs = list(node.input_tensors)
            if any(keras_mask(tensor) is not None for tensor in inputs):
                return frozenset()
            if qualname is not None and not _exact_call(inputs, list(node.output_tensors)):
                exact.discard(qualname)
    return frozenset(exact)


def _exact_call(inputs: list[Any], outputs: list[Any]) -> bool:
    tensors = inputs + outputs
    if any(
        str(t.dtype) != "float32" or getattr(t, "sparse", False) or getattr(t, "ragged", False)
        for t in tensors
    ):
        return False
    return len({len(tensor.shape) for tensor in inputs}) == 1  # else a merge reshapes


def _may_create_mask(keras: Any, layer: Any) -> bool:
    """Whether ``layer`` may start a mask: Keras's own sources, or a class of someone
    else's that computes masks its own way."""
    if isinstance(layer, keras.layers.Masking):
        return True
    if isinstance(layer, keras.layers.Embedding):
        return bool(getattr(layer, "mask_zero", False))
    if isinstance(layer, keras.layers.Lambda):
        return getattr(layer, "mask", None) is not None
    own_mask = type(layer).compute_mask is not keras.layers.Layer.compute_mask
    return own_mask and not type(layer).__module__.startswith("keras.")


def operator_layer_classes() -> dict[type, str]:
    """The Keras classes of ``OPERATOR_LAYERS``, each with its qualified name."""
    import keras

    return {getattr(keras.layers, q.split(".", 1)[1]): q for q in OPERATOR_LAYERS}
