"""Imports Keras lazily and checks it is Keras 3 on the TensorFlow backend.

Only the commands that read or run models call ``import_keras``; ``scaffold --help`` and
``scaffold new`` never do, so they start in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from generator.errors import EnvironmentMismatchError, MissingDependencyError

INSTALL_HINT = (
    "TensorFlow is not installed; `scaffold convert` needs it: "
    "pip install 'keras-scaffold[cpu]' (or 'keras-scaffold[tensorflow]' for the GPU build)"
)


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence TensorFlow's native start-up chatter (absl/oneDNN notices on fd 2).

    Python-level errors are unaffected: they surface as exceptions after the block.
    """
    if "tensorflow" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_keras() -> ModuleType:
    """Return the ``keras`` module, after checking the environment can convert models.

    Raises:
        MissingDependencyError: TensorFlow or Keras is missing.
        EnvironmentMismatchError: legacy Keras 2 or a non-TensorFlow backend is selected.
    """
    legacy = os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower()
    if legacy in {"1", "true", "yes"}:
        raise EnvironmentMismatchError(
            f"TF_USE_LEGACY_KERAS={os.environ['TF_USE_LEGACY_KERAS']} selects Keras 2, but "
            "scaffold converts Keras 3 models; unset TF_USE_LEGACY_KERAS and run again"
        )
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend != "tensorflow":
        raise EnvironmentMismatchError(
            f"KERAS_BACKEND={backend} selects another backend, but scaffold reads and runs "
            "models on TensorFlow; unset KERAS_BACKEND or set it to 'tensorflow'"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with quiet_native_stderr():
            import keras
            import tensorflow  # noqa: F401  (keras needs its backend importable)
    except ImportError as exc:
        raise MissingDependencyError(INSTALL_HINT) from exc
    major = int(keras.__version__.split(".")[0])
    if major < 3 or keras.backend.backend() != "tensorflow":
        raise EnvironmentMismatchError(
            f"found Keras {keras.__version__} on the {keras.backend.backend()!r} backend; "
            "scaffold needs Keras 3 on TensorFlow (pip install 'tensorflow>=2.16')"
        )
    return keras
