"""Real models nobody here wrote: keras.applications architectures, converted and matched.

Logits (``classifier_activation=None``) and every intermediate layer are compared, since a
saturated softmax head hides errors upstream.
"""

from __future__ import annotations

import ast
from pathlib import Path

import keras
import numpy as np
import pytest
from applications_catalog import SMALLEST, build_application
from equivalence import ATOL

from generator.convert import ConvertOptions, convert_model
from generator.core.structure.operators import OPERATOR_LAYERS
from generator.verify import (
    compare_outputs,
    import_source,
    sample_inputs,
    transfer_weights,
    verify_source,
)

APPLICATIONS = {
    "ResNet50": 64,
    "MobileNetV2": 32,
    "EfficientNetB0": 32,
    "InceptionV3": 75,
    "ConvNeXtTiny": 32,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(APPLICATIONS))
def test_application_converts_and_matches(name: str, tmp_path: Path) -> None:
    keras.backend.clear_session()
    size = APPLICATIONS[name]
    original = getattr(keras.applications, name)(
        weights=None, input_shape=(size, size, 3), classifier_activation=None
    )
    source = convert_model(original, ConvertOptions(class_name="Converted", package=name.lower()))
    cls = import_source(source, f"app_{name}").Converted
    generated = cls()
    generated.build(None)
    if name == "EfficientNetB0":
        # Every layer that widens by the expansion reads the parameter, and the block
        # expands wherever its expansion is not 1 (Keras's ``if expand_ratio != 1``): a
        # model built with other expansions (Keras's expand_ratio) runs.
        assert "if self.expansion != 1:" in source
        other = cls(stage_expansions=(6, 4, 4, 4, 4, 4, 4))
        other.build(None)
        assert other(np.zeros((1, size, size, 3), "float32")).shape == (1, 1000)
        assert other.count_params() < generated.count_params()
        assert hasattr(other.blocks[0], "expand_conv") != hasattr(
            generated.blocks[0], "expand_conv"
        )
    assert len(generated.weights) == len(original.weights)
    if name in ("MobileNetV2", "EfficientNetB0"):
        # Keras's own test for the residual add: the output keeps the input's shape.
        assert "self.residual = (self.strides, channels) == (1, self.filters)" in source
    if name == "MobileNetV2":
        # README, "Weights": its blocks create their layers in the original's order, so
        # flat-order set_weights works too.
        ordered = cls()
        ordered.build(None)
        ordered.set_weights(original.get_weights())
        sample = sample_inputs(original, batch=2, seed=4)
        same = compare_outputs(original(sample, training=False), ordered(sample, training=False))
        assert all(d.max_abs <= ATOL for d in same), same
    transfer_weights(original, generated)

    inputs = sample_inputs(original, batch=2, seed=3)
    outputs = compare_outputs(original(inputs, training=False), generated(inputs, training=False))
    assert all(d.max_abs <= ATOL for d in outputs), outputs

    path = tmp_path / "converted.keras"
    generated.save(path)
    reloaded = keras.models.load_model(path)
    again = compare_outputs(generated(inputs, training=False), reloaded(inputs, training=False))
    assert all(d.max_abs == 0.0 for d in again), again

    # Saturated heads hide errors: every intermediate layer is compared too.
    report = verify_source(original, source, "Converted", batches=1)
    assert report.ok, report.verdict()
    layers = [c for c in report.checks if c.kind == "layer"]
    compared = {c.label for c in layers}
    # All but the InputLayer, and the weightless layers written as operators (their
    # results are compared where the next layer reads them).
    operators = {qualname.split(".")[1] for qualname in OPERATOR_LAYERS}
    uncompared = [
        layer
        for layer in original.layers
        if layer.name not in compared and not isinstance(layer, keras.layers.InputLayer)
    ]
    assert all(type(layer).__name__ in operators and not layer.variables for layer in uncompared), (
        uncompared
    )
    worst = max(layers, key=lambda c: c.max_abs)
    assert worst.max_abs <= ATOL, f"layer {worst.label} differs by {worst.max_abs:g}"


@pytest.mark.full
@pytest.mark.parametrize("name", sorted(SMALLEST))
def test_every_application_family_verifies(name: str) -> None:
    original = build_application(name, SMALLEST[name])
    source = convert_model(original, ConvertOptions(class_name="Converted", package=name.lower()))
    report = verify_source(original, source, "Converted", batches=1)
    assert report.ok, report.verdict()
    assert not [p for p in _parameters(source) if p.endswith("_")], _parameters(source)


def _parameters(source: str) -> list[str]:
    """The converted model's constructor parameters."""
    tree = ast.parse(source)
    (model,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Converted"]
    (init,) = [n for n in model.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    return [a.arg for a in init.args.args[1:]]


def test_resnet_v2_names_each_depths_tuple_apart() -> None:
    """ResNet50V2's third stage takes ``stage_depths``; the lists of one block class that
    run between stages share a tuple of their own, not ``stage_depths_``. Found by
    building every family with other hyperparameters."""
    original = build_application("ResNet50V2", SMALLEST["ResNet50V2"])
    source = convert_model(original, ConvertOptions(class_name="Converted", package="rv2"))
    params = _parameters(source)
    assert "stage_depths" in params and "conv_block_depths" in params, params
    assert not [p for p in params if p.endswith("_")], params
    report = verify_source(original, source, "Converted", batches=1)
    assert report.ok, report.verdict()
