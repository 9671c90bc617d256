"""A size for a model's unknown (``None``) dimensions that its graph accepts.

Short keeps verification fast, but strided convolutions shrink a sequence: keras.io's
text CNN (two unpadded ``Conv1D`` of kernel 7 and stride 3) needs 25 steps or more. The
graph is traced symbolically, size after size, until one goes through.
"""

from __future__ import annotations

import math
from typing import Any

from generator.from_keras.internals import inputs_struct

# Sizes tried, in order, for every ``None`` dimension except the batch.
UNKNOWN_SIZES = (7, 32, 128, 512)
# The docstring's example: 8 where the model takes it, as it always read.
EXAMPLE_SIZES = (8, 32, 128, 512)
# A size is not tried where one sample of an input would hold more values than this
# (a volume of unknown depth, height and width at 512 would be 134 million).
MAX_SAMPLE_VALUES = 2**24


def has_unknown_dims(model: Any) -> bool:
    from keras import tree

    return any(d is None for t in tree.flatten(inputs_struct(model)) for d in t.shape[1:])


def unknown_size(model: Any, sizes: tuple[int, ...] = UNKNOWN_SIZES) -> int:
    """The first of ``sizes`` for which the model's graph computes an output symbolically
    (no weights touched, no node added); the first one if none does within
    ``MAX_SAMPLE_VALUES`` values a sample."""
    import keras
    from keras import tree

    if not has_unknown_dims(model):
        return sizes[0]
    struct = inputs_struct(model)
    tensors = tree.flatten(struct)
    for size in sizes:
        shapes = [concrete_shape(t.shape, None, size)[1:] for t in tensors]
        if any(math.prod(shape) > MAX_SAMPLE_VALUES for shape in shapes):
            break  # larger sizes are larger still
        probe = [
            keras.KerasTensor(
                (None, *shape),
                dtype=t.dtype,
                sparse=bool(getattr(t, "sparse", False)),
                ragged=bool(getattr(t, "ragged", False)),
            )
            for t, shape in zip(tensors, shapes, strict=True)
        ]
        try:
            model.compute_output_spec(tree.pack_sequence_as(struct, probe))
        except Exception:  # too short, or a graph Keras cannot trace symbolically
            continue
        return size
    return sizes[0]


def concrete_shape(shape: tuple[Any, ...], batch: int | None, size: int) -> tuple[Any, ...]:
    """``shape`` with the batch given and every other unknown dimension ``size``."""
    return tuple(batch if i == 0 else (size if d is None else d) for i, d in enumerate(shape))
