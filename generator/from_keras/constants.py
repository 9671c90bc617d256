"""Tensors and arrays captured in a graph (``x + ops.convert_to_tensor([1., 2., 3.])``,
``preprocess_input``'s means) written as code that keeps their dtype and shape.

A few values are written where they are used; more become one module-level constant
each (deduplicated), named after the operation that uses them, so ``call`` stays
readable: ``x = x - CONV_MEAN``. Past ``SOURCE_LIMIT`` values a constant (or a long
vocabulary) is no longer worth reading as code: it goes into an ``.npz`` file beside the
module, which loads it by name on import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generator.core.ir import Asset, Call, ListValue, Symbol, Value
from generator.core.naming import NameRegistry
from generator.errors import InvalidOutputError

INLINE_LIMIT = 8  # values written where they are used
SOURCE_LIMIT = 1_024  # more values go into the assets file beside the module


def is_constant(obj: Any) -> bool:
    """A concrete tensor or array (not a symbolic ``KerasTensor``, not a Python number)."""
    if isinstance(obj, np.ndarray | np.generic):
        return True
    return hasattr(obj, "numpy") and hasattr(obj, "dtype") and hasattr(obj, "shape")


class Constants:
    """The constants of one generated module."""

    def __init__(self, reserved: set[str], assets_file: str = "") -> None:
        self._names = NameRegistry(reserved, fallback="constant")
        self._by_content: dict[tuple[str, tuple[int, ...], bytes], Symbol] = {}
        self._assets_file = assets_file
        self.definitions: list[tuple[str, Value]] = []
        self.assets: list[Asset] = []

    def value(self, obj: Any, hint: str, *, where: str) -> Value:
        """``keras.ops.convert_to_tensor([...], dtype=...)`` inline, or a constant's name."""
        array = np.asarray(obj.numpy() if hasattr(obj, "numpy") else obj)
        dtype = _dtype_name(array)
        if array.size <= INLINE_LIMIT:
            return _tensor(_literal(array, dtype), dtype)
        key = (dtype, tuple(array.shape), array.tobytes())
        known = self._by_content.get(key)
        if known is not None:
            return known
        hint = f"{hint}_constant"
        if array.size > SOURCE_LIMIT:
            symbol = self._asset(hint, array, dtype, where=where)
        else:
            symbol = self.define(hint, _tensor(_literal(array, dtype), dtype))
        self._by_content[key] = symbol
        return symbol

    def define(self, hint: str, value: Value, *, where: str = "") -> Symbol:
        """A module-level constant for a long literal (an adapted vocabulary, say)."""
        items = value.items if isinstance(value, ListValue) else ()
        if len(items) > SOURCE_LIMIT and _one_scalar_type(items):
            return self._asset(hint, np.asarray(items), "", where=where)
        name = self._names.claim(hint).upper()
        self.definitions.append((name, value))
        return Symbol("", name)

    def _asset(self, hint: str, array: np.ndarray, dtype: str, *, where: str) -> Symbol:
        if not self._assets_file:
            raise InvalidOutputError(
                f"a constant of {array.size:,} values is too large for source code; write "
                "the module to a file (-o FILE.py) and it goes beside it, in FILE.assets.npz",
                where=where,
            )
        name = self._names.claim(hint).upper()
        self.assets.append(Asset(name, _storable(array), dtype))
        return Symbol("", name)


def _tensor(literal: Value, dtype: str) -> Call:
    return Call(Symbol("keras", "ops.convert_to_tensor"), (literal,), (("dtype", dtype),))


def _one_scalar_type(items: tuple[Value, ...]) -> bool:
    """Whether a list converts to a NumPy array and back unchanged (all str, int or float)."""
    kinds = {type(item) for item in items}
    return len(kinds) == 1 and kinds <= {str, int, float}


def _storable(array: np.ndarray) -> np.ndarray:
    """``array`` as ``np.load`` reads it back without pickles: NumPy's own dtypes only
    (bfloat16 widens to float32 exactly; the module converts it back)."""
    if array.dtype.kind in "biufcSU":
        return np.ascontiguousarray(array)
    if array.dtype.kind == "O":  # tf.string tensors arrive as bytes objects
        return array.astype("S")
    return array.astype("float32")


def _dtype_name(array: np.ndarray) -> str:
    if array.dtype.kind in "OSU":  # strings (tf.string arrives as bytes objects)
        return "string"
    return str(array.dtype)


def _literal(array: np.ndarray, dtype: str) -> Value:
    """Nested lists of Python values that convert back to exactly these values."""
    if array.ndim == 0:
        return _scalar(array.item(), dtype)
    return ListValue(tuple(_literal(item, dtype) for item in array))


def _scalar(value: Any, dtype: str) -> Value:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="surrogateescape")
    if isinstance(value, bool | int | str):
        return value
    if dtype in ("float16",):
        return float(str(np.float16(value)))  # the shortest text that rounds back
    if dtype in ("float32", "bfloat16"):
        return float(str(np.float32(value)))
    return float(value)
