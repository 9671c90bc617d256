"""Finds the shortest constructor arguments that rebuild a Keras object exactly.

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
import re
from typing import Any

MISSING = object()


def _normalize(value: Any) -> Any:
    """Comparable form of a config value: lists as tuples, numpy as Python."""
    if isinstance(value, dict):
        return tuple(sorted((k, _normalize(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_normalize(v) for v in value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _normalize(value.tolist())
    return value


def is_serialized_object(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


class MinimalArguments:
    """The argument search, with its caches (one instance per conversion)."""

    def __init__(self) -> None:
        self._cache: dict[Any, tuple[tuple[str, Any], ...]] = {}
        # Constructor arguments already tried, and the config they produced: layers that
        # differ only in some arguments share their first trials (40% of EfficientNet's).
        self._round_trips: dict[Any, dict[str, Any] | None] = {}

    def minimal(
        self,
        cls: type,
        config: dict[str, Any],
        build_config: dict[str, Any] | None,
        *,
        ignore_name: bool,
    ) -> tuple[tuple[str, Any], ...]:
        """The shortest argument list (in signature order) that reproduces ``config``."""
        cache_key = (cls, _normalize(config), _normalize(build_config), ignore_name)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        check = _ConfigCheck(cls, config, ignore_name, self._round_trips)
        params = init_parameters(cls)
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
        self._cache[cache_key] = result
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
        elif "name" not in kwargs and _auto_named(self.target.get("name"), produced.get("name")):
            # Keras numbers the names it makes up (``adam``, then ``adam_1`` in the same
            # process): the original's made-up name is the default whatever came before.
            produced = {**produced, "name": self.target["name"]}
        keys = set(self.target) | set(produced)
        return {
            k for k in keys if _normalize(produced.get(k, MISSING)) != self.target.get(k, MISSING)
        }


def _auto_named(target: Any, produced: Any) -> bool:
    """Whether ``target`` is a name Keras makes up, as ``produced`` is (the name of an
    object made without one): Keras numbers them per process (``adam``, ``adam_1``), so
    either is the default, whatever was made before in the saving process or in this."""
    if not isinstance(target, str) or not isinstance(produced, str):
        return False
    base = re.sub(r"_\d+$", "", produced)
    return re.fullmatch(re.escape(base) + r"(_\d+)?", target) is not None


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
    if _even_pair(value):
        return [value[0]]
    if isinstance(value, tuple) and value and all(_even_pair(v) for v in value):
        # ZeroPadding2D's ((3, 3), (3, 3)): 3, else (top, left) for each axis's pair
        firsts = tuple(v[0] for v in value)
        return [firsts[0], firsts] if len(set(firsts)) == 1 else [firsts]
    if isinstance(value, float) and math.isfinite(value):
        short = float(str(np.float32(value)))
        if short != value and float(np.float32(short)) == value:
            return [short]
        return []
    if is_serialized_object(value) and value.get("registered_name") in (
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


def _even_pair(value: Any) -> bool:
    """A tuple of equal ints (``(3, 3)``): one int says as much."""
    return (
        isinstance(value, tuple)
        and len(value) > 1
        and all(type(v) is int and v == value[0] for v in value)
    )


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

    if is_serialized_object(value) and value.get("class_name") != "__tuple__":
        return keras.saving.deserialize_keras_object(copy.deepcopy(value))
    if isinstance(value, list):
        return [_materialize(v) for v in value]
    return copy.deepcopy(value)


_PARAM_CACHE: dict[type, dict[str, inspect.Parameter]] = {}


def init_parameters(cls: type) -> dict[str, inspect.Parameter]:
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
