"""Renders a ``ModuleIR`` into (unformatted) Python source with Jinja templates.

Python prepares every expression as a string (``source.SourceWriter``); templates only
lay out lines. A team's template pack (``generator.packs``) overrides or extends them.
"""

from __future__ import annotations

import dataclasses
import os
import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator import __version__
from generator.core.ir import (
    INPUT_CHANNELS,
    Assign,
    DictValue,
    ForEach,
    HelperClass,
    InputSpec,
    LayerSpec,
    ListValue,
    Loop,
    ModelIR,
    ModuleIR,
    Name,
    Param,
    SelfAttr,
    Step,
    Value,
    When,
)
from generator.core.layer_words import named_input
from generator.core.naming import to_snake
from generator.core.structure.dataflow import KEEP, name_uses, transform
from generator.errors import PackError, ScaffoldError
from generator.output.formatting import LINE_LENGTH, black_format, format_source
from generator.output.import_order import ordered_imports
from generator.output.source import SourceWriter, string_literal
from generator.packs.environment import pack_environment, render
from generator.packs.pack import Pack, builtin_pack

MODULE_TEMPLATE = "module.py.jinja"


@dataclass(frozen=True)
class RenderOptions:
    """Everything that changes how a module is written (but not what it computes)."""

    import_style: str = "tf"
    pack: Pack = field(default_factory=builtin_pack)  # the team's templates, or the built-in
    variables: Mapping[str, Any] = field(default_factory=dict)  # the pack's, checked
    train_step: bool = False  # the main class overrides train_step/test_step (--loop)


def pack_context(options: RenderOptions) -> dict[str, Any]:
    """What every template may read about the pack: ``pack.name``, ``vars.NAME``..."""
    return {
        "pack": {"name": options.pack.name, "version": options.pack.version},
        "vars": dict(options.variables),
        "tool_version": __version__,
    }


def render_module(module: ModuleIR, options: RenderOptions = RenderOptions()) -> str:
    """Return the module's source text, before Black."""
    module.validate()
    writer = SourceWriter(options.import_style)
    context = {
        **pack_context(options),
        **_header(module),
        "imports": _imports(module, options.import_style, options.train_step),
        "helper_sources": [_helper_source(h, module, writer) for h in module.helpers],
        "models": [_model_context(m, module, writer, options) for m in module.models],
        "module_functions": _module_functions(module, writer),
        "constants": [f"{name} = {writer.write(value)}" for name, value in module.constants],
        "assets_file": string_literal(module.assets_file),
        "assets": _asset_lines(module, writer),
    }
    text = render(pack_environment(options.pack), MODULE_TEMPLATE, context)
    return _NO_OP_INIT.sub("", text)


# An ``__init__`` that only calls the base class's (a block whose layers are all made in
# ``build``): left out, as a person would. Removed from the rendered text, so a pack that
# extends the ``init`` block with lines of its own keeps its ``__init__``.
_NO_OP_INIT = re.compile(
    r"(?<=\n\n)    def __init__\(self, \*\*kwargs\):\n        super\(\)\.__init__\(\*\*kwargs\)\n\n"
    r"(?!        )"  # nothing a pack adds to its body after a blank line
)


def render_formatted(module: ModuleIR, options: RenderOptions = RenderOptions()) -> str:
    """The module's final source: rendered, then formatted as Black formats it.

    Raises:
        PackError: a template pack's templates wrote code that does not parse.
    """
    text = render_module(module, options)
    if options.pack.is_builtin:
        return format_source(text, black_style=in_black_style(module, options))
    return pack_python(text, options.pack, MODULE_TEMPLATE, black_style=False)


def pack_python(text: str, pack: Pack, template: str, black_style: bool) -> str:
    """Python that a pack's templates wrote, formatted; code that does not parse is the
    pack's mistake (exit 2), not ours."""
    try:
        return format_source(text, black_style=black_style)
    except ScaffoldError as exc:
        raise PackError(
            f"template pack {pack.name!r} ({pack.origin}) wrote Python that does not parse "
            f"(check its templates and variables): {exc}",
            where=template,
        ) from None


def in_black_style(module: ModuleIR, options: RenderOptions) -> bool:
    """Whether ``render_module`` writes Black's style but for long lines: true unless a
    user's templates or a recovered lambda go in (see ``formatting``)."""
    return options.pack.is_builtin and not module.has_recovered_code


def _helper_source(helper: HelperClass, module: ModuleIR, writer: SourceWriter) -> str:
    """A copied class: license notice, registration, then its (rewritten) source, in
    Black's style like the code around it."""
    body = "".join(p if isinstance(p, str) else writer.symbol(p) for p in helper.parts)
    register = (
        f"{writer.keras_prefix}.utils.register_keras_serializable("
        f"package={string_literal(module.package)})"
    )
    notice = "\n".join(f"# {line}" for line in textwrap.wrap(helper.notice, 80))
    return black_format(f"{notice}\n@{register}\n{body}").rstrip("\n")


def equivalence_test_source(
    path: Path,
    model: str,
    generated: Path,
    class_name: str,
    pack: Pack | None = None,
    variables: Mapping[str, Any] | None = None,
) -> str:
    """The pytest module that ``scaffold convert --emit-test`` writes to ``path``.

    It refers to the model and the generated module relative to itself, so the three
    files can move together.
    """
    base = path.resolve().parent
    model_rel = os.path.relpath(Path(model).resolve(), base)
    generated_rel = os.path.relpath(generated.resolve(), base)
    pack = pack or builtin_pack()
    context = {
        **pack_context(RenderOptions(pack=pack, variables=dict(variables or {}))),
        "model_path": string_literal(model_rel),
        "generated_path": string_literal(generated_rel),
        "class_name": string_literal(class_name),
        "test_name": to_snake(generated.stem) or "generated",
    }
    text = render(pack_environment(pack), "test_equivalence.py.jinja", context)
    return pack_python(text, pack, "test_equivalence.py.jinja", black_style=pack.is_builtin)


def _header(module: ModuleIR) -> dict[str, Any]:
    """The module docstring's ``title`` and ``header_lines``: one line where nothing but
    the versions is recorded and it fits, else the title and a line each below it."""
    header = module.header
    versions = f"keras-scaffold {header.tool_version or __version__}" + (
        f" with Keras {header.keras_version}" if header.keras_version else ""
    )
    lines = []
    if header.source_name:
        lines.append(f"Source: {header.source_name!r}")
    if header.source_sha256:
        lines.append(f"Source sha256: {header.source_sha256}")
    if header.command:
        lines.append(f"Command: {header.command}")
    title = f"{module.main.class_name} model, generated by {versions}."
    if lines or len(f'"""{title}"""') > LINE_LENGTH:
        # Either form compares equal under ``--check`` (``writing.comparable``).
        title = f"{module.main.class_name} model, generated by keras-scaffold."
        lines.append(f"Generated by {versions}.")
    return {"title": _doc_escape(title), "header_lines": [_doc_escape(line) for line in lines]}


def _imports(module: ModuleIR, import_style: str, train_step: bool = False) -> list[str]:
    lines = {"import tensorflow as tf" if import_style == "tf" else "import keras"}
    lines.update(module.imports)
    if train_step:  # tf.GradientTape
        lines.add("import tensorflow as tf")
    if module.assets:
        lines.update(("from pathlib import Path", "import numpy as np"))
    return ordered_imports(lines)


def _asset_lines(module: ModuleIR, writer: SourceWriter) -> list[str]:
    """``NAME = assets["NAME"]...``: each large constant, read back from the ``.npz``."""
    lines = []
    for asset in module.assets:
        stored = f"assets[{string_literal(asset.name)}]"
        if asset.dtype:
            to_tensor = f"{writer.keras_prefix}.ops.convert_to_tensor"
            lines.append(
                f"{asset.name} = {to_tensor}({stored}, dtype={string_literal(asset.dtype)})"
            )
        else:
            lines.append(f"{asset.name} = {stored}.tolist()")
    return lines


def _model_context(
    model: ModelIR, module: ModuleIR, writer: SourceWriter, options: RenderOptions
) -> dict[str, Any]:
    prefix = writer.keras_prefix
    return {
        "keras": prefix,
        "train_step": options.train_step,
        "class_name": model.class_name,
        "base": f"{prefix}.Model" if model.kind == "model" else f"{prefix}.layers.Layer",
        "is_model": model.kind == "model",  # else a block (a Layer the model repeats)
        "has_build": model.kind == "model",
        "register": (
            f"{prefix}.utils.register_keras_serializable(package={string_literal(module.package)})"
        ),
        "doc_summary": _doc_escape(model.summary or f"Keras model {model.keras_name!r}."),
        "doc_sections": _doc_sections(model, writer),
        "params": [
            p.name if p.required else f"{p.name}={writer.write(p.default)}"
            for p in sorted(model.params, key=lambda p: not p.required)
        ],
        "param_assigns": [f"self.{p.name} = {p.name}" for p in model.params],
        # Keras casts a model's float inputs to its compute dtype (float32) before
        # ``call``; a Functional model does not. A float64 input keeps its precision only
        # without that cast (``call`` casts each input to the original's dtype itself).
        "base_arguments": (
            "autocast=False, " if any(spec.dtype == "float64" for spec in model.inputs) else ""
        ),
        "layer_lines": _check_lines(model, writer)
        + _layer_lines(tuple(x for x in model.layers if not x.deferred), writer),
        # A block's layers whose widths follow its input's: made once that is known.
        "build_lines": [
            f"self.{name} = {writer.write(_on_self(value, {p.name for p in model.params}))}"
            for name, value in model.computed
        ]
        + _layer_lines(
            tuple(x for x in model.layers if x.deferred), writer, model.attribute_names()
        ),
        "input_channels": INPUT_CHANNELS,
        "one_element_inputs": (
            model.input_structure in ("list", "tuple") and len(model.inputs) == 1
        ),
        "default_input_shape": (
            writer.write(_symbolic_inputs(model)[0]) if model.kind == "model" else ""
        ),
        "symbolic_inputs": writer.write(_symbolic_inputs(model)[1])
        if model.kind == "model"
        else "",
        "call_lines": _input_lines(model, writer)
        + [
            line
            for step in model.steps
            for line in _step_lines(step, writer, model.attribute_names())
        ],
        "return_expr": writer.write(model.outputs),
        "config_items": [f"{string_literal(p.name)}: self.{p.name}" for p in model.params],
        "is_main": model is module.main,
        "extra_methods": [],
    }


def _doc_sections(model: ModelIR, writer: SourceWriter) -> list[dict[str, Any]]:
    sections = []
    if model.params:
        sections.append(
            {
                "title": "Args",
                "lines": _wrapped(_describe_param(p) for p in model.params),
            }
        )
    if model.kind == "model":
        sections.append(
            {
                "title": "Input shape",
                "lines": _wrapped(
                    _describe_input(i, keyed=_named_input(model, i)) for i in model.inputs
                ),
            }
        )
    if model.output_shapes:
        sections.append(
            {
                "title": "Output shape",
                "lines": _wrapped(
                    # ``output`` (unquoted) is the one tensor out, not a key.
                    _shape_text(shape) if key == "output" else f"{key}: {_shape_text(shape)}"
                    for key, shape in model.output_shapes
                ),
            }
        )
    sections.append(
        {"title": "Example", "lines": [_doc_escape(line) for line in _example(model, writer)]}
    )
    return sections


# A docstring entry's lines sit 8 spaces in; Black leaves them alone, so they wrap here.
DOC_WIDTH = 88 - 8


def _wrapped(entries: Iterable[str | tuple[str, str]]) -> list[str]:
    """Each entry escaped and wrapped, its continuation lines indented four more (Google
    style). An entry may end in a part kept whole (a default value: a tuple split over
    two lines reads as two values)."""
    lines: list[str] = []
    for entry in entries:
        text, whole = entry if isinstance(entry, tuple) else (entry, "")
        # Wrapped as Python wrote the names (``repr``), escaped for the docstring after.
        wrapped = _wrap(text)
        if whole:
            if len(wrapped[-1]) + 1 + len(whole) <= DOC_WIDTH:
                wrapped[-1] += " " + whole
            else:
                wrapped.append("    " + whole)
        lines.extend(_doc_escape(line) for line in wrapped)
    return lines


def _wrap(text: str) -> list[str]:
    """``text`` in lines of at most ``DOC_WIDTH``, broken only at a lone space outside
    quotes: a quoted name from the model keeps every character, spaces included. A word
    longer than a line stays whole."""
    breaks = _break_points(text)
    lines: list[str] = []
    start = 0
    while True:
        width = DOC_WIDTH - (4 if lines else 0)
        if len(text) - start <= width:
            break
        fitting = [b for b in breaks if start < b <= start + width]
        later = [b for b in breaks if b > start]
        cut = fitting[-1] if fitting else (later[0] if later else None)
        if cut is None:
            break
        lines.append(("    " if lines else "") + text[start:cut])
        start = cut + 1
    lines.append(("    " if lines else "") + text[start:])
    return lines


def _break_points(text: str) -> list[int]:
    """Positions of the single spaces outside quoted strings (``'a  b'`` stays whole)."""
    points = []
    quote = ""
    escaped = False
    for index, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "'\"" and _opens_quote(text, index):
            quote = char
        elif char == " " and text[index - 1 : index] != " " and text[index + 1 : index + 2] != " ":
            points.append(index)
    return points


def _opens_quote(text: str, index: int) -> bool:
    """A quote that starts a string (at the start or after anything but a letter, digit
    or underscore: ``0/'key'``), not an apostrophe ending a word (``layers' names``), and
    only when it is closed later."""
    before = text[index - 1] if index else " "
    return not (before.isalnum() or before == "_") and text.find(text[index], index + 1) != -1


def _example(model: ModelIR, writer: SourceWriter) -> list[str]:
    """Lines a reader can paste: a block made and called on ``x`` (in one line where it
    fits; without the Keras ``name`` the model gives each instance so weights pair: a new
    block needs none), or a model made and called on zeros."""
    if model.kind == "block":
        args = [f"{key}={writer.write(value)}" for key, value in model.example if key != "name"]
        creation = f"{model.class_name}({', '.join(args)})"
        width = LINE_LENGTH - 8  # the docstring's indentation
        if len(f"x = {creation}(x)") <= width:
            return [f"x = {creation}(x)"]
        wrapped = black_format(f"block = {creation}", line_length=width)  # as Black writes it
        return [*wrapped.splitlines(), "x = block(x)"]
    lines = [f"model = {model.class_name}()"]
    spec = model.inputs[0]
    if model.input_structure == "single" and spec.dtype.startswith(("float", "int")):
        shape = writer.write((2, *(model.example_size if d is None else d for d in spec.shape)))
        zeros = f"{writer.keras_prefix}.ops.zeros({shape}, dtype={string_literal(spec.dtype)})"
        return [*lines, f"outputs = model({zeros})"]
    return [*lines, "model.build(None)", "model.summary()"]


def _describe_param(param: Param) -> tuple[str, str]:
    """The parameter's description, and its default (kept on one line)."""
    kind = f" ({param.annotation})" if param.annotation else ""
    doc = param.doc.rstrip(".") if param.doc else "constructor parameter"
    if param.required:
        return f"{param.name}{kind}: {doc}.", ""
    return f"{param.name}{kind}: {doc};", f"default {param.default!r}."


def _named_input(model: ModelIR, spec: InputSpec) -> bool:
    """Whether the docstring names the input: always where ``call`` takes several, and
    a single one unless its name is Keras's (``keras_tensor_3``, ``input_layer``)."""
    if model.input_structure != "single":
        return True
    return named_input(spec.key) and not re.fullmatch(r"inputs?(_\d+)?", spec.key)


def _describe_input(spec: InputSpec, keyed: bool) -> str:
    """A listed input Keras named (``keras_tensor_9``) goes by its variable's name."""
    described = f"{_shape_text(spec.shape)}, {spec.dtype}"
    if not keyed:
        return described
    return f"{spec.key!r}: {described}" if named_input(spec.key) else f"{spec.var}: {described}"


def _shape_text(shape: tuple[int | None, ...]) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"(batch, {dims})" if dims else "(batch,)"


def _symbolic_inputs(model: ModelIR) -> tuple[Value, Value]:
    """The default ``input_shape`` (the original's, batch dimension None) and the
    symbolic inputs ``build`` makes from ``input_shape``."""
    from generator.core.ir import Call, Name, Subscript, Symbol

    def one(spec: InputSpec, shape: Value) -> Value:
        batch_shape = Call(Symbol("", "tuple"), (shape,))
        kwargs: list[tuple[str, Value]] = [("batch_shape", batch_shape), ("dtype", spec.dtype)]
        if spec.sparse:
            kwargs.append(("sparse", True))
        return Call(Symbol("keras", "Input"), (), tuple(kwargs))

    shape_of = {spec.key: (None, *spec.shape) for spec in model.inputs}
    given = Name("input_shape")
    if model.input_structure == "single":
        spec = model.inputs[0]
        return shape_of[spec.key], one(spec, given)
    if model.input_structure == "dict":
        default: Value = DictValue(tuple((s.key, shape_of[s.key]) for s in model.inputs))
        inputs: Value = DictValue(
            tuple((s.key, one(s, Subscript(given, s.key))) for s in model.inputs)
        )
        return default, inputs
    items = tuple(one(s, Subscript(given, i)) for i, s in enumerate(model.inputs))
    defaults = tuple(shape_of[s.key] for s in model.inputs)
    if model.input_structure == "tuple":
        return defaults, items
    return ListValue(defaults), ListValue(items)


def _input_lines(model: ModelIR, writer: SourceWriter) -> list[str]:
    """Bind the ``inputs`` argument to one variable per model input; a converted model
    casts each numeric one to its declared dtype first, as the Functional model did."""
    cast = {spec.var for spec in model.cast_inputs()}
    read = name_uses((model.steps, model.outputs))

    def bound(var: str, expression: str) -> list[str]:
        if var not in read and model.input_structure != "single":
            return []  # an input no output needs: bound, it would be an unused variable
        if var in cast:
            dtype = string_literal(next(s.dtype for s in model.inputs if s.var == var))
            expression = f"{writer.keras_prefix}.ops.cast({expression}, {dtype})"
        return [] if expression == var else [f"{var} = {expression}"]

    if model.input_structure == "single":
        return bound(model.inputs[0].var, "inputs")
    if model.input_structure == "dict":
        return [
            line
            for spec in model.inputs
            for line in bound(spec.var, f"inputs[{string_literal(spec.key)}]")
        ]
    if len(model.inputs) == 1:  # Keras accepts the bare tensor too
        var = model.inputs[0].var
        return bound(var, "inputs[0] if isinstance(inputs, (list, tuple)) else inputs")
    unpack = [f"{', '.join(spec.var for spec in model.inputs)} = inputs"]
    if all(named_input(spec.key) for spec in model.inputs):
        # The Functional model also took a dict keyed by input name (a tf.data pipeline's
        # features); names Keras made up (keras_tensor_9) nobody keys by.
        by_name = ", ".join(f"inputs[{string_literal(spec.key)}]" for spec in model.inputs)
        unpack[:0] = ["if isinstance(inputs, dict):", f"    inputs = [{by_name}]"]
    return unpack + [line for spec in model.inputs for line in bound(spec.var, spec.var)]


def _check_lines(model: ModelIR, writer: SourceWriter) -> list[str]:
    """Parameters that must agree, checked before any layer is made."""
    return [
        line
        for check in model.checks
        for line in (
            f"if {writer.write(check.failing)}:",
            f"    raise ValueError({string_literal(check.message)})",
        )
    ]


def _layer_lines(
    layers: tuple[LayerSpec, ...], writer: SourceWriter, params: set[str] | None = None
) -> list[str]:
    """One line per layer; a block's optional layers under ``if <flag>:``. In ``build``
    (``params`` given) parameters read ``self.<name>``."""
    lines: list[str] = []
    condition: Value = None
    for layer in layers:
        if params is not None:
            layer = dataclasses.replace(
                layer,
                constructor=_on_self(layer.constructor, params),
                when=_on_self(layer.when, params),
            )
        if layer.when != condition and layer.when is not None:
            lines.append(f"if {writer.write(layer.when)}:")
        condition = layer.when
        lines.append(("    " if condition is not None else "") + _layer_line(layer, writer))
    return lines


def _layer_line(layer: LayerSpec, writer: SourceWriter) -> str:
    constructor = writer.write(layer.constructor)
    if layer.repeat:
        count = writer.write(layer.repeat)
        return f"self.{layer.attr} = [{constructor} for i in range({count})]"
    return f"self.{layer.attr} = {constructor}"


def _step_lines(step: Step, writer: SourceWriter, params: set[str]) -> list[str]:
    if isinstance(step, Loop):
        target = step.target
        names = ", ".join(writer.write(t) for t in target) if isinstance(target, tuple) else ""
        head = f"for {names or writer.write(target)} in {writer.write(step.iterable)}:"
        body = [line for inner in step.body for line in _step_lines(inner, writer, params)]
        return [head, *(f"    {line}" for line in body)]
    if isinstance(step, ForEach):
        body = [f"    {_assign_line(inner, writer)}" for inner in step.body]
        return [f"for {step.var} in self.{step.attr}:", *body]
    if isinstance(step, When):
        lines = [f"if {writer.write(_on_self(step.condition, params))}:"]
        lines += [f"    {_assign_line(inner, writer)}" for inner in step.body]
        if step.orelse:
            lines.append("else:")
            lines += [f"    {_assign_line(inner, writer)}" for inner in step.orelse]
        return lines
    return [_assign_line(step, writer)]


def _on_self(value: Value, params: set[str]) -> Value:
    """Block parameters as the methods after ``__init__`` read them: ``self.<name>``."""
    return transform(
        value,
        lambda node: SelfAttr(node.id) if isinstance(node, Name) and node.id in params else KEEP,
    )


def _assign_line(step: Assign, writer: SourceWriter) -> str:
    target = ", ".join(step.targets)
    if step.unpack and len(step.targets) == 1:
        target += ","
    return f"{target} = {writer.write(step.value)}"


def _module_functions(module: ModuleIR, writer: SourceWriter) -> list[str]:
    if module.compile_config is None:
        return []
    body = writer.write(module.compile_config)
    return [
        "def compile_config():\n"
        '    """The original model\'s ``compile()`` arguments.\n\n'
        f"    Use as ``model.compile(**compile_config())``.\n"
        '    """\n'
        f"    return {body}"
    ]


def _doc_escape(text: str) -> str:
    """Make text safe inside a triple-double-quoted docstring: backslashes doubled, and
    no three quotes in a row (they would end it)."""
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
