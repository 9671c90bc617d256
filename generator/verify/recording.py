"""Runs a model once and records what every (nested) layer received and returned.

Both kinds of model call their layers through ``Layer.__call__``, which calls the
instance's ``call``; wrapping that per instance records without changing results. The
same run can also give the gradients of one scalar loss, so checking gradients costs no
extra forward pass.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generator.errors import OriginalModelFails, VerificationError, one_line
from generator.from_keras.internals import flatten_layers, seed_generators
from generator.verify.pairing import all_layers


@dataclass
class LayerCall:
    inputs: list[Any]
    outputs: list[Any]


@dataclass(frozen=True)
class Recording:
    """One run of a model: its outputs, every layer's calls, and gradients if asked."""

    outputs: Any
    calls: dict[str, list[LayerCall]]
    gradients: list[Any] | None = None
    losses: list[Any] = field(default_factory=list)  # ``add_loss`` and regularizers


def record_calls(
    model: Any,
    inputs: Any,
    *,
    training: bool | None,
    role: str = "model",
    gradients_for: list[Any] | None = None,
) -> Recording:
    """Run ``model`` once, recording every (nested) layer's inputs and outputs by path.

    With ``gradients_for`` (weights), the same run also gives the gradients of
    ``projected_loss`` with respect to them.
    """
    import tensorflow as tf
    from keras import tree

    recorded: dict[str, list[LayerCall]] = {}
    patched = []
    for path, layer in all_layers(model):
        if type(layer).__name__ == "InputLayer":
            continue
        original_call = layer.call

        def recording_call(
            *args: Any, _call: Any = original_call, _path: str = path, **kwargs: Any
        ) -> Any:
            result = _call(*args, **kwargs)
            recorded.setdefault(_path, []).append(
                LayerCall(
                    [np.asarray(t) for t in tree.flatten((args, kwargs)) if _is_tensor(t)],
                    [np.asarray(t) for t in tree.flatten(result) if _is_tensor(t)],
                )
            )
            return result

        layer.call = recording_call
        patched.append(layer)
    gradients = None
    try:
        with tf.GradientTape() if gradients_for is not None else contextlib.nullcontext() as tape:
            result = model(inputs, training=training)
            # What the model adds (add_loss in a layer's call, weight regularizers) is part
            # of what it computes: compared as values, and in the loss behind the gradients.
            added = [tf.convert_to_tensor(loss) for loss in model.losses]
            if tape is not None:
                loss = projected_loss(result) + sum(tf.reduce_sum(a) for a in added)
        if tape is not None:
            # Embedding gradients arrive as IndexedSlices: densify before comparing.
            gradients = [
                None if g is None else np.asarray(tf.convert_to_tensor(g))
                for g in tape.gradient(loss, gradients_for)
            ]
    except Exception as exc:
        mode = "training" if training else "inference"
        failure = OriginalModelFails if role == "original" else VerificationError
        raise failure(f"the {role} model fails to run in {mode} mode: {one_line(exc)}") from exc
    finally:
        for layer in patched:
            del layer.call
    return Recording(result, recorded, gradients, [np.asarray(a) for a in added])


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


def seed_states(model: Any, leaves: list[Any]) -> list[Any]:
    """The state variables of every seed generator in ``model``: the model's own, then
    each paired leaf layer's (``leaves`` in pairing order, so both models list them alike
    however their classes nest)."""
    owners = [
        model,
        *(inner for leaf in leaves for inner in flatten_layers(leaf, include_self=True)),
    ]
    return [generator.state for layer in owners for generator in seed_generators(layer)]


def restore(variables: list[Any], values: list[Any]) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
