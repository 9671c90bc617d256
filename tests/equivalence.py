"""Shared numeric checks for conversion tests: every case is executed, not only diffed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from generator.verify import compare_outputs, import_source, sample_inputs, transfer_weights, verify

ATOL = 1e-5  # float32 logits; see generator.verify for the rationale


def generated_class(source: str, class_name: str, module_name: str = "generated_case") -> type:
    module = import_source(source, module_name)
    return getattr(module, class_name)


def assert_equivalent(original: Any, cls: type, tmp_path: Path, *, batches: int = 2) -> Any:
    """Build ``cls``, copy weights by name, compare outputs, then save/load and compare."""
    generated = cls()
    generated.build(None)
    # The same weights, though a factored class creates them in its own order: they
    # transfer by layer name (README, "Weights").
    shapes = sorted(tuple(w.shape) for w in generated.weights)
    assert shapes == sorted(tuple(w.shape) for w in original.weights)
    transfer_weights(original, generated)
    for seed in range(batches):
        inputs = sample_inputs(original, batch=3, seed=seed)
        for diff in compare_outputs(
            original(inputs, training=False), generated(inputs, training=False)
        ):
            assert diff.max_abs <= ATOL, f"{diff.label}: max abs diff {diff.max_abs:g} > {ATOL}"
    path = tmp_path / "generated_roundtrip.keras"
    generated.save(path)
    reloaded = keras.models.load_model(path)
    inputs = sample_inputs(original, batch=3, seed=99)
    for diff in compare_outputs(
        generated(inputs, training=False), reloaded(inputs, training=False)
    ):
        assert diff.max_abs == 0.0, f"save/load changed {diff.label} by {diff.max_abs:g}"
    report = verify(original, cls, batches=1)
    assert report.ok, report.verdict()
    return generated


def train_briefly(model: Any, steps: int = 3) -> None:
    """A few real optimizer steps, so weights differ from any initializer."""
    from keras import tree

    inputs = sample_inputs(model, batch=8, seed=5)
    outputs = model(inputs, training=False)
    targets = tree.map_structure(lambda t: np.zeros(t.shape, dtype="float32"), outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(inputs, targets, epochs=steps, verbose=0)


def assert_project_tests_pass(project: Path) -> None:
    """A generated project's own test suite, run as its user runs it (in the project)."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout


def converted_exactly(model: Any, package: str = "exact_case") -> str:
    """The source ``convert`` writes for ``model`` (class ``M``), after checking that it
    computes exactly what ``model`` does (max abs diff 0)."""
    from generator.convert import ConvertOptions, convert
    from generator.verify import verify_source

    source = convert(model, ConvertOptions(class_name="M", package=package)).source
    report = verify_source(model, source, "M", batches=1)
    assert report.ok, report.verdict()
    assert "max abs diff 0 " in report.verdict(), report.verdict()
    return source
