"""Copies the source of a layer class that generated code cannot import.

Classes private to Keras (``keras.src.applications.convnext.LayerScale``,
InceptionResNetV2's ``CustomScaleLayer``) have no public import path. Their source is
copied into the generated module, with every module-level name it uses rewritten to a
public ``keras`` name (``initializers`` → ``keras.initializers``), and with the notice of
the license it is distributed under.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from typing import Any

from generator.core.ir import HelperClass, Symbol
from generator.errors import UnsupportedModelError
from generator.from_keras.internals import exported_name, public_module_name


def copy_class_source(cls: type, class_name: str, *, where: str) -> HelperClass:
    """The class's source as text and symbol parts, renamed to ``class_name``."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError) as exc:
        raise UnsupportedModelError(
            f"{cls.__qualname__} is private to {cls.__module__} and its source is not "
            "available to copy",
            where=where,
        ) from exc
    tree = ast.parse(source)
    class_def = tree.body[0]
    if not isinstance(class_def, ast.ClassDef):
        raise UnsupportedModelError(
            f"cannot read the class body of {cls.__qualname__}", where=where
        )
    module_globals = vars(sys.modules[cls.__module__])
    local_names = _locally_bound_names(class_def)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    replacements: list[tuple[int, int, Any]] = []
    # Drop decorators (keras_export and friends): the renderer adds its own registration.
    if class_def.decorator_list:
        first = class_def.decorator_list[0]
        start = offsets[first.lineno - 1]
        end = offsets[class_def.lineno - 1]
        replacements.append((start, end, ""))
    # The class's own name.
    name_line = offsets[class_def.lineno - 1]
    name_start = source.index(class_def.name, name_line + len("class") - 1)
    replacements.append((name_start, name_start + len(class_def.name), class_name))
    for node in ast.walk(class_def):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            continue
        if node.id in local_names or node.id not in module_globals:
            continue  # a builtin, a parameter or a local variable
        value = module_globals[node.id]
        if value is cls:
            public: Any = Symbol("", class_name)
        else:
            public = _public_reference(value)
        if public is None:
            raise UnsupportedModelError(
                f"{cls.__qualname__} uses {node.id!r} from {cls.__module__}, which has no "
                "public Keras name; cannot copy it into the generated module",
                where=where,
            )
        start = offsets[node.lineno - 1] + node.col_offset
        replacements.append((start, start + len(node.id), public))
    parts: list[Any] = []
    cursor = 0
    for start, end, replacement in sorted(replacements, key=lambda r: r[0]):
        parts.append(source[cursor:start])
        if replacement:
            parts.append(replacement)
        cursor = end
    parts.append(source[cursor:])
    return HelperClass(
        class_name=class_name,
        origin=f"{cls.__module__}.{cls.__qualname__}",
        notice=_license_notice(cls),
        parts=tuple(p for p in parts if p != ""),
    )


def _public_reference(value: Any) -> Symbol | None:
    import types

    if isinstance(value, types.ModuleType):
        public = public_module_name(value.__name__)
        if public is not None:
            return Symbol("keras", public[len("keras.") :])
        if value.__name__ == "numpy":
            return Symbol("numpy", "")  # rendered as plain ``numpy``
        return None
    registered = exported_name(value)
    if registered and registered.startswith("keras."):
        return Symbol("keras", registered[len("keras.") :])
    return None


def _locally_bound_names(class_def: ast.ClassDef) -> set[str]:
    """Parameters and assigned names inside the class: these shadow module globals."""
    names: set[str] = set()
    for node in ast.walk(class_def):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not class_def:
            pass
    return names


def _license_notice(cls: type) -> str:
    package = cls.__module__.split(".")[0]
    try:
        from importlib.metadata import metadata

        meta = metadata(package)
        license_name = meta["License-Expression"] or meta["License"] or "see its package"
        version = meta["Version"] or ""
    except Exception:
        license_name, version = "see its package", ""
    license_name = " ".join(str(license_name).split())[:80]
    return (
        f"Copied from {cls.__module__}.{cls.__qualname__} ({package} {version}), "
        f"licensed under {license_name}."
    )
