"""Turns Keras objects and their configs into IR values: constructor calls and symbols.

Constructor calls keep only the arguments that ``arguments.MinimalArguments`` finds
necessary; classes without a public import are copied (``class_source``).
"""

from __future__ import annotations

import copy
import inspect
import types
from collections.abc import Callable
from typing import Any

from generator.core.ir import Call, DictValue, HelperClass, ListValue, Symbol, Value
from generator.errors import UnsupportedModelError
from generator.from_keras.arguments import (
    MISSING,
    MinimalArguments,
    init_parameters,
    is_serialized_object,
)
from generator.from_keras.internals import exported_name, is_private_keras_object
from generator.from_keras.state import adapted_state


def public_symbol(obj: Any, *, where: str) -> Symbol:
    """Where generated code imports ``obj`` (a class or function) from.

    Raises:
        UnsupportedModelError: the object lives in a module that generated code cannot
            import (``__main__``, a private Keras module without a public name).
    """
    name = exported_name(obj)
    if name and name.startswith("keras."):
        return Symbol("keras", name[len("keras.") :])
    module: str = getattr(obj, "__module__", None) or ""
    qualname: str = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "") or ""
    if module == "__main__" or "<locals>" in qualname or not module:
        raise UnsupportedModelError(
            f"{qualname} is defined in {module or 'an unknown module'!s} and cannot be "
            "imported by generated code; move it into an importable module and pass "
            "--custom-objects MODULE",
            where=where,
        )
    if module.split(".")[0] == "keras":
        raise UnsupportedModelError(
            f"{qualname} is private to Keras ({module}) and has no public name to import",
            where=where,
        )
    return Symbol(module, qualname)


def _is_private_keras_class(obj: Any) -> bool:
    return inspect.isclass(obj) and is_private_keras_object(obj)


class ValueWriter:
    """Converts live Keras objects and config values into IR values, with caching.

    Args:
        custom_objects: passed to Keras deserialization for user classes.
    """

    def __init__(
        self,
        claim_class: Callable[[str], str],
        custom_objects: dict[str, Any] | None = None,
    ) -> None:
        self._claim_class = claim_class
        self._custom_objects = custom_objects or {}
        self.helpers: dict[type, HelperClass] = {}
        self._arguments = MinimalArguments()
        self.imports: set[str] = set()

    # -- public entry points ---------------------------------------------------------------

    def layer_constructor(self, layer: Any, *, where: str) -> Call:
        """``Dense(64, activation="relu", name="fc1")`` for a layer instance."""
        config = layer.get_config()
        config = {**config, **adapted_state(layer, config)}
        build_config = layer.get_build_config() if getattr(layer, "built", False) else None
        return self._object_call(
            type(layer), config, where=where, keep_name=True, build_config=build_config
        )

    def value(self, value: Any, *, where: str) -> Value:
        """Any config value (possibly a serialized Keras object) as an IR value."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if hasattr(value, "tolist") and not isinstance(value, (list, tuple, dict)):
            return self.value(value.tolist(), where=where)
        if isinstance(value, tuple):
            return tuple(self.value(v, where=where) for v in value)
        if isinstance(value, list):
            return ListValue(tuple(self.value(v, where=where) for v in value))
        if is_serialized_object(value):
            return self._serialized_object(value, where=where)
        if isinstance(value, dict):
            return DictValue(
                tuple(
                    (self.value(k, where=where), self.value(v, where=where))
                    for k, v in value.items()
                )
            )
        if isinstance(value, types.FunctionType | types.BuiltinFunctionType):
            return self.symbol(value, where=where)
        if inspect.isclass(value):
            return self.symbol(value, where=where)
        if hasattr(value, "get_config"):
            return self._object_call(type(value), value.get_config(), where=where, keep_name=False)
        raise UnsupportedModelError(
            f"cannot write a config value of type {type(value).__name__}", where=where
        )

    def compile_arguments(self, model: Any) -> Value:
        """The model's ``compile()`` arguments that differ from the defaults, or ``None``."""
        get = getattr(model, "get_compile_config", None)
        config = get() if get is not None and getattr(model, "compiled", False) else None
        if not config:
            return None
        defaults = {
            "loss_weights": None,
            "metrics": None,
            "weighted_metrics": None,
            "run_eagerly": False,
            "steps_per_execution": 1,
            "jit_compile": "auto",
            "auto_scale_loss": True,
        }
        items = []
        for key, value in config.items():
            if key in defaults and value == defaults[key]:
                continue
            items.append((key, self.value(value, where=f"compile config {key!r}")))
        return DictValue(tuple(items))

    def symbol(self, obj: Any, *, where: str) -> Symbol:
        if getattr(obj, "__name__", "") == "<lambda>":
            raise UnsupportedModelError("a lambda cannot be written as code here", where=where)
        if _is_private_keras_class(obj):
            return self._copied_class(obj, where=where)
        symbol = public_symbol(obj, where=where)
        if symbol.module not in ("", "keras"):
            self.imports.add(f"import {symbol.module}")
        return symbol

    # -- internals -------------------------------------------------------------------------

    def _copied_class(self, cls: type, *, where: str) -> Symbol:
        from generator.from_keras.class_source import copy_class_source

        helper = self.helpers.get(cls)
        if helper is None:
            name = self._claim_class(cls.__name__)
            helper = copy_class_source(cls, name, where=where)
            self.helpers[cls] = helper
            for part in helper.parts:
                if isinstance(part, Symbol) and part.module not in ("", "keras"):
                    self.imports.add(f"import {part.module}")
        return Symbol("", helper.class_name)

    def _serialized_object(self, config: dict[str, Any], *, where: str) -> Value:
        import keras

        if config.get("class_name") == "__tuple__":
            return tuple(self.value(v, where=where) for v in config["config"]["value"])
        try:
            obj = keras.saving.deserialize_keras_object(
                copy.deepcopy(config), custom_objects=self._custom_objects
            )
        except Exception as exc:
            raise UnsupportedModelError(
                f"cannot deserialize {config.get('class_name')!r}: {exc}", where=where
            ) from exc
        if inspect.isfunction(obj) or inspect.isbuiltin(obj) or inspect.isclass(obj):
            return self.symbol(obj, where=where)
        if hasattr(obj, "get_config"):
            return self._object_call(type(obj), obj.get_config(), where=where, keep_name=False)
        return self.value(obj, where=where)

    def _object_call(
        self,
        cls: type,
        config: dict[str, Any],
        *,
        where: str,
        keep_name: bool,
        build_config: dict[str, Any] | None = None,
    ) -> Call:
        """A constructor call; with ``keep_name`` the name is always written, last."""
        symbol = self.symbol(cls, where=where)
        config = dict(config)
        name = config.pop("name", MISSING) if keep_name else MISSING
        minimal = self._arguments.minimal(cls, config, build_config, ignore_name=keep_name)
        params = init_parameters(cls)
        positional: list[Value] = []
        kwargs: list[tuple[str, Value]] = []
        leading = True
        for key, raw in minimal:
            param = params.get(key)
            leading = (
                leading
                and param is not None
                and param.default is inspect.Parameter.empty
                and param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
            )
            if leading:
                positional.append(self.value(raw, where=where))
            else:
                kwargs.append((key, self.value(raw, where=where)))
        if isinstance(name, str):
            kwargs.append(("name", name))
        return Call(symbol, tuple(positional), tuple(kwargs))
