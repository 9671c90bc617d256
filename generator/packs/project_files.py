"""A pack's extra project files: everything under its ``project/`` directory that does not
override a built-in project template.

``NAME.jinja`` files are rendered (to ``NAME``); other files are copied as they are. Path
components may use the context too (``src/{{ package }}/logging.py.jinja``). A path that
would lead outside the project (absolute, ``..``, empty) is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import jinja2

from generator.errors import PackError
from generator.packs.environment import render, render_string
from generator.packs.pack import PROJECT_DIR, Pack, builtin_templates_dir, read_file

TEMPLATE_SUFFIX = ".jinja"


def builtin_project_templates() -> set[str]:
    root = builtin_templates_dir() / PROJECT_DIR
    return {path.relative_to(root).as_posix() for path in root.rglob(f"*{TEMPLATE_SUFFIX}")}


def extra_project_files(
    pack: Pack, env: jinja2.Environment, context: Mapping[str, Any]
) -> dict[str, str | bytes]:
    """Relative project path → content of each extra file of ``pack``.

    Raises:
        PackError: a template fails, or a path leads outside the project.
    """
    if pack.root is None:
        return {}
    builtin = builtin_project_templates()
    files: dict[str, str | bytes] = {}
    prefix = PROJECT_DIR + "/"
    for relative in pack.files():
        if not relative.startswith(prefix):
            continue
        inside = relative[len(prefix) :]
        if inside in builtin:
            continue  # overrides a built-in template: rendered in its place
        where = f"{pack.root / relative}"
        target = render_string(env, inside, context, where) if "{" in inside else inside
        if target.endswith(TEMPLATE_SUFFIX):
            target = target[: -len(TEMPLATE_SUFFIX)]
            content: str | bytes = render(env, relative, context)
        else:  # copied: text (merged as text by scaffold update) unless it is not UTF-8
            data = read_file(pack.root / relative)
            try:
                content = data.decode("utf-8")
            except UnicodeDecodeError:
                content = data
        files[safe_relative(target, where)] = content
    return files


def safe_relative(path: str, where: str) -> str:
    """``path`` normalized, or PackError when it is absolute, empty or climbs out."""
    pure = PurePosixPath(path.replace("\\", "/"))
    parts = pure.parts
    bad = not path or "\x00" in path or pure.is_absolute() or not parts
    if bad or any(p in ("..", "", ".") for p in parts):
        raise PackError(
            f"would write {path!r}, outside the project; a pack writes only inside it",
            where=where,
        )
    if any(p == ".scaffold" or p.startswith(".scaffold.") for p in parts[:1]):
        raise PackError(f"would write {path!r}, which is scaffold's own record", where=where)
    return pure.as_posix()
