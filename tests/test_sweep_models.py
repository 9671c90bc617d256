"""Every model of ``sweep_models.py``, saved and loaded as ``scaffold convert`` reads it,
converts with structure recovery on to a class that computes exactly what it does (max
abs diff 0): no fallback to flat code is needed, since the library call has none."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest
from equivalence import converted_exactly
from sweep_models import BUILDERS


@pytest.mark.full
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_swept_model_converts_exactly(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.keras"
    BUILDERS[name]().save(path)
    converted_exactly(keras.saving.load_model(path), f"sweep_{name}")
