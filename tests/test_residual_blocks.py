"""Residual blocks as people write them without names (keras.io's ResNets): the block
opens where the graph forks and ends with its activation, and its shortcut convolution is
there wherever the shape changes, so the model builds with other widths."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
from equivalence import converted_exactly, generated_class
from keras import layers
from model_builders import resnet_block, unet_down_block


def _resnet(stem: int = 8, widths: tuple[int, ...] = (8, 16, 32)) -> keras.Model:
    """keras.io style: ``if stride != 1 or x.shape[-1] != filters`` projects the
    shortcut; an ``Activation`` follows every ``Add``; Keras names every layer."""

    keras.backend.clear_session()
    keras.utils.set_random_seed(3)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(stem, 3, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for stage, filters in enumerate(widths):
        for index in range(2):
            x = resnet_block(x, filters, 2 if index == 0 and stage > 0 else 1)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10)(x))


def _call_of(source: str, class_name: str) -> str:
    body = source.split(f"class {class_name}(", 1)[1]
    return body.split("    def call(", 1)[1].split("\n    def ", 1)[0]


def test_a_block_opens_where_the_graph_forks_and_ends_with_its_activation() -> None:
    source = converted_exactly(_resnet(), "resnet_io")
    block = re.search(r"class (\w+)\(tf\.keras\.layers\.Layer\)", source)
    assert block is not None, source
    call = _call_of(source, block.group(1))
    lines = [line.strip() for line in call.splitlines()[1:] if line.strip()]
    # The shortcut and the main path both read the block's input; nothing before them.
    assert lines[0].startswith("if self.conv_shortcut:"), call
    assert "(inputs)" in lines[1], call
    assert lines[-1] == "return x" and "activation" in lines[-2], call
    # The stem's activation is the stem's, before the loop, not the first block's.
    model_call = _call_of(source, "M")
    assert model_call.index("activation") < model_call.index("for block in"), model_call


def test_the_shortcut_convolution_is_there_wherever_the_shape_changes() -> None:
    """In the original every projected shortcut strides by 2, but the code that made it
    projects wherever the width changes too: the converted block decides by shape, so
    the first stage may be wider than the stem."""
    source = converted_exactly(_resnet(), "resnet_shape")
    assert "self.conv_shortcut = (self.strides, channels) != (1, self.filters)" in source
    assert "strides=self.strides" in source.split("if self.conv_shortcut:")[1].split("\n\n")[0]
    cls = generated_class(source, "M", "resnet_shape_module")
    wider = cls(stage_filters=(16, 32, 64))
    wider.build(None)
    outputs = wider(np.zeros((2, 16, 16, 3), dtype="float32"))
    assert tuple(outputs.shape) == (2, 10)
    # The same code, converted from a model whose first stage is wider than its stem,
    # computes that model exactly.
    converted_exactly(_resnet(widths=(16, 32, 64)), "resnet_wider")


def test_a_gate_computed_from_a_tensor_is_not_a_shortcut() -> None:
    """Squeeze-and-excitation multiplies a convolution's output by a gate computed from
    it: an optional convolution there is part of the main path (``use_conv``), not a
    shortcut."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(4)

    def se_block(x, filters):
        y = layers.Conv2D(filters, 3, padding="same", activation="swish")(x)
        s = layers.GlobalAveragePooling2D(keepdims=True)(y)
        s = layers.Conv2D(filters // 4, 1, activation="swish")(s)
        s = layers.Conv2D(filters, 1, activation="sigmoid")(s)
        y = layers.Multiply()([y, s])
        return layers.Add()([x, y]) if x.shape[-1] == filters else y

    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(8, 3, padding="same")(inputs)
    for filters in (8, 8, 16, 16):
        x = se_block(x, filters)
    model = keras.Model(inputs, layers.Dense(3)(layers.GlobalAveragePooling2D()(x)))
    source = converted_exactly(model, "se_gate")
    assert "shortcut" not in source, source


def test_the_shorter_of_two_added_paths_is_the_shortcut() -> None:
    """keras.io's U-Net computes the main path first and the projected residual after
    it; the block computes the short path first, keeps it aside as ``shortcut`` and
    runs the long one as ``x``."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(6)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    previous = x
    for filters in (8, 16, 32):
        x = unet_down_block(x, previous, filters)
        previous = x
    model = keras.Model(inputs, layers.Conv2D(2, 1)(x), name="unet_encoder")
    source = converted_exactly(model, "short_first")
    block = re.search(r"class (\w+)\(tf\.keras\.layers\.Layer\)", source)
    assert block is not None, source
    lines = [line.strip() for line in _call_of(source, block.group(1)).splitlines()[1:]]
    lines = [line for line in lines if line]
    assert lines[0] == "shortcut = self.conv(inputs)", lines
    assert lines[1].startswith("x = ") and "(inputs)" in lines[1], lines
    assert lines[-2] == "x = x + shortcut", lines


def _edsr(blocks: int, named: bool) -> keras.Model:
    """keras.io's EDSR: residual blocks scaled by 0.1, all inside one global skip."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(5)
    inputs = keras.Input((8, 8, 3))
    x = body = layers.Conv2D(8, 3, padding="same", name="head" if named else None)(inputs)
    for i in range(blocks):
        names = [f"res{i}_{part}" if named else None for part in ("conv1", "conv2", "add")]
        y = layers.Conv2D(8, 3, padding="same", activation="relu", name=names[0])(body)
        y = layers.Conv2D(8, 3, padding="same", name=names[1])(y)
        body = layers.Add(name=names[2])([body, y * 0.1])
    body = layers.Conv2D(8, 3, padding="same", name="tail" if named else None)(body)
    x = layers.Add(name="skip" if named else None)([x, body])
    return keras.Model(inputs, layers.Conv2D(3, 3, padding="same", name="out")(x))


@pytest.mark.parametrize("named", [False, True], ids=["auto names", "named"])
def test_blocks_inside_a_global_skip_are_one_loop(named: bool) -> None:
    """The skip around EDSR's body is live over every block, so no single tensor carries
    everything between them; it waits unread, and the blocks become one loop beside it.
    Found in a sweep of keras.io-like models (twelve blocks stayed written out)."""
    source = converted_exactly(_edsr(6, named), f"edsr_{named}")
    call = _statements(source, "M")
    assert "for block in self." in call, call
    skip = re.search(r"= (?:self\.\w+\(\[(\w+), x\]\)|(\w+) \+ x)\n", call)
    assert skip and (skip.group(1) or skip.group(2)) != "x", call  # kept apart from x
    assert len(re.findall(r"^class ", source, re.M)) == 2  # the block and the model
    deeper = generated_class(source, "M", f"edsr_deeper_{named}")(**{_depth(source): 2})
    assert tuple(deeper(np.zeros((1, 8, 8, 3), "float32")).shape) == (1, 8, 8, 3)


def _statements(source: str, class_name: str) -> str:
    """The body of ``class_name.call``."""
    start = source.index(f"class {class_name}(")
    body = source[source.index("    def call(", start) :]
    end = body.find("\n    def ", 1)
    return body if end < 0 else body[:end]


def _depth(source: str) -> str:
    """The constructor parameter that counts the blocks."""
    found = re.search(r"def __init__\(self, (num_\w+)=6", source)
    assert found, source
    return found.group(1)


def test_the_shortcut_runs_first_past_an_optional_part_of_the_main_path() -> None:
    """keras.io's speaker recognition: ``Add()([x, s])`` with ``s = Conv1D(1)(x)``, and
    one more convolution in the later blocks (an optional part). The main path was
    written first and its result named ``shortcut``. Found in a sweep."""

    def block(x, filters, convs):
        s = layers.Conv1D(filters, 1, padding="same")(x)
        for _ in range(convs - 1):
            x = layers.Conv1D(filters, 3, padding="same")(x)
            x = layers.Activation("relu")(x)
        x = layers.Conv1D(filters, 3, padding="same")(x)
        x = layers.Activation("relu")(layers.Add()([x, s]))
        return layers.MaxPool1D(pool_size=2, strides=2)(x)

    keras.backend.clear_session()
    inputs = keras.Input((32, 1))
    x = inputs
    for filters, convs in ((4, 2), (8, 2), (8, 3), (8, 3)):
        x = block(x, filters, convs)
    model = keras.Model(inputs, layers.Dense(3)(layers.Flatten()(x)))
    source = converted_exactly(model, "speaker")
    call = _statements(source, "ResidualBlock")
    lines = [line.strip() for line in call.splitlines()]
    # The optional convolution is as wide as the block, as in the blocks it exists in.
    one_line = re.sub(r"\s+", "", source)
    assert "Conv1D(filters,3," in one_line and "Conv1D(8," not in one_line, source
    # Keras's numbers in the names count from a layer every block has: none below 0.
    assert not re.search(r"number\w*=-", one_line), source
    assert re.fullmatch(r"shortcut = self\.\w+\(inputs\)", lines[1]), call
    assert lines[2].startswith("if self."), call
    assert "x = x + shortcut" in lines, call
