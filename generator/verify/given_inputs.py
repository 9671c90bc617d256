"""Inputs the user gives for verification (``--inputs``), when generated ones cannot do.

Some models need real data: CTC labels must be class indices, a model may refuse random
floats. ``--inputs FILE.npz`` holds one array per model input, keyed by input name (or
``0``, ``1``, ... in input order); ``--inputs module:function`` names a function that
returns the inputs in the model's structure.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import numpy as np

from generator.errors import LoadError, one_line
from generator.from_keras.internals import inputs_struct
from generator.from_keras.loading import describe_user_error, ensure_cwd_importable

_FUNCTION_REF = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def load_inputs(reference: str, model: Any) -> Any:
    """The inputs ``reference`` names, in ``model``'s input structure.

    Raises:
        LoadError: the file or function cannot be read, or does not cover every input.
    """
    path = Path(reference)
    if _FUNCTION_REF.match(reference) and not path.exists():
        return _from_function(reference)
    if path.suffix != ".npz":
        raise LoadError(
            "--inputs takes a .npz file (one array per input) or module:function",
            where=reference,
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError) as exc:
        raise LoadError(f"cannot read the inputs: {one_line(exc)}", where=reference) from exc
    return _structured(arrays, model, reference)


def _from_function(reference: str) -> Any:
    module_name, function_name = reference.split(":", 1)
    ensure_cwd_importable()
    try:
        function = getattr(importlib.import_module(module_name), function_name)
        return function()
    except (Exception, SystemExit) as exc:
        message = f"cannot get the inputs: {describe_user_error(exc)}"
        raise LoadError(message, where=reference) from exc


def _structured(arrays: dict[str, np.ndarray], model: Any, where: str) -> Any:
    from keras import tree

    struct = inputs_struct(model)
    if isinstance(struct, dict):
        keys = list(struct)
    else:
        tensors = tree.flatten(struct)
        keys = [str(i) for i in range(len(tensors))]
        names = [t.name for t in tensors]
        if not all(k in arrays for k in keys) and all(n in arrays for n in names):
            keys = names
    missing = [k for k in keys if k not in arrays]
    if missing:
        wanted = (
            list(struct) if isinstance(struct, dict) else [t.name for t in tree.flatten(struct)]
        )
        has = ", ".join(repr(k) for k in arrays) or "none"
        raise LoadError(
            f"needs one array per input, keyed {', '.join(repr(k) for k in wanted)} (or "
            f"0, 1, ... in input order); the file has {has}",
            where=where,
        )
    if isinstance(struct, dict):
        return {key: arrays[key] for key in keys}
    flat = [arrays[key] for key in keys]
    return tree.pack_sequence_as(struct, flat)
