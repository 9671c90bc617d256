"""Writes the project of ``scaffold new NAME`` without ever losing a file of the user's.

A new directory is staged whole and renamed into place. In an existing directory only
the project's own files are written, one by one through the same ``FileSet``: the
project keeps a record of what scaffold wrote (``.scaffold.json``, file → sha256), and
``--force`` replaces those files and nothing else. Files scaffold did not write, and
directories scaffold did not make, need ``--merge`` as well. No directory is ever
removed, and no file is written outside the project, even through a symbolic link.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from generator import __version__
from generator.errors import OutputError
from generator.output.writing import FileSet, destination, read_existing

RECORD_NAME = ".scaffold.json"


def project_record(files: Mapping[str, str | bytes]) -> str:
    """The record of the files scaffold writes, by content hash (deterministic)."""
    data = {
        "generator": "keras-scaffold",
        "version": __version__,
        "files": {relative: _sha256(content) for relative, content in sorted(files.items())},
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


@dataclass(frozen=True)
class Record:
    """What ``.scaffold.json`` says: ``files`` is ``None`` when there is no valid record."""

    exists: bool
    files: dict[str, str] | None


def read_record(directory: Path) -> Record:
    path = directory / RECORD_NAME
    if not os.path.lexists(path):
        return Record(False, None)
    try:
        data = json.loads(read_existing(path) or "")
    except ValueError:
        return Record(True, None)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("generator") != "keras-scaffold":
        return Record(True, None)
    if not isinstance(files, dict):
        return Record(True, None)
    return Record(True, {str(k): str(v) for k, v in files.items()})


@dataclass(frozen=True)
class ProjectWrite:
    """What staging a project will do once its files are committed."""

    target: Path
    created: bool  # a new directory
    added: tuple[str, ...]  # files that did not exist
    replaced: tuple[str, ...]  # files that existed
    edited: tuple[str, ...]  # of those: not as scaffold last wrote them

    def describe(self) -> str:
        """One line for the user."""
        if self.created:
            return f"Wrote {self.target}/ ({len(self.added)} files): {', '.join(self.added)}"
        parts = []
        if self.replaced:
            replaced = [
                f"{rel} (had changes not made by scaffold)" if rel in self.edited else rel
                for rel in self.replaced
            ]
            parts.append(f"replaced {', '.join(replaced)}")
        if self.added:
            parts.append(f"added {', '.join(self.added)}")
        return f"Updated {self.target}/: {'; '.join(parts)}; every other file was kept"


def stage_project(
    target: Path,
    files: Mapping[str, str | bytes],
    staged: FileSet,
    *,
    force: bool,
    merge: bool,
    inputs: tuple[Path, ...] = (),
) -> ProjectWrite:
    """Stage the project's files (and its record) under ``target``.

    Raises:
        OutputError: the rules of the module docstring forbid it (nothing is written).
    """
    everything: dict[str, str | bytes] = {**files, RECORD_NAME: project_record(files)}
    where = str(target)
    try:
        exists, is_dir = os.path.lexists(target), target.is_dir()
        entries = any(target.iterdir()) if is_dir else False
    except OSError as exc:
        raise OutputError(f"cannot look inside it: {exc.strerror}", where=where) from exc
    if not exists:
        dest = destination(target, force=False, inputs=inputs, option="NAME")
        staged.stage_directory(dest, everything)
        return ProjectWrite(target, True, tuple(sorted(everything)), (), ())
    if not is_dir:
        raise OutputError("exists and is not a directory", where=where)
    record = read_record(target)
    ours = record.files or {}
    if record.files is None and entries and not merge:
        why = (
            "its .scaffold.json is not a scaffold record"
            if record.exists
            else "it has no .scaffold.json"
        )
        raise OutputError(
            f"already exists and was not made by scaffold new ({why}); pass --merge to add "
            "the project's files to it (your files are kept; --force also replaces files "
            "with the same names)",
            where=where,
        )
    present = sorted(rel for rel in everything if os.path.lexists(target / rel))
    if record.files is not None and not force:
        raise OutputError(
            f"already exists; pass --force to replace the {len(ours)} files scaffold "
            "generated there (your other files are kept)",
            where=where,
        )
    theirs = [rel for rel in present if rel not in ours and rel != RECORD_NAME]
    if record.files is None and RECORD_NAME in present:
        theirs.append(RECORD_NAME)
    if theirs and not (force and merge):
        flags = "--force" if merge else "--merge --force"
        raise OutputError(
            f"already has {', '.join(theirs)}, which scaffold did not write; pass {flags} to "
            "replace " + ("it" if len(theirs) == 1 else "them"),
            where=where,
        )
    root = Path(os.path.realpath(target))
    for relative, content in sorted(everything.items()):
        path = target / relative
        _require_directories(target, path.parent)
        staged.make_directories(path.parent)
        dest = destination(path, force=True, inputs=inputs, option="NAME", within=root)
        staged.write(dest, content)
    edited = tuple(
        rel for rel in present if rel != RECORD_NAME and ours.get(rel) != _file_sha256(target / rel)
    )
    added = tuple(rel for rel in sorted(everything) if rel not in present)
    return ProjectWrite(target, False, added, tuple(present), edited)


def _require_directories(root: Path, directory: Path) -> None:
    """Every existing component between ``root`` and ``directory`` must be a directory."""
    current = root
    for part in directory.relative_to(root).parts:
        current = current / part
        if os.path.lexists(current) and not current.is_dir():
            raise OutputError("exists and is not a directory", where=str(current))


def _sha256(content: str | bytes) -> str:
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    except OSError:
        return ""
