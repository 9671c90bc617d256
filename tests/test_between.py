"""Units between runs of one block (DenseNet's transitions) become one block class and
one list, and with the runs one stage loop; only where every unit between is alike."""

from __future__ import annotations

import re

import keras
import numpy as np
from equivalence import converted_exactly, generated_class
from keras import layers


def _densenet_like(
    depths: tuple[int, ...] = (2, 3, 2, 2),
    auto_names: bool = False,
    odd_transition: int | None = None,
    growth: int = 4,
    bottleneck: bool = True,
) -> keras.Model:
    """Dense blocks (concatenating a narrow branch to their input, as DenseNet's
    ``conv_block``; without ``bottleneck``, normalization, ReLU and one convolution),
    with a transition between each two: normalization, ReLU, a 1x1 convolution halving
    the width, pooling. ``odd_transition`` gives that transition one more layer."""
    keras.backend.clear_session()

    def name(text: str) -> str | None:
        return None if auto_names else text

    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name=name("stem"))(inputs)
    for s, depth in enumerate(depths):
        if s > 0:
            prefix = f"pool{s + 1}"
            x = layers.BatchNormalization(epsilon=1.001e-5, name=name(f"{prefix}_bn"))(x)
            x = layers.Activation("relu", name=name(f"{prefix}_relu"))(x)
            width = x.shape[-1] // 2
            x = layers.Conv2D(width, 1, use_bias=False, name=name(f"{prefix}_conv"))(x)
            if s == odd_transition:
                x = layers.Dropout(0.1, name=name(f"{prefix}_drop"))(x)
            x = layers.AveragePooling2D(2, padding="same", name=name(f"{prefix}_pool"))(x)
        for i in range(depth):
            prefix = f"conv{s + 2}_block{i + 1}"
            y = layers.BatchNormalization(epsilon=1.001e-5, name=name(f"{prefix}_0_bn"))(x)
            y = layers.Activation("relu", name=name(f"{prefix}_0_relu"))(y)
            if bottleneck:
                y = layers.Conv2D(8, 1, use_bias=False, name=name(f"{prefix}_1_conv"))(y)
                y = layers.BatchNormalization(epsilon=1.001e-5, name=name(f"{prefix}_1_bn"))(y)
                y = layers.Activation("relu", name=name(f"{prefix}_1_relu"))(y)
            y = layers.Conv2D(
                growth, 3, padding="same", use_bias=False, name=name(f"{prefix}_2_conv")
            )(y)
            x = layers.Concatenate(name=name(f"{prefix}_concat"))([x, y])
    x = layers.GlobalAveragePooling2D(name=name("avg_pool"))(x)
    return keras.Model(inputs, layers.Dense(5, name=name("predictions"))(x))


def _transition_class(source: str) -> str:
    classes = re.findall(r"^class (\w+)\(tf\.keras\.layers\.Layer\)", source, re.M)
    assert len(classes) == 2, source
    return classes[1]


def test_transitions_between_dense_blocks_are_one_class_and_the_stages_one_loop() -> None:
    source = converted_exactly(_densenet_like(), "between_case")
    transition = _transition_class(source)
    # Its width follows its input (halved), so it takes no parameter but its name.
    assert "channels // 2" in source, source
    assert f'self.pools = [{transition}(name=f"pool{{i + 2}}")' in source, source
    assert "for i in range(len(stage_depths) - 1)]" in source, source
    assert "x = self.pools[s - 1](x, training=training)" in source, source
    assert "num_pools" not in source, source
    # Keras's defaults are not written out, even where the family's first layer (the stem,
    # strides=2) spelled them.
    assert "strides=(1, 1)" not in source, source
    assert not re.search(r"self\.pool\d_", source), source
    # Another number of stages builds and runs: one transition between each two.
    cls = generated_class(source, "M")
    model = cls(stage_depths=(1, 2, 1, 1, 1))
    model.build(None)
    assert len(model.pools) == 4 and [len(s) for s in model.stages] == [1, 2, 1, 1, 1]
    assert model(np.zeros((2, 16, 16, 3), "float32")).shape == (2, 5)


def test_auto_named_transitions_are_found_too() -> None:
    """Names are a hint: with every name made up by Keras, the units still factor."""
    source = converted_exactly(_densenet_like(auto_names=True), "between_auto")
    assert _transition_class(source) == "Transition"
    # Keras numbers auto-named layers model-wide, so the stages' counters do not count
    # by stage and the stages stay apart; the transitions are one list all the same.
    for index in range(3):
        assert f"x = self.transitions[{index}](x, training=training)" in source, source


def test_transitions_that_differ_stay_as_they_are() -> None:
    """One transition with a dropout more: the units between are not one unit."""
    source = converted_exactly(_densenet_like(odd_transition=2), "between_odd")
    assert "self.pools" not in source, source
    assert "self.pool3_drop" in source or "self.pool3_drop =" in source or "Dropout" in source


def test_one_unit_between_two_runs_is_no_list() -> None:
    """Two runs have one unit between them: nothing repeats, nothing to factor."""
    source = converted_exactly(_densenet_like(depths=(3, 3)), "between_two")
    assert "self.pools" not in source, source
    assert "self.pool2_conv = " in source, source


def test_a_width_halved_rounding_down_follows_the_input() -> None:
    """Odd widths halve rounding down (Keras's ``int(channels * 0.5)``): still
    ``channels // 2``, not a list of widths, so any number of stages builds."""
    # Widths into the transitions: 17, 17, 14.
    model = _densenet_like(depths=(3, 3, 2, 2), growth=3)
    source = converted_exactly(model, "between_odd_widths")
    assert "channels // 2" in source, source
    cls = generated_class(source, "M")
    model = cls(stage_depths=(1, 1, 1, 1, 1))
    model.build(None)
    assert model(np.zeros((2, 16, 16, 3), "float32")).shape == (2, 5)


def test_a_transition_is_no_dense_block_without_its_concatenation() -> None:
    """Without a bottleneck, a transition's first three layers look like a dense block
    lacking its concatenation; skipping a concatenation changes every width after it,
    so the transition is no such block (not ``if self.kernel_size == 3:`` in one class
    for both), and the transitions stay one class of their own."""
    source = converted_exactly(_densenet_like(bottleneck=False), "between_plain")
    assert "kernel_size" not in source, source
    assert "x = self.pools[s - 1](x, training=training)" in source, source


def test_a_list_its_call_indexes_takes_no_length_parameter() -> None:
    """Runs of single Dense layers whose names do not count by stage: no stage loop, so
    the call reads ``self.ts[0]`` ... ``[2]``; the list's length is written in, not a
    ``num_ts`` the model would break on."""
    keras.backend.clear_session()
    inputs = keras.Input((8,), name="inputs")
    x = inputs
    for s in range(4):
        if s > 0:
            x = layers.BatchNormalization(name=f"t{s}_bn")(x)
            x = layers.Activation("relu", name=f"t{s}_relu")(x)
            x = layers.Dense(6, name=f"t{s}_proj")(x)
            x = layers.Dropout(0.1, name=f"t{s}_drop")(x)
        for i in range(3):
            x = layers.Dense(6, activation="tanh", name=f"s{s}_d{i}")(x)
    source = converted_exactly(keras.Model(inputs, x), "between_fixed")
    assert 'self.ts = [T(name=f"t{i + 1}") for i in range(3)]' in source, source
    assert "x = self.ts[2](x, training=training)" in source, source
    assert "num_ts" not in source, source


def test_stages_stay_apart_where_a_list_between_them_is_written_out() -> None:
    """Transitions with a residual branch, one without its normalization: their list is
    written entry by entry (``use_bn=False`` in one), so a loop over the stages would
    promise any number of stages and fail on more; the stages stay apart."""
    keras.backend.clear_session()
    inputs = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    for s, depth in enumerate((2, 3, 2, 2)):
        if s > 0:
            y = layers.Conv2D(x.shape[-1], 1, name=f"pool{s}_conv")(x)
            if s != 2:
                y = layers.BatchNormalization(name=f"pool{s}_bn")(y)
            x = layers.Add(name=f"pool{s}_add")([x, y])
            x = layers.AveragePooling2D(2, padding="same", name=f"pool{s}_pool")(x)
        for i in range(depth):
            name = f"conv{s}_block{i}"
            y = layers.BatchNormalization(name=f"{name}_0_bn")(x)
            y = layers.Activation("relu", name=f"{name}_0_relu")(y)
            y = layers.Conv2D(8, 1, use_bias=False, name=f"{name}_1_conv")(y)
            y = layers.BatchNormalization(name=f"{name}_1_bn")(y)
            y = layers.Activation("relu", name=f"{name}_1_relu")(y)
            y = layers.Conv2D(4, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
            x = layers.Concatenate(name=f"{name}_concat")([x, y])
    source = converted_exactly(keras.Model(inputs, x), "between_written_out")
    assert "use_bn=False" in source, source
    assert "self.pools[1](x" in source, source
    assert "enumerate(self.stages)" not in source, source
