"""Stages of blocks as one loop (``for s, blocks in enumerate(self.stages)``), as Keras's
ConvNeXt code writes them; only where the stages differ in nothing but their number."""

from __future__ import annotations

import dataclasses
import re

import keras
import numpy as np
import pytest
from equivalence import converted_exactly, generated_class
from keras import layers

from generator.convert import ConvertOptions
from generator.core.ir import (
    Assign,
    Call,
    Comprehension,
    ForEach,
    FormattedName,
    InputSpec,
    LayerSpec,
    ListValue,
    Loop,
    ModelIR,
    Name,
    Param,
    SelfAttr,
    Subscript,
    Symbol,
)
from generator.core.structure.stage_loops import stage_loops

STAGE_LOOP = (
    "for s, blocks in enumerate(self.stages):\n"
    "            if s > 0:\n"
    "                x = self.{downs}[s - 1](x, training=training)\n"
    "            for block in blocks:\n"
    "                x = block(x)\n"
)


def _convnext_like(
    depths: tuple[int, ...] = (2, 2, 3), second_input: str | None = None
) -> keras.Model:
    """A stem, then stages of residual blocks with a downsampling Sequential before every
    stage but the first: ConvNeXt's layout, small."""
    keras.backend.clear_session()
    inputs = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 2, strides=2, name="stem")(inputs)
    width = 8
    for s, depth in enumerate(depths):
        if s > 0:
            width *= 2
            x = keras.Sequential(
                [
                    layers.LayerNormalization(epsilon=1e-6, name=f"down_norm_{s - 1}"),
                    layers.Conv2D(width, 2, strides=2, name=f"down_conv_{s - 1}"),
                ],
                name=f"down_block_{s - 1}",
            )(x)
        for i in range(depth):
            name = f"stage_{s}_block_{i}"
            y = layers.DepthwiseConv2D(3, padding="same", name=f"{name}_dw")(x)
            y = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm")(y)
            y = layers.Dense(width, name=f"{name}_pw")(y)
            x = layers.Add(name=f"{name}_add")([x, y])
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if second_input is None:
        return keras.Model(inputs, x)
    second = keras.Input((width,), name=second_input)
    return keras.Model([inputs, second], layers.Add(name="plus")([x, second]))


def _exact(model: keras.Model) -> str:
    return converted_exactly(model, "stages_case")


def test_stages_with_a_downsampling_list_between_them_are_one_loop() -> None:
    source = _exact(_convnext_like())
    assert STAGE_LOOP.format(downs="down_blocks") in source, source
    assert 'name=f"stage_{s}_block_{i}"' in source
    assert "for s, depth in enumerate(stage_depths)" in source
    assert "stage_depths=(2, 2, 3)" in source
    assert not re.search(r"self\.stage_\d", source), source
    # The depths still configure the model: a shallower one builds and runs.
    cls = generated_class(source, "M")
    shallow = cls(stage_depths=(1, 1, 1))
    shallow.build(None)
    assert len(shallow.stages) == 3 and [len(s) for s in shallow.stages] == [1, 1, 1]
    out = shallow(np.zeros((2, 16, 16, 3), "float32"))
    assert out.shape == (2, 32)


def test_a_list_between_stages_must_agree_with_the_depths() -> None:
    """``down_filters`` has one entry per stage after the first. Given three stages and
    three filters, the model built and left a block unused (unbuilt weights); given four
    stages and two, it failed in ``call`` with an IndexError. Found by a sweep of new
    models. Now the constructor says which parameter disagrees."""
    cls = generated_class(_exact(_convnext_like()), "M", "stage_lengths_case")
    with pytest.raises(ValueError, match=r"^down_filters needs len\(stage_depths\) - 1 entries$"):
        cls(stage_depths=(1, 1, 1, 1))
    with pytest.raises(ValueError, match="down_filters"):
        cls(down_filters=(8, 8, 8))
    deeper = cls(down_filters=(8, 8, 8), stage_depths=(1, 1, 1, 1))
    deeper.build(None)
    assert deeper(np.zeros((2, 16, 16, 3), "float32")).shape == (2, 8)


def test_the_loop_shadows_no_input() -> None:
    """An input named ``s`` (read after the stages) keeps the lists apart: the loop's
    ``s`` would overwrite it."""
    source = _exact(_convnext_like(second_input="s"))
    assert "s = tf.keras.ops.cast(" in source, source
    assert "enumerate(self.stages)" not in source, source
    assert "down_blocks[1]" in source, source
    assert "enumerate(self.stages)" in _exact(_convnext_like(second_input="bias"))


def test_an_input_joined_late_leaves_the_blocks_factored() -> None:
    """A second input read only at the end (``x + bias``) is no reason to write every
    block out: it cuts no segment before it is read."""
    source = _exact(_convnext_like(second_input="bias"))
    assert "class StageBlock(tf.keras.layers.Layer)" in source, source
    assert "x = x + bias" in source


def test_the_diagram_draws_the_stages_between_their_neighbours() -> None:
    from generator.convert import model_to_ir
    from generator.output.diagram import mermaid_diagram

    module = model_to_ir(_convnext_like(), ConvertOptions(class_name="M", package="d"))
    diagram = mermaid_diagram(module)
    stem = re.search(r"(n\d+)\[\"stem: Conv2D\"\]", diagram)
    stages = re.search(r"(n\d+)\[\"stages: StageBlock stages\"\]", diagram)
    pool = re.search(r"(n\d+)\[\"pool: GlobalAveragePooling2D\"\]", diagram)
    assert stem and stages and pool, diagram
    assert f"{stem.group(1)} --> {stages.group(1)}" in diagram, diagram
    assert f"{stages.group(1)} --> {pool.group(1)}" in diagram, diagram


def _lists_model(names: list[str], keys: list[int], between: list[list[Assign]]) -> ModelIR:
    """An IR with block lists ``stage_k`` separated by ``between`` steps."""
    block = Symbol("", "Block")
    layer_specs = [
        LayerSpec(
            f"stage_{k}",
            f"stage_{k}",
            Comprehension(
                Call(block, (), (("name", FormattedName((names[k], Name("i")))),)),
                ((Name("i"), Call(Symbol("", "range"), (Subscript(Name("depths"), key),))),),
            ),
            "Block",
        )
        for k, key in enumerate(keys)
    ]
    dense_list = Comprehension(
        Call(Symbol("keras", "layers.Dense"), (4,)),
        ((Name("i"), Call(Symbol("", "range"), (len(keys) - 1,))),),
    )
    layer_specs += [
        LayerSpec("downs", "downs", dense_list, "Dense"),
        LayerSpec("other", "other", dense_list, "Dense"),
    ]
    steps: list = []
    for k in range(len(keys)):
        steps.append(
            ForEach("block", f"stage_{k}", (Assign(("x",), Call(Name("block"), (Name("x"),))),))
        )
        if k < len(between):
            steps.extend(between[k])
    return ModelIR(
        "M",
        "m",
        (InputSpec("inputs", "x", (4,), "float32"),),
        "single",
        tuple(layer_specs),
        tuple(steps),
        Name("x"),
        params=(Param("depths", tuple(2 for _ in keys)),),
    )


def _down(index, attr: str = "downs") -> list[Assign]:
    return [Assign(("x",), Call(Subscript(SelfAttr(attr), index), (Name("x"),)))]


def test_lists_that_count_become_a_loop() -> None:
    model = _lists_model(["b0_", "b1_", "b2_"], [0, 1, 2], [_down(0), _down(1)])
    made = stage_loops(model)
    made.validate()
    (loop,) = [step for step in made.steps if isinstance(step, Loop)]
    assert [layer.attr for layer in made.layers] == ["stages", "downs", "other"]
    # The list between stages has one entry per stage but the first, whatever the stages.
    (downs,) = [layer for layer in made.layers if layer.attr == "downs"]
    assert "len" in repr(downs.constructor), downs


def test_a_list_between_stages_written_out_keeps_the_stages_apart() -> None:
    model = _lists_model(["b0_", "b1_", "b2_"], [0, 1, 2], [_down(0), _down(1)])
    dense = Call(Symbol("keras", "layers.Dense"), (4,))
    written_out = tuple(
        dataclasses.replace(layer, constructor=ListValue((dense, dense)))
        if layer.attr == "downs"
        else layer
        for layer in model.layers
    )
    model = dataclasses.replace(model, layers=written_out)
    assert stage_loops(model) == model


@pytest.mark.parametrize(
    "names, keys, between",
    [
        (["b0_", "b1_", "b3_"], [0, 1, 2], [_down(0), _down(1)]),  # names skip a number
        (["b0_", "b1_", "b2_"], [0, 1, 1], [_down(0), _down(1)]),  # depths do not count
        (["b0_", "b1_", "b2_"], [0, 1, 2], [_down(0), _down(2)]),  # indices skip
        (["b0_", "b1_", "b2_"], [0, 1, 2], [_down(0), _down(1, "other")]),  # other layers
        (["b0_", "b1_", "b2_"], [0, 1, 2], [_down(0), _down(1) + _down(1)]),  # lengths
        (["a0_", "b1_", "b2_"], [0, 1, 2], [_down(0), _down(1)]),  # not only a number
        (["b0_", "b1_"], [0, 1], [_down(1)]),  # two stages: nothing shows [1] counts
    ],
    ids=["names", "depths", "indices", "layers", "lengths", "text", "two-stages"],
)
def test_lists_that_differ_otherwise_stay_apart(names, keys, between) -> None:
    model = _lists_model(names, keys, between)
    assert stage_loops(model) == model
