"""The catalog of Keras layers and their constructor parameters, shipped as JSON.

``scaffold new`` validates specs against it without importing Keras, so it starts in a
fraction of a second. Regenerate it from the installed Keras with
``python -m generator.from_spec.catalog`` (``make catalog``; see ``catalog_build``);
``tests/test_catalog.py`` fails when it no longer matches the installed Keras.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).with_name("keras_catalog.json")


@functools.lru_cache(maxsize=1)
def load_catalog() -> dict[str, Any]:
    """The shipped catalog (no Keras import)."""
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


def keras_series(version: str | None = None) -> str:
    """``"3.15"``: the Keras release series the catalog was made from (or of ``version``).

    A catalog holds for its whole series; a spec checked against it is warned about only
    outside that series.
    """
    text = version or str(load_catalog()["keras_version"])
    return ".".join(text.split(".")[:2])


def build_catalog() -> dict[str, Any]:
    """The catalog of the installed Keras (imports it)."""
    from generator.from_spec.catalog_build import build_catalog as build

    return build()


def write_catalog(path: Path = CATALOG_PATH) -> None:
    text = json.dumps(build_catalog(), indent=1, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_catalog(Path(sys.argv[1]) if len(sys.argv) > 1 else CATALOG_PATH)
    print(f"wrote {CATALOG_PATH if len(sys.argv) < 2 else sys.argv[1]}")
