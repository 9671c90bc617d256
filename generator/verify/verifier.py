"""Proves, numerically, that a generated subclass computes what the original computes.

The check a careful ML engineer would trust: the generated module is imported in
isolation and built; weights are copied by layer name (recursively through nested
models) with shapes and dtypes checked one to one; then outputs and every layer's output
are compared on seeded inputs in inference mode, again in training mode where that is
deterministic (dropout seeds are synchronized), gradients of a scalar loss are compared
weight by weight, and the generated model must survive a ``.keras`` save/load round trip.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from generator.errors import OriginalModelFails, VerificationError, one_line
from generator.from_keras.unknown_sizes import has_unknown_dims, unknown_size
from generator.verify.compare import Comparison, same_values, tolerance_for
from generator.verify.given_inputs import load_inputs
from generator.verify.isolation import load_generated_class
from generator.verify.pairing import LayerPairs, copy_weights, pair_layers, unstorable_names
from generator.verify.recording import record_calls, restore, seed_states
from generator.verify.report import Check, Report
from generator.verify.sample_inputs import sample_inputs


class _Verifier:
    """Runs the checks in order on two models whose weights already agree."""

    def __init__(
        self, original: Any, generated: Any, comparison: Comparison, progress: Callable[[str], None]
    ) -> None:
        self.original = original
        self.generated = generated
        self.compare = comparison
        self.progress = progress
        self.divergence = ""
        self.first_outputs: Any = None  # the generated model's, on the first batch
        # Reported only when inference and training mode agree: a layer that differs in
        # training mode says more than the gradients it changes.
        self.gradient_divergence = ""

    def inference(self, batches: list[Any], pairs: LayerPairs) -> None:
        """Outputs and every layer on each batch; gradients from the first batch's run."""
        labels, theirs, ours = [], [], []
        for path, layer, twin in pairs.leaves:
            for o, t in zip(twin.weights, layer.weights, strict=False):
                if t.trainable:
                    labels.append(f"{path}/{t.name}")
                    theirs.append(t)
                    ours.append(o)
        for number, inputs in enumerate(batches, start=1):
            with_gradients = number == 1 and bool(theirs)
            self.progress(
                f"inference batch {number}/{len(batches)}"
                + (" with gradients" if with_gradients else "")
            )
            expected = record_calls(
                self.original,
                inputs,
                training=False,
                role="original",
                gradients_for=theirs if with_gradients else None,
            )
            actual = record_calls(
                self.generated,
                inputs,
                training=False,
                role="generated",
                gradients_for=ours if with_gradients else None,
            )
            if number == 1:
                self.first_outputs = actual.outputs
            outputs_ok = self.compare.structures("output", expected.outputs, actual.outputs)
            first = self.compare.recorded("layer", expected.calls, actual.calls)
            losses = self.compare.losses(expected.losses, actual.losses)
            if not self.divergence and (first or not outputs_ok or losses):
                self.divergence = (
                    first
                    or (
                        ""
                        if outputs_ok
                        else "the outputs differ although every layer matches "
                        "(an operation after the last layer?)"
                    )
                    or losses
                )
            if expected.gradients is not None and actual.gradients is not None:
                found = self.compare.gradients(labels, expected.gradients, actual.gradients)
                self.gradient_divergence = self.gradient_divergence or found

    def training(self, inputs: Any, pairs: LayerPairs) -> None:
        """Training mode, where both models can draw the same randomness."""
        self.progress("training mode")
        original_seeds = seed_states(self.original, [p[1] for p in pairs.leaves])
        generated_seeds = seed_states(self.generated, [p[2] for p in pairs.leaves])
        if len(original_seeds) != len(generated_seeds):
            self._skip_training("the models hold different numbers of random seed generators")
            return
        # Every variable, trainable ones too: a training-mode call may write to weights
        # (BatchNormalization's moving statistics, SpectralNormalization's kernel), and
        # the checks after this one, and ``--weights``, must see the weights as loaded.
        snapshot_o = [v.numpy() for v in self.original.variables]
        snapshot_g = [v.numpy() for v in self.generated.variables]
        start = [s.numpy() for s in original_seeds]
        try:
            expected = record_calls(self.original, inputs, training=True, role="original")
            # With random layers, run again from the same seeds: if Keras itself does not
            # repeat, no comparison can be fair, and the report says so.
            repeat = expected
            if original_seeds:
                restore(original_seeds, start)
                repeat = record_calls(self.original, inputs, training=True, role="original")
            if not same_values(expected.outputs, repeat.outputs):
                self._skip_training(
                    "the original is not deterministic in training mode, even with fixed seeds"
                )
                return
            restore(generated_seeds, start)
            actual = record_calls(self.generated, inputs, training=True, role="generated")
            outputs_ok = self.compare.structures("training", expected.outputs, actual.outputs)
            first = self.compare.recorded("training", expected.calls, actual.calls)
            if not self.divergence and (first or not outputs_ok):
                self.divergence = first or "the training-mode outputs differ"
        finally:
            restore(self.original.variables, snapshot_o)
            restore(self.generated.variables, snapshot_g)

    def _skip_training(self, reason: str) -> None:
        self.compare.checks.append(
            Check("training", "training mode", status="skipped", note=reason)
        )

    def serialization(self, inputs: Any) -> None:
        import keras

        self.progress("save/load round trip")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "generated.keras"
            try:
                self.generated.save(path)
                reloaded = keras.models.load_model(path)
            except Exception as exc:
                unstorable = unstorable_names(self.original)
                if unstorable:  # Keras's limit, not a conversion problem
                    note = (
                        f"HDF5 cannot store the NUL character in layer name {unstorable[0]!r}, "
                        "so Keras cannot save the original model either"
                    )
                    self.compare.checks.append(
                        Check("serialization", "save/load", status="skipped", note=note)
                    )
                    return
                self.compare.checks.append(
                    Check("serialization", "save/load", status="mismatch", note=one_line(exc))
                )
                self.divergence = (
                    self.divergence
                    or f"the generated model does not survive save/load: {one_line(exc)}"
                )
                return
            expected = self.first_outputs  # the generated model's, on the same inputs
            actual = reloaded(inputs, training=False)
            if (
                not self.compare.structures("serialization", expected, actual)
                and not self.divergence
            ):
                self.divergence = "outputs change after a .keras save/load round trip"


def _batch_size(inputs: Any) -> int:
    from keras import tree

    return int(np.shape(tree.flatten(inputs)[0])[0])


def _instantiate(generated_cls: type, where: str) -> Any:
    try:
        generated = generated_cls()
    except Exception as exc:
        raise VerificationError(
            f"cannot instantiate {generated_cls.__name__}(): {one_line(exc)}", where=where
        ) from exc
    try:
        generated.build(None)
    except Exception as exc:
        raise VerificationError(
            f"cannot build {generated_cls.__name__}: {one_line(exc)}", where=where
        ) from exc
    return generated


def _unknown_dims_note(model: Any) -> str:
    if not has_unknown_dims(model):
        return ""
    return f", every unknown (None) dimension of size {unknown_size(model)}"


def verify(
    original: Any,
    generated_cls: type,
    *,
    atol: float | None = None,
    rtol: float | None = None,
    batches: int = 1,
    seed: int = 0,
    batch_size: int = 4,
    progress: Callable[[str], None] | None = None,
    where: str = "generated model",
    inputs: str | None = None,
) -> Report:
    """Compare ``generated_cls`` (instantiated with its defaults) against ``original``.

    ``inputs`` (``--inputs``): a ``.npz`` file or ``module:function`` giving the inputs to
    compare on, instead of seeded generated batches.

    By default on one seeded batch of 4 samples: running a model on 4 samples costs what
    running it on 2 does, so one batch of 4 compares as much as two of 2 in half the time.

    Raises:
        VerificationError: the generated class cannot be instantiated or built.
    """
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    comparison = Comparison(tolerance_for(original, atol, rtol))
    say("building the generated model")
    generated = _instantiate(generated_cls, where)
    verifier = _Verifier(original, generated, comparison, say)
    say("copying weights by layer name")
    pairs = pair_layers(original, generated)
    weight_checks = copy_weights(pairs)
    comparison.checks.extend(weight_checks)
    problems = [c for c in weight_checks if c.status == "mismatch"]
    if inputs is not None:
        samples = [load_inputs(inputs, original)]
    else:
        samples = [
            sample_inputs(original, batch=max(batch_size, 2), seed=seed + i)
            for i in range(max(batches, 1))
        ]
    if problems:
        verifier.divergence = f"layer {problems[0].label!r}: {problems[0].note}"
    else:
        try:
            verifier.inference(samples, pairs)  # gradients too, from the first batch
            verifier.training(samples[0], pairs)
            verifier.divergence = verifier.divergence or verifier.gradient_divergence
            verifier.serialization(samples[0])
        except VerificationError as exc:
            exc.where = exc.where or where
            if inputs is None and isinstance(exc, OriginalModelFails):
                exc.message += (
                    f" (on inputs scaffold generated{_unknown_dims_note(original)}; give "
                    "real ones with --inputs FILE.npz or --inputs module:function)"
                )
            raise
        except Exception as exc:
            raise VerificationError(f"verification failed: {one_line(exc)}", where=where) from exc
    return Report(
        checks=tuple(comparison.checks),
        tolerance=comparison.tolerance,
        divergence=verifier.divergence,
        seconds=time.perf_counter() - started,
        batches=len(samples),
        batch_size=_batch_size(samples[0]),
        seed=seed,
    )


def verify_source(
    original: Any, source: str, class_name: str | None = None, **options: Any
) -> Report:
    """Import generated ``source`` in isolation and verify its model class.

    ``module_file``: where the module lives, if its constants are in a file beside it.
    """
    where = options.pop("where", "generated module")
    cls = load_generated_class(source, class_name, where, options.pop("module_file", None))
    return verify(original, cls, where=where, **options)


def verify_files(
    model_path: str | Path,
    generated_path: str | Path,
    class_name: str | None = None,
    *,
    safe_mode: bool = True,
    **options: Any,
) -> Report:
    """Load a model file and a generated module from disk and verify them (used by the
    tests that ``scaffold convert --emit-test`` writes)."""
    from generator.from_keras.loading import load_model

    loaded = load_model(str(model_path), safe_mode=safe_mode)
    source = Path(generated_path).read_text(encoding="utf-8")
    return verify_source(
        loaded.model,
        source,
        class_name,
        where=str(generated_path),
        module_file=Path(generated_path).resolve(),
        **options,
    )
