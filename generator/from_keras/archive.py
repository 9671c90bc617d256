"""Checks a ``.keras`` archive before Keras opens it: bounded, and safe-mode aware.

A ``.keras`` file is a zip archive whose ``config.json`` describes the model. A hostile
archive can inflate that JSON to gigabytes, nest it deeper than any parser recurses, or
hide a Lambda's bytecode in it. These checks read at most ``MAX_JSON_BYTES`` of it and
refuse, with the limit in the message, before anything large is allocated.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from generator.errors import LoadError, UnsupportedModelError

MAX_JSON_BYTES = 64 * 2**20  # config.json / metadata.json; real configs are a few MB
MAX_EXPANSION = 100  # Keras stores members uncompressed; deflate tops out near 1032:1
EXPANSION_FLOOR = 16 * 2**20  # smaller members may compress well without harm
MAX_MEMBERS = 100_000
MAX_DEPTH = 256  # nesting of config.json; a nested model adds about 8 levels
_JSON_MEMBERS = ("config.json", "metadata.json")


def check_archive(path: Path, *, safe_mode: bool) -> None:
    """Refuse archives that are unreadable, oversized, bombs, or (in safe mode) code.

    Raises:
        LoadError: the archive breaks a limit or cannot be read; the message says which.
        UnsupportedModelError: safe mode and a Lambda layer that holds bytecode.
    """
    where = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise LoadError(
                    f"the archive has {len(members):,} members (limit {MAX_MEMBERS:,})",
                    where=where,
                )
            for info in members:
                _check_member(info, where)
            raw = _read_limited(archive, "config.json", where)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError) as exc:
        raise LoadError(
            f"not a readable .keras archive ({exc}); is the file truncated?", where=where
        ) from exc
    except (RuntimeError, NotImplementedError, ValueError) as exc:  # encrypted, odd methods
        raise LoadError(f"not a readable .keras archive ({exc})", where=where) from exc
    try:
        config = json.loads(raw)
    except RecursionError:
        raise LoadError(
            f"config.json nests deeper than {MAX_DEPTH} levels, far beyond any model",
            where=where,
        ) from None
    except ValueError as exc:
        raise LoadError(
            f"config.json in the archive is not valid JSON: {exc}", where=where
        ) from exc
    lambdas = _walk(config, where)
    if safe_mode and lambdas:
        raise UnsupportedModelError(
            "Lambda layer "
            + ", ".join(repr(n) for n in sorted(lambdas))
            + " holds Python bytecode, which safe mode refuses to load; pass --unsafe "
            "only if you trust this file",
            where=where,
        )


def _check_member(info: zipfile.ZipInfo, where: str) -> None:
    name = info.filename
    if name in _JSON_MEMBERS and info.file_size > MAX_JSON_BYTES:
        raise LoadError(
            f"{name} inflates to {_size(info.file_size)} (limit {_size(MAX_JSON_BYTES)})",
            where=where,
        )
    if info.file_size > EXPANSION_FLOOR and info.file_size > MAX_EXPANSION * max(
        info.compress_size, 1
    ):
        raise LoadError(
            f"archive member {name!r} inflates from {_size(info.compress_size)} to "
            f"{_size(info.file_size)} (limit {MAX_EXPANSION}:1 above "
            f"{_size(EXPANSION_FLOOR)}): a decompression bomb",
            where=where,
        )


def _read_limited(archive: zipfile.ZipFile, name: str, where: str) -> bytes:
    """Read a member, never more than ``MAX_JSON_BYTES`` whatever its header claims."""
    with archive.open(name) as handle:
        raw = handle.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise LoadError(f"{name} is larger than {_size(MAX_JSON_BYTES)}", where=where)
    return raw


def _walk(config: Any, where: str) -> list[str]:
    """Names of Lambda layers that hold bytecode; also enforces ``MAX_DEPTH`` (iteratively:
    no recursion). A Lambda whose function is stored by its registered name is safe."""
    lambdas = []
    stack: list[tuple[Any, int]] = [(config, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise LoadError(
                f"config.json nests deeper than {MAX_DEPTH} levels, far beyond any model",
                where=where,
            )
        if isinstance(value, dict):
            if value.get("class_name") == "Lambda":
                inner = value.get("config")
                inner = inner if isinstance(inner, dict) else {}
                if not _names_a_function(inner.get("function")):
                    lambdas.append(str(inner.get("name", "?")))
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return lambdas


def _names_a_function(function: Any) -> bool:
    """A Lambda's function stored by registered name (safe), not as bytecode."""
    return (
        isinstance(function, dict)
        and function.get("class_name") == "function"
        and isinstance(function.get("config"), str)
    )


def _size(count: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"
