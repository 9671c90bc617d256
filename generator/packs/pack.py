"""A template pack on disk, or the built-in templates, and what it holds.

A pack is a directory: ``scaffold-template.toml``, templates that override or extend the
built-in ones by name (``module.py.jinja``, ``model.py.jinja``, ``project/...``), extra
project files under ``project/``, and presets under ``presets/``. Nothing in it may lead
outside it: a link that does, or a ``..`` in a path, makes the pack invalid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from generator.errors import PackError, one_line
from generator.from_spec.sources import Preset
from generator.packs.manifest import Manifest, read_manifest

BUILTIN = "builtin"
PROJECT_DIR = "project"
PRESETS_DIR = "presets"


def builtin_templates_dir() -> Path:
    """Where the built-in templates live: inside the installed package, or the source tree."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "templates"
    if packaged.is_dir():
        return packaged
    return package.parent / "templates"


@dataclass(frozen=True)
class Pack:
    """A pack and where it came from (``origin``: an option, a file, a package)."""

    manifest: Manifest
    root: Path | None  # None: the built-in templates alone
    origin: str
    reference: str  # what names it again: a path, an entry-point name, or "builtin"
    installed: bool = False  # found by name among installed packages

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def is_builtin(self) -> bool:
        return self.root is None

    def template_files(self) -> list[str]:
        """Every template of the pack, as a ``/``-separated path relative to it."""
        return [rel for rel in self.files() if rel.endswith(".jinja")]

    def files(self) -> list[str]:
        """Every file of the pack but its manifest and presets, sorted."""
        if self.root is None:
            return []
        found = []
        for path in _walk(self.root):
            rel = path.relative_to(self.root).as_posix()
            if rel != "scaffold-template.toml" and not rel.startswith(PRESETS_DIR + "/"):
                found.append(rel)
        return sorted(found)

    def presets(self) -> dict[str, Path]:
        """Preset name → its spec file."""
        if self.root is None or not (self.root / PRESETS_DIR).is_dir():
            return {}
        return {
            path.stem: path
            for path in sorted(_walk(self.root / PRESETS_DIR, self.root))
            if path.suffix in (".yaml", ".yml") and path.parent == self.root / PRESETS_DIR
        }


def pack_presets(pack: Pack) -> tuple[Preset, ...]:
    """The pack's presets, for ``--preset`` (they win over shipped ones of one name)."""
    origin = f"template pack {pack.name!r}"
    return tuple(Preset(name, path, origin) for name, path in pack.presets().items())


BUILTIN_MANIFEST = Manifest(BUILTIN, "The templates shipped with keras-scaffold.", "")


def builtin_pack() -> Pack:
    return Pack(BUILTIN_MANIFEST, None, "built-in", BUILTIN)


def load_pack(
    root: Path, origin: str, reference: str | None = None, installed: bool = False
) -> Pack:
    """The pack in directory ``root``, checked: a manifest, and no path out of it.

    Raises:
        PackError: it is not a directory, not a valid pack, or a link leads outside it.
    """
    if not root.is_dir():
        raise PackError("no such template pack directory", where=f"{root} ({origin})")
    manifest = read_manifest(root)
    if manifest.name == BUILTIN:
        raise PackError(f"a pack cannot be named {BUILTIN!r}", where=str(root))
    real = root.resolve()
    pack = Pack(manifest, real, origin, reference or str(root), installed)
    for relative in pack.template_files():  # walks it: refuses links that lead outside
        read_template(real / relative)  # and templates that are not UTF-8 text
    return pack


def _walk(directory: Path, root: Path | None = None, depth: int = 0) -> list[Path]:
    """Files under ``directory``, refusing any link whose target is outside ``root``, a
    name that is not UTF-8, and links nested deeper than any real pack needs (a loop)."""
    root = (root or directory).resolve()
    if depth > 8:
        raise PackError("links nest too deep (a loop?)", where=str(directory))
    found = []
    for current, dirnames, filenames in os.walk(directory, followlinks=False, onerror=_raise):
        base = Path(current)
        for name in list(dirnames) + filenames:
            path = base / name
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                raise PackError("a file name that is not UTF-8", where=repr(str(path))) from None
            if path.is_symlink():
                inside_of(root, path)
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            found.append(base / name)
        for name in dirnames:
            if (base / name).is_symlink():
                found.extend(_walk(base / name, root, depth + 1))
    return found


def _raise(error: OSError) -> None:
    raise PackError(f"cannot read it: {one_line(error)}", where=str(error.filename)) from None


def read_template(path: Path) -> str:
    """A pack file's text.

    Raises:
        PackError: it cannot be read or is not UTF-8.
    """
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(f"cannot read it: {one_line(exc)}", where=str(path)) from None


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PackError(f"cannot read it: {one_line(exc)}", where=str(path)) from None


def inside_of(root: Path, path: Path) -> Path:
    """``path`` resolved, or PackError when it leads outside ``root``."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as exc:  # a loop, or a link to nothing
        raise PackError(f"a link that leads nowhere: {one_line(exc)}", where=str(path)) from None
    if real != root and root not in real.parents:
        raise PackError(
            f"leads outside the template pack (to {real}); a pack may only use its own files",
            where=str(path),
        )
    return real
