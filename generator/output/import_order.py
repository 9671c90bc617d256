"""Import statements in the order isort (and ruff's ``I001``) expects, so a generated
module that imports numpy, a lambda's helpers or your custom-objects module stays
ruff-clean.

Sections, a blank line apart: the standard library, installed distributions
(tensorflow, keras, numpy), then everything else, which is your own code (a
``--custom-objects`` module: first-party wherever ruff runs in your project). Within a
section, ``import x`` lines come first, then ``from x import y``, each sorted by module.
"""

from __future__ import annotations

import functools
import importlib.metadata
import sys
from collections.abc import Iterable

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
    if module in THIRD_PARTY or module in _installed():
        return 1
    return 2


@functools.cache
def _installed() -> frozenset[str]:
    """Top-level modules that installed distributions provide."""
    return frozenset(importlib.metadata.packages_distributions())
