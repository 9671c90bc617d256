"""Writes ``keras.ops`` graph nodes (``Operation``s that are not layers) as readable code.

``keras.ops.concatenate([a, b], axis=-1)`` is recorded as a ``Concatenate(axis=-1)``
operation called on ``[a, b]``: constructor parameters come from the operation's
``get_config()``, data arguments from the node. Arithmetic and indexing become Python
operators when that cannot change the result dtype.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import numpy as np

from generator.core.ir import BinOp, Call, EllipsisValue, SliceValue, Subscript, UnaryOp, Value
from generator.errors import UnsupportedModelError
from generator.from_keras.constants import is_constant
from generator.from_keras.internals import (
    exported_name,
    has_graph,
    is_numpy_operation,
    producer_node,
)

_BINARY_OPERATORS = {
    "Add": "+",
    "Subtract": "-",
    "Multiply": "*",
    "Divide": "/",
    "TrueDivide": "/",
    "Power": "**",
}
_UNARY_OPERATORS = {"Negative": "-"}
_FLOAT_DTYPES = {"float16", "bfloat16", "float32", "float64"}
_INT_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}


def public_function_for(op_class: type) -> Any:
    """The exported ``keras.ops`` function that creates ``op_class`` operations."""
    module = sys.modules.get(op_class.__module__)
    if module is None:
        return None
    snake = _snake(op_class.__name__)
    candidate = getattr(module, snake, None)
    if candidate is not None and exported_name(candidate) is not None:
        return candidate
    # Name exceptions: find the exported function of the module that builds this class.
    matches = [
        fn
        for fn in vars(module).values()
        if inspect.isfunction(fn)
        and exported_name(fn) is not None
        and op_class.__name__ in fn.__code__.co_names
    ]
    return matches[0] if len(matches) == 1 else None


def op_expression(
    op: Any,
    args: tuple[Value, ...],
    kwargs: dict[str, Value],
    raw_args: tuple[Any, ...],
    out_dtype: str,
    values,
    *,
    where: str,
) -> Value:
    """The expression for one operation node.

    Args:
        op: the ``Operation`` instance.
        args, kwargs: the node's arguments, tensors already replaced by variables.
        raw_args: the node's original positional arguments (for dtype checks).
        out_dtype: dtype of the node's (first) output.
        values: a ``ValueWriter`` to write config values and symbols.
        where: location for error messages.
    """
    name = type(op).__name__
    config = {k: v for k, v in op.get_config().items() if k != "name"}
    module = type(op).__module__
    if is_numpy_operation(type(op)) and not kwargs and not config:
        if name in _BINARY_OPERATORS and len(args) == 2 and _operator_safe(raw_args, out_dtype):
            return BinOp(_BINARY_OPERATORS[name], args[0], args[1])
        if name in _UNARY_OPERATORS and len(args) == 1:
            return UnaryOp(_UNARY_OPERATORS[name], args[0])
        if name == "GetItem" and len(args) == 2:
            key = _subscript_key(raw_args[1])
            if key is not None:
                return Subscript(args[0], key)
    function = public_function_for(type(op))
    if function is None:
        raise UnsupportedModelError(
            f"operation {name} ({module}) has no public keras.ops function to write",
            where=where,
        )
    signature = inspect.signature(function)
    call_kwargs = dict(kwargs)
    for key, value in config.items():
        if key in call_kwargs:
            continue
        param = signature.parameters.get(key)
        if param is None:
            raise UnsupportedModelError(
                f"operation {name} has parameter {key!r} that keras.ops.{function.__name__} "
                "does not take",
                where=where,
            )
        if param.default is not inspect.Parameter.empty and _same(param.default, value):
            continue
        call_kwargs[key] = values.value(value, where=where)
    args = _leading_arguments_first(signature, args, call_kwargs)
    try:
        signature.bind(*args, **call_kwargs)
    except TypeError as exc:
        raise UnsupportedModelError(
            f"cannot call keras.ops.{function.__name__} with the recorded arguments: {exc}",
            where=where,
        ) from exc
    ordered = sorted(
        call_kwargs.items(),
        key=lambda kv: (
            list(signature.parameters).index(kv[0])
            if kv[0] in signature.parameters
            else len(signature.parameters)
        ),
    )
    return Call(values.symbol(function, where=where), tuple(args), tuple(ordered))


def _leading_arguments_first(
    signature: inspect.Signature, args: tuple[Value, ...], kwargs: dict[str, Value]
) -> tuple[Value, ...]:
    """A function of ``*operands`` whose configured parameters come first takes them by
    position: the node records ``einsum``'s operands and its config ``subscripts``, and
    ``einsum(a, subscripts="bij->bji")`` would bind ``a`` to ``subscripts``. Moves those
    out of ``kwargs`` (in place)."""
    params = list(signature.parameters.values())
    star = next((i for i, p in enumerate(params) if p.kind is p.VAR_POSITIONAL), None)
    if star is None or not args:
        return args
    leading = [p.name for p in params[:star]]
    if not all(name in kwargs for name in leading):
        return args
    return (*(kwargs.pop(name) for name in leading), *args)


def _operator_safe(raw_args: tuple[Any, ...], out_dtype: str) -> bool:
    """An operator gives the same dtype as ``keras.ops`` only for same-dtype operands."""
    from keras import KerasTensor

    tensors = [a for a in raw_args if isinstance(a, KerasTensor)]
    if not tensors:
        return False
    for index, arg in enumerate(raw_args):
        if isinstance(arg, KerasTensor):
            if arg.dtype != out_dtype or not _dtype_is_reliable(arg):
                return False
        elif is_constant(arg):
            # ``x - CONSTANT``: the constant keeps its dtype; on the left, the tensor's
            # own operator would have to handle a symbolic input, so only on the right.
            if index == 0 or str(np.asarray(arg).dtype) != out_dtype:
                return False
        elif isinstance(arg, bool) or not isinstance(arg, (int, float)):
            return False
        elif isinstance(arg, float) and out_dtype not in _FLOAT_DTYPES:
            return False
        elif isinstance(arg, int) and out_dtype not in _FLOAT_DTYPES | _INT_DTYPES:
            return False
    return True


def _dtype_is_reliable(tensor: Any) -> bool:
    """Whether a tensor has its symbolic dtype when it runs.

    Not so for some preprocessing layers: ``IntegerLookup(output_mode="multi_hot")`` is
    float32 symbolically but int64 eagerly. Keras's own op promotes the int64 tensor;
    Python's ``*`` on it would fail. Their compute dtype gives them away.
    """
    node = producer_node(tensor)
    operation = getattr(node, "operation", None)
    compute_dtype = getattr(operation, "compute_dtype", None)
    if operation is None or compute_dtype is None or getattr(node, "is_input", False):
        return True
    if has_graph(operation):
        return True  # a nested model's outputs: checked inside it
    return str(compute_dtype) == str(tensor.dtype)


def _subscript_key(key: Any) -> Value | None:
    """``x[:, -1]`` keys made of ints, slices, ``None`` and ``...`` only; else ``None``."""
    items = key if isinstance(key, (list, tuple)) else (key,)
    converted: list[Value] = []
    for item in items:
        if item is None or (isinstance(item, int) and not isinstance(item, bool)):
            converted.append(item)
        elif item is Ellipsis:
            converted.append(EllipsisValue())
        elif isinstance(item, slice) and all(
            p is None or (isinstance(p, int) and not isinstance(p, bool))
            for p in (item.start, item.stop, item.step)
        ):
            converted.append(SliceValue(item.start, item.stop, item.step))
        else:
            return None
    if isinstance(key, (list, tuple)):
        return tuple(converted)
    return converted[0]


def _same(a: Any, b: Any) -> bool:
    try:
        return (
            type(a) is type(b)
            and bool(a == b)
            or (
                isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)) and list(a) == list(b)
            )
        )
    except Exception:
        return False


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if (
            ch.isupper()
            and i
            and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower()))
        ):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
