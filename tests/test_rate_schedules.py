"""Rates that rise block by block to a round number, as Keras's EfficientNet drops
``drop_connect_rate * b / blocks`` in block ``b``: the converted model takes that number
as a parameter, and a model built deeper spreads the same rates over more blocks."""

from __future__ import annotations

import keras
import pytest
from equivalence import converted_exactly, generated_class
from keras import layers


def _dropping_stages(
    depths: list[int], rate: float, offset: int = 0, per_block: bool = False, widen: bool = True
) -> keras.Model:
    """Dense residual stages whose Dropout rate is ``rate * (b + offset) / blocks`` in
    unit ``b`` (``per_block``: ``rate * b``). ``widen``: each stage twice as wide, its
    first unit projecting its shortcut (one loop over stages); else one width, a Dense
    layer between stages (lists of their own)."""
    keras.backend.clear_session()
    total = sum(depths)
    inputs = keras.Input((6,))
    x = layers.Dense(8, name="stem")(inputs)
    b = 0
    for s, depth in enumerate(depths):
        if s and not widen:
            x = layers.Dense(8, name=f"between{s}")(x)
        for i in range(depth):
            prefix = f"s{s + 1}_b{i + 1}"
            units = 8 * 2**s if widen else 8
            h = layers.Dense(units, activation="relu", name=prefix + "_dense")(x)
            unit_rate = rate * b if per_block else rate * (b + offset) / total
            h = layers.Dropout(unit_rate, name=prefix + "_drop")(h)
            project = widen and i == 0
            shortcut = layers.Dense(units, name=prefix + "_proj")(x) if project else x
            x = layers.Add(name=prefix + "_add")([shortcut, h])
            b += 1
    return keras.Model(inputs, layers.Dense(3, name="head")(x))


def _rates(model: keras.Model) -> list[float]:
    """Every Dropout's rate, in the order the model made them."""
    return [
        layer.rate
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.Dropout)
    ]


def test_a_rising_rate_is_the_models_parameter_over_all_stages() -> None:
    source = converted_exactly(_dropping_stages([2, 3, 3], 0.2), "rate_schedule")
    assert "drop_rate=0.2" in source, source
    assert "rate=drop_rate * (sum(stage_depths[:s]) + i) / sum(stage_depths)" in source, source
    cls = generated_class(source, "M", "rate_schedule_deeper")
    deeper = cls(stage_depths=(4, 6, 6))
    deeper.build(None)
    assert _rates(deeper) == [0.2 * b / 16 for b in range(16)]  # still under 0.2
    halved = cls(drop_rate=0.1)
    halved.build(None)
    assert _rates(halved) == [0.1 * b / 8 for b in range(8)]


def test_a_schedule_needs_no_short_step() -> None:
    """``0.2 * b / 7`` has no short step per block (``0.028571428571428574``), yet it is
    ``drop_rate * n / N`` exactly: EfficientNetB1's 23 blocks read so too."""
    source = converted_exactly(_dropping_stages([2, 2, 3], 0.2), "rate_schedule_seven")
    assert "drop_rate=0.2" in source, source
    assert "rate=drop_rate * (sum(stage_depths[:s]) + i) / sum(stage_depths)" in source, source


@pytest.mark.parametrize("depths", [[5], [4, 4, 4]], ids=["one run", "lists of their own"])
def test_a_schedule_over_some_blocks_only_stays_per_block(depths: list[int]) -> None:
    """One run, or lists that do not make one loop over stages (each stage projecting
    its input the same way, so no widths change): ``drop_rate`` would then be a parameter
    of some blocks only, or its ``N`` a number that does not follow the stages."""
    source = converted_exactly(_dropping_stages(depths, 0.2, widen=False))
    assert "drop_rate" not in source, source


@pytest.mark.parametrize(
    "rate, offset, per_block",
    [(0.0123, 0, True), (0.2, 1, False)],
    ids=["a step per block", "shifted"],
)
def test_other_progressions_stay_as_they_are(rate: float, offset: int, per_block: bool) -> None:
    model = _dropping_stages([2, 3, 3], rate, offset, per_block)
    source = converted_exactly(model, "rate_progression")
    assert "drop_rate" not in source, source
    assert "(sum(stage_depths[:s]) + i" in source, source
