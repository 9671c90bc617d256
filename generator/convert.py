"""The conversion pipeline: Keras model → IR → Jinja → Black."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator import __version__
from generator.core.collector import collector_paused
from generator.core.ir import Header, ModuleIR
from generator.core.naming import to_pascal, to_snake
from generator.core.structure.recover import recover_structure
from generator.errors import InvalidOutputError, OutputError, UnsupportedModelError, one_line
from generator.from_keras.graph import ReadOptions, is_graph_model, read_model
from generator.output.render import RenderOptions, render_formatted


@dataclass(frozen=True)
class ConvertOptions:
    class_name: str | None = None
    package: str = "keras_scaffold"
    import_style: str = "tf"
    unsafe: bool = False  # recover Lambda source from the user's files
    assets_file: str = ""  # file name beside the module for constants too large for source
    train_step: bool = False  # the class overrides train_step/test_step (--loop train-step)
    flat: bool = False  # one statement per node, no blocks (--flat)
    weightless_layers: bool = False  # keep Add, Activation, ... as layers (--weightless-layers)
    pack: Any = None  # packs.pack.Pack: the team's templates (None: the built-in ones)
    variables: Mapping[str, Any] = field(default_factory=dict)  # the pack's, checked

    @classmethod
    def for_output(
        cls,
        output: Path | None,
        model_name: str,
        class_name: str | None = None,
        package: str | None = None,
        import_style: str = "tf",
        unsafe: bool = False,
    ) -> ConvertOptions:
        """Options named after the output file: ``my_model.py`` → ``MyModel`` registered
        under package ``my_model`` (else after the model's name)."""
        stem = output.stem if output is not None else ""
        name = class_name or (to_pascal(stem) if stem and to_pascal(stem) else None)
        return cls(
            class_name=name,
            package=package or to_snake(stem or name or model_name) or "keras_scaffold",
            import_style=import_style,
            unsafe=unsafe,
            assets_file=assets_file_name(output) if output is not None else "",
        )


def assets_file_name(output: Path) -> str:
    """``model.py`` keeps its large constants in ``model.assets.npz``."""
    return f"{output.stem}.assets.npz"


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
    module = read_model(
        model,
        ReadOptions(
            class_name=options.class_name,
            package=options.package,
            allow_code=options.unsafe,
            assets_file=options.assets_file,
        ),
        header,
    )
    if options.flat:
        return module
    factored = recover_structure(module, operators=not options.weightless_layers)
    factored.validate()
    return factored


@dataclass(frozen=True)
class Conversion:
    module: ModuleIR
    source: str
    options: ConvertOptions = ConvertOptions()

    @property
    def class_name(self) -> str:
        return self.module.main.class_name

    @property
    def assets(self) -> bytes | None:
        """The ``.npz`` beside the module (None when the source holds every constant)."""
        from generator.output.assets import assets_bytes

        return assets_bytes(self.module)


def convert(
    model: Any, options: ConvertOptions = ConvertOptions(), source_name: str = "", sha256: str = ""
) -> Conversion:
    """Read ``model`` into the IR, render it and format it.

    The collector stays off throughout (``collector_paused``): with it on, the objects a
    conversion makes survive into the oldest generation, and beside a loaded model (a
    million objects) the full collection that follows costs as much as the conversion.
    """
    with collector_paused():
        module = model_to_ir(model, options, source_name, sha256)
        return Conversion(module, render_formatted(module, render_options(options)), options)


def render_options(options: ConvertOptions) -> RenderOptions:
    render = RenderOptions(import_style=options.import_style, train_step=options.train_step)
    if options.pack is None:
        return render
    return replace(render, pack=options.pack, variables=dict(options.variables))


def convert_model(
    model: Any, options: ConvertOptions = ConvertOptions(), source_name: str = "", sha256: str = ""
) -> str:
    """Return the formatted source of a subclass equivalent to ``model``."""
    return convert(model, options, source_name, sha256).source


def check_weights_path(path: Path) -> None:
    """Keras 3 saves weights only to files named ``*.weights.h5``."""
    if not path.name.endswith(".weights.h5"):
        raise InvalidOutputError("weights files must end in .weights.h5 (Keras 3)", where=str(path))


def export_weights(
    model: Any, source: str, class_name: str, path: Path, module_file: Path | None = None
) -> None:
    """Save ``model``'s weights to ``path`` in the layout of the generated class.

    The generated class is built and given the weights in order, so
    ``GeneratedClass.from_weights(path)`` restores the trained network.

    Raises:
        OutputError: the weights cannot be transferred or saved.
    """
    from generator.verify.isolation import import_source
    from generator.verify.pairing import transfer_weights, unstorable_names

    unstorable = unstorable_names(model)
    if unstorable:
        raise OutputError(
            f"cannot save weights: HDF5 cannot store the NUL character in layer name "
            f"{unstorable[0]!r}; rename the layer",
            where=str(path),
        )
    module = import_source(source, "scaffold_weights_export", module_file)
    generated = getattr(module, class_name)()
    generated.build(None)
    try:
        transfer_weights(model, generated)
        generated.save_weights(path, overwrite=True)
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot save weights: {one_line(exc)}", where=str(path)) from exc
