r"""A small safe formula language: the reader's quantile function, typed as text, read without ``eval``.

The target laws of :mod:`usaav.targets` let the reader type a quantile
function :math:`Q(s)` (the paper's Thm. 2 (ii) realises the law of
:math:`Q(U)`); this module reads such a formula with a recursive-descent
parser into a tree of a few node kinds and evaluates only those nodes, on
float64 arrays.  The browser twin ``usaav/web/formula.js`` has the same
grammar and the same messages (tested against this module).

* :func:`parse_formula` -> :class:`Formula` (callable on arrays);
* :data:`FUNCTIONS`, :data:`MAX_FORMULA_LENGTH`, :data:`MAX_FORMULA_DEPTH`:
  what a formula may call, and how long and deep it may be.

Examples
--------
>>> f = parse_formula("pi * (2*s - 1)**3")
>>> f(np.array([0.0, 0.5, 1.0])) / np.pi
array([-1.,  0.,  1.])
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["FUNCTIONS", "MAX_FORMULA_DEPTH", "MAX_FORMULA_LENGTH", "Formula", "parse_formula"]

# Grammar (Python's precedence; ``^`` is accepted for ``**``):
#
#   expression := term (("+" | "-") term)*
#   term       := unary (("*" | "/") unary)*
#   unary      := ("+" | "-") unary | power
#   power      := atom (("**" | "^") unary)?        right-associative: 2**3**2 = 2**9
#   atom       := number | "s" | "pi" | "π" | function "(" expression ("," expression)* ")"
#               | "(" expression ")"
#
# Values are float64 arrays; nothing but these nodes is ever evaluated.

#: Functions a formula may call: name -> (number of arguments, NumPy function).
FUNCTIONS = {
    "sin": (1, np.sin), "cos": (1, np.cos), "tan": (1, np.tan),
    "arcsin": (1, np.arcsin), "arccos": (1, np.arccos), "arctan": (1, np.arctan),
    "asin": (1, np.arcsin), "acos": (1, np.arccos), "atan": (1, np.arctan),
    "sinh": (1, np.sinh), "cosh": (1, np.cosh), "tanh": (1, np.tanh),
    "exp": (1, np.exp), "log": (1, np.log), "sqrt": (1, np.sqrt), "abs": (1, np.abs),
    "floor": (1, np.floor), "ceil": (1, np.ceil), "sign": (1, np.sign),
    "arctan2": (2, np.arctan2), "atan2": (2, np.arctan2),
    "min": (2, np.minimum), "max": (2, np.maximum), "minimum": (2, np.minimum), "maximum": (2, np.maximum),
    "clip": (3, np.clip),
}
_CONSTANTS = {"pi": math.pi, "π": math.pi}
#: Longest formula accepted, and deepest nesting of parentheses/operators: a
#: quantile fits on one line, and the limits keep the recursive parser far
#: from Python's recursion limit.
MAX_FORMULA_LENGTH = 200
#: Deepest nesting of parentheses and operators accepted (see :data:`MAX_FORMULA_LENGTH`).
MAX_FORMULA_DEPTH = 40

# Whitespace and digits are ASCII only, as in the JavaScript twin (Python's \s and \d would take Unicode ones).
_SPACE = " \t\n\r\f\v"
_TOKEN = re.compile(
    r"[ \t\n\r\f\v]*(?:(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?P<name>[A-Za-z_π][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/^(),]))"
)


def _quote(text: str) -> str:
    r"""``text`` in single quotes, every character but printable ASCII and π escaped (``\u00a0``).

    The JavaScript twin quotes the same way, so that both give the same messages
    and an invisible character (a non-breaking space) shows in the message.
    """
    out = []
    for char in text:
        if char in "\\'":
            out.append("\\" + char)
        elif " " <= char <= "~" or char == "π":
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return "'" + "".join(out) + "'"


def _formula_error(text: str, position: int, problem: str) -> ValueError:
    return ValueError(f"formula {_quote(text)}, character {position + 1}: {problem}")


class _Parser:
    """Recursive descent with one token of lookahead; builds nested tuples (see :class:`Formula`).

    Tokens are read only when needed, so the first problem from the left is the one reported.
    """

    def __init__(self, text: str, variables: tuple[str, ...]):
        self.text, self.variables = text, variables
        self.position = 0
        self.depth = 0
        self.lookahead = None

    def scan(self) -> tuple[str, str, int]:
        """The token at ``self.position``: ``(kind, text, start)``; ``("end", "", len(text))`` at the end."""
        rest = self.text[self.position:]
        start = self.position + len(rest) - len(rest.lstrip(_SPACE))
        if start == len(self.text):
            return ("end", "", start)
        match = _TOKEN.match(self.text, self.position)
        if match is None:
            raise _formula_error(self.text, start, f"unexpected character {_quote(self.text[start])}")
        self.position = match.end()
        kind = match.lastgroup
        return (kind, match.group(kind), match.start(kind))

    def peek(self):
        if self.lookahead is None:
            self.lookahead = self.scan()
        return self.lookahead

    def take(self):
        token = self.peek()
        self.lookahead = None
        return token

    def error(self, problem, token=None):
        return _formula_error(self.text, (token or self.peek())[2], problem)

    def nested(self, parse, token):
        self.depth += 1
        if self.depth > MAX_FORMULA_DEPTH:
            raise self.error(f"nested more than {MAX_FORMULA_DEPTH} levels deep", token)
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse(self):
        tree = self.expression()
        kind, value, _ = self.peek()
        if kind != "end":
            problem = "unbalanced parenthesis: no '(' to close" if value == ")" else f"unexpected {_quote(value)}"
            raise self.error(problem)
        return tree

    def expression(self):
        tree = self.term()
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            tree = ("binary", op, tree, self.term())
        return tree

    def term(self):
        tree = self.unary()
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            tree = ("binary", op, tree, self.unary())
        return tree

    def unary(self):
        kind, value, _ = self.peek()
        if kind == "op" and value in ("+", "-"):
            token = self.take()
            operand = self.nested(self.unary, token)
            return ("negate", operand) if value == "-" else operand
        return self.power()

    def power(self):
        base = self.atom()
        kind, value, _ = self.peek()
        if kind == "op" and value in ("**", "^"):
            token = self.take()
            return ("binary", "**", base, self.nested(self.unary, token))
        return base

    def atom(self):
        token = self.take()
        kind, value, position = token
        if kind == "number":
            number = float(value)
            if not math.isfinite(number):
                raise self.error(f"number {value} is too large", token)
            return ("number", number)
        if kind == "name":
            if value in self.variables:
                return ("variable", value)
            if value in _CONSTANTS:
                return ("number", _CONSTANTS[value])
            if value in FUNCTIONS:
                return self.call(token)
            allowed = ", ".join(list(self.variables) + ["pi"])
            raise self.error(f"unknown name {_quote(value)} (use {allowed} and the functions {', '.join(FUNCTIONS)})",
                             token)
        if kind == "op" and value == "(":
            inner = self.nested(self.expression, token)
            if self.peek()[1] != ")":
                raise self.error(f"unbalanced parenthesis: the '(' at character {position + 1} is never closed")
            self.take()
            return inner
        if kind == "end":
            raise self.error("the formula ends where a number, s or '(' was expected", token)
        raise self.error(f"unexpected {_quote(value)} where a number, s or '(' was expected", token)

    def call(self, token):
        name, position = token[1], token[2]
        arity = FUNCTIONS[name][0]
        if self.peek()[1] != "(":
            raise self.error(f"function {_quote(name)} must be followed by '('")
        self.take()
        arguments = [self.nested(self.expression, token)]
        while self.peek()[1] == ",":
            self.take()
            arguments.append(self.nested(self.expression, token))
        if self.peek()[1] != ")":
            raise self.error(f"unbalanced parenthesis: the '(' of {name} at character {position + len(name) + 1} "
                             "is never closed")
        self.take()
        if len(arguments) != arity:
            raise _formula_error(self.text, position,
                                 f"function {_quote(name)} takes {arity} argument(s), got {len(arguments)}")
        return ("call", name, tuple(arguments))


_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}


def _evaluate(tree, values: dict):
    kind = tree[0]
    if kind == "number":
        return tree[1]
    if kind == "variable":
        return values[tree[1]]
    if kind == "negate":
        return np.negative(_evaluate(tree[1], values))
    if kind == "binary":
        return _BINARY[tree[1]](_evaluate(tree[2], values), _evaluate(tree[3], values))
    return FUNCTIONS[tree[1]][1](*(_evaluate(argument, values) for argument in tree[2]))


@dataclass(frozen=True)
class Formula:
    """A parsed formula in one variable; calling it evaluates on float64 arrays.

    Built by :func:`parse_formula`.  ``tree`` holds nested tuples
    ``("number", x)``, ``("variable", name)``, ``("negate", a)``,
    ``("binary", op, a, b)`` and ``("call", name, (a, ...))``: the only
    operations ever carried out.

    Calling it returns an array of the input's shape; where the formula is
    undefined (``sqrt(-1)``, ``log(0)``, overflow) it raises ``ValueError``
    naming the formula and the first bad value of the variable.
    """

    text: str
    tree: tuple
    variable: str = "s"

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        # Overflow and domain errors become inf/NaN here and one clear error below.
        with np.errstate(all="ignore"):
            values = np.asarray(_evaluate(self.tree, {self.variable: x}), dtype=np.float64)
        values = np.broadcast_to(values, x.shape)
        bad = ~np.isfinite(values)
        if np.any(bad):
            where = float(np.broadcast_to(x, values.shape)[bad].flat[0])
            raise ValueError(f"formula {_quote(self.text)} is not finite at {self.variable} = {where:.6g} "
                             f"(value {float(values[bad].flat[0])})")
        return np.array(values)


def parse_formula(text: str, variable: str = "s") -> Formula:
    r"""Read ``text`` as a formula in ``variable`` with a small safe grammar.

    Allowed: numbers (``2``, ``0.5``, ``1e-3``), the variable, ``pi`` (or
    ``π``), ``+ - * /``, powers ``**`` (or ``^``), unary minus, parentheses
    and the functions of :data:`FUNCTIONS` (``sin``, ``exp``, ``sqrt``,
    ``clip(x, lo, hi)``, ...).  Nothing else is evaluated: no attribute
    access, no other names, no Python.

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    ValueError
        Naming the formula, the problem and its character position (1-based):
        an empty formula, an unknown name, an unbalanced parenthesis, a
        number too large for float64, more than :data:`MAX_FORMULA_LENGTH`
        characters or :data:`MAX_FORMULA_DEPTH` levels of nesting.

    Examples
    --------
    >>> parse_formula("-2**2 + sqrt(s)")(np.array([4.0]))
    array([-2.])
    >>> parse_formula("s.__class__")
    Traceback (most recent call last):
    ...
    ValueError: formula 's.__class__', character 2: unexpected character '.'
    """
    if not isinstance(text, str):
        raise TypeError(f"formula must be a string, got {type(text).__name__} {text!r}")
    if not text.strip(_SPACE):
        raise ValueError(f"formula must be a non-empty expression in {variable}, got {_quote(text)}")
    if len(text) > MAX_FORMULA_LENGTH:
        raise ValueError(f"formula must have at most {MAX_FORMULA_LENGTH} characters, got {len(text)}")
    return Formula(text, _Parser(text, (variable,)).parse(), variable)
