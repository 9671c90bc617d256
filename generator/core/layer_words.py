"""Attribute names for layers Keras named itself.

A Functional model built without ``name=`` arguments has layers called
``batch_normalization_3`` or ``re_lu_12``: the class in snake case and a counter that
depends on what else the Python session had built. As attribute names they say nothing a
shorter word would not, and the counter is noise: ``self.bn_1`` and ``self.bn_2`` read as a
person writes them. The Keras ``name=`` keeps the original, so weights still pair by name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from generator.core.naming import NameRegistry

# What a person calls a layer of Keras's own classes, where that differs from the class's
# snake case (patterns match whole class names).
_WORDS = (
    (r"Conv[123]DTranspose", "deconv"),
    (r"DepthwiseConv[12]D", "depthwise"),
    (r"SeparableConv[12]D", "separable"),
    (r"Conv[123]D", "conv"),
    (r"BatchNormalization", "bn"),
    (r"LayerNormalization", "layer_norm"),
    (r"GroupNormalization", "group_norm"),
    (r"ZeroPadding[123]D", "pad"),
    (r"Cropping[123]D", "crop"),
    (r"GlobalAveragePooling[123]D", "global_pool"),
    (r"GlobalMaxPooling[123]D", "global_max_pool"),
    (r"AveragePooling[123]D", "avg_pool"),
    (r"MaxPooling[123]D", "max_pool"),
    (r"UpSampling[123]D", "upsample"),
    (r"SpatialDropout[123]D", "dropout"),
    (r"MultiHeadAttention", "attention"),
    (r"LeakyReLU", "leaky_relu"),
    (r"PReLU", "prelu"),
    (r"ReLU", "relu"),
)


def keras_base_name(class_name: str) -> str:
    """The name Keras gives the first layer of a class: ``ReLU`` → ``re_lu``,
    ``ZeroPadding2D`` → ``zero_padding2d`` (its rule for layers created without one)."""
    text = re.sub(r"\W+", "", class_name)
    text = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", text)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", text).lower()


def is_auto_name(name: str, class_name: str) -> bool:
    """Whether Keras made ``name`` up for a layer of ``class_name`` (``dense_7``)."""
    base = keras_base_name(class_name)
    return bool(base) and re.fullmatch(re.escape(base) + r"(_[1-9][0-9]*)?", name) is not None


def made_up_name(operation: Any) -> bool:
    """Whether Keras made up the name of a layer, op or model (``conv2d_7``,
    ``true_divide_1``, ``functional``). Missing: a public record of whether ``name=`` was
    passed."""
    return is_auto_name(str(operation.name), type(operation).__name__)


def named_input(name: str) -> bool:
    """Whether a person named a model input: Keras names the others ``keras_tensor_9``
    (``keras.Input``) or ``input_layer_2`` (an ``InputLayer``)."""
    return re.fullmatch(r"(keras_tensor|input_layer)(_[0-9]+)?", name) is None


def layer_word(class_name: str) -> str:
    """The word for a layer of ``class_name``: ``bn``, ``conv``, else Keras's base name."""
    for pattern, word in _WORDS:
        if re.fullmatch(pattern, class_name):
            return word
    return keras_base_name(class_name)


def attribute_word(name: str, class_name: str) -> str:
    """The word a layer's attribute is named by when Keras made its name up and a person
    would write it otherwise (``batch_normalization_3`` → ``bn``); "" when a person
    chose the name, or when the word is Keras's own (``dense_2`` stays: a ``self.dense_2``
    that is not ``get_layer("dense_2")`` would mislead)."""
    if not is_auto_name(name, class_name):
        return ""
    word = layer_word(class_name)
    return "" if word == keras_base_name(class_name) else word


def claim_attributes(
    registry: NameRegistry, names: Sequence[str], words: Sequence[str]
) -> list[str]:
    """Each layer's attribute, in order: ``names[i]`` where ``words[i]`` is "" (a name a
    person chose: claimed first, so it is never the one that gives way), else its word,
    numbered from 1 where several layers share it and bare where one does, the numbers a
    chosen name already holds skipped (``conv_1`` taken: ``conv_2``, ``conv_3``)."""
    chosen = {
        i: registry.claim(name)
        for i, (name, word) in enumerate(zip(names, words, strict=True))
        if not word
    }
    counts = Counter(word for word in words if word)
    last: Counter[str] = Counter()
    attrs = []
    for i, word in enumerate(words):
        if not word:
            attrs.append(chosen[i])
            continue
        if counts[word] == 1 and word not in registry:
            attrs.append(registry.claim(word))
            continue
        number = last[word] + 1
        while f"{word}_{number}" in registry:
            number += 1
        last[word] = number
        attrs.append(registry.claim(f"{word}_{number}"))
    return attrs
