"""Block parameters of one kind read whole by several layers become one tuple:
``filters=(4, 6)`` and ``self.filters[1]``, as Keras's ResNet50 once took ``filters`` and
unpacked ``filters1, filters2, filters3 = filters``."""

from __future__ import annotations

import ast
import re

import keras
import numpy as np
from equivalence import converted_exactly, generated_class
from keras import layers

# Widths that do not count along the blocks (``4 + 4 * i`` would be one expression).
WIDTHS = [(4, 6), (12, 5), (8, 14)]


def _bottlenecks(widths: list[tuple[int, int]], channels: int = 16) -> keras.Model:
    """Residual units whose two inner convolutions widen differently in each, every
    name made up by Keras."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, channels))
    x = inputs
    for first, second in widths:
        y = layers.Conv2D(first, 1, activation="relu")(x)
        y = layers.Conv2D(second, 3, padding="same", activation="relu")(y)
        y = layers.Conv2D(channels, 1)(y)
        x = layers.Add()([x, y])
    return keras.Model(inputs, layers.GlobalAveragePooling2D()(x))


def _init_parameters(source: str, class_name: str) -> list[str]:
    tree = ast.parse(source)
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    (init,) = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    return [a.arg for a in init.args.args[1:]]


def _block_class_name(source: str) -> str:
    tree = ast.parse(source)
    (name,) = [
        n.name
        for n in tree.body
        if isinstance(n, ast.ClassDef) and ast.unparse(n.bases[0]).endswith("layers.Layer")
    ]
    return name


def test_widths_of_one_block_become_one_tuple_parameter() -> None:
    source = converted_exactly(_bottlenecks(WIDTHS))
    block = _block_class_name(source)
    # The Add is `x + inputs`: no counter parameter numbers its made-up name.
    assert _init_parameters(source, block) == ["filters", "number"], source
    assert "filters[0]," in source and "filters[1]," in source, source
    # Three blocks that each differ: one loop over a tuple of the blocks' tuples.
    assert re.search(r"\w+_filters=\(\(4, 6\), \(12, 5\), \(8, 14\)\)", source), source
    assert "filters_1" not in source, source
    # The docstring says which layer reads which element.
    assert "``filters`` of its Conv2Ds ``conv_1``, ``conv_2``, in order" in " ".join(
        source.split()
    ), source


def test_a_grouped_block_builds_with_other_widths() -> None:
    """The tuple is a real hyperparameter: the block made with other widths runs."""
    source = converted_exactly(_bottlenecks(WIDTHS), "grouped_widths")
    cls = generated_class(source, _block_class_name(source), "grouped_widths_block")
    block = cls(filters=(3, 5), **{p: 0 for p in _init_parameters(source, cls.__name__)[1:]})
    outputs = block(np.zeros((2, 8, 8, 16), "float32"))
    assert tuple(outputs.shape) == (2, 8, 8, 16)
    assert [tuple(w.shape)[-1] for w in block.weights if w.name == "kernel"][:2] == [3, 5]


def test_one_width_alone_stays_a_plain_parameter() -> None:
    source = converted_exactly(_bottlenecks([(4, 4), (12, 12), (8, 8)]))
    block = _block_class_name(source)
    # The Add is `x + inputs`: no counter parameter numbers its made-up name.
    assert _init_parameters(source, block) == ["filters", "number"], source
    assert "filters[" not in source and "filters_1" not in source, source


def test_widths_that_count_along_the_blocks_stay_one_expression_each() -> None:
    """``4 + 4 * i`` and ``6 + 4 * i``: the loop's expressions say more than a tuple per
    block written out (the review found grouping had undone such loops)."""
    source = converted_exactly(_bottlenecks([(4, 6), (8, 10), (12, 14)]))
    assert "filters[" not in source, source
    assert "filters=4 + 4 * i" in source and "filters_1=6 + 4 * i" in source, source
