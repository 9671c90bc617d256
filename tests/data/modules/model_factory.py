"""Importable models for ``scaffold convert package.module:attr`` tests."""

import keras

NOT_A_MODEL = 42


def build():
    inputs = keras.Input((4,), name="x")
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(inputs), name="factory")


def broken():
    raise RuntimeError("no model today")
