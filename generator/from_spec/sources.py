"""Where the spec of ``scaffold new`` comes from: a YAML file, a preset or ``--layers``.

Exactly one of them per run; presets are YAML specs shipped in ``presets/``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from generator.errors import SpecError, one_line
from generator.from_spec.one_line import chain_spec
from generator.from_spec.spec import ModelSpec, suggest
from generator.from_spec.yaml_reader import MAX_SPEC_CHARS, load_spec

PRESETS_DIR = Path(__file__).with_name("presets")


@dataclass(frozen=True)
class SpecSource:
    """The spec options of ``scaffold new`` as given on the command line."""

    spec_path: Path | None = None
    preset: str | None = None
    layers: str | None = None
    input_shape: str | None = None
    params: tuple[str, ...] = ()
    dtype: str = "float32"
    custom_objects: tuple[str, ...] = ()  # modules with the user's own layers


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def preset_summary(name: str) -> str:
    return load_preset(name).doc


def load_preset(name: str) -> ModelSpec:
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise SpecError(f"unknown preset {name!r}{suggest(name, preset_names())}", where="--preset")
    return load_spec(path.read_text(encoding="utf-8"), f"preset {name}")


def read_spec_file(path: Path) -> ModelSpec:
    if not path.is_file():
        raise SpecError("no such spec file", where=str(path))
    try:
        with path.open("rb") as handle:  # never more than the reader accepts, plus one
            raw = handle.read(4 * MAX_SPEC_CHARS + 1)
        if len(raw) > 4 * MAX_SPEC_CHARS:
            raise SpecError(
                f"the spec has more than {MAX_SPEC_CHARS:,} characters (the limit)",
                where=str(path),
            )
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the spec: {one_line(exc)}", where=str(path)) from exc
    return load_spec(text, path.name)


def resolve_spec(source: SpecSource) -> ModelSpec:
    """Exactly one spec source, with the ``--custom-objects`` modules added to its imports."""
    spec = _one_spec(source)
    if not source.custom_objects:
        return spec
    return dataclasses.replace(spec, imports=(*spec.imports, *source.custom_objects))


def _one_spec(source: SpecSource) -> ModelSpec:
    """Exactly one spec source: --spec, --preset, or --layers with --input-shape."""
    given = [
        flag
        for flag, value in (
            ("--spec", source.spec_path),
            ("--preset", source.preset),
            ("--layers", source.layers),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise SpecError(
            "give exactly one of --spec FILE, --preset NAME or --layers CHAIN"
            + (f" (got {', '.join(given)})" if given else ""),
            where="scaffold new",
        )
    if source.layers is not None:
        return chain_spec(source.layers, source.input_shape, source.params, source.dtype)
    if source.input_shape is not None or source.params:
        raise SpecError("--input-shape and --param go with --layers", where="scaffold new")
    if source.preset is not None:
        return load_preset(source.preset)
    assert source.spec_path is not None
    return read_spec_file(source.spec_path)
