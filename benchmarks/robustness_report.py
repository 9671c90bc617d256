"""Convert and verify the smallest variant of every keras.applications family and print
the Markdown table kept in docs/robustness.md (layers, conversion time, max abs diff).

Run: .venv/bin/python benchmarks/robustness_report.py
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from generator.from_keras.environment import import_keras  # noqa: E402

keras = import_keras()

from applications_catalog import SMALLEST, build_application  # noqa: E402

from generator.convert import ConvertOptions, convert_model  # noqa: E402
from generator.verify import verify_source  # noqa: E402


def main() -> None:
    print(f"Keras {keras.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print()
    print(
        "| model | input | layers | conversion (s) | verification (s) | comparisons | max abs diff | verdict |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, size in SMALLEST.items():
        model = build_application(name, size)
        started = time.perf_counter()
        source = convert_model(model, ConvertOptions(class_name="Converted", package=name.lower()))
        converted = time.perf_counter() - started
        report = verify_source(model, source, "Converted", batches=1)
        compared = [c for c in report.checks if c.status != "skipped"]
        worst = max((c.max_abs for c in compared), default=0.0)
        verdict = "equivalent" if report.ok else "MISMATCH"
        print(
            f"| {name} | {size}x{size} | {len(model.layers)} | {converted:.2f} | "
            f"{report.seconds:.1f} | {len(compared)} | {worst:.3g} | {verdict} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
