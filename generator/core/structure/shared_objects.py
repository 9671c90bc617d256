"""An initializer, regularizer or constraint written many times becomes one module constant,
as Keras's own code defines ``CONV_KERNEL_INITIALIZER`` once.

The constant is the object's config (``{"class_name": ..., "config": {...}}``), not an
instance: Keras builds a fresh object from it for every layer, as it did for the original
model, so no two layers share (seeded) state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from generator.core.ir import Call, DictValue, ModuleIR, Symbol, Value
from generator.core.naming import to_snake
from generator.core.structure.dataflow import KEEP, transform
from generator.core.structure.shapes import is_literal

MIN_USES = 3
_KINDS = ("initializers.", "regularizers.", "constraints.")


def shared_objects(module: ModuleIR, reserved: set[str]) -> ModuleIR:
    counts: dict[Call, int] = {}
    for model in module.models:
        for layer in model.layers:
            for _, value in _object_arguments(layer.constructor):
                counts[value] = counts.get(value, 0) + 1
    shared = [call for call, count in counts.items() if count >= MIN_USES]
    if not shared:
        return module
    taken = set(reserved) | {name for name, _ in module.constants}
    taken |= {asset.name for asset in module.assets}
    constants: dict[Call, str] = {}
    definitions: list[tuple[str, Value]] = []
    for call in shared:
        assert isinstance(call.func, Symbol)
        kind = call.func.qualname.split(".")[0].rstrip("s")  # initializer, regularizer, ...
        class_name = call.func.qualname.split(".")[-1]
        base = f"{to_snake(class_name)}_{kind}".upper()
        name = next(n for n in _candidates(base) if n not in taken)
        taken.add(name)
        constants[call] = name
        config = DictValue(tuple((key, value) for key, value in call.kwargs))
        definitions.append((name, DictValue((("class_name", class_name), ("config", config)))))

    def replace(node: Any) -> Any:
        if isinstance(node, Call) and node in constants:
            return Symbol("", constants[node])
        return KEEP

    models = tuple(
        dataclasses.replace(
            model,
            layers=tuple(
                dataclasses.replace(layer, constructor=transform(layer.constructor, replace))
                for layer in model.layers
            ),
        )
        for model in module.models
    )
    return dataclasses.replace(module, models=models, constants=(*module.constants, *definitions))


def _candidates(base: str):
    yield base
    number = 1
    while True:
        yield f"{base}_{number}"
        number += 1


def _object_arguments(constructor: Value) -> list[tuple[str, Call]]:
    """Keyword arguments of layer constructors that are a public Keras initializer,
    regularizer or constraint built from literal keyword arguments only."""
    found = []
    stack = [constructor]
    while stack:
        value = stack.pop()
        if isinstance(value, Call):
            for key, argument in value.kwargs:
                if _shareable(argument):
                    assert isinstance(argument, Call)
                    found.append((key, argument))
                else:
                    stack.append(argument)
            stack.extend(value.args)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            stack.extend(getattr(value, f.name) for f in dataclasses.fields(value))
        elif isinstance(value, tuple):
            stack.extend(value)
    return found


def _shareable(value: Value) -> bool:
    return (
        isinstance(value, Call)
        and isinstance(value.func, Symbol)
        and value.func.module == "keras"
        and value.func.qualname.startswith(_KINDS)
        and not value.args
        and all(is_literal(v) for _, v in value.kwargs)
    )
