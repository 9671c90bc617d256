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
