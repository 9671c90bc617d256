"""The spec of ``scaffold new NAME --layers CHAIN --input-shape DIMS --param NAME=VALUE``."""

from __future__ import annotations

import ast

from generator.errors import SpecError
from generator.from_spec.expressions import parse_chain
from generator.from_spec.spec import DTYPES, InputDecl, Loc, ModelSpec, ParamDecl, suggest


def parse_shape(text: str, where: str) -> tuple[int | None, ...]:
    """``"28,28,1"`` → ``(28, 28, 1)``; ``None`` marks an unknown dimension."""
    dims: list[int | None] = []
    for part in text.replace("(", "").replace(")", "").split(","):
        part = part.strip()
        if not part:
            continue
        if part.lower() == "none":
            dims.append(None)
        elif part.isdigit() and int(part) > 0:
            dims.append(int(part))
        else:
            raise SpecError(
                f"invalid shape {text!r}: dimensions are positive integers or None", where=where
            )
    if not dims:
        raise SpecError(f"invalid shape {text!r}: give at least one dimension", where=where)
    return tuple(dims)


def parse_param(text: str, where: str) -> ParamDecl:
    """``"num_classes=10"`` → a parameter with a literal default."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep:
        raise SpecError(f"expected NAME=VALUE, got {text!r}", where=where)
    try:
        default = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        default = value.strip()  # a bare word is a string
    return ParamDecl(
        name, default, type(default).__name__ if default is not None else "", "", Loc(where, 1, 1)
    )


def chain_spec(
    layers: str, input_shape: str | None, params: tuple[str, ...], dtype: str = "float32"
) -> ModelSpec:
    """The spec of ``scaffold new NAME --input-shape ... --layers ... --param ...``."""
    if input_shape is None:
        raise SpecError("--layers needs --input-shape", where="--input-shape")
    if dtype not in DTYPES:
        raise SpecError(f"unknown dtype {dtype!r}{suggest(dtype, DTYPES)}", where="--dtype")
    loc = Loc("--layers", 1, 1)
    shape = parse_shape(input_shape, "--input-shape")
    return ModelSpec(
        source="--layers",
        inputs=(InputDecl("inputs", shape, dtype, Loc("--input-shape", 1, 1)),),
        params=tuple(parse_param(p, "--param") for p in params),
        nodes=parse_chain(layers, loc),
    )
