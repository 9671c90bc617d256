"""The catalog of Keras layers and their constructor parameters, shipped as JSON.

``scaffold new`` validates specs against it without importing Keras, so it starts in a
fraction of a second. Regenerate it from the installed Keras with
``python -m generator.from_spec.catalog`` (``make catalog``); ``tests/test_catalog.py`` fails when
it no longer matches the installed Keras.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).with_name("keras_catalog.json")

# Layers that need runtime objects or other frameworks rather than literal arguments.
_EXCLUDED = {
    "InputLayer",
    "Layer",
    "Lambda",
    "Wrapper",
    "RNN",
    "FlaxLayer",
    "JaxLayer",
    "TFSMLayer",
    "TorchModuleWrapper",
    "Pipeline",
    "StackedRNNCells",
}


def build_catalog() -> dict[str, Any]:
    """Read every public layer class of the installed Keras (imports Keras)."""
    import keras
    from keras.layers import Layer

    from generator.from_keras.internals import is_merge_layer_class

    base = _parameters(Layer.__init__)
    layers: dict[str, Any] = {}
    for name in sorted(dir(keras.layers)):
        cls = getattr(keras.layers, name)
        if not (inspect.isclass(cls) and issubclass(cls, Layer)) or name in _EXCLUDED:
            continue
        params = _parameters(cls.__init__)
        takes_kwargs = any(
            p.kind is p.VAR_KEYWORD for p in inspect.signature(cls.__init__).parameters.values()
        )
        if takes_kwargs:
            params += [p for p in base if p["name"] not in {q["name"] for q in params}]
        call = inspect.signature(cls.call).parameters  # type: ignore[attr-defined]
        layers[name] = {
            "path": f"layers.{name}",
            "params": params,
            "training": "training" in call,
            "merge": is_merge_layer_class(cls),
        }
    return {"keras_version": keras.__version__, "layers": layers}


def _parameters(function: Any) -> list[dict[str, Any]]:
    found = []
    for param in inspect.signature(function).parameters.values():
        if param.name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        entry: dict[str, Any] = {"name": param.name, "required": param.default is param.empty}
        if param.default is not param.empty:
            entry["default"] = _jsonable(param.default)
        found.append(entry)
    return found


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(
        v is None or isinstance(v, (bool, int, float, str)) for v in value
    ):
        return list(value)
    return repr(value)


@functools.lru_cache(maxsize=1)
def load_catalog() -> dict[str, Any]:
    """The shipped catalog (no Keras import)."""
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


def write_catalog(path: Path = CATALOG_PATH) -> None:
    text = json.dumps(build_catalog(), indent=1, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_catalog(Path(sys.argv[1]) if len(sys.argv) > 1 else CATALOG_PATH)
    print(f"wrote {CATALOG_PATH if len(sys.argv) < 2 else sys.argv[1]}")
