"""The starter pack of ``scaffold templates init DIR``: a working pack that documents every
block a team may override, and shows a variable, an extra project file and a preset."""

from __future__ import annotations

import re

from generator.packs.manifest import MANIFEST_NAME

_MANIFEST = """\
# A keras-scaffold template pack (docs/templates.md).
name = "{name}"
description = "House style for generated Keras models."
version = "0.1.0"

# Templates read each variable as {{{{ vars.NAME }}}}. Give values with
# `--var NAME=VALUE` or in pyproject.toml: [tool.scaffold.variables].
[variables.owner]
type = "str"
default = "Our team"
pattern = "[A-Za-z][A-Za-z0-9 .,&-]*"
help = "Who owns the generated code (the header names them)."

[variables.license]
type = "str"
default = "Apache-2.0"
choices = ["Apache-2.0", "MIT", "Proprietary"]
help = "The license line of every generated file."
"""

_MODULE = """\
{#- The generated module. It extends the built-in template and overrides one block;
    every other block renders as built in. Blocks, in order:
      header            the module docstring: {{ title }} and {{ header_lines }}
      imports           {{ imports }}: one import statement per line
      constants         module constants and the assets file of large arrays
      helpers           copied custom classes ({{ helper_sources }})
      classes           one class per entry of {{ models }}, from model.py.jinja
      module_functions  functions the classes call ({{ module_functions }})
    Everywhere: {{ vars.NAME }}, {{ pack.name }}, {{ pack.version }}, {{ tool_version }}.
    Output is formatted with Black afterwards, so spacing need not be exact. -#}
{% extends "builtin/module.py.jinja" %}
{% block header %}
# Copyright {{ vars.owner }}. License: {{ vars.license }}.
{{ super() }}
{%- endblock %}
"""

_MODEL = """\
{#- One class of the module: the model, or a block it repeats ({{ model.is_model }}).
    Blocks, in order, and what they read:
      class_header     decorator and class line: {{ model.register }}, {{ model.class_name }},
                       {{ model.base }}
      class_docstring  {{ model.doc_summary }} and {{ model.doc_sections }} (title, lines)
      init             __init__: {{ model.params }}, {{ model.base_arguments }},
                       {{ model.param_assigns }},
                       {{ model.layer_lines }} (first, checks that parameters agree)
      build            build(input_shape) of a model (when {{ model.has_build }}), or of
                       a block whose layers take widths from its input:
                       {{ model.input_channels }} = input_shape[-1], then
                       {{ model.build_lines }}
      call             call(inputs, training=None): {{ model.call_lines }},
                       {{ model.return_expr }}
      get_config       {{ model.config_items }} (absent when the class has no parameters)
      from_weights     the main model's classmethod ({{ model.is_main }})
      train_step       train_step/test_step for --loop train-step
      extra_methods    nothing built in: the place for a team's own methods
    Override a block and call {{ super() }} to keep the built-in text. -#}
{% extends "builtin/model.py.jinja" %}
{% block extra_methods %}
{{ super() }}
{% if model.is_main %}

    def describe(self):
        \"\"\"One line about the model, for logs.\"\"\"
        return f"{{ model.class_name }} ({self.count_params()} parameters)"
{% endif %}
{% endblock %}
"""

_EXTRA = """\
# Contributing to {{ project }}

{{ vars.owner }} owns this project ({{ vars.license }}). The model lives in
`src/{{ package }}/model.py`; run `pytest` before you push.
"""

_PRESET = """\
# A preset of this pack: `scaffold new NAME --preset {name}_mlp` (docs/spec.md).
doc: A small classifier in the house style.
input_shape: [32]
task: classification
params:
  num_classes: {{default: 10, type: int, doc: number of output classes.}}
layers: Dense(64, activation='relu') > Dense(num_classes)
"""


def starter_files(directory_name: str) -> dict[str, str]:
    """Relative path → content of a starter pack named after its directory."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", directory_name).strip("-_") or "my-pack"
    if not name[0].isalpha():
        name = f"pack-{name}"
    return {
        MANIFEST_NAME: _MANIFEST.format(name=name),
        "module.py.jinja": _MODULE,
        "model.py.jinja": _MODEL,
        "project/CONTRIBUTING.md.jinja": _EXTRA,
        f"presets/{name.replace('-', '_')}_mlp.yaml": _PRESET.format(name=name.replace("-", "_")),
    }
