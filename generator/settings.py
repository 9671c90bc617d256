"""Effective settings: command line over environment over ``[tool.scaffold]`` over defaults.

The configuration is the ``[tool.scaffold]`` table of the nearest ``pyproject.toml``,
looking from the working directory upwards and stopping at a directory that holds
``.git``. A named profile (``[tool.scaffold.profiles.NAME]``, chosen with ``--profile``)
overrides the table's keys. ``SCAFFOLD_TEMPLATE`` overrides the configured template.
Every value remembers where it came from, for ``scaffold config``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import ConfigError
from generator.tomlfiles import read_toml

ENV_TEMPLATE = "SCAFFOLD_TEMPLATE"
_CHOICES = {"import_style": ("tf", "keras"), "loop": ("fit", "train-step", "custom")}
# key → (type, default, what it sets)
KEYS: dict[str, tuple[type, Any, str]] = {
    "template": (
        str,
        "builtin",
        "template pack: a directory, an installed pack's name, or builtin",
    ),
    "import_style": (str, "tf", "--import-style of new and convert"),
    "package": (str, None, "--package: the serializable package name (default: the module's name)"),
    "loop": (str, "fit", "--loop of scaffold new"),
    "atol": (float, None, "--atol of convert and verify (default: by dtype)"),
    "rtol": (float, None, "--rtol of convert and verify (default: by dtype)"),
}
_TABLES = {"variables", "profiles"}


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str  # "default", "command line", "SCAFFOLD_TEMPLATE", "pyproject.toml [tool.scaffold]"


@dataclass(frozen=True)
class Settings:
    values: dict[str, Setting]
    variables: dict[str, Setting] = field(default_factory=dict)
    config_file: Path | None = None
    profile: str | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key].value

    @property
    def base(self) -> Path:
        """Where relative paths in the configuration start: the pyproject's directory."""
        return self.config_file.parent if self.config_file is not None else Path.cwd()

    def with_command_line(self, given: Mapping[str, Any]) -> Settings:
        """These settings, with the options the user gave (not None) taking precedence."""
        values = dict(self.values)
        for key, value in given.items():
            if value is not None:
                values[key] = Setting(value, "command line")
        return Settings(values, self.variables, self.config_file, self.profile)


def find_config(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` from ``start`` upwards, not above a ``.git`` root."""
    directory = start.resolve()
    while True:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists() or directory.parent == directory:
            return None
        directory = directory.parent


def load_settings(
    start: Path | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings for a command run in ``start`` (default: the working directory).

    Raises:
        ConfigError: the configuration is not valid TOML, has unknown keys or wrong
            types, or ``profile`` is not defined in it.
    """
    environ = os.environ if environ is None else environ
    values = {key: Setting(default, "default") for key, (_, default, _) in KEYS.items()}
    variables: dict[str, Setting] = {}
    path = find_config(start or Path.cwd())
    table: dict[str, Any] = {}
    if path is not None:
        table = _tool_table(path)
    label = f"{path} [tool.scaffold]"
    _apply(table, values, variables, label)
    if profile is not None:
        profiles = table.get("profiles", {})
        if not isinstance(profiles, dict) or profile not in profiles:
            known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
            raise ConfigError(
                f"no profile {profile!r} in {path or 'any pyproject.toml'}"
                + (f" (profiles: {known})" if known else " (it defines none)"),
                where="--profile",
            )
        chosen = profiles[profile]
        if not isinstance(chosen, dict):
            raise ConfigError("must be a table", where=f"{path} [tool.scaffold.profiles.{profile}]")
        _apply(
            chosen, values, variables, f"{path} [tool.scaffold.profiles.{profile}]", profile=True
        )
    if environ.get(ENV_TEMPLATE):
        values["template"] = Setting(environ[ENV_TEMPLATE], f"environment {ENV_TEMPLATE}")
    return Settings(values, variables, path, profile)


def _tool_table(path: Path) -> dict[str, Any]:
    tool = read_toml(path, ConfigError).get("tool", {})
    table = tool.get("scaffold", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError("[tool.scaffold] must be a table", where=str(path))
    return table


def _apply(
    table: Mapping[str, Any],
    values: dict[str, Setting],
    variables: dict[str, Setting],
    label: str,
    profile: bool = False,
) -> None:
    for key, value in table.items():
        if key == "profiles" and not profile:
            continue
        if key == "variables":
            if not isinstance(value, dict):
                raise ConfigError("'variables' must be a table", where=label)
            for name, item in value.items():
                variables[name] = Setting(item, f"{label.rstrip(']')}.variables]")
            continue
        if key not in KEYS:
            known = ", ".join([*KEYS, *sorted(_TABLES)])
            raise ConfigError(f"unknown key {key!r} (known: {known})", where=label)
        values[key] = Setting(_checked(key, value, label), label)


def _checked(key: str, value: Any, label: str) -> Any:
    kind = KEYS[key][0]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not kind:
        raise ConfigError(f"{key} must be a {kind.__name__}, not {value!r}", where=label)
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ConfigError(
            f"{key} must be one of {', '.join(_CHOICES[key])}, not {value!r}", where=label
        )
    if isinstance(value, float) and value < 0:
        raise ConfigError(f"{key} must be >= 0, not {value!r}", where=label)
    if key == "package" and not all(part.isidentifier() for part in str(value).split(".")):
        raise ConfigError(f"package must be a dotted Python name, not {value!r}", where=label)
    return value


def describe(settings: Settings) -> list[str]:
    """``scaffold config``: every effective value and where it came from, as TOML lines."""
    lines = [f"# config file: {settings.config_file or 'none found'}"]
    if settings.profile:
        lines.append(f"# profile: {settings.profile}")
    width = max(len(key) for key in KEYS)
    for key in KEYS:
        setting = settings.values[key]
        shown = "(unset)" if setting.value is None else _toml_value(setting.value)
        lines.append(f"{key:<{width}} = {shown:<24} # {setting.source}")
    for name in sorted(settings.variables):
        setting = settings.variables[name]
        lines.append(f"variables.{name} = {_toml_value(setting.value)}  # {setting.source}")
    return lines


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        import json

        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def choose_pack(
    settings: Settings, given_variables: tuple[str, ...] = ()
) -> tuple[Any, dict[str, Any]]:
    """The template pack the settings name, and its variables checked: ``--var NAME=VALUE``
    over ``[tool.scaffold.variables]`` over the manifest's defaults.

    Raises:
        PackError: the pack cannot be found or is invalid, or a variable is.
    """
    from generator.packs.discovery import find_pack
    from generator.packs.manifest import given_variables as parse_variables
    from generator.packs.manifest import resolve_variables

    template = settings.values["template"]
    from_config = (
        template.source.startswith(str(settings.config_file)) if settings.config_file else False
    )
    base = settings.base if from_config else Path.cwd()
    origin = "--template" if template.source == "command line" else template.source
    pack = find_pack(template.value, origin, base)
    declared = {v.name for v in pack.manifest.variables}
    given: dict[str, tuple[Any, str]] = {}
    for name, setting in settings.variables.items():
        # Variables in the configuration belong to the configured pack: another one
        # (--template, SCAFFOLD_TEMPLATE) may not declare them.
        if name in declared or from_config:
            given[name] = (setting.value, setting.source)
    given.update(parse_variables(given_variables))
    return pack, resolve_variables(pack.manifest, given)
