"""The conversion pipeline: Keras model → IR → Jinja → Black."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator import __version__
from generator.formatting import format_source
from generator.ir import Header, ModuleIR
from generator.keras_graph import ReadOptions, is_graph_model, read_model
from generator.render import RenderOptions, render_module
from generator.errors import UnsupportedModelError


@dataclass(frozen=True)
class ConvertOptions:
    class_name: str | None = None
    package: str = "keras_scaffold"
    import_style: str = "tf"


def model_to_ir(
    model: Any, options: ConvertOptions, source_name: str = "", sha256: str = ""
) -> ModuleIR:
    import keras

    if not is_graph_model(model):
        raise UnsupportedModelError(
            f"{type(model).__name__} is already a subclassed model; only Sequential and "
            "Functional models have a graph to convert",
            where=f"model {model.name!r}",
        )
    header = Header(
        source_name=source_name,
        source_sha256=sha256,
        keras_version=keras.__version__,
        tool_version=__version__,
    )
    return read_model(
        model,
        ReadOptions(class_name=options.class_name, package=options.package),
        header,
    )


def convert_model(
    model: Any, options: ConvertOptions = ConvertOptions(), source_name: str = "", sha256: str = ""
) -> str:
    """Return the formatted source of a subclass equivalent to ``model``."""
    module = model_to_ir(model, options, source_name, sha256)
    return format_source(render_module(module, RenderOptions(import_style=options.import_style)))
