"""One registry that hands out legal, unique Python identifiers.

Every name that comes from a model file or a spec reaches generated code only through
``NameRegistry.claim`` (identifiers) or ``repr`` (strings). A claimed name is never a
keyword, a builtin, or an attribute that ``keras.Model`` already owns.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

# Public attributes of ``keras.Model``/``keras.Sequential`` instances (Keras 3).
# Assigning a layer to any of these breaks the model, silently or loudly.
# ``tests/test_naming.py`` checks this list against the installed Keras.
KERAS_MODEL_ATTRIBUTES = frozenset(
    """
    activity_regularizer add add_loss add_metric add_variable add_weight autocast build
    build_from_config built call call_signature_parameters compile compile_from_config
    compiled compiled_loss compiled_metrics compute_dtype compute_loss compute_mask
    compute_metrics compute_output_shape compute_output_spec count_params
    distribute_reduction_method distribute_strategy dtype dtype_policy evaluate export fit
    from_config get_build_config get_compile_config get_config get_layer get_metrics_result
    get_quantization_layer_structure get_state_tree get_weights history input input_dtype
    input_shape input_spec inputs jit_compile layers load_own_variables load_weights loss
    losses make_predict_function make_test_function make_train_function metrics
    metrics_names metrics_variables name non_trainable_variables non_trainable_weights
    optimizer output output_shape outputs path pop predict predict_function
    predict_on_batch predict_step quantization_mode quantize quantized_build quantized_call
    rematerialized_call reset_metrics run_eagerly save save_own_variables save_weights
    seed_generators set_state_tree set_weights stateless_call stateless_compute_loss
    steps_per_execution stop_training summary supports_jit supports_masking symbolic_call
    test_function test_on_batch test_step to_json train_function train_on_batch train_step
    trainable trainable_variables trainable_weights unrolled_steps_per_execution
    variable_dtype variables weights from_weights compile_config
    """.split()
)

PYTHON_RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | frozenset(dir(builtins))
    # Letters that read as digits (pycodestyle E741-E743): ruff refuses them as names.
    | {"l", "I", "O"}
)

# Names the generated module itself uses at module level or inside ``call``.
MODULE_RESERVED = frozenset({"tf", "keras", "self", "cls", "inputs", "training", "kwargs"})

_NOT_IDENTIFIER = re.compile(r"[^0-9a-zA-Z_]+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def to_snake(text: str) -> str:
    """``'MyBlock-1'`` → ``'my_block_1'``: lower snake case of the ASCII word parts."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _CAMEL_BOUNDARY.sub("_", text)
    text = _NOT_IDENTIFIER.sub("_", text).strip("_").lower()
    return re.sub(r"_+", "_", text)


def to_pascal(text: str) -> str:
    """``'my_model'`` → ``'MyModel'``; already PascalCase names are kept as they are."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    if re.fullmatch(r"[A-Z][A-Za-z0-9]*", ascii_text):
        return ascii_text
    parts = [p for p in _NOT_IDENTIFIER.sub("_", ascii_text).split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)


class NameRegistry:
    """Hands out identifiers that are legal, unreserved and unique within one scope.

    Args:
        reserved: names this scope must never hand out.
        fallback: used when a wanted name sanitizes to nothing (e.g. all punctuation).
    """

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset(), fallback: str = "x"):
        self._taken: set[str] = set()
        self._reserved = set(reserved) | PYTHON_RESERVED
        self._fallback = fallback

    def claim(self, wanted: str, *, style: str = "snake") -> str:
        """Return a free identifier close to ``wanted`` and mark it taken."""
        base = to_pascal(wanted) if style == "pascal" else to_snake(wanted)
        if not base:
            base = self._fallback
        if base[0].isdigit():
            base = f"{self._fallback}_{base}" if style == "snake" else f"{self._fallback}{base}"
        if base in self._reserved:
            base = f"{base}_"
        name, counter = base, 0
        while name in self._taken or name in self._reserved:
            counter += 1
            name = f"{base}_{counter}" if style == "snake" else f"{base}{counter}"
        self._taken.add(name)
        return name

    def reserve(self, name: str) -> None:
        """Mark an exact name as taken (names the generator itself uses)."""
        self._taken.add(name)

    def __contains__(self, name: str) -> bool:
        return name in self._taken or name in self._reserved


def attribute_registry() -> NameRegistry:
    """Registry for ``self.<attr>`` layer attributes of a generated model."""
    return NameRegistry(KERAS_MODEL_ATTRIBUTES | MODULE_RESERVED, fallback="layer")


def local_registry(params: tuple[str, ...] = ()) -> NameRegistry:
    """Registry for variables inside ``call``."""
    registry = NameRegistry(MODULE_RESERVED, fallback="x")
    for name in params:
        registry.reserve(name)
    return registry


def class_registry() -> NameRegistry:
    """Registry for class names of one generated module."""
    return NameRegistry(MODULE_RESERVED, fallback="Model")
