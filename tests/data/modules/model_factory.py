"""Importable models for ``scaffold convert package.module:attr`` tests."""

import keras

NOT_A_MODEL = 42


def build():
    inputs = keras.Input((4,), name="x")
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs), name="factory")


def broken():
    raise RuntimeError("no model today")


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(2)

    def call(self, inputs):
        return self.dense(inputs)


def subclassed():
    model = Subclassed()
    model.build((None, 4))
    return model
