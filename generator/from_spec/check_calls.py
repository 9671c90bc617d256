"""Checks layer and block calls against the catalog, the blocks and the parameters.

Unknown layers and arguments get a "did you mean" suggestion; nested layer calls
(``Bidirectional(LSTM(64))``) and parameter references are checked where they appear.
"""

from __future__ import annotations

from typing import Any

from generator.errors import SpecError
from generator.from_spec.check_values import check_value, evaluate, quoted_name_hint
from generator.from_spec.spec import (
    BlockDecl,
    CheckedNode,
    Expr,
    LayerCall,
    NodeSpec,
    ParamDecl,
    ParamRef,
    suggest,
)


class CallChecker:
    """Layer and block calls against the catalog, the blocks and the parameters in scope."""

    def __init__(
        self,
        catalog: dict[str, Any],
        blocks: dict[str, BlockDecl],
        params: tuple[ParamDecl, ...],
        *,
        noun: str = "layer",
    ) -> None:
        self.catalog = catalog["layers"]
        self.noun = noun  # what the catalog section holds: layer, loss, metric
        self.names: dict[str, list[str]] = catalog.get("names", {})
        self.blocks = blocks
        self.param_names = {p.name for p in params}
        self.defaults = {p.name: p.default for p in params if not p.required}
        self.used: set[str] = set()  # parameters that some argument or repeat uses

    def node(self, spec: NodeSpec, name: str, inputs: tuple[str, ...]) -> CheckedNode:
        call = spec.call
        block = self.blocks.get(call.name)
        if block is not None:
            self.block_call(call, block)
            takes_training, merge = True, False
        else:
            entry = self.layer_call(call)
            takes_training, merge = bool(entry["training"]), bool(entry["merge"])
            if merge and len(inputs) < 2:
                raise SpecError(
                    f"{call.name} merges several inputs; give it 'inputs: [a, b]'",
                    where=str(call.loc),
                )
        if isinstance(spec.repeat, str):
            if spec.repeat not in self.param_names:
                raise SpecError(
                    f"repeat names unknown parameter {spec.repeat!r}"
                    f"{suggest(spec.repeat, self.param_names)}",
                    where=str(spec.loc),
                )
            self.used.add(spec.repeat)
            count = self.defaults.get(spec.repeat)
            if count is not None and (
                isinstance(count, bool) or not isinstance(count, int) or count < 1
            ):
                raise SpecError(
                    f"repeat: {spec.repeat} must be a positive int, got {count!r} (its default)",
                    where=str(spec.loc),
                )
        if spec.repeat and len(inputs) != 1:
            raise SpecError("a repeated layer takes exactly one input", where=str(spec.loc))
        return CheckedNode(spec, name, inputs, block, takes_training, merge)

    def entry(self, call: LayerCall) -> dict[str, Any]:
        entry = self.catalog.get(call.name)
        if entry is None:
            options = set(self.catalog) | set(self.blocks)
            hint = suggest(call.name, options)
            if "." in call.name and not hint:
                module = call.name.rsplit(".", 1)[0]
                hint = f"; list its module under imports: [{module}] (or --custom-objects)"
            raise SpecError(f"unknown {self.noun} {call.name!r}{hint}", where=str(call.loc))
        return entry

    def layer_call(self, call: LayerCall) -> dict[str, Any]:
        """Check a catalog layer's arguments; return its catalog entry."""
        entry = self.entry(call)
        params = entry["params"]
        names = [p["name"] for p in params]
        if len(call.args) > len(names):
            raise SpecError(
                f"{call.name} takes at most {len(names)} positional arguments", where=str(call.loc)
            )
        given = set(names[: len(call.args)])
        for slot, arg in zip(params, call.args, strict=False):
            self.value(arg)
            self.fits(call.name, slot, arg, str(call.loc))
        slots = {p["name"]: p for p in params}
        locs = call.kwarg_locs or (call.loc,) * len(call.kwargs)
        for (key, arg), loc in zip(call.kwargs, locs, strict=False):
            if key == "name":  # the node's name (checked with the names), or dropped
                continue
            if key not in names:
                raise SpecError(
                    f"{call.name} has no argument {key!r}{suggest(key, names)}", where=str(loc)
                )
            if key in given:
                raise SpecError(f"{call.name} got {key!r} twice", where=str(loc))
            self.value(arg)
            self.fits(call.name, slots[key], arg, str(loc))
            given.add(key)
        missing = [p["name"] for p in params if p["required"] and p["name"] not in given]
        if missing:
            raise SpecError(
                f"{call.name} is missing required argument {missing[0]!r}", where=str(call.loc)
            )
        return entry

    def block_call(self, call: LayerCall, block: BlockDecl) -> None:
        declared = [p.name for p in block.params]
        if len(call.args) > len(declared):
            raise SpecError(
                f"block {call.name} takes {len(declared)} arguments", where=str(call.loc)
            )
        given = set(declared[: len(call.args)])
        for arg in call.args:
            self.value(arg)
        for key, arg in call.kwargs:
            if key == "name":
                continue
            if key not in declared:
                raise SpecError(
                    f"block {call.name} has no parameter {key!r}{suggest(key, declared)}",
                    where=str(call.loc),
                )
            self.value(arg)
            given.add(key)
        missing = [p.name for p in block.params if p.required and p.name not in given]
        if missing:
            raise SpecError(
                f"block {call.name} is missing parameter {missing[0]!r}", where=str(call.loc)
            )

    def fits(self, layer: str, slot: dict[str, Any], arg: Any, where: str) -> None:
        """The argument's value (a parameter's default, an expression's result) fits."""
        value = evaluate(arg, self.defaults)
        try:
            check_value(layer, slot, value, self.names, getattr(arg, "loc", where))
        except SpecError as exc:
            if isinstance(arg, ParamRef):
                exc.message += f" (the default of parameter {arg.name!r})"
            elif isinstance(arg, Expr):
                exc.message += " (the expression, with the parameters' defaults)"
            raise

    def value(self, arg: Any) -> None:
        """Every name an argument refers to exists (and is now used)."""
        if isinstance(arg, ParamRef):
            if arg.name not in self.param_names:
                raise SpecError(
                    f"unknown name {arg.name!r}{suggest(arg.name, self.param_names)}; declare "
                    "it as a parameter (--param NAME=VALUE or params:)"
                    f"{quoted_name_hint(arg.name, self.names)}",
                    where=str(arg.loc),
                )
            self.used.add(arg.name)
        elif isinstance(arg, Expr):
            for operand in arg.operands:
                self.value(operand)
        elif isinstance(arg, LayerCall):
            self.layer_call(arg)
        elif isinstance(arg, (tuple, list)):
            for item in arg:
                self.value(item)
        elif isinstance(arg, dict):
            for item in arg.values():
                self.value(item)
