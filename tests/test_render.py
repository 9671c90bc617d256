"""Rendering the IR: no TensorFlow involved, so these run in milliseconds."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import outputs_across_hash_seeds

from generator.core.ir import (
    Assign,
    Call,
    InputSpec,
    LayerSpec,
    ModelIR,
    ModuleIR,
    Name,
    Param,
    SelfAttr,
    Symbol,
    TrainingFlag,
)
from generator.errors import ScaffoldError
from generator.output.formatting import format_source
from generator.output.import_order import ordered_imports
from generator.output.render import RenderOptions, render_module
from generator.packs.pack import load_pack

GOLDEN = Path(__file__).parent / "data" / "golden"


def _mlp(**changes) -> ModuleIR:
    model = ModelIR(
        class_name="MyModel",
        keras_name="my_model",
        inputs=(InputSpec("x", "inputs", (784,), "float32"),),
        input_structure="single",
        layers=(
            LayerSpec(
                "fc1",
                "fc1",
                Call(
                    Symbol("keras", "layers.Dense"),
                    (64,),
                    (("activation", "relu"), ("name", "fc1")),
                ),
                "Dense",
            ),
            LayerSpec(
                "drop",
                "drop",
                Call(Symbol("keras", "layers.Dropout"), (0.5,), (("name", "drop"),)),
                "Dropout",
            ),
            LayerSpec(
                "logits",
                "logits",
                Call(
                    Symbol("keras", "layers.Dense"), (Name("num_classes"),), (("name", "logits"),)
                ),
                "Dense",
            ),
        ),
        steps=(
            Assign(("x",), Call(SelfAttr("fc1"), (Name("inputs"),))),
            Assign(("x",), Call(SelfAttr("drop"), (Name("x"),), (("training", TrainingFlag()),))),
            Assign(("x",), Call(SelfAttr("logits"), (Name("x"),))),
        ),
        outputs=Name("x"),
        params=(Param("num_classes", 10, "int", "number of output classes."),),
    )
    for key, value in changes.items():
        model = ModelIR(**{**model.__dict__, key: value})
    return ModuleIR(models=(model,), package="my_model")


def test_renders_parseable_black_stable_code() -> None:
    source = format_source(render_module(_mlp()))
    ast.parse(source)
    assert format_source(source) == source
    assert "def __init__(self, num_classes=10, **kwargs):" in source
    assert 'self.logits = tf.keras.layers.Dense(num_classes, name="logits")' in source
    assert '"num_classes": self.num_classes' in source
    assert "x = self.drop(x, training=training)" in source


def test_keras_import_style() -> None:
    source = format_source(render_module(_mlp(), RenderOptions(import_style="keras")))
    assert "import keras\n" in source and "tensorflow" not in source
    assert "class MyModel(keras.Model):" in source


def test_validate_rejects_forward_references() -> None:
    broken = _mlp(steps=(Assign(("x",), Call(SelfAttr("fc1"), (Name("y"),))),))
    with pytest.raises(ScaffoldError, match="'y' is used before it is defined"):
        render_module(broken)


def test_validate_rejects_unknown_layers_and_duplicates() -> None:
    with pytest.raises(ScaffoldError, match="self.nope is never created"):
        render_module(_mlp(steps=(Assign(("x",), Call(SelfAttr("nope"), (Name("inputs"),))),)))
    module = _mlp()
    layers = module.models[0].layers
    with pytest.raises(ScaffoldError, match="duplicate layer attribute 'fc1'"):
        render_module(_mlp(layers=(layers[0], layers[0])))


def test_user_templates_override_blocks(tmp_path: Path) -> None:
    (tmp_path / "scaffold-template.toml").write_text('name = "house"\n')
    (tmp_path / "model.py.jinja").write_text(
        '{% extends "builtin/model.py.jinja" %}\n'
        "{% block get_config %}\n"
        "    def get_config(self):\n"
        '        return {**super().get_config(), "house_style": True}\n'
        "{% endblock %}\n"
    )
    pack = load_pack(tmp_path, "test")
    source = format_source(render_module(_mlp(), RenderOptions(pack=pack)))
    assert '"house_style": True' in source
    assert "self.fc1 = tf.keras.layers.Dense" in source


def test_docstrings_cannot_be_closed_by_names() -> None:
    hostile = 'x"""\nimport os\n"""'
    module = _mlp(inputs=(InputSpec(hostile, "inputs", (784,), "float32"),), keras_name=hostile)
    source = format_source(render_module(module))
    tree = ast.parse(source)
    assert not any(isinstance(n, ast.Import) and n.names[0].name == "os" for n in ast.walk(tree))


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.py")), ids=lambda p: p.stem)
def test_golden_files_are_ruff_clean(golden: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "E,F,W,B,I",
            "--ignore",
            "E501",
            str(golden),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    script = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from cases import build_case\n"
        "from generator.convert import convert_model, ConvertOptions\n"
        "for name in ('dict_io', 'ops_graph', 'hostile_names', 'nested_functional_twice'):\n"
        "    sys.stdout.write(convert_model(build_case(name), ConvertOptions(package=name)))\n"
    )
    outputs = outputs_across_hash_seeds(script, ("0", "1"))
    assert len(outputs) == 1
    assert outputs.pop().count("class ") >= 5


def test_docstring_entries_wrap_without_touching_quoted_names() -> None:
    """Entries wrap at 88 columns (8 in, so 80), continuation lines 4 more; a quoted
    name from the model never breaks, so its spaces all stay (found in review: three
    spaces in an input name were dropped at a break)."""
    from generator.output.render import DOC_WIDTH, _break_points, _wrapped

    name = "input " + "a" * 60 + "   " + "b" * 10
    entry = f"{name!r}: (batch, 3), float32 and some words to wrap after the name"
    lines = _wrapped([entry])
    assert repr(name) in "\n".join(lines)
    assert all(len(line) <= DOC_WIDTH or not _break_points(line.strip()) for line in lines)
    assert all(line.startswith("    ") for line in lines[1:])
    assert " ".join(line.strip() for line in lines) == entry
    # Names with both quotes (repr escapes one, the docstring doubles the backslash),
    # and a quoted key after a slash (an output path): still whole.
    from generator.output.render import _doc_escape

    both = "it's the " + '"raw" input, ' + "word " * 20 + "end"
    for entry in (f"{both!r}: (batch, 3), float32", f"0/{both!r}: (batch, 3)"):
        lines = _wrapped([entry])
        assert _doc_escape(repr(both)) in "\n".join(lines), lines
    # A default stays whole, on the last line or its own.
    text = ["stage_filters: filters of each stage of conv_blocks;", "default (64, 128, 256, 512)."]
    assert _wrapped([tuple(text)])[-1].endswith("default (64, 128, 256, 512).")


@pytest.mark.parametrize("length", range(1, 41))
def test_only_versions_changing_never_fails_the_check(length: int) -> None:
    """The docstring is one line where it fits in 88 columns, else a title and a version
    line; either way an upgrade of keras-scaffold or Keras leaves ``--check`` passing."""
    import dataclasses

    from generator.core.ir import Header
    from generator.output.writing import comparable

    name = "M" + "x" * (length - 1)
    versions = (
        ("0.1.0", "3.15.1"),
        ("0.10.0", "3.15.10"),
        ("1.0.0rc1", "3.16.0.dev2025061803"),
        ("0.1.0", "3.2.0"),
    )
    texts = [
        render_module(
            dataclasses.replace(
                _mlp(class_name=name), header=Header(tool_version=tool, keras_version=keras)
            )
        )
        for tool, keras in versions
    ]
    assert len({comparable(text) for text in texts}) == 1
    assert all(len(text.splitlines()[0]) <= 88 for text in texts)


def test_imports_are_in_isort_order() -> None:
    """Standard library, installed distributions, your own modules; ``import x`` before
    ``from x import y`` in each; ruff's I001 accepts the result."""
    lines = [
        "import tensorflow as tf",
        "import my_layers",
        "import numpy as np",
        "from keras import ops",
        "from pathlib import Path",
        "import math",
        "import numpy as np",
    ]
    assert ordered_imports(lines) == [
        "import math",
        "from pathlib import Path",
        "",
        "import numpy as np",
        "import tensorflow as tf",
        "from keras import ops",
        "",
        "import my_layers",
    ]


def test_where_a_module_lives_decides_its_import_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package pip installed is third-party; a module of the user's tree is first-party,
    also when a distribution claims it (an editable install of their project), as ruff
    sees it from the project."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "house_layers.py").write_text("")
    dist_info = tmp_path / "site" / "house_layers-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: house-layers\n")
    (dist_info / "top_level.txt").write_text("house_layers\n")
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    import generator.output.import_order as import_order

    for helper in vars(import_order).values():  # what earlier tests cached about sys.path
        getattr(helper, "cache_clear", lambda: None)()
    lines = ["import house_layers", "import click", "import tensorflow as tf"]
    assert ordered_imports(lines) == [
        "import click",
        "import tensorflow as tf",
        "",
        "import house_layers",
    ]
