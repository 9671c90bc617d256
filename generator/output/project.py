"""Renders and writes the small project of ``scaffold new NAME``.

The project holds the model module, a training script on synthetic data with a clear
place for real data, tests that build, run, train one step and round-trip the model, and a
README with a Mermaid diagram of the architecture. ``project_write`` writes it.
"""

from __future__ import annotations

from typing import Any

from generator import __version__
from generator.core.ir import Assign, Call, ModelIR, ModuleIR, Name, SelfAttr, iter_values
from generator.core.naming import to_snake
from generator.from_spec.spec import ModelSpec
from generator.output.diagram import mermaid_diagram
from generator.output.formatting import format_source
from generator.output.render import builtin_templates_dir, environment
from generator.output.source import SourceWriter, string_literal

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


def render_project(
    module: ModuleIR, spec: ModelSpec, model_source: str, name: str, import_style: str
) -> dict[str, str]:
    """Relative path → file content for the whole project."""
    package = to_snake(name) or "model"
    main = module.main
    context: dict[str, Any] = {
        "project": name,
        "package": package,
        "class_name": main.class_name,
        "summary": main.summary,
        "tool_version": __version__,
        "keras_series": _keras_series(),
        "import_style": import_style,
        "inputs": [_input_context(spec, main, i) for i in main.inputs],
        "single_input": main.input_structure == "single",
        "training_dependent": _training_dependent(module),
        "mermaid": mermaid_diagram(module),
        "params": [(p.name, repr(_plain(p.default))) for p in main.params],
    }
    env = environment((builtin_templates_dir(),))
    files = {
        "pyproject.toml": env.get_template("project/pyproject.toml.jinja").render(context),
        "README.md": env.get_template("project/README.md.jinja").render(context),
        f"src/{package}/__init__.py": format_source(
            env.get_template("project/package_init.py.jinja").render(context), black_style=True
        ),
        f"src/{package}/model.py": model_source,
        "train.py": format_source(
            env.get_template("project/train.py.jinja").render(context), black_style=True
        ),
        "tests/test_model.py": format_source(
            env.get_template("project/test_model.py.jinja").render(context), black_style=True
        ),
        ".gitignore": "__pycache__/\n.pytest_cache/\n*.keras\n*.weights.h5\n.venv/\n",
    }
    return files


def _training_dependent(module: ModuleIR) -> bool:
    for model in module.models:
        for layer in model.layers:
            if layer.class_label in _TRAINING_DEPENDENT:
                return True
            for key, value in layer.constructor.kwargs:
                if (
                    key in ("dropout", "recurrent_dropout")
                    and isinstance(value, (int, float))
                    and value > 0
                ):
                    return True
            for value in iter_values(layer.constructor):
                if isinstance(value, Call) and any(
                    k in ("dropout", "recurrent_dropout") and isinstance(v, (int, float)) and v > 0
                    for k, v in value.kwargs
                ):
                    return True
    return False


def _input_context(spec: ModelSpec, main: ModelIR, input_spec: Any) -> dict[str, Any]:
    return {
        "key": string_literal(input_spec.key),
        "shape": SourceWriter().write(tuple(7 if d is None else d for d in input_spec.shape)),
        "dtype": string_literal(input_spec.dtype),
        "is_int": "int" in input_spec.dtype,
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
        if layer.class_label in ("Embedding", "CategoryEncoding") and layer.constructor.args:
            first = layer.constructor.args[0]
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
