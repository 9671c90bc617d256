"""Weightless layers written as operators (``shortcut + x``, ``keras.activations.relu``):
only where Keras computes exactly that, and the model still matches the original."""

from __future__ import annotations

import ast
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
from equivalence import assert_equivalent, generated_class
from keras import layers

from generator.convert import ConvertOptions, convert, model_to_ir
from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    InputSpec,
    LayerSpec,
    ModelIR,
    Name,
    Param,
    SelfAttr,
    Symbol,
    When,
)
from generator.core.structure.operators import (
    ACTIVATIONS,
    OPERATOR_LAYERS,
    weightless_as_operators,
)
from generator.verify import transfer_weights, verify_source
from generator.verify.report import format_report


def _convert(model, **options) -> str:
    return convert(model, ConvertOptions(class_name="M", package="ops_case", **options)).source


def _layer_classes(source: str) -> set[str]:
    """The ``tf.keras.layers`` classes the generated module creates."""
    return {
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and ast.unparse(node.func.value) == "tf.keras.layers"
    }


def _assert_exact(model, source: str) -> None:
    report = verify_source(model, source, "M", batches=2)
    assert report.ok, report.verdict()
    assert "max abs diff 0 " in report.verdict(), report.verdict()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_listed_activation_is_the_function_keras_activation_calls(name):
    function = getattr(keras.activations, name)
    assert function is keras.activations.get(name)
    function(keras.Input((4,)))  # ``build`` traces ``call`` with symbolic tensors


def test_hard_swish_stays_a_layer_because_it_cannot_be_traced():
    """keras.activations.hard_silu converts its argument to a tensor: called on the
    ``keras.Input`` that ``build`` traces with, it fails, where the layer does not."""
    inputs = keras.Input((4,))
    x = layers.Dense(4, name="d")(inputs)
    model = keras.Model(inputs, layers.Activation("hard_swish", name="hs")(x))
    source = _convert(model)
    assert "Activation" in _layer_classes(source)
    _assert_exact(model, source)


@pytest.mark.parametrize("qualname", sorted(OPERATOR_LAYERS))
def test_operator_layers_are_weightless_keras_layers(qualname):
    cls = getattr(keras.layers, qualname.split(".")[1])
    if qualname == "layers.Activation":
        layer, shape = cls("relu"), (None, 4)
    elif qualname == "layers.ReLU":
        layer, shape = cls(), (None, 4)
    else:
        layer, shape = cls(), [(None, 4), (None, 4)]
    layer.build(shape)
    assert not layer.variables


def _merges_and_activations() -> keras.Model:
    inputs = keras.Input((6,), name="features")
    a = layers.Dense(6, name="a")(inputs)
    b = layers.Dense(6, name="b")(inputs)
    c = layers.Dense(6, name="c")(inputs)
    summed = layers.Add(name="sum")([a, b, c])
    diff = layers.Subtract(name="diff")([summed, b])
    product = layers.Multiply(name="product")([diff, a])
    relu = layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="relu6")(product)
    silu = layers.Activation("silu", name="silu")(relu)
    joined = layers.Concatenate(name="joined")([silu, a])
    linear = layers.Activation("linear", name="linear")(joined)
    left = layers.Dense(3, name="left")(linear)
    right = layers.Dense(3, name="right")(linear)
    return keras.Model(inputs, layers.Add(name="out")([left, right]), name="merges")


def test_weightless_layers_become_operators_and_compute_exactly_the_same(tmp_path):
    model = _merges_and_activations()
    source = _convert(model)
    assert _layer_classes(source) == {"Dense"}, source
    assert " + " in source and " - " in source and " * " in source
    assert "tf.keras.activations.relu(" in source and "max_value=6.0" in source
    assert "negative_slope=0.1" in source and "threshold=0.5" in source
    assert "tf.keras.activations.silu(" in source
    assert "tf.keras.ops.concatenate(" in source and "axis=-1" in source
    assert "linear" not in source  # an identity is no statement at all
    _assert_exact(model, source)
    assert_equivalent(model, generated_class(source, "M"), tmp_path)


def test_weightless_layers_option_keeps_them_as_layers():
    model = _merges_and_activations()
    source = _convert(model, weightless_layers=True)
    assert {"Add", "Subtract", "Multiply", "ReLU", "Activation", "Concatenate"} <= (
        _layer_classes(source)
    )
    _assert_exact(model, source)


def test_flat_keeps_weightless_layers():
    source = _convert(_merges_and_activations(), flat=True)
    assert "Add" in _layer_classes(source)


def test_mixed_precision_keeps_layers_that_cast():
    """Under mixed_float16 an Add casts its inputs; ``+`` would not."""
    inputs = keras.Input((4,))
    a = layers.Dense(4, dtype="mixed_float16", name="half")(inputs)
    b = layers.Dense(4, name="full")(inputs)
    out = layers.Add(name="sum")([a, b])
    model = keras.Model(inputs, layers.Activation("relu", name="act")(out))
    source = _convert(model)
    assert "Add" in _layer_classes(source)
    # The activation sees the float32 sum, under a float32 policy: exact as a function.
    assert "tf.keras.activations.relu(x)" in source
    _assert_exact(model, source)


def test_masked_tensors_keep_layers_that_carry_masks():
    inputs = keras.Input((5,), dtype="int32")
    embedded = layers.Embedding(10, 4, mask_zero=True, name="embed")(inputs)
    other = layers.Dense(4, name="dense")(embedded)
    summed = layers.Add(name="sum")([embedded, other])
    model = keras.Model(inputs, layers.LSTM(3, name="lstm")(summed))
    source = _convert(model)
    assert "Add" in _layer_classes(source)
    assert verify_source(model, source, "M", batches=1).ok


def test_merge_of_different_ranks_stays_a_layer():
    """Keras's merge layers expand a lower-rank input first; ``+`` would broadcast."""
    inputs = keras.Input((3, 4))
    flat = layers.Dense(4, name="d")(layers.Flatten(name="f")(inputs))
    model = keras.Model(inputs, layers.Add(name="sum")([inputs, flat]))
    source = _convert(model)
    assert "Add" in _layer_classes(source)
    assert verify_source(model, source, "M", batches=1).ok


def test_custom_activation_and_extra_arguments_stay_layers():
    inputs = keras.Input((4,))
    x = layers.Dense(4, name="d")(inputs)
    x = layers.Activation("relu", activity_regularizer="l2", name="regularized")(x)
    x = layers.Concatenate(axis=1, name="joined")([x, x])
    model = keras.Model(inputs, x)
    source = _convert(model)
    assert "Activation" in _layer_classes(source)  # it adds a loss
    assert "tf.keras.ops.concatenate(" in source and "axis=1" in source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()


def test_shared_weightless_layer_called_twice_becomes_two_operators():
    inputs = keras.Input((4,))
    act = layers.Activation("tanh", name="shared")
    x = act(layers.Dense(4, name="d1")(inputs))
    x = act(layers.Dense(4, name="d2")(x))
    model = keras.Model(inputs, x)
    source = _convert(model)
    assert source.count("tf.keras.activations.tanh(") == 2
    _assert_exact(model, source)


def test_residual_blocks_read_with_operators():
    """A repeated residual unit: its sum and activations are operators inside the block."""
    inputs = keras.Input((8, 8, 4))
    x = layers.Conv2D(4, 3, padding="same")(inputs)
    for _ in range(4):
        y = layers.Conv2D(4, 3, padding="same")(x)
        y = layers.BatchNormalization()(y)
        y = layers.Activation("relu")(y)
        y = layers.Conv2D(4, 3, padding="same")(y)
        x = layers.Activation("relu")(layers.Add()([x, y]))
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    source = _convert(model)
    assert "class ResidualBlock(tf.keras.layers.Layer)" in source
    assert _layer_classes(source) == {"Conv2D", "BatchNormalization", "GlobalAveragePooling2D"}
    assert "inputs + x" in source
    _assert_exact(model, source)


ALL = frozenset(OPERATOR_LAYERS)


def _block(steps, layers_, params=()) -> ModelIR:
    return ModelIR(
        class_name="B",
        keras_name="b",
        inputs=(InputSpec("inputs", "inputs", (4,), "float32"),),
        input_structure="single",
        layers=tuple(layers_),
        steps=tuple(steps),
        outputs=Name("x"),
        params=tuple(params),
        kind="block",
    )


def _layer(attr, qualname, args=(), kwargs=(), arg_names=()):
    call = Call(Symbol("keras", qualname), args, (*kwargs, ("name", attr)))
    return LayerSpec(attr, attr, call, qualname.split(".")[1], arg_names=arg_names)


def test_layer_with_a_call_that_cannot_be_rewritten_stays_whole():
    """One call of a merge layer with a single input (not two): the layer stays, and so
    does its other call."""
    add = _layer("add", "layers.Add")
    steps = [
        Assign(("y",), Call(SelfAttr("add"), ((Name("inputs"), Name("inputs")),))),
        Assign(("x",), Call(SelfAttr("add"), (Name("y"),))),
    ]
    model = weightless_as_operators(_block(steps, [add]), ALL)
    assert [layer.attr for layer in model.layers] == ["add"]
    assert model.steps == tuple(steps)


def test_operators_inside_optional_parts_and_a_layer_arg_that_is_a_parameter():
    """A layer in a ``When`` branch is rewritten; an Activation whose name is a block
    parameter stays a layer."""
    act = _layer("act", "layers.Activation", (Name("kind"),), arg_names=("activation",))
    relu = _layer("relu", "layers.Activation", ("relu",), arg_names=("activation",))
    steps = [
        When(
            Name("use_relu"),
            (Assign(("x",), Call(SelfAttr("relu"), (Name("inputs"),))),),
            (Assign(("x",), Name("inputs")),),
        ),
        Assign(("x",), Call(SelfAttr("act"), (Name("x"),))),
    ]
    params = (Param("use_relu", True), Param("kind", "tanh"))
    model = weightless_as_operators(_block(steps, [act, relu], params), ALL)
    assert [layer.attr for layer in model.layers] == ["act"]
    when = model.steps[0]
    assert isinstance(when, When)
    assert when.body[0].value == Call(Symbol("keras", "activations.relu"), (Name("inputs"),))
    model.validate()


def test_subtract_takes_exactly_two_and_sums_fold_left():
    sub = _layer("sub", "layers.Subtract")
    add = _layer("add", "layers.Add")
    three = (Name("inputs"), Name("y"), Name("z"))
    steps = [
        Assign(("y",), Call(SelfAttr("sub"), ((Name("inputs"), Name("inputs")),))),
        Assign(("z",), Call(SelfAttr("add"), (three,))),
        Assign(("x",), Call(SelfAttr("add"), ((Name("z"), Name("y")),))),
    ]
    model = weightless_as_operators(_block(steps, [sub, add]), ALL)
    assert model.layers == ()
    assert model.steps[1].value == BinOp("+", BinOp("+", Name("inputs"), Name("y")), Name("z"))


def test_a_mask_made_inside_a_nested_model_keeps_every_layer():
    """The nested model's output shows no mask, but it carries one when run: an operator
    would drop it and the pooling after it would average the padding in."""
    inner_inputs = keras.Input((6, 3))
    inner = keras.Model(inner_inputs, layers.Masking(name="masking")(inner_inputs), name="inner")
    outer_inputs = keras.Input((6, 3), name="seq")
    x = layers.Activation("tanh", name="act")(inner(outer_inputs))
    model = keras.Model(outer_inputs, layers.GlobalAveragePooling1D(name="gap")(x))
    source = _convert(model)
    assert "Activation" in _layer_classes(source)
    padded = np.random.RandomState(0).rand(2, 6, 3).astype("float32")
    padded[:, -3:] = 0
    generated = generated_class(source, "M")()
    generated.build(None)
    transfer_weights(model, generated)
    np.testing.assert_array_equal(generated(padded), model(padded))


def test_a_linear_activation_in_an_optional_part_stays_a_layer():
    """Dropped, it would leave ``if self.flag:`` with nothing under it."""
    x = inputs = keras.Input((8,))
    x = layers.Dense(8, name="stem")(x)
    for n in range(4):
        y = layers.Dense(8, name=f"b{n}_d1")(x)
        y = layers.BatchNormalization(name=f"b{n}_bn")(y)
        y = layers.Dense(8, name=f"b{n}_d2")(y)
        if n % 2 == 0:
            y = layers.Activation("linear", name=f"b{n}_lin")(y)
        y = layers.Dense(8, name=f"b{n}_d3")(y)
        x = layers.Activation("relu", name=f"b{n}_out")(layers.Add(name=f"b{n}_add")([x, y]))
    model = keras.Model(inputs, x)
    source = _convert(model)
    assert "for block in self." in source and "inputs + x" in source
    _assert_exact(model, source)


def test_inputs_are_cast_first_as_a_functional_model_does():
    """A Functional model converts what it is given to its inputs' dtype; the generated
    ``call`` casts first, so int64 features (and ``+`` on them) and uint8 images fed to a
    first ``Conv2D`` work as they did with the original."""
    inputs = keras.Input((4,), name="features")
    x = layers.Dense(4, name="d")(inputs)
    x = layers.Add(name="res")([inputs, x])
    model = keras.Model(inputs, layers.Add(name="res2")([x, layers.Dense(4, name="d2")(x)]))
    source = _convert(model)
    assert 'inputs = tf.keras.ops.cast(inputs, "float32")' in source
    assert "Add" not in _layer_classes(source)
    _assert_exact(model, source)
    generated = generated_class(source, "M")()
    generated.build(None)
    transfer_weights(model, generated)
    counts = np.arange(8).reshape(2, 4)  # int64
    np.testing.assert_array_equal(generated(counts), model(counts))

    image = keras.Input((6, 6, 3), name="image")
    features = layers.Conv2D(2, 3, name="conv")(image)
    cnn = keras.Model(image, layers.GlobalAveragePooling2D(name="pool")(features))
    source = _convert(cnn)
    generated = generated_class(source, "M", "cnn")()
    generated.build(None)
    transfer_weights(cnn, generated)
    pixels = np.random.RandomState(0).randint(0, 256, (2, 6, 6, 3)).astype("uint8")
    np.testing.assert_array_equal(generated(pixels), cnn(pixels))
    predicted = generated.predict(pixels, verbose=0)
    np.testing.assert_array_equal(predicted, cnn.predict(pixels, verbose=0))


def _recovered_without_casts(model: keras.Model) -> str:
    """``model`` converted as if ``call`` did not cast its inputs (a sparse input, which
    ``call`` cannot cast, is the case in practice)."""
    import dataclasses

    from generator.convert import render_options
    from generator.core.structure.recover import recover_structure
    from generator.output.render import render_formatted

    options = ConvertOptions(class_name="M", package="ops_case", flat=True)
    module = model_to_ir(model, options)
    uncast = tuple(dataclasses.replace(m, casts_inputs=False) for m in module.models)
    module = recover_structure(dataclasses.replace(module, models=uncast))
    return render_formatted(module, render_options(options))


def test_a_block_called_on_an_uncast_input_keeps_its_sum_a_layer():
    """The first block of the loop gets the model's input as given; its class keeps
    ``Add`` (every instance runs the same code), its activations are still functions;
    after the loop the name holds a block's output, so the tail's sum is ``+``."""
    x = inputs = keras.Input((8,))
    for n in range(4):
        y = layers.Dense(8, name=f"b{n}_d1")(x)
        y = layers.BatchNormalization(name=f"b{n}_bn")(y)
        y = layers.Dense(8, name=f"b{n}_d2")(y)
        x = layers.Activation("relu", name=f"b{n}_out")(layers.Add(name=f"b{n}_add")([x, y]))
    x = layers.Add(name="tail")([x, layers.Dense(8, name="last")(x)])
    source = _recovered_without_casts(keras.Model(inputs, x))
    assert "for block in self." in source and "tf.keras.ops.cast" not in source
    block = source[: source.index("class M(")]
    assert "tf.keras.layers.Add(" in block and "tf.keras.activations.relu(x)" in block
    assert "self.tail" not in source and " + " in source[source.index("class M(") :]


@pytest.mark.parametrize("keep", ["Flatten", "Dropout", "Identity", "ReLU"])
def test_an_uncast_input_through_dtype_keeping_layers_keeps_the_sum_a_layer(keep):
    """Found in review: Dropout, Flatten, Identity or an activation keep an int64
    tensor int64; a sum of it with a float is no ``+``. A Dense makes it float."""
    inputs = keras.Input((8,))
    kept = getattr(layers, keep)(**({"rate": 0.1} if keep == "Dropout" else {}), name="keep")(
        inputs
    )
    x = layers.Add(name="first")([kept, layers.Dense(8, name="d")(kept)])
    x = layers.Add(name="second")([x, layers.Dense(8, name="e")(x)])
    source = _recovered_without_casts(keras.Model(inputs, x))
    assert "self.first = tf.keras.layers.Add(" in source and "self.second" not in source


def test_sparse_tensors_keep_their_merge_layers():
    inputs = keras.Input((4,), sparse=True, name="x")
    summed = layers.Add(name="sum")([inputs, inputs])
    product = layers.Multiply(name="prod")([summed, inputs])
    model = keras.Model(inputs, layers.Dense(2, name="d")(product))
    source = _convert(model)
    assert {"Add", "Multiply"} <= _layer_classes(source)
    generated = generated_class(source, "M")()
    generated.build(None)
    transfer_weights(model, generated)
    sparse = tf.sparse.from_dense(np.array([[1.0, 0, 2, 0], [0, 3, 0, 0]], dtype="float32"))
    np.testing.assert_array_equal(generated(sparse), model(sparse))


def test_verification_still_reports_a_missing_stateless_layer_of_another_kind(tmp_path):
    """Only the classes written as operators may be absent: a Masking layer left out
    of the generated class is a mismatch, not a layer to skip."""
    inputs = keras.Input((5, 3))
    x = layers.Masking(name="mask")(inputs)
    x = layers.LSTM(4, name="lstm")(x)
    model = keras.Model(inputs, layers.Dense(2, name="head")(x))
    source = _convert(model)
    assert 'name="mask"' in source
    edited = source.replace("mask = self.mask(inputs)", "mask = inputs")
    edited = re.sub(r"\n *self\.mask = tf\.keras\.layers\.Masking\([^)]*\)", "", edited)
    assert "Masking" not in edited and edited != source
    report = verify_source(model, edited, "M", batches=1)
    assert not report.ok
    assert "layer missing from the generated model" in format_report(report)


def _int_case(name: str) -> tuple[keras.Model, np.ndarray]:
    """Models whose raw input reaches an arithmetic merge through layers that keep its
    dtype (found in review), and how the user calls them: with int64 arrays."""
    keras.backend.clear_session()
    ints = np.random.RandomState(0).randint(-3, 4, size=(2, 8)).astype("int64")
    inputs = keras.Input((8,))
    if name == "blocks after a reshape":
        x = layers.Reshape((8,), name="rs")(inputs)
    elif name == "explicit list of blocks":
        x = inputs
    else:
        keep = {
            "flatten": layers.Flatten(name="keep"),
            "dropout": layers.Dropout(0.1, name="keep"),
            "identity": layers.Identity(name="keep"),
            "relu": layers.ReLU(name="keep"),
            "concatenate": layers.Concatenate(name="keep"),
        }[name]
        kept = keep([inputs, inputs]) if name == "concatenate" else keep(inputs)
        width = 16 if name == "concatenate" else 8
        dense = layers.Dense(width, name="d")(kept)
        merge = layers.Multiply if name == "identity" else layers.Add
        return keras.Model(inputs, merge(name="merge")([kept, dense])), ints
    for n in range(4):
        h = layers.Dense(8, name=f"b{n}_d")(x)
        x = layers.Add(name=f"b{n}_add")([x, layers.LayerNormalization(name=f"b{n}_ln")(h)])
    y = layers.Dense(8, name="tail")(x)
    return keras.Model(inputs, layers.Add(name="tail_add")([x, y])), ints


@pytest.mark.parametrize(
    "name",
    [
        "flatten",
        "dropout",
        "identity",
        "relu",
        "concatenate",
        "blocks after a reshape",
        "explicit list of blocks",
    ],
)
def test_int64_input_through_dtype_keeping_layers_still_runs(name):
    model, ints = _int_case(name)
    source = _convert(model)
    _assert_exact(model, source)
    generated = generated_class(source, "M")()
    generated.build(None)
    transfer_weights(model, generated)
    np.testing.assert_array_equal(generated(ints), model(ints))


def test_merged_nested_models_cast_their_input_as_the_nested_models_did():
    """Two look-alike nested Functional models fed an int32 tensor made in the graph:
    Keras converts it to the nested Input's float32 at the boundary; the one block class
    that stands for them casts too, so its ``inputs + x`` sees float32. Found in review."""

    def unit(name: str) -> keras.Model:
        given = keras.Input((4,))
        return keras.Model(
            given,
            layers.Add(name=name + "_add")([given, layers.Dense(4, name=name + "_dense")(given)]),
            name=name,
        )

    inputs = keras.Input((4,), name="x")
    x = unit("unit_1")(keras.ops.cast(layers.Dense(4, name="d")(inputs), "int32"))
    x = unit("unit_2")(keras.ops.cast(x, "int32"))
    model = keras.Model(inputs, x)
    source = _convert(model)
    block = source[: source.index("class M(")]
    assert 'inputs = tf.keras.ops.cast(inputs, "float32")' in block, block
    _assert_exact(model, source)
