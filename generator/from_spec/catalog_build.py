"""Builds the layer catalog from the installed Keras (``make catalog``; imports Keras).

For every public layer class: its constructor parameters, and for each parameter what a
spec may pass, taken from Keras itself so that ``scaffold new`` can check a spec without
importing it:

- ``kind``: a name Keras looks up (``activation``, ``initializer``, ``regularizer``,
  ``constraint``, ``dtype``); the names Keras accepts are listed once, under ``names``.
- ``types``: from the default value, else from the first words of the parameter's entry
  in the class docstring ("Positive integer", "Float between 0 and 1", "int or tuple").
- ``choices``: the quoted strings of an entry that says "either ... or ..." / "one of",
  kept only where the constructor refuses other strings and accepts all of these.
- ``min``/``max`` (with ``min_open``/``max_open``): numbers the constructor itself refuses,
  found by constructing the layer with probe values (0, -1, 1.0, 1.5, ...).

What cannot be told this way stays unchecked: a check here must never refuse a value
Keras accepts.
"""

from __future__ import annotations

import inspect
import re
import warnings
from typing import Any

from generator.from_spec.spec import DTYPES

# Layers that need runtime objects or other frameworks rather than literal arguments.
EXCLUDED = {
    "InputLayer",
    "Layer",
    "Lambda",
    "Wrapper",
    "RNN",
    "FlaxLayer",
    "JaxLayer",
    "TFSMLayer",
    "TorchModuleWrapper",
    "Pipeline",
    "StackedRNNCells",
}
_NAME_KINDS = (
    (re.compile(r"(^|_)activation$"), "activation"),
    (re.compile(r"_initializer$"), "initializer"),
    (re.compile(r"_regularizer$"), "regularizer"),
    (re.compile(r"_constraint$"), "constraint"),
    (re.compile(r"^dtype$"), "dtype"),
)
# Probe values for a required parameter, by the type its docstring gives.
_SAMPLES = {"int": 4, "number": 0.5, "int_or_sequence": 3, "sequence": (4,), "bool": True}


def build_catalog() -> dict[str, Any]:
    """The catalog of the installed Keras."""
    import keras
    from keras.layers import Layer

    from generator.from_keras.internals import is_merge_layer_class
    from generator.from_keras.training_use import reads_training

    base = _signature_params(Layer.__init__)
    layers: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(dir(keras.layers)):
            cls = getattr(keras.layers, name)
            if not (inspect.isclass(cls) and issubclass(cls, Layer)) or name in EXCLUDED:
                continue
            params = signature_entries(cls, base)
            _describe_params(cls, params)
            call = inspect.signature(cls.call).parameters  # type: ignore[attr-defined]
            layers[name] = {
                "path": f"layers.{name}",
                "params": params,
                # Only where call reads it: Dense accepts training and ignores it.
                "training": "training" in call and reads_training(cls),
                "merge": is_merge_layer_class(cls),
            }
    return {
        "keras_version": keras.__version__,
        "names": known_names(),
        "layers": layers,
        "losses": _training_objects(keras.losses, keras.losses.Loss),
        "metrics": _training_objects(keras.metrics, keras.metrics.Metric),
    }


def _training_objects(module: Any, base_class: type) -> dict[str, Any]:
    """The public loss (or metric) classes a spec's ``loss:`` / ``metrics:`` may name,
    described like layers so the same checks apply."""
    base = _signature_params(base_class.__init__)  # type: ignore[misc]
    found: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in sorted(dir(module)):
            cls = getattr(module, name)
            if not (inspect.isclass(cls) and issubclass(cls, base_class)) or cls is base_class:
                continue
            if name in ("LossFunctionWrapper", "MeanMetricWrapper", "Reduce"):
                continue  # wrap a function object: nothing a spec can write
            params = _signature_params(cls.__init__)  # type: ignore[misc]
            if any(
                p.kind is p.VAR_KEYWORD
                for p in inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
            ):
                params += [p for p in base if p["name"] not in {q["name"] for q in params}]
            _describe_params(cls, params)
            found[name] = {"path": f"{module.__name__.rsplit('.', 1)[-1]}.{name}", "params": params}
    return found


def known_names() -> dict[str, list[str]]:
    """The strings Keras accepts for each kind of looked-up name."""
    import keras

    from generator.from_keras.internals import registered_names

    found: dict[str, list[str]] = {"dtype": sorted({*DTYPES, "mixed_float16", "mixed_bfloat16"})}
    for kind, module in (
        ("activation", keras.activations),
        ("initializer", keras.initializers),
        ("regularizer", keras.regularizers),
        ("constraint", keras.constraints),
    ):
        public = [a for a in dir(module) if a not in ("get", "serialize", "deserialize")]
        candidates = {c for a in public if not a.startswith("_") for c in (a, _snake(a))}
        accepted = set()
        for candidate in sorted(candidates | set(registered_names(module))):
            try:
                if module.get(candidate) is not None:
                    accepted.add(candidate)
            except Exception:
                continue
        found[kind] = sorted(accepted)
    return found


def signature_entries(cls: type, base: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A layer class's constructor parameters, with ``Layer``'s own where it takes
    ``**kwargs``."""
    from keras.layers import Layer

    params = _signature_params(cls.__init__)  # type: ignore[misc]
    takes_kwargs = any(
        p.kind is p.VAR_KEYWORD
        for p in inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
    )
    if takes_kwargs:
        inherited = base if base is not None else _signature_params(Layer.__init__)
        params += [p for p in inherited if p["name"] not in {q["name"] for q in params}]
    return params


def _signature_params(function: Any) -> list[dict[str, Any]]:
    found = []
    for param in inspect.signature(function).parameters.values():
        if param.name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        entry: dict[str, Any] = {"name": param.name, "required": param.default is param.empty}
        if param.default is not param.empty:
            entry["default"] = _jsonable(param.default)
        found.append(entry)
    return found


def _describe_params(cls: type, params: list[dict[str, Any]]) -> None:
    """Add kind, types, choices and numeric limits to each parameter entry."""
    docs = docstring_args(cls.__doc__ or "")
    for entry in params:
        name = entry["name"]
        kind = next((k for pattern, k in _NAME_KINDS if pattern.search(name)), None)
        if kind is not None:
            entry["kind"] = kind
            continue
        types = types_from_default(entry) or _types_from_doc(docs.get(name, ""))
        if types:
            entry["types"] = types
        choices = _choices(docs.get(name, ""))
        if choices and (types in (None, ["str"])) and isinstance(entry.get("default", ""), str):
            entry["choices"] = choices
    _probe_limits(cls, params)


def docstring_args(doc: str) -> dict[str, str]:
    """``name → description`` from the ``Args:`` section of a Google-style docstring."""
    found: dict[str, str] = {}
    in_args, indent, current = False, None, None
    for line in doc.splitlines():
        stripped = line.strip()
        if re.fullmatch(r"(Args|Arguments):", stripped):
            in_args, indent, current = True, None, None
            continue
        if not in_args:
            continue
        if re.fullmatch(r"[A-Z][A-Za-z ]*:", stripped):
            in_args = False
            continue
        match = re.match(r"^(\s*)(\w+): ?(.*)$", line)
        if match and (indent is None or len(match.group(1)) == indent):
            indent, current = len(match.group(1)), match.group(2)
            found[current] = match.group(3)
        elif current and stripped:
            found[current] += " " + stripped
    return found


def types_from_default(entry: dict[str, Any]) -> list[str] | None:
    default = entry.get("default")
    if "default" not in entry or default is None:
        return None
    if isinstance(default, bool):
        return ["bool"]
    if isinstance(default, int):
        return ["int"]
    if isinstance(default, float):
        return ["number"]
    if isinstance(default, list) and default and all(isinstance(v, int) for v in default):
        return ["int_or_sequence"]
    return None  # strings: the docstring may say more (choices), or anything goes


def _types_from_doc(text: str) -> list[str] | None:
    head = text.split(". ")[0].lower()
    if re.search(r"\bor none\b|\bcallable\b|\btensor\b|\bdict\b|\blayer\b|\barray\b", head):
        return None
    sequence = re.search(r"\b(tuple|list)s?\b", head) is not None
    if re.match(r"(positive |non-negative |a )?(python )?(int|integer)s?\b", head) or re.match(
        r"(the )?(number|size) of\b",
        head,  # "Number of attention heads."
    ):
        return ["int_or_sequence"] if sequence else ["int"]
    if re.match(r"(a )?(tuple|list) of (int|integer)", head):
        return ["sequence"]
    if sequence:
        return None
    if re.match(r"(a )?(float|floating point)\b", head):
        return ["number"]
    if re.match(r"(a )?bool(ean)?\b", head):
        return ["bool"]
    return None


def _choices(text: str) -> list[str] | None:
    """``"valid"`` or ``"same"``: only where the entry says these are the options."""
    head = text.split(". ")[0]
    listed = re.search(r"\beither\b|\bone of\b", head) or re.match(r"(?i)(str|string)\b", head)
    choices = set(re.findall(r'`"(\w+)"`', head))
    return sorted(choices) if listed and len(choices) >= 2 else None


def _probe_limits(cls: type, params: list[dict[str, Any]]) -> None:
    """Find the numbers the constructor refuses, parameter by parameter."""
    base = _constructible(cls, params)
    if base is None:
        for entry in params:
            entry.pop("choices", None)  # unverifiable
        return
    for entry in params:
        types = entry.get("types") or []
        name = entry["name"]
        if "choices" in entry and (
            _constructs(cls, {**base, name: "not_a_choice"})
            or not all(_constructs(cls, {**base, name: c}) for c in entry["choices"])
        ):
            del entry["choices"]  # Keras does not hold to this list: neither do we
        if "int" in types or "int_or_sequence" in types:
            refused_ints = [v for v in (-1, 0) if not _constructs(cls, {**base, name: v})]
            if refused_ints == [-1, 0]:
                entry["min"] = 1
            elif refused_ints == [-1]:
                entry["min"] = 0
        elif "number" in types:
            refused = {v for v in (-0.5, 0.0, 1.0, 1.5) if not _constructs(cls, {**base, name: v})}
            if -0.5 in refused:
                entry["min"] = 0.0
                if 0.0 in refused:
                    entry["min_open"] = True
            if 1.5 in refused:
                entry["max"] = 1.0
                if 1.0 in refused:
                    entry["max_open"] = True


def _constructible(cls: type, params: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Arguments for the required parameters with which the layer constructs, if any."""
    base: dict[str, Any] = {}
    for entry in params:
        if entry["required"]:
            sample = next((_SAMPLES[t] for t in entry.get("types", []) if t in _SAMPLES), 4)
            base[entry["name"]] = sample
    return base if _constructs(cls, base) else None


def _constructs(cls: type, kwargs: dict[str, Any]) -> bool:
    try:
        cls(**kwargs)
    except Exception:
        return False
    return True


def _jsonable(value: Any) -> Any:
    """A default as JSON: nested tuples as lists; anything else as its repr."""
    try:
        return _plain(value)
    except TypeError:
        return repr(value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    raise TypeError(type(value).__name__)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
