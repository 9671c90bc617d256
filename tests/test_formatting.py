"""The fast formatting path gives Black's bytes; the writer's tokens are Black's already."""

from __future__ import annotations

import ast
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.core.ir import BinOp, Call, Name, SelfAttr, SliceValue, Subscript, Symbol, UnaryOp
from generator.errors import ScaffoldError
from generator.output.formatting import black_format, format_source
from generator.output.source import SourceWriter, string_literal


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_string_literal_round_trips_and_is_black_stable(text: str) -> None:
    literal = string_literal(text)
    assert ast.literal_eval(literal) == text
    line = f"x = {literal}\n"
    assert black_format(line, line_length=10_000) == line


@pytest.mark.parametrize(
    "text", ["plain", "it's", 'say "hi"', "both ' and \"", "''\"", "back\\slash'\"", "tab\t\n"]
)
def test_string_literal_quotes_like_black(text: str) -> None:
    line = f"x = {repr(text)}\n"
    assert f"x = {string_literal(text)}\n" == black_format(line)


WRITER = SourceWriter()


@pytest.mark.parametrize(
    "value",
    [
        BinOp("**", Name("x"), 2),
        BinOp("**", SelfAttr("scale"), -2),
        BinOp("**", Call(Symbol("", "f"), (Name("x"),), ()), 2),
        BinOp("**", UnaryOp("-", Name("x")), 0.5),
        BinOp("**", Name("x"), BinOp("+", Name("y"), 1)),
        BinOp("**", Name("x"), BinOp("**", SelfAttr("y"), 3)),
        BinOp("**", Subscript(Name("x"), 0), 2),
        BinOp("**", Name("x"), Call(SelfAttr("scale"), (Name("y"),), ())),
        BinOp("**", Name("x"), Subscript(Name("y"), 1)),
        BinOp("**", 2.5, UnaryOp("-", Name("y"))),
        BinOp("*", BinOp("**", Name("x"), 2), BinOp("**", Symbol("keras", "ops.e"), Name("y"))),
        Subscript(Name("x"), SliceValue(BinOp("+", Name("a"), 1), None, None)),
        Subscript(Name("x"), SliceValue(None, BinOp("-", Name("a"), 1), 2)),
        Subscript(Name("x"), SliceValue(None, None, SelfAttr("step"))),
        Subscript(Name("x"), (SliceValue(None, None, None), SliceValue(-1, None, None))),
        Subscript(Name("x"), (Name("i"), SliceValue(SelfAttr("a"), -1, None))),
        1e20,
        -1.5e-07,
        float("inf"),
    ],
    ids=repr,
)
def test_writer_spaces_expressions_like_black(value: object) -> None:
    line = f"y = {WRITER.write(value)}\n"  # type: ignore[arg-type]
    assert black_format(line) == line


def _module(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


LONG_NAMES = [f"layer_{'n' * k}" for k in (1, 2, 30, 31, 40)]


def _layer_lines(indent: str) -> str:
    return "".join(
        f'{indent}self.{name} = keras.layers.Dense(64, activation="relu", '
        f'kernel_initializer=keras.initializers.GlorotUniform(seed=1), name="{name}")\n'
        for name in LONG_NAMES
    )


CASES = {
    "short lines only": 'x = 1\ny = "a"\n',
    "long statements of one shape, names of other widths": (
        "class M:\n    def __init__(self):\n" + _layer_lines("        ")
    ),
    "long statements at two depths": (
        _layer_lines("").replace("self.", "")
        + "\n\nclass M:\n    def f(self):\n"
        + _layer_lines("        ")
    ),
    "long def line": (
        "class M:\n"
        "    def __init__(self, num_classes=10, hidden=(256, 128, 64), dropout=0.25, **kwargs):\n"
        '        """A docstring line much longer than eighty-eight characters, which Black '
        'keeps as it is."""\n'
        "        super().__init__(**kwargs)\n"
    ),
    "wide characters": f'x = "{"日本語のテキスト" * 4}"\ny = 2\n',
    "keywords and strings in a long line": (
        "y = [f(a, None, True) for a in range(10) if a is not None and a not in ('\"', 1)]"
        " + [lambda z: z**2]\n"
    ),
    "a long multi-line statement falls back to Black": _module(
        """
        x = {
            "a": 1, "b": [1111111111, 2222222222, 3333333333, 4444444444, 5555555555, 6666666666],
        }
        """
    ),
    "two statements on a long line": (
        "alpha_value = compute(first_argument, second_argument); "
        "beta = other(third_argument, 1, 2, 3)\n"
    ),
    "complex and scientific numbers in a long line": (
        "values = [1j, 2.5e-07, 1e20, 0.5, 1_000, 3.0j, 0.5, 10.0, 123456789, 987654321, 1e-05]\n"
    ),
    "a comment on a long line": (
        "x = some_function(argument_one, argument_two, argument_three)  # a comment long enough\n"
    ),
}


@pytest.mark.parametrize("source", CASES.values(), ids=CASES.keys())
def test_fast_path_gives_blacks_bytes(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCAFFOLD_FORMAT_CHECK", "0")
    assert format_source(source, black_style=True) == black_format(source)


def test_the_check_reports_text_that_is_not_in_blacks_style(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCAFFOLD_FORMAT_CHECK", "1")
    with pytest.raises(ScaffoldError, match=r"line 2: \"y = 'a'\" != 'y = \"a\"'"):
        format_source("x = 1\ny = 'a'\n", black_style=True)
    monkeypatch.setenv("SCAFFOLD_FORMAT_CHECK", "0")
    assert format_source("x = 1\ny = 'a'\n", black_style=True) == "x = 1\ny = 'a'\n"
