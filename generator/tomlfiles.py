"""TOML files: ``tomllib`` (``tomli`` before Python 3.11) and one reader whose errors
name the file, for the manifests, settings and records the tool reads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from generator.errors import ScaffoldError, one_line

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["read_toml", "tomllib"]


def read_toml(path: Path, error: type[ScaffoldError]) -> dict[str, Any]:
    """The parsed file.

    Raises:
        error: the file cannot be read, is not UTF-8, or is not TOML (one line, naming it).
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read it: {one_line(exc)}", where=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"not valid TOML: {one_line(exc)}", where=str(path)) from exc
