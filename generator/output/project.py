"""Renders and writes the small project of ``scaffold new NAME``.

The project holds the model module, a training script on synthetic data with a clear
place for real data, tests that build, run, train one step and round-trip the model, and a
README with a Mermaid diagram of the architecture. ``project_write`` writes it.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from typing import Any

from generator import __version__
from generator.core.ir import (
    Assign,
    Call,
    ModelIR,
    ModuleIR,
    Name,
    OutputTraining,
    SelfAttr,
    Symbol,
    Training,
    iter_values,
)
from generator.core.naming import to_snake
from generator.errors import PackError
from generator.output.diagram import mermaid_diagram
from generator.output.render import RenderOptions, pack_context, pack_python
from generator.output.source import SourceWriter, string_literal
from generator.packs.environment import pack_environment, render
from generator.packs.project_files import extra_project_files

# Layers whose output differs between training and inference.
_TRAINING_DEPENDENT = {
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "BatchNormalization",
}


LOOPS = ("fit", "train-step", "custom")
STRATEGIES = ("default", "mirrored", "multiworker")
_LOOP_SUMMARIES = {
    "fit": "compile() and fit().",
    "train-step": "fit(), with the model's own train_step() and test_step().",
    "custom": "an explicit, compiled training loop with checkpoints.",
}
_TARGET_WORDS = {
    "labels": "class indices",
    "onehot": "one-hot classes",
    "binary": "0 or 1",
    "values": "real values",
    "input": "the input itself",
}


@dataclass(frozen=True)
class TrainingOptions:
    """How the project's train.py trains (``scaffold new --loop/--strategy``)."""

    loop: str = "fit"
    strategy: str = "default"
    mixed_precision: bool = False


DEFAULT_TRAINING = TrainingOptions()


def render_project(
    module: ModuleIR,
    model_source: str,
    name: str,
    import_style: str,
    options: TrainingOptions = DEFAULT_TRAINING,
    render_options: RenderOptions | None = None,
    updatable: bool = False,
) -> dict[str, str | bytes]:
    """Relative path → file content for the whole project: the built-in files (as the
    pack overrides them) and the pack's extra files."""
    render_options = render_options or RenderOptions(import_style=import_style)
    package = to_snake(name) or "model"
    main = module.main
    single_input = main.input_structure == "single"
    context: dict[str, Any] = {
        **pack_context(render_options),
        "updatable": updatable,  # scaffold update can render it again (scaffold new)
        "project": name,
        "package": package,
        "class_name": main.class_name,
        "summary": main.summary,
        "tool_version": __version__,
        "keras_series": _keras_series(),
        "import_style": import_style,
        "inputs": [_input_context(main, i) for i in main.inputs],
        "single_input": single_input,
        "training_dependent": _training_dependent(module),
        "mermaid": mermaid_diagram(module),
        "params": [(p.name, repr(_plain(p.default))) for p in main.params],
        "loop": options.loop,
        "loop_summary": _LOOP_SUMMARIES[options.loop],
        "strategy": options.strategy,
        "strategy_choices": repr(
            list(STRATEGIES) if options.loop == "custom" else ["default", "mirrored"]
        ),
        "mixed_precision": repr(options.mixed_precision),
        "compiled": module.training is not None and module.training.task == "compiled",
        **_training_context(module.training or _regression(main), options.loop, main, single_input),
    }
    env = pack_environment(render_options.pack)

    builtin = render_options.pack.is_builtin  # a pack's Python is formatted by Black whole

    def text(template: str) -> str:
        return render(env, template, context)

    def python(template: str, black_style: bool = False) -> str:
        return pack_python(text(template), render_options.pack, template, black_style)

    train_template = (
        "project/train_custom.py.jinja"
        if options.loop == "custom"
        else ("project/train_fit.py.jinja")
    )
    files: dict[str, str | bytes] = {
        "pyproject.toml": text("project/pyproject.toml.jinja"),
        "README.md": text("project/README.md.jinja"),
        f"src/{package}/__init__.py": python("project/package_init.py.jinja", builtin),
        f"src/{package}/model.py": model_source,
        "train.py": python(train_template),
        "tests/test_model.py": python("project/test_model.py.jinja", builtin),
        ".gitignore": text("project/gitignore.jinja"),
    }
    templates = {
        ".gitignore": "gitignore.jinja",
        "train.py": train_template.removeprefix("project/"),
    }
    for relative, content in extra_project_files(render_options.pack, env, context).items():
        if relative in files:
            template = templates.get(relative, relative + ".jinja")
            raise PackError(
                f"its extra file {relative} is a file the project already has; to change "
                f"it, override the built-in template project/{template}",
                where=f"template pack {render_options.pack.name!r} ({render_options.pack.origin})",
            )
        files[relative] = content
    return files


def _regression(main: ModelIR) -> Training:
    """What a model without a task or compile() arguments trains with: mean squared
    error on every output."""
    structure, keys = main.output_keys()
    mse = Call(Symbol("keras", "losses.MeanSquaredError"))
    mae = Call(Symbol("keras", "metrics.MeanAbsoluteError"), (), (("name", "mae"),))
    outputs = tuple(OutputTraining(key, "regression", "values", mse, (mae,)) for key in keys)
    return Training(outputs, structure, "regression")


def _training_context(
    training: Training, loop: str, main: ModelIR, single_input: bool
) -> dict[str, Any]:
    """train.py's losses, metrics and synthetic targets as Python expressions."""
    writer = SourceWriter("tf")
    outputs = training.outputs
    custom = loop == "custom"
    names = [_output_name(out.key) for out in outputs]

    def loss(out: OutputTraining) -> str:
        value = out.loss
        if custom and isinstance(value, Call):  # one value per example: the loop averages
            kwargs = tuple(item for item in value.kwargs if item[0] != "reduction")
            value = replace(value, kwargs=(*kwargs, ("reduction", Name("reduction"))))
        elif custom and isinstance(value, str):  # Keras's function: already per example
            value = Call(Symbol("keras", "losses.get"), (value,))
        return writer.write(value)

    def metrics(out: OutputTraining) -> str:
        found = [_metric_object(m, out.target) if custom else m for m in out.metrics]
        return "[" + ", ".join(writer.write(m) for m in found) + "]"

    keys = [string_literal(n) for n in names]
    weights = [repr(out.weight) for out in outputs]
    loss_values, metric_values = [loss(o) for o in outputs], [metrics(o) for o in outputs]
    if custom:
        losses, metric_lists = _mapping(keys, loss_values), _mapping(keys, metric_values)
    else:
        losses = _structure(training, keys, loss_values)
        metric_lists = _structure(training, keys, metric_values)
    targets = [_target(out, training.structure, single_input, main) for out in outputs]
    # fit() wants a target for every output, even one without a loss (never used).
    untrained = [string_literal(key) for key in training.untrained]
    target_keys = [*keys, *untrained]
    targets += [f"np.zeros_like(outputs[{key}])" for key in untrained]
    described = [_TARGET_WORDS[out.target] for out in outputs]
    summary = (
        described[0]
        if training.structure == "single"
        else "; ".join(f"{n}: {d}" for n, d in zip(names, described, strict=True))
    )
    summary += "".join(f"; {key}: unused, it has no loss" for key in training.untrained)
    teacher = any(out.target != "input" for out in outputs)
    targets_doc = f"Stand-in targets ({summary})" + (
        f", from what a second, randomly initialized {main.class_name} predicts: targets "
        "this architecture can learn. "
        if teacher
        else ". "
    )
    targets_doc = "\n    ".join(textwrap.wrap(targets_doc + "Replace them with your labels.", 84))
    by_output = {
        "single": '{"output": values}',
        "dict": "dict(values)",
        "list": '{f"output_{index}": value for index, value in enumerate(values)}',
    }[training.structure]
    return {
        "task": training.task,
        "targets_doc": targets_doc,
        "needs_teacher": bool(untrained) or any(out.target != "input" for out in outputs),
        "targets_expr": _structure(training, target_keys, targets),
        "losses_signature": 'reduction="sum_over_batch_size"' if custom else "",
        "losses_expr": losses,
        "losses_doc": (
            "One loss per output, by name; reduction=None gives one value per example."
            if custom
            else "One loss per output, in the model's output structure, for compile()."
        ),
        "metrics_expr": metric_lists,
        "metrics_doc": "The metrics of each output"
        + (", by name." if custom else ", for compile()."),
        "by_output_expr": by_output,
        "metric_from_name": custom and "metric_from_name(" in metric_lists,
        "loss_weights_expr": (
            (_mapping(keys, weights) if custom else _structure(training, keys, weights))
            if any(out.weight != 1.0 for out in outputs)
            else ""
        ),
    }


def _metric_object(metric: Any, target: str) -> Any:
    """A compiled model's metric name as the metric object the custom loop updates
    (``compile()`` resolves ``"accuracy"`` from the loss; so does this)."""
    if not isinstance(metric, str):
        return metric
    if metric in ("accuracy", "acc"):
        cls = {"labels": "SparseCategoricalAccuracy", "binary": "BinaryAccuracy"}.get(
            target, "CategoricalAccuracy"
        )
        return Call(Symbol("keras", f"metrics.{cls}"), (), (("name", "accuracy"),))
    return Call(Symbol("", "metric_from_name"), (metric,))


def _output_name(key: str | int | None) -> str:
    if key is None:
        return "output"
    return key if isinstance(key, str) else f"output_{key}"


def _mapping(keys: list[str], values: list[str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, values, strict=True)) + "}"


def _structure(training: Training, keys: list[str], values: list[str]) -> str:
    """Values in the model's output structure (only the outputs that train)."""
    if training.structure == "single":
        return values[0]
    if training.structure == "list":
        return "[" + ", ".join(values) + "]"
    return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, values, strict=True)) + "}"


def _target(out: OutputTraining, structure: str, single_input: bool, main: ModelIR) -> str:
    """A synthetic target: from the teacher model's ``outputs``, or the input itself."""
    if out.target == "input":
        if single_input:
            return "inputs"
        return f"inputs[{string_literal(main.inputs[0].key)}]"
    if structure == "single":
        predicted = "outputs"
    elif structure == "list":
        predicted = f"outputs[{out.key}]"
    else:
        predicted = f"outputs[{string_literal(str(out.key))}]"
    if out.target == "labels":
        return f"np.argmax({predicted}, axis=-1)"
    if out.target == "onehot":
        return f'np.eye({predicted}.shape[-1], dtype="float32")[np.argmax({predicted}, axis=-1)]'
    if out.target == "binary":
        threshold = "0.0" if out.logits else "0.5"
        return f'(np.asarray({predicted}) > {threshold}).astype("float32")'
    return f"np.asarray({predicted})"


def _training_dependent(module: ModuleIR) -> bool:
    for model in module.models:
        for layer in model.layers:
            if layer.class_label in _TRAINING_DEPENDENT:
                return True
            for value in iter_values(layer.constructor):
                if isinstance(value, Call) and any(
                    k in ("dropout", "recurrent_dropout") and isinstance(v, (int, float)) and v > 0
                    for k, v in value.kwargs
                ):
                    return True
    return False


def _input_context(main: ModelIR, input_spec: Any) -> dict[str, Any]:
    return {
        "key": string_literal(input_spec.key),
        "dims": "".join(f", {7 if d is None else d}" for d in input_spec.shape),
        "dtype": string_literal(input_spec.dtype),
        "is_int": "int" in input_spec.dtype,
        "is_string": input_spec.dtype == "string",
        "int_high": _index_bound(main, input_spec.var),
    }


def _index_bound(main: ModelIR, var: str) -> int:
    """Exclusive bound for integer inputs: the smallest Embedding ``input_dim`` they feed."""
    attrs = {layer.attr: layer for layer in main.layers}
    params = {p.name: p.default for p in main.params}
    bounds = []
    for step in main.steps:
        if not isinstance(step, Assign) or not isinstance(step.value, Call):
            continue
        call = step.value
        if not isinstance(call.func, SelfAttr) or Name(var) not in call.args:
            continue
        layer = attrs[call.func.attr]
        constructor = layer.constructor
        if not isinstance(constructor, Call):
            continue
        if layer.class_label in ("Embedding", "CategoryEncoding") and constructor.args:
            first = constructor.args[0]
            value = params.get(first.id) if isinstance(first, Name) else first
            if isinstance(value, int):
                bounds.append(value)
    return min(bounds) if bounds else 2


def _plain(value: Any) -> Any:
    from generator.core.ir import DictValue, ListValue

    if isinstance(value, ListValue):
        return [_plain(v) for v in value.items]
    if isinstance(value, DictValue):
        return {k: _plain(v) for k, v in value.items}
    return value


def _keras_series() -> str:
    from generator.from_spec.catalog import keras_series

    return keras_series()
