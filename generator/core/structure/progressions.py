"""Values that count along a list of blocks, as one expression of a block's position.

EfficientNet's dropout rates ``0.2 * n / 16`` in block ``n`` are ``0.0125 * n`` to the
last bit (``linear``), or, read as Keras reads them, ``drop_connect_rate * n / blocks``
(``schedule``). ``GLOBAL_INDEX`` and ``TOTAL_BLOCKS`` stand for the position and the
count until the list's loop variables are known.
"""

from __future__ import annotations

import math
from typing import Any

from generator.core.ir import BinOp, Name, Value

GLOBAL_INDEX = Name("<global index>")  # the block's position in the whole list


def linear(values: list[Any], known: list[bool] | None = None) -> Value | None:
    """``a + b * n`` (with ``n`` the ``GLOBAL_INDEX``) when every value that matters is
    that, exactly as Python computes it, at its position ``n`` (three such values at
    least); else None. Floats read ``b * (n + c)``: EfficientNet's dropout rates
    ``0.2 * n / 16`` are ``0.0125 * (n + 1)`` to the last bit."""
    points = [(n, v) for n, v in enumerate(values) if known is None or known[n]]
    if len(points) < 3 or len({repr(v) for _, v in points}) < 2:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for _, v in points):
        (n0, v0), (n1, v1) = points[0], points[1]
        if (v1 - v0) % (n1 - n0):
            return None
        step = (v1 - v0) // (n1 - n0)
        start = v0 - step * n0
        if any(v != start + step * n for n, v in points):
            return None
        return affine(start, step, GLOBAL_INDEX)
    if not all(type(v) is float and math.isfinite(v) for _, v in points):
        return None
    (n0, v0), (n1, v1) = points[0], points[-1]
    step = float(f"{(v1 - v0) / (n1 - n0):.12g}")
    if step == 0 or not math.isfinite(step):
        return None
    shift = round(v0 / step - n0)
    if all(step * (n + shift) == v for n, v in points):
        return BinOp("*", step, plus(GLOBAL_INDEX, shift))
    start = float(f"{v0 - step * n0:.12g}")
    if all(start + step * n == v for n, v in points):
        return BinOp("+", start, BinOp("*", step, GLOBAL_INDEX))
    return None


# A rate that rises block by block to a round number over the whole list: Keras's
# EfficientNet drops ``drop_connect_rate * b / blocks`` in block ``b`` of ``blocks``, so a
# model built deeper spreads the same rates over more blocks (``0.0125 * b`` would not).
MAX_RATE_DIGITS = 6  # ``0.2``, ``0.125``: a number a person typed
TOTAL_BLOCKS = Name("<total blocks>")


def schedule(values: list[Any], known: list[bool] | None = None) -> float | None:
    """``rate`` where every value that matters is ``rate * n / N`` at its position ``n``
    of ``N``, exactly as Python computes it, ``rate`` a short number and shorter than the
    step ``rate / N``; else None."""
    points = [(n, v) for n, v in enumerate(values) if known is None or known[n]]
    if not points or not all(type(v) is float and math.isfinite(v) for _, v in points):
        return None
    last, value = points[-1]
    if not last:
        return None
    rate = float(f"{value * len(values) / last:.{MAX_RATE_DIGITS}g}")
    step = float(f"{rate / len(values):.12g}")
    if rate <= 0 or len(repr(rate)) > MAX_RATE_DIGITS or len(repr(rate)) >= len(repr(step)):
        return None  # a step of 0.0123 per block reads as typed, not as 0.0984 * n / 8
    if all(rate * n / len(values) == v for n, v in points):
        return rate
    return None


def rate_mark(param: str) -> str:
    return f"<rate of {param}>"


def scheduled(param: str) -> Value:
    """``rate * n / N``, the rate and ``N`` placeholders until the model's names are known."""
    return BinOp("/", BinOp("*", Name(rate_mark(param)), GLOBAL_INDEX), TOTAL_BLOCKS)


def affine(start: Value, step: int, index: Name) -> Value:
    """``start + step * index``, without what adds nothing."""
    scaled: Value = index if step == 1 else BinOp("*", step, index)
    return scaled if start == 0 else BinOp("+", start, scaled)


def plus(variable: Name, offset: int) -> Value:
    if offset == 0:
        return variable
    return BinOp("+", variable, offset) if offset > 0 else BinOp("-", variable, -offset)
