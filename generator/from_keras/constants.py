"""Tensors and arrays captured in a graph (``x + ops.convert_to_tensor([1., 2., 3.])``,
``preprocess_input``'s means) written as code that keeps their dtype and shape.

A few values are written where they are used; more become one module-level constant
each (deduplicated), named after the operation that uses them, so ``call`` stays
readable: ``x = x - CONV_MEAN``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from generator.core.ir import Call, ListValue, Symbol, Value
from generator.core.naming import NameRegistry
from generator.errors import UnsupportedModelError

INLINE_LIMIT = 8  # values written where they are used
MAX_VALUES = 1_000_000  # beyond this a constant is not source code any more


def is_constant(obj: Any) -> bool:
    """A concrete tensor or array (not a symbolic ``KerasTensor``, not a Python number)."""
    if isinstance(obj, np.ndarray | np.generic):
        return True
    return hasattr(obj, "numpy") and hasattr(obj, "dtype") and hasattr(obj, "shape")


class Constants:
    """The constants of one generated module."""

    def __init__(self, reserved: set[str]) -> None:
        self._names = NameRegistry(reserved, fallback="constant")
        self._by_content: dict[tuple[str, tuple[int, ...], bytes], Symbol] = {}
        self.definitions: list[tuple[str, Value]] = []

    def value(self, obj: Any, hint: str, *, where: str) -> Value:
        """``keras.ops.convert_to_tensor([...], dtype=...)`` inline, or a constant's name."""
        array = np.asarray(obj.numpy() if hasattr(obj, "numpy") else obj)
        if array.size > MAX_VALUES:
            raise UnsupportedModelError(
                f"a constant of {array.size:,} values is too large to write as code "
                f"(limit {MAX_VALUES:,}); make it a weight of a layer instead",
                where=where,
            )
        dtype = _dtype_name(array)
        literal = _literal(array, dtype)
        expression = Call(Symbol("keras", "ops.convert_to_tensor"), (literal,), (("dtype", dtype),))
        if array.size <= INLINE_LIMIT:
            return expression
        key = (dtype, tuple(array.shape), array.tobytes())
        known = self._by_content.get(key)
        if known is not None:
            return known
        name = self._names.claim(f"{hint}_constant").upper()
        symbol = Symbol("", name)
        self._by_content[key] = symbol
        self.definitions.append((name, expression))
        return symbol

    def define(self, hint: str, value: Value) -> Symbol:
        """A module-level constant for a long literal (an adapted vocabulary, say)."""
        name = self._names.claim(hint).upper()
        self.definitions.append((name, value))
        return Symbol("", name)


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
