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
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generator.errors import ScaffoldError
from generator.sample_inputs import sample_inputs

# float32: outputs of equivalent code agree to ~1e-6; 1e-5/1e-4 leaves room for kernels
# that accumulate in a different order, and none for a changed layer.
DEFAULT_ATOL = 1e-5
DEFAULT_RTOL = 1e-4
# float16/bfloat16 policies carry ~3 significant digits.
LOW_PRECISION_ATOL = 1e-2
LOW_PRECISION_RTOL = 1e-2

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "Check",
    "Difference",
    "Report",
    "Tolerance",
    "VerificationError",
    "compare_outputs",
    "import_source",
    "sample_inputs",
    "transfer_weights",
    "verify",
]


class VerificationError(ScaffoldError):
    """The generated model cannot even be imported, instantiated or built (exit 1)."""


@dataclass(frozen=True)
class Tolerance:
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    loosened: bool = False  # the user asked for more than the defaults allow

    def accepts(self, expected: np.ndarray, actual: np.ndarray) -> bool:
        return bool(np.all(np.abs(expected - actual) <= self.atol + self.rtol * np.abs(expected)))


@dataclass(frozen=True)
class Difference:
    label: str
    shape: tuple[int, ...]
    max_abs: float
    max_rel: float


@dataclass(frozen=True)
class Check:
    """One comparison in the report: an output, a layer, a gradient, ..."""

    kind: str  # "weights", "output", "layer", "training", "gradient", "serialization"
    label: str
    shape: tuple[int, ...] = ()
    max_abs: float = 0.0
    max_rel: float = 0.0
    status: str = "ok"  # "ok", "mismatch", "skipped"
    note: str = ""


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
            return text
        return f"MISMATCH: {self.divergence} ({tol})"


# -- isolation and set-up ------------------------------------------------------------------


def import_source(source: str, module_name: str = "scaffold_generated") -> types.ModuleType:
    """Execute generated source in a fresh module object that ``sys.modules`` never holds."""
    module = types.ModuleType(module_name)
    module.__file__ = f"<{module_name}>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def load_generated_class(source: str, class_name: str | None, where: str) -> type:
    """Import generated source in isolation and find the model class to check."""
    try:
        module = import_source(source, "scaffold_verify_generated")
    except Exception as exc:
        raise VerificationError(
            f"cannot import the generated module: {_one_line(exc)}", where=where
        ) from exc
    import keras

    if class_name is not None:
        cls = getattr(module, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, keras.Model)):
            raise VerificationError(f"no keras.Model subclass named {class_name!r}", where=where)
        return cls
    candidates = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, keras.Model)
        and value.__module__ == module.__name__
    ]
    if not candidates:
        raise VerificationError("the module defines no keras.Model subclass", where=where)
    return candidates[-1]  # generated modules define the main model last


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# -- layer pairing and weights --------------------------------------------------------------


@dataclass
class _Pairs:
    """Leaf layers of both models matched by their name path (``outer/inner/dense``)."""

    leaves: list[tuple[str, Any, Any]] = field(default_factory=list)
    problems: list[Check] = field(default_factory=list)


def _is_container(layer: Any) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _named_children(model: Any) -> list[Any]:
    from keras.src.layers.core.input_layer import InputLayer

    return [layer for layer in model.layers if not isinstance(layer, InputLayer)]


def pair_layers(original: Any, generated: Any, prefix: str = "") -> _Pairs:
    pairs = _Pairs()
    ours = {layer.name: layer for layer in _named_children(generated)}
    seen: set[str] = set()
    for layer in _named_children(original):
        path = f"{prefix}{layer.name}"
        seen.add(layer.name)
        twin = ours.get(layer.name)
        if twin is None:
            pairs.problems.append(
                Check(
                    "weights",
                    path,
                    status="mismatch",
                    note="layer missing from the generated model",
                )
            )
            continue
        if _is_container(layer) and _is_container(twin):
            inner = pair_layers(layer, twin, f"{path}/")
            pairs.leaves.extend(inner.leaves)
            pairs.problems.extend(inner.problems)
        else:
            pairs.leaves.append((path, layer, twin))
    for name in ours:
        if name not in seen and ours[name].weights:
            pairs.problems.append(
                Check(
                    "weights",
                    f"{prefix}{name}",
                    status="mismatch",
                    note="layer not in the original model",
                )
            )
    return pairs


def copy_weights(pairs: _Pairs) -> list[Check]:
    """Copy weights pair by pair; count, shape and dtype must match one to one."""
    checks = list(pairs.problems)
    for path, layer, twin in pairs.leaves:
        theirs, ours = layer.weights, twin.weights
        if len(theirs) != len(ours):
            note = f"{len(ours)} weights in the generated layer, {len(theirs)} in the original"
            if not ours and theirs:
                note += " (is the layer never called, so never built?)"
            checks.append(Check("weights", path, status="mismatch", note=note))
            continue
        bad = [
            (o.path, tuple(o.shape), str(o.dtype), tuple(t.shape), str(t.dtype))
            for o, t in zip(ours, theirs, strict=True)
            if tuple(o.shape) != tuple(t.shape) or str(o.dtype) != str(t.dtype)
        ]
        if bad:
            path_, shape, dtype, want_shape, want_dtype = bad[0]
            checks.append(
                Check(
                    "weights",
                    path,
                    status="mismatch",
                    note=f"{path_}: {shape} {dtype}, expected {want_shape} {want_dtype}",
                )
            )
            continue
        for o, t in zip(ours, theirs, strict=True):
            o.assign(t.value)
        if type(twin).__name__ == "Normalization" and hasattr(twin, "finalize_state"):
            twin.finalize_state()  # set_weights does not refresh the cached mean/variance
    return checks


def transfer_weights(original: Any, generated: Any) -> None:
    """Copy all weights by layer name; raise if the layouts differ."""
    checks = copy_weights(pair_layers(original, generated))
    problems = [c for c in checks if c.status == "mismatch"]
    if problems:
        raise ValueError(f"{problems[0].label}: {problems[0].note}")


def _all_layers(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for layer in getattr(model, "layers", []):
        path = f"{prefix}{layer.name}"
        yield path, layer
        if _is_container(layer):
            yield from _all_layers(layer, f"{path}/")


# -- recording and comparing ----------------------------------------------------------------


@dataclass
class _Call:
    inputs: list[Any]
    outputs: list[Any]


@dataclass(frozen=True)
class _Recording:
    """One run of a model: its outputs, every layer's calls, and gradients if asked."""

    outputs: Any
    calls: dict[str, list[_Call]]
    gradients: list[Any] | None = None


def record_calls(
    model: Any,
    inputs: Any,
    *,
    training: bool | None,
    role: str = "model",
    gradients_for: list[Any] | None = None,
) -> _Recording:
    """Run ``model`` once, recording every (nested) layer's inputs and outputs by path.

    Both kinds of model call their layers through ``Layer.__call__``, which calls the
    instance's ``call``; wrapping that per instance records without changing results.
    With ``gradients_for`` (weights), the same run also gives the gradients of
    ``projected_loss`` with respect to them, so checking gradients costs no extra forward.
    """
    import tensorflow as tf
    from keras import tree

    recorded: dict[str, list[_Call]] = {}
    patched = []
    for path, layer in _all_layers(model):
        if type(layer).__name__ == "InputLayer":
            continue
        original_call = layer.call

        def recording_call(
            *args: Any, _call: Any = original_call, _path: str = path, **kwargs: Any
        ) -> Any:
            result = _call(*args, **kwargs)
            recorded.setdefault(_path, []).append(
                _Call(
                    [np.asarray(t) for t in tree.flatten((args, kwargs)) if _is_tensor(t)],
                    [np.asarray(t) for t in tree.flatten(result) if _is_tensor(t)],
                )
            )
            return result

        layer.call = recording_call
        patched.append(layer)
    gradients = None
    try:
        if gradients_for is None:
            result = model(inputs, training=training)
        else:
            with tf.GradientTape() as tape:
                result = model(inputs, training=training)
                loss = projected_loss(result)
            # Embedding gradients arrive as IndexedSlices: densify before comparing.
            gradients = [
                None if g is None else np.asarray(tf.convert_to_tensor(g))
                for g in tape.gradient(loss, gradients_for)
            ]
    except Exception as exc:
        mode = "training" if training else "inference"
        raise VerificationError(
            f"the {role} model fails to run in {mode} mode: {_one_line(exc)}"
        ) from exc
    finally:
        for layer in patched:
            del layer.call
    return _Recording(result, recorded, gradients)


def projected_loss(outputs: Any) -> Any:
    """A scalar that depends on every output element: each output times a fixed random
    projection of its shape, averaged and summed (the same for both models)."""
    import tensorflow as tf
    from keras import tree

    rng = np.random.default_rng(1234)
    return tf.add_n(
        [
            tf.reduce_mean(tf.cast(o, "float32") * rng.standard_normal(o.shape).astype("float32"))
            for o in tree.flatten(outputs)
        ]
    )


def _is_tensor(value: Any) -> bool:
    return (
        hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (str, bytes))
    )


def _difference(
    label: str, expected: Any, actual: Any
) -> tuple[Difference, np.ndarray, np.ndarray]:
    want = np.asarray(expected)
    got = np.asarray(actual)
    if want.shape == got.shape and want.dtype == got.dtype and np.array_equal(want, got):
        # Identical (the usual case): no float64 copies of million-element weights.
        return Difference(label, tuple(want.shape), 0.0, 0.0), want, got
    if want.dtype == bool or got.dtype == bool:
        want, got = want.astype(np.float64), got.astype(np.float64)
    want = want.astype(np.float64)
    got = got.astype(np.float64)
    if want.shape != got.shape:
        return Difference(label, tuple(want.shape), float("inf"), float("inf")), want, got
    diff = np.abs(want - got)
    max_abs = float(diff.max()) if diff.size else 0.0
    max_rel = float((diff / np.maximum(np.abs(want), 1e-12)).max()) if diff.size else 0.0
    return Difference(label, tuple(want.shape), max_abs, max_rel), want, got


def compare_outputs(expected: Any, actual: Any) -> list[Difference]:
    """Per-output max abs/rel differences; raises ValueError if the structures differ."""
    from keras import tree

    tree.assert_same_structure(expected, actual)
    differences = []
    for (path, want), got in zip(
        tree.flatten_with_path(expected), tree.flatten(actual), strict=True
    ):
        label = "/".join(str(p) for p in path) or "output"
        differences.append(_difference(label, want, got)[0])
    return differences


# -- the verification ------------------------------------------------------------------------


def tolerance_for(model: Any, atol: float | None, rtol: float | None) -> Tolerance:
    """Defaults suited to the model's compute precision; flags user loosening."""
    low = any(
        str(getattr(layer, "compute_dtype", "float32")) in ("float16", "bfloat16")
        for _, layer in _all_layers(model)
    )
    base_atol = LOW_PRECISION_ATOL if low else DEFAULT_ATOL
    base_rtol = LOW_PRECISION_RTOL if low else DEFAULT_RTOL
    chosen_atol = base_atol if atol is None else atol
    chosen_rtol = base_rtol if rtol is None else rtol
    return Tolerance(chosen_atol, chosen_rtol, chosen_atol > base_atol or chosen_rtol > base_rtol)


class _Verifier:
    def __init__(
        self,
        original: Any,
        generated: Any,
        tolerance: Tolerance,
        progress: Callable[[str], None],
    ) -> None:
        self.original = original
        self.generated = generated
        self.tolerance = tolerance
        self.progress = progress
        self.checks: list[Check] = []
        self.divergence = ""
        self.first_outputs: Any = None  # the generated model's, on the first batch
        # Reported only when inference and training mode agree: a layer that differs in
        # training mode says more than the gradients it changes.
        self.gradient_divergence = ""

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
            )
        )
        return ok

    def compare_structures(self, kind: str, expected: Any, actual: Any) -> bool:
        from keras import tree

        try:
            tree.assert_same_structure(expected, actual)
        except (ValueError, TypeError) as exc:
            self.checks.append(
                Check(kind, "output structure", status="mismatch", note=_one_line(exc))
            )
            return False
        ok = True
        for (path, want), got in zip(
            tree.flatten_with_path(expected), tree.flatten(actual), strict=True
        ):
            label = "/".join(str(p) for p in path) or "output"
            difference, w, g = _difference(label, want, got)
            ok = self.add(kind, difference, w, g) and ok
        return ok

    def compare_recorded(
        self, kind: str, expected: dict[str, list[_Call]], actual: dict[str, list[_Call]]
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
                    difference, we, ge = _difference(label + suffix, w, g)
                    ok = self.add(kind, difference, we, ge) and ok
                if not ok and not first:
                    first = self._describe_divergence(kind, label, want, got)
        return first

    def _inputs_match(self, want: _Call, got: _Call) -> bool:
        return len(want.inputs) == len(got.inputs) and all(
            np.shape(w) == np.shape(g)
            and self.tolerance.accepts(np.asarray(w, np.float64), np.asarray(g, np.float64))
            for w, g in zip(want.inputs, got.inputs, strict=True)
        )

    def _pair_calls(self, want_calls: list[_Call], got_calls: list[_Call]) -> list[_Call]:
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

    def _describe_divergence(self, kind: str, label: str, want: _Call, got: _Call) -> str:
        mode = "training" if kind == "training" else "inference"
        if self._inputs_match(want, got):
            return f"layer {label!r} diverges in {mode} mode: same inputs, different output"
        return (
            f"layer {label!r} is the first whose output differs in {mode} mode; its inputs "
            "already differ (wiring, argument order or an operation before it)"
        )

    # ---------------------------------------------------------------------------------

    def inference(self, batches: list[Any], pairs: _Pairs) -> None:
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
            outputs_ok = self.compare_structures("output", expected.outputs, actual.outputs)
            first = self.compare_recorded("layer", expected.calls, actual.calls)
            if not self.divergence and (first or not outputs_ok):
                self.divergence = (
                    first
                    or "the outputs differ although every layer matches "
                    "(an operation after the last layer?)"
                )
            if expected.gradients is not None and actual.gradients is not None:
                self.compare_gradients(labels, expected.gradients, actual.gradients)

    def compare_gradients(self, labels: list[str], expected: list[Any], actual: list[Any]) -> None:
        """Gradients of one scalar loss on all outputs, weight by weight."""
        for label, want, got in zip(labels, expected, actual, strict=True):
            if want is None and got is None:
                continue
            want_arr = np.zeros(1) if want is None else want
            got_arr = np.zeros(1) if got is None else got
            difference, w, g = _difference(label, want_arr, got_arr)
            if not self.add("gradient", difference, w, g) and not self.gradient_divergence:
                self.gradient_divergence = f"the gradient for weight {label!r} differs"

    def training(self, inputs: Any) -> None:
        """Training mode, where both models can draw the same randomness."""
        self.progress("training mode")
        original_seeds = _seed_states(self.original)
        generated_seeds = _seed_states(self.generated)
        if len(original_seeds) != len(generated_seeds):
            self.checks.append(
                Check(
                    "training",
                    "training mode",
                    status="skipped",
                    note="the models hold different numbers of random seed generators",
                )
            )
            return
        snapshot_o = [v.numpy() for v in self.original.non_trainable_variables]
        snapshot_g = [v.numpy() for v in self.generated.non_trainable_variables]
        start = [s.numpy() for s in original_seeds]
        try:
            expected = record_calls(self.original, inputs, training=True, role="original")
            # With random layers, run again from the same seeds: if Keras itself does not
            # repeat, no comparison can be fair, and the report says so.
            repeat = expected
            if original_seeds:
                _restore(original_seeds, start)
                repeat = record_calls(self.original, inputs, training=True, role="original")
            if not _same(expected.outputs, repeat.outputs):
                self.checks.append(
                    Check(
                        "training",
                        "training mode",
                        status="skipped",
                        note="the original is not deterministic in training mode, "
                        "even with fixed seeds",
                    )
                )
                return
            _restore(generated_seeds, start)
            actual = record_calls(self.generated, inputs, training=True, role="generated")
            outputs_ok = self.compare_structures("training", expected.outputs, actual.outputs)
            first = self.compare_recorded("training", expected.calls, actual.calls)
            if not self.divergence and (first or not outputs_ok):
                self.divergence = first or "the training-mode outputs differ"
        finally:
            _restore(self.original.non_trainable_variables, snapshot_o)
            _restore(self.generated.non_trainable_variables, snapshot_g)

    def serialization(self, inputs: Any) -> None:
        import keras

        self.progress("save/load round trip")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "generated.keras"
            try:
                self.generated.save(path)
                reloaded = keras.models.load_model(path)
            except Exception as exc:
                self.checks.append(
                    Check("serialization", "save/load", status="mismatch", note=_one_line(exc))
                )
                self.divergence = (
                    self.divergence
                    or f"the generated model does not survive save/load: {_one_line(exc)}"
                )
                return
            expected = self.first_outputs  # the generated model's, on the same inputs
            actual = reloaded(inputs, training=False)
            if (
                not self.compare_structures("serialization", expected, actual)
                and not self.divergence
            ):
                self.divergence = "outputs change after a .keras save/load round trip"


def _batch_size(inputs: Any) -> int:
    from keras import tree

    return int(np.shape(tree.flatten(inputs)[0])[0])


def _seed_states(model: Any) -> list[Any]:
    states = []
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for generator in getattr(layer, "_seed_generators", []):
            states.append(generator.state)
    return states


def _restore(variables: list[Any], values: list[Any]) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def _same(a: Any, b: Any) -> bool:
    from keras import tree

    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(tree.flatten(a), tree.flatten(b), strict=True)
    )


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
) -> Report:
    """Compare ``generated_cls`` (instantiated with its defaults) against ``original``.

    By default on one seeded batch of 4 samples: running a model on 4 samples costs what
    running it on 2 does, so one batch of 4 compares as much as two of 2 in half the time.

    Raises:
        VerificationError: the generated class cannot be instantiated or built.
    """
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    tolerance = tolerance_for(original, atol, rtol)
    say("building the generated model")
    try:
        generated = generated_cls()
    except Exception as exc:
        raise VerificationError(
            f"cannot instantiate {generated_cls.__name__}(): {_one_line(exc)}", where=where
        ) from exc
    try:
        generated.build(None)
    except Exception as exc:
        raise VerificationError(
            f"cannot build {generated_cls.__name__}: {_one_line(exc)}", where=where
        ) from exc
    verifier = _Verifier(original, generated, tolerance, say)
    say("copying weights by layer name")
    pairs = pair_layers(original, generated)
    weight_checks = copy_weights(pairs)
    verifier.checks.extend(weight_checks)
    problems = [c for c in weight_checks if c.status == "mismatch"]
    samples = [
        sample_inputs(original, batch=max(batch_size, 2), seed=seed + i)
        for i in range(max(batches, 1))
    ]
    if problems:
        verifier.divergence = f"layer {problems[0].label!r}: {problems[0].note}"
    else:
        try:
            verifier.inference(samples, pairs)  # gradients too, from the first batch
            verifier.training(samples[0])
            verifier.divergence = verifier.divergence or verifier.gradient_divergence
            verifier.serialization(samples[0])
        except VerificationError as exc:
            exc.where = exc.where or where
            raise
        except Exception as exc:
            raise VerificationError(f"verification failed: {_one_line(exc)}", where=where) from exc
    return Report(
        checks=tuple(verifier.checks),
        tolerance=tolerance,
        divergence=verifier.divergence,
        seconds=time.perf_counter() - started,
        batches=len(samples),
        batch_size=_batch_size(samples[0]),
        seed=seed,
    )


def verify_source(
    original: Any, source: str, class_name: str | None = None, **options: Any
) -> Report:
    """Import generated ``source`` in isolation and verify its model class."""
    where = options.pop("where", "generated module")
    cls = load_generated_class(source, class_name, where)
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
    from generator.loading import load_model

    loaded = load_model(str(model_path), safe_mode=safe_mode)
    source = Path(generated_path).read_text(encoding="utf-8")
    return verify_source(loaded.model, source, class_name, where=str(generated_path), **options)
