"""Formats generated source exactly as Black does, in one fixed mode so output bytes are stable.

Black costs about half a millisecond per line, most of a conversion. Source made only by
our writer and the built-in templates is already in Black's style except for statements
too long for one line, so for it (``black_style=True``) only those statements go through
Black, all in one call, and everything else is kept as it is. Setting
``SCAFFOLD_FORMAT_CHECK=1`` (the test suite does) also formats the whole text with Black
and fails on any difference.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
from dataclasses import dataclass

from generator.core.collector import collector_paused
from generator.errors import ScaffoldError

LINE_LENGTH = 88
CHECK_VARIABLE = "SCAFFOLD_FORMAT_CHECK"


def format_source(source: str, *, black_style: bool = False) -> str:
    """Return ``source`` formatted by Black.

    ``black_style`` promises that every line already is as Black writes it, except
    single-line statements and ``def`` lines that are too long; then only those are
    formatted.
    """
    if not black_style:
        return black_format(source)
    formatted = _format_long_statements(source)
    if os.environ.get(CHECK_VARIABLE) == "1":
        _require_same(formatted, black_format(source))
    return formatted


def black_format(source: str, line_length: int = LINE_LENGTH) -> str:
    """Black itself (imported lazily: it costs ~0.1 s)."""
    import black

    mode = black.Mode(target_versions={black.TargetVersion.PY310}, line_length=line_length)
    try:
        with collector_paused():
            return black.format_str(source, mode=mode)
    except black.parsing.InvalidInput as exc:  # a generator bug, never a user mistake
        raise ScaffoldError(f"generated code does not parse: {exc}") from exc


@dataclass(frozen=True)
class _Unit:
    """One statement (or ``def`` line) to format alone, at its own indentation."""

    first: int  # 0-based index of its line
    indent: int
    text: str  # dedented
    is_def: bool


def _format_long_statements(source: str) -> str:
    try:
        tree = _parse(source)
    except SyntaxError as exc:  # a generator bug, never a user mistake
        raise ScaffoldError(f"generated code does not parse: line {exc.lineno}: {exc.msg}") from exc
    lines = source.splitlines(keepends=True)
    long_lines = {i for i, line in enumerate(lines) if _may_be_too_long(line)}
    if not long_lines:
        return source
    units = _units(tree, lines, long_lines)
    if units is None:  # something we do not split alone: let Black see all of it
        return black_format(source)
    replacements: dict[int, list[str]] = {}
    for indent in sorted({u.indent for u in units}):
        group = [u for u in units if u.indent == indent]
        formatted = _format_group(group, indent)
        if formatted is None:
            return black_format(source)
        for unit, unit_lines in zip(group, formatted, strict=True):
            replacements[unit.first] = unit_lines
    out: list[str] = []
    for i, line in enumerate(lines):
        out.extend(replacements.get(i, [line]))
    return "".join(out)


def _parse(source: str) -> ast.Module:
    with collector_paused():
        return ast.parse(source)


def _may_be_too_long(line: str) -> bool:
    """True when Black might count ``line`` wider than the limit (wide characters count
    twice, so non-ASCII lines are judged by twice their length)."""
    text = line.rstrip("\n")
    width = len(text) if text.isascii() else 2 * len(text)
    return width > LINE_LENGTH


def _units(tree: ast.Module, lines: list[str], long_lines: set[int]) -> list[_Unit] | None:
    """The statements holding ``long_lines``, or ``None`` if one cannot be split alone."""
    units: list[_Unit] = []
    covered: set[int] = set()
    for node, is_docstring in _statements(tree):
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        if is_docstring:  # Black never wraps docstring text
            covered.update(range(first, last + 1))
            continue
        body = getattr(node, "body", None)
        if isinstance(body, list):  # compound: only its header line is ours to check
            if first not in long_lines:
                continue
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return None
            if body[0].lineno - 1 != first + 1:  # a header over several lines
                return None
            units.append(_Unit(first, node.col_offset, lines[first].strip(), is_def=True))
            covered.add(first)
            continue
        if long_lines.isdisjoint(range(first, last + 1)):
            continue
        if first != last or first in covered:  # over several lines, or sharing one
            return None
        units.append(_Unit(first, node.col_offset, lines[first].strip(), is_def=False))
        covered.add(first)
    return units if long_lines <= covered else None


def _statements(tree: ast.Module):
    """Yield every statement with whether it is a docstring, outermost first."""
    stack: list[tuple[ast.stmt, bool]] = [(s, False) for s in reversed(tree.body)]
    if tree.body and _is_string(tree.body[0]):
        stack[-1] = (tree.body[0], True)
    while stack:
        node, is_docstring = stack.pop()
        yield node, is_docstring
        for field in ("orelse", "finalbody", "handlers", "body"):
            children = getattr(node, field, None)
            if not isinstance(children, list):
                continue
            if field == "handlers":
                children = [s for handler in children for s in handler.body]
            docstring_owner = field == "body" and isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            )
            for index, child in reversed(list(enumerate(children))):
                stack.append((child, docstring_owner and index == 0 and _is_string(child)))


def _is_string(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _format_group(group: list[_Unit], indent: int) -> list[list[str]] | None:
    """Format statements of one indentation in a single Black call; split the result back.

    Statements that differ only in their names, numbers and strings, token for token
    at equal lengths, are laid out alike by Black (it decides on token kinds, keywords
    and widths), so each such shape is formatted once, with masked tokens, and the
    real tokens are put back in order.
    """
    masked = [_mask(u.text) for u in group]
    shapes = list(
        dict.fromkeys(
            (m.text if m else u.text, u.is_def) for m, u in zip(masked, group, strict=True)
        )
    )
    text = "".join(f"{shape}\n    pass\n" if is_def else f"{shape}\n" for shape, is_def in shapes)
    try:
        formatted = black_format(text, LINE_LENGTH - indent)
    except ScaffoldError:  # masking broke a token we did not foresee: format it all
        return None
    body = _parse(formatted).body
    if len(body) != len(shapes):
        return None
    lines = formatted.splitlines(keepends=True)
    layouts: dict[tuple[str, bool], str] = {}
    for shape, node in zip(shapes, body, strict=True):
        if shape[1]:
            assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            span = lines[node.lineno - 1 : node.body[0].lineno - 1]
        else:
            span = lines[node.lineno - 1 : node.end_lineno]
        layouts[shape] = "".join(span)
    prefix = " " * indent
    result = []
    for unit, mask in zip(group, masked, strict=True):
        layout = layouts[(mask.text if mask else unit.text, unit.is_def)]
        restored = mask.restore(layout) if mask else layout
        if restored is None:
            return None
        result.append([prefix + line for line in restored.splitlines(keepends=True)])
    return result


# Names, numbers and plain strings; prefixed strings are matched so they are left alone.
_TOKEN = re.compile(
    r"""(?P<prefixed>[A-Za-z]{1,2}(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))"""
    r"""|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[jJ]?)"
    r"|(?P<name>[^\W\d]\w*)"
)
_KEYWORDS = frozenset((*keyword.kwlist, *keyword.softkwlist))


@dataclass(frozen=True)
class _Masked:
    """A statement with every name, number and string replaced by a filler of its width."""

    text: str
    originals: tuple[str, ...]

    def restore(self, layout: str) -> str | None:
        """Put the original tokens back into Black's layout of the masked statement."""
        originals = iter(self.originals)
        failed = False

        def put_back(match: re.Match[str]) -> str:
            nonlocal failed
            if _filler(match) is None:
                return match.group()
            original = next(originals, None)
            if original is None or len(original) != len(match.group()):
                failed = True
                return match.group()
            return original

        restored = _TOKEN.sub(put_back, layout)
        if failed or next(originals, None) is not None:
            return None
        return restored


def _mask(text: str) -> _Masked | None:
    if "#" in text or '"""' in text or "'''" in text:
        return None
    originals: list[str] = []

    def replace(match: re.Match[str]) -> str:
        filler = _filler(match)
        if filler is None:
            return match.group()
        originals.append(match.group())
        return filler

    return _Masked(_TOKEN.sub(replace, text), tuple(originals))


def _filler(match: re.Match[str]) -> str | None:
    """The masked form of a token, or ``None`` for one that stays (keywords, non-ASCII)."""
    token = match.group()
    if not token.isascii() or match.lastgroup == "prefixed":
        return None
    if match.lastgroup == "name":
        return None if token in _KEYWORDS else "x" * len(token)
    if match.lastgroup == "number":
        return "1" * len(token)
    # Keep the quote Black chose: a single-quoted string holds a double quote.
    return f'"{"x" * (len(token) - 2)}"' if token[0] == '"' else f"""'"{"x" * (len(token) - 3)}'"""


def _require_same(ours: str, black: str) -> None:
    if ours == black:
        return
    mine, theirs = ours.splitlines(), black.splitlines()
    for number, (a, b) in enumerate(zip(mine, theirs, strict=False), start=1):
        if a != b:
            raise ScaffoldError(
                f"formatting differs from Black at line {number}: {a!r} != {b!r}",
                where=CHECK_VARIABLE,
            )
    extra = mine[len(theirs)] if len(mine) > len(theirs) else theirs[len(mine)]
    raise ScaffoldError(
        f"formatting differs from Black: {len(mine)} lines != {len(theirs)}, from {extra!r}",
        where=CHECK_VARIABLE,
    )
