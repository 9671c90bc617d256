"""The parsed spec of ``scaffold new``: plain, located data (no Keras, no TensorFlow).

The readers (``yaml_reader``, ``one_line``) produce these objects and ``validate`` checks
them. Every element keeps the file, line and column it came from, so a mistake is
reported as ``model.yaml:12:7: unknown layer 'Dense2' (did you mean 'Dense'?)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Loc:
    source: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"

    def shifted(self, line_offset: int, column_offset: int) -> Loc:
        """A position inside a scalar that starts here (``ast`` offsets are 0-based)."""
        if line_offset:
            return Loc(self.source, self.line + line_offset, column_offset + 1)
        return Loc(self.source, self.line, self.column + column_offset)


@dataclass(frozen=True)
class ParamRef:
    name: str
    loc: Loc


@dataclass(frozen=True)
class LayerCall:
    """``Conv2D(32, 3, activation='relu')``: a layer (or block) name and its arguments."""

    name: str
    args: tuple[Arg, ...]
    kwargs: tuple[tuple[str, Arg], ...]
    loc: Loc
    kwarg_locs: tuple[Loc, ...] = ()


@dataclass(frozen=True)
class Expr:
    """Arithmetic on numbers and parameters (``4 * embed_dim``, ``embed_dim // num_heads``).

    Parsed from the spec's syntax tree, never evaluated as Python: validation computes it
    from the parameters' defaults to check where it is used, and the generated code keeps
    it as written.
    """

    op: str  # "+", "-", "*", "/", "//", "%", "**"; one operand: "-" or "+"
    operands: tuple[Arg, ...]
    loc: Loc


Arg = None | bool | int | float | str | tuple | list | dict | ParamRef | LayerCall | Expr


@dataclass(frozen=True)
class NodeSpec:
    """One entry of ``layers:``; ``inputs`` ``None`` means "the previous entry"."""

    call: LayerCall
    loc: Loc
    name: str | None = None
    inputs: tuple[str, ...] | None = None
    input_locs: tuple[Loc, ...] = ()
    repeat: int | str = 0  # a count, or the name of an int parameter


@dataclass(frozen=True)
class InputDecl:
    name: str
    shape: tuple[int | None, ...]
    dtype: str
    loc: Loc


@dataclass(frozen=True)
class ParamDecl:
    name: str
    default: Any
    type: str
    doc: str
    loc: Loc
    required: bool = False  # declared without a default (blocks only)


@dataclass(frozen=True)
class BlockDecl:
    name: str
    params: tuple[ParamDecl, ...]
    nodes: tuple[NodeSpec, ...]
    loc: Loc
    doc: str = ""


@dataclass(frozen=True)
class TrainingDecl:
    """``task:``, ``loss:`` and ``metrics:`` as written: for the whole model, or per
    output (a mapping by output key, a list in output order). docs/spec.md."""

    task: Any = None  # str | {key: str} | [str]
    loss: Any = None  # LayerCall | {key: LayerCall} | [LayerCall]
    metrics: Any = None  # [LayerCall] | {key: [LayerCall]} | [[LayerCall]]
    locs: dict[str, Loc] = field(default_factory=dict)  # "task" / "loss" / "metrics"


@dataclass(frozen=True)
class ModelSpec:
    source: str
    inputs: tuple[InputDecl, ...]
    params: tuple[ParamDecl, ...]
    nodes: tuple[NodeSpec, ...]
    blocks: tuple[BlockDecl, ...] = ()
    outputs: Any = None  # None (last node), a name, a list of names, or {key: name}
    outputs_loc: Loc | None = None
    name: str | None = None
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    named_inputs: bool = False  # ``inputs:`` names them: the model takes a dict, even of one
    imports: tuple[str, ...] = ()  # modules with the user's own layers (``imports:``)
    imports_loc: Loc | None = None
    training: TrainingDecl = field(default_factory=TrainingDecl)


Outputs = str | list[str] | dict[str, str]


@dataclass(frozen=True)
class CheckedNode:
    """One entry of ``layers:`` with its unique name and resolved inputs."""

    spec: NodeSpec
    name: str
    inputs: tuple[str, ...]
    block: BlockDecl | None  # the block it instantiates; None for a catalog layer
    takes_training: bool
    merge: bool  # takes its inputs as one list (Add, Concatenate, ...)


@dataclass(frozen=True)
class CheckedGraph:
    """The model or one block: its nodes in a stable topological (call) order."""

    kind: Literal["model", "block"]
    name: str  # the block's name; "" for the model
    doc: str
    params: tuple[ParamDecl, ...]
    inputs: tuple[InputDecl, ...]  # the model's; a block takes one ``inputs``
    declared: tuple[NodeSpec, ...]  # as written, for summaries
    nodes: tuple[CheckedNode, ...]
    outputs: Outputs
    chain: bool  # a straight line: ``x = self.layer(x)`` reads best


@dataclass(frozen=True)
class CheckedOutput:
    """One output that trains, as the spec says."""

    key: str | int | None
    task: str  # "" when only ``loss:`` is given
    loss: LayerCall | None  # None: the task's
    metrics: tuple[LayerCall, ...] | None  # None: the task's
    logits: bool


@dataclass(frozen=True)
class CheckedSpec:
    spec: ModelSpec
    blocks: tuple[CheckedGraph, ...]  # in declaration order; each may use earlier ones
    model: CheckedGraph
    layers: dict[str, Any] = field(default_factory=dict)  # the catalog, custom layers added
    training: tuple[CheckedOutput, ...] = ()
    catalog: dict[str, Any] = field(default_factory=dict)  # losses and metrics too


DTYPES = {
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "string",
}


def suggest(word: str, options: Any) -> str:
    """`` (did you mean 'Dense'?)`` when one option is close to ``word``, else ``""``."""
    import difflib

    close = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
