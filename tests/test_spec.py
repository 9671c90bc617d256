"""Spec errors: one line, the file:line:column of the mistake, a suggestion, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

GOOD = """\
input_shape: [16]
params:
  num_classes: 4
layers:
  - Dense(32, activation='relu')
  - Dense(num_classes)
"""


def _run(tmp_path: Path, text: str) -> tuple[int, str]:
    spec = tmp_path / "model.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(
        main, ["new", "m", "--spec", str(spec), "-o", str(tmp_path / "m.py")]
    )
    return result.exit_code, result.output


def test_good_spec(tmp_path: Path) -> None:
    code, output = _run(tmp_path, GOOD)
    assert code == 0, output


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            GOOD.replace("Dense(num_classes)", "Dense2(num_classes)"),
            "model.yaml:6:5: unknown layer 'Dense2' (did you mean 'Dense'?)",
        ),
        (
            GOOD.replace("activation='relu'", "activaton='relu'"),
            "model.yaml:5:15: Dense has no argument 'activaton' (did you mean 'activation'?)",
        ),
        (
            GOOD.replace("Dense(32, activation='relu')", "Dense(activation='relu')"),
            "model.yaml:5:5: Dense is missing required argument 'units'",
        ),
        (
            GOOD.replace("Dense(num_classes)", "Dense(num_class)"),
            "model.yaml:6:11: unknown name 'num_class' (did you mean 'num_classes'?)",
        ),
        (GOOD + "outputs: logits\n", "model.yaml:7:10: output refers to undefined node 'logits'"),
        (
            "input_shape: [4]\nlayers:\n  - {name: a, layer: Dense(2), inputs: b}\n"
            "  - {name: b, layer: Dense(2), inputs: a}\n",
            "cycle: a -> b -> a",
        ),
        (
            "input_shape: [4]\nlayers:\n  - {name: a, layer: Dense(2), inputs: c}\n",
            "model.yaml:3:40: reference to undefined node 'c'",
        ),
        (
            "inputs:\n  x: [4]\n  unused: [3]\nlayers:\n  - {layer: Dense(2), inputs: x}\n",
            "model.yaml:3:3: input 'unused' is never used",
        ),
        (
            "input_shape: [4]\nparams:\n  class: 3\nlayers: Dense(2)\n",
            "model.yaml:3:3: invalid parameter name 'class'",
        ),
        (
            "input_shape: [4]\nparams:\n  name: 3\nlayers: Dense(2)\n",
            "invalid parameter name 'name': it is reserved",
        ),
        ("input_shape: [4\nlayers: Dense(2)\n", "model.yaml:2:"),
        ("input_shape: [4]\nlayers: Dense(2) > > Dense(3)\n", "cannot parse layers"),
        (
            "input_shape: [4]\nlayer: Dense(2)\n",
            "unknown top-level key 'layer' (did you mean 'layers'?)",
        ),
        (
            "input_shape: [4]\nlayers:\n  - {layer: Add(), inputs: x}\n",
            "reference to undefined node 'x'",
        ),
        ("input_shape: [4]\nlayers:\n  - Dense(2)\n  - Add()\n", "Add merges several inputs"),
        ("input_shape: [4]\nlayers: Dense(2, __import__('os'))\n", "unknown layer '__import__'"),
        ("input_shape: [4]\nlayers: Dense(2 if units else 3)\n", "arguments must be literals"),
        (
            "input_shape: [4]\nlayers:\n  - {name: a, layer: Dense(2)}\n"
            "  - {name: b, layer: Dense(2), inputs: inputs}\noutputs: b\n",
            "layer 'a' does not lead to any output",
        ),
        ("", "the spec is empty"),
    ],
)
def test_spec_errors(tmp_path: Path, text: str, expected: str) -> None:
    code, output = _run(tmp_path, text)
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert expected in lines[0], lines[0]
    assert not (tmp_path / "m.py").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--layers", "Dense(2)"], "--layers needs --input-shape"),
        (["--layers", "Dense(2)", "--input-shape", "0,3"], "invalid shape"),
        (["--layers", "Dense(n)", "--input-shape", "4", "--param", "n"], "expected NAME=VALUE"),
        (["--preset", "mpl"], "unknown preset 'mpl' (did you mean 'mlp'?)"),
        (["--preset", "mlp", "--layers", "Dense(2)"], "give exactly one of"),
        ([], "give exactly one of"),
        (["--layers", "Conv2D(32, 3) + Dense(2)", "--input-shape", "4"], "expected a layer call"),
    ],
)
def test_command_line_spec_errors(tmp_path: Path, args: list[str], expected: str) -> None:
    result = CliRunner().invoke(main, ["new", "m", "-o", str(tmp_path / "m.py"), *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
