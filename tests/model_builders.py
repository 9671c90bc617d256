"""What the collections of example models share: a registry of builders by name, and a
fresh start for each, so Keras's automatic layer names are those of a new script."""

from __future__ import annotations

from collections.abc import Callable

import keras

Builder = Callable[[], keras.Model]


class Builders(dict[str, Builder]):
    """Builders by function name; the instance is the decorator that registers one."""

    def __call__(self, fn: Builder) -> Builder:
        self[fn.__name__] = fn
        return fn


def fresh(seed: int) -> None:
    """As a standalone script starts: Keras's automatic names count from zero."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)


def resnet_block(x: keras.KerasTensor, filters: int, stride: int) -> keras.KerasTensor:
    """keras.io's residual block: the shortcut is projected where the shape changes, an
    ``Activation`` follows the ``Add``; Keras names every layer."""
    from keras import layers

    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    x = layers.Conv2D(filters, 3, strides=stride, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Add()([shortcut, x])
    return layers.Activation("relu")(x)


def inception_module(
    x: keras.KerasTensor, f1: int, f3r: int, f3: int, f5r: int, f5: int, fp: int
) -> keras.KerasTensor:
    """GoogLeNet's module: 1x1, 3x3 and 5x5 branches and a pooled one, concatenated."""
    from keras import layers

    b1 = layers.Conv2D(f1, 1, padding="same", activation="relu")(x)
    b3 = layers.Conv2D(f3r, 1, padding="same", activation="relu")(x)
    b3 = layers.Conv2D(f3, 3, padding="same", activation="relu")(b3)
    b5 = layers.Conv2D(f5r, 1, padding="same", activation="relu")(x)
    b5 = layers.Conv2D(f5, 5, padding="same", activation="relu")(b5)
    bp = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    bp = layers.Conv2D(fp, 1, padding="same", activation="relu")(bp)
    return layers.Concatenate()([b1, b3, b5, bp])


def inception_stack(x: keras.KerasTensor) -> keras.KerasTensor:
    """Two Inception modules, a strided pooling, then a third: a repeat that also
    stands alone."""
    from keras import layers

    x = inception_module(x, 8, 8, 12, 2, 4, 4)
    x = inception_module(x, 12, 8, 16, 4, 8, 8)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    return inception_module(x, 16, 8, 16, 4, 8, 8)


def unet_down_block(
    x: keras.KerasTensor, previous: keras.KerasTensor, filters: int
) -> keras.KerasTensor:
    """keras.io's U-Net down block: two separable convolutions, a strided pooling, and
    the block's input projected by a strided 1x1 convolution and added."""
    from keras import layers

    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous)
    return layers.add([x, residual])
