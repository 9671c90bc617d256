"""Attribute names for layers Keras named itself: a short word, numbered over the model."""

from __future__ import annotations

import re

import keras
import pytest
from keras import layers

from generator.convert import ConvertOptions, convert_model
from generator.core.layer_words import attribute_word, claim_attributes, is_auto_name, layer_word
from generator.core.naming import attribute_registry
from generator.verify import verify_source

MADE = [
    lambda: layers.Dense(2),
    lambda: layers.ReLU(),
    lambda: layers.PReLU(),
    lambda: layers.LeakyReLU(),
    lambda: layers.ZeroPadding2D(),
    lambda: layers.GlobalAveragePooling2D(),
    lambda: layers.BatchNormalization(),
    lambda: layers.Conv2DTranspose(2, 3),
    lambda: layers.DepthwiseConv2D(3),
    lambda: layers.MultiHeadAttention(2, 4),
    lambda: layers.UpSampling2D(),
    lambda: layers.Embedding(4, 2),
]


@pytest.mark.parametrize("make", MADE, ids=lambda make: type(make()).__name__)
def test_names_keras_makes_up_are_recognised(make) -> None:
    """Keras's own rule decides: the first and a later layer of each class, never one a
    person named."""
    first, later = make(), make()
    cls = type(first).__name__
    assert is_auto_name(first.name, cls) and is_auto_name(later.name, cls)
    named = type(first).from_config({**first.get_config(), "name": "encoder"})
    assert not is_auto_name(named.name, cls)
    assert re.fullmatch(r"[a-z][a-z0-9_]*", layer_word(cls))


def test_words_are_numbered_only_where_a_model_has_several() -> None:
    layers_ = [
        ("conv2d_7", "Conv2D"),
        ("batch_normalization_3", "BatchNormalization"),
        ("conv_1", "Conv2D"),  # a person's name: claimed first, its number skipped
        ("conv2d_8", "Conv2D"),
        ("re_lu", "ReLU"),
        ("re_lu", "Dense"),  # a person's name: not what Keras calls a Dense layer
        ("dense_4", "Dense"),  # Keras's own word: the name stays, get_layer finds it
    ]
    words = [attribute_word(name, cls) for name, cls in layers_]
    assert words == ["conv", "bn", "", "conv", "relu", "", ""]
    attrs = claim_attributes(attribute_registry(), [name for name, _ in layers_], words)
    assert attrs == ["conv_2", "bn", "conv_1", "conv_3", "relu", "re_lu", "dense_4"]


def _auto_named_cnn() -> keras.Model:
    """Layers without names, built after others so Keras's counters do not start at 0."""
    keras.backend.clear_session()
    for _ in range(3):
        layers.Conv2D(2, 1), layers.BatchNormalization(), layers.Dense(2)
    inputs = keras.Input((16, 16, 3))
    x = layers.ZeroPadding2D(1)(inputs)
    x = layers.Conv2D(4, 3)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(8, 3, name="conv_1")(x)  # a person's name, claimed first
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(3)(x))


@pytest.mark.parametrize("flat", [False, True], ids=["factored", "flat"])
def test_layers_keras_named_get_short_attributes_and_keep_their_names(flat: bool) -> None:
    model = _auto_named_cnn()
    source = convert_model(model, ConvertOptions(class_name="Net", package="m", flat=flat))
    attrs = re.findall(r"self\.(\w+) = tf\.keras\.layers\.(\w+)\(", source)
    relu = [("relu", "ReLU")] if flat else []  # factored: tf.keras.activations.relu(x)
    assert attrs == [
        ("pad", "ZeroPadding2D"),
        ("conv", "Conv2D"),
        ("bn_1", "BatchNormalization"),
        *relu,
        ("conv_1", "Conv2D"),
        ("bn_2", "BatchNormalization"),
        ("global_pool", "GlobalAveragePooling2D"),
        ("dense_3", "Dense"),  # Keras's own word: its name stays
    ]
    # The model's own name is Keras's too ("functional"): the docstring does not quote it.
    assert '"""Subclass of a Functional model.' in source, source
    # The Keras names are the original's, counters and all: weights pair by name.
    for layer in model.layers[1:]:
        assert f'name="{layer.name}"' in source or layer.name.startswith("re_lu") and not flat
    report = verify_source(model, source, "Net", batches=1)
    assert report.ok, report.verdict()


def test_tensors_are_named_as_the_attributes_of_their_layers() -> None:
    """A tensor named after its layer says the attribute's name: never ``bn_1 =
    self.bn_3(x)``, flat or after blocks took layers and the rest were numbered again."""
    keras.backend.clear_session()
    for _ in range(2):
        layers.BatchNormalization(), layers.Conv2D(2, 1)
    inputs = keras.Input((8, 8, 3))
    x = inputs
    for _ in range(3):  # three units a block takes, their layers named by Keras
        y = layers.Conv2D(4, 3, padding="same")(x)
        y = layers.BatchNormalization()(y)
        x = layers.Activation("relu")(y)
    features = layers.BatchNormalization()(x)
    pooled = layers.GlobalAveragePooling2D()(features)
    model = keras.Model(inputs, [features, layers.Dense(2)(pooled)])
    for flat in (True, False):
        source = convert_model(model, ConvertOptions(class_name="Net", package="m", flat=flat))
        calls = re.findall(r"^        (\w+) = self\.(\w+)\(", source, re.M)
        named = [(var, attr) for var, attr in calls if var not in ("x", "shortcut", "branch")]
        assert named and all(re.fullmatch(attr + r"(_\d+)?", var) for var, attr in named), calls
        report = verify_source(model, source, "Net", batches=1)
        assert report.ok, report.verdict()


def test_inside_a_block_a_name_a_person_chose_keeps_its_attribute() -> None:
    """``b{i}_conv_1`` names the block's ``self.conv_1``; the two convolutions Keras
    named around it take ``conv_2`` and ``conv_3``, not the other way round."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for i in range(3):
        y = layers.Conv2D(4, 3, padding="same")(x)
        y = layers.Conv2D(4, 3, padding="same")(y)
        y = layers.Conv2D(4, 1, name=f"b{i}_conv_1")(y)
        y = layers.BatchNormalization(name=f"b{i}_bn")(y)
        x = layers.Add()([x, y])
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    source = convert_model(model, ConvertOptions(class_name="Net", package="m"))
    assert re.search(
        r'self\.conv_1 = tf\.keras\.layers\.Conv2D\(4, 1, name=self\.name \+ "_conv_1"\)', source
    ), source
    assert "self.conv_2 = " in source and "self.conv_3 = " in source and "conv_1_1" not in source, (
        source
    )
    report = verify_source(model, source, "Net", batches=1)
    assert report.ok, report.verdict()
