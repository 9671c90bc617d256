"""A block that a run repeats and that also stands alone elsewhere (GoogLeNet's Inception
modules: two, a pooling, one more) is an instance of the same class, not written out."""

from __future__ import annotations

import keras
from equivalence import converted_exactly
from keras import layers
from model_builders import inception_stack


def test_a_lone_instance_of_a_repeated_block_is_one_call_of_its_class() -> None:
    keras.backend.clear_session()
    keras.utils.set_random_seed(5)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)
    x = inception_stack(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(10)(x), name="inception_like")
    source = converted_exactly(model, "lone_block")
    assert source.count("(tf.keras.layers.Layer):") == 1, source
    assert "self.conv_block_3 = ConvBlock(" in source, source
    assert 'name="conv_block_3"' in source, source
    call = source.split("    def call(", 2)[2]
    assert "x = self.conv_block_3(x)" in call, call
    assert "tf.keras.ops.concatenate" not in call, call  # the module is not written out
