"""Which layer calls get ``training=training`` in the generated ``call``.

Keras passes ``training`` to every layer whose ``call`` accepts it, but most ignore it
(Dense, Conv2D, pooling): written out there, ``training=training`` reads as if it
mattered. It is written where a layer's ``call`` reads it (Dropout, BatchNormalization,
recurrent layers, MultiHeadAttention, wrappers that pass it on), where ``call`` takes
``**kwargs`` it might pass on, for nested models, and wherever the source cannot be
read. A node Keras recorded with an explicit ``training=True`` (MC dropout) keeps it
whatever the layer's source says: such a layer may hand it on to the layers inside it
through Keras's call context without naming it. Otherwise Keras 3 hands ``training``
down from the outer call, and verification checks both modes.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from typing import Any


def reads_training(cls: type) -> bool:
    """Whether the ``call`` that ``cls`` uses reads its ``training`` argument."""
    return _reads_training(cls)


@functools.cache
def _reads_training(cls: Any) -> bool:
    function = next((vars(k)["call"] for k in cls.__mro__ if "call" in vars(k)), None)
    if function is None:
        return True
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return True  # no source to read: keep it
    definition = tree.body[0] if tree.body else None
    if not isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        return True
    if definition.args.kwarg is not None:
        return True  # ``**kwargs`` may carry it on
    return any(
        isinstance(node, ast.Name) and node.id == "training" for node in ast.walk(definition)
    )
