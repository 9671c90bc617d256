"""How a converted model trains: its original ``compile()`` losses and metrics, per
output, in the form a spec's task gives them (the project's train.py; docs/training.md).

Read from the IR of the compile arguments (``ModuleIR.compile_config``), so nothing here
needs Keras: a loss is a Keras name (``"mse"``), a loss object's constructor call, or a
mapping or list of them by output.
"""

from __future__ import annotations

from generator.core.ir import (
    Call,
    DictValue,
    ListValue,
    ModuleIR,
    OutputTraining,
    Symbol,
    Training,
    Value,
)
from generator.core.naming import to_pascal
from generator.core.targets import targets_for_loss
from generator.errors import UnsupportedModelError

# Keras's short loss names, as their classes.
_ALIASES = {
    "mse": "MeanSquaredError",
    "mae": "MeanAbsoluteError",
    "mape": "MeanAbsolutePercentageError",
    "msle": "MeanSquaredLogarithmicError",
    "kld": "KLDivergence",
    "kl_divergence": "KLDivergence",
    "logcosh": "LogCosh",
    "log_cosh": "LogCosh",
}


def compiled_training(module: ModuleIR) -> Training | None:
    """The original ``compile()`` arguments as a ``Training`` (None if not compiled).

    Raises:
        UnsupportedModelError: the losses do not match the outputs.
    """
    config = module.compile_config
    if not isinstance(config, DictValue):
        return None
    arguments = {key: value for key, value in config.items if isinstance(key, str)}
    loss = arguments.get("loss")  # a name, a constructor call, or one per output
    if loss is None:
        return None
    structure, keys = module.main.output_keys()
    losses = _per_output(loss, structure, keys, "loss")
    metrics = _per_output(arguments.get("metrics"), structure, keys, "metrics", metrics=True)
    weights = _per_output(arguments.get("loss_weights"), structure, keys, "loss_weights")
    outputs = []
    for key in keys:
        output_loss = losses.get(key)
        if output_loss is None:
            continue
        name = loss_class_name(output_loss)
        logits = isinstance(output_loss, Call) and ("from_logits", True) in output_loss.kwargs
        found = metrics.get(key)
        metric_values = found.items if isinstance(found, ListValue) else (found,) if found else ()
        weight = weights.get(key, 1.0)
        target = targets_for_loss(name)
        outputs.append(
            OutputTraining(
                key,
                "compiled",
                target,
                output_loss,
                metric_values,
                logits,
                float(weight) if isinstance(weight, int | float) else 1.0,
            )
        )
    if not outputs:
        return None
    untrained = tuple(str(k) for k in keys if k not in losses) if structure == "dict" else ()
    if structure == "list" and len(outputs) != len(keys):
        raise UnsupportedModelError(
            "a list of losses with None for some outputs: train.py needs a loss per output",
            where="compile config 'loss'",
        )
    return Training(tuple(outputs), structure, "compiled", untrained)


def loss_class_name(loss: Value) -> str:
    """``"sparse_categorical_crossentropy"`` or a constructor call → its class name."""
    if isinstance(loss, str):
        return _ALIASES.get(loss, to_pascal(loss))
    if isinstance(loss, Call) and isinstance(loss.func, Symbol):
        return loss.func.qualname.rsplit(".", 1)[-1]
    return ""


def _per_output(
    value: Value, structure: str, keys: list[str | int | None], what: str, metrics: bool = False
) -> dict[str | int | None, Value]:
    """A compile argument for the whole model, by output name, or in output order."""
    if value is None:
        return {}
    if isinstance(value, DictValue):
        found = {key: item for key, item in value.items if isinstance(key, str)}
        unknown = [key for key in found if key not in keys]
        if unknown:
            raise UnsupportedModelError(
                f"names output {unknown[0]!r}, which the model does not have",
                where=f"compile config {what!r}",
            )
        return {key: item for key, item in found.items() if item is not None}
    if (
        structure == "list"
        and isinstance(value, ListValue)
        and (not metrics or all(isinstance(v, ListValue) for v in value.items))
    ):
        if len(value.items) != len(keys):
            raise UnsupportedModelError(
                f"has {len(value.items)} entries for {len(keys)} outputs",
                where=f"compile config {what!r}",
            )
        return {key: item for key, item in zip(keys, value.items, strict=True) if item is not None}
    return {key: value for key in keys}
