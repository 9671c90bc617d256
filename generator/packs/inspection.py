"""What ``scaffold templates show`` says about a pack: its variables, the templates it
overrides or adds, and the named blocks it may override."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2
from jinja2 import nodes

from generator.errors import PackError
from generator.packs.environment import builtin_environment, pack_environment
from generator.packs.pack import PROJECT_DIR, Pack, builtin_templates_dir, read_template

# The built-in templates a pack most often extends, in the order a module reads.
MODULE_TEMPLATES = ("module.py.jinja", "model.py.jinja")


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    role: str  # "overrides a built-in template", "extends builtin/...", "extra project file"
    blocks: tuple[str, ...]  # the blocks it defines


def builtin_blocks() -> dict[str, tuple[str, ...]]:
    """Built-in template → the names of its blocks, in order."""
    root = builtin_templates_dir()
    env = builtin_environment()
    found = {}
    for path in sorted(root.rglob("*.jinja")):
        name = path.relative_to(root).as_posix()
        found[name] = _blocks(env, path.read_text(encoding="utf-8"))
    return found


def pack_templates(pack: Pack) -> list[TemplateInfo]:
    if pack.root is None:
        return []
    builtin = set(builtin_blocks())
    env = pack_environment(pack)
    infos = []
    for rel in pack.template_files():
        text = read_template(pack.root / rel)
        try:
            tree = env.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            where = f"{pack.root / rel}:{exc.lineno}"
            raise PackError(f"template syntax error: {exc.message}", where=where) from None
        parent = next(
            (
                node.template.value
                for node in tree.find_all(nodes.Extends)
                if isinstance(node.template, nodes.Const)
            ),
            None,
        )
        if parent is not None:
            role = f"extends {parent}"
        elif rel in builtin:
            role = "replaces the built-in template"
        elif rel.startswith(PROJECT_DIR + "/"):
            role = "extra project file"
        else:
            role = "template (used by the others)"
        infos.append(TemplateInfo(rel, role, _blocks(env, text)))
    return infos


def _blocks(env: jinja2.Environment, text: str) -> tuple[str, ...]:
    return tuple(block.name for block in env.parse(text).find_all(nodes.Block))
