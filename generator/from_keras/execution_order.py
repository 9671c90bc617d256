"""The order in which generated ``call`` code replays a Functional model's nodes."""

from __future__ import annotations

from typing import Any

from generator.from_keras.internals import (
    inputs_struct,
    nodes_by_depth,
    outputs_struct,
    producer_node,
)


def execution_order(model: Any) -> list[Any]:
    """The model's nodes in a readable topological order.

    Depth-first from the outputs (in their written order), each node after the nodes it
    consumes, so a chain of layers stays together instead of being interleaved level by
    level as in Keras's ``_nodes_by_depth``; the calls of a shared layer stay in Keras's
    order. Where a node reads values from different model inputs, the value that stems
    from the earlier input comes first: an encoder-decoder's encoder is written before
    its decoder, as its author wrote it, even when attention reads the decoder's query
    first. Iterative: 5,000-layer chains are fine.
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

    first_input = _first_inputs(model, members)

    def producers(node: Any) -> list[Any]:
        found = [earlier_call[id(node)]] if id(node) in earlier_call else []
        for tensor in node.input_tensors:
            parent = producer_node(tensor)
            if id(parent) in member_ids:
                found.append(parent)
        # Stable: values from one input keep the order the node reads them in.
        return sorted(found, key=lambda parent: first_input[id(parent)])

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


def _first_inputs(model: Any, members: list[Any]) -> dict[int, int]:
    """For each node, the position of the first model input it depends on (inputs in
    their written order; a node that reads no input comes after all of them)."""
    inputs = _flatten_in_written_order(inputs_struct(model))
    first = {id(producer_node(t)): i for i, t in reversed(list(enumerate(inputs)))}
    after_all = len(inputs)
    for node in members:  # deepest first: a node's producers are already known
        reads = [producer_node(t) for t in node.input_tensors]
        first[id(node)] = min((first.get(id(p), after_all) for p in reads), default=after_all)
    return first


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
