"""Whether a model from a spec has anything to train.

A project's ``train.py`` and tests train the model; a spec made only of layers without
weights (``Flatten() > Activation('softmax')``) would give a project whose training test
can only fail. Decided without TensorFlow, from the layer classes: a class not known to
be weightless (any layer with a kernel, a wrapper, the user's own layer) counts as
trainable, so nothing that trains is ever refused.
"""

from __future__ import annotations

from generator.core.ir import Call, ModelIR, ModuleIR, Symbol, iter_values

# Keras layers that hold no trainable weight whatever their arguments.
WEIGHTLESS_LAYERS = frozenset(
    {
        "Activation", "ActivityRegularization", "Add", "Average", "AveragePooling1D",
        "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
        "CategoryEncoding", "CenterCrop", "Concatenate", "Cropping1D", "Cropping2D",
        "Cropping3D", "Discretization", "Dot", "Dropout", "ELU", "Flatten",
        "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D",
        "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D",
        "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
        "GlobalMaxPool3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
        "GlobalMaxPooling3D", "HashedCrossing", "Hashing", "Identity", "IntegerLookup",
        "LeakyReLU", "Masking", "MaxPool1D", "MaxPool2D", "MaxPool3D", "MaxPooling1D",
        "MaxPooling2D", "MaxPooling3D", "Maximum", "Minimum", "Multiply", "Normalization",
        "Permute", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "Softmax",
        "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "StringLookup",
        "Subtract", "UnitNormalization", "UpSampling1D", "UpSampling2D", "UpSampling3D",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    }
)  # fmt: skip


def trains_something(module: ModuleIR) -> bool:
    """Whether the main model creates a layer that may hold a trainable weight."""
    blocks = {model.class_name: model for model in module.models}
    return _trains(module.main, blocks, set())


def _trains(model: ModelIR, blocks: dict[str, ModelIR], seen: set[str]) -> bool:
    for layer in model.layers:
        for node in iter_values(layer.constructor):
            if not isinstance(node, Call) or not isinstance(node.func, Symbol):
                continue
            func = node.func
            if func.module == "keras" and func.qualname.startswith("layers."):
                if func.qualname.removeprefix("layers.") not in WEIGHTLESS_LAYERS:
                    return True
            elif func.module == "" and func.qualname in blocks:
                if func.qualname not in seen:
                    seen.add(func.qualname)
                    if _trains(blocks[func.qualname], blocks, seen):
                        return True
            elif func.module != "keras":
                return True  # the user's own layer: it may train
    return False
