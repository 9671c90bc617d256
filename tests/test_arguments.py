"""Constructor arguments as a person writes them: the shortest spelling that Keras turns
into exactly the original's config (``from_keras/arguments.py``)."""

from __future__ import annotations

import keras
from equivalence import converted_exactly
from keras import layers


def test_even_paddings_and_croppings_are_written_short() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((12, 12, 2), name="image")
    x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="even")(inputs)
    x = layers.ZeroPadding2D(((1, 1), (2, 2)), name="per_axis")(x)
    x = layers.ZeroPadding2D(((0, 1), (0, 1)), name="uneven")(x)
    x = layers.Cropping2D(((2, 2), (2, 2)), name="crop")(x)
    x = layers.Conv2D(3, (3, 3), name="conv")(x)
    source = converted_exactly(keras.Model(inputs, x), "arguments_case")
    assert 'ZeroPadding2D(padding=3, name="even")' in source, source
    assert 'ZeroPadding2D(padding=(1, 2), name="per_axis")' in source, source
    assert "padding=((0, 1), (0, 1))" in source, source
    assert 'Cropping2D(cropping=2, name="crop")' in source, source
    assert 'Conv2D(3, 3, name="conv")' in source, source
