"""Import statements in the order isort (and ruff's ``I001``) expects, so a generated
module that imports numpy, a lambda's helpers or your custom-objects module stays
ruff-clean.

Sections, a blank line apart: the standard library, third-party packages (tensorflow,
keras, numpy, and any module installed in ``site-packages``), then everything else, which
is your own code: a ``--custom-objects`` module in your tree is first-party, as ruff
finds it, also when your project is installed in editable mode. Where a module lives
decides, not which distributions happen to be installed, so the section a module goes
in does not change from one environment to the next. Within a section, ``import x``
lines come first, then ``from x import y``, each sorted by module.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

THIRD_PARTY = frozenset({"tensorflow", "keras", "numpy"})  # whatever is installed


def ordered_imports(lines: Iterable[str]) -> list[str]:
    """``lines`` (one statement each, duplicates dropped) grouped and sorted."""
    sections: list[list[str]] = [[], [], []]
    for line in set(lines):
        sections[_section(_top_module(line))].append(line)
    ordered: list[str] = []
    for section in sections:
        if not section:
            continue
        if ordered:
            ordered.append("")
        ordered.extend(sorted(section, key=_sort_key))
    return ordered


def _top_module(line: str) -> str:
    return line.split()[1].split(".")[0]


def _sort_key(line: str) -> tuple[bool, str, str]:
    return (line.startswith("from "), line.split()[1].lower(), line)


def _section(module: str) -> int:
    if module in sys.stdlib_module_names:
        return 0
    if module in THIRD_PARTY or _in_site_packages(module):
        return 1
    return 2


@functools.cache
def _in_site_packages(module: str) -> bool:
    """Whether ``module`` is found inside a ``site-packages`` (or ``dist-packages``)
    directory: installed by pip, not a file of the user's tree."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    places = [spec.origin] if spec.origin else []
    places += list(spec.submodule_search_locations or ())
    return any(
        part in ("site-packages", "dist-packages")
        for place in places
        if place
        for part in Path(place).parts
    )
