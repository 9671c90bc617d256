"""Imports generated source in isolation, so verification never touches ``sys.modules``."""

from __future__ import annotations

import types
from pathlib import Path

from generator.errors import VerificationError, one_line


def import_source(
    source: str, module_name: str = "scaffold_generated", file: Path | None = None
) -> types.ModuleType:
    """Execute generated source in a fresh module object that ``sys.modules`` never holds.

    ``file``: where the module lives (its assets file is read from beside it).
    """
    module = types.ModuleType(module_name)
    module.__file__ = str(file) if file is not None else f"<{module_name}>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def load_generated_class(
    source: str, class_name: str | None, where: str, file: Path | None = None
) -> type:
    """Import generated source in isolation and find the model class to check."""
    try:
        module = import_source(source, "scaffold_verify_generated", file)
    except Exception as exc:
        raise VerificationError(
            f"cannot import the generated module: {one_line(exc)}", where=where
        ) from exc
    import keras

    if class_name is not None:
        cls = getattr(module, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, keras.Model)):
            raise VerificationError(f"no keras.Model subclass named {class_name!r}", where=where)
        return cls
    candidates = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, keras.Model)
        and value.__module__ == module.__name__
    ]
    if not candidates:
        raise VerificationError("the module defines no keras.Model subclass", where=where)
    return candidates[-1]  # generated modules define the main model last
