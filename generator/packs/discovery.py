"""Finds template packs: by path, or by name among installed packages.

An installed package ships a pack by declaring an entry point in group
``keras_scaffold.templates`` whose value names the package directory holding the pack's
files (``acme = "acme_scaffold_pack"``, or ``"acme_tools.scaffold_pack"``). The
directory is located, never imported: no code of the package runs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from generator.errors import PackError, one_line
from generator.from_spec.spec import suggest
from generator.packs.pack import BUILTIN, Pack, builtin_pack, load_pack

ENTRY_POINT_GROUP = "keras_scaffold.templates"


@dataclass(frozen=True)
class Installed:
    """An entry point that names a pack, and the distribution that declares it."""

    name: str
    value: str
    distribution: str


def installed_packs() -> list[Installed]:
    """Every pack installed packages declare, by name (the first of a name wins)."""
    found: dict[str, Installed] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        label = f"{dist.name} {dist.version}" if dist is not None else "an installed package"
        found.setdefault(entry.name, Installed(entry.name, entry.value, label))
    return [found[name] for name in sorted(found)]


def load_installed(installed: Installed) -> Pack:
    origin = f"entry point {installed.name!r} of {installed.distribution}"
    module = installed.value.split(":", 1)[0].strip()
    top, *inner = module.split(".")
    try:  # a top-level name is located without importing anything
        spec = importlib.util.find_spec(top) if top.isidentifier() else None
    except (ImportError, ValueError) as exc:
        raise PackError(f"cannot find package {top!r}: {one_line(exc)}", where=origin) from None
    if spec is None or not spec.submodule_search_locations:
        raise PackError(f"package {module!r} is not installed (as a directory)", where=origin)
    if not all(part.isidentifier() for part in inner):
        raise PackError(f"{module!r} is not a dotted package name", where=origin)
    root = Path(list(spec.submodule_search_locations)[0]).joinpath(*inner)
    return load_pack(root, origin, installed.name, installed=True)


def find_pack(reference: str, origin: str, base: Path | None = None) -> Pack:
    """The pack that ``reference`` names: ``builtin``, a directory (relative to ``base``),
    or the name of an installed pack.

    Raises:
        PackError: nothing by that name, or what it names is not a valid pack.
    """
    if reference == BUILTIN:
        return builtin_pack()
    path = Path(reference).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    looks_like_path = "/" in reference or "\\" in reference or reference.startswith(".")
    if path.is_dir() or looks_like_path:
        return load_pack(path, origin, str(path))
    installed = {pack.name: pack for pack in installed_packs()}
    if reference in installed:
        return load_installed(installed[reference])
    names = [BUILTIN, *installed]
    raise PackError(
        f"no template pack {reference!r}: not a directory, and no installed package "
        f"declares it{suggest(reference, names)}",
        where=origin,
    )
