"""Formats generated source with Black, in one fixed mode so output bytes are stable."""

from __future__ import annotations

from generator.errors import ScaffoldError

LINE_LENGTH = 88


def format_source(source: str) -> str:
    """Return ``source`` formatted by Black (imported lazily: it costs ~0.1 s)."""
    import black

    mode = black.Mode(
        target_versions={black.TargetVersion.PY310},
        line_length=LINE_LENGTH,
    )
    try:
        return black.format_str(source, mode=mode)
    except black.parsing.InvalidInput as exc:  # a generator bug, never a user mistake
        raise ScaffoldError(f"generated code does not parse: {exc}") from exc
