"""A Mermaid flowchart of a generated model, for the project README.

Read from the IR's ``call`` steps: inputs as parallelograms with their shapes, one node
per layer call (``x N`` for a repeated layer), a block drawn as a subgraph of its own
layers, and outputs labelled as the model returns them (by key for a dict).
"""

from __future__ import annotations

from generator.core.ir import (
    Assign,
    Call,
    DictValue,
    ForEach,
    ListValue,
    ModelIR,
    ModuleIR,
    Name,
    SelfAttr,
    Step,
    Value,
    When,
    iter_values,
)


def mermaid_diagram(module: ModuleIR) -> str:
    diagram = _Diagram({m.class_name: m for m in module.models if m.kind == "block"})
    main = module.main
    producer: dict[str, str] = {}
    for index, spec in enumerate(main.inputs):
        node = f"in{index}"
        diagram.lines.append(f'    {node}[/"{_text(spec.key)}: {_shape(spec.shape)}"/]')
        producer[spec.var] = node
    diagram.steps(main, producer, "    ")
    for index, (label, var) in enumerate(_outputs(main.outputs)):
        if var in producer:
            diagram.lines.append(f'    out{index}[/"{_text(label)}"/]')
            diagram.lines.append(f"    {producer[var]} --> out{index}")
    return "\n".join(["flowchart TD", *diagram.lines])


class _Diagram:
    def __init__(self, blocks: dict[str, ModelIR]) -> None:
        self.blocks = blocks
        self.lines: list[str] = []
        self.counter = 0

    def steps(self, model: ModelIR, producer: dict[str, str], indent: str) -> None:
        """Nodes and edges for ``model``'s call steps; ``producer`` maps variables to nodes."""
        layers = {layer.attr: layer for layer in model.layers}
        for step in _flattened(model.steps):
            if isinstance(step, ForEach):
                layer = layers[step.attr]
                count = layer.repeat.id if isinstance(layer.repeat, Name) else layer.repeat
                sources = {
                    producer[t] for inner in step.body for t in inner.targets if t in producer
                }
                label = f"{layer.class_label} x {count}" if count else f"{layer.class_label} list"
                node = self.node(layer.name, label, indent, layer.class_label)
                self.edges(sources, node, indent)
                for inner in step.body:
                    for target in inner.targets:
                        producer[target] = node
                continue
            assert isinstance(step, Assign)
            call = step.value
            if isinstance(call, Call) and isinstance(call.func, SelfAttr):
                layer = layers[call.func.attr]
                found = iter_values((call.args, tuple(v for _, v in call.kwargs)))
                sources = {
                    producer[v.id] for v in found if isinstance(v, Name) and v.id in producer
                }
                node = self.node(layer.name, layer.class_label, indent, layer.class_label)
                self.edges(sources, node, indent)
                for target in step.targets:
                    producer[target] = node
            elif isinstance(call, Name) and call.id in producer:
                for target in step.targets:
                    producer[target] = producer[call.id]

    def node(self, name: str, label: str, indent: str, class_name: str) -> str:
        """A node; a subgraph of the block's own steps when ``class_name`` is a block."""
        node = f"n{self.counter}"
        self.counter += 1
        block = self.blocks.get(class_name)
        if block is None:
            self.lines.append(f'{indent}{node}["{_text(name)}: {_text(label)}"]')
            return node
        self.lines.append(f'{indent}subgraph {node}["{_text(name)}: {_text(label)}"]')
        entry = f"{node}_in"  # the block's input, so skip connections show
        self.lines.append(f'{indent}    {entry}(("in"))')
        self.steps(block, {spec.var: entry for spec in block.inputs}, indent + "    ")
        self.lines.append(f"{indent}end")
        return node

    def edges(self, sources: set[str], node: str, indent: str) -> None:
        for source in sorted(sources):
            self.lines.append(f"{indent}{source} --> {node}")


def _outputs(outputs: Value) -> list[tuple[str, str]]:
    """(label, variable) per output, in the order the model returns them."""
    if isinstance(outputs, Name):
        return [("output", outputs.id)]
    if isinstance(outputs, DictValue):
        return [(str(k), v.id) for k, v in outputs.items if isinstance(v, Name)]
    items = outputs.items if isinstance(outputs, ListValue) else outputs
    if isinstance(items, tuple):
        return [(f"output {i}", v.id) for i, v in enumerate(items) if isinstance(v, Name)]
    return []


def _text(text: str) -> str:
    cleaned = " ".join(str(text).split())
    return cleaned.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _shape(shape: tuple[int | None, ...]) -> str:
    return "(batch, " + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _flattened(steps: tuple[Step, ...]) -> list[Step]:
    """A block's optional parts drawn as if present: both branches, in order."""
    flat: list[Step] = []
    for step in steps:
        if isinstance(step, When):
            flat.extend(_flattened((*step.body, *step.orelse)))
        else:
            flat.append(step)
    return flat
