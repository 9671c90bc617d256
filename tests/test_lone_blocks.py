"""A block that a run repeats and that also stands alone elsewhere (GoogLeNet's Inception
modules: two, a pooling, one more) is an instance of the same class, not written out."""

from __future__ import annotations

import keras
from equivalence import converted_exactly
from keras import layers


def _inception(x, f1, f3r, f3, f5r, f5, fp):
    b1 = layers.Conv2D(f1, 1, padding="same", activation="relu")(x)
    b3 = layers.Conv2D(f3r, 1, padding="same", activation="relu")(x)
    b3 = layers.Conv2D(f3, 3, padding="same", activation="relu")(b3)
    b5 = layers.Conv2D(f5r, 1, padding="same", activation="relu")(x)
    b5 = layers.Conv2D(f5, 5, padding="same", activation="relu")(b5)
    bp = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    bp = layers.Conv2D(fp, 1, padding="same", activation="relu")(bp)
    return layers.Concatenate()([b1, b3, b5, bp])


def test_a_lone_instance_of_a_repeated_block_is_one_call_of_its_class() -> None:
    keras.backend.clear_session()
    keras.utils.set_random_seed(5)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)
    x = _inception(x, 8, 8, 12, 2, 4, 4)
    x = _inception(x, 12, 8, 16, 4, 8, 8)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = _inception(x, 16, 8, 16, 4, 8, 8)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(10)(x), name="inception_like")
    source = converted_exactly(model, "lone_block")
    assert source.count("(tf.keras.layers.Layer):") == 1, source
    assert "self.conv_block_3 = ConvBlock(" in source, source
    assert 'name="conv_block_3"' in source, source
    call = source.split("    def call(", 2)[2]
    assert "x = self.conv_block_3(x)" in call, call
    assert "tf.keras.ops.concatenate" not in call, call  # the module is not written out
