"""The shipped layer catalog must match the installed Keras, so it cannot go stale."""

from __future__ import annotations

from generator.from_spec.catalog import build_catalog, load_catalog


def test_catalog_matches_installed_keras() -> None:
    shipped = load_catalog()
    live = build_catalog()
    assert shipped["keras_version"] == live["keras_version"], (
        "the catalog was made with another Keras; regenerate it: make catalog"
    )
    assert shipped["layers"] == live["layers"], "regenerate the catalog: make catalog"


def test_catalog_knows_the_common_layers() -> None:
    layers = load_catalog()["layers"]
    for name in ["Dense", "Conv2D", "Dropout", "BatchNormalization", "LSTM", "MultiHeadAttention"]:
        assert name in layers
    assert layers["Dropout"]["training"] is True
    assert layers["Add"]["merge"] is True and layers["Dense"]["merge"] is False
    assert next(p for p in layers["Dense"]["params"] if p["name"] == "units")["required"]
