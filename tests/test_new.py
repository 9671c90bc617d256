"""``scaffold new``: the seed example exactly, presets, projects whose own tests pass,
and no TensorFlow import on the way."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REGENERATE
from equivalence import assert_project_tests_pass

from generator.cli import main
from generator.from_spec.sources import load_preset, read_spec_file
from generator.from_spec.trainable import trains_something
from generator.new import build_module, preset_names
from generator.output.writing import comparable

GOLDEN = Path(__file__).parent / "data" / "golden" / "new"
SEED_ARGS = [
    "--input-shape",
    "784",
    "--layers",
    "Dense(64, activation='relu') > Dropout(0.5) > Dense(num_classes)",
    "--param",
    "num_classes=10",
]


def _new(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "my_model.py"
    result = CliRunner().invoke(main, ["new", "MyModel", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out.read_text()


def _golden(name: str, source: str) -> None:
    path = GOLDEN / f"{name}.py"
    if REGENERATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    assert path.exists(), f"missing golden file; run `make golden` ({path})"
    assert comparable(source) == comparable(path.read_text())


def test_seed_example(tmp_path: Path) -> None:
    import keras
    import numpy as np

    from generator.verify import import_source

    source = _new(tmp_path, *SEED_ARGS)
    _golden("seed_example", source)
    assert "def __init__(self, num_classes=10, **kwargs):" in source
    assert "x = self.dropout(x, training=training)" in source
    assert '"num_classes": self.num_classes' in source

    cls = import_source(source, "seed_example").MyModel
    model = cls(num_classes=3)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "Dense"]
    assert model.get_config()["num_classes"] == 3
    model.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x = np.random.default_rng(0).standard_normal((32, 784)).astype("float32")
    y = np.arange(32) % 3
    history = model.fit(x, y, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "seed.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config()["num_classes"] == 3
    np.testing.assert_allclose(
        loaded(x[:4], training=False), model(x[:4], training=False), atol=1e-6
    )


def test_mlp_preset_is_the_seed_network(tmp_path: Path) -> None:
    seed = _new(tmp_path, *SEED_ARGS)
    preset = _new(tmp_path, "--preset", "mlp", "--force")

    def body(source: str) -> str:
        return source[source.index("    def __init__") :]

    assert body(seed) == body(preset)


def test_class_names(tmp_path: Path) -> None:
    for name, expected in [
        ("my_model", "MyModel"),
        ("my-model", "MyModel"),
        ("MyModel", "MyModel"),
    ]:
        result = CliRunner().invoke(
            main,
            ["new", name, "-o", str(tmp_path / f"{expected}.py"), "--preset", "mlp", "--force"],
        )
        assert result.exit_code == 0, result.output
        assert f"class {expected}(tf.keras.Model):" in (tmp_path / f"{expected}.py").read_text()
    out = tmp_path / "custom.py"
    result = CliRunner().invoke(
        main, ["new", "x", "-o", str(out), "--preset", "mlp", "--class-name", "Classifier"]
    )
    assert result.exit_code == 0 and "class Classifier(" in out.read_text()


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    out = tmp_path / "my_model.py"
    out.write_text("# mine\n")
    result = CliRunner().invoke(main, ["new", "MyModel", "-o", str(out), "--preset", "mlp"])
    assert result.exit_code == 1 and "already exists" in result.output
    assert out.read_text() == "# mine\n"
    project = tmp_path / "proj"
    project.mkdir()
    (project / "keep.txt").write_text("x")
    result = CliRunner().invoke(main, ["new", str(project), "--preset", "mlp"])
    assert result.exit_code == 1 and "already exists" in result.output
    assert (project / "keep.txt").exists()


@pytest.mark.parametrize(
    "spec",
    [
        "input_shape: [4, 4, 2]\nlayers: Flatten() > Dropout(0.1) > Activation('softmax')\n",
        "input_shape: [8]\n"
        "blocks:\n  Gate:\n    layers: Activation('sigmoid') > Dropout(0.2)\n"
        "layers: Gate() > Gate()\n",
    ],
    ids=["layers", "in-a-block"],
)
def test_a_spec_with_nothing_to_train_gets_no_project(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's training test could only fail: refused, nothing written; the
    module alone is still written."""
    monkeypatch.chdir(tmp_path)
    Path("still.yaml").write_text(spec)
    result = CliRunner().invoke(main, ["new", "still", "--spec", "still.yaml"])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        "Error: still.yaml: no layer of the model holds a weight, so the project's train.py "
        "and tests would train nothing; add a layer with weights (Dense, Conv2D, ...) or "
        "write the module alone with -o FILE.py"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["still.yaml"]
    result = CliRunner().invoke(main, ["new", "still", "--spec", "still.yaml", "-o", "still.py"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_has_weights_to_train(preset: str) -> None:
    assert trains_something(build_module(load_preset(preset), "M", "m"))


def test_weights_inside_a_block_count(tmp_path: Path) -> None:
    spec = tmp_path / "gated.yaml"
    spec.write_text(
        "input_shape: [8]\n"
        "blocks:\n  Gate:\n    layers: Activation('sigmoid') > Dense(8)\n"
        "layers: Flatten() > Gate()\n"
    )
    assert trains_something(build_module(read_spec_file(spec), "M", "m"))
    spec.write_text(spec.read_text().replace("Dense(8)", "Dropout(0.5)"))
    assert not trains_something(build_module(read_spec_file(spec), "M", "m"))


def test_list_presets() -> None:
    result = CliRunner().invoke(main, ["new", "--list-presets"])
    assert result.exit_code == 0
    for name in ["mlp", "cnn", "resnet", "unet", "transformer", "rnn", "autoencoder"]:
        assert name in result.output


def test_new_does_not_import_tensorflow(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from generator.cli import main\n"
        "try:\n"
        f"    main(['new', 'MyModel', '--preset', 'resnet', '-o', {str(tmp_path / 'r.py')!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "try:\n"  # a whole project with the custom loop and a distribution strategy, too
        f"    main(['new', {str(tmp_path / 'proj')!r}, '--preset', 'autoencoder',\n"
        "          '--loop', 'custom', '--strategy', 'multiworker', '--mixed-precision'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        # A team's pack, and the commands around packs and projects.
        f"pack = {str(Path(__file__).parent / 'data' / 'packs' / 'acme')!r}\n"
        f"team = {str(tmp_path / 'team')!r}\n"
        "for args in (['new', team, '--template', pack, '--preset', 'mlp'],\n"
        "             ['update', team], ['config'],\n"
        "             ['templates', 'list'], ['templates', 'show', pack]):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, (args, exc.code)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "r.py").exists() and (tmp_path / "proj" / "train.py").exists()
    assert (tmp_path / "team" / "CONTRIBUTING.md").exists()


def test_new_skips_black_when_no_line_is_too_long(tmp_path: Path) -> None:
    """The mlp preset is written in Black's style already: Black is not even imported."""
    code = (
        "import sys\n"
        "from generator.cli import main\n"
        "try:\n"
        f"    main(['new', 'MyModel', '--preset', 'mlp', '-o', {str(tmp_path / 'm.py')!r}])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print('black' in sys.modules)\n"
    )
    env = {**os.environ, "SCAFFOLD_FORMAT_CHECK": "0"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
    written = (tmp_path / "m.py").read_text()
    from generator.output.formatting import black_format

    assert black_format(written) == written


@pytest.mark.parametrize("preset", preset_names())
def test_preset_module_golden_and_clean(preset: str, tmp_path: Path) -> None:
    source = _new(tmp_path, "--preset", preset)
    _golden(f"preset_{preset}", source)
    ruff = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "E,F,W,B",
            "--ignore",
            "E501",
            str(tmp_path / "my_model.py"),
        ],
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout
    assert _new(tmp_path, "--preset", preset, "--force") == source  # deterministic


@pytest.mark.slow
@pytest.mark.parametrize("preset", preset_names())
def test_generated_project_tests_pass(preset: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["new", str(tmp_path / f"{preset}_project"), "--preset", preset]
    )
    assert result.exit_code == 0, result.output
    project = tmp_path / f"{preset}_project"
    assert_project_tests_pass(project)


def test_smoke_test_reports_the_failing_layer(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(
        "inputs:\n  a: [4]\n  b: [5]\n"
        "layers:\n  - {name: da, layer: Dense(3), inputs: a}\n"
        "  - {name: joined, layer: Add(), inputs: [da, b]}\n"
    )
    result = CliRunner().invoke(
        main, ["new", "Bad", "--spec", str(spec), "-o", str(tmp_path / "bad.py"), "--smoke-test"]
    )
    assert result.exit_code == 2, result.output
    assert "layer 'joined'" in result.output
    assert not (tmp_path / "bad.py").exists()


MULTI_INPUT_SPEC = """\
doc: Two inputs, a shared-width block repeated, skip connection and two outputs.
inputs:
  image: {shape: [16, 16, 3]}
  meta: [5]
params:
  width: {default: 8, type: int}
  repeats: {default: 3, type: int}
blocks:
  conv_bn:
    params:
      filters: {type: int}
    layers: "Conv2D(filters, 3, padding='same') > BatchNormalization() > ReLU()"
layers:
  - {name: stem, layer: "Conv2D(width, 1)", inputs: image}
  - {name: body, layer: conv_bn(filters=width), repeat: repeats}
  - {name: residual, layer: Add(), inputs: [body, stem]}
  - {name: pooled, layer: GlobalAveragePooling2D()}
  - {name: meta_dense, layer: "Dense(width, activation='relu')", inputs: meta}
  - {name: joined, layer: Concatenate(), inputs: [pooled, meta_dense]}
  - {name: score, layer: Dense(1)}
  - {name: label, layer: Dense(3), inputs: joined}
outputs: {score: score, label: label}
"""


def test_multi_input_spec_builds_and_round_trips(tmp_path: Path) -> None:
    import keras
    import numpy as np

    from generator.verify import import_source

    spec = tmp_path / "multi.yaml"
    spec.write_text(MULTI_INPUT_SPEC)
    source = _new(tmp_path, "--spec", str(spec))
    _golden("multi_input_spec", source)
    assert "for layer in self.body:" in source and "range(repeats)" in source
    model = import_source(source, "multi_input").MyModel(repeats=2)
    rng = np.random.default_rng(0)
    inputs = {
        "image": rng.standard_normal((2, 16, 16, 3)).astype("float32"),
        "meta": rng.standard_normal((2, 5)).astype("float32"),
    }
    outputs = model(inputs, training=False)
    assert set(outputs) == {"score", "label"}
    assert tuple(outputs["label"].shape) == (2, 3)
    assert len(model.body) == 2
    path = tmp_path / "multi.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_config()["repeats"] == 2
    for key in outputs:
        np.testing.assert_allclose(loaded(inputs, training=False)[key], outputs[key], atol=1e-6)


def test_build_honours_the_input_shape_it_is_given(tmp_path: Path) -> None:
    """``build(None)`` makes the spec's input shape; ``build(shape)`` another one, so the
    MLP preset (784 features) trains on 100 features too."""
    import numpy as np

    from generator.verify import import_source

    source = _new(tmp_path, "--preset", "mlp")
    model = import_source(source, "mlp_100").MyModel()
    model.build((None, 100))
    assert tuple(model.layers[0].kernel.shape) == (100, 64)
    outputs = model(np.zeros((2, 100), "float32"))
    assert tuple(outputs.shape) == (2, 10)
    default = import_source(source, "mlp_default").MyModel()
    default.build(None)
    assert tuple(default.layers[0].kernel.shape) == (784, 64)


def _block_examples(source: str) -> dict[str, ast.Call]:
    """Each layer class's docstring example: the constructor call it makes."""
    examples = {}
    for node in ast.parse(source).body:
        doc = ast.get_docstring(node) if isinstance(node, ast.ClassDef) else None
        if doc and "Example:" in doc and "tf.keras.Model" not in ast.unparse(node.bases[0]):
            example = textwrap.dedent(doc.split("Example:", 1)[1])
            calls = [n for n in ast.walk(ast.parse(example)) if isinstance(n, ast.Call)]
            examples[node.name] = next(c for c in calls if ast.unparse(c.func) == node.name)
    return examples


@pytest.mark.parametrize("origin", ["preset", "spec"])
def test_a_block_example_passes_every_required_argument(origin: str, tmp_path: Path) -> None:
    """The example a block's docstring gives makes the block: its required arguments take
    what the model passes it, at the model's defaults (``ResidualBlock(filters=32)``)."""
    from generator.verify import import_source

    if origin == "preset":
        source = _new(tmp_path, "--preset", "resnet")
    else:
        spec = tmp_path / "multi.yaml"
        spec.write_text(MULTI_INPUT_SPEC)
        source = _new(tmp_path, "--spec", str(spec))
    examples = _block_examples(source)
    assert examples, "the module has a block class"
    module = import_source(source, f"block_example_{origin}")
    for name, call in examples.items():
        block = eval(compile(ast.Expression(call), name, "eval"), vars(module))
        assert type(block).__name__ == name
