"""A Mermaid flowchart of a generated model, for the project README.

Read from the IR's ``call`` steps: inputs as parallelograms with their shapes, one node
per layer call (``x N`` for a repeated layer), a block drawn as a subgraph of its own
layers, a circle where an operation joins branches (``+``), and outputs labelled as the
model returns them (by key for a dict).
"""

from __future__ import annotations

from generator.core.ir import (
    Assign,
    BinOp,
    Call,
    DictValue,
    ForEach,
    ListValue,
    Loop,
    ModelIR,
    ModuleIR,
    Name,
    SelfAttr,
    Step,
    Subscript,
    Symbol,
    Value,
    When,
    iter_values,
    step_targets,
    step_values,
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
            if isinstance(step, Loop):  # the stages of blocks: one node
                stages = next(v for v in iter_values(step.iterable) if isinstance(v, SelfAttr))
                layer = layers[stages.attr]
                reads = {v.id for v in iter_values(step_values(step)) if isinstance(v, Name)}
                node = self.node(layer.name, f"{layer.class_label} stages", indent, "")
                self.edges({producer[v] for v in reads if v in producer}, node, indent)
                for target in step_targets(step):
                    producer[target] = node
                continue
            assert isinstance(step, Assign)
            call = step.value
            found = iter_values(
                (call.args, tuple(v for _, v in call.kwargs)) if isinstance(call, Call) else call
            )
            sources = {producer[v.id] for v in found if isinstance(v, Name) and v.id in producer}
            attr, index = _called_layer(call)
            if attr is not None:
                layer = layers[attr]
                name = layer.name if index is None else f"{layer.name}{index}"
                node = self.node(name, layer.class_label, indent, layer.class_label)
                self.edges(sources, node, indent)
            elif len(sources) > 1:  # ``shortcut + x``: where branches meet
                node = f"n{self.counter}"
                self.counter += 1
                self.lines.append(f'{indent}{node}(("{_text(_operation(call))}"))')
                self.edges(sources, node, indent)
            elif sources:  # ``relu(x)``, ``x = inputs``: the line goes on
                (node,) = sources
            else:
                continue
            for target in step.targets:
                producer[target] = node

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


def _called_layer(value: Value) -> tuple[str | None, str | None]:
    """The attribute a step calls (``self.conv(x)``, or ``self.downs[1](x)`` with its
    index as a label), else (None, None)."""
    if not isinstance(value, Call):
        return None, None
    if isinstance(value.func, SelfAttr):
        return value.func.attr, None
    func = value.func
    if isinstance(func, Subscript) and isinstance(func.value, SelfAttr):
        return func.value.attr, f"[{func.key}]"
    return None, None


def _operation(value: Value) -> str:
    """A short label for an operation: ``+``, ``concatenate``."""
    if isinstance(value, BinOp):
        return value.op
    if isinstance(value, Call) and isinstance(value.func, Symbol):
        return value.func.qualname.rsplit(".", 1)[-1]
    return "op"


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
