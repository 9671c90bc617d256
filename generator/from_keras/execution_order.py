"""The order in which generated ``call`` code replays a Functional model's nodes."""

from __future__ import annotations

from typing import Any

from generator.from_keras.internals import nodes_by_depth, outputs_struct, producer_node


def execution_order(model: Any) -> list[Any]:
    """The model's nodes in a readable topological order.

    Depth-first from the outputs (in their written order), each node after the nodes it
    consumes, so a chain of layers stays together instead of being interleaved level by
    level as in Keras's ``_nodes_by_depth``; the calls of a shared layer stay in Keras's
    order. Iterative: 5,000-layer chains are fine.
    """
    by_depth = nodes_by_depth(model)
    members = [
        node
        for depth in sorted(by_depth, reverse=True)
        for node in by_depth[depth]
        if not node.is_input and node.operation is not None
    ]
    member_ids = {id(node) for node in members}
    # A layer called several times keeps Keras's call order: its random seed state (Dropout
    # in a shared block) then advances exactly as in the original.
    earlier_call: dict[int, Any] = {}
    last_call: dict[int, Any] = {}
    for node in members:
        previous = last_call.get(id(node.operation))
        if previous is not None:
            earlier_call[id(node)] = previous
        last_call[id(node.operation)] = node

    def producers(node: Any) -> list[Any]:
        found = [earlier_call[id(node)]] if id(node) in earlier_call else []
        for tensor in node.input_tensors:
            parent = producer_node(tensor)
            if id(parent) in member_ids:
                found.append(parent)
        return found

    order: list[Any] = []
    done: set[int] = set()
    roots = [producer_node(t) for t in _flatten_in_written_order(outputs_struct(model))]
    for root in [*roots, *members]:
        if id(root) in done or id(root) not in member_ids:
            continue
        stack: list[tuple[Any, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in done:
                continue
            if expanded:
                done.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            for parent in reversed(producers(node)):
                if id(parent) not in done:
                    stack.append((parent, False))
    return order


def _flatten_in_written_order(struct: Any) -> list[Any]:
    if isinstance(struct, dict):
        return [t for value in struct.values() for t in _flatten_in_written_order(value)]
    if isinstance(struct, (list, tuple)):
        return [t for value in struct for t in _flatten_in_written_order(value)]
    return [struct]


def unpack_singleton(struct: Any) -> Any:
    """Keras returns a one-element output list or tuple as the bare tensor."""
    if isinstance(struct, (list, tuple)) and len(struct) == 1:
        return struct[0]
    return struct
