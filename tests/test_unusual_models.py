"""Every model of ``unusual_models.py``, saved and loaded as ``scaffold convert`` reads
it, converts with structure recovery on to a class that computes exactly what it does
(max abs diff 0, so float64 models are exact in float64), without the command's fallback
to flat code."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest
from equivalence import converted_exactly
from unusual_models import BUILDERS


@pytest.mark.full
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_unusual_model_converts_exactly(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.keras"
    BUILDERS[name]().save(path)
    converted_exactly(keras.saving.load_model(path), f"unusual_{name}")
