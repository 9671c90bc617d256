from __future__ import annotations

import keyword

import pytest

from generator.core.naming import (
    KERAS_MODEL_ATTRIBUTES,
    attribute_registry,
    class_registry,
    local_registry,
    to_pascal,
    to_snake,
)


@pytest.mark.parametrize(
    "wanted, expected",
    [
        ("dense", "dense"),
        ("Conv2D", "conv2d"),
        ("MyBlock-1", "my_block_1"),
        ("1st layer", "layer_1st_layer"),
        ("class", "class_"),
        ("layers", "layers_"),
        ("weights", "weights_"),
        ("__init__", "init"),
        ("x'); import os; #", "x_import_os"),
        ("日本", "layer"),
        ("", "layer"),
        ("in\nput", "in_put"),
    ],
)
def test_attribute_names_are_legal_and_safe(wanted: str, expected: str) -> None:
    name = attribute_registry().claim(wanted)
    assert name == expected
    assert name.isidentifier() and not keyword.iskeyword(name)
    assert name not in KERAS_MODEL_ATTRIBUTES


def test_collisions_get_counters() -> None:
    registry = attribute_registry()
    names = [registry.claim(n) for n in ["dense", "Dense", "dense!", "dense_1", "dense"]]
    assert names == ["dense", "dense_1", "dense_2", "dense_1_1", "dense_3"]
    assert len(set(names)) == len(names)


def test_locals_never_shadow_builtins_or_call_arguments() -> None:
    registry = local_registry()
    assert registry.claim("input") == "input_"
    assert registry.claim("inputs") == "inputs_"
    assert registry.claim("training") == "training_"
    assert registry.claim("self") == "self_"
    assert registry.claim("tf") == "tf_"


def test_class_names() -> None:
    registry = class_registry()
    assert registry.claim("my_model", style="pascal") == "MyModel"
    assert registry.claim("MyModel", style="pascal") == "MyModel1"
    assert registry.claim("2tower", style="pascal") == "Model2tower"
    assert to_pascal("resnet-50_block") == "Resnet50Block"
    assert to_snake("ResNetBlock") == "res_net_block"


def test_reserved_attributes_cover_installed_keras() -> None:
    """The shipped list must not go stale when Keras adds Model attributes."""
    keras = pytest.importorskip("keras")

    class Probe(keras.Model):
        def call(self, inputs):
            return inputs

    live = {n for n in dir(Probe()) if not n.startswith("_")}
    live |= {n for n in dir(keras.Sequential()) if not n.startswith("_")}
    missing = sorted(live - KERAS_MODEL_ATTRIBUTES)
    assert not missing, f"add to KERAS_MODEL_ATTRIBUTES: {missing}"
