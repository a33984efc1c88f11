"""The safe formula language (usaav.formula): values against Python's own arithmetic, refusals with their position.

The reader's quantile function is typed as text; the parser must compute what
Python computes for the same expression and refuse everything else with a
message naming the character where the problem starts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from usaav import formula

S = np.linspace(0.0005, 0.9995, 41)


@pytest.mark.parametrize("text, python", [
    ("2*s + 1", lambda s: 2 * s + 1),
    ("1 - 2 - 3 + 0*s", lambda s: 1 - 2 - 3 + 0 * s),           # left-associative minus
    ("8 / 2 / 2 + 0*s", lambda s: 8 / 2 / 2 + 0 * s),           # left-associative division
    ("-2**2 + 0*s", lambda s: -2**2 + 0 * s),                   # power binds tighter than unary minus
    ("2**3**2 + 0*s", lambda s: 2.0**3**2 + 0 * s),             # right-associative power
    ("2**-1 + s", lambda s: 2**-1 + s),                         # unary minus in the exponent
    ("s^2 - -s", lambda s: s**2 + s),                           # ^ is a power, double minus
    ("pi * (2*s - 1)**3", lambda s: math.pi * (2 * s - 1) ** 3),
    ("π*s", lambda s: math.pi * s),
    ("sin(pi*s)**2 + cos(pi*s)**2", lambda s: np.sin(np.pi * s) ** 2 + np.cos(np.pi * s) ** 2),
    ("atan2(s, 1 - s) + clip(s, 0.2, 0.6)", lambda s: np.arctan2(s, 1 - s) + np.clip(s, 0.2, 0.6)),
    ("max(s, 0.5) * min(s, 0.5) + exp(-s) + log(s) + sqrt(s)",
     lambda s: np.maximum(s, 0.5) * np.minimum(s, 0.5) + np.exp(-s) + np.log(s) + np.sqrt(s)),
    ("1.5e-1 + .5 + 2. + 0*s", lambda s: 0.15 + 0.5 + 2.0 + 0 * s),
    ("3", lambda s: np.full_like(s, 3.0)),                      # a constant: the law of a Dirac mass
])
def test_formula_values_equal_python_arithmetic(text, python):
    np.testing.assert_allclose(formula.parse_formula(text)(S), python(S), rtol=1e-15, atol=0)


@pytest.mark.parametrize("text, position, words", [
    ('__import__("os")', 1, "unknown name '__import__'"),
    ("s.__class__", 2, "unexpected character '.'"),
    ("().__class__", 2, "unexpected ')'"),
    ("exec('1')", 1, "unknown name 'exec'"),
    ("lambda: s", 1, "unknown name 'lambda'"),
    ("s; s", 2, "unexpected character ';'"),
    ("(s", 3, "the '(' at character 1 is never closed"),
    ("pi*(2*s", 8, "the '(' at character 4 is never closed"),
    ("s)", 2, "no '(' to close"),
    ("sin(s", 6, "the '(' of sin at character 4 is never closed"),
    ("sin s", 5, "must be followed by '('"),
    ("sin(s, s)", 1, "takes 1 argument(s), got 2"),
    ("s **", 5, "the formula ends"),
    ("2 s", 3, "unexpected 's'"),
    ("1e999 * s", 1, "too large"),
    ("(" * 45 + "s" + ")" * 45, 41, "nested more than 40"),
    ("-" * 45 + "s", 41, "nested more than 40"),
])
def test_hostile_or_broken_formulas_are_refused_with_their_position(text, position, words):
    with pytest.raises(ValueError) as info:
        formula.parse_formula(text)
    message = str(info.value)
    assert message.startswith("formula '") and f"character {position}:" in message and words in message


@pytest.mark.parametrize("text", ["", "   ", "s" * 201])
def test_empty_and_overlong_formulas_are_refused(text):
    with pytest.raises(ValueError, match="formula must"):
        formula.parse_formula(text)


def test_a_formula_must_be_a_string():
    with pytest.raises(TypeError, match="formula must be a string"):
        formula.parse_formula(3.0)


def test_the_parser_never_evaluates_python(monkeypatch):
    """Evaluation dispatches on the parsed tree only: a tree node outside the grammar cannot run."""
    parsed = formula.parse_formula("s + 1")
    assert parsed.tree == ("binary", "+", ("variable", "s"), ("number", 1.0))
    monkeypatch.setattr("builtins.eval", lambda *a, **k: pytest.fail("eval was called"))
    np.testing.assert_array_equal(parsed(np.array([1.0])), [2.0])
