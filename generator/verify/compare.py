"""Compares arrays and recorded layer calls, and says where two models first diverge.

``Comparison`` collects one ``Check`` per compared array; it knows nothing about how the
arrays were produced (see ``recording``) or in which order the checks run (``verifier``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from generator.errors import one_line
from generator.verify.pairing import all_layers
from generator.verify.recording import LayerCall
from generator.verify.report import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    LOW_PRECISION_ATOL,
    LOW_PRECISION_RTOL,
    Check,
    Tolerance,
    same_non_finite,
)


@dataclass(frozen=True)
class Difference:
    label: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float
    non_finite: int = 0  # NaN and infinite values in the expected array


def tolerance_for(model: Any, atol: float | None, rtol: float | None) -> Tolerance:
    """Defaults suited to the model's compute precision; flags user loosening."""
    low = any(
        str(getattr(layer, "compute_dtype", "float32")) in ("float16", "bfloat16")
        for _, layer in all_layers(model)
    )
    base_atol = LOW_PRECISION_ATOL if low else DEFAULT_ATOL
    base_rtol = LOW_PRECISION_RTOL if low else DEFAULT_RTOL
    chosen_atol = base_atol if atol is None else atol
    chosen_rtol = base_rtol if rtol is None else rtol
    return Tolerance(chosen_atol, chosen_rtol, chosen_atol > base_atol or chosen_rtol > base_rtol)


def difference(label: str, expected: Any, actual: Any) -> tuple[Difference, np.ndarray, np.ndarray]:
    want = np.asarray(expected)
    got = np.asarray(actual)
    if want.shape == got.shape and want.dtype == got.dtype and np.array_equal(want, got):
        # Identical (the usual case): no float64 copies of million-element weights.
        return Difference(label, tuple(want.shape), 0.0, 0.0), want, got
    want = want.astype(np.float64)
    got = got.astype(np.float64)
    if want.shape != got.shape:
        return Difference(label, tuple(want.shape), float("inf"), float("inf")), want, got
    with np.errstate(invalid="ignore"):
        diff = np.abs(want - got)
        # NaN where both are NaN or the same infinity: equal. Elsewhere infinitely apart.
        diff = np.where(same_non_finite(want, got), 0.0, np.nan_to_num(diff, nan=np.inf))
        rel = np.where(diff == 0.0, 0.0, diff / np.maximum(np.abs(np.nan_to_num(want)), 1e-12))
    max_abs = float(diff.max()) if diff.size else 0.0
    max_rel = float(rel.max()) if diff.size else 0.0
    non_finite = int(np.count_nonzero(~np.isfinite(want)))
    return Difference(label, tuple(want.shape), max_abs, max_rel, non_finite), want, got


def compare_outputs(expected: Any, actual: Any) -> list[Difference]:
    """Per-output max abs/rel differences; raises ValueError if the structures differ."""
    from keras import tree

    tree.assert_same_structure(expected, actual)
    differences = []
    for (path, want), got in zip(
        tree.flatten_with_path(expected), tree.flatten(actual), strict=True
    ):
        label = "/".join(str(p) for p in path) or "output"
        differences.append(difference(label, want, got)[0])
    return differences


def same_values(a: Any, b: Any) -> bool:
    """Bit-identical structures of arrays."""
    from keras import tree

    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(tree.flatten(a), tree.flatten(b), strict=True)
    )


class Comparison:
    """The checks of one verification, and the first place where the models diverge."""

    def __init__(self, tolerance: Tolerance) -> None:
        self.tolerance = tolerance
        self.checks: list[Check] = []

    def add(
        self, kind: str, difference: Difference, expected: np.ndarray, actual: np.ndarray
    ) -> bool:
        same_shape = expected.shape == actual.shape
        ok = same_shape and (difference.max_abs == 0.0 or self.tolerance.accepts(expected, actual))
        note = (
            "" if same_shape else f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}"
        )
        self.checks.append(
            Check(
                kind,
                difference.label,
                difference.shape,
                difference.max_abs,
                difference.max_rel,
                "ok" if ok else "mismatch",
                note,
                difference.non_finite,
            )
        )
        return ok

    def structures(self, kind: str, expected: Any, actual: Any) -> bool:
        """Compare two output structures element by element; ``False`` on any mismatch."""
        from keras import tree

        try:
            tree.assert_same_structure(expected, actual)
        except (ValueError, TypeError) as exc:
            self.checks.append(
                Check(kind, "output structure", status="mismatch", note=one_line(exc))
            )
            return False
        ok = True
        for (path, want), got in zip(
            tree.flatten_with_path(expected), tree.flatten(actual), strict=True
        ):
            label = "/".join(str(p) for p in path) or "output"
            found, w, g = difference(label, want, got)
            ok = self.add(kind, found, w, g) and ok
        return ok

    def recorded(
        self,
        kind: str,
        expected: dict[str, list[LayerCall]],
        actual: dict[str, list[LayerCall]],
    ) -> str:
        """Compare every layer both models ran; return where they first diverge ("" if not)."""
        first = ""
        for path, want_calls in expected.items():
            got_calls = actual.get(path)
            if got_calls is None:
                continue
            got_calls = self._pair_calls(want_calls, got_calls)
            for index, want in enumerate(want_calls):
                if index >= len(got_calls):
                    self.checks.append(
                        Check(
                            kind,
                            path,
                            status="mismatch",
                            note="called fewer times in the generated model",
                        )
                    )
                    first = first or f"layer {path!r} is called fewer times in the generated model"
                    continue
                got = got_calls[index]
                label = path if len(want_calls) == 1 else f"{path}#{index}"
                ok = len(want.outputs) == len(got.outputs)
                for j, (w, g) in enumerate(zip(want.outputs, got.outputs, strict=False)):
                    suffix = f"[{j}]" if len(want.outputs) > 1 else ""
                    found, we, ge = difference(label + suffix, w, g)
                    ok = self.add(kind, found, we, ge) and ok
                if not ok and not first:
                    first = self._describe_divergence(kind, label, want, got)
        return first

    def gradients(self, labels: list[str], expected: list[Any], actual: list[Any]) -> str:
        """Gradients of one scalar loss, weight by weight; the first that differs, in words."""
        first = ""
        for label, want, got in zip(labels, expected, actual, strict=True):
            if want is None and got is None:
                continue
            want_arr = np.zeros(1) if want is None else want
            got_arr = np.zeros(1) if got is None else got
            found, w, g = difference(label, want_arr, got_arr)
            if not self.add("gradient", found, w, g) and not first:
                first = f"the gradient for weight {label!r} differs"
        return first

    def losses(self, expected: list[Any], actual: list[Any]) -> str:
        """The losses the models add (``add_loss``, regularizers), one by one."""
        if len(expected) != len(actual):
            note = f"{len(actual)} in the generated model, {len(expected)} in the original"
            self.checks.append(Check("loss", "added losses", status="mismatch", note=note))
            return "the models add different numbers of losses (add_loss, regularizers)"
        first = ""
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found, w, g = difference(f"added loss {index}", want, got)
            if not self.add("loss", found, w, g) and not first:
                first = f"added loss {index} (add_loss or a regularizer) differs"
        return first

    def _inputs_match(self, want: LayerCall, got: LayerCall) -> bool:
        return len(want.inputs) == len(got.inputs) and all(
            np.shape(w) == np.shape(g)
            and self.tolerance.accepts(np.asarray(w, np.float64), np.asarray(g, np.float64))
            for w, g in zip(want.inputs, got.inputs, strict=True)
        )

    def _pair_calls(
        self, want_calls: list[LayerCall], got_calls: list[LayerCall]
    ) -> list[LayerCall]:
        """Order a shared layer's calls in the generated run like the original's.

        Both models may call a shared layer in a different (equally valid) order; each
        original call is paired with the generated call that received the same inputs,
        and calls without such a twin keep their position.
        """
        if len(want_calls) < 2 or len(got_calls) != len(want_calls):
            return got_calls
        remaining = list(range(len(got_calls)))
        paired: list[int | None] = []
        for want in want_calls:
            match = next((i for i in remaining if self._inputs_match(want, got_calls[i])), None)
            if match is not None:
                remaining.remove(match)
            paired.append(match)
        order = [i if i is not None else remaining.pop(0) for i in paired]
        return [got_calls[i] for i in order]

    def _describe_divergence(self, kind: str, label: str, want: LayerCall, got: LayerCall) -> str:
        mode = "training" if kind == "training" else "inference"
        if self._inputs_match(want, got):
            return f"layer {label!r} diverges in {mode} mode: same inputs, different output"
        return (
            f"layer {label!r} is the first whose output differs in {mode} mode; its inputs "
            "already differ (wiring, argument order or an operation before it)"
        )
