"""Layers from the user's own modules (``imports:`` in a spec, ``--custom-objects``).

The one place where ``scaffold new`` imports user code (and whatever it imports, Keras
included): to find the module's layer classes and read their constructor signatures, so
that calls such as ``mypkg.layers.PositionEmbedding(16)`` are checked like Keras's own.
Each class can be called by its dotted name, or by its bare name when no other imported
module defines one of the same name.
"""

from __future__ import annotations

import importlib
import inspect
import os
from typing import Any

from generator.errors import SpecError, one_line


def custom_layers(modules: tuple[str, ...], where: str) -> dict[str, dict[str, Any]]:
    """Catalog entries (name → entry) for the layer classes ``modules`` define.

    Raises:
        SpecError: a module cannot be imported, or defines no layer class.
    """
    entries: dict[str, dict[str, Any]] = {}
    bare: dict[str, list[str]] = {}
    for module_name in modules:
        module = _import(module_name, where)
        classes = [
            cls
            for cls in vars(module).values()
            if inspect.isclass(cls) and cls.__module__ == module.__name__ and _is_layer(cls)
        ]
        if not classes:
            raise SpecError(f"module {module_name!r} defines no Keras layer class", where=where)
        for cls in classes:
            entry = _entry(cls, module_name)
            entries[f"{module_name}.{cls.__name__}"] = entry
            bare.setdefault(cls.__name__, []).append(module_name)
            entries.setdefault(f"?{cls.__name__}", entry)
    for name, owners in bare.items():
        entry = entries.pop(f"?{name}")
        if len(owners) == 1:
            entries.setdefault(name, entry)
    return entries


def _import(module_name: str, where: str) -> Any:
    from generator.from_keras.environment import quiet_native_stderr
    from generator.from_keras.loading import ensure_cwd_importable

    ensure_cwd_importable()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with quiet_native_stderr():  # the module may import TensorFlow
            return importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise SpecError(
            f"cannot import module {module_name!r}: {one_line(exc)}", where=where
        ) from exc


def _is_layer(cls: type) -> bool:
    """A Keras ``Layer`` subclass, told without importing Keras ourselves."""
    return any(
        base.__name__ == "Layer" and base.__module__.startswith("keras") for base in cls.__mro__
    ) and not any(base.__name__ == "Model" for base in cls.__mro__[:1])


def _entry(cls: type, module_name: str) -> dict[str, Any]:
    from generator.from_spec.catalog_build import signature_entries, types_from_default

    params = signature_entries(cls)
    for entry in params:  # only what defaults tell: user classes are never constructed here
        types = types_from_default(entry)
        if types:
            entry["types"] = types
    call = inspect.signature(cls.call).parameters  # type: ignore[attr-defined]
    return {
        "path": cls.__qualname__,
        "module": module_name,
        "params": params,
        "training": "training" in call,
        "merge": False,
    }
