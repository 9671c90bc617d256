"""The ``scaffold new`` pipeline: spec → IR → Jinja → Black, without TensorFlow.

Specs come from a YAML file, a shipped preset or the one-line ``--layers`` chain; all
three go through ``spec_ir.spec_to_ir`` into the IR that ``scaffold convert`` uses and are
rendered by the same templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import SpecError
from generator.ir import ModuleIR
from generator.render import RenderOptions, render_formatted
from generator.spec import ModelSpec, chain_spec, load_spec
from generator.spec_ir import spec_to_ir

PRESETS_DIR = Path(__file__).with_name("presets")


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_summary(name: str) -> str:
    spec = load_preset(name)
    return spec.doc


def load_preset(name: str) -> ModelSpec:
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        from generator.spec import suggest

        raise SpecError(f"unknown preset {name!r}{suggest(name, preset_names())}", where="--preset")
    return load_spec(path.read_text(encoding="utf-8"), f"preset {name}")


def read_spec_file(path: Path) -> ModelSpec:
    if not path.is_file():
        raise SpecError("no such spec file", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the spec: {exc}", where=str(path)) from exc
    return load_spec(text, path.name)


@dataclass(frozen=True)
class NewOptions:
    spec_path: Path | None = None
    preset: str | None = None
    layers: str | None = None
    input_shape: str | None = None
    params: tuple[str, ...] = ()
    dtype: str = "float32"


def resolve_spec(options: NewOptions) -> ModelSpec:
    """Exactly one spec source: --spec, --preset, or --layers with --input-shape."""
    given = [
        flag
        for flag, value in (
            ("--spec", options.spec_path),
            ("--preset", options.preset),
            ("--layers", options.layers),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise SpecError(
            "give exactly one of --spec FILE, --preset NAME or --layers CHAIN"
            + (f" (got {', '.join(given)})" if given else ""),
            where="scaffold new",
        )
    if options.layers is not None:
        return chain_spec(options.layers, options.input_shape, options.params, options.dtype)
    if options.input_shape is not None or options.params:
        raise SpecError("--input-shape and --param go with --layers", where="scaffold new")
    if options.preset is not None:
        return load_preset(options.preset)
    assert options.spec_path is not None
    return read_spec_file(options.spec_path)


def class_name_for(name: str) -> str:
    """``MyModel`` stays; ``my_model``/``my-model`` → ``MyModel``."""
    from generator.naming import to_pascal

    pascal = to_pascal(name)
    if not pascal or not pascal.isidentifier():
        raise SpecError(f"cannot make a class name from {name!r}; pass --class-name", where="NAME")
    return pascal


def build_module(spec: ModelSpec, class_name: str, package: str) -> ModuleIR:
    return spec_to_ir(spec, class_name, package)


def module_source(module: ModuleIR, import_style: str = "tf") -> str:
    return render_formatted(module, RenderOptions(import_style=import_style))
