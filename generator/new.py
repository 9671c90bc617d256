"""The ``scaffold new`` pipeline: spec → IR → Jinja → Black, without TensorFlow.

Specs come from a YAML file, a shipped preset or the one-line ``--layers`` chain
(``from_spec.sources``); all three are checked and lowered (``from_spec.lower``) into
the IR that ``scaffold convert`` uses and are rendered by the same templates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.core.ir import ModuleIR
from generator.core.naming import to_pascal, to_snake
from generator.errors import SpecError
from generator.from_spec.lower import spec_to_ir
from generator.from_spec.sources import (
    SpecSource,
    available_presets,
    preset_names,
    preset_summary,
    resolve_spec,
    spec_text,
)
from generator.from_spec.spec import ModelSpec
from generator.from_spec.trainable import trains_something
from generator.output.project import DEFAULT_TRAINING, LOOPS, STRATEGIES, TrainingOptions
from generator.output.project_write import SPEC_COPY
from generator.output.render import RenderOptions, render_formatted
from generator.packs.pack import Pack, builtin_pack

__all__ = [
    "LOOPS",
    "available_presets",
    "STRATEGIES",
    "NewModule",
    "TrainingOptions",
    "SpecSource",
    "generate",
    "project_files",
    "provenance",
    "build_module",
    "class_name_for",
    "module_source",
    "preset_names",
    "preset_summary",
    "resolve_spec",
]


def class_name_for(name: str) -> str:
    """``MyModel`` stays; ``my_model``/``my-model`` → ``MyModel``."""
    pascal = to_pascal(name)
    if not pascal or not pascal.isidentifier():
        raise SpecError(f"cannot make a class name from {name!r}; pass --class-name", where="NAME")
    return pascal


@dataclass(frozen=True)
class NewModule:
    """What ``scaffold new NAME`` generates before anything is written."""

    spec: ModelSpec
    module: ModuleIR
    source: str
    project_name: str  # NAME without its directories
    import_style: str
    training: TrainingOptions = DEFAULT_TRAINING
    render: RenderOptions = RenderOptions()


def generate(
    spec: ModelSpec,
    name: str,
    *,
    output: Path | None = None,
    class_name: str | None = None,
    style: str = "tf",
    training: TrainingOptions = DEFAULT_TRAINING,
    pack: Pack | None = None,
    variables: Mapping[str, Any] | None = None,
) -> NewModule:
    """The model module for ``spec``; NAME may be a path to the project directory."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise SpecError(
            f"{name!r} is not valid UTF-8 text; choose another NAME", where="NAME"
        ) from None
    project_name = Path(name).name
    if project_name in ("", ".", ".."):  # ``scaffold new .``: the directory's own name
        project_name = Path(name).resolve().name
    cls = class_name or class_name_for(project_name)
    package = to_snake(output.stem if output is not None else project_name) or "model"
    module = build_module(spec, cls, package)
    render = RenderOptions(
        import_style=style,
        pack=pack or builtin_pack(),
        variables=dict(variables or {}),
        train_step=training.loop == "train-step",
    )
    source = render_formatted(module, render)
    return NewModule(spec, module, source, project_name, style, training, render)


def project_files(made: NewModule) -> dict[str, str | bytes]:
    """Relative path → content of the project directory around the model module."""
    from generator.output.project import render_project

    if not trains_something(made.module):
        raise SpecError(
            "no layer of the model holds a weight, so the project's train.py and tests "
            "would train nothing; add a layer with weights (Dense, Conv2D, ...) or write "
            "the module alone with -o FILE.py",
            where=made.spec.source,
        )
    return render_project(
        made.module,
        made.source,
        made.project_name,
        made.import_style,
        made.training,
        made.render,
        updatable=True,
    )


def build_module(spec: ModelSpec, class_name: str, package: str) -> ModuleIR:
    return spec_to_ir(spec, class_name, package)


def module_source(module: ModuleIR, import_style: str = "tf", *, train_step: bool = False) -> str:
    return render_formatted(module, RenderOptions(import_style=import_style, train_step=train_step))


def provenance(
    made: NewModule, source: SpecSource, target: Path
) -> tuple[dict[str, Any], str | None]:
    """What made the project in ``target``, for its ``.scaffold.toml`` (tables), and the
    spec's text (kept as ``.scaffold/spec.yaml``; None for ``--layers``, which the record
    holds). A pack in a directory is recorded relative to the project, so the project
    and its pack can move together (a team keeps both in one repository)."""
    text = spec_text(source)
    if source.layers is not None:
        spec: dict[str, Any] = {
            "source": "layers",
            "layers": source.layers,
            "input_shape": source.input_shape or "",
            "params": list(source.params),
            "dtype": source.dtype,
        }
    elif source.preset is not None:
        spec = {"source": "preset", "preset": source.preset, "copy": SPEC_COPY}
    else:
        spec = {"source": "file", "path": str(source.spec_path), "copy": SPEC_COPY}
    spec["custom_objects"] = list(source.custom_objects)
    pack = made.render.pack
    record = {
        "command": "new",
        "project": {
            "name": made.project_name,
            "class_name": made.module.main.class_name,
            "import_style": made.import_style,
            "loop": made.training.loop,
            "strategy": made.training.strategy,
            "mixed_precision": made.training.mixed_precision,
        },
        "spec": spec,
        "template": {
            "name": pack.name,
            "version": pack.version,
            "reference": pack_reference(pack, target),
            "origin": recorded_origin(pack.origin),
        },
        "variables": dict(made.render.variables),
    }
    return record, text


def recorded_origin(origin: str) -> str:
    """Where the pack was chosen, without the machine's paths (``[tool.scaffold]``), so
    the record is the same in every checkout."""
    return origin[origin.index(" [") + 1 :] if " [" in origin else origin


def pack_reference(pack: Pack, target: Path) -> str:
    """What names ``pack`` again from the project in ``target``."""
    if pack.root is None or pack.installed:
        return pack.reference
    # Paths as given, links not resolved: a repository that links its pack stays portable.
    return Path(
        os.path.relpath(os.path.abspath(pack.reference), os.path.abspath(target))
    ).as_posix()
