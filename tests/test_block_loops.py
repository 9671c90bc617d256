"""A list of blocks that each differ from the one before is one loop over per-block
tuples, as Keras's own U-Net example writes ``for filters in [256, 128, 64, 32]``: the
widths become a hyperparameter a model can be built with."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from equivalence import converted_exactly, generated_class
from keras import layers


def _decoder(
    widths: list[int],
    kernels: list[int] | None = None,
    named: bool = True,
    alphas: list[float] | None = None,
):
    """Up-sampling units of a U-Net decoder, one width each (and, when given, one kernel
    size and one LeakyReLU slope each), with a projected shortcut; named ``up{k}_...`` or
    by Keras."""
    keras.backend.clear_session()
    kernels = kernels or [3] * len(widths)
    alphas = alphas or [0.2] * len(widths)
    inputs = keras.Input((4, 4, 8))
    x = inputs
    for k, (width, kernel, alpha) in enumerate(zip(widths, kernels, alphas, strict=True)):

        def name(part: str, k: int = k) -> str | None:
            return f"up{k + 1}_{part}" if named else None

        y = layers.Conv2DTranspose(width, kernel, padding="same", name=name("deconv"))(x)
        y = layers.BatchNormalization(name=name("bn"))(y)
        y = layers.LeakyReLU(alpha, name=name("act"))(y)
        y = layers.UpSampling2D(2, name=name("up"))(y)
        shortcut = layers.UpSampling2D(2, name=name("shortcut_up"))(x)
        shortcut = layers.Conv2D(width, 1, name=name("shortcut_conv"))(shortcut)
        x = layers.Add(name=name("add"))([y, shortcut])
    return keras.Model(inputs, layers.Conv2D(2, 1, name="head")(x))


@pytest.mark.parametrize("named", [True, False], ids=["named", "keras names"])
def test_blocks_that_each_differ_loop_over_a_width_tuple(named: bool) -> None:
    model = _decoder([32, 16, 8, 4], named=named)
    source = converted_exactly(model)
    assert re.search(r"\w+_filters=\(32, 16, 8, 4\)", source), source
    assert re.search(r"for i, filters in enumerate\(\w+_filters\)", source) or re.search(
        r"for filters in \w+_filters\b", source
    ), source
    (param,) = re.findall(r"(\w+_filters)=\(32, 16, 8, 4\)", source)
    # Named by Keras, the block is named for its main layer, the list and tuple after it.
    expected = ("Up", "up_filters") if named else ("DeconvBlock", "deconv_block_filters")
    assert f"class {expected[0]}(" in source and param == expected[1], source
    # Built with other widths and one block fewer, the model runs: the tuple rules it.
    cls = generated_class(source, "M", f"block_loops_{named}")
    other = cls(**{param: (6, 5, 3)})
    other.build(None)
    outputs = other(np.zeros((1, 4, 4, 8), "float32"))
    assert tuple(outputs.shape) == (1, 32, 32, 2)


def test_two_blocks_that_differ_take_no_tuple() -> None:
    source = converted_exactly(_decoder([16, 8]))
    assert "(16, 8)" not in source and "16 if i == 0 else 8" in source, source


def test_blocks_differing_in_two_values_loop_over_both() -> None:
    source = converted_exactly(_decoder([32, 16, 8], kernels=[3, 5, 3]))
    assert re.search(r"\w+_filters=\(32, 16, 8\)", source), source
    assert re.search(r"\w+_kernel_sizes=\(3, 5, 3\)", source), source
    assert "zip(" in source and "strict=True" in source, source


def test_blocks_differing_in_more_than_two_values_stay_written_out() -> None:
    """Three tuples of one entry per block would say less than the blocks themselves."""
    model = _decoder([32, 16, 8], kernels=[3, 5, 3], alphas=[0.1, 0.2, 0.3])
    source = converted_exactly(model)
    assert not re.search(r"\w+_filters=\(", source), source
    assert "filters=32" in source and "filters=8" in source, source


def test_a_width_counting_along_is_a_tuple_too_in_one_loop_over_the_blocks() -> None:
    """In one loop over the blocks the tuples set how many there are: a width that counts
    along (12, 8, 4) is a tuple beside the kernel sizes, never ``12 + -4 * i`` computed
    past the end of a longer kernel tuple."""
    source = converted_exactly(_decoder([12, 8, 4], kernels=[3, 5, 3]))
    assert re.search(r"\w+_filters=\(12, 8, 4\)", source), source
    assert "filters=filters" in source and "* i" not in source, source


def _between_stages(widths: tuple[int, ...], named: bool) -> keras.Model:
    """DenseNet's shape: dense units in stages and a transition between each two, the
    transitions' widths differing (none counts along)."""
    keras.backend.clear_session()
    n = (lambda text: text) if named else (lambda text: None)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", name=n("stem"))(inputs)
    for s in range(len(widths) + 1):
        if s > 0:
            x = layers.BatchNormalization(name=n(f"pool{s}_bn"))(x)
            x = layers.Conv2D(widths[s - 1], 1, use_bias=False, name=n(f"pool{s}_conv"))(x)
            x = layers.AveragePooling2D(2, padding="same", name=n(f"pool{s}_pool"))(x)
        for i in range(2):
            p = f"conv{s}_block{i}"
            y = layers.BatchNormalization(name=n(p + "_0_bn"))(x)
            y = layers.Activation("relu", name=n(p + "_0_relu"))(y)
            y = layers.Conv2D(8, 1, use_bias=False, name=n(p + "_1_conv"))(y)
            y = layers.Conv2D(4, 3, padding="same", use_bias=False, name=n(p + "_2_conv"))(y)
            x = layers.Concatenate(name=n(p + "_concat"))([x, y])
    return keras.Model(inputs, layers.GlobalAveragePooling2D(name=n("pool"))(x))


@pytest.mark.parametrize("named", [True, False], ids=["named", "keras names"])
def test_a_list_call_reads_by_index_takes_no_tuple(named: bool) -> None:
    """Transitions between stages are read one by one (``self.pools[1](x)``): a tuple of
    their widths would promise another number of them that ``call`` never reads."""
    source = converted_exactly(_between_stages((6, 10, 4), named))
    assert "(6, 10, 4)" not in source, source
    assert re.search(r"x = self\.\w+\[2\]\(x", source), source
