"""Writing IR values as Python: precedence, quoting, literals. No TensorFlow needed."""

from __future__ import annotations

import ast

import pytest

from generator.core.ir import (
    BinOp,
    Call,
    DictValue,
    EllipsisValue,
    ListValue,
    Name,
    SelfAttr,
    SliceValue,
    Subscript,
    Symbol,
    TrainingFlag,
    UnaryOp,
)
from generator.output.formatting import black_format
from generator.output.source import SourceWriter

tf_style = SourceWriter("tf")
keras_style = SourceWriter("keras")
a, b, c = Name("a"), Name("b"), Name("c")


@pytest.mark.parametrize(
    "value, expected",
    [
        (BinOp("*", BinOp("+", a, b), c), "(a + b) * c"),
        (BinOp("+", a, BinOp("*", b, c)), "a + b * c"),
        (BinOp("-", a, BinOp("-", b, c)), "a - (b - c)"),
        (BinOp("-", BinOp("-", a, b), c), "a - b - c"),
        (BinOp("**", BinOp("**", a, b), c), "(a**b) ** c"),
        (BinOp("**", a, BinOp("**", b, c)), "a**b**c"),
        (BinOp("**", UnaryOp("-", a), 2), "(-a) ** 2"),
        (UnaryOp("-", BinOp("+", a, b)), "-(a + b)"),
        (BinOp("*", a, -1.5), "a * -1.5"),
        (BinOp("**", -2, a), "(-2) ** a"),
        (Subscript(BinOp("+", a, b), (SliceValue(None, None), -1)), "(a + b)[:, -1]"),
        (Subscript(a, (SliceValue(1, 3, 2), None, EllipsisValue())), "a[1:3:2, None, ...]"),
        (Subscript(a, (0,)), "a[0,]"),
        (float("inf"), 'float("inf")'),
        (float("nan"), 'float("nan")'),
        ((3,), "(3,)"),
        (DictValue((("user-id", a), ("class", b))), '{"user-id": a, "class": b}'),
        (ListValue((a, b)), "[a, b]"),
        (TrainingFlag(None), "training"),
        (
            Call(SelfAttr("drop"), (a,), (("training", TrainingFlag(True)),)),
            "self.drop(a, training=True if training is None else training)",
        ),
    ],
)
def test_expressions(value, expected: str) -> None:
    text = tf_style.write(value)
    assert text == expected
    assert black_format(f"y = {text}\n") == f"y = {text}\n"


def test_operator_precedence_preserves_semantics() -> None:
    """Evaluate written expressions and compare with the intended tree."""
    env = {"a": 2.0, "b": 3.0, "c": 5.0}

    def evaluate(v):
        if isinstance(v, Name):
            return env[v.id]
        if isinstance(v, (int, float)):
            return v
        if isinstance(v, UnaryOp):
            return -evaluate(v.operand)
        ops = {
            "+": float.__add__,
            "-": float.__sub__,
            "*": float.__mul__,
            "/": float.__truediv__,
            "**": float.__pow__,
        }
        return ops[v.op](float(evaluate(v.left)), float(evaluate(v.right)))

    trees = [
        BinOp("/", a, BinOp("/", b, c)),
        BinOp("-", UnaryOp("-", a), BinOp("**", b, 2)),
        BinOp("**", BinOp("-", a, b), BinOp("*", c, 0.5)),
        UnaryOp("-", BinOp("**", a, b)),
    ]
    for tree in trees:
        assert eval(tf_style.write(tree), {}, dict(env)) == pytest.approx(evaluate(tree))


def test_hostile_strings_are_repr_quoted() -> None:
    hostile = "x'); __import__('os').system('touch pwned'); ('"
    text = tf_style.write(Call(Symbol("keras", "layers.Dense"), (4,), (("name", hostile),)))
    tree = ast.parse(text, mode="eval")
    assert isinstance(tree.body, ast.Call)
    assert tree.body.keywords[0].value.value == hostile


def test_import_styles() -> None:
    symbol = Symbol("keras", "ops.concatenate")
    assert tf_style.write(symbol) == "tf.keras.ops.concatenate"
    assert keras_style.write(symbol) == "keras.ops.concatenate"
    assert tf_style.write(Symbol("my_pkg.layers", "Scale")) == "my_pkg.layers.Scale"
    assert tf_style.write(Symbol("", "Block")) == "Block"


@pytest.mark.parametrize(
    "value, expected",
    [
        (1 / 255, "1 / 255"),
        (1 / 3, "1 / 3"),
        (-1 / 3, "-1 / 3"),
        (1 / 127.5, "1 / 127.5"),  # MobileNet's preprocessing
        (2 / 3, "0.6666666666666666"),  # no short divisor of at least 2
        (0.2 * 15 / 35, "0.08571428571428572"),  # a computed rate, not 3 / 35
        (0.1, "0.1"),  # short already
        (0.30000000000000004, "0.30000000000000004"),  # 0.1 * 3: no fraction gives it
        (3409.9760250000004, "3409.9760250000004"),
        (0.7071067811865476, "0.7071067811865476"),
        (1e300 / 3, "3.3333333333333335e299"),
        (1 / 3e200, "3.3333333333333335e-201"),  # no 200-digit divisor
        (1 / 3e7, "3.3333333333333334e-08"),
    ],
)
def test_long_floats_read_as_the_reciprocal_that_gives_them_exactly(
    value: float, expected: str
) -> None:
    writer = SourceWriter("tf")
    assert writer.write(value) == expected
    assert eval(expected) == value  # the very same float
    # Inside an expression the fraction stays one operand: ``x * (1 / 3)``.
    product = writer.write(BinOp("*", Name("x"), value))
    assert eval(product, {"x": 3.0}) == 3.0 * value
