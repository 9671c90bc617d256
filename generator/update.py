"""``scaffold update``: render a project again from its record, with the current template
pack and tool, and merge the result with the user's edits (``output.merge``).

The record (``.scaffold.toml``) says what made the project; the spec is its copy in
``.scaffold/spec.yaml`` (edit it to change the architecture), or the ``--layers`` chain
in the record. The merge base is ``.scaffold/base/``: the files as scaffold generated
them last time, never re-rendered from an old pack. Nothing is written until every file
is merged; then the files, the new base and the record are staged together.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import ConflictError, InvalidOutputError, OutputError, SpecError, one_line
from generator.from_spec.sources import SpecSource, resolve_spec
from generator.output.merge import (
    CONFLICT,
    NOT_A_FILE,
    NOT_OURS,
    NOT_REGULAR,
    FileMerge,
    NotRegular,
    merge_file,
)
from generator.output.project_write import (
    BASE_DIR,
    LEGACY_RECORD_NAME,
    RECORD_NAME,
    SPEC_COPY,
    STATE_DIR,
    project_state,
    read_record,
    sha256_of,
    stage_files,
)
from generator.output.writing import FileSet


@dataclass(frozen=True)
class UpdatePlan:
    """What ``update`` will write: each file's merge, and scaffold's new state."""

    target: Path
    merges: tuple[FileMerge, ...]
    state: dict[str, str | bytes]  # the new base, the spec copy and the record
    pack: str  # the pack it was rendered with, for the message
    without_base: tuple[str, ...] = ()  # edited files whose base copy is missing

    @property
    def conflicts(self) -> list[str]:
        return [m.relative for m in self.merges if m.outcome == CONFLICT]

    @property
    def changes(self) -> list[FileMerge]:
        return [m for m in self.merges if m.writes]


def plan_update(
    target: Path, template: str | None = None, variables: tuple[str, ...] = ()
) -> UpdatePlan:
    """Render the project in ``target`` again and merge it with what is there.

    ``template`` replaces the recorded pack; ``variables`` (``NAME=VALUE``) replace
    recorded values.

    Raises:
        InvalidOutputError: ``target`` is not a project that update can render again.
        ScaffoldError: the spec, the pack or a template fails (nothing is written).
    """
    from generator import new as pipeline
    from generator.packs.discovery import find_pack
    from generator.packs.manifest import given_variables, resolve_variables
    from generator.packs.pack import pack_presets

    data = _record(target)
    project, spec_table = _table(data, "project", target), _table(data, "spec", target)
    recorded_pack = _table(data, "template", target)
    _check_record(project, spec_table, recorded_pack, target / RECORD_NAME)
    if template is not None:
        pack = find_pack(template, "--template", Path.cwd())
    else:
        reference = str(recorded_pack.get("reference", "builtin"))
        pack = find_pack(reference, f"{target / RECORD_NAME} [template]", target)
    given: dict[str, tuple[Any, str]] = {}
    recorded = _table(data, "variables", target)
    declared = {v.name for v in pack.manifest.variables}
    for name, value in recorded.items():
        if name in declared:  # another pack (--template) may not declare them
            given[name] = (value, f"{target / RECORD_NAME} [variables]")
    given.update(given_variables(variables))
    pack_variables = resolve_variables(pack.manifest, given)
    source = _spec_source(target, spec_table, pack_presets(pack))
    training = pipeline.TrainingOptions(
        project.get("loop", "fit"),
        project.get("strategy", "default"),
        project.get("mixed_precision", False),
    )
    with _spec_errors_name_the_copy(source):
        made = pipeline.generate(
            resolve_spec(source),
            project.get("name") or target.resolve().name,
            class_name=project.get("class_name") or None,
            style=project.get("import_style", "tf"),
            training=training,
            pack=pack,
            variables=pack_variables,
        )
    files = pipeline.project_files(made)
    record, spec_text = pipeline.provenance(made, source, target)
    record["spec"] = spec_table  # as first given (the copy stands in for the file)
    if template is None and "origin" in recorded_pack:  # how the pack was first chosen
        record["template"]["origin"] = recorded_pack["origin"]
    elif template is not None:
        record["template"]["origin"] = "--template"
    # Values for variables this pack does not declare stay recorded for a later pack.
    record["variables"] = {**recorded, **pack_variables}
    ours = _recorded_files(data)
    _refuse_unresolved(target, ours)
    base = _base_files(target, ours)
    merges = []
    without_base: list[str] = []
    for rel in sorted(set(files) | set(base)):
        yours = _read(target / rel)
        before = base.get(rel)
        if before is None and isinstance(yours, str | bytes) and rel in ours:
            if sha256_of(yours) == ours[rel]:  # the base copy is lost, the file is as written
                before = yours
            else:
                without_base.append(rel)
        merges.append(merge_file(rel, before, yours, files.get(rel), rel in ours))
    # A file that is not scaffold's stays out of the record, so --force never takes it.
    kept_out = {m.relative for m in merges if m.outcome in (NOT_OURS, NOT_A_FILE)}
    generated = {rel: content for rel, content in files.items() if rel not in kept_out}
    state = {
        rel: content
        for rel, content in project_state(generated, record, spec_text).items()
        if rel not in files  # the project's own files are written only as merged
    }
    return UpdatePlan(target, tuple(merges), state, pack.name, tuple(without_base))


@contextlib.contextmanager
def _spec_errors_name_the_copy(source: SpecSource) -> Iterator[None]:
    """A spec error names the copy the user edits, not the preset it came from (the
    module's header keeps the original name, so an update changes nothing there)."""
    try:
        yield
    except SpecError as exc:
        label = source.label or ""
        if source.spec_path is not None and exc.where and exc.where.startswith(label + ":"):
            exc.where = str(source.spec_path) + exc.where[len(label) :]
        raise


def _recorded_files(data: dict[str, Any]) -> dict[str, str]:
    """Project file → the sha256 scaffold wrote (scaffold's own files left out)."""
    files = data.get("files", {})
    return {
        str(rel): str(digest)
        for rel, digest in (files.items() if isinstance(files, dict) else [])
        if not str(rel).startswith(STATE_DIR + "/") and rel != RECORD_NAME
    }


_MARKERS = ("<<<<<<< yours\n", ">>>>>>> scaffold\n")


def _refuse_unresolved(target: Path, ours: dict[str, str]) -> None:
    """An earlier update's conflict markers must be resolved before the next update
    (its base has moved on: the markers would pass for the user's own edit)."""
    left = []
    for rel in sorted(ours):
        text = _read(target / rel)
        if isinstance(text, str) and all(marker in text for marker in _MARKERS):
            left.append(rel)
    if left:
        raise ConflictError(
            f"{', '.join(left)} still {'has' if len(left) == 1 else 'have'} conflict markers "
            "from the last update (<<<<<<< yours / >>>>>>> scaffold); resolve them, then "
            "run update again",
            where=str(target),
        )


def stage_update(plan: UpdatePlan, staged: FileSet) -> None:
    """Stage every merged file and scaffold's new state (the caller commits)."""
    written: dict[str, str | bytes] = {
        m.relative: m.content for m in plan.changes if m.content is not None
    }
    written.update(plan.state)
    stage_files(plan.target, written, staged)


def _record(target: Path) -> dict[str, Any]:
    where = str(target)
    if not target.exists():
        raise InvalidOutputError("no such project directory", where=where)
    if not target.is_dir():
        raise InvalidOutputError("is not a directory; give the project's directory", where=where)
    record = read_record(target)
    if record.name == LEGACY_RECORD_NAME and record.exists:
        raise InvalidOutputError(
            f"made by an earlier keras-scaffold, whose {LEGACY_RECORD_NAME} does not say what "
            "made the project; commit your work, then run the same `scaffold new` with --force "
            "(it replaces the files scaffold generated, your edits to them included; --diff "
            "shows what changes; other files are kept); after that, update works",
            where=where,
        )
    if record.data is None:
        raise InvalidOutputError(
            f"not a project made by scaffold new (no valid {RECORD_NAME}); give the project "
            "directory",
            where=where,
        )
    if record.data.get("command") != "new":
        raise InvalidOutputError(
            "made by scaffold convert: run the same convert again (with -o DIR --force); "
            "update renders projects of scaffold new",
            where=where,
        )
    return record.data


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# What each recorded value may be: (table, key) → a check and what it expects.
_RECORD_VALUES: dict[tuple[str, str], tuple[Any, str]] = {
    ("project", "name"): (lambda v: isinstance(v, str) and v.strip() != "", "a name"),
    ("project", "class_name"): (lambda v: isinstance(v, str) and v.isidentifier(), "a class name"),
    ("project", "import_style"): (lambda v: v in ("tf", "keras"), "'tf' or 'keras'"),
    ("project", "loop"): (
        lambda v: v in ("fit", "train-step", "custom"),
        "fit, train-step or custom",
    ),
    ("project", "strategy"): (
        lambda v: v in ("default", "mirrored", "multiworker"),
        "default, mirrored or multiworker",
    ),
    ("project", "mixed_precision"): (lambda v: isinstance(v, bool), "true or false"),
    ("spec", "source"): (lambda v: v in ("file", "preset", "layers"), "file, preset or layers"),
    ("spec", "custom_objects"): (_strings, "a list of module names"),
    ("spec", "params"): (_strings, "a list of NAME=VALUE"),
    ("spec", "layers"): (lambda v: isinstance(v, str), "a chain of layers"),
    ("spec", "input_shape"): (lambda v: isinstance(v, str), "dimensions such as '28,28,1'"),
    ("spec", "dtype"): (lambda v: isinstance(v, str), "a dtype"),
    ("spec", "preset"): (lambda v: isinstance(v, str), "a preset name"),
    ("spec", "path"): (lambda v: isinstance(v, str), "a path"),
    ("template", "reference"): (lambda v: isinstance(v, str) and v != "", "a pack"),
}


def _check_record(
    project: dict[str, Any], spec: dict[str, Any], template: dict[str, Any], where: Path
) -> None:
    """Every recorded value update reads, checked: an edited record is a one-line error."""
    tables = {"project": project, "spec": spec, "template": template}
    for (table, key), (valid, expected) in _RECORD_VALUES.items():
        if key in tables[table] and not valid(tables[table][key]):
            raise InvalidOutputError(
                f"[{table}] {key} = {tables[table][key]!r} is not valid: expected {expected}",
                where=str(where),
            )
    if project.get("strategy") == "multiworker" and project.get("loop") != "custom":
        raise InvalidOutputError(
            "[project] strategy 'multiworker' needs loop 'custom'", where=str(where)
        )


def _table(data: dict[str, Any], key: str, target: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InvalidOutputError(f"[{key}] must be a table", where=str(target / RECORD_NAME))
    return value


def _spec_source(target: Path, spec: dict[str, Any], presets: tuple[Any, ...]) -> SpecSource:
    custom = tuple(str(m) for m in spec.get("custom_objects", []))
    if spec.get("source") == "layers":
        return SpecSource(
            layers=str(spec.get("layers", "")),
            input_shape=str(spec.get("input_shape", "")) or None,
            params=tuple(str(p) for p in spec.get("params", [])),
            dtype=str(spec.get("dtype", "float32")),
            custom_objects=custom,
            presets=presets,
        )
    copy = target / SPEC_COPY
    if not copy.is_file():
        raise InvalidOutputError(
            f"{SPEC_COPY} is missing: it is the spec update renders", where=str(target)
        )
    if spec.get("source") == "preset":
        label = f"preset {spec.get('preset')}"
    else:
        label = Path(str(spec.get("path", SPEC_COPY))).name
    return SpecSource(spec_path=copy, custom_objects=custom, presets=presets, label=label)


def _base_files(target: Path, ours: dict[str, str]) -> dict[str, str | bytes]:
    """The merge base of each file the record lists (a base copy of a file scaffold no
    longer writes, left from an earlier version, is not a base)."""
    base = target / BASE_DIR
    found: dict[str, str | bytes] = {}
    if not base.is_dir() or base.is_symlink():
        return found
    for rel in sorted(ours):
        content = _read(base / rel)
        if isinstance(content, str | bytes):
            found[rel] = content
    return found


def _read(path: Path) -> str | bytes | NotRegular | None:
    """A file's text (bytes when it is not UTF-8); None when nothing is there, and
    ``NOT_REGULAR`` for a link, a directory or any other kind of file (never written
    through, whatever it points to).

    Raises:
        OutputError: the file cannot be read.
    """
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_file():
        return NOT_REGULAR
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OutputError(
            f"cannot read it: {exc.strerror or one_line(exc)}", where=str(path)
        ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data
