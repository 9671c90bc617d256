"""The Jinja environment that renders a pack's templates, and its errors as one line.

A pack's templates run in Jinja's ``SandboxedEnvironment`` with ``StrictUndefined``: an
unsafe attribute (``__class__``, ``__globals__``), a name the context does not define
(``os``) or a template outside the pack fails with the template's name and line, instead
of rendering as empty text. Templates resolve the pack's own files first, then the
built-in ones; ``builtin/NAME`` always names the built-in template, so a pack can
``{% extends "builtin/model.py.jinja" %}`` and override only some blocks.
"""

from __future__ import annotations

import functools
import os
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from generator.errors import PackError, one_line
from generator.packs.pack import BUILTIN, Pack, builtin_templates_dir, inside_of

_OPTIONS: dict[str, Any] = {
    "undefined": jinja2.StrictUndefined,
    "autoescape": False,
    "keep_trailing_newline": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
}


class _ContainedLoader(jinja2.FileSystemLoader):
    """A file system loader that refuses a template whose real path is outside its root
    (a link planted after the pack was checked)."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root), followlinks=False)
        self.root = Path(os.path.realpath(root))

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        inside_of(self.root, Path(filename))
        return source, filename, uptodate


MAX_SIZE = 10_000_000  # items a template may build with * (strings, lists)


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` bounded: ``{{ "x" * 10**10 }}`` is refused
    instead of exhausting memory (``range`` is bounded by the sandbox already)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise jinja2.exceptions.SecurityError("an exponent above 1000 is refused")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int):
                    if len(seq) * count > MAX_SIZE:
                        raise jinja2.exceptions.SecurityError(
                            f"a result of more than {MAX_SIZE:,} items is refused"
                        )
        return super().call_binop(context, operator, left, right)


def builtin_environment() -> jinja2.Environment:
    """The built-in templates alone (trusted: shipped with the tool)."""
    return _builtin((builtin_templates_dir(),))


@functools.lru_cache(maxsize=4)
def _builtin(dirs: tuple[Path, ...]) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader([str(d) for d in dirs]),
            jinja2.PrefixLoader({BUILTIN: jinja2.FileSystemLoader([str(d) for d in dirs])}),
        ]
    )
    return jinja2.Environment(loader=loader, **_OPTIONS)


def pack_environment(pack: Pack) -> jinja2.Environment:
    """The environment for ``pack``: sandboxed, its files first, then the built-in ones."""
    if pack.root is None:
        return builtin_environment()
    return _sandboxed(pack.root, builtin_templates_dir())


@functools.lru_cache(maxsize=8)
def _sandboxed(root: Path, builtin: Path) -> jinja2.Environment:
    builtin_loader = jinja2.FileSystemLoader(str(builtin))
    # ``builtin/NAME`` first: a pack's own ``builtin/`` folder can never shadow it.
    loader = jinja2.ChoiceLoader(
        [jinja2.PrefixLoader({BUILTIN: builtin_loader}), _ContainedLoader(root), builtin_loader]
    )
    return _BoundedSandbox(loader=loader, **_OPTIONS)


def render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render template ``name``; a failure is a ``PackError`` naming the template and line.

    Raises:
        PackError: the template (or one it uses) is missing, invalid, or failed.
    """
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{_shown(exc.filename or exc.name or name)}:{exc.lineno}"
        raise PackError(
            f"template syntax error: {one_line(exc.message or exc)}", where=where
        ) from None
    except UnicodeDecodeError as exc:
        raise PackError(f"a template that is not UTF-8: {one_line(exc)}", where=name) from None
    except jinja2.TemplateNotFound as exc:
        raise PackError(
            f"no template {exc.name!r} (a pack may use its own files and the built-in ones)",
            where=_where(exc, name),
        ) from None
    except jinja2.TemplateError as exc:
        kind = (
            "refused by the sandbox"
            if isinstance(exc, jinja2.exceptions.SecurityError)
            else "failed"
        )
        raise PackError(f"template {kind}: {one_line(exc)}", where=_where(exc, name)) from None
    except PackError:
        raise
    except Exception as exc:  # a filter or test raised: still the template's fault
        raise PackError(
            f"template failed: {type(exc).__name__}: {one_line(exc)}", where=_where(exc, name)
        ) from None


def render_string(
    env: jinja2.Environment, text: str, context: Mapping[str, Any], where: str
) -> str:
    """Render a short template given as text (a file name with ``{{ package }}`` in it)."""
    try:
        return env.from_string(text).render(context)
    except Exception as exc:  # a template error, or an exception a filter raised
        raise PackError(f"cannot render the path: {one_line(exc)}", where=where) from None


def _where(exc: BaseException, name: str) -> str:
    """The innermost template frame of the traceback: ``file:line``."""
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(".jinja") or frame.filename == "<template>":
            found = frame
    if found is None:
        return name
    return f"{_shown(found.filename)}:{found.lineno}"


def _shown(filename: str) -> str:
    """A template's path as the user knows it (built-in ones by their name)."""
    builtin = str(builtin_templates_dir())
    if filename.startswith(builtin + os.sep):
        return f"{BUILTIN}/{filename[len(builtin) + 1 :]}"
    return filename
