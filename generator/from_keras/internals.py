"""Every access to private Keras state, in one place.

Keras 3 has no public API for reading a model's graph (nodes, the structure of its
inputs and outputs), for telling which objects are exported under which public name, or
for walking nested layers and their seed generators. Everything of that kind that the
rest of ``generator`` needs goes through the small functions below, so a Keras upgrade
that moves one of these breaks here and nowhere else. ``tests/test_architecture.py``
fails if another module touches ``keras.src`` or a ``_``-prefixed attribute.

Each function says which public API is missing. Keras is imported inside the functions,
so importing this module stays free of TensorFlow.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

_PRIVATE_PACKAGE = "keras.src."


# -- public names ---------------------------------------------------------------------------


def exported_name(obj: Any) -> str | None:
    """``"keras.layers.Dense"`` for an object Keras exports, else ``None``.

    Missing: a public reverse lookup from an object to its ``keras_export`` name.
    """
    from keras.src import api_export

    return api_export.REGISTERED_OBJS_TO_NAMES.get(obj)


def is_private_keras_object(obj: Any) -> bool:
    """Defined inside Keras's private ``keras.src`` tree and exported under no name.

    Missing: a public flag on objects that ``keras_export`` skipped.
    """
    module = getattr(obj, "__module__", None) or ""
    return module.startswith(_PRIVATE_PACKAGE) and exported_name(obj) is None


def public_module_name(module_name: str) -> str | None:
    """``keras.src.initializers`` → ``keras.initializers`` when that public module exists.

    Missing: a public map from private modules to the public namespaces that mirror them.
    """
    if not module_name.startswith(_PRIVATE_PACKAGE):
        return None
    public = "keras." + module_name[len(_PRIVATE_PACKAGE) :]
    if public in sys.modules:
        return public
    import importlib.util

    try:
        return public if importlib.util.find_spec(public) is not None else None
    except (ImportError, ValueError):
        return None


def registered_names(module: Any) -> list[str]:
    """Every string ``module.get`` resolves (aliases such as ``"uniform"`` included), for
    ``keras.activations``, ``initializers``, ``regularizers`` and ``constraints``.

    Missing: a public list of the identifiers ``get`` accepts.
    """
    import importlib

    private = importlib.import_module(_PRIVATE_PACKAGE + module.__name__.split(".", 1)[1])
    return sorted(getattr(private, "ALL_OBJECTS_DICT", {}))


def is_numpy_operation(op_class: type) -> bool:
    """Whether an operation class implements one of ``keras.ops``'s NumPy-like functions.

    Missing: public operation classes (they live in ``keras.src.ops.numpy``).
    """
    return op_class.__module__.endswith("ops.numpy")


# -- model classes --------------------------------------------------------------------------


def is_functional(obj: Any) -> bool:
    """A Functional model (``keras.Model(inputs, outputs)``), Sequential included.

    Missing: ``keras.Model(inputs, outputs)`` returns the private class ``Functional``.
    """
    from keras.src.models.functional import Functional

    return isinstance(obj, Functional)


def is_merge_layer_class(cls: type) -> bool:
    """Layers that merge a list of inputs (Add, Concatenate, ...).

    Missing: their common base class ``Merge`` is not exported.
    """
    from keras.src.layers.merging.base_merge import Merge

    return isinstance(cls, type) and issubclass(cls, Merge)


# -- the graph of a Functional model --------------------------------------------------------


def inputs_struct(model: Any) -> Any:
    """The model's inputs in the structure they were given (tensor, list or dict).

    Missing: ``model.inputs`` is always a flat list; the structure is private.
    """
    struct = getattr(model, "_inputs_struct", None)
    if struct is not None:
        return struct
    inputs = model.inputs
    return inputs[0] if len(inputs) == 1 else inputs


def outputs_struct(model: Any) -> Any:
    """The model's outputs in the structure they were given (``None`` if not a graph).

    Missing: ``model.outputs`` is always a flat list; the structure is private.
    """
    return getattr(model, "_outputs_struct", None)


def nodes_by_depth(model: Any) -> dict[int, list[Any]]:
    """The graph's nodes by depth (0 = outputs); empty for models without a graph.

    Missing: no public view of a model's graph nodes. A Sequential model keeps its graph
    in a private inner Functional model.
    """
    found = getattr(model, "_nodes_by_depth", None)
    if found is None:
        inner = getattr(model, "_functional", None)
        found = getattr(inner, "_nodes_by_depth", None) if inner is not None else None
    return found or {}


def has_graph(operation: Any) -> bool:
    """Whether ``operation`` is a model with a graph of its own (a nested model)."""
    return bool(getattr(operation, "inputs", None)) and hasattr(operation, "_nodes_by_depth")


def producer_node(tensor: Any) -> Any:
    """The node that produced a symbolic tensor.

    Missing: a public link from a ``KerasTensor`` to the node that made it.
    """
    operation, node_index, _ = tensor._keras_history
    return operation._inbound_nodes[node_index]


def inbound_nodes(layer: Any) -> list[Any]:
    """Every call of ``layer`` recorded in a graph (its input and output tensors).

    Missing: a public list of the places a layer is called.
    """
    return list(getattr(layer, "_inbound_nodes", []))


def keras_mask(tensor: Any) -> Any:
    """The mask Keras carries along with a symbolic tensor (None without one).

    Missing: ``keras.backend`` does not export ``get_keras_mask``.
    """
    return getattr(tensor, "_keras_mask", None)


# -- layers ---------------------------------------------------------------------------------


def call_takes_training(layer: Any) -> bool:
    """Whether ``layer.call`` accepts ``training`` (Keras's own rule for passing it on).

    Missing: the flag ``Layer.__call__`` reads is private.
    """
    return bool(getattr(layer, "_call_has_training_arg", False))


def flatten_layers(model: Any, *, include_self: bool) -> Iterator[Any]:
    """Every layer inside ``model``, recursively through nested layers and models.

    Missing: ``model.layers`` lists direct children only and skips layers held inside
    custom layers.
    """
    yield from model._flatten_layers(include_self=include_self, recursive=True)


def direct_sublayers(layer: Any) -> list[Any]:
    """The layers a layer holds as attributes (a generated block's inner layers).

    Missing: only ``keras.Model`` lists its children publicly (``layers``).
    """
    return list(layer._flatten_layers(include_self=False, recursive=False))


def seed_generators(layer: Any) -> list[Any]:
    """The ``SeedGenerator``s a layer owns (Dropout, GaussianNoise, ...).

    Missing: no public list of a layer's random state.
    """
    return list(getattr(layer, "_seed_generators", []))


def text_vectorization_lookup(layer: Any) -> Any:
    """The ``StringLookup`` inside a ``TextVectorization`` (None for any other layer).

    Missing: ``TextVectorization`` has no public accessor for its idf weights.
    """
    return getattr(layer, "_lookup_layer", None)
