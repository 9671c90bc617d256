"""Writes a generated project without ever losing a file of the user's.

A new directory is staged whole and renamed into place. In an existing directory only
the project's own files are written, one by one through the same ``FileSet``. The
project keeps a record, ``.scaffold.toml``: what made it (spec, template pack and its
variables, options, tool version; ``scaffold update`` re-renders from it) and every file
scaffold wrote with its sha256. ``--force`` replaces those files and nothing else. Files
scaffold did not write, and directories it did not make, need ``--merge`` as well. The
files as generated are also kept under ``.scaffold/base/``: the base of the three-way
merge of ``scaffold update``. No directory is ever removed, and no file is written
outside the project, even through a symbolic link.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from generator import __version__
from generator.errors import OutputError
from generator.output.writing import FileSet, destination, read_existing
from generator.tomlfiles import tomllib

RECORD_NAME = ".scaffold.toml"
LEGACY_RECORD_NAME = ".scaffold.json"  # keras-scaffold before 0.2: file hashes only
STATE_DIR = ".scaffold"
BASE_DIR = f"{STATE_DIR}/base"  # the files as last generated: update's merge base
SPEC_COPY = f"{STATE_DIR}/spec.yaml"
_RECORD_HEADER = (
    "# Written by keras-scaffold: what made this project. `scaffold update` re-renders it\n"
    "# from this record (and .scaffold/spec.yaml) and merges with your edits.\n"
)


def project_record(files: Mapping[str, str | bytes], provenance: Mapping[str, Any]) -> str:
    """``.scaffold.toml``: ``provenance`` (tables of what made the project) and the
    sha256 of every file scaffold writes (deterministic)."""
    data: dict[str, Any] = {"generator": "keras-scaffold", "version": __version__}
    data.update(provenance)
    data["files"] = {relative: sha256_of(content) for relative, content in sorted(files.items())}
    return _RECORD_HEADER + tomli_w.dumps(data)


def project_state(
    files: Mapping[str, str | bytes], provenance: Mapping[str, Any], spec_text: str | None
) -> dict[str, str | bytes]:
    """The project's files plus scaffold's own: the merge base, the spec, the record."""
    everything: dict[str, str | bytes] = dict(files)
    for relative, content in files.items():
        everything[f"{BASE_DIR}/{relative}"] = content
    if spec_text is not None:
        everything[SPEC_COPY] = spec_text
    everything[RECORD_NAME] = project_record(everything, provenance)
    return everything


@dataclass(frozen=True)
class Record:
    """What the record says: ``files`` is ``None`` when there is no valid record, and
    ``data`` holds the whole record (None for a legacy ``.scaffold.json``)."""

    exists: bool
    files: dict[str, str] | None
    data: dict[str, Any] | None = None
    name: str = RECORD_NAME


def read_record(directory: Path) -> Record:
    """The record of the project in ``directory`` (``.scaffold.toml``, or the legacy
    ``.scaffold.json`` of earlier versions)."""
    path = directory / RECORD_NAME
    if not os.path.lexists(path):
        return _read_legacy(directory)
    try:
        data = tomllib.loads(read_existing(path) or "")
    except (ValueError, OSError):
        return Record(True, None)
    files = data.get("files")
    if data.get("generator") != "keras-scaffold" or not isinstance(files, dict):
        return Record(True, None)
    return Record(True, {str(k): str(v) for k, v in files.items()}, data)


def _read_legacy(directory: Path) -> Record:
    path = directory / LEGACY_RECORD_NAME
    if not os.path.lexists(path):
        return Record(False, None)
    try:
        data = json.loads(read_existing(path) or "")
    except (ValueError, OSError):
        return Record(True, None, name=LEGACY_RECORD_NAME)
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("generator") != "keras-scaffold":
        return Record(True, None, name=LEGACY_RECORD_NAME)
    if not isinstance(files, dict):
        return Record(True, None, name=LEGACY_RECORD_NAME)
    return Record(True, {str(k): str(v) for k, v in files.items()}, name=LEGACY_RECORD_NAME)


@dataclass(frozen=True)
class ProjectWrite:
    """What staging a project will do once its files are committed."""

    target: Path
    created: bool  # a new directory
    added: tuple[str, ...]  # files that did not exist
    replaced: tuple[str, ...]  # files that existed
    edited: tuple[str, ...]  # of those: not as scaffold last wrote them

    def describe(self) -> str:
        """One line for the user (scaffold's own files under ``.scaffold/`` unnamed)."""
        added = _shown(self.added)
        if self.created:
            return f"Wrote {self.target}/ ({len(added)} files): {', '.join(added)}"
        parts = []
        if self.replaced:
            replaced = [
                f"{rel} (had changes not made by scaffold)" if rel in self.edited else rel
                for rel in _shown(self.replaced)
            ]
            parts.append(f"replaced {', '.join(replaced)}")
        if added:
            parts.append(f"added {', '.join(added)}")
        return f"Updated {self.target}/: {'; '.join(parts)}; every other file was kept"


def _shown(paths: tuple[str, ...]) -> list[str]:
    return [rel for rel in paths if not rel.startswith(STATE_DIR + "/")]


def stage_project(
    target: Path,
    files: Mapping[str, str | bytes],
    staged: FileSet,
    *,
    force: bool,
    merge: bool,
    inputs: tuple[Path, ...] = (),
    provenance: Mapping[str, Any] | None = None,
    spec_text: str | None = None,
) -> ProjectWrite:
    """Stage the project's files, its merge base and its record under ``target``.

    Raises:
        OutputError: the rules of the module docstring forbid it (nothing is written).
    """
    everything = project_state(files, provenance or {}, spec_text)
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
            f"its {record.name} is not a scaffold record"
            if record.exists
            else f"it has no {RECORD_NAME}"
        )
        raise OutputError(
            f"already exists and was not made by scaffold new ({why}); pass --merge to add "
            "the project's files to it (your files are kept; --force also replaces files "
            "with the same names)",
            where=where,
        )
    present = sorted(rel for rel in everything if os.path.lexists(target / rel))
    if record.files is not None and not force:
        generated = [rel for rel in ours if not rel.startswith(STATE_DIR + "/")]
        raise OutputError(
            f"already exists; pass --force to replace the {len(generated)} files scaffold "
            "generated there (your other files are kept; your edits to those are not: "
            "`scaffold update` merges them instead)",
            where=where,
        )
    theirs = [rel for rel in present if rel not in ours and rel != RECORD_NAME]
    if record.files is None and RECORD_NAME in present:
        theirs.append(RECORD_NAME)
    if record.name == LEGACY_RECORD_NAME:
        ours = {**ours, LEGACY_RECORD_NAME: ""}  # superseded by .scaffold.toml; left alone
    if theirs and not (force and merge):
        flags = "--force" if merge else "--merge --force"
        raise OutputError(
            f"already has {', '.join(theirs)}, which scaffold did not write; pass {flags} to "
            "replace " + ("it" if len(theirs) == 1 else "them"),
            where=where,
        )
    stage_files(target, everything, staged, inputs)
    edited = tuple(
        rel
        for rel in present
        if rel != RECORD_NAME
        and not rel.startswith(STATE_DIR + "/")
        and ours.get(rel) != _file_sha256(target / rel)
    )
    added = tuple(rel for rel in sorted(everything) if rel not in present)
    return ProjectWrite(target, False, added, tuple(present), edited)


def stage_files(
    target: Path,
    files: Mapping[str, str | bytes],
    staged: FileSet,
    inputs: tuple[Path, ...] = (),
) -> None:
    """Stage ``files`` (relative paths) into the existing directory ``target``, replacing
    files of those names; never through a link that leads outside ``target``."""
    root = Path(os.path.realpath(target))
    for relative, content in sorted(files.items()):
        path = target / relative
        _require_directories(target, path.parent, root)
        staged.make_directories(path.parent)
        dest = destination(path, force=True, inputs=inputs, option="NAME", within=root)
        staged.write(dest, content)


def _require_directories(root: Path, directory: Path, real_root: Path | None = None) -> None:
    """Every existing component between ``root`` and ``directory`` must be a directory
    (and, given ``real_root``, lead nowhere outside it: checked before any folder is made)."""
    current = root
    for part in directory.relative_to(root).parts:
        current = current / part
        if not os.path.lexists(current):
            return
        if not current.is_dir():
            raise OutputError("exists and is not a directory", where=str(current))
        real = Path(os.path.realpath(current))
        if real_root is not None and real != real_root and real_root not in real.parents:
            raise OutputError(
                f"leads outside the project (to {real}); scaffold writes only inside it",
                where=str(current),
            )


def sha256_of(content: str | bytes) -> str:
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    except OSError:
        return ""
