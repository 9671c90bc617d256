"""Recovers the source of a ``Lambda`` layer's function (``scaffold convert --unsafe``).

A ``.keras`` file stores a lambda only as bytecode. Its code object still names the file
and line it came from, so while that file exists the lambda expression can be found in
its syntax tree, checked against the stored bytecode, and written back as code, with the
module-level imports it needs.
"""

from __future__ import annotations

import ast
import builtins
import types
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UnsupportedModelError


@dataclass(frozen=True)
class RecoveredLambda:
    text: str  # the lambda expression, exactly as written
    imports: tuple[str, ...]  # statements binding the names it uses


def recover_lambda(function: types.FunctionType, *, where: str) -> RecoveredLambda:
    """Find ``function``'s lambda expression in its source file.

    Raises:
        UnsupportedModelError: the source is gone or changed, or the lambda uses names
            (closures, module variables) that cannot be carried into the generated module.
    """
    code = function.__code__
    if code.co_freevars:
        raise UnsupportedModelError(
            "the Lambda's function uses variables of an enclosing function "
            f"({', '.join(code.co_freevars)}); write it as a layer class",
            where=where,
        )
    path = Path(code.co_filename)
    if not path.is_file():
        raise UnsupportedModelError(
            f"a .keras file stores only the Lambda's bytecode, and its source file "
            f"{str(path)!r} no longer exists to recover it from",
            where=where,
        )
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    node = _find_lambda(tree, code, path, where)
    text = ast.get_source_segment(source, node)
    if text is None or not _same_bytecode(text, code):
        raise UnsupportedModelError(
            f"the lambda at {path.name}:{code.co_firstlineno} no longer matches the "
            "model's bytecode (was the file edited?)",
            where=where,
        )
    return RecoveredLambda(" ".join(text.split()), _imports_for(node, tree, path, where))


def _find_lambda(tree: ast.Module, code: types.CodeType, path: Path, where: str) -> ast.Lambda:
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    candidates = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Lambda)
        and n.lineno == code.co_firstlineno
        and [a.arg for a in (*n.args.posonlyargs, *n.args.args, *n.args.kwonlyargs)] == params
    ]
    if len(candidates) > 1 and hasattr(code, "co_positions"):
        columns = {c for _, _, c, _ in code.co_positions() if c}
        candidates = [
            n
            for n in candidates
            if all(n.col_offset <= c <= (n.end_col_offset or 0) for c in columns if c > 0)
        ]
    if len(candidates) != 1:
        raise UnsupportedModelError(
            f"cannot find the Lambda's expression at {path.name}:{code.co_firstlineno}",
            where=where,
        )
    return candidates[0]


def _same_bytecode(text: str, code: types.CodeType) -> bool:
    """Does ``text`` compile to a function with the same names, constants and parameters?

    Opcodes themselves differ with the compile context (``LOAD_METHOD`` against
    ``LOAD_ATTR``), so the comparison is on what the code refers to.
    """
    try:
        compiled = compile(f"({text})", code.co_filename, "eval")
    except SyntaxError:
        return False
    inner = [c for c in compiled.co_consts if isinstance(c, types.CodeType)]
    if len(inner) != 1:
        return False

    def fingerprint(c: types.CodeType) -> tuple[object, ...]:
        consts = tuple(k for k in c.co_consts if not isinstance(k, types.CodeType))
        return (c.co_names, c.co_varnames, consts, c.co_argcount, c.co_kwonlyargcount)

    return fingerprint(inner[0]) == fingerprint(code)


def _imports_for(node: ast.Lambda, tree: ast.Module, path: Path, where: str) -> tuple[str, ...]:
    bound = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    used = sorted(
        {
            n.id
            for n in ast.walk(node.body)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound
        }
    )
    available = _module_level_imports(tree)
    statements = []
    for name in used:
        if name in available:
            statements.append(available[name])
        elif not hasattr(builtins, name):
            raise UnsupportedModelError(
                f"the Lambda uses {name!r}, which {path.name} defines but does not import; "
                "write the function in an importable module and register it",
                where=where,
            )
    return tuple(statements)


def _module_level_imports(tree: ast.Module) -> dict[str, str]:
    """Name bound at module level → the import statement that binds it alone."""
    found: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    found[alias.asname] = f"import {alias.name} as {alias.asname}"
                else:
                    top = alias.name.split(".")[0]
                    found[top] = f"import {alias.name}"
        elif isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
            for alias in statement.names:
                name = alias.asname or alias.name
                suffix = f" as {alias.asname}" if alias.asname else ""
                found[name] = f"from {statement.module} import {alias.name}{suffix}"
    return found
