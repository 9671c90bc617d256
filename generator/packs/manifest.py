"""A pack's manifest, ``scaffold-template.toml``: its name, version and variables.

Variables are declared with a type, a default, optional choices, a validation pattern
and help text; values given on the command line or in ``[tool.scaffold.variables]`` are
checked against them before anything is rendered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import PackError
from generator.tomlfiles import read_toml

MANIFEST_NAME = "scaffold-template.toml"
TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS = {"name", "description", "version", "variables"}
_VARIABLE_KEYS = {"type", "default", "choices", "pattern", "help"}


@dataclass(frozen=True)
class Variable:
    """One value a pack's templates read as ``vars.NAME``."""

    name: str
    type: str
    default: Any
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    help: str = ""


@dataclass(frozen=True)
class Manifest:
    name: str
    description: str
    version: str
    variables: tuple[Variable, ...] = ()


def read_manifest(root: Path) -> Manifest:
    """The manifest of the pack in ``root``.

    Raises:
        PackError: it is missing, not TOML, or declares something invalid.
    """
    path = root / MANIFEST_NAME
    if not path.exists():
        raise PackError(f"not a template pack: it has no {MANIFEST_NAME}", where=str(root))
    return parse_manifest(read_toml(path, PackError), str(path))


def parse_manifest(data: Mapping[str, Any], where: str) -> Manifest:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise PackError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TOP_KEYS))})", where=where
        )
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PackError(
            "'name' must be a word of letters, digits, '-' and '_' (it names the pack)", where=where
        )
    description = data.get("description", "")
    version = data.get("version", "0")
    if not isinstance(description, str) or not isinstance(version, str):
        raise PackError("'description' and 'version' must be strings", where=where)
    table = data.get("variables", {})
    if not isinstance(table, dict):
        raise PackError("'variables' must be a table of tables", where=where)
    variables = tuple(
        _variable(key, spec, f"{where} [variables.{key}]") for key, spec in table.items()
    )
    return Manifest(name, description, version, variables)


def _variable(name: str, spec: Any, where: str) -> Variable:
    if not _VARIABLE.match(name):
        raise PackError("a variable name must be a Python identifier", where=where)
    if not isinstance(spec, dict):
        raise PackError("must be a table (type, default, choices, pattern, help)", where=where)
    unknown = sorted(set(spec) - _VARIABLE_KEYS)
    if unknown:
        raise PackError(f"unknown key {unknown[0]!r}", where=where)
    kind = spec.get("type", "str")
    if not isinstance(kind, str) or kind not in TYPES:
        raise PackError(f"type {kind!r} is not one of {', '.join(TYPES)}", where=where)
    if "default" not in spec:
        raise PackError(
            "needs a 'default' (what a project gets when no value is given)", where=where
        )
    choices = spec.get("choices", [])
    pattern = spec.get("pattern")
    text = spec.get("help", "")
    if not isinstance(choices, list) or not isinstance(text, str):
        raise PackError("'choices' must be a list and 'help' a string", where=where)
    if pattern is not None:
        if kind != "str" or not isinstance(pattern, str):
            raise PackError("'pattern' is a string, for variables of type str", where=where)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise PackError(f"'pattern' is not a regular expression: {exc}", where=where) from None
    variable = Variable(name, kind, None, tuple(choices), pattern, text)
    for choice in choices:
        check_value(variable, choice, where)
    return Variable(
        name, kind, check_value(variable, spec["default"], where), tuple(choices), pattern, text
    )


def check_value(variable: Variable, value: Any, where: str) -> Any:
    """``value`` as the variable's type (text from the command line is converted).

    Raises:
        PackError: it has the wrong type, is not a choice, or does not match the pattern.
    """
    kind = TYPES[variable.type]
    if isinstance(value, str) and kind is not str:
        value = _from_text(variable, value, where)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        raise PackError(
            f"{variable.name} must be a {variable.type}, not {type(value).__name__} {value!r}",
            where=where,
        )
    if variable.choices and value not in variable.choices:
        options = ", ".join(repr(c) for c in variable.choices)
        raise PackError(f"{variable.name}={value!r} is not one of {options}", where=where)
    if variable.pattern is not None and not re.fullmatch(variable.pattern, str(value)):
        raise PackError(
            f"{variable.name}={value!r} does not match the pattern {variable.pattern!r}",
            where=where,
        )
    return value


def _from_text(variable: Variable, text: str, where: str) -> Any:
    try:
        if variable.type == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise ValueError(text)
        return TYPES[variable.type](text)
    except ValueError:
        raise PackError(f"{variable.name}={text!r} is not a {variable.type}", where=where) from None


def given_variables(items: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """``--var NAME=VALUE`` options: name → (the value's text, where it was given).

    Raises:
        PackError: an item is not ``NAME=VALUE``.
    """
    given = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise PackError(f"expected NAME=VALUE, got {item!r}", where="--var")
        given[name.strip()] = (value, f"--var {name.strip()}")
    return given


def resolve_variables(manifest: Manifest, given: Mapping[str, tuple[Any, str]]) -> dict[str, Any]:
    """Every variable's value: the given one (value, where it came from) checked, else
    the default. A value for a variable the pack does not declare is an error."""
    declared = {v.name: v for v in manifest.variables}
    for name, (_, where) in given.items():
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise PackError(
                f"the pack {manifest.name!r} has no variable {name!r} (it has: {known})",
                where=where,
            )
    values = {}
    for variable in manifest.variables:
        if variable.name in given:
            value, where = given[variable.name]
            values[variable.name] = check_value(variable, value, where)
        else:
            values[variable.name] = variable.default
    return values
