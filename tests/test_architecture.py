"""The layout stays what docs/architecture.md says: stages, their dependencies, and one
adapter for private Keras state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator"
ADAPTER = PACKAGE / "from_keras" / "internals.py"
MODULES = sorted(PACKAGE.rglob("*.py"))

# Which stage may import which (docs/architecture.md draws the same arrows). The
# top-level modules (cli, convert, new, errors) tie the stages together.
STAGES = ("core", "from_keras", "from_spec", "packs", "output", "verify")
ALLOWED = {
    "core": set(),
    "from_keras": {"core"},
    "from_spec": {"core", "from_keras"},  # from_keras only to rebuild the catalog
    "packs": {"from_spec"},  # presets are specs
    "output": {"core", "from_spec", "packs"},
    "verify": {"core", "from_keras", "from_spec"},
}
_ACCESSORS = {"getattr", "hasattr", "setattr", "delattr"}
# Underscored names that are documented public API of the standard library.
_DOCUMENTED = {("os", "_exit")}


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                found.add(id(body[0].value))
    return found


def private_keras_access(source: str) -> list[str]:
    """Uses of ``keras.src`` and of ``_``-prefixed attributes of objects other than ``self``
    and ``cls`` (the code we write reaches private state only through the adapter)."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras.src"):
            found.append(f"line {line}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"line {line}: import {a.name}" for a in node.names if "keras.src" in a.name]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "keras.src" in node.value and id(node) not in docstrings:
                found.append(f"line {line}: string {node.value!r}")
        elif isinstance(node, ast.Attribute) and _is_private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                if (getattr(owner, "id", None), node.attr) not in _DOCUMENTED:
                    found.append(f"line {line}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ACCESSORS
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
        ):
            found.append(f"line {line}: {node.func.id}(..., {node.args[1].value!r})")
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("path", [p for p in MODULES if p != ADAPTER], ids=_relative)
def test_private_keras_state_only_in_the_adapter(path: Path) -> None:
    assert private_keras_access(path.read_text(encoding="utf-8")) == []


def test_the_private_access_check_catches_each_kind() -> None:
    source = (
        "from keras.src import api_export\n"
        "import keras.src.layers\n"
        "x = model._nodes_by_depth\n"
        "y = getattr(layer, '_call_has_training_arg', False)\n"
        "z = module.startswith('keras.src.')\n"
        "self._mine = 1\n"
    )
    assert len(private_keras_access(source)) == 5
    assert private_keras_access(ADAPTER.read_text(encoding="utf-8"))  # the adapter does


def _imported_stages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return {
        name.split(".")[1]
        for name in names
        if name.startswith("generator.") and name.split(".")[1] in STAGES
    }


@pytest.mark.parametrize("stage", STAGES)
def test_stages_import_only_the_stages_before_them(stage: str) -> None:
    for path in sorted((PACKAGE / stage).rglob("*.py")):
        extra = _imported_stages(path) - ALLOWED[stage] - {stage}
        assert not extra, f"{_relative(path)} imports {sorted(extra)}"


@pytest.mark.parametrize("path", [p for p in MODULES if p.name != "cli.py"], ids=_relative)
def test_only_cli_prints_exits_or_reads_arguments(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scripts = [  # ``if __name__ == "__main__":`` blocks are commands of their own
        node
        for node in tree.body
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
    ]
    in_script = {id(n) for block in scripts for n in ast.walk(block)}
    found = []
    for node in ast.walk(tree):
        if id(node) in in_script:
            continue
        text = ast.unparse(node) if isinstance(node, (ast.Call, ast.Attribute)) else ""
        if isinstance(node, ast.Call) and text.split("(")[0] in ("print", "sys.exit", "exit"):
            found.append(text)
        elif isinstance(node, ast.Attribute) and text == "sys.argv":
            found.append(text)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and "click" in ast.unparse(node):
            found.append(ast.unparse(node))
    assert found == [], f"{_relative(path)}: {found}"
