"""``scaffold new`` catches wrong values before writing anything (from_spec/check_values.py,
check_calls.py, validate.py), and specs can use arithmetic and named inputs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FULL
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.cli import main
from generator.from_spec.catalog import load_catalog
from generator.from_spec.check_values import check_value

EXAMPLES = 400 if FULL else 80


def _new(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    out = tmp_path / "out.py"
    result = CliRunner().invoke(main, ["new", "X", "-o", str(out), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output, out


def _one_line_error(code: int, output: str, out: Path) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2, output
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert not out.exists()
    return lines[0]


@pytest.mark.parametrize(
    "chain, params, expected",
    [
        ("Dense(units='64')", [], "--layers:1:7: Dense argument 'units' must be a positive int"),
        ("Dropout('half')", [], "Dropout argument 'rate' must be a number in [0, 1]"),
        ("Dense(0)", [], "must be a positive int, got 0"),
        ("Dropout(1.5)", [], "got 1.5"),
        ("Dense(4, use_bias='yes')", [], "'use_bias' must be True or False"),
        (
            "Dense(4, activation='rellu')",
            [],
            "unknown activation 'rellu' for Dense(activation=...)",
        ),
        ("Dense(4, kernel_initializer='glorot')", [], "unknown initializer 'glorot'"),
        ("Dense(4, kernel_regularizer='l3')", [], "unknown regularizer 'l3'"),
        ("Dense(4, kernel_constraint='maxnorm')", [], "unknown constraint 'maxnorm'"),
        ("Dense(4, dtype='flaot32')", [], "unknown dtype 'flaot32' for Dense(dtype=...)"),
        ("Conv1D(4, 3, padding='smae')", [], "'padding' must be 'causal' or 'same' or 'valid'"),
        ("Dense(4, activation=relu)", [], "quote it: 'relu'"),
        ("Dense(num_classes)", ["num_classes=ten"], "(the default of parameter 'num_classes')"),
        ("Dense(width // 0)", ["width=4"], "divides by zero"),
        ("Dense(width - 8)", ["width=4"], "(the expression, with the parameters' defaults)"),
        ("Dense(4)", ["unused=3"], "--param:1:1: parameter 'unused' is never used"),
        ("Dense(2 ** width)", ["width=1000"], "the power is too large"),
        ("Dense(width.real)", ["width=4"], "arithmetic on them or layer calls"),
    ],
)
def test_wrong_values_in_one_liners(
    tmp_path: Path, chain: str, params: list[str], expected: str
) -> None:
    args = ["--input-shape", "8,3", "--layers", chain]
    for param in params:
        args += ["--param", param]
    line = _one_line_error(*_new(tmp_path, *args))
    assert expected in line, line


def test_unknown_dtype_with_layers(tmp_path: Path) -> None:
    line = _one_line_error(
        *_new(tmp_path, "--input-shape", "8", "--layers", "Dense(2)", "--dtype", "flaot")
    )
    assert "--dtype: unknown dtype 'flaot' (did you mean 'float64'?)" in line


@pytest.mark.parametrize(
    "spec, expected",
    [
        (
            "input_shape: [4]\nparams:\n  n: {default: 4, type: flaot}\nlayers: Dense(n)\n",
            "model.yaml:3:3: unknown type 'flaot' for parameter 'n' (did you mean 'float'?)",
        ),
        (
            "input_shape: [4]\nparams:\n  n: {default: four, type: int}\nlayers: Dense(n)\n",
            "the default of 'n' is 'four', not a int",
        ),
        (
            "input_shape: [4]\nparams:\n  depth: 0\nlayers:\n  - layer: Dense(4)\n"
            "    repeat: depth\n",
            "repeat: depth must be a positive int, got 0",
        ),
        (
            "input_shape: [4]\nparams:\n  spare: 1\nlayers: Dense(2)\n",
            "model.yaml:3:3: parameter 'spare' is never used",
        ),
    ],
)
def test_wrong_values_in_yaml_specs(tmp_path: Path, spec: str, expected: str) -> None:
    path = tmp_path / "model.yaml"
    path.write_text(spec)
    line = _one_line_error(*_new(tmp_path, "--spec", str(path)))
    assert expected in line, line


def test_arithmetic_on_parameters_is_kept_in_the_code(tmp_path: Path) -> None:
    spec = tmp_path / "model.yaml"
    spec.write_text(
        "inputs:\n  tokens: {shape: [10, 16]}\n"
        "params:\n  embed_dim: 16\n  num_heads: 4\n"
        "layers:\n"
        "  - layer: MultiHeadAttention(num_heads, key_dim=embed_dim // num_heads)\n"
        "    inputs: [tokens, tokens]\n"
        "    name: attention\n"
        "  - Dense(4 * embed_dim, activation='gelu')\n"
        "  - Dense((embed_dim + 2) * 3)\n"
    )
    code, output, out = _new(tmp_path, "--spec", str(spec), "--smoke-test")
    assert code == 0, output
    source = out.read_text()
    assert "key_dim=embed_dim // num_heads" in source
    assert "4 * embed_dim, activation=" in source and "(embed_dim + 2) * 3" in source
    assert 'tokens = inputs["tokens"]' in source  # one named input stays a dict


def test_repeat_on_the_first_layer(tmp_path: Path) -> None:
    spec = tmp_path / "model.yaml"
    spec.write_text(
        "input_shape: [8]\nlayers:\n  - layer: Dense(8, activation='relu')\n    repeat: 3\n"
        "  - Dense(2)\n"
    )
    code, output, out = _new(tmp_path, "--spec", str(spec), "--smoke-test")
    assert code == 0, output
    assert "x = inputs" in out.read_text()


def test_smoke_test_failures_name_the_layer_and_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "model.yaml"
    spec.write_text("input_shape: [8, 3]\nlayers:\n  - Conv1D(4, 5)\n  - Conv1D(4, 5)\n")
    line = _one_line_error(*_new(tmp_path, "--spec", str(spec), "--smoke-test"))
    assert line.startswith("Error: model.yaml:4:5: layer 'conv1d_1' (Conv1D): ")


def test_every_default_in_the_catalog_passes_its_own_check() -> None:
    """A check must never refuse what Keras itself uses as a default."""
    catalog = load_catalog()
    checked = 0
    for layer, entry in catalog["layers"].items():
        for slot in entry["params"]:
            if "default" in slot:
                check_value(layer, slot, slot["default"], catalog["names"], "catalog")
                checked += 1
    assert checked > 1000


# -- Hypothesis: mutated one-liners and specs are either fine or one line ---------------------

VALID_CHAINS = [
    "Dense(16, activation='relu') > Dropout(0.2) > Dense(num_classes)",
    "Conv1D(8, 3, padding='same') > GlobalAveragePooling1D() > Dense(num_classes)",
    "LSTM(8, return_sequences=True) > LSTM(4) > Dense(num_classes, activation='softmax')",
]
MUTATIONS = st.sampled_from(
    [
        ("16", "'16'"),
        ("0.2", "'half'"),
        ("0.2", "1.2"),
        ("relu", "rellu"),
        ("'relu'", "relu"),
        ("'same'", "'smae'"),
        ("num_classes", "num_class"),
        ("num_classes", "2 * num_classes"),
        ("Dense", "Dence"),
        ("activation", "activaton"),
        ("8", "0"),
        ("3", "-1"),
        ("True", "'yes'"),
        ("> ", "> > "),
        ("(", "(("),
        ("'softmax'", "'sigmoid'"),
        (", return_sequences=True", ""),
        ("Dropout(0.2) > ", "Dropout(0.2) > Dropout(0.2) > "),
    ]
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    chain=st.sampled_from(VALID_CHAINS),
    mutations=st.lists(MUTATIONS, max_size=3),
    num_classes=st.sampled_from(["3", "ten", "0", "2.5", "True"]),
    as_yaml=st.booleans(),
)
def test_mutated_specs_are_fine_or_one_line(
    tmp_path_factory: pytest.TempPathFactory,
    chain: str,
    mutations: list[tuple[str, str]],
    num_classes: str,
    as_yaml: bool,
) -> None:
    for old, new in mutations:
        chain = chain.replace(old, new, 1)
    work = tmp_path_factory.mktemp("mutant")
    if as_yaml:
        spec = work / "model.yaml"
        spec.write_text(
            "input_shape: [6, 3]\nparams:\n"
            f"  num_classes: {num_classes}\n"
            f"layers: {json.dumps(chain)}\n"
        )
        args = ["--spec", str(spec)]
    else:
        args = ["--input-shape", "6,3", "--layers", chain, "--param", f"num_classes={num_classes}"]
    code, output, out = _new(work, *args, "--smoke-test")
    event(f"exit {code}")
    if code == 0:
        assert "smoke test passed" in output and out.exists(), output
    else:
        _one_line_error(code, output, out)


CUSTOM_LAYERS = """
import keras


@keras.saving.register_keras_serializable(package="teamlayers")
class PositionEmbedding(keras.layers.Layer):
    def __init__(self, max_length, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.scale = scale

    def build(self, input_shape):
        self.table = self.add_weight(shape=(self.max_length, input_shape[-1]), name="table")

    def call(self, inputs):
        return inputs + self.scale * self.table[: keras.ops.shape(inputs)[1]]

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "scale": self.scale}
"""


@pytest.fixture()
def team_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    package = tmp_path / "teamlayers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "layers.py").write_text(CUSTOM_LAYERS)
    (package / "empty.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] == "teamlayers"]:
        del sys.modules[name]  # each test has its own copy of the package


def test_custom_layers_from_imports_and_custom_objects(tmp_path: Path, team_layers: Path) -> None:
    spec = tmp_path / "model.yaml"
    spec.write_text(
        "imports: [teamlayers.layers]\ninput_shape: [10, 8]\nlayers:\n"
        "  - teamlayers.layers.PositionEmbedding(16)\n"
        "  - PositionEmbedding(16, scale=0.5)\n"
        "  - GlobalAveragePooling1D()\n  - Dense(2)\n"
    )
    code, output, out = _new(tmp_path, "--spec", str(spec), "--smoke-test")
    assert code == 0, output
    source = out.read_text()
    assert "import teamlayers.layers" in source
    assert "self.position_embedding = teamlayers.layers.PositionEmbedding(" in source
    out.unlink()
    chain = ["--input-shape", "10,8", "--layers", "PositionEmbedding(16, scale='big') > Dense(2)"]
    line = _one_line_error(*_new(tmp_path, *chain, "--custom-objects", "teamlayers.layers"))
    assert "PositionEmbedding argument 'scale' must be a number, got 'big'" in line
    line = _one_line_error(*_new(tmp_path, *chain))
    assert "unknown layer 'PositionEmbedding'" in line


@pytest.mark.parametrize(
    "module, expected",
    [
        ("teamlayers.nope", "cannot import module 'teamlayers.nope'"),
        ("teamlayers.empty", "module 'teamlayers.empty' defines no Keras layer class"),
    ],
)
def test_custom_layer_modules_that_do_not_work(
    tmp_path: Path, team_layers: Path, module: str, expected: str
) -> None:
    args = ["--input-shape", "4", "--layers", "Dense(2)", "--custom-objects", module]
    assert expected in _one_line_error(*_new(tmp_path, *args))


def test_a_dotted_layer_without_its_import(tmp_path: Path) -> None:
    args = ["--input-shape", "4", "--layers", "mypkg.layers.Thing(2)"]
    line = _one_line_error(*_new(tmp_path, *args))
    assert (
        "unknown layer 'mypkg.layers.Thing'; list its module under imports: [mypkg.layers]" in line
    )


def test_a_constructor_that_raises_is_named_with_its_line(
    tmp_path: Path, team_layers: Path
) -> None:
    (team_layers / "teamlayers" / "strict.py").write_text(
        "import keras\n\n"
        "class Strict(keras.layers.Layer):\n"
        "    def __init__(self, size, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        if size > 3:\n"
        "            raise ValueError(f'size must be at most 3, got {size}')\n"
        "        self.size = size\n\n"
        "    def call(self, inputs):\n"
        "        return inputs\n"
    )
    spec = tmp_path / "model.yaml"
    spec.write_text("imports: [teamlayers.strict]\ninput_shape: [4]\nlayers:\n  - Strict(5)\n")
    line = _one_line_error(*_new(tmp_path, "--spec", str(spec), "--smoke-test"))
    assert line == ("Error: model.yaml:4:5: layer 'strict' (Strict): size must be at most 3, got 5")


def test_project_readme_diagram_and_files(tmp_path: Path) -> None:
    from generator.from_spec.catalog import keras_series

    result = CliRunner().invoke(main, ["new", str(tmp_path / "ae"), "--preset", "autoencoder"])
    assert result.exit_code == 0, result.output
    readme = (tmp_path / "ae" / "README.md").read_text()
    # dict outputs: labelled by key, in the order the model returns them
    assert readme.index('out0[/"reconstruction"/]') < readme.index('out1[/"code"/]')
    result = CliRunner().invoke(main, ["new", str(tmp_path / "rn"), "--preset", "resnet"])
    assert result.exit_code == 0, result.output
    readme = (tmp_path / "rn" / "README.md").read_text()
    assert 'subgraph n3["residual_blocks: ResidualBlock x depth"]' in readme
    assert "n3_in --> n9" in readme  # the block's skip connection is drawn
    assert ".pytest_cache/" in (tmp_path / "rn" / ".gitignore").read_text()
    test_file = (tmp_path / "rn" / "tests" / "test_model.py").read_text()
    assert f'SCAFFOLD_KERAS_SERIES = "{keras_series()}"' in test_file
