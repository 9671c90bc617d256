"""The spec's training section: the loss and metrics of each output, and what kind of
synthetic targets stand in for real labels (docs/spec.md, "Training").

A ``task:`` names a whole recipe (``classification``: sparse categorical cross-entropy
on logits, accuracy, class-index labels); ``loss:`` and ``metrics:`` override it with
Keras classes, checked against the catalog like layers. Each can be given for the whole
model, by output key (dict outputs) or in output order (list outputs).
"""

from __future__ import annotations

from typing import Any

from generator.core.ir import Call, OutputTraining, Symbol, Training
from generator.core.targets import targets_for_loss
from generator.errors import SpecError
from generator.from_spec.check_calls import CallChecker
from generator.from_spec.spec import (
    CheckedGraph,
    CheckedOutput,
    LayerCall,
    Loc,
    ModelSpec,
    ParamRef,
    suggest,
)

# task -> (targets, loss class, metric classes with their names)
TASKS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "classification": ("labels", "SparseCategoricalCrossentropy", ("SparseCategoricalAccuracy",)),
    "binary": ("binary", "BinaryCrossentropy", ("BinaryAccuracy",)),
    "regression": ("values", "MeanSquaredError", ("MeanAbsoluteError",)),
    "reconstruction": ("input", "MeanSquaredError", ("MeanAbsoluteError",)),
}
NO_TASK = "none"  # this output does not train
_METRIC_NAMES = {"SparseCategoricalAccuracy": "accuracy", "BinaryAccuracy": "accuracy"}
_METRIC_NAMES["MeanAbsoluteError"] = "mae"
_SQUASHING = {"softmax", "sigmoid", "log_softmax"}


def check_training(
    spec: ModelSpec, graph: CheckedGraph, catalog: dict[str, Any]
) -> tuple[CheckedOutput, ...]:
    """Resolve ``task:``/``loss:``/``metrics:`` per output.

    Raises:
        SpecError: an unknown task, output key, loss or metric, a wrong argument, or an
            output structure the section does not fit; with its location.
    """
    decl = spec.training
    outputs = _outputs(graph.outputs)
    keys = [key for key, _ in outputs]
    tasks = _per_output(decl.task, keys, "task", decl.locs.get("task"))
    losses = _per_output(decl.loss, keys, "loss", decl.locs.get("loss"))
    metrics = _per_output(decl.metrics, keys, "metrics", decl.locs.get("metrics"), listed=True)
    by_output = isinstance(decl.metrics, dict) or (
        isinstance(decl.metrics, list) and any(isinstance(m, list) for m in decl.metrics)
    )
    if decl.task is None and decl.loss is None:
        tasks = {key: "regression" for key in keys}  # what a spec without a task trains
    loss_check = CallChecker(_section(catalog, "losses"), {}, (), noun="loss")
    metric_check = CallChecker(_section(catalog, "metrics"), {}, (), noun="metric")
    nodes = {node.name: node for node in graph.nodes}
    checked = []
    for key, node_name in outputs:
        task, loss = tasks.get(key), losses.get(key)
        where = str(decl.locs.get("task") or decl.locs.get("loss") or spec.outputs_loc or "")
        if task is not None and task != NO_TASK and task not in TASKS:
            raise SpecError(
                f"unknown task {task!r}{suggest(str(task), TASKS)}; tasks: "
                f"{', '.join(TASKS)}, or {NO_TASK} for an output that does not train",
                where=where,
            )
        if task == NO_TASK or (task is None and loss is None):
            if metrics.get(key) and by_output:  # whole-model metrics go to trained outputs
                raise SpecError(f"output {key!r} has metrics but no task or loss", where=where)
            continue
        for call in (loss, *(metrics.get(key) or ())):
            if call is not None:
                _check_call(loss_check if call is loss else metric_check, call)
        if task == "reconstruction" and len(graph.inputs) != 1:
            raise SpecError(
                "reconstruction trains an output to reproduce the input: the model needs "
                "exactly one input",
                where=where,
            )
        node = nodes.get(node_name)
        logits = node is None or not _squashes(node.spec.call)
        found = metrics.get(key)
        checked.append(CheckedOutput(key, task or "", loss, found, logits))
    if not checked:
        first = next(iter(decl.locs.values()), None)
        raise SpecError("no output trains: give a task or a loss", where=str(first or spec.source))
    if len(checked) != len(outputs) and isinstance(graph.outputs, list):
        raise SpecError(
            "list outputs train together: give every output a task or loss (or name the "
            "outputs with a mapping to train some)",
            where=str(decl.locs.get("task") or decl.locs.get("loss")),
        )
    return tuple(checked)


def lower_training(
    checked: tuple[CheckedOutput, ...], outputs: Any, catalog: dict[str, Any]
) -> Training:
    """The IR of the training section: Keras loss and metric constructor calls."""
    losses, metrics = _section(catalog, "losses")["layers"], _section(catalog, "metrics")["layers"]
    lowered = []
    for out in checked:
        targets, loss_class, metric_classes = TASKS.get(out.task, ("", "", ()))
        if out.loss is not None:
            loss = _explicit(out.loss, losses)
            targets = targets or targets_for_loss(out.loss.name)
        else:
            loss = _call("losses", loss_class, _loss_kwargs(loss_class, out.logits))
        if out.metrics is not None:
            metric_calls = tuple(_explicit(m, metrics) for m in out.metrics)
        else:
            metric_calls = tuple(
                _call("metrics", name, _metric_kwargs(name, out.logits)) for name in metric_classes
            )
        lowered.append(OutputTraining(out.key, out.task, targets, loss, metric_calls, out.logits))
    structure = (
        "single" if isinstance(outputs, str) else "list" if isinstance(outputs, list) else "dict"
    )
    tasks = {out.task for out in checked}
    trained = {out.key for out in checked}
    untrained = tuple(key for key in outputs if key not in trained) if structure == "dict" else ()
    task = tasks.pop() if len(tasks) == 1 else "mixed"
    return Training(tuple(lowered), structure, task, untrained)


def _outputs(outputs: Any) -> list[tuple[str | int | None, str]]:
    if isinstance(outputs, str):
        return [(None, outputs)]
    if isinstance(outputs, list):
        return list(enumerate(outputs))
    return list(outputs.items())


def _per_output(
    value: Any, keys: list[Any], what: str, loc: Loc | None, *, listed: bool = False
) -> dict[Any, Any]:
    """``value`` for the whole model, by output key, or in output order → per key."""
    where = str(loc) if loc else what
    if value is None:
        return {}
    if isinstance(value, dict):
        named = [key for key in keys if isinstance(key, str)]
        for key in value:
            if key not in named:
                options = f"; outputs: {', '.join(map(repr, named))}" if named else ""
                raise SpecError(
                    f"{what} names output {key!r}, which the model does not have"
                    f"{suggest(str(key), named)}{options}",
                    where=where,
                )
        return dict(value)
    if isinstance(value, list) and not (listed and all(isinstance(v, LayerCall) for v in value)):
        if len(value) != len(keys) or not all(isinstance(k, int) for k in keys):
            raise SpecError(
                f"{what} lists {len(value)} entries; a list gives one per output of list "
                f"outputs, in order (this model has {len(keys)})",
                where=where,
            )
        return dict(zip(keys, value, strict=True))
    if what == "task" and not isinstance(value, str):
        raise SpecError("task is a name (classification), or one per output", where=where)
    return {key: value for key in keys}


def _check_call(checker: CallChecker, call: LayerCall) -> None:
    for arg in (*call.args, *(v for _, v in call.kwargs)):
        if isinstance(arg, ParamRef):
            raise SpecError(
                f"{call.name}: losses and metrics take literal values (train.py has no "
                f"parameter {arg.name!r})",
                where=str(arg.loc),
            )
    checker.layer_call(call)


def _squashes(call: LayerCall) -> bool:
    """Whether a layer's output is already a probability (softmax, sigmoid)."""
    if call.name in ("Softmax",):
        return True
    activation = dict(call.kwargs).get("activation")
    if activation is None and call.name == "Activation" and call.args:
        activation = call.args[0]
    elif activation is None and call.name == "Dense" and len(call.args) >= 2:
        activation = call.args[1]
    return isinstance(activation, str) and activation in _SQUASHING


def _explicit(call: LayerCall, section: dict[str, Any]) -> Call:
    """A loss or metric as written (``name=`` included: metrics are logged by name)."""
    from generator.from_spec.lower import value

    args = tuple(value(arg, section) for arg in call.args)
    kwargs = tuple((key, value(arg, section)) for key, arg in call.kwargs)
    return Call(Symbol("keras", section[call.name]["path"]), args, kwargs)


def _section(catalog: dict[str, Any], name: str) -> dict[str, Any]:
    return {"layers": catalog.get(name, {}), "names": catalog.get("names", {})}


def _call(module: str, name: str, kwargs: tuple[tuple[str, Any], ...]) -> Call:
    return Call(Symbol("keras", f"{module}.{name}"), (), kwargs)


def _loss_kwargs(name: str, logits: bool) -> tuple[tuple[str, Any], ...]:
    return (("from_logits", logits),) if name.endswith("Crossentropy") else ()


def _metric_kwargs(name: str, logits: bool) -> tuple[tuple[str, Any], ...]:
    kwargs: list[tuple[str, Any]] = []
    if name == "BinaryAccuracy" and logits:
        kwargs.append(("threshold", 0.0))  # a logit above 0 is a probability above 0.5
    if name in _METRIC_NAMES:
        kwargs.append(("name", _METRIC_NAMES[name]))
    return tuple(kwargs)
