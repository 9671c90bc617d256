"""Golden files for generated source, each also executed and compared numerically.

Regenerate the expected files after an intended change with ``make golden`` and review
the diff like any other code change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cases import CASES, build_case
from conftest import REGENERATE
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
