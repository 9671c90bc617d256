"""One exception hierarchy for the whole pipeline.

Library code raises these; only ``cli.py`` turns them into messages and exit codes,
so every stage stays a pure function that tests can call directly.
"""

from __future__ import annotations


class ScaffoldError(Exception):
    """Base class: a problem the user can fix, reported as one line without traceback."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class LoadError(ScaffoldError):
    """The model could not be found, read, imported or deserialized."""


class MissingDependencyError(ScaffoldError):
    """An optional dependency (TensorFlow) is not installed."""


class EnvironmentMismatchError(ScaffoldError):
    """Keras runs on the wrong major version or backend for conversion."""


class UnsupportedModelError(ScaffoldError):
    """The model holds something the converter cannot turn into code (safely)."""


class OutputError(ScaffoldError):
    """The output cannot be written, or ``--check`` found it out of date."""


class InvalidOutputError(ScaffoldError):
    """An output the options make impossible (an input, named twice, a wrong suffix); exit 2."""

    exit_code = 2


class SpecError(ScaffoldError):
    """A bad architecture spec or bad usage; exit code 2 like click's usage errors."""

    exit_code = 2


class PackError(ScaffoldError):
    """A template pack, its variables or the settings that choose it are invalid, or one
    of its templates fails (sandbox refusals included); exit code 2 like a bad spec."""

    exit_code = 2


class ConfigError(ScaffoldError):
    """Invalid settings in ``[tool.scaffold]`` or an unknown ``--profile``; exit code 2."""

    exit_code = 2


class ConflictError(ScaffoldError):
    """``scaffold update`` left conflict markers to resolve (the files are written), or
    finds markers an earlier update left; exit code 4."""

    exit_code = 4


class VerificationMismatch(ScaffoldError):
    """The generated model does not compute what the original computes."""

    exit_code = 3


class VerificationError(ScaffoldError):
    """The generated model cannot even be imported, instantiated, built or run (exit 1)."""


class OriginalModelFails(VerificationError):
    """The original model itself fails on the inputs verification runs it on (exit 1):
    the generated code is not at fault."""


def one_line(exc: BaseException | str, limit: int = 300) -> str:
    """A foreign exception's message (or any text) on one line, at most ``limit``
    characters: cut in the middle, for the end says what went wrong as often as the
    start (a long path, then ``does not exist``)."""
    text = " ".join(str(exc).split())
    if not text and isinstance(exc, BaseException):
        text = type(exc).__name__
    if len(text) <= limit:
        return text
    head = (limit - 5) // 2
    return f"{text[:head]} ... {text[len(text) - (limit - 5 - head) :]}"


def reported(exc: ScaffoldError, limit: int = 2000) -> str:
    """``where: message`` on one line for the terminal: a long ``where`` (a path of
    thousands of characters) is shortened first, so the message stays whole."""
    if not exc.where:
        return one_line(exc.message, limit)
    where = one_line(exc.where, min(400, limit // 4))
    return f"{where}: {one_line(exc.message, limit - len(where) - 2)}"
