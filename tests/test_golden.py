"""Golden files for generated source, each also executed and compared numerically.

Regenerate the expected files after an intended change with ``make golden`` and review
the diff like any other code change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cases import CASES, build_case
from conftest import REGENERATE, assert_documented
from equivalence import assert_equivalent, generated_class, train_briefly

from generator.convert import ConvertOptions, convert_model
from generator.core.naming import to_pascal
from generator.output.writing import comparable

GOLDEN = Path(__file__).parent / "data" / "golden"


def _convert(name: str, model) -> str:
    options = ConvertOptions(class_name=to_pascal(name), package=name)
    return convert_model(model, options, source_name=f"{name}.keras")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_source(name: str) -> None:
    source = _convert(name, build_case(name))
    expected_path = GOLDEN / f"{name}.py"
    if REGENERATE:
        expected_path.write_text(source, encoding="utf-8")
    assert expected_path.exists(), f"missing golden file; run `make golden` ({expected_path})"
    assert comparable(source) == comparable(expected_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_case_is_equivalent_after_training(name: str, tmp_path: Path) -> None:
    import keras

    model = build_case(name)
    train_briefly(model)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    source = _convert(name, loaded)
    cls = generated_class(source, to_pascal(name), f"golden_{name}")
    assert_equivalent(loaded, cls, tmp_path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_import_style_is_equivalent(name: str, tmp_path: Path) -> None:
    model = build_case(name)
    options = ConvertOptions(class_name=to_pascal(name), package=f"{name}_k", import_style="keras")
    source = convert_model(model, options)
    assert "tensorflow" not in source and "tf." not in source
    cls = generated_class(source, to_pascal(name), f"keras_style_{name}")
    assert_equivalent(model, cls, tmp_path)


def test_the_readme_shows_what_convert_writes_for_the_demo(tmp_path: Path) -> None:
    """README's "Before and after" is `make demo`'s conversion, class and all: it must be
    today's output (it had drifted once weightless layers became operators). ``make
    golden`` rewrites it."""
    import importlib.util

    import keras

    script = Path(__file__).parent.parent / "docs" / "examples" / "build_demo_model.py"
    spec = importlib.util.spec_from_file_location("build_demo_model", script)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    keras.backend.clear_session()
    path = tmp_path / "demo_model.keras"
    demo.main(str(path))
    model = keras.models.load_model(path)
    options = ConvertOptions.for_output(tmp_path / "demo_model.py", model.name)
    source = convert_model(model, options)
    body = source[source.index("@tf.keras") :].rstrip("\n")
    assert_documented(Path(__file__).parent.parent / "README.md", "printed this", body)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_a_made_up_optimizer_name_is_the_default_whatever_came_before(tmp_path: Path) -> None:
    """Keras numbers the names it makes up (``adam``, ``adam_1``, ...) per process: a
    compile config read after other optimizers were made must not name its ``Adam``."""
    import keras

    options = ConvertOptions(class_name="M", package="m")
    for made_before in (0, 1):  # saved as "adam", or as "adam_1" (a notebook's second)
        keras.backend.clear_session()
        [keras.optimizers.Adam() for _ in range(made_before)]
        inputs = keras.Input((3,))
        model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
        model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
        assert model.optimizer.name == ("adam_1" if made_before else "adam")
        path = tmp_path / f"m{made_before}.keras"
        model.save(path)
        first = convert_model(keras.models.load_model(path), options)
        made = [keras.optimizers.Adam() for _ in range(3)]
        assert made[-1].name != "adam"  # the next fresh Adam would not be called "adam"
        second = convert_model(keras.models.load_model(path), options)
        assert first == second
        assert "tf.keras.optimizers.Adam()" in first
