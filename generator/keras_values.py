"""Turns Keras objects and their configs into IR values: constructor calls and symbols.

Only non-default constructor arguments are kept. "Default" is decided by Keras itself: a
candidate argument set is instantiated and its ``get_config()`` compared with the
original's, adding arguments until they agree. This catches derived defaults
(``MaxPooling2D(pool_size=3)`` sets ``strides=3``) that a diff against a default instance
would silently drop.
"""

from __future__ import annotations

import copy
import inspect
import math
import types
from collections.abc import Callable
from typing import Any

from generator.errors import UnsupportedModelError
from generator.ir import Call, DictValue, HelperClass, ListValue, Symbol, Value

_MISSING = object()


def public_symbol(obj: Any, *, where: str) -> Symbol:
    """Where generated code imports ``obj`` (a class or function) from.

    Raises:
        UnsupportedModelError: the object lives in a module that generated code cannot
            import (``__main__``, a private Keras module without a public name).
    """
    from keras.src import api_export

    name = api_export.REGISTERED_OBJS_TO_NAMES.get(obj)
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
    from keras.src import api_export

    return (
        inspect.isclass(obj)
        and obj.__module__.startswith("keras.src.")
        and obj not in api_export.REGISTERED_OBJS_TO_NAMES
    )


def _normalize(value: Any) -> Any:
    """Comparable form of a config value: lists as tuples, numpy as Python."""
    if isinstance(value, dict):
        return tuple(sorted((k, _normalize(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_normalize(v) for v in value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _normalize(value.tolist())
    return value


def _is_serialized_object(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


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
        self._minimal_cache: dict[Any, tuple[tuple[str, Any], ...]] = {}
        # Constructor arguments already tried, and the config they produced: layers that
        # differ only in some arguments share their first trials (40% of EfficientNet's).
        self._round_trips: dict[Any, dict[str, Any] | None] = {}
        self.imports: set[str] = set()

    # -- public entry points ---------------------------------------------------------------

    def layer_constructor(self, layer: Any, *, where: str) -> Call:
        """``Dense(64, activation="relu", name="fc1")`` for a layer instance."""
        config = layer.get_config()
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
        if _is_serialized_object(value):
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
        from generator.class_source import copy_class_source

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
        name = config.pop("name", _MISSING) if keep_name else _MISSING
        minimal = self._minimal_args(cls, config, build_config, ignore_name=keep_name)
        params = _init_parameters(cls)
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

    def _minimal_args(
        self,
        cls: type,
        config: dict[str, Any],
        build_config: dict[str, Any] | None,
        *,
        ignore_name: bool,
    ) -> tuple[tuple[str, Any], ...]:
        """The shortest argument list (in signature order) that reproduces ``config``."""
        cache_key = (cls, _normalize(config), _normalize(build_config), ignore_name)
        cached = self._minimal_cache.get(cache_key)
        if cached is not None:
            return cached
        check = _ConfigCheck(cls, config, ignore_name, self._round_trips)
        params = _init_parameters(cls)
        order = {k: i for i, k in enumerate(params)}
        ordered_keys = sorted(config, key=lambda k: (order.get(k, len(order)), k))
        chosen = {
            k
            for k, p in params.items()
            if k in config
            and p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        result: tuple[tuple[str, Any], ...] | None = None
        # Add one differing argument at a time, in signature order, so arguments whose
        # default derives from an earlier one (strides from pool_size) stay implicit.
        # Arguments that only construct together (Normalization's mean and variance) are
        # added until Keras accepts them.
        added: list[str] = []
        pending: list[str] = []
        stuck = False
        for _ in range(2 * len(config) + 2):
            mismatched = check.mismatched({k: config[k] for k in chosen})
            if mismatched is None:
                if not added and not pending:  # too few arguments to construct at all
                    pending = [k for k in ordered_keys if k not in chosen]
                if not pending:
                    stuck = True
                    break
                added.append(pending.pop(0))
                chosen.add(added[-1])
                continue
            if not mismatched:
                result = tuple((k, config[k]) for k in ordered_keys if k in chosen)
                break
            pending = [k for k in ordered_keys if k in mismatched and k not in chosen]
            if not pending:
                break
            added.append(pending.pop(0))
            chosen.add(added[-1])
        if stuck:
            # Keras refuses one argument beside the others (an adapted Discretization's
            # num_bins beside its bin_boundaries): leave out the one whose absence is the
            # only difference, since it is state derived from the rest.
            for key in reversed(added):
                trial = {k: config[k] for k in chosen if k != key}
                if check.mismatched(trial) in ({key}, set()):
                    result = tuple((k, config[k]) for k in ordered_keys if k in trial)
                    break
        if result is None:
            result = tuple((k, config[k]) for k in ordered_keys)
        result = _simplify(check, result, build_config)
        self._minimal_cache[cache_key] = result
        return result


class _ConfigCheck:
    """Does ``cls`` built from some arguments have exactly the original ``config``?"""

    def __init__(
        self,
        cls: type,
        config: dict[str, Any],
        ignore_name: bool,
        round_trips: dict[Any, dict[str, Any] | None],
    ) -> None:
        self.cls = cls
        self.target = {k: _normalize(v) for k, v in config.items()}
        self.ignore_name = ignore_name
        self.round_trips = round_trips

    def mismatched(
        self, kwargs: dict[str, Any], build_config: dict[str, Any] | None = None
    ) -> set[str] | None:
        """Keys whose value differs (empty: identical); ``None`` if Keras rejects them."""
        key = (self.cls, _normalize(kwargs), _normalize(build_config))
        if key not in self.round_trips:
            self.round_trips[key] = _round_trip(self.cls, kwargs, build_config)
        produced = self.round_trips[key]
        if produced is None:
            return None
        if self.ignore_name:
            produced = {k: v for k, v in produced.items() if k != "name"}
        keys = set(self.target) | set(produced)
        return {
            k for k in keys if _normalize(produced.get(k, _MISSING)) != self.target.get(k, _MISSING)
        }


def _simplify(
    check: _ConfigCheck, args: tuple[tuple[str, Any], ...], build_config: dict[str, Any] | None
) -> tuple[tuple[str, Any], ...]:
    """Prefer ``3`` to ``(3, 3)``, ``"zeros"`` to ``Zeros()``, ``1e-05`` to
    ``9.999999747378752e-06``, and drop ``axis=[-1]`` that building derives anyway, but only
    where Keras (building the layer if needed) produces exactly the same config."""
    alternatives: dict[str, list[Any]] = {}
    for key, value in args:
        options = _shorter_forms(value)
        if options:
            alternatives[key] = options
    if not alternatives:
        return args
    current = dict(args)
    needs_build = build_config is not None and any(
        _is_singleton(v) for k, v in args if k in alternatives
    )
    build = build_config if needs_build else None
    for key, options in alternatives.items():
        for option in options:
            trial = dict(current)
            if option is _DROP:
                del trial[key]
            else:
                trial[key] = option
            if check.mismatched(trial, build) == set():
                current = trial
                break
    return tuple((k, current[k]) for k, _ in args if k in current)


_DROP = object()


def _is_singleton(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 1


def _shorter_forms(value: Any) -> list[Any]:
    """Shorter spellings of a config value to try, best first."""
    import numpy as np

    if _is_singleton(value):
        return [_DROP, value[0]]
    if (
        isinstance(value, tuple)
        and len(value) > 1
        and all(type(v) is int and v == value[0] for v in value)
    ):
        return [value[0]]
    if isinstance(value, float) and math.isfinite(value):
        short = float(str(np.float32(value)))
        if short != value and float(np.float32(short)) == value:
            return [short]
        return []
    if _is_serialized_object(value) and value.get("registered_name") in (
        None,
        value.get("class_name"),
    ):
        if value.get("class_name") == "DTypePolicy":
            return [value["config"].get("name")]
        config = value["config"]
        if isinstance(config, dict) and all(v is None for v in config.values()):
            if str(value.get("module", "")).startswith("keras."):
                return [_camel_to_snake(value["class_name"])]
    return []


def _camel_to_snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _round_trip(
    cls: Any, kwargs: dict[str, Any], build_config: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """``cls.from_config(kwargs).get_config()``, or ``None`` if Keras rejects the kwargs."""
    import keras

    policy = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy("float32")
        # Construct exactly as generated code will: nested objects first, then the
        # constructor (``from_config`` can accept what the constructor refuses).
        instance = cls(**{k: _materialize(v) for k, v in kwargs.items()})
        if build_config:
            instance.build_from_config(build_config)
        return dict(instance.get_config())
    except Exception:
        return None
    finally:
        keras.config.set_dtype_policy(policy)


def _materialize(value: Any) -> Any:
    import keras

    if _is_serialized_object(value) and value.get("class_name") != "__tuple__":
        return keras.saving.deserialize_keras_object(copy.deepcopy(value))
    if isinstance(value, list):
        return [_materialize(v) for v in value]
    return copy.deepcopy(value)


_PARAM_CACHE: dict[type, dict[str, inspect.Parameter]] = {}


def _init_parameters(cls: type) -> dict[str, inspect.Parameter]:
    cached = _PARAM_CACHE.get(cls)
    if cached is None:
        try:
            signature = inspect.signature(cls.__init__)  # type: ignore[misc]
        except (TypeError, ValueError):
            signature = inspect.Signature()
        cached = {
            k: p
            for k, p in signature.parameters.items()
            if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        _PARAM_CACHE[cls] = cached
    return cached
