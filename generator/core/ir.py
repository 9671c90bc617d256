"""The typed, frozen intermediate representation at the centre of the pipeline.

Readers (a Keras model, a spec) produce it; the renderer consumes it. It holds plain data
only (no Keras objects, no TensorFlow), so rendering and its golden tests run without
TensorFlow, and two readers can never disagree about what a model is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from generator.errors import ScaffoldError

# ---------------------------------------------------------------------------------------
# Values: what can appear as an argument in generated code.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """A reference to something importable.

    ``module`` ``"keras"`` means the public Keras namespace: ``Symbol("keras", "layers.Dense")``
    renders as ``tf.keras.layers.Dense`` or ``keras.layers.Dense`` depending on the import
    style. ``module`` ``""`` means a name defined in the generated module itself.
    """

    module: str
    qualname: str


@dataclass(frozen=True)
class Name:
    """A local variable, a constructor parameter or ``training``: an identifier in scope."""

    id: str


@dataclass(frozen=True)
class SelfAttr:
    """``self.<attr>``: a layer created in ``__init__``."""

    attr: str


@dataclass(frozen=True)
class Call:
    func: Value
    args: tuple[Value, ...] = ()
    kwargs: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class BinOp:
    op: str  # Python operator token: "+", "-", "*", "/", "//", "%", "**", "@"
    left: Value
    right: Value


@dataclass(frozen=True)
class UnaryOp:
    op: str  # "-", "+", "~"
    operand: Value


@dataclass(frozen=True)
class Subscript:
    value: Value
    key: Value


@dataclass(frozen=True)
class SliceValue:
    start: Value = None
    stop: Value = None
    step: Value = None


@dataclass(frozen=True)
class EllipsisValue:
    pass


@dataclass(frozen=True)
class IndexedName:
    """A layer name numbered by the loop that creates repeated layers: ``f"block_{i}"``."""

    base: str


@dataclass(frozen=True)
class Code:
    """Python source recovered from the user's own file (a ``Lambda``'s expression).

    Only ``--unsafe`` conversions produce it, after checking that the text compiles to
    exactly the bytecode stored in the model.
    """

    text: str


@dataclass(frozen=True)
class TrainingFlag:
    """The ``training`` argument given to a layer call.

    ``recorded`` is ``None`` when the original call left it to the caller (render
    ``training=training``); a bool when the original graph fixed it (MC dropout), in which
    case Keras still lets an explicit ``training`` from the caller win, and so do we.
    """

    recorded: bool | None = None


@dataclass(frozen=True)
class OwnName:
    """A block's inner layer name derived from the block's own: ``self.name + "_1_conv"``
    (as keras.applications derives ``name + "_1_conv"``), so weights pair by name."""

    suffix: str


@dataclass(frozen=True)
class Compare:
    left: Value
    op: str  # "==", "!="
    right: Value


@dataclass(frozen=True)
class IfExp:
    """``body if test else orelse``."""

    test: Value
    body: Value
    orelse: Value


@dataclass(frozen=True)
class FormattedName:
    """An f-string: literal text (from a model file, escaped when written) and values."""

    parts: tuple[Value, ...]  # str parts are literal text; others are expressions


@dataclass(frozen=True)
class Comprehension:
    """``[element for t1 in it1 for t2 in it2]``; a target is a ``Name`` or a tuple of
    targets (``s, (filters, depth)``)."""

    element: Value
    clauses: tuple[tuple[Value, Value], ...]


@dataclass(frozen=True)
class DictValue:
    """A dict literal; kept as ordered pairs so the IR stays hashable and ordered."""

    items: tuple[tuple[Value, Value], ...]


@dataclass(frozen=True)
class ListValue:
    items: tuple[Value, ...]


Value = (
    None
    | bool
    | int
    | float
    | str
    | tuple
    | Symbol
    | Name
    | SelfAttr
    | Call
    | BinOp
    | UnaryOp
    | Subscript
    | SliceValue
    | EllipsisValue
    | IndexedName
    | Code
    | TrainingFlag
    | DictValue
    | ListValue
    | OwnName
    | Compare
    | IfExp
    | FormattedName
    | Comprehension
)

# ---------------------------------------------------------------------------------------
# Model structure.
# ---------------------------------------------------------------------------------------

Structure = Literal["single", "list", "tuple", "dict"]


@dataclass(frozen=True)
class InputSpec:
    """One model input: ``key`` is its original name (the dict key for dict inputs)."""

    key: str
    var: str
    shape: tuple[int | None, ...]  # without the batch dimension
    dtype: str
    sparse: bool = False


def castable(spec: InputSpec) -> bool:
    """A dense numeric input: ``keras.ops.cast`` converts it as Keras would."""
    return not spec.sparse and spec.dtype.startswith(("float", "int", "uint", "bfloat"))


@dataclass(frozen=True)
class Param:
    """A constructor parameter of the generated class (``num_classes=10``)."""

    name: str
    default: Value
    annotation: str = ""
    doc: str = ""
    required: bool = False  # no default: blocks only; a model must build from defaults


# What a block's ``build(input_shape)`` calls the size of its input's last axis.
INPUT_CHANNELS = "channels"


@dataclass(frozen=True)
class Check:
    """``if <failing>: raise ValueError(<message>)`` at the top of ``__init__``: parameters
    that must agree (one list entry per stage), told at construction, not as an
    IndexError deep in ``call``."""

    failing: Value
    message: str


@dataclass(frozen=True)
class LayerSpec:
    """A layer created in ``__init__`` as ``self.<attr> = <constructor>``.

    ``constructor`` is a call, or a ``Comprehension`` of calls for a list of blocks.
    """

    attr: str
    name: str
    constructor: Value
    class_label: str  # human-readable class name for docs and diagrams
    repeat: Value = 0  # a count (or a parameter): a list of layers built in a loop
    origin: str = ""  # where it was declared ("model.yaml:5:5"), for messages
    arg_names: tuple[str, ...] = ()  # the parameters the positional arguments fill
    defaults: tuple[tuple[str, Value], ...] = ()  # literal defaults of unwritten parameters
    when: Value = None  # a condition on block parameters: the layer exists only when true
    deferred: bool = False  # a block's layer made in build(), where INPUT_CHANNELS is known
    attr_word: str = ""  # Keras made the name up: the word its attribute is numbered from


@dataclass(frozen=True)
class Assign:
    """One statement of ``call``: ``target = value`` or ``a, b = value`` when unpacking."""

    targets: tuple[str, ...]
    value: Value
    unpack: bool = False


@dataclass(frozen=True)
class ForEach:
    """``for <var> in self.<attr>: <body>``: the call of repeated layers (``repeat: N``)."""

    var: str
    attr: str
    body: tuple[Assign, ...]


@dataclass(frozen=True)
class When:
    """``if <condition>: <body> else: <orelse>``: a block's optional part (a shortcut
    convolution present in some instances, absent in others). The condition reads block
    parameters by name (``Name("conv_shortcut")``, ``strides == 2``); ``call`` reads them
    as ``self.<name>``."""

    condition: Value
    body: tuple[Assign, ...]
    orelse: tuple[Assign, ...] = ()


@dataclass(frozen=True)
class Loop:
    """``for <target> in <iterable>: <body>``: the stages of a model
    (``for s, blocks in enumerate(self.stages)``), whose body holds an optional part and
    the loop over the stage's blocks. Made last by structure recovery: passes before it
    never see one."""

    target: Value  # a Name, or a tuple of Names
    iterable: Value
    body: tuple[Assign | When | Loop, ...]


Step = Assign | ForEach | When | Loop


def step_values(step: Step) -> tuple[Value, ...]:
    """Every value a step evaluates, conditions and iterables included."""
    if isinstance(step, Assign):
        return (step.value,)
    if isinstance(step, ForEach):
        return tuple(inner.value for inner in step.body)
    if isinstance(step, When):
        return (step.condition, *(inner.value for inner in (*step.body, *step.orelse)))
    return (step.iterable, *(v for inner in step.body for v in step_values(inner)))


def step_targets(step: Step) -> set[str]:
    """Every variable a step binds, in any branch or loop inside it."""
    if isinstance(step, Assign):
        return set(step.targets)
    if isinstance(step, ForEach):
        return {t for inner in step.body for t in inner.targets}
    if isinstance(step, When):
        return {t for inner in (*step.body, *step.orelse) for t in inner.targets}
    return {t for inner in step.body for t in step_targets(inner)}


@dataclass(frozen=True)
class ModelIR:
    """One generated ``keras.Model`` subclass."""

    class_name: str
    keras_name: str
    inputs: tuple[InputSpec, ...]
    input_structure: Structure
    layers: tuple[LayerSpec, ...]
    steps: tuple[Step, ...]
    outputs: Value
    output_shapes: tuple[tuple[str, tuple[int | None, ...]], ...] = ()
    params: tuple[Param, ...] = ()
    summary: str = ""
    kind: Literal["model", "block"] = "model"  # block: a keras.layers.Layer subclass
    # The size of the last axis of each single-tensor variable, where the graph knows it
    # (a block's layers may take their widths from their input's).
    channels: tuple[tuple[str, int], ...] = ()
    example: tuple[tuple[str, Value], ...] = ()  # a block's constructor arguments, for docs
    example_size: int = 8  # what the docstring's example gives each unknown dimension
    sequential: bool = False  # read from a keras.Sequential model
    # ``call`` first casts each numeric input to its declared dtype, as a Functional model
    # converts what it is given (uint8 images to float32): converted models only.
    casts_inputs: bool = False
    # Variables named after a layer or op whose name Keras made up (``conv2d_7``): they
    # say nothing a person chose, so structure recovery may name them by their role.
    made_up_names: tuple[str, ...] = ()
    # What a block computes in ``build`` from its parameters and its input's width, by
    # attribute name (``residual``: whether its output keeps its input's shape); its
    # ``call`` and its layers' conditions read them as they read parameters.
    computed: tuple[tuple[str, Value], ...] = ()
    checks: tuple[Check, ...] = ()

    def attribute_names(self) -> set[str]:
        """What the methods after ``__init__`` read as ``self.<name>``: the parameters
        and the attributes ``build`` computes."""
        return {p.name for p in self.params} | {name for name, _ in self.computed}

    def cast_inputs(self) -> tuple[InputSpec, ...]:
        """The inputs ``call`` casts to their declared dtype (``casts_inputs``)."""
        if not self.casts_inputs:
            return ()
        return tuple(spec for spec in self.inputs if castable(spec))

    def output_keys(self) -> tuple[str, list[str | int | None]]:
        """The output structure (single, list or dict) and each output's key."""
        if isinstance(self.outputs, DictValue):
            return "dict", [key for key, _ in self.outputs.items if isinstance(key, str)]
        if isinstance(self.outputs, ListValue):
            return "list", list(range(len(self.outputs.items)))
        return "single", [None]

    def validate(self) -> None:
        """Check names are unique and every reference points backwards.

        Raises:
            ScaffoldError: naming the model and the offending name.
        """
        where = f"model {self.keras_name!r}"
        attrs = [layer.attr for layer in self.layers]
        _require_unique(attrs, "layer attribute", where)
        scope = {p.name for p in self.params} | {"training"}
        for spec in self.inputs:
            _require_new(spec.var, scope, where)
            scope.add(spec.var)
        known_attrs = set(attrs)
        for step in self.steps:
            if isinstance(step, Loop):
                _check_loop(step, scope, known_attrs, where)
                continue
            if isinstance(step, ForEach):
                if step.attr not in known_attrs:
                    raise ScaffoldError(
                        f"layer list self.{step.attr} is never created", where=where
                    )
                loop_scope = scope | {step.var}
                for inner in step.body:
                    _check_refs(inner.value, loop_scope, known_attrs, where)
                    loop_scope.update(inner.targets)
                    scope.update(inner.targets)
                continue
            if isinstance(step, When):
                _check_refs(step.condition, self.attribute_names(), set(), where)
                branch_targets: set[str] = set()
                for branch in (step.body, step.orelse):
                    branch_scope = set(scope)
                    for inner in branch:
                        _check_refs(inner.value, branch_scope, known_attrs, where)
                        branch_scope.update(inner.targets)
                    branch_targets |= branch_scope - scope
                scope.update(branch_targets)
                continue
            _check_refs(step.value, scope, known_attrs, where)
            for target in step.targets:
                scope.add(target)
        _check_refs(self.outputs, scope, known_attrs, where)
        params = {p.name for p in self.params}
        for check in self.checks:
            _check_refs(check.failing, params, set(), where)
        for _, value in self.computed:
            _check_refs(value, params | {INPUT_CHANNELS}, set(), where)
        for layer in self.layers:
            known = params | comprehension_targets(layer.constructor)
            if layer.deferred:
                known |= {INPUT_CHANNELS}
            _check_refs(layer.constructor, known, set(), where)
            _check_refs(layer.when, self.attribute_names(), set(), where)
            _check_refs(layer.repeat, params, set(), where)


@dataclass(frozen=True)
class HelperClass:
    """A class whose source is copied into the generated module (no public import).

    ``parts`` is source text interleaved with ``Symbol``s, so the copied code follows the
    chosen import style like everything else.
    """

    class_name: str
    origin: str
    notice: str
    parts: tuple[str | Symbol, ...]


@dataclass(frozen=True)
class Asset:
    """A constant too large for source code, stored in the ``.npz`` file beside the module
    under its own name and loaded when the module is imported."""

    name: str
    array: Any = field(compare=False, repr=False)  # a numpy array, as stored
    dtype: str = ""  # a tensor of this dtype; "" for a Python list (a vocabulary)


@dataclass(frozen=True)
class OutputTraining:
    """How one output trains: its loss and metrics, and what its synthetic targets are
    (``labels``: class indices, ``onehot``: one-hot classes, ``binary``: 0/1,
    ``values``: real numbers, ``input``: the model's input, reconstructed)."""

    key: str | int | None  # dict key, list index, or None for the only output
    task: str
    target: str  # labels, onehot, binary, values, input
    loss: Value  # a constructor call, or a Keras name ("mse") from a compiled model
    metrics: tuple[Value, ...] = ()
    logits: bool = True  # the output is not squashed by softmax/sigmoid
    weight: float = 1.0  # compile()'s loss_weights


@dataclass(frozen=True)
class Training:
    """The outputs that train (an output without a loss is left out)."""

    outputs: tuple[OutputTraining, ...]
    structure: str  # single, list or dict: the model's outputs
    task: str  # the whole model's task, or "mixed"
    untrained: tuple[str, ...] = ()  # dict outputs without a loss


@dataclass(frozen=True)
class Header:
    """What the generated file records about where it came from."""

    source_name: str = ""
    source_sha256: str = ""
    keras_version: str = ""
    tool_version: str = ""
    command: str = ""


@dataclass(frozen=True)
class ModuleIR:
    """A whole generated module: helper classes first, the main model last."""

    models: tuple[ModelIR, ...]
    package: str
    header: Header = field(default_factory=Header)
    imports: tuple[str, ...] = ()  # extra import statements (custom objects, lambdas)
    helpers: tuple[HelperClass, ...] = ()
    compile_config: Value = None
    constants: tuple[tuple[str, Value], ...] = ()  # module-level ``NAME = value``
    assets: tuple[Asset, ...] = ()
    assets_file: str = ""  # the .npz beside the module that holds ``assets``
    training: Training | None = None  # from a spec's task/loss/metrics (scaffold new)
    # The weightless layer classes (``"layers.Add"``) the reader vouches an operator
    # computes exactly in this model (``a + b``; core/structure/operators.py).
    exact_operators: frozenset[str] = frozenset()

    @property
    def main(self) -> ModelIR:
        return self.models[-1]

    @property
    def has_recovered_code(self) -> bool:
        """Whether a lambda's source, recovered from the user's file, goes in."""
        return any(
            isinstance(value, Code)
            for model in self.models
            for layer in model.layers
            for value in iter_values(layer.constructor)
        )

    def validate(self) -> None:
        _require_unique(
            [h.class_name for h in self.helpers] + [m.class_name for m in self.models],
            "class name",
            "module",
        )
        if self.assets and not self.assets_file:
            raise ScaffoldError(
                "constants stored beside the module need a file name", where="module"
            )
        for model in self.models:
            model.validate()


def _require_unique(names: list[str], what: str, where: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ScaffoldError(f"duplicate {what} {name!r}", where=where)
        seen.add(name)


def _require_new(name: str, scope: set[str], where: str) -> None:
    if name in scope:
        raise ScaffoldError(f"variable {name!r} is assigned twice", where=where)


def _check_loop(loop: Loop, scope: set[str], attrs: set[str], where: str) -> None:
    """A stage loop's references; what its body binds is in scope after it."""
    _check_refs(loop.iterable, scope, attrs, where)
    inner = set(scope) | {n.id for n in iter_values(loop.target) if isinstance(n, Name)}
    for step in loop.body:
        if isinstance(step, Loop):
            _check_loop(step, inner, attrs, where)
        elif isinstance(step, When):
            _check_refs(step.condition, inner, attrs, where)
            for assign in (*step.body, *step.orelse):
                _check_refs(assign.value, inner, attrs, where)
                inner.update(assign.targets)
        else:
            _check_refs(step.value, inner, attrs, where)
            inner.update(step.targets)
    scope.update(step_targets(loop))


def _check_refs(value: Value, scope: set[str], attrs: set[str], where: str) -> None:
    for child in iter_values(value):
        if isinstance(child, Name) and child.id not in scope:
            raise ScaffoldError(f"{child.id!r} is used before it is defined", where=where)
        if isinstance(child, SelfAttr) and child.attr not in attrs:
            raise ScaffoldError(f"layer self.{child.attr} is never created", where=where)


def comprehension_targets(value: Value) -> set[str]:
    """The loop variables a comprehension binds (in scope in its element)."""
    names: set[str] = set()
    for child in iter_values(value):
        if isinstance(child, Comprehension):
            for target, _ in child.clauses:
                names.update(n.id for n in iter_values(target) if isinstance(n, Name))
    return names


def iter_values(value: Value):
    """Yield ``value`` and every value nested inside it, depth first."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, ListValue):
            stack.extend(item.items)
        elif isinstance(item, DictValue):
            for key, val in item.items:
                stack.extend((key, val))
        elif isinstance(item, Call):
            stack.append(item.func)
            stack.extend(item.args)
            stack.extend(v for _, v in item.kwargs)
        elif isinstance(item, BinOp):
            stack.extend((item.left, item.right))
        elif isinstance(item, UnaryOp):
            stack.append(item.operand)
        elif isinstance(item, Subscript):
            stack.extend((item.value, item.key))
        elif isinstance(item, SliceValue):
            stack.extend((item.start, item.stop, item.step))
        elif isinstance(item, Compare):
            stack.extend((item.left, item.right))
        elif isinstance(item, IfExp):
            stack.extend((item.test, item.body, item.orelse))
        elif isinstance(item, FormattedName):
            stack.extend(part for part in item.parts if not isinstance(part, str))
        elif isinstance(item, Comprehension):
            stack.append(item.element)
            for target, iterable in item.clauses:
                stack.extend((target, iterable))
