"""Loads the model to convert: a ``.keras`` file, a legacy ``.h5`` file or ``module:attr``.

Loading stays in Keras safe mode unless the caller opts out, and every failure becomes a
``LoadError`` that names the file and says what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import logging
import re
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import LoadError, one_line
from generator.from_keras.archive import check_archive
from generator.from_keras.environment import import_keras

_MODULE_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    source_name: str  # file name or module:attr, never an absolute path
    sha256: str  # of the file; empty for module:attr


def input_files(reference: str, custom_objects: str | None = None) -> tuple[Path, ...]:
    """The files a command reads its model from (outputs must never replace them): the
    model file, or the source files of the ``module:attr`` and ``--custom-objects``
    modules. Finding a module's file may import its parent packages, as loading would."""
    path = Path(reference)
    found = []
    if _MODULE_REF.match(reference) and not path.exists():
        found.append(_module_file(reference.split(":", 1)[0]))
    else:
        found.append(path)
    if custom_objects:
        found.append(_module_file(custom_objects))
    return tuple(p for p in found if p is not None)


def _module_file(module_name: str) -> Path | None:
    ensure_cwd_importable()
    try:
        spec = importlib.util.find_spec(module_name)
    except (Exception, SystemExit):  # the import itself reports it, with its location
        return None
    origin = getattr(spec, "origin", None)
    return Path(origin) if origin and origin not in ("built-in", "frozen") else None


def import_custom_objects(module_name: str) -> None:
    """Import the module that registers the user's custom layers."""
    ensure_cwd_importable()
    try:
        importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise LoadError(
            f"cannot import --custom-objects module {module_name!r}: {describe_user_error(exc)}"
        ) from exc


def load_model(reference: str, *, safe_mode: bool = True) -> LoadedModel:
    """Load ``reference`` and check it is a Sequential or Functional model."""
    path = Path(reference)
    if _MODULE_REF.match(reference) and not path.exists():
        model = _load_from_module(reference, import_keras())
        return LoadedModel(model, reference, "")
    _check_file(path, safe_mode)  # before TensorFlow loads: bad files fail fast and small
    model = _load_from_file(path, import_keras(), safe_mode)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return LoadedModel(model, path.name, digest.hexdigest())


def ensure_cwd_importable() -> None:
    """User modules named on the command line are found from the working directory."""
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))


def _load_from_module(reference: str, keras: Any) -> Any:
    module_name, attr_path = reference.split(":", 1)
    ensure_cwd_importable()
    try:
        obj: Any = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:
        raise LoadError(
            f"cannot import module {module_name!r}: {describe_user_error(exc)}", where=reference
        ) from exc
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise LoadError(f"{module_name!r} has no attribute {attr_path!r}", where=reference)
        obj = getattr(obj, part)
    if not isinstance(obj, keras.Model) and callable(obj):
        try:
            obj = obj()
        except (Exception, SystemExit) as exc:
            raise LoadError(
                f"calling {attr_path}() failed: {describe_user_error(exc)}", where=reference
            ) from exc
    if not isinstance(obj, keras.Model):
        raise LoadError(
            f"{attr_path} is a {type(obj).__name__}, not a keras.Model (or a zero-argument "
            "function returning one)",
            where=reference,
        )
    return obj


def _check_file(path: Path, safe_mode: bool) -> None:
    where = str(path)
    if not path.exists():
        raise LoadError("no such file", where=where)
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise LoadError(
                "this is a TensorFlow SavedModel, which Keras 3 cannot load as a model; "
                "load it in the code that made it and save it with model.save('model.keras')",
                where=where,
            )
        raise LoadError("is a directory, not a .keras or .h5 model file", where=where)
    if not path.is_file():
        raise LoadError("is not a regular file (a FIFO or a device?)", where=where)
    suffix = path.suffix.lower()
    if suffix not in (".keras", ".h5", ".hdf5"):
        raise LoadError(
            f"unknown model file type {path.suffix!r}; expected .keras, .h5 or module:attr",
            where=where,
        )
    if path.stat().st_size == 0:
        raise LoadError("the file is empty", where=where)
    if suffix == ".keras":
        check_archive(path, safe_mode=safe_mode)
    else:
        _check_h5(path)


def _load_from_file(path: Path, keras: Any, safe_mode: bool) -> Any:
    where = str(path)
    with _quiet_loading():
        try:
            return keras.saving.load_model(path, safe_mode=safe_mode)
        except Exception as first:
            try:  # compile state that cannot be restored should not stop a conversion
                return keras.saving.load_model(path, safe_mode=safe_mode, compile=False)
            except Exception:
                raise LoadError(_describe_load_failure(first), where=where) from first


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """Keras logs and warns while loading (uncompiled .h5, optimizer variables); the CLI
    reports what matters itself, in one line."""
    absl_logger = logging.getLogger("absl")
    level = absl_logger.level
    absl_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        absl_logger.setLevel(level)


def _check_h5(path: Path) -> None:
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py ships with TensorFlow
        return
    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                raise LoadError(
                    "this .h5 file holds only weights, no model architecture; load it into "
                    "the model that saved it and save that model as .keras",
                    where=str(path),
                )
    except OSError as exc:
        raise LoadError(f"not a readable HDF5 file ({exc})", where=str(path)) from exc


def describe_user_error(exc: BaseException) -> str:
    """One line for an exception raised by the user's code (``SystemExit`` included)."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r}) instead of returning"
    return one_line(exc)


def _describe_load_failure(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    match = re.search(r"Could not locate class '([^']+)'", text)
    if match:
        return (
            f"unknown class {match.group(1)!r} (a custom layer or model?); pass "
            "--custom-objects MODULE naming the module that defines and registers it"
        )
    if len(text) > 300:
        text = text[:297] + "..."
    return f"Keras could not load the model: {text}"
