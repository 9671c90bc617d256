"""The verifier must catch broken generated code and name the layer that is wrong.

Each mutant edits real generated source the way a bug in the converter (or a careless
hand edit) would. A verifier that passes a mutant is a defect.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import pytest
from cases import build_case
from click.testing import CliRunner
from keras import layers

from generator.cli import main
from generator.convert import ConvertOptions, convert_model
from generator.verify import verify_source


def _mutant_base() -> keras.Model:
    keras.utils.set_random_seed(11)
    inputs = keras.Input((12, 12, 3), name="image")
    extra = keras.Input((8,), name="extra")
    x = layers.Conv2D(8, 3, strides=2, activation="relu", name="conv")(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, name="bn")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    a = layers.Dense(8, name="first")(x)
    b = layers.Dense(8, name="second")(a)
    merged = layers.Concatenate(name="merge")([b, extra])
    hidden = layers.Dropout(0.25, name="dropout")(merged)
    return keras.Model([inputs, extra], layers.Dense(3, name="head")(hidden), name="mutant_base")


@pytest.fixture(scope="module")
def base() -> tuple[keras.Model, str]:
    model = _mutant_base()
    model.compile(optimizer="adam", loss="mse")
    model.fit(  # trained weights: BN moving statistics are not at their defaults
        [keras.random.normal((16, 12, 12, 3), seed=1), keras.random.normal((16, 8), seed=2)],
        keras.random.normal((16, 3), seed=3),
        epochs=2,
        verbose=0,
    )
    return model, convert_model(model, ConvertOptions(class_name="Mutant", package="mutant"))


MUTANTS = {
    "changed activation": (
        'activation="relu", name="conv"',
        'activation="tanh", name="conv"',
        "conv",
    ),
    "forced training=False on BatchNormalization": (
        "self.bn(x, training=training)",
        "self.bn(x, training=False)",
        "bn",
    ),
    "wrong stride": ("strides=2", "strides=1", "conv"),
    "swapped Concatenate inputs": (  # an operator now: seen at the layer that reads it
        "concatenate([x, extra], axis=-1)",
        "concatenate([extra, x], axis=-1)",
        "dropout",
    ),
    "missing layer call": (
        "x = self.second(x)",
        "x = x",
        "second",
    ),
    "changed BatchNormalization epsilon": (
        'BatchNormalization(name="bn")',
        'BatchNormalization(epsilon=0.01, name="bn")',
        "bn",
    ),
    "weights copied to the wrong layer": ('name="first"', 'name="second_"', "first"),
}


def test_base_verifies(base) -> None:
    model, source = base
    report = verify_source(model, source, "Mutant")
    assert report.ok, report.verdict()
    kinds = {c.kind for c in report.checks}
    assert {"output", "layer", "training", "gradient", "serialization"} <= kinds
    assert not report.skipped, [c.note for c in report.skipped]


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mutant_is_caught_and_located(base, mutant: str) -> None:
    model, source = base
    before, after, layer = MUTANTS[mutant]
    assert before in source, f"mutant {mutant!r} does not apply: {before!r} not in source"
    if mutant == "weights copied to the wrong layer":
        # swap the names of two same-shaped layers: each gets the other's trained weights
        mutated = (
            source.replace('name="first"', 'name="__tmp__"')
            .replace('name="second"', 'name="first"')
            .replace('name="__tmp__"', 'name="second"')
        )
    else:
        mutated = source.replace(before, after)
    assert mutated != source
    report = verify_source(model, mutated, "Mutant")
    assert not report.ok, f"mutant {mutant!r} passed verification"
    assert f"'{layer}'" in report.divergence, report.divergence


def test_verify_command_exit_codes(base, tmp_path: Path) -> None:
    model, source = base
    model_path = tmp_path / "base.keras"
    model.save(model_path)
    good = tmp_path / "good.py"
    good.write_text(source)
    runner = CliRunner()
    ok = runner.invoke(
        main, ["verify", str(model_path), str(good), "--report-json", str(tmp_path / "r.json")]
    )
    assert ok.exit_code == 0, ok.output
    assert "EQUIVALENT" in ok.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["verdict"] == "equivalent" and data["tolerance"]["atol"] == 1e-5
    assert all(c["max_abs"] <= 1e-5 for c in data["checks"] if c["status"] == "ok")

    bad = tmp_path / "bad.py"
    bad.write_text(
        source.replace(
            'BatchNormalization(name="bn")', 'BatchNormalization(epsilon=0.1, name="bn")'
        )
    )
    mismatch = runner.invoke(main, ["verify", str(model_path), str(bad)])
    assert mismatch.exit_code == 3, mismatch.output
    assert "MISMATCH" in mismatch.output and "'bn'" in mismatch.output

    loose = runner.invoke(
        main, ["verify", str(model_path), str(bad), "--atol", "10", "--rtol", "10"]
    )
    assert loose.exit_code == 0
    assert "loosened by the user" in loose.output

    broken = tmp_path / "broken.py"
    broken.write_text("import tensorflow as tf\nraise RuntimeError('boom')\n")
    assert runner.invoke(main, ["verify", str(model_path), str(broken)]).exit_code == 1
    assert (
        runner.invoke(main, ["verify", str(model_path), str(tmp_path / "nope.py")]).exit_code == 1
    )
    assert runner.invoke(main, ["verify", str(model_path)]).exit_code == 2


def test_convert_verifies_and_exits_3_on_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = build_case("cnn")
    path = tmp_path / "cnn.keras"
    model.save(path)
    runner = CliRunner()
    out = tmp_path / "cnn_model.py"
    ok = runner.invoke(main, ["convert", str(path), "-o", str(out)])
    assert ok.exit_code == 0 and "EQUIVALENT" in ok.output

    import generator.output.render as render_module

    real = render_module.format_source

    def broken_format(source: str, **options: bool) -> str:
        return real(source.replace("momentum=0.9", "momentum=0.9, epsilon=0.5"), **options)

    monkeypatch.setattr(render_module, "format_source", broken_format)
    bad_out = tmp_path / "bad_model.py"
    bad = runner.invoke(main, ["convert", str(path), "-o", str(bad_out)])
    assert bad.exit_code == 3, bad.output
    assert "'bn2'" in bad.output and "was written" in bad.output
    assert bad_out.exists()


def test_emit_test_writes_a_passing_pytest_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    model = build_case("nested_functional_twice")
    model_path = tmp_path / "towers.keras"
    model.save(model_path)
    out = tmp_path / "towers.py"
    test_file = tmp_path / "test_towers.py"
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["convert", str(model_path), "-o", str(out), "--emit-test", str(test_file), "--no-verify"],
    )
    assert result.exit_code == 0, result.output
    text = test_file.read_text()
    assert str(tmp_path) not in text  # relative paths only
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    edited = out.read_text().replace("normalize=True", "normalize=False")
    assert edited != out.read_text()
    out.write_text(edited)
    failing = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert failing.returncode == 1
    assert "cosine" in failing.stdout


def test_adapted_preprocessing_state_is_carried(tmp_path: Path) -> None:
    """Adapted Normalization keeps cached mean/variance; Discretization keeps its bins in
    its config. Both must survive conversion and weight copying."""
    import numpy as np

    data = np.random.default_rng(0).normal(5.0, 3.0, size=(64, 4)).astype("float32")
    norm = layers.Normalization(name="norm")
    norm.adapt(data)
    bins = layers.Discretization(num_bins=4, name="bins")
    bins.adapt(data[:, :1])
    inputs = keras.Input((4,), name="x")
    normalized = norm(inputs)
    bucket = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot", name="onehot")(
        bins(inputs[:, :1])
    )
    model = keras.Model(inputs, layers.Concatenate(name="cat")([normalized, bucket]))
    source = convert_model(model, ConvertOptions(class_name="Adapted", package="adapted"))
    assert "bin_boundaries=" in source
    report = verify_source(model, source, "Adapted")
    assert report.ok, report.verdict()


def test_unknown_dimensions_get_concrete_sizes() -> None:
    inputs = keras.Input((None, 6), name="sequence")
    x = layers.Conv1D(4, 3, padding="same", name="conv")(inputs)
    x = layers.GRU(5, name="gru")(x)
    model = keras.Model(inputs, layers.Dense(2, name="out")(x))
    source = convert_model(model, ConvertOptions(class_name="Seq", package="seq"))
    report = verify_source(model, source, "Seq")
    assert report.ok, report.verdict()
    output = next(c for c in report.checks if c.kind == "layer" and c.label == "conv")
    assert output.shape[1] > 1  # the unknown length became a real length


def test_generated_module_is_imported_in_isolation() -> None:
    import sys

    model = build_case("shared_layer")
    source = convert_model(model, ConvertOptions(class_name="Isolated", package="isolated"))
    before = set(sys.modules)
    report = verify_source(model, source, "Isolated")
    assert report.ok
    assert not [m for m in set(sys.modules) - before if "scaffold" in m or "generated" in m]


def test_a_mutant_that_only_changes_gradients_is_caught(base) -> None:
    """Outputs stay identical when a gradient is stopped; only the gradient check sees it."""
    model, source = base
    before = "x = self.second(x)"
    assert before in source
    mutated = source.replace(before, "x = self.second(tf.keras.ops.stop_gradient(x))")
    report = verify_source(model, mutated, "Mutant")
    assert not report.ok
    failing = {c.kind for c in report.checks if c.status == "mismatch"}
    assert failing == {"gradient"}, failing
    assert report.divergence.startswith("the gradient for weight"), report.divergence
    status = {c.label: c.status for c in report.checks if c.kind == "gradient"}
    assert status["first/kernel"] == "mismatch" and status["conv/kernel"] == "mismatch"
    assert status["second/kernel"] == "ok" and status["head/kernel"] == "ok"


def test_outputs_that_are_nan_on_the_sample_inputs_compare_only_nan_to_nan() -> None:
    """A square root of standard-normal inputs is NaN for about half of them (keras.io's
    Zero-DCE squares and adds until values overflow). The same NaNs are the same
    outputs; a NaN where the original has a number, or the reverse, is a mismatch. The
    verdict says how many there were, since they prove less than numbers do."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6,), name="x")
    roots = keras.ops.sqrt(layers.Dense(6, name="dense")(inputs))
    outputs = layers.Concatenate(name="cat")([roots, layers.Dense(2, name="head")(inputs)])
    model = keras.Model(inputs, outputs, name="roots")
    source = convert_model(model, ConvertOptions(class_name="Roots", package="roots"))
    report = verify_source(model, source, "Roots")
    assert report.ok, report.verdict()
    assert "NaN or infinite values on these inputs" in report.verdict()

    sqrt = "tf.keras.ops.sqrt(branch)"
    assert sqrt in source
    finite = source.replace(sqrt, "tf.keras.ops.sqrt(tf.keras.ops.abs(branch))")
    assert not verify_source(model, finite, "Roots").ok
    nan_everywhere = source.replace(sqrt, "tf.keras.ops.sqrt(-tf.keras.ops.abs(branch) - 1.0)")
    assert not verify_source(model, nan_everywhere, "Roots").ok
