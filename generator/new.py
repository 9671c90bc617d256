"""The ``scaffold new`` pipeline: spec → IR → Jinja → Black, without TensorFlow.

Specs come from a YAML file, a shipped preset or the one-line ``--layers`` chain
(``from_spec.sources``); all three are checked and lowered (``from_spec.lower``) into
the IR that ``scaffold convert`` uses and are rendered by the same templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.core.ir import ModuleIR
from generator.core.naming import to_pascal, to_snake
from generator.errors import SpecError
from generator.from_spec.lower import spec_to_ir
from generator.from_spec.sources import (
    SpecSource,
    preset_names,
    preset_summary,
    resolve_spec,
)
from generator.from_spec.spec import ModelSpec
from generator.output.project import DEFAULT_TRAINING, LOOPS, STRATEGIES, TrainingOptions
from generator.output.render import RenderOptions, render_formatted

__all__ = [
    "LOOPS",
    "STRATEGIES",
    "NewModule",
    "TrainingOptions",
    "SpecSource",
    "generate",
    "project_files",
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


def generate(
    spec: ModelSpec,
    name: str,
    *,
    output: Path | None = None,
    class_name: str | None = None,
    style: str = "tf",
    training: TrainingOptions = DEFAULT_TRAINING,
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
    train_step = training.loop == "train-step"
    source = module_source(module, style, train_step=train_step)
    return NewModule(spec, module, source, project_name, style, training)


def project_files(made: NewModule) -> dict[str, str]:
    """Relative path → content of the project directory around the model module."""
    from generator.output.project import render_project

    return render_project(
        made.module, made.source, made.project_name, made.import_style, made.training
    )


def build_module(spec: ModelSpec, class_name: str, package: str) -> ModuleIR:
    return spec_to_ir(spec, class_name, package)


def module_source(module: ModuleIR, import_style: str = "tf", *, train_step: bool = False) -> str:
    return render_formatted(module, RenderOptions(import_style=import_style, train_step=train_step))
