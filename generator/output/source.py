"""Turns IR values into Python source text: the one place that writes expressions.

Templates receive only strings made here, so quoting, precedence and the import style are
decided once. Every string from a model reaches code through ``string_literal`` (``repr``
in Black's choice of quotes), and every expression is spaced as Black spaces it, so that
formatting only has to split long lines (see ``formatting``).
"""

from __future__ import annotations

import io
import math
import tokenize
from dataclasses import dataclass

from generator.core.ir import (
    BinOp,
    Call,
    Code,
    Compare,
    Comprehension,
    DictValue,
    EllipsisValue,
    FormattedName,
    IfExp,
    IndexedName,
    ListValue,
    Name,
    OwnName,
    SelfAttr,
    SliceValue,
    Subscript,
    Symbol,
    TrainingFlag,
    UnaryOp,
    Value,
)

IMPORT_STYLES = ("tf", "keras")

# Binding strength, higher binds tighter (Python's grammar).
_PRECEDENCE = {"+": 11, "-": 11, "*": 12, "/": 12, "//": 12, "%": 12, "@": 12, "**": 14}
_ATOM = 20
_UNARY = 13
_COMPARE = 7
_CONDITIONAL = 1


@dataclass(frozen=True)
class SourceWriter:
    """Writes values for one import style: ``tf`` (``tf.keras.…``) or ``keras``."""

    import_style: str = "tf"

    @property
    def keras_prefix(self) -> str:
        return "tf.keras" if self.import_style == "tf" else "keras"

    def symbol(self, symbol: Symbol) -> str:
        if symbol.module == "":
            return symbol.qualname
        if symbol.module == "keras":
            return f"{self.keras_prefix}.{symbol.qualname}"
        if not symbol.qualname:
            return symbol.module
        return f"{symbol.module}.{symbol.qualname}"

    def write(self, value: Value) -> str:
        return self._write(value)[0]

    def call(
        self, func: str, args: tuple[Value, ...], kwargs: tuple[tuple[str, Value], ...]
    ) -> str:
        parts = [self.write(a) for a in args]
        parts += [f"{key}={self.write(val)}" for key, val in kwargs]
        return f"{func}({', '.join(parts)})"

    def _write(self, value: Value) -> tuple[str, int]:
        """Return ``(source, precedence)`` so operators parenthesize only when needed."""
        if isinstance(value, str):
            return string_literal(value), _ATOM
        if value is None or isinstance(value, bool):
            return repr(value), _ATOM
        if isinstance(value, int):
            return repr(value), _ATOM if value >= 0 else _UNARY
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, tuple):
            inner = ", ".join(self.write(v) for v in value)
            return (f"({inner},)" if len(value) == 1 else f"({inner})"), _ATOM
        if isinstance(value, ListValue):
            return f"[{', '.join(self.write(v) for v in value.items)}]", _ATOM
        if isinstance(value, DictValue):
            items = ", ".join(f"{self.write(k)}: {self.write(v)}" for k, v in value.items)
            return f"{{{items}}}", _ATOM
        if isinstance(value, Symbol):
            return self.symbol(value), _ATOM
        if isinstance(value, Name):
            return value.id, _ATOM
        if isinstance(value, SelfAttr):
            return f"self.{value.attr}", _ATOM
        if isinstance(value, Call):
            return self.call(self._operand(value.func, _ATOM), value.args, value.kwargs), _ATOM
        if isinstance(value, BinOp):
            prec = _PRECEDENCE[value.op]
            # ``**`` is right-associative; every other operator here is left-associative.
            left_min, right_min = (prec + 1, prec) if value.op == "**" else (prec, prec + 1)
            left = self._operand(value.left, left_min)
            right = self._operand(value.right, right_min)
            if value.op == "**" and _black_hugs_power(left, right):
                return f"{left}**{right}", prec
            return f"{left} {value.op} {right}", prec
        if isinstance(value, UnaryOp):
            return f"{value.op}{self._operand(value.operand, _UNARY)}", _UNARY
        if isinstance(value, Subscript):
            return f"{self._operand(value.value, _ATOM)}[{self._key(value.key)}]", _ATOM
        if isinstance(value, SliceValue):
            parts = (self.write(value.start), self.write(value.stop), self.write(value.step))
            return f"slice({', '.join(parts)})", _ATOM
        if isinstance(value, EllipsisValue):
            return "...", _ATOM
        if isinstance(value, Code):
            return value.text, 0
        if isinstance(value, IndexedName):
            if value.base.isidentifier():
                return f'f"{value.base}_{{i}}"', _ATOM
            return f'{string_literal(value.base)} + f"_{{i}}"', _PRECEDENCE["+"]
        if isinstance(value, OwnName):
            if not value.suffix:
                return "self.name", _ATOM
            return f"self.name + {string_literal(value.suffix)}", _PRECEDENCE["+"]
        if isinstance(value, Compare):
            left = self._operand(value.left, _COMPARE + 1)
            right = self._operand(value.right, _COMPARE + 1)
            return f"{left} {value.op} {right}", _COMPARE
        if isinstance(value, IfExp):
            body = self._operand(value.body, _CONDITIONAL + 1)
            test = self._operand(value.test, _CONDITIONAL + 1)
            orelse = self._operand(value.orelse, _CONDITIONAL)
            return f"{body} if {test} else {orelse}", _CONDITIONAL
        if isinstance(value, FormattedName):
            return self._f_string(value), _ATOM
        if isinstance(value, Comprehension):
            clauses = " ".join(
                f"for {self._target(target, top=True)} in "
                f"{self._operand(iterable, _CONDITIONAL + 1)}"
                for target, iterable in value.clauses
            )
            return f"[{self._operand(value.element, _CONDITIONAL)} {clauses}]", _ATOM
        if isinstance(value, TrainingFlag):
            if value.recorded is None:
                return "training", _ATOM
            return f"{value.recorded!r} if training is None else training", 0
        raise TypeError(f"cannot write {type(value).__name__} as source: {value!r}")

    def _f_string(self, value: FormattedName) -> str:
        """Literal parts are escaped as in any string (then braces doubled); expressions
        are our own names and arithmetic, never text from a model file."""
        text = ""
        for part in value.parts:
            if isinstance(part, str):
                literal = string_literal(part)
                if literal[0] != '"':  # keep one quote style for the whole f-string
                    literal = '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
                text += literal[1:-1].replace("{", "{{").replace("}", "}}")
            else:
                text += "{" + self.write(part) + "}"
        return f'f"{text}"'

    def _target(self, target: Value, top: bool = False) -> str:
        if isinstance(target, tuple):
            inner = ", ".join(self._target(t) for t in target)
            if len(target) == 1:
                inner += ","
            return inner if top else f"({inner})"
        return self.write(target)

    def _operand(self, value: Value, minimum: int) -> str:
        text, prec = self._write(value)
        return f"({text})" if prec < minimum else text

    def _key(self, key: Value) -> str:
        """A subscript key: slices as ``a:b:c``, tuples without parentheses."""
        if isinstance(key, tuple) and key:
            return ", ".join(self._key_item(k) for k in key) + ("," if len(key) == 1 else "")
        return self._key_item(key)

    def _key_item(self, item: Value) -> str:
        if isinstance(item, SliceValue):
            bounds = (item.start, item.stop, item.step)
            parts = ["" if p is None else self.write(p) for p in bounds]
            if not parts[2]:
                parts.pop()
            # Black spaces a slice's colons like a binary operator once a bound is more
            # than a name or number: ``x[a + 1 :]``.
            if all(_is_simple_slice_bound(p) for p in bounds):
                return ":".join(parts)
            text = parts[0]
            for part in parts[1:]:
                text += " :" if text and not text.endswith(":") else ":"
                text += f" {part}" if part else ""
            return text
        if item is None:
            return "None"
        return self.write(item)


def string_literal(text: str) -> str:
    """``repr(text)`` with the quotes Black prefers: double, unless that needs more escapes."""
    literal = repr(text)
    if literal[0] == '"':  # repr chose double quotes already
        return literal
    body, escapes_now, escapes_double = [], 0, 0
    index, inner = 0, literal[1:-1]
    while index < len(inner):
        char = inner[index]
        if char == "\\":
            pair = inner[index : index + 2]
            escapes_now += 1
            if pair == "\\'":
                body.append("'")
            else:
                body.append(pair)
                escapes_double += 1
            index += 2
            continue
        if char == '"':
            body.append('\\"')
            escapes_double += 1
        else:
            body.append(char)
        index += 1
    if escapes_double > escapes_now:
        return literal
    return '"' + "".join(body) + '"'


def _float(value: float) -> tuple[str, int]:
    if math.isnan(value):
        return 'float("nan")', _ATOM
    if math.isinf(value):
        return ('float("inf")', _ATOM) if value > 0 else ('-float("inf")', _UNARY)
    text = repr(value).replace("e+", "e")  # Black writes 1e+20 as 1e20
    if len(text) >= LONG_FLOAT:
        fraction = _fraction(value)
        if fraction is not None:
            return fraction, _PRECEDENCE["/"]
    return text, _UNARY if math.copysign(1.0, value) < 0 else _ATOM


# A float whose shortest repr is this long may read better as the division a person
# typed (``1 / 255``, not ``0.00392156862745098``), when it gives exactly the same float.
LONG_FLOAT = 12
RECIPROCAL_DIGITS = 6  # ``1 / 127.5``: a divisor a person typed, not ``1 / 17.0588``
MAX_DIVISOR = 1e6  # ``1 / 3e200`` would spell out 200 digits


def _fraction(value: float) -> str | None:
    """``1 / d`` (``-1 / d``) for a short divisor ``d`` of at least 2 whose reciprocal is
    exactly ``value``, or None: rates computed as ``0.2 * 15 / 35`` stay as they are, not
    ``3 / 35``."""
    divisor = float(f"{1 / abs(value):.{RECIPROCAL_DIGITS}g}")
    if not 2 <= divisor < MAX_DIVISOR or 1 / divisor != abs(value):
        return None
    text = repr(int(divisor)) if divisor.is_integer() else repr(divisor)
    return f"{'-' if value < 0 else ''}1 / {text}"


def _black_hugs_power(left: str, right: str) -> bool:
    """Black writes ``a**b`` when the tokens next to ``**`` are simple: a name or number
    (after a dotted name or number on the right; not after a call on the left)."""
    before, after = _tokens(left), _tokens(right)
    if before[-1].type not in (tokenize.NAME, tokenize.NUMBER):
        return False
    if len(before) >= 3 and before[-2].string == "." and before[-3].string in (")", "]"):
        return False
    start = 1 if after[0].string in ("-", "+", "~") else 0
    if after[start].type == tokenize.NUMBER:
        return True
    if after[start].type != tokenize.NAME:
        return False
    for token in after[start:]:
        if token.string in ("(", "["):
            return False
        if token.type != tokenize.NAME and token.string != ".":
            return True
    return True


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    ignored = (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER)
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [t for t in tokens if t.type not in ignored]


def _is_simple_slice_bound(value: Value) -> bool:
    """A bound that keeps a slice's colons unspaced: nothing, a name, a (signed) number."""
    if value is None or isinstance(value, (bool, Name)):
        return True
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return False
