"""Where the spec of ``scaffold new`` comes from: a YAML file, a preset or ``--layers``.

Exactly one of them per run; presets are YAML specs shipped in ``presets/``, or in the
template pack in use (which wins for a name both have).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
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
    presets: tuple[Preset, ...] = ()  # the template pack's, beside the shipped ones
    label: str | None = None  # the spec's name in messages and headers (default: the file's)


@dataclass(frozen=True)
class Preset:
    """A spec file that ``--preset NAME`` finds, and where it comes from."""

    name: str
    path: Path
    origin: str  # "built-in", or the template pack that ships it


def available_presets(extra: Sequence[Preset] = ()) -> dict[str, Preset]:
    """Every preset by name; one of ``extra`` replaces a shipped one of the same name."""
    found = {p.stem: Preset(p.stem, p, "built-in") for p in sorted(PRESETS_DIR.glob("*.yaml"))}
    found.update({preset.name: preset for preset in extra})
    return dict(sorted(found.items()))


def preset_names(extra: Sequence[Preset] = ()) -> list[str]:
    return list(available_presets(extra))


def preset_summary(name: str, extra: Sequence[Preset] = ()) -> str:
    return load_preset(name, extra).doc


def load_preset(name: str, extra: Sequence[Preset] = ()) -> ModelSpec:
    """A preset's spec. A template pack's preset may not import modules: a pack is
    rendered in a sandbox, and its presets must not run code either.

    Raises:
        SpecError: no such preset, or a pack's preset lists ``imports:``.
    """
    spec = load_spec(preset_text(name, extra), f"preset {name}")
    preset = available_presets(extra)[name]
    if spec.imports and preset.origin != "built-in":
        raise SpecError(
            f"a preset of a {preset.origin} may not import modules (imports: "
            f"{', '.join(spec.imports)}); they would run code outside the template sandbox. "
            "Give them with --custom-objects",
            where=str(preset.path),
        )
    return spec


def preset_text(name: str, extra: Sequence[Preset] = ()) -> str:
    presets = available_presets(extra)
    if name not in presets:
        raise SpecError(f"unknown preset {name!r}{suggest(name, presets)}", where="--preset")
    path = presets[name].path
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read it: {one_line(exc)}", where=str(path)) from exc


def read_spec_file(path: Path, label: str | None = None) -> ModelSpec:
    return load_spec(read_spec_text(path), label or path.name)


def read_spec_text(path: Path) -> str:
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
    return text


def spec_text(source: SpecSource) -> str | None:
    """The YAML text of a spec given as a file or a preset (None for ``--layers``): what a
    project keeps so that ``scaffold update`` can render it again."""
    if source.spec_path is not None:
        return read_spec_text(source.spec_path)
    if source.preset is not None:
        return preset_text(source.preset, source.presets)
    return None


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
        return load_preset(source.preset, source.presets)
    assert source.spec_path is not None
    return read_spec_file(source.spec_path, source.label)
