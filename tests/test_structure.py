"""Structure recovery: repeated parts of a converted model become block classes, loops and
hyperparameters, and the model still computes exactly what the original does."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from cases import build_case
from conftest import assert_documented
from equivalence import assert_project_tests_pass, generated_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keras import layers

from generator.convert import ConvertOptions, convert, convert_model
from generator.core.ir import Assign, Call, InputSpec, LayerSpec, ModelIR, Name, SelfAttr, Symbol
from generator.core.structure.chains import find_removal
from generator.core.structure.dataflow import single_tensor_segments
from generator.core.structure.shapes import segment_shape
from generator.output.writing import comparable
from generator.verify import transfer_weights, verify_source

GOLDEN = Path(__file__).parent / "data" / "golden" / "structure"
REGENERATE = os.environ.get("SCAFFOLD_REGENERATE_GOLDEN") == "1"


def _classes(source: str) -> dict[str, list[str]]:
    """Each class in ``source`` and its bases."""
    tree = ast.parse(source)
    return {
        node.name: [ast.unparse(b) for b in node.bases]
        for node in tree.body
        if isinstance(node, ast.ClassDef)
    }


def _resnet50() -> keras.Model:
    keras.backend.clear_session()
    return keras.applications.ResNet50(
        weights=None, input_shape=(64, 64, 3), classifier_activation=None
    )


# -- the IR pass on hand-made graphs -------------------------------------------------------


def _chain_model(kinds: list[str], residual_every: int = 0) -> ModelIR:
    """x -> layer -> layer ...; with ``residual_every``, an add of the unit's input."""
    layer_specs, steps = [], []
    current, unit_input = "inputs", "inputs"
    for index, kind in enumerate(kinds):
        attr = f"l{index}"
        layer_specs.append(
            LayerSpec(attr, attr, Call(Symbol("keras", f"layers.{kind}"), (4,)), kind)
        )
        steps.append(Assign((f"v{index}",), Call(SelfAttr(attr), (Name(current),))))
        current = f"v{index}"
        if residual_every and (index + 1) % residual_every == 0:
            steps.append(
                Assign(
                    (f"r{index}",),
                    Call(Symbol("keras", "ops.add"), (Name(unit_input), Name(current))),
                )
            )
            current = unit_input = f"r{index}"
    return ModelIR(
        "M",
        "m",
        (InputSpec("inputs", "inputs", (4,), "float32"),),
        "single",
        tuple(layer_specs),
        tuple(steps),
        Name(current),
    )


def test_cuts_fall_where_one_tensor_carries_everything() -> None:
    model = _chain_model(["Dense", "Dense", "Dense", "Dense"], residual_every=2)
    segments = single_tensor_segments(model)
    # Inside a residual unit the unit's input stays live: no cut until its sum.
    assert [(s.start, s.stop) for s in segments] == [(0, 3), (3, 6)]
    assert segments[0].source == "inputs" and segments[0].result == "r1"
    assert segments[1].source == "r1" and segments[1].result == "r3"


def test_an_optional_chain_is_found_and_nothing_else_is() -> None:
    big = _chain_model(["Dense", "LayerNormalization", "Dropout"])
    small = _chain_model(["Dense", "Dropout"])
    layers_of = {spec.attr: spec for spec in (*big.layers, *small.layers)}
    wanted, _ = segment_shape(small.steps, "inputs", "v1", layers_of)
    found = find_removal(big.steps, "inputs", "v2", layers_of, wanted, len(small.steps))
    assert found is not None and [c.steps for c in found] == [(1,)]
    other = _chain_model(["Dense", "Activation"])
    unrelated, _ = segment_shape(
        other.steps, "inputs", "v1", layers_of | {spec.attr: spec for spec in other.layers}
    )
    assert find_removal(big.steps, "inputs", "v2", layers_of, unrelated, 2) is None


# -- real models ---------------------------------------------------------------------------


@pytest.mark.slow
def test_resnet50_factors_into_one_block_class_with_stage_hyperparameters() -> None:
    original = _resnet50()
    conversion = convert(original, ConvertOptions(class_name="ResNet50", package="resnet50"))
    source = conversion.source
    golden = GOLDEN / "resnet50.py"
    if REGENERATE:
        golden.write_text(source, encoding="utf-8")
    assert comparable(source) == comparable(golden.read_text(encoding="utf-8"))
    classes = _classes(source)
    assert classes == {
        "ConvBlock": ["tf.keras.layers.Layer"],
        "ResNet50": ["tf.keras.Model"],
    }
    assert "stage_filters=(64, 128, 256, 512)" in source
    assert "stage_depths=(3, 4, 6, 3)" in source
    assert 'name=f"conv{s + 2}_block{i + 1}"' in source
    assert "for block in self.conv_blocks:" in source
    assert len(source.splitlines()) <= 190  # 182 measured: docs/structure.md
    report = verify_source(original, source, "ResNet50", batches=1)
    assert report.ok, report.verdict()
    # Hyperparameters are real: a smaller network builds from the same class.
    small = generated_class(source, "ResNet50", "resnet_small")(
        stage_filters=(8, 16), stage_strides=(1, 2), stage_depths=(2, 1)
    )
    small.build(None)
    assert len(small.conv_blocks) == 3
    assert small.conv_blocks[2].name == "conv3_block1"


def test_flat_keeps_one_statement_per_node() -> None:
    model = build_case("repeated_blocks")
    options = ConvertOptions(class_name="RepeatedBlocks", package="repeated_blocks")
    flat = convert_model(model, ConvertOptions(**{**options.__dict__, "flat": True}))
    factored = convert_model(model, options)
    assert list(_classes(flat)) == ["RepeatedBlocks"]
    assert "for block in" not in flat
    # Each layer is written once in the block, not once per instance.
    assert factored.count("tf.keras.layers.") < flat.count("tf.keras.layers.") / 2
    # Names Keras made up say nothing; a block that adds its input back is residual.
    assert "class ResidualBlock(tf.keras.layers.Layer):" in factored
    assert "for block in self.residual_blocks:" in factored


def test_layer_names_are_no_hyperparameter_of_the_model() -> None:
    """Keras's names of a stage's first layers are written in the loop, as its layer
    numbers are: a model's constructor takes what a person tunes, not names."""
    model = build_case("repeated_blocks")
    source = convert_model(model, ConvertOptions(class_name="RepeatedBlocks", package="r"))
    tree = ast.parse(source)
    (main,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RepeatedBlocks"]
    (init,) = [n for n in main.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    params = [a.arg for a in init.args.args[1:]]
    assert params and not any("name" in p for p in params), params
    assert '("conv2d_7", "batch_normalization_6")' in source, source
    report = verify_source(model, source, "RepeatedBlocks", batches=1)
    assert report.ok, report.verdict()


def test_hidden_layers_are_one_list_and_the_head_stays_apart() -> None:
    """A deep MLP built without names: its hidden Dense layers are one list a loop calls
    (``for layer in self.dense_layers``), its output layer stays apart and takes
    ``num_classes``, as a person writes it; not one list whose last "stage" is the head."""
    keras.backend.clear_session()
    inputs = keras.Input((16,))
    x = inputs
    for _ in range(6):
        x = layers.Dense(16, activation="relu")(x)
    model = keras.Model(inputs, layers.Dense(3)(x))
    source = convert_model(model, ConvertOptions(class_name="Mlp", package="m"))
    assert "def __init__(self, num_classes=3, num_dense_layers=6, **kwargs):" in source, source
    assert "for layer in self.dense_layers:\n            x = layer(x)" in source, source
    assert "tf.keras.layers.Dense(num_classes, name=" in source, source
    report = verify_source(model, source, "Mlp", batches=1)
    assert report.ok, report.verdict()


def _list_heads(tie: bool) -> keras.Model:
    """A VAE encoder's heads: ``z_mean`` and ``z_log_var`` of equal units, then a value
    made of both (summed, so they must stay equal) or only set side by side."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = layers.Dense(8, activation="relu", name="hidden")(inputs)
    z_mean = layers.Dense(2, name="z_mean")(x)
    z_log_var = layers.Dense(2, name="z_log_var")(x)
    if tie:
        joined = layers.Add(name="z")([z_mean, keras.ops.exp(0.5 * z_log_var)])
    else:
        joined = layers.Concatenate(name="z")([z_mean, z_log_var])
    return keras.Model(inputs, [z_mean, z_log_var, joined])


def test_heads_read_together_share_one_units_parameter() -> None:
    """Each listed head's parameter takes its name (``z_mean_units``, not
    ``output_0_units``); heads that one layer combines take one (``z_units``): sized
    apart, they would no longer fit each other. Found building models with other values."""
    tied = _list_heads(tie=True)
    source = convert_model(tied, ConvertOptions(class_name="M", package="m"))
    assert "def __init__(self, z_units=2, **kwargs):" in source, source
    report = verify_source(tied, source, "M", batches=1)
    assert report.ok, report.verdict()
    wider = generated_class(source, "M", "tied_heads")(z_units=5)
    assert [tuple(o.shape) for o in wider(np.zeros((3, 6), "float32"))] == [(3, 5)] * 3
    apart = _list_heads(tie=False)
    source = convert_model(apart, ConvertOptions(class_name="M", package="m"))
    assert "def __init__(self, z_mean_units=2, z_log_var_units=2, **kwargs):" in source
    report = verify_source(apart, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_deeper_models_save_and_load_though_made_up_names_repeat(tmp_path: Path) -> None:
    """Deeper stages number Keras's made-up names past the original's (``conv2d_7``
    twice: README, "Weights"). Keras does not ask a subclassed model for unique names:
    ``.keras`` and ``.weights.h5`` files store by attribute path, so both round trips
    still give the same outputs."""
    model = build_case("repeated_blocks")
    source = convert_model(model, ConvertOptions(class_name="RepeatedBlocks", package="deep"))
    cls = generated_class(source, "RepeatedBlocks", "deeper_repeated_blocks")
    deeper = cls(stage_depths=(4, 4))
    deeper.build(None)
    names = [layer.name for layer in deeper._flatten_layers(include_self=False)]
    assert len(names) > len(set(names)), names  # the case this test is about
    inputs = np.random.default_rng(0).random((2, *model.input_shape[1:])).astype("float32")
    expected = np.asarray(deeper(inputs, training=False))
    deeper.save(tmp_path / "deeper.keras")
    loaded = keras.saving.load_model(tmp_path / "deeper.keras")
    np.testing.assert_array_equal(np.asarray(loaded(inputs, training=False)), expected)
    deeper.save_weights(tmp_path / "deeper.weights.h5")
    again = cls(stage_depths=(4, 4))
    again.build(None)
    again.load_weights(tmp_path / "deeper.weights.h5")
    np.testing.assert_array_equal(np.asarray(again(inputs, training=False)), expected)


def test_a_weightless_layer_keras_named_takes_the_blocks_name() -> None:
    """``hard_silu`` cannot be written as a function call, so the ``Activation`` stays a
    layer; numbered on a counter of its own it took a ``number_1`` parameter that only
    said ``activation_7``. Named after the block, it needs none, and still verifies."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for _ in range(3):
        y = layers.Conv2D(4, 3, padding="same")(x)
        y = layers.Activation("hard_silu")(y)
        y = layers.Conv2D(4, 1)(y)
        x = layers.Add()([x, y])
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    words = " ".join(source.split())  # Black wraps the call over three lines
    assert 'Activation( "hard_silu", name=self.name + "_activation" )' in words, source
    assert "number_1" not in source and "activation_" not in source, source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_the_one_layer_a_person_named_names_the_block() -> None:
    """InceptionV3 names only each module's concatenation (``mixed0``, ``mixed1``…): that
    is the block's name, the layer's is ``self.name``, and no ``layer_names`` parameter
    lists it per instance. Deeper, the loop names the extra blocks on (``mixed3``)."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for k in range(3):
        a = layers.Conv2D(2, 1, padding="same")(x)
        b = layers.Conv2D(2, 3, padding="same")(layers.Conv2D(3, 1, padding="same")(x))
        c = layers.Conv2D(2, 1, padding="same")(layers.AveragePooling2D(3, 1, "same")(x))
        x = layers.Concatenate(name=f"mixed{k}")([a, b, c])
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "layer_names" not in source, source
    assert 'name=f"mixed{i}"' in source, source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()
    deeper = generated_class(source, "M", "given_names")(num_mixed_blocks=4)
    deeper.build(None)
    assert [block.name for block in deeper.mixed_blocks] == ["mixed0", "mixed1", "mixed2", "mixed3"]


def test_factored_output_is_deterministic() -> None:
    model = build_case("repeated_blocks")
    options = ConvertOptions(class_name="RepeatedBlocks", package="repeated_blocks")
    assert convert_model(model, options) == convert_model(model, options)


# -- random repeated blocks ----------------------------------------------------------------


@st.composite
def repeated_models(draw) -> dict:
    return {
        "dense": draw(st.booleans()),
        "widths": draw(st.lists(st.sampled_from([4, 6, 8]), min_size=1, max_size=3)),
        "depth": draw(st.integers(2, 4)),
        "norm": draw(st.sampled_from(["batch", "layer", "none"])),
        "dropout": draw(st.sampled_from([0.0, 0.2])),
        "activation": draw(st.sampled_from(["relu", "gelu"])),
        "tail": draw(st.booleans()),
    }


def _build_repeated(spec: dict) -> keras.Model:
    """Stages of one residual unit, every layer named by Keras itself."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    shape = (10,) if spec["dense"] else (6, 6, 3)
    inputs = keras.Input(shape)
    x = inputs
    for width in spec["widths"]:
        for index in range(spec["depth"]):
            project = index == 0
            if spec["dense"]:
                y = layers.Dense(width)(x)
                shortcut = layers.Dense(width)(x) if project else x
            else:
                strides = 2 if project and width > 4 else 1
                y = layers.Conv2D(width, 3, strides=strides, padding="same")(x)
                shortcut = layers.Conv2D(width, 1, strides=strides)(x) if project else x
            if spec["norm"] == "batch":
                y = layers.BatchNormalization()(y)
            elif spec["norm"] == "layer":
                y = layers.LayerNormalization()(y)
            y = layers.Activation(spec["activation"])(y)
            if spec["dropout"]:
                y = layers.Dropout(spec["dropout"])(y)
            x = layers.Add()([shortcut, y])
    if spec["tail"]:
        x = layers.Flatten()(x)
        x = layers.Dense(3)(x)
    return keras.Model(inputs, x)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(repeated_models())
def test_random_repeated_blocks_factor_and_verify(spec: dict) -> None:
    model = _build_repeated(spec)
    source = convert_model(model, ConvertOptions(class_name="Repeated", package="repeated"))
    classes = _classes(source)
    assert len(classes) >= 2, f"no block found for {spec}"
    assert "for block in" in source
    report = verify_source(model, source, "Repeated", batches=1)
    assert report.ok, f"{spec}: {report.verdict()}"


def test_a_converted_model_builds_at_another_input_size() -> None:
    import numpy as np

    model = build_case("repeated_blocks")  # made for 12 x 12 images
    source = convert_model(
        model, ConvertOptions(class_name="RepeatedBlocks", package="repeated_blocks")
    )
    bigger = generated_class(source, "RepeatedBlocks", "repeated_bigger")()
    bigger.build((None, 24, 24, 3))
    assert tuple(bigger(np.zeros((2, 24, 24, 3), "float32")).shape) == (2, 5)


# -- regressions found in review ---------------------------------------------------------


def _residual_stages(stages: list[tuple[int, int]], name: str = "s{s}_b{i}") -> keras.Model:
    """Dense residual units, a projected shortcut in each stage's first unit."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = layers.Dense(8, name="stem")(inputs)
    for s, (units, depth) in enumerate(stages):
        for i in range(depth):
            prefix = name.format(s=s + 1, i=i + 1)
            h = layers.Dense(units, activation="relu", name=prefix + "_d1")(x)
            h = layers.Dense(units, name=prefix + "_d2")(h)
            shortcut = layers.Dense(units, name=prefix + "_sc")(x) if i == 0 else x
            x = layers.Add(name=prefix + "_add")([shortcut, h])
            x = layers.Activation("relu", name=prefix + "_out")(x)
    return keras.Model(inputs, layers.Dense(3, name="head")(x))


def test_block_classes_leave_out_the_model_name_their_layers_share() -> None:
    """ConvNeXt's layers all begin with convnext_tiny_: its block is StageBlock, as its
    attributes are self.stem_conv, while the Keras names keep the prefix."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = layers.Dense(8, name="tiny_net_stem")(inputs)
    for i in range(3):
        h = layers.Dense(8, activation="relu", name=f"tiny_net_stage_block{i}_d1")(x)
        h = layers.Dense(8, name=f"tiny_net_stage_block{i}_d2")(h)
        x = layers.Add(name=f"tiny_net_stage_block{i}_add")([x, h])
    model = keras.Model(inputs, layers.Dense(3, name="tiny_net_head")(x))
    source = convert_model(model, ConvertOptions(class_name="TinyNet", package="m"))
    assert set(_classes(source)) == {"StageBlock", "TinyNet"}
    assert 'name=self.name + "_d1"' in source and '"tiny_net_stem"' in source
    report = verify_source(model, source, "TinyNet", batches=1)
    assert report.ok, report.verdict()


@pytest.mark.parametrize(
    "stages",
    [[(8, 2), (8, 3)], [(8, 2), (16, 1), (32, 3)], [(8, 1), (16, 1), (32, 3)]],
    ids=["depth only", "a stage of one", "stages of one first"],
)
def test_stages_reproduce_every_instance(stages: list[tuple[int, int]]) -> None:
    model = _residual_stages(stages)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert len(_classes(source)) == 2
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_names_tensorflow_refuses_inside_a_layer_stay_flat() -> None:
    """A layer called inside a block needs a valid TensorFlow name scope."""
    model = _residual_stages([(8, 3)], name="a b{s}_{i}")
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert list(_classes(source)) == ["M"]
    assert verify_source(model, source, "M", batches=1).ok


def test_a_literal_without_default_does_not_spread_from_the_anchor() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((4,))
    x = layers.Dense(4, trainable=False, name="frozen")(inputs)
    x = layers.ReLU(name="relu")(x)
    for k in range(3):
        x = layers.Dense(4, name=f"d{k}")(x)
    model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    generated = generated_class(source, "M", "frozen_anchor")()
    generated.build(None)
    assert len(generated.trainable_weights) == len(model.trainable_weights) == 6
    assert verify_source(model, source, "M", batches=1).ok


def test_verification_sees_a_layer_frozen_in_one_model_only() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2, name="d")(inputs))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    frozen = source.replace('name="d")', 'trainable=False, name="d")')
    assert frozen != source
    report = verify_source(model, frozen, "M", batches=1)
    assert not report.ok and "trainable" in report.verdict() + str([c.note for c in report.checks])


def test_a_head_parameter_never_replaces_a_layer() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((4,))
    x = layers.Dense(8, name="num_classes")(inputs)
    model = keras.Model(inputs, layers.Dense(3, name="out")(x))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "self.num_classes = tf.keras.layers.Dense(8" in source
    assert verify_source(model, source, "M", batches=1).ok


def test_an_initializer_written_many_times_is_one_module_constant() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((4,))
    x = inputs
    for after in (layers.LayerNormalization, layers.ReLU, layers.Softmax):  # no repeats
        init = keras.initializers.VarianceScaling(scale=2.0, mode="fan_out", seed=3)
        x = layers.Dense(5, kernel_initializer=init)(x)
        x = after()(x)
    model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m", flat=False))
    assert source.count("VarianceScaling") == 1
    assert "kernel_initializer=VARIANCE_SCALING_INITIALIZER" in source
    generated = generated_class(source, "M", "shared_initializer")()
    generated.build(None)
    # A config, not a shared instance: each layer gets its own (seeded) initializer,
    # so fresh weights equal the original's fresh weights.
    kernels = [w for w in generated.weights if "kernel" in w.path]
    originals = [w for w in model.weights if "kernel" in w.path]
    for ours, theirs in zip(kernels, originals, strict=True):
        assert ours.numpy().tolist() == theirs.numpy().tolist()
    assert verify_source(model, source, "M", batches=1).ok


def _downsampling(extra: int) -> keras.Model:
    """ConvNeXt's downsampling blocks: three nested Sequentials that differ only in their
    widths (with ``extra`` more layers each)."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for index, filters in enumerate((6, 8, 10)):
        more = [layers.ReLU(name=f"down_relu{k}_{index}") for k in range(extra)]
        down = keras.Sequential(
            [
                layers.LayerNormalization(epsilon=1e-6, name=f"down_norm_{index}"),
                *more,
                layers.Conv2D(filters, 2, strides=2, name=f"down_conv_{index}"),
            ],
            name=f"down_{index}",
        )
        x = down(x)
        x = layers.Activation("gelu", name=f"gelu_{index}")(x)
    return keras.Model(inputs, layers.GlobalAveragePooling2D(name="gap")(x))


def test_look_alike_nested_models_become_one_layer_class() -> None:
    """Look-alike nested Sequentials long enough to pay for a class are one Layer class
    with a parameter; weights still pair by name."""
    model = _downsampling(extra=3)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    classes = _classes(source)
    assert classes == {"Down": ["tf.keras.layers.Layer"], "M": ["tf.keras.Model"]}
    assert 'name=f"down_conv_{number}"' in source
    assert 'Down(filters=8, number=1, name="down_1")' in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_short_look_alike_nested_models_are_written_where_they_are_created() -> None:
    """Two layers each, three times: shorter as ``tf.keras.Sequential([...])``
    expressions, as keras.applications writes ConvNeXt's, than as a class (one list of
    them, as they differ only in a width and a number: sequential_lists.py)."""
    model = _downsampling(extra=0)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert set(_classes(source)) == {"M"}
    assert source.count("tf.keras.Sequential(") == 1 and "self.downs = [" in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


@pytest.mark.parametrize("sequential", [True, False], ids=["sequential", "functional"])
def test_a_none_argument_in_a_written_out_list(sequential: bool) -> None:
    """Dense layers differing in ``activation`` (None vs "relu"): None is a value."""
    keras.backend.clear_session()
    inputs = keras.Input((8,))
    stack = [layers.Dense(8), layers.Dense(4, activation="relu"), layers.Dense(2)]
    if sequential:
        model = keras.Sequential([inputs, *stack])
    else:
        x = inputs
        for layer in stack:
            x = layer(x)
        model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert verify_source(model, source, "M", batches=1).ok


def test_merged_nested_models_keep_each_instances_layer_names() -> None:
    """Five look-alike nested models (enough to pay for a class, not written out)."""
    keras.backend.clear_session()
    inputs = keras.Input((8,))
    x = inputs
    for k in range(5):
        stage = keras.Sequential(
            [layers.Dense(8, name=f"stage{k}_d{i}") for i in range(3)], name=f"stage{k}"
        )
        x = stage(x)
    model = keras.Model(inputs, x, name="stages")
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert 'name=self.name + "_d0"' in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def _with_nested(inner: keras.Model, input_shape: tuple, dtype: str = "float32") -> keras.Model:
    """A Functional model that calls ``inner`` on its input and adds a head."""
    inputs = keras.Input(input_shape, dtype=dtype, name="features")
    x = inner(inputs)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, layers.Dense(3, name="head")(x), name="outer")


def test_a_nested_sequential_is_written_as_a_sequential() -> None:
    """A nested Sequential of plain layers (ConvNeXt's stem, a data-augmentation stack)
    reads as ``tf.keras.Sequential([...])`` where it is created, nested ones included;
    its layers keep their names, so weights still pair."""
    keras.backend.clear_session()
    inner = keras.Sequential(
        [
            layers.Conv2D(4, 3, name="stem_conv"),
            layers.BatchNormalization(name="stem_bn"),
            keras.Sequential(
                [layers.Dropout(0.5, name="stem_drop"), layers.ReLU(name="stem_relu")],
                name="stem_tail",
            ),
        ],
        name="stem",
    )
    inner.build((None, 8, 8, 3))
    model = _with_nested(inner, (8, 8, 3))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert set(_classes(source)) == {"M"}
    assert "self.stem = tf.keras.Sequential(" in source
    assert 'name="stem_tail"' in source and 'name="stem"' in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()
    flat = convert_model(model, ConvertOptions(class_name="M", package="m", flat=True))
    assert "tf.keras.Sequential(" not in flat  # --flat keeps today's classes


def test_a_nested_sequential_called_on_two_sizes_keeps_its_input() -> None:
    """RetinaNet's heads: one Sequential shared by feature maps of several sizes. Built
    at its first call's shape it would refuse the second, so it opens with its declared
    ``tf.keras.Input``. Found in a sweep of keras.io-like models (it fell back to flat)."""
    keras.backend.clear_session()
    head = keras.Sequential(
        [
            keras.Input((None, None, 4)),
            layers.Conv2D(4, 3, padding="same", name="head_conv"),
            layers.ReLU(name="head_relu"),
            layers.Conv2D(2, 3, padding="same", name="head_out"),
        ],
        name="head",
    )
    inputs = keras.Input((8, 8, 3), name="image")
    p3 = layers.Conv2D(4, 3, strides=2, padding="same", name="p3")(inputs)
    p4 = layers.Conv2D(4, 3, strides=2, padding="same", name="p4")(p3)
    outputs = [layers.Reshape((-1, 2), name=f"flat_{p.name}")(head(p)) for p in (p3, p4)]
    model = keras.Model(inputs, layers.Concatenate(axis=1, name="cat")(outputs))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "tf.keras.Input(shape=(None, None, 4))," in source, source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_a_nested_sequential_that_cannot_be_an_expression_stays_a_class() -> None:
    """Integer inputs: a Sequential builds at its first layer's dtype (float32), so the
    nested model keeps its class and its declared input."""
    keras.backend.clear_session()
    inner = keras.Sequential(
        [keras.Input((5,), dtype="int32"), layers.Embedding(10, 4, name="embed")],
        name="tokens",
    )
    model = _with_nested(inner, (5,), dtype="int32")
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "tf.keras.Sequential(" not in source
    assert len(_classes(source)) == 2
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def _dense_stages(depths: tuple[int, ...], named: bool) -> keras.Model:
    """DenseNet's shape: runs of concatenating units, a transition between runs."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = inputs
    for s, depth in enumerate(depths):
        for i in range(depth):
            names = {"name": f"conv{s + 2}_block{i + 1}"} if named else {}
            h = layers.Dense(4, activation="relu", **{k: v + "_1" for k, v in names.items()})(x)
            h = layers.Dense(2, **{k: v + "_2" for k, v in names.items()})(h)
            x = layers.Concatenate(**{k: v + "_concat" for k, v in names.items()})([x, h])
        if s < len(depths) - 1:
            x = layers.Dense(8, activation="relu", name=f"pool{s + 2}" if named else None)(x)
    return keras.Model(inputs, layers.Dense(3, name="head")(x))


@pytest.mark.parametrize("named", [True, False], ids=["named", "auto names"])
def test_separate_runs_of_one_block_take_one_depths_tuple(named: bool) -> None:
    """DenseNet121's runs sit between transitions: one ``stage_depths`` tuple (Keras's
    ``blocks=[6, 12, 24, 16]``), not a count parameter per run; other depths build."""
    import numpy as np

    model = _dense_stages((3, 4, 3), named)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "stage_depths=(3, 4, 3)" in source
    assert not re.search(r"num_\w*blocks", source)
    assert "range(stage_depths[1])" in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()
    deeper = generated_class(source, "M", f"dense_stages_{named}")(stage_depths=(1, 2, 5))
    assert tuple(deeper(np.zeros((2, 6), "float32")).shape) == (2, 3)
    assert deeper.get_config()["stage_depths"] == (1, 2, 5)


def test_a_nested_sequential_of_another_dtype_keeps_its_input() -> None:
    """An inline Sequential builds at its first layer's dtype: float16 ids 4097 and 4099
    would read embedding rows 4096 and 4100. Found in review."""
    import numpy as np

    keras.backend.clear_session()
    inner = keras.Sequential(
        [keras.Input((3,)), layers.Embedding(5000, 2, dtype="mixed_float16", name="emb")],
        name="inner",
    )
    inputs = keras.Input((3,), name="ids")
    outputs = layers.Activation("linear", dtype="float32", name="out")(inner(inputs))
    model = keras.Model(inputs, outputs)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "tf.keras.Sequential(" not in source
    generated = generated_class(source, "M", "dtype_sequential")()
    generated.build(None)
    transfer_weights(model, generated)
    ids = np.array([[4097.0, 4099.0, 10.0]], "float32")
    np.testing.assert_array_equal(np.asarray(generated(ids)), np.asarray(model(ids)))


def test_the_diagram_draws_blocks_with_optional_parts() -> None:
    """The project README's diagram walks a block's optional parts (``if
    self.residual:``), which crashed it; a list built by a comprehension is a list.
    Found in review."""
    from generator.output.diagram import mermaid_diagram

    spec = {
        "named": True,
        "first_expands": True,
        "expansion": 6,
        "stages": [(8, 2, 2), (12, 3, 2), (12, 2, 1)],
    }
    conversion = convert(_inverted_residuals(spec), ConvertOptions(class_name="M", package="m"))
    text = mermaid_diagram(conversion.module)
    assert " list" in text and " x 0" not in text
    assert "subgraph" in text  # the block's own steps, optional parts included
    assert "_expand" in text and "_pad" in text


def test_a_one_element_input_list_builds_from_a_tensor_shape() -> None:
    import tensorflow as tf

    keras.backend.clear_session()
    inputs = keras.Input((8,), name="only")
    model = keras.Model([inputs], layers.Dense(2, name="d")(inputs))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    for shape in ([tf.TensorShape([None, 8])], [(None, 8)], (None, 8), None):
        generated = generated_class(source, "M", "one_element")()
        generated.build(shape)
        assert tuple(generated.layers[0].kernel.shape) == (8, 2)


def test_an_inner_layer_named_like_its_block() -> None:
    """MobileNet's ``conv_pw_2`` is both a layer's name and, derived from its
    ``conv_pw_2_bn`` neighbours, its block's: weights still pair."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for index in range(1, 4):
        x = layers.Conv2D(4, 1, name=f"conv_pw_{index}")(x)
        x = layers.BatchNormalization(name=f"conv_pw_{index}_bn")(x)
        x = layers.ReLU(name=f"conv_pw_{index}_relu")(x)
    model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "name=self.name)" in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_values_equal_by_chance_stay_separate_parameters() -> None:
    """Filters that happen to be 8x the kernel size are a width of their own, never
    ``8 * kernel_size``; a width that is a multiple of another width may say so."""
    keras.backend.clear_session()
    inputs = keras.Input((16, 16, 4))
    x = inputs
    for index, kernel in enumerate((3, 5, 3, 5)):
        x = layers.DepthwiseConv2D(kernel, padding="same", name=f"b{index}_dw")(x)
        x = layers.Conv2D(8 * kernel, 1, name=f"b{index}_conv")(x)
        x = layers.BatchNormalization(name=f"b{index}_bn")(x)
        x = layers.Conv2D(16 * kernel, 1, name=f"b{index}_wide")(x)
        x = layers.ReLU(name=f"b{index}_relu")(x)
    model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "kernel_size" in source and "* kernel_size" not in source
    assert "2 * filters" in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_units_of_several_segments_start_where_the_names_do() -> None:
    """EfficientNet's pattern: a block without a residual (cut into one segment per
    layer) followed by one with; a stem that looks like a block's head must not shift
    the units to the tail of one block and the head of the next."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = layers.Conv2D(8, 1, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    for index in range(1, 4):
        for part in ("a", "b"):
            prefix = f"b{index}{part}"
            h = layers.Conv2D(8, 1, name=prefix + "_expand")(x)
            h = layers.BatchNormalization(name=prefix + "_expand_bn")(h)
            h = layers.ReLU(name=prefix + "_expand_relu")(h)
            h = layers.Conv2D(8, 3, padding="same", name=prefix + "_conv")(h)
            h = layers.BatchNormalization(name=prefix + "_bn")(h)
            x = h if part == "a" else layers.Add(name=prefix + "_add")([x, h])
    model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    instances = re.findall(r"layer_names=\(([^()]*?)\),\s*name=\"(\w+)\"", source)
    assert len(instances) == 3, source  # the three (the docstring's Example names none)
    for inner, name in instances:  # each instance is block i's "a" part and its "b" part
        prefixes = {word.split("_")[0] for word in re.findall(r'"(\w+)"', inner)}
        assert prefixes == {name[:-1] + "a"} and name.endswith("b"), (inner, name)
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def _inception_like(named: bool, stem: str = "unit{}") -> keras.Model:
    """Branches of convolution, batch normalization and activation, as Keras's
    ``conv2d_bn`` writes them: auto-numbered names, or each named after a stem."""
    keras.backend.clear_session()
    inputs = keras.Input((16, 16, 3))
    counter = iter(range(100))

    def conv_bn(x, filters, kernel, strides=1, padding="same"):
        name = stem.format(next(counter)) if named else None
        x = layers.Conv2D(
            filters, kernel, strides=strides, padding=padding, use_bias=False,
            name=name and name + "_conv",
        )(x)  # fmt: skip
        x = layers.BatchNormalization(scale=False, name=name and name + "_bn")(x)
        return layers.Activation("relu", name=name and name + "_ac")(x)

    x = conv_bn(inputs, 8, 3, strides=2, padding="valid")
    a = conv_bn(x, 8, 1)  # two different mixing units: nothing repeats as a block
    b = conv_bn(conv_bn(x, 8, 1), 8, 3)
    c = conv_bn(conv_bn(conv_bn(x, 4, 1), 8, 3), 8, 3)
    x = layers.Concatenate()([a, b, c])
    a = conv_bn(x, 12, 1)
    b = conv_bn(conv_bn(x, 6, 1), 12, (1, 3))
    c = conv_bn(conv_bn(x, 6, 1), 12, (3, 1))
    d = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    x = layers.Concatenate()([a, b, c, conv_bn(d, 12, 1)])
    return keras.Model(inputs, layers.GlobalAveragePooling2D()(x))


@pytest.mark.parametrize("named", [False, True], ids=["numbered", "stems"])
def test_a_chain_written_many_times_becomes_one_layer_class(named: bool) -> None:
    model = _inception_like(named)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    classes = _classes(source)
    assert "ConvBnAct" in classes, list(classes)
    assert source.count("ConvBnAct(") >= 13  # every conv_bn call but in the docstring
    if named:
        assert 'ConvBnAct(8, 3, strides=2, padding="valid", name="unit0")' in source
        assert 'name=self.name + "_bn"' in source
    else:
        assert 'name=f"batch_normalization_{number}"' in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()
    assert source == convert_model(model, ConvertOptions(class_name="M", package="m"))


def test_a_width_follows_the_expansion_only_where_nothing_else_fixes_it() -> None:
    """EfficientNet's expand convolution (absent where the expansion is 1) reads the
    block's ``expansion``; found in review: a projection shortcut of ``2 * channels``,
    present only where the expansion happens to be 2, must keep following the projection
    it is added to, or a block built with another expansion cannot add them."""
    keras.backend.clear_session()
    inputs = keras.Input((2, 2, 2))
    x, width = inputs, 2
    for s, (ratio, short) in enumerate([(2, True), (6, False), (6, False)]):
        for i in range(2):
            name = f"block{s + 1}{chr(97 + i)}_"
            h = layers.Conv2D(ratio * width, 1, name=name + "expand_conv")(x)
            h = layers.DepthwiseConv2D(3, padding="same", name=name + "dwconv")(h)
            h = layers.Conv2D(2 * width, 1, name=name + "project_conv")(h)
            if short:
                cut = layers.Conv2D(2 * width, 1, name=name + "shortcut_conv")(x)
                h = layers.Add(name=name + "add")([h, cut])
            x, width = h, 2 * width
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    source = _verified(keras.Model(inputs, layers.Dense(3, name="head")(x)))
    assert re.search(r"self\.expansion \* channels, 1, name=self\.name \+ \"_expand_conv\"", source)
    assert re.search(r"2 \* channels, 1, name=self\.name \+ \"_shortcut_conv\"", source), source
    block = generated_class(source, "Block")(
        expansion=4, use_shortcut_conv=True, use_add=True, name="b"
    )
    assert tuple(block(np.zeros((1, 2, 2, 2), "float32")).shape) == (1, 2, 2, 4)


def test_repeated_layer_pairs_around_an_op_are_no_motif() -> None:
    """Found in review: the motif check read the shape of a window holding an op call
    (``keras.ops.split``) before checking it is a chain of layers (AssertionError)."""
    keras.backend.clear_session()
    inputs = keras.Input((4,))
    x = layers.Dense(8, name="d1")(inputs)
    _, x = keras.ops.split(x, 2, axis=-1)
    x = layers.Dense(4, name="d2")(x)
    x = layers.Dense(8, name="d3")(x)
    _, x = keras.ops.split(x, 2, axis=-1)
    x = layers.Dense(4, name="d4")(x)
    _verified(keras.Model(inputs, x))


def test_a_chain_named_as_tensorflow_refuses_a_scope_stays_written_out() -> None:
    model = _inception_like(True, stem="unit {}")
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "ConvBnAct" not in source
    assert verify_source(model, source, "M", batches=1).ok


def test_a_chain_with_training_fixed_in_the_graph_stays_its_own() -> None:
    """MC dropout: ``Dropout(...)(x, training=True)`` in some chains and not others. One
    motif class for both would give every instance the same call."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    branches = []
    for index in range(16):
        x = layers.Dense(4 + index % 3)(inputs)
        x = layers.BatchNormalization()(x)
        dropout = layers.Dropout(0.25)
        branches.append(dropout(x, training=True) if index % 2 else dropout(x))
    model = keras.Model(inputs, layers.Concatenate()(branches))
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    motifs = [name for name in _classes(source) if name.startswith("Dense")]
    assert len(motifs) == 2, list(_classes(source))
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


# -- blocks that differ both ways, widths that follow the input ----------------------------


@st.composite
def inverted_models(draw) -> dict:
    return {
        "named": draw(st.booleans()),
        "first_expands": draw(st.booleans()),
        "expansion": draw(st.sampled_from([2, 6])),
        "stages": draw(
            st.lists(
                st.tuples(st.sampled_from([4, 8, 12]), st.integers(1, 3), st.sampled_from([1, 2])),
                min_size=2,
                max_size=4,
            )
        ),
    }


def _inverted_residuals(spec: dict) -> keras.Model:
    """MobileNetV2's pattern: the first block of a stage pads before a strided depthwise
    convolution and adds nothing back; the others add their input back and pad nothing;
    the expansion's width is a multiple of the block's input width."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(8, 3, padding="same", name="stem" if spec["named"] else None)(inputs)
    number = 0
    for filters, depth, stride in spec["stages"]:
        for index in range(depth):
            strides = stride if index == 0 else 1

            def name(part: str, number: int = number) -> str | None:
                return f"block_{number}_{part}" if spec["named"] else None

            h = x
            if number or spec["first_expands"]:
                h = layers.Conv2D(spec["expansion"] * x.shape[-1], 1, name=name("expand"))(h)
                h = layers.BatchNormalization(name=name("expand_bn"))(h)
                h = layers.ReLU(6.0, name=name("expand_relu"))(h)
            if strides == 2:
                h = layers.ZeroPadding2D(((0, 1), (0, 1)), name=name("pad"))(h)
            padding = "same" if strides == 1 else "valid"
            h = layers.DepthwiseConv2D(3, strides, padding, name=name("depthwise"))(h)
            h = layers.BatchNormalization(name=name("depthwise_bn"))(h)
            h = layers.Conv2D(filters, 1, name=name("project"))(h)
            h = layers.BatchNormalization(name=name("project_bn"))(h)
            if strides == 1 and x.shape[-1] == filters:
                h = layers.Add(name=name("add"))([x, h])
            x = h
            number += 1
    return keras.Model(inputs, layers.GlobalAveragePooling2D()(x))


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(inverted_models())
def test_blocks_that_differ_both_ways_verify(spec: dict) -> None:
    model = _inverted_residuals(spec)
    options = ConvertOptions(class_name="M", package="m")
    source = convert_model(model, options)
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, f"{spec}: {report.verdict()}"
    assert source == convert_model(model, options)


def test_the_first_block_of_a_stage_pads_and_the_others_add_back() -> None:
    """One class for both kinds of block, with the padding and the depthwise padding
    following the stride, and the expansion's width following the input's."""
    spec = {
        "named": True,
        "first_expands": True,
        "expansion": 6,
        "stages": [(8, 2, 2), (12, 3, 2), (12, 2, 1)],
    }
    model = _inverted_residuals(spec)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    golden = GOLDEN / "inverted_residuals.py"
    if REGENERATE:
        golden.write_text(source, encoding="utf-8")
    assert comparable(source) == comparable(golden.read_text(encoding="utf-8"))
    assert list(_classes(source)) == ["Block", "M"], list(_classes(source))
    assert "if self.strides == 2:" in source
    assert 'padding="valid" if self.strides == 2 else "same"' in source
    assert "def build(self, input_shape):" in source and "6 * channels" in source
    assert 'name=f"block_{sum(stage_depths[:s]) + i}"' in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()
    saved = generated_class(source, "M", "m_saved")()
    saved.build(None)
    assert len(saved.weights) == len(model.weights)


def test_a_value_counting_along_the_blocks_is_exact_to_the_bit() -> None:
    from generator.core.structure.progressions import GLOBAL_INDEX, linear, schedule

    rates = [0.2 * n / 16 for n in range(1, 12)]
    expression = linear(rates)
    assert expression is not None and GLOBAL_INDEX in _names(expression)
    assert linear([0.1, 0.2, 0.30000000000000004 + 1e-9]) is None
    assert linear([3, 5, 7, 9]) is not None and linear([3, 5, 8]) is None
    unknown_between = [0.9, 0.025, 0.9, 0.05, 0.9, 0.075]  # no dropout there: any value
    assert linear(unknown_between, [False, True] * 3) is not None
    assert linear(unknown_between) is None
    # Read as Keras's EfficientNet reads them: drop_connect_rate * b / blocks.
    assert schedule([0.2 * n / 23 for n in range(23)]) == 0.2
    assert schedule([0.0123 * n for n in range(8)]) is None  # the step reads shorter
    assert schedule([0.2 * (n + 1) / 16 for n in range(16)]) is None  # shifted


def test_a_run_cut_from_a_block_list_keeps_where_each_value_matters() -> None:
    """``Blocks.subset`` (a run of a class that several runs share) slices ``known`` with
    the values: a dropout present only in the second run's blocks is known there."""
    from generator.core.structure.blocks import BlockParam
    from generator.core.structure.progressions import schedule

    param = BlockParam(
        "rate", [0.5, 0.5, 0.0, 0.1, 0.2], "", known=[False, False, True, True, True]
    )
    second = param.subset(2, 5)
    assert second.values == [0.0, 0.1, 0.2] and second.known == [True, True, True]
    assert schedule([0.3, 0.3], [False, False]) is None  # nothing known: no schedule


def _names(value) -> list:
    from generator.core.ir import iter_values

    return [v for v in iter_values(value) if isinstance(v, Name)]


@pytest.mark.parametrize(
    ("rows", "stages"),
    [
        ("ABBCDDDEFF", [(0, 3), (3, 7), (7, 10)]),
        ("XHTHTTHTTT", [(0, 1), (1, 3), (3, 6), (6, 10)]),
        ("HTTHTTT", [(0, 3), (3, 7)]),
        ("AAAA", [(0, 4)]),
    ],
)
def test_stages_are_the_fewest_first_then_alike_groups(rows: str, stages: list) -> None:
    from generator.core.structure.stages import _stages

    assert _stages([{"value": row} for row in rows]) == stages


def _fewest_by_brute_force(rows: str) -> tuple[int, int]:
    """(stages, stages whose first row is like the rest or the row before) of the best
    split, trying every split point: the reference for ``_stages``."""
    best = {0: (0, 0)}
    for stop in range(1, len(rows) + 1):
        options = []
        for start in range(stop):
            tail = rows[start + 1 : stop]
            if start in best and len(set(tail)) <= 1:
                plain = (len(tail) > 0 and rows[start] == tail[0]) or (
                    start > 0 and rows[start] == rows[start - 1]
                )
                options.append((best[start][0] + 1, best[start][1] + plain))
        best[stop] = min(options)
    return best[len(rows)]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet="ABC", min_size=1, max_size=14))
def test_stages_split_as_well_as_trying_every_split(rows: str) -> None:
    from generator.core.structure.stages import _stages

    stages = _stages([{"value": row} for row in rows])
    assert stages[0][0] == 0 and stages[-1][1] == len(rows)
    assert all(a[1] == b[0] for a, b in zip(stages, stages[1:], strict=False))
    plain = 0
    for start, stop in stages:
        tail = rows[start + 1 : stop]
        assert len(set(tail)) <= 1, (rows, stages)
        plain += (len(tail) > 0 and rows[start] == tail[0]) or (
            start > 0 and rows[start] == rows[start - 1]
        )
    assert (len(stages), plain) == _fewest_by_brute_force(rows)


# -- regressions found in review (session 7) ------------------------------------------------


def _verified(model: keras.Model) -> str:
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()
    return source


def test_a_flag_never_follows_a_stride_of_an_absent_layer() -> None:
    """The kernel size of an optional convolution is filled in where the convolution is
    absent; a normalization present in blocks 0, 1, 4 and 5 must stay a flag of its own,
    not ``kernel_size == 3``."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 8))
    x = inputs
    plan = [(3, True), (3, True), (1, False), (1, False), (None, True), (None, True)]
    for n, (kernel, norm) in enumerate(plan):
        h = x
        if kernel is not None:
            h = layers.Conv2D(8, kernel, padding="same", name=f"b{n}_pre")(h)
        h = layers.Conv2D(8, 3, padding="same", name=f"b{n}_conv")(h)
        if norm:
            h = layers.BatchNormalization(name=f"b{n}_bn")(h)
        x = layers.Add(name=f"b{n}_add")([x, h])
    source = _verified(keras.Model(inputs, x))
    assert "kernel_size ==" not in source


def test_a_padding_never_follows_a_tuple(tmp_path: Path) -> None:
    """``kernel_size == (1, 3)`` would read a list after a .keras round trip."""
    keras.backend.clear_session()
    inputs = keras.Input((24, 24, 8))
    x = inputs
    number = 0
    for kernel, depth in [((1, 3), 2), ((3, 1), 2), ((1, 3), 2)]:
        for _ in range(depth):
            h = layers.Conv2D(8, 1, name=f"blk{number}_pw")(x)
            padding = "valid" if kernel == (1, 3) else "same"
            h = layers.DepthwiseConv2D(kernel, padding=padding, name=f"blk{number}_dw")(h)
            h = layers.BatchNormalization(name=f"blk{number}_bn")(h)
            x = layers.ReLU(name=f"blk{number}_relu")(h)
            number += 1
    source = _verified(keras.Model(inputs, layers.GlobalAveragePooling2D()(x)))
    assert "== (" not in source


def test_channels_first_widths_never_follow_the_last_axis() -> None:
    """With channels first, the last axis is a spatial one: filters equal to twice it
    are a coincidence that building at another size would change."""
    keras.backend.clear_session()
    inputs = keras.Input((4, 16, 16))
    x = inputs
    for n, filters in enumerate([32, 16, 8]):
        x = layers.Conv2D(
            filters, 3, strides=2, padding="same", data_format="channels_first", name=f"b{n}_c"
        )(x)
        x = layers.BatchNormalization(axis=1, name=f"b{n}_bn")(x)
        x = layers.ReLU(name=f"b{n}_relu")(x)
    model = keras.Model(inputs, x)
    source = _verified(model)
    assert "channels" not in source.replace("channels_first", "")
    bigger = generated_class(source, "M", "m_channels_first")()
    bigger.build((None, 4, 32, 32))
    kernels = [tuple(w.shape) for w in bigger.weights if "kernel" in w.path]
    assert kernels == [tuple(w.shape) for w in model.weights if "kernel" in w.path]


def test_an_infinite_value_along_the_blocks_converts() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for n, ceiling in enumerate([float("inf"), 1.0, 2.0, 3.0]):
        h = layers.Conv2D(4, 3, padding="same", name=f"b{n}_conv")(x)
        h = layers.ReLU(max_value=ceiling, name=f"b{n}_relu")(h)
        x = layers.Add(name=f"b{n}_add")([x, h])
    _verified(keras.Model(inputs, x))


def test_blocks_that_all_differ_are_no_stages() -> None:
    """Any two blocks are a "first, then identical" pair; stages of two everywhere are
    no structure, and each instance is written out instead."""
    keras.backend.clear_session()
    inputs = keras.Input((8,))
    x = layers.Dense(8, name="stem")(inputs)
    for n in range(12):
        h = layers.Dense(8, name=f"b{n}_d")(x)
        h = layers.Dropout(0.1 * (n + 1) / 10 + (0.001 if n % 3 else 0.0), name=f"b{n}_drop")(h)
        x = layers.Add(name=f"b{n}_add")([x, h])
    source = _verified(keras.Model(inputs, x))
    assert "stage_" not in source


def test_an_optional_tail_continues_the_main_path() -> None:
    """A residual part that drops and then adds back reads ``x = self.drop(x)``, with no
    ``else``: the tensor it bypasses is the one the main path holds."""
    keras.backend.clear_session()
    inputs = keras.Input((8,))
    x = layers.Dense(8, name="stem")(inputs)
    for n, residual in enumerate([False, True, True, False, True, True]):
        h = layers.Dense(8, name=f"b{n}_dense")(x)
        h = layers.BatchNormalization(name=f"b{n}_bn")(h)
        if residual:
            h = layers.Dropout(0.1, name=f"b{n}_drop")(h)
            h = layers.Add(name=f"b{n}_add")([h, x])
        x = h
    source = _verified(keras.Model(inputs, x))
    tail = "        if self.residual:\n            x = self.drop(x, training=training)\n"
    assert tail + "            x = x + inputs\n        return x" in source, source


def test_stages_of_two_blocks_whose_width_doubles_are_stages() -> None:
    """ResNet18's layout: two blocks a stage, the width doubling at each first block.
    The width is the blocks' own (``units``), not a varying multiple of their input's,
    and the stages are stages."""
    model = _residual_stages([(8, 2), (16, 2), (32, 2), (64, 2)])
    source = _verified(model)
    assert "expansion" not in source
    assert "stage_units=(8, 16, 32, 64)" in source and "stage_depths=(2, 2, 2, 2)" in source


def test_a_run_of_chains_written_only_there_stays_a_block() -> None:
    """Six convolution, normalization, activation units in a row and nowhere else: the
    motif pass would not make a class of them, so the run is a block class with a loop."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for n in range(6):
        x = layers.Conv2D(4, 3, padding="same", name=f"u{n}_conv")(x)
        x = layers.BatchNormalization(name=f"u{n}_bn")(x)
        x = layers.ReLU(name=f"u{n}_relu")(x)
    source = _verified(keras.Model(inputs, x))
    assert len(_classes(source)) == 2 and "for block in self." in source


def test_parameters_of_alike_layers_say_which_layer() -> None:
    """Two convolutions with their own widths: "``filters`` of its Conv2D" twice would not
    say which is which (InceptionResNetV2's block17), so each names its layer."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 4))
    x = inputs
    for index, (narrow, wide) in enumerate(((4, 6), (5, 7), (4, 9))):
        x = layers.Conv2D(narrow, 1, name=f"b{index}_reduce")(x)
        x = layers.Conv2D(wide, 3, padding="same", name=f"b{index}_conv")(x)
        x = layers.Dense(narrow, name=f"b{index}_dense")(x)  # reads the same value
        x = layers.ReLU(name=f"b{index}_relu")(x)
    model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    docs = dict(re.findall(r"^ +(filters\w*): (.*)$", source, re.MULTILINE))
    assert docs == {
        "filters": "``filters`` of its Conv2D ``reduce``; also read by ``dense`` (Dense).",
        "filters_1": "``filters`` of its Conv2D ``conv``.",
    }, docs
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_lists_of_one_class_are_named_after_their_runs() -> None:
    """InceptionResNetV2's block17_1..20 and block8_1..9 are one class: the lists read
    ``block17s`` and ``block8s`` (a number the names share whole), not ``blocks`` and
    ``blocks_1``; ``unit10, unit11`` share a cut-short counter, not a number."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = inputs
    for prefix, indices in (("block17_", range(1, 4)), ("stage1_unit", range(10, 13))):
        for i in indices:
            h = layers.Dense(6, activation="relu", name=f"{prefix}{i}_a")(x)
            h = layers.Dense(6, name=f"{prefix}{i}_b")(h)
            x = layers.Add(name=f"{prefix}{i}_add")([x, h])
        x = layers.Dense(6, name=f"{prefix}transition")(x)
    model = keras.Model(inputs, x)
    source = convert_model(model, ConvertOptions(class_name="M", package="m"))
    assert "self.block17s = [" in source
    assert "self.stage1_units = [" in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


@pytest.mark.slow
def test_a_project_of_a_factored_model_passes_its_own_tests(tmp_path: Path) -> None:
    """``convert -o DIR --loop fit`` on a model with blocks (optional parts, stage
    tuples) and a nested Sequential: the project's own test suite passes as the user runs
    it (its diagram crashed on optional parts, its round trip compared a stage tuple with
    the list .keras gives back; both found in review)."""
    from click.testing import CliRunner

    from generator.cli import main

    spec = {
        "named": True,
        "first_expands": True,
        "expansion": 6,
        "stages": [(8, 2, 2), (12, 3, 2)],
    }
    blocks = _inverted_residuals(spec)
    inner = keras.Sequential(
        [layers.Dense(4, name="head_dense"), layers.Dropout(0.1, name="head_drop")],
        name="head_stack",
    )
    model = keras.Model(blocks.input, layers.Dense(3, name="logits")(inner(blocks.output)))
    model_path = tmp_path / "factored.keras"
    model.save(model_path)
    project = tmp_path / "factored"
    result = CliRunner().invoke(
        main, ["convert", str(model_path), "-o", str(project), "--loop", "fit"]
    )
    assert result.exit_code == 0, result.output
    source = (project / "src" / "factored" / "model.py").read_text()
    assert "stage_depths=(" in source and "tf.keras.Sequential(" in source
    assert_project_tests_pass(project)


@pytest.mark.slow
def test_the_documented_resnet50_is_what_convert_writes(tmp_path: Path) -> None:
    """docs/structure.md shows the factored ResNet50 beside Keras's resnet.py, converted
    from a .keras file: it must be today's output (it had drifted: an older docstring, a
    build() that ignored its argument). ``make golden`` rewrites it."""
    keras.backend.clear_session()
    path = tmp_path / "resnet50.keras"
    keras.applications.ResNet50(weights=None).save(path)
    model = keras.models.load_model(path)
    source = convert_model(model, ConvertOptions(class_name="ResNet50", package="resnet50"))
    body = source[source.index("@tf.keras") :].rstrip("\n")
    doc_path = Path(__file__).parent.parent / "docs" / "structure.md"
    assert_documented(doc_path, "## The factored ResNet50", body)


def test_num_classes_is_the_head_dense_not_a_layer_before_a_loop() -> None:
    """The output comes out of a loop of blocks whose width follows their input: the
    stem's units are no ``num_classes`` (``x`` names several tensors along the way)."""
    keras.backend.clear_session()
    inputs = keras.Input((8,))
    x = layers.Dense(8, name="stem")(inputs)
    for n in range(4):
        h = layers.Dense(8, name=f"b{n}_dense")(x)
        h = layers.BatchNormalization(name=f"b{n}_bn")(h)
        x = layers.Add(name=f"b{n}_add")([h, x])
    source = _verified(keras.Model(inputs, x))
    assert "for block in self." in source
    assert "num_classes" not in source and "num_outputs" not in source


def test_num_classes_reads_through_a_softmax_written_as_a_function() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = layers.Dense(8, name="hidden")(inputs)
    x = layers.Dense(5, name="logits")(x)
    source = _verified(keras.Model(inputs, layers.Activation("softmax", name="probs")(x)))
    assert "tf.keras.activations.softmax(x)" in source
    assert "num_classes=5" in source and "Dense(num_classes" in source


def test_the_classifier_dropout_rate_is_a_parameter() -> None:
    """The Dropout right before the output layer is what a person tunes next to
    ``num_classes``, as Keras's EfficientNet takes ``dropout_rate``."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = layers.Dense(8, activation="relu", name="hidden")(inputs)
    x = layers.Dropout(0.3, name="hidden_dropout")(x)  # feeds a hidden layer: stays
    x = layers.Dense(8, name="hidden_2")(x)
    x = layers.Dropout(0.2, name="top_dropout")(x)
    outputs = layers.Dense(5, activation="softmax", name="predictions")(x)
    source = _verified(keras.Model(inputs, outputs))
    assert "num_classes=5" in source and "dropout_rate=0.2" in source, source
    assert 'Dropout(dropout_rate, name="top_dropout")' in source, source
    assert 'Dropout(0.3, name="hidden_dropout")' in source, source
    tuned = generated_class(source, "M", "head_dropout")(dropout_rate=0.5)
    tuned.build(None)
    assert tuned.top_dropout.rate == 0.5 and tuned.get_config()["dropout_rate"] == 0.5


def test_each_head_has_its_own_dropout_rate() -> None:
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = layers.Dense(8, name="hidden")(inputs)
    score = layers.Dense(1, name="score")(layers.Dropout(0.1, name="score_dropout")(x))
    label = layers.Dense(3, name="label")(layers.Dropout(0.4, name="label_dropout")(x))
    source = _verified(keras.Model(inputs, {"score": score, "label": label}))
    assert "score_dropout_rate=0.1" in source and "label_dropout_rate=0.4" in source, source


def test_a_block_without_parameters_has_no_empty_init(tmp_path: Path) -> None:
    """A block whose layers all take their widths from its input is made in ``build``;
    with no parameters either, an ``__init__`` would only call ``super().__init__``."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 6))
    x = inputs
    for n, width in enumerate([6, 6, 6, 12, 12, 12]):
        if n == 3:
            x = layers.Conv2D(width, 1, name="widen")(x)
        h = layers.DepthwiseConv2D(3, padding="same", name=f"b{n}_dw")(x)
        h = layers.LayerNormalization(name=f"b{n}_ln")(h)
        h = layers.Dense(width, name=f"b{n}_pw")(h)
        x = layers.Add(name=f"b{n}_add")([x, h])
    model = keras.Model(inputs, x)
    source = _verified(model)
    tree = ast.parse(source)
    block = next(n for n in tree.body if isinstance(n, ast.ClassDef) and "Layer" in ast.unparse(n))
    methods = [f.name for f in block.body if isinstance(f, ast.FunctionDef)]
    assert methods == ["build", "call"], methods
    generated = generated_class(source, "M")()
    generated.build(None)
    path = tmp_path / "m.keras"
    generated.save(path)
    keras.models.load_model(path)  # the block's config round-trips without an __init__


def test_the_diagram_joins_branches_where_an_operator_adds_them() -> None:
    """``x = shortcut + x`` calls no layer: the diagram draws a ``+`` node with both
    branches going in, not a line that skips the shortcut."""
    from generator.output.diagram import mermaid_diagram

    keras.backend.clear_session()
    inputs = keras.Input((8,))
    stem = layers.Dense(8, name="stem")(inputs)
    branch = layers.Dense(8, name="branch")(stem)
    model = keras.Model(
        inputs, layers.Dense(2, name="head")(layers.Add(name="join")([stem, branch]))
    )
    conversion = convert(model, ConvertOptions(class_name="M", package="m"))
    assert "stem + x" in conversion.source or "x + " in conversion.source
    text = mermaid_diagram(conversion.module)
    join = re.search(r'(n\d+)\(\("\+"\)\)', text)
    assert join, text
    node = {name: n for n, name in re.findall(r'(n\d+)\["(\w+):', text)}
    assert f"{node['stem']} --> {join.group(1)}" in text
    assert f"{node['branch']} --> {join.group(1)}" in text
    assert f"{join.group(1)} --> {node['head']}" in text


def _downsampling_model(numbers: list[int], widths: list[int], activations=None) -> keras.Model:
    """ConvNeXt's layout in small: look-alike nested Sequentials (a normalization, a
    strided convolution) between other layers, each created and called once."""
    keras.backend.clear_session()
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(4, 1, name="stem")(inputs)
    for k, (number, width) in enumerate(zip(numbers, widths, strict=True)):
        x = layers.DepthwiseConv2D(3, padding="same", name=f"mix_{k}")(x)
        activation = activations[k] if activations else None
        down = keras.Sequential(
            [
                layers.LayerNormalization(epsilon=1e-6, name=f"down_norm_{number + 1}"),
                layers.Conv2D(
                    width, 2, strides=2, activation=activation, name=f"down_conv_{number}"
                ),
            ],
            name=f"down_{number}",
        )
        x = down(x)
    return keras.Model(inputs, layers.GlobalAveragePooling2D(name="pool")(x))


def test_look_alike_nested_sequentials_apart_become_one_list(tmp_path: Path) -> None:
    model = _downsampling_model([1, 2, 3], [8, 16, 32])
    source = _verified(model)
    assert "self.downs = [" in source, source
    assert "for i, filters in enumerate(down_filters, start=1)" in source
    assert 'name=f"down_norm_{i + 1}"' in source and 'name=f"down_conv_{i}"' in source
    assert "down_filters=(8, 16, 32)" in source
    assert "x = self.downs[0](x, training=training)" in source
    assert "self.downs[2](" in source and "self.down_1 " not in source
    generated = generated_class(source, "M")()
    generated.build(None)
    transfer_weights(model, generated)
    path = tmp_path / "m.keras"
    generated.save(path)
    keras.models.load_model(path)
    smaller = generated_class(source, "M", "smaller")(down_filters=(4, 4, 4))
    smaller.build(None)
    assert smaller.get_config()["down_filters"] == (4, 4, 4)
    assert smaller.downs[2].layers[1].filters == 4


@pytest.mark.parametrize(
    "numbers, activations",
    [([1, 3, 4], None), ([0, 1, 2], ["relu", "gelu", "relu"])],
    ids=["numbers with a gap", "a differing string"],
)
def test_sequentials_that_differ_otherwise_stay_written_out(numbers, activations) -> None:
    model = _downsampling_model(numbers, [8, 16, 32], activations)
    source = _verified(model)
    assert "self.downs" not in source
    assert source.count("tf.keras.Sequential(") == 3


def test_a_block_sized_by_its_parameters_calls_the_motif_class_too() -> None:
    """InceptionResNetV2's ``block17``: its ``conv2d_bn`` chains take widths that change
    from stage to stage, so the block sizes them by its parameters; they are still the
    chain written everywhere else, and call its class with the parameter."""
    keras.backend.clear_session()
    inputs = keras.Input((8, 8, 3))

    def conv_bn(x, filters, kernel):
        x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(scale=False)(x)
        return layers.Activation("relu")(x)

    x = conv_bn(conv_bn(conv_bn(inputs, 8, 3), 8, 3), 8, 3)  # a stem
    for k, width in enumerate((4, 4, 4, 6, 6, 6)):
        a = conv_bn(x, 8, 1)
        b = conv_bn(conv_bn(x, width, 1), width, (1, 3))
        # Named, as Keras names them, so the chains' numbering stays in step.
        y = layers.Conv2D(8, 1, padding="same", name=f"unit{k}_conv")(layers.Concatenate()([a, b]))
        x = layers.Activation("relu", name=f"unit{k}_ac")(layers.Add()([x, y]))
    branches = [conv_bn(x, 4, 1), conv_bn(conv_bn(x, 4, 1), 4, 3), conv_bn(x, 6, 1)]
    x = layers.Concatenate()(branches)  # a reduction, written once
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    source = _verified(model)
    assert source.count("tf.keras.layers.BatchNormalization(") == 1, source  # ConvBnAct's
    assert re.search(r"ConvBnAct\((self\.)?filters, \(1, 3\), number \+ 2\)", source), source


def test_two_lists_of_sequentials_never_share_a_name(tmp_path: Path) -> None:
    """The second group's list (``down_filter_0..2``) would be ``self.down_filters``, the
    first group's new parameter; it overwrote it. Found in review."""
    keras.backend.clear_session()
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(4, 1, name="stem")(inputs)
    for k in range(3):
        x = layers.DepthwiseConv2D(3, padding="same", name=f"mix_{k}")(x)
        down = [
            layers.LayerNormalization(name=f"ln_{k}"),
            layers.Conv2D(8 * (k + 1), 2, strides=2, padding="same", name=f"conv_{k}"),
        ]
        x = keras.Sequential(down, name=f"down_{k}")(x)
        project = [
            layers.BatchNormalization(name=f"bn_{k}"),
            layers.Dense(4 * (k + 1), name=f"dense_{k}"),
        ]
        x = keras.Sequential(project, name=f"down_filter_{k}")(x)
    model = keras.Model(inputs, layers.GlobalAveragePooling2D(name="pool")(x))
    source = _verified(model)
    tree = ast.parse(source)
    init = next(
        f for c in tree.body if isinstance(c, ast.ClassDef) and c.name == "M"
        for f in c.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"
    )  # fmt: skip
    assigned = [
        t.attr for s in init.body if isinstance(s, ast.Assign)
        for t in s.targets if isinstance(t, ast.Attribute)
    ]  # fmt: skip
    assert len(assigned) == len(set(assigned)), assigned
    assert source.count("tf.keras.Sequential(") == 2  # two lists


def test_a_glu_head_gives_no_num_classes() -> None:
    """``glu`` halves the last axis: the Dense before it does not size the output (the
    parameter would have named 10 classes for 5 outputs). Found in review."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    x = layers.Dense(10, name="logits")(layers.Dense(8, name="hidden")(inputs))
    for weightless_layers in (False, True):
        model = keras.Model(inputs, layers.Activation("glu", name="gate")(x))
        source = convert_model(
            model, ConvertOptions(class_name="M", package="m", weightless_layers=weightless_layers)
        )
        assert "num_classes" not in source, source


def test_a_block_adds_back_where_its_output_keeps_its_input_shape() -> None:
    """A stage that widens without striding: the stride alone does not tell which blocks
    add their input back, the shapes do, as Keras's MobileNetV2 decides (``in_channels
    == pointwise_filters and stride == 1``); computed in ``build``, not a parameter, so a
    model built with other widths adds back wherever shapes allow."""
    from equivalence import converted_exactly

    spec = {
        "named": True,
        "first_expands": True,
        "expansion": 2,
        "stages": [(8, 2, 2), (12, 3, 1), (16, 2, 2)],
    }
    source = converted_exactly(_inverted_residuals(spec), "shape_kept")
    assert "self.residual = (self.strides, channels) == (1, self.filters)" in source, source
    assert "residual=" not in source, source
    cls = generated_class(source, "M")
    # Every stage as wide as the stem: the second stage's first block now adds back.
    model = cls(stage_filters=(8, 8, 16))
    model.build(None)
    assert [block.residual for block in model.blocks] == [
        False,
        True,
        True,
        True,
        True,
        False,
        True,
    ]
    assert model(np.zeros((2, 16, 16, 3), "float32")).shape == (2, 16)


def _resizing_blocks(paddings: tuple[str, str], kernels: tuple[int, ...]) -> keras.Model:
    """Stages of blocks that add their input back where shapes allow; each stage's first
    block convolves with ``paddings[0]`` and the stage's kernel from ``kernels``, the
    others with ``paddings[1]`` and the last entry of ``kernels``."""
    keras.backend.clear_session()
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    number = 0
    *firsts, rest = kernels
    for filters, depth, first_kernel in zip((16, 24, 32), (2, 3, 2), firsts, strict=True):
        for index in range(depth):
            name = f"block_{number}"
            kernel, padding = (first_kernel, paddings[0]) if index == 0 else (rest, paddings[1])
            h = layers.Conv2D(filters, kernel, padding=padding, name=f"{name}_conv1")(x)
            h = layers.BatchNormalization(name=f"{name}_bn1")(h)
            h = layers.ReLU(name=f"{name}_relu")(h)
            h = layers.Conv2D(filters, 1, name=f"{name}_conv2")(h)
            if h.shape[1:] == x.shape[1:]:
                h = layers.Add(name=f"{name}_add")([x, h])
            x, number = h, number + 1
    return keras.Model(inputs, x)


@pytest.mark.parametrize(
    "paddings, kernels, filters, size",
    [
        # A padding parameter, not the strides, resizes: "valid" first blocks (review of
        # session 11: the shape rule made the block add back where sizes differ).
        (("valid", "same"), (3, 3, 3, 3), (16, 16, 32), 26),
        # Kernel sizes that differ under "valid" padding (3x3 first blocks in two stages).
        (("valid", "valid"), (3, 1, 3, 1), (8, 24, 32), 28),
    ],
    ids=["padding", "kernel-size"],
)
def test_a_residual_stays_a_parameter_where_another_parameter_resizes(
    paddings: tuple[str, str], kernels: tuple[int, ...], filters: tuple[int, ...], size: int
) -> None:
    """Where something but the strides changes a block's size, the shapes cannot tell
    when it adds back: the flag stays a parameter, and a model built with other widths
    still runs."""
    from equivalence import converted_exactly

    source = converted_exactly(_resizing_blocks(paddings, kernels), "resizing")
    assert "self.residual = residual" in source, source
    assert "self.residual = (" not in source, source
    cls = generated_class(source, "M")
    model = cls(stage_filters=filters)
    model.build(None)
    assert model(np.zeros((1, 32, 32, 3), "float32")).shape == (1, size, size, 32)


@pytest.mark.parametrize("shared", ["called twice", "two heads", "a head behind a layer"])
def test_a_dropout_shared_beyond_one_head_keeps_its_rate(shared: str) -> None:
    """A Dropout called before a hidden layer too, or read by two heads (directly or
    through a layer), is not one head's to tune: its rate stays a literal."""
    keras.backend.clear_session()
    inputs = keras.Input((6,))
    dropout = layers.Dropout(0.25, name="shared_dropout")
    x = layers.Dense(8, name="hidden")(dropout(inputs) if shared == "called twice" else inputs)
    if shared == "called twice":
        model = keras.Model(inputs, layers.Dense(3, name="out")(dropout(x)))
    else:
        x = dropout(x)
        b = x if shared == "two heads" else layers.Dense(4, name="b_hidden")(x)
        model = keras.Model(
            inputs, {"a": layers.Dense(2, name="a")(x), "b": layers.Dense(3, name="b")(b)}
        )
    source = _verified(model)
    assert "dropout_rate" not in source and 'Dropout(0.25, name="shared_dropout")' in source
