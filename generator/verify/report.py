"""The verification report: what was compared, how it went, and how users read it.

``Report`` is plain data; ``format_report`` turns it into the table printed to stderr and
``report_json`` into the file that ``--report-json`` writes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# float32: outputs of equivalent code agree to ~1e-6; 1e-5/1e-4 leaves room for kernels
# that accumulate in a different order, and none for a changed layer.
DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-4
# float16/bfloat16 policies carry ~3 significant digits.
LOW_PRECISION_ATOL = 1e-2
LOW_PRECISION_RTOL = 1e-2

_WORST_SHOWN = 5
_MISMATCHES_SHOWN = 20


@dataclass(frozen=True)
class Tolerance:
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    loosened: bool = False  # the user asked for more than the defaults allow

    def accepts(self, expected: np.ndarray, actual: np.ndarray) -> bool:
        """Within tolerance everywhere; a NaN or an infinity only where the other holds
        the same."""
        with np.errstate(invalid="ignore"):
            close = np.abs(expected - actual) <= self.atol + self.rtol * np.abs(expected)
        return bool(np.all(close | same_non_finite(expected, actual)))


def same_non_finite(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Where both hold NaN, or the same infinity."""
    both_nan = np.isnan(expected) & np.isnan(actual)
    return both_nan | (np.isinf(expected) & (expected == actual))


@dataclass(frozen=True)
class Check:
    """One comparison in the report: an output, a layer, a gradient, ..."""

    kind: str  # "weights", "output", "layer", "training", "gradient", "loss", "serialization"
    label: str
    shape: tuple[int, ...] = ()
    max_abs: float = 0.0
    max_rel: float = 0.0
    status: str = "ok"  # "ok", "mismatch", "skipped"
    note: str = ""
    non_finite: int = 0  # NaN and infinite values in the original's array


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]
    tolerance: Tolerance
    divergence: str = ""  # where the generated model first differs, in words
    seconds: float = 0.0
    batches: int = 0
    batch_size: int = 0
    seed: int = 0

    @property
    def ok(self) -> bool:
        return not any(c.status == "mismatch" for c in self.checks)

    @property
    def skipped(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "skipped")

    def inputs_text(self) -> str:
        batches = f"{self.batches} batch" + ("es" if self.batches != 1 else "")
        return f"{batches} of {self.batch_size} samples"

    def verdict(self) -> str:
        compared = [c for c in self.checks if c.status != "skipped"]
        worst = max((c.max_abs for c in compared), default=0.0)
        tol = f"atol {self.tolerance.atol:g}, rtol {self.tolerance.rtol:g}"
        if self.tolerance.loosened:
            tol += ", loosened by the user"
        if self.ok:
            text = (
                f"EQUIVALENT: {len(compared)} comparisons on {self.inputs_text()}, "
                f"max abs diff {worst:.3g} ({tol})"
            )
            if self.skipped:
                text += f"; {len(self.skipped)} skipped (see notes)"
            if non_finite := sum(c.non_finite for c in compared if c.kind == "output"):
                text += (
                    f"; the original's outputs hold {non_finite} NaN or infinite values on "
                    "these inputs, equal only as NaN to NaN: give --inputs the model is "
                    "meant for"
                )
            return text
        return f"MISMATCH: {self.divergence} ({tol})"


def format_report(report: Report) -> str:
    """A readable table: outputs, the worst layers and gradients, every problem, a verdict."""
    rows: list[Check] = [
        c for c in report.checks if c.kind in ("output", "serialization") and c.label
    ]
    rows = _first_per_label(rows)
    for kind in ("layer", "training", "gradient", "loss"):
        checks = [c for c in report.checks if c.kind == kind and c.status == "ok"]
        rows += sorted(checks, key=lambda c: -c.max_abs)[:_WORST_SHOWN]
    problems = [c for c in report.checks if c.status == "mismatch" and c not in rows]
    rows += problems[:_MISMATCHES_SHOWN]
    lines = [f"{'check':<14}{'compared':<44}{'shape':<20}{'max abs':>11}{'max rel':>11}  status"]
    for check in rows:
        label = _printable(check.label)
        label = label if len(label) <= 42 else "…" + label[-41:]
        shape = str(check.shape) if check.shape else ""
        note = f"  {_printable(check.note)}" if check.note else ""
        lines.append(
            f"{check.kind:<14}{label:<44}{shape:<20}{_number(check.max_abs):>11}"
            f"{_number(check.max_rel):>11}  {check.status}{note}"
        )
    if len(problems) > _MISMATCHES_SHOWN:
        lines.append(
            f"... and {len(problems) - _MISMATCHES_SHOWN} more mismatches (--report-json has all)"
        )
    counts = _counts(report)
    lines.append(
        "compared: "
        + ", ".join(f"{n} {kind}" for kind, n in counts.items())
        + f"; {report.inputs_text()}, seed {report.seed}, {report.seconds:.1f} s"
    )
    for check in report.skipped:
        lines.append(f"skipped: {_printable(check.label)}: {_printable(check.note)}")
    lines.append(report.verdict())
    return "\n".join(lines)


def report_json(report: Report) -> str:
    data: dict[str, Any] = {
        "verdict": "equivalent" if report.ok else "mismatch",
        "summary": report.verdict(),
        "divergence": report.divergence or None,
        "tolerance": asdict(report.tolerance),
        "batches": report.batches,
        "batch_size": report.batch_size,
        "seed": report.seed,
        "seconds": round(report.seconds, 3),
        "checks": [
            {**asdict(c), "max_abs": _json_number(c.max_abs), "max_rel": _json_number(c.max_rel)}
            for c in report.checks
        ],
    }
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _first_per_label(checks: list[Check]) -> list[Check]:
    """One row per output: the worst over all batches."""
    worst: dict[tuple[str, str], Check] = {}
    for check in checks:
        key = (check.kind, check.label)
        if key not in worst or _rank(check) > _rank(worst[key]):
            worst[key] = check
    return list(worst.values())


def _rank(check: Check) -> tuple[int, float]:
    return (check.status == "mismatch", check.max_abs)


def _counts(report: Report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for check in report.checks:
        if check.status != "skipped":
            counts[check.kind] = counts.get(check.kind, 0) + 1
    return counts


def _number(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.3g}"


def _json_number(value: float) -> float | str:
    return "inf" if math.isinf(value) else value


def _printable(text: str) -> str:
    """Layer names come from model files: control characters are shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
