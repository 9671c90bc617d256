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
