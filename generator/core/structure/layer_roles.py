"""Keras layer classes by role, for passes that need to know what a layer does."""

from __future__ import annotations

# Normalizations, activations and dropouts: what follows a layer with weights (a motif
# closes with one), and what keeps the shape of what it reads.
FOLLOWING_LAYERS = frozenset(
    {
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
        "Softmax",
        "Dropout",
        "SpatialDropout1D",
        "SpatialDropout2D",
        "SpatialDropout3D",
    }
)

# The weightless ``keras.layers`` classes structure recovery may write as operators, and
# which of their constructor arguments it understands (``name`` aside).
OPERATOR_LAYERS: dict[str, frozenset[str]] = {
    "layers.Activation": frozenset({"activation"}),
    "layers.ReLU": frozenset({"max_value", "negative_slope", "threshold"}),
    "layers.Add": frozenset(),
    "layers.Subtract": frozenset(),
    "layers.Multiply": frozenset(),
    "layers.Concatenate": frozenset({"axis"}),
}
