"""Renders and writes the small project of ``scaffold new NAME``.

The project holds the model module, a training script on synthetic data with a clear
place for real data, tests that build, run, train one step and round-trip the model, and a
README with a Mermaid diagram of the architecture, and a record of what scaffold wrote
(``.scaffold.json``) so that ``--force`` replaces only those files and keeps the user's.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import __version__
from generator.core.ir import Assign, Call, ForEach, ModelIR, ModuleIR, Name, SelfAttr, iter_values
from generator.core.naming import to_snake
from generator.errors import OutputError
from generator.from_spec.spec import ModelSpec
from generator.output.formatting import format_source
from generator.output.render import builtin_templates_dir, environment
from generator.output.source import SourceWriter, string_literal
from generator.output.writing import FileSet, destination, read_existing

# Layers whose output differs between training and inference.
_TRAINING_DEPENDENT = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "BatchNormalization",
}


def render_project(
    module: ModuleIR, spec: ModelSpec, model_source: str, name: str, import_style: str
) -> dict[str, str]:
    """Relative path → file content for the whole project."""
    package = to_snake(name) or "model"
    main = module.main
    context: dict[str, Any] = {
        "project": name,
        "package": package,
        "class_name": main.class_name,
        "summary": main.summary,
        "tool_version": __version__,
        "catalog_keras_version": _catalog_version(),
        "import_style": import_style,
        "inputs": [_input_context(spec, main, i) for i in main.inputs],
        "single_input": main.input_structure == "single",
        "training_dependent": _training_dependent(module),
        "mermaid": mermaid_diagram(main),
        "params": [(p.name, repr(_plain(p.default))) for p in main.params],
    }
    env = environment((builtin_templates_dir(),))
    files = {
        "pyproject.toml": env.get_template("project/pyproject.toml.jinja").render(context),
        "README.md": env.get_template("project/README.md.jinja").render(context),
        f"src/{package}/__init__.py": format_source(
            env.get_template("project/package_init.py.jinja").render(context), black_style=True
        ),
        f"src/{package}/model.py": model_source,
        "train.py": format_source(
            env.get_template("project/train.py.jinja").render(context), black_style=True
        ),
        "tests/test_model.py": format_source(
            env.get_template("project/test_model.py.jinja").render(context), black_style=True
        ),
        ".gitignore": "__pycache__/\n*.keras\n*.weights.h5\n.venv/\n",
    }
    return files


RECORD_NAME = ".scaffold.json"


def project_record(files: dict[str, str]) -> str:
    """The record a generated project keeps of the files scaffold wrote, by content hash.

    ``--force`` replaces only these; ``--check`` and ``--diff`` compare them; a hash that no
    longer matches the file on disk means the user edited it.
    """
    data = {
        "generator": "keras-scaffold",
        "version": __version__,
        "files": {relative: _sha256(content) for relative, content in sorted(files.items())},
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def read_record(directory: Path) -> dict[str, str] | None:
    """relative path → sha256 of what scaffold wrote; ``None`` if this is not our project."""
    text = read_existing(directory / RECORD_NAME)
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("generator") != "keras-scaffold":
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        return None
    return {str(k): str(v) for k, v in files.items()}


@dataclass(frozen=True)
class ProjectWrite:
    """What staging a project will do once its files are committed."""

    target: Path
    created: bool  # a new directory
    added: tuple[str, ...]  # files that did not exist
    replaced: tuple[str, ...]  # files that existed
    edited: tuple[str, ...]  # of those: not as scaffold last wrote them


def stage_project(
    target: Path,
    files: dict[str, str],
    staged: FileSet,
    *,
    force: bool,
    merge: bool,
    inputs: tuple[Path, ...] = (),
) -> ProjectWrite:
    """Stage the project's files (and its record) under ``target``.

    A new directory is staged whole and renamed into place. In an existing directory only
    the project's own files are written; everything else stays as it is. Writing into a
    non-empty directory that scaffold did not make needs ``merge``; replacing any file needs
    ``force``.

    Raises:
        OutputError: the rules above forbid it (nothing has been written).
    """
    everything = {**files, RECORD_NAME: project_record(files)}
    where = str(target)
    if not target.exists():
        dest = destination(target, force=False, inputs=inputs, option="NAME")
        staged.stage_directory(dest, everything)
        return ProjectWrite(target, True, tuple(sorted(everything)), (), ())
    if not target.is_dir():
        raise OutputError("exists and is not a directory", where=where)
    record = read_record(target)
    if record is None and not merge and any(target.iterdir()):
        raise OutputError(
            "already exists and was not made by scaffold new (it has no .scaffold.json); pass "
            "--merge to add the project's files to it (your files are kept; --force also "
            "replaces files with the same names)",
            where=where,
        )
    present = sorted(rel for rel in everything if os.path.lexists(target / rel))
    if record is not None and not force:
        raise OutputError(
            f"already exists; pass --force to replace the {len(record)} files scaffold "
            "generated there (your other files are kept)",
            where=where,
        )
    theirs = [rel for rel in present if rel != RECORD_NAME or record is None]
    if theirs and not force:
        raise OutputError(
            f"already has {', '.join(theirs)}; pass --force to replace "
            + ("it" if len(theirs) == 1 else "them"),
            where=where,
        )
    for relative, content in sorted(everything.items()):
        path = target / relative
        _require_directories(target, path.parent)
        staged.make_directories(path.parent)
        dest = destination(path, force=True, inputs=inputs, option="NAME")
        staged.write_text(dest, content)
    edited = tuple(
        rel
        for rel in present
        if rel != RECORD_NAME and (record or {}).get(rel) != _file_sha256(target / rel)
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


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    except OSError:
        return ""


def mermaid_diagram(model: ModelIR) -> str:
    """A Mermaid flowchart of the model's layers, read from the IR's ``call`` steps."""
    lines = ["flowchart TD"]
    producer: dict[str, str] = {}
    labels = {layer.attr: (layer.name, layer.class_label, layer.repeat) for layer in model.layers}
    for index, spec in enumerate(model.inputs):
        node = f"in{index}"
        lines.append(f'    {node}[/"{_mermaid_text(spec.key)}: {_shape(spec.shape)}"/]')
        producer[spec.var] = node
    counter = 0
    for step in model.steps:
        if isinstance(step, ForEach):
            name, label, repeat = labels[step.attr]
            node = f"n{counter}"
            counter += 1
            count = repeat.id if isinstance(repeat, Name) else repeat
            lines.append(f'    {node}["{_mermaid_text(name)}: {label} x {count}"]')
            for inner in step.body:
                for target in inner.targets:
                    source = producer.get(target)
                    if source:
                        lines.append(f"    {source} --> {node}")
                    producer[target] = node
            continue
        assert isinstance(step, Assign)
        call = step.value
        if isinstance(call, Call) and isinstance(call.func, SelfAttr):
            name, label, _ = labels[call.func.attr]
            node = f"n{counter}"
            counter += 1
            lines.append(f'    {node}["{_mermaid_text(name)}: {label}"]')
            sources = {
                producer[v.id]
                for v in iter_values((call.args, tuple(v for _, v in call.kwargs)))
                if isinstance(v, Name) and v.id in producer
            }
            for source in sorted(sources):
                lines.append(f"    {source} --> {node}")
            for target in step.targets:
                producer[target] = node
        elif isinstance(call, Name) and call.id in producer:
            for target in step.targets:
                producer[target] = producer[call.id]
    outputs = [v.id for v in iter_values(model.outputs) if isinstance(v, Name)]
    for index, var in enumerate(outputs):
        if var in producer:
            lines.append(f'    out{index}[/"output {index}"/]')
            lines.append(f"    {producer[var]} --> out{index}")
    return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    cleaned = " ".join(str(text).split())
    return cleaned.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _shape(shape: tuple[int | None, ...]) -> str:
    return "(batch, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _training_dependent(module: ModuleIR) -> bool:
    for model in module.models:
        for layer in model.layers:
            if layer.class_label in _TRAINING_DEPENDENT:
                return True
            for key, value in layer.constructor.kwargs:
                if (
                    key in ("dropout", "recurrent_dropout")
                    and isinstance(value, (int, float))
                    and value > 0
                ):
                    return True
            for value in iter_values(layer.constructor):
                if isinstance(value, Call) and any(
                    k in ("dropout", "recurrent_dropout") and isinstance(v, (int, float)) and v > 0
                    for k, v in value.kwargs
                ):
                    return True
    return False


def _input_context(spec: ModelSpec, main: ModelIR, input_spec: Any) -> dict[str, Any]:
    return {
        "key": string_literal(input_spec.key),
        "shape": SourceWriter().write(tuple(7 if d is None else d for d in input_spec.shape)),
        "dtype": string_literal(input_spec.dtype),
        "is_int": "int" in input_spec.dtype,
        "int_high": _index_bound(main, input_spec.var),
    }


def _index_bound(main: ModelIR, var: str) -> int:
    """Exclusive bound for integer inputs: the smallest Embedding ``input_dim`` they feed."""
    attrs = {layer.attr: layer for layer in main.layers}
    params = {p.name: p.default for p in main.params}
    bounds = []
    for step in main.steps:
        if not isinstance(step, Assign) or not isinstance(step.value, Call):
            continue
        call = step.value
        if not isinstance(call.func, SelfAttr) or Name(var) not in call.args:
            continue
        layer = attrs[call.func.attr]
        if layer.class_label in ("Embedding", "CategoryEncoding") and layer.constructor.args:
            first = layer.constructor.args[0]
            value = params.get(first.id) if isinstance(first, Name) else first
            if isinstance(value, int):
                bounds.append(value)
    return min(bounds) if bounds else 2


def _plain(value: Any) -> Any:
    from generator.core.ir import DictValue, ListValue

    if isinstance(value, ListValue):
        return [_plain(v) for v in value.items]
    if isinstance(value, DictValue):
        return {k: _plain(v) for k, v in value.items}
    return value


def _catalog_version() -> str:
    from generator.from_spec.catalog import load_catalog

    return str(load_catalog()["keras_version"])
