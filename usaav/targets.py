r"""Target laws the reader picks: angles on an orbit, shapes on the sphere, prompt gauges.

The theorems of MODEL.md §4 say that a maximiser can realise *any* target
law — on the orbit of a vector for a phase field (Thm. 2 (ii)), anywhere on
the sphere for prompts (Thm. 4 (ii)–(iii)).  This module holds the targets
themselves; the realisations come from :mod:`usaav.maximizers` and are
checked with :mod:`usaav.observables`.  The browser explorers use the same
laws, written again in ``usaav/web/targets.js`` and tested against this
module.

* :func:`angle_law` / :data:`ANGLE_LAWS`: laws of the orbit angle
  (:class:`AngleLaw`), including a quantile function the reader types as a
  formula (:func:`user_quantile`, read by a small safe parser — never
  ``eval``);
* :func:`realize_law`: Thm. 2 (ii) carried out, with its energy gap and
  Kolmogorov–Smirnov distance (:class:`OrbitRealization`);
* :func:`tilted_start`: the start vector :math:`v` at a polar angle (Cor. 1);
* :func:`target_map`, :func:`sphere_target` / :data:`SHAPES`: target maps
  :math:`T` from a nonatomic prompt law to :math:`\mathbb S^2` (Thm. 4 (iii));
* :func:`prompt_gauges` / :data:`PROMPT_LAYOUTS`, :func:`count_distinct`:
  finitely many prompts (Cor. 2).

NumPy and SciPy only; the glyphs of the ``"word"`` shape need matplotlib
(the ``plot`` extra), imported only when that shape is asked for.

Examples
--------
>>> Q = user_quantile("pi * (2*s - 1)**3")
>>> Q(np.array([0.0, 0.5, 1.0])) / np.pi
array([-1.,  0.,  1.])
>>> result = realize_law(angle_law("von Mises", 0.4), n=200)
>>> result.energy_gap < 1e-12, result.ks_distance < 0.01
(True, True)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.integrate import trapezoid
from scipy.stats import kstest

from ._validation import check_int, check_orthogonal, check_plane
from .kernels import PhaseField
from .maximizers import orbit_angles, phase_field, realize_on_orbit
from .observables import count_clusters, relative_energy_gap
from .sphere import haar_rotations, rotation

__all__ = [
    "ANGLE_LAWS",
    "FACING",
    "FUNCTIONS",
    "PROMPT_LAYOUTS",
    "SHAPES",
    "AngleLaw",
    "Formula",
    "OrbitRealization",
    "angle_law",
    "count_distinct",
    "midpoints",
    "parse_formula",
    "prompt_gauges",
    "realize_law",
    "sphere_target",
    "target_map",
    "tilted_start",
    "user_quantile",
]


# --------------------------------------------------------------------------
# A safe formula language for the reader's quantile function
# --------------------------------------------------------------------------
#
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


def midpoints(n: int) -> np.ndarray:
    r"""Positions :math:`s_i=(i+\tfrac12)/n`: the n-point grid closest to Unif[0, 1] in Kolmogorov distance."""
    n = check_int(n, "n", minimum=1)
    return (np.arange(n) + 0.5) / n


def user_quantile(expression: str) -> Formula:
    r"""The reader's quantile function :math:`Q(s)` from a formula (e.g. ``"pi * (2*s - 1)**3"``).

    Parsed by :func:`parse_formula` (never ``eval``) and tried at a few
    points of :math:`(0,1)` so that a formula undefined there fails now,
    with the formula in the message.  Any formula is allowed — it need not
    be monotone: the law realised is that of :math:`Q(U)`,
    :math:`U\sim\mathrm{Unif}[0,1]` (Thm. 2 (ii)).
    """
    quantile = parse_formula(expression, "s")
    quantile(np.linspace(0.0005, 0.9995, 5))
    return quantile


# --------------------------------------------------------------------------
# Laws of the orbit angle (Thm. 2 (ii))
# --------------------------------------------------------------------------

#: The target laws :func:`angle_law` offers.
ANGLE_LAWS = ("uniform arc", "von Mises", "bimodal mixture", "your quantile")
#: Samples of the reader's quantile :math:`Q(s_i)` at ``QUANTILE_SAMPLES`` midpoints define its CDF.
QUANTILE_SAMPLES = 20000


def _wrap(alpha):
    """Angles wrapped to :math:`(-\\pi,\\pi]`."""
    alpha = np.asarray(alpha, dtype=np.float64)
    return np.arctan2(np.sin(alpha), np.cos(alpha))


def _von_mises(alpha, centre, kappa):
    # Unnormalised; normalised by the caller on the grid.
    return np.exp(kappa * (np.cos(alpha - centre) - 1.0))


@dataclass(frozen=True, eq=False)
class AngleLaw:
    r"""A target law :math:`\nu` for the orbit angle, tabulated on :math:`[-\pi,\pi]` (the paper's Thm. 2 (ii)).

    Attributes
    ----------
    name : str
    grid : (m,) ndarray
        Increasing angles from :math:`-\pi` to :math:`\pi`.
    cdf_values : (m,) ndarray
        :math:`F(\alpha)=\nu((-\pi,\alpha])` on ``grid`` (nondecreasing, 0 to 1).
    density_values : (m,) ndarray
        The density on ``grid`` (for plotting).
    exact_quantile : Formula or None
        The quantile function when the reader typed one.
    sample : (N,) ndarray or None
        Sorted reference sample :math:`Q(s_k)` at the midpoints :math:`s_k`
        when the reader typed a quantile; then ``cdf`` is its step CDF.
    """

    name: str
    grid: np.ndarray
    cdf_values: np.ndarray
    density_values: np.ndarray
    exact_quantile: Callable | None = None
    sample: np.ndarray | None = None

    def cdf(self, alpha):
        """:math:`F(\\alpha)`, linear between grid points (a step function for a typed quantile)."""
        if self.sample is not None:
            return np.searchsorted(self.sample, alpha, side="right") / self.sample.size
        return np.interp(alpha, self.grid, self.cdf_values)

    def quantile(self, s):
        r"""Quantile function :math:`Q(s)=\inf\{\alpha:F(\alpha)\ge s\}` (wrapped to :math:`(-\pi,\pi]`)."""
        s = np.asarray(s, dtype=np.float64)
        if self.exact_quantile is not None:
            return _wrap(self.exact_quantile(s))
        # Generalised inverse of a piecewise-linear F: interpolate on its strictly increasing part.
        keep = np.r_[True, np.diff(self.cdf_values) > 0]
        return np.interp(s, self.cdf_values[keep], self.grid[keep])


def angle_law(name: str, width: float = 0.4, expression: str = "pi * (2*s - 1)**3", *,
              points: int = 4097) -> AngleLaw:
    r"""One of the target laws :data:`ANGLE_LAWS` for the orbit angle (the paper's Thm. 2 (ii)).

    Parameters
    ----------
    name : str
        ``"uniform arc"`` (uniform on :math:`[-w\pi, w\pi]`), ``"von Mises"``
        (centre 0, :math:`\kappa=1/(w\pi/2)^2`, a circular spread of about
        :math:`w\pi/2`), ``"bimodal mixture"`` (two von Mises bumps at
        :math:`-2\pi/3` and :math:`\pi/3`, :math:`\kappa=1/(w\pi/4)^2`,
        masses 0.35 and 0.65), or ``"your quantile"`` (the law of
        :math:`Q(U)`, :math:`U\sim\mathrm{Unif}[0,1]`, for the formula
        ``expression``; see :func:`user_quantile`).
    width : float
        :math:`w\in(0,1]`, the width of the first three laws.
    expression : str
        Formula of :math:`Q(s)` for ``"your quantile"``.
    points : int
        Size of the angle grid.

    Raises
    ------
    ValueError
        For an unknown ``name``, ``width`` outside (0, 1], or a formula the
        parser refuses.
    """
    if name not in ANGLE_LAWS:
        raise ValueError(f"name must be one of {ANGLE_LAWS}, got {name!r}")
    if isinstance(width, bool) or not isinstance(width, (int, float, np.floating, np.integer)):
        raise TypeError(f"width must be a real number, got {type(width).__name__} {width!r}")
    if not 0 < width <= 1:
        raise ValueError(f"width must be in (0, 1], got {width!r}")
    points = check_int(points, "points", minimum=3)
    grid = np.linspace(-np.pi, np.pi, points)
    if name == "your quantile":
        quantile = user_quantile(expression)
        fine = np.sort(_wrap(quantile(midpoints(QUANTILE_SAMPLES))))
        cdf = np.searchsorted(fine, grid, side="right") / fine.size
        heights, edges = np.histogram(fine, bins=180, range=(-np.pi, np.pi), density=True)
        density = heights[np.clip(np.searchsorted(edges, grid, side="right") - 1, 0, heights.size - 1)]
        return AngleLaw(f"Q(s) = {expression}", grid, cdf, density, quantile, fine)
    if name == "uniform arc":
        density = (np.abs(grid) <= width * np.pi).astype(float)
        label = f"uniform on [−{width:g}π, {width:g}π]"
    elif name == "von Mises":
        kappa = 1.0 / (width * np.pi / 2) ** 2
        density = _von_mises(grid, 0.0, kappa)
        label = f"von Mises, κ = {kappa:.2g}"
    else:
        kappa = 1.0 / (width * np.pi / 4) ** 2
        bumps = [_von_mises(grid, c, kappa) for c in (-2 * np.pi / 3, np.pi / 3)]
        bumps = [b / trapezoid(b, grid) for b in bumps]
        density = 0.35 * bumps[0] + 0.65 * bumps[1]
        label = "bimodal mixture"
    density = density / trapezoid(density, grid)
    cdf = np.r_[0.0, np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))]
    cdf /= cdf[-1]
    return AngleLaw(label, grid, cdf, density)


def tilted_start(polar: float, plane=(0, 1)) -> np.ndarray:
    r"""Unit vector :math:`v\in\mathbb S^2` at angle ``polar`` from the rotation axis of ``plane``.

    For ``plane = (i, j)`` and :math:`k` the remaining axis,
    :math:`v=\cos\vartheta\,e_k+\sin\vartheta\,e_i`.  Its orbit
    :math:`\{R_\alpha v\}` under rotations in ``plane`` is the circle at
    polar angle :math:`\vartheta` about :math:`e_k` (the paper's Cor. 1: the
    latitude circle when ``plane = (0, 1)``).

    >>> tilted_start(np.pi / 2)
    array([1.000000e+00, 0.000000e+00, 6.123234e-17])
    """
    i, j = check_plane(plane, 3)
    (k,) = {0, 1, 2} - {i, j}
    v = np.zeros(3)
    v[k] = np.cos(polar)
    v[i] = np.sin(polar)
    return v


@dataclass(frozen=True, eq=False)
class OrbitRealization:
    """A target law realised on an orbit by a phase-field maximiser (the paper's Thm. 2 (ii)); see :func:`realize_law`.

    Attributes
    ----------
    law : AngleLaw
    v : (3,) ndarray
        The start vector; the points lie on its orbit.
    positions : (n,) ndarray
        The midpoints :math:`s_i=(i+\\frac12)/n`.
    X : (n, 3) ndarray
        The maximiser :math:`x(s_i)=R_{Q(s_i)}v`.
    angles : (n,) ndarray
        The angles read back from ``X`` (:func:`usaav.maximizers.orbit_angles`).
    energy_gap : float
        Relative energy gap of the phase-field kernel at ``X`` (0 up to round-off).
    ks_distance : float
        Kolmogorov–Smirnov distance between ``angles`` and ``law`` (at best :math:`1/(2n)`).
    """

    law: AngleLaw
    v: np.ndarray
    positions: np.ndarray
    X: np.ndarray
    angles: np.ndarray
    energy_gap: float
    ks_distance: float


def realize_law(law: AngleLaw, *, n: int = 400, polar: float = np.pi / 3, beta: float = 1.0) -> OrbitRealization:
    r"""Realise ``law`` on the orbit of ``v`` with the phase :math:`\phi=-Q` (the paper's Thm. 2 (ii)).

    Builds the phase with :func:`usaav.maximizers.realize_on_orbit`, the
    maximiser :math:`x(s_i)=R_{Q(s_i)}v` with
    :func:`usaav.maximizers.phase_field` at :math:`s_i=(i+\frac12)/n`,
    reads the angles back from the points
    (:func:`usaav.maximizers.orbit_angles`), and measures the relative
    energy gap of the phase-field kernel and the Kolmogorov–Smirnov
    distance between the realised angles and ``law`` (at best
    :math:`1/(2n)` for n points).
    """
    if not isinstance(law, AngleLaw):
        raise TypeError(f"law must be an AngleLaw (see angle_law), got {type(law).__name__}")
    s = midpoints(n)
    v = tilted_start(polar, (0, 1))
    phase = realize_on_orbit(law.quantile)
    X = phase_field(v, phase, s)
    angles = orbit_angles(X, v)
    gap = relative_energy_gap(PhaseField(beta, phase), X, s)
    ks = kstest(angles, law.cdf).statistic
    return OrbitRealization(law, v, s, X, angles, float(gap), float(ks))


# --------------------------------------------------------------------------
# Target laws on the sphere (Thm. 4 (iii))
# --------------------------------------------------------------------------

#: The shapes :func:`sphere_target` offers.
SHAPES = ("spiral", "ring", "two caps", "word", "uniform")
#: Dimension of the prompt space :math:`[0,1]^k` of each shape (the word samples its own prompts).
PROMPT_DIMENSION = {"uniform": 2, "spiral": 1, "ring": 2, "two caps": 3}
#: Longitude and latitude (degrees) facing the book's default sphere view
#: (``usaav.plotting.CAMERA``: azimuth −58°, elevation 22°), so that the word
#: and the two caps are drawn where the reader looks.
FACING = (-58.0, 22.0)


def _spherical(lon, lat) -> np.ndarray:
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def _cap_points(centres, cos_polar, azimuth) -> np.ndarray:
    """Points at polar angle ``arccos(cos_polar)`` and azimuth ``azimuth`` about unit ``centres`` (row-wise)."""
    helper = np.where(np.abs(centres[:, [2]]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    e1 = helper - np.sum(helper * centres, axis=1, keepdims=True) * centres
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(centres, e1)
    sin_polar = np.sqrt(1 - cos_polar**2)[:, None]
    return cos_polar[:, None] * centres + sin_polar * (np.cos(azimuth)[:, None] * e1 + np.sin(azimuth)[:, None] * e2)


def _word_region(word: str, n: int, rng) -> np.ndarray:
    """``n`` points drawn uniformly from the glyphs of ``word`` (even-odd rule for the holes), unit height."""
    if not isinstance(word, str) or not word.strip():
        raise ValueError(f"word must contain visible characters, got {word!r}")
    try:
        from matplotlib.font_manager import FontProperties
        from matplotlib.path import Path
        from matplotlib.textpath import TextPath
    except ImportError as error:  # the glyph outlines come from matplotlib's fonts
        raise ImportError("the 'word' shape needs matplotlib for the glyph outlines: "
                          "pip install 'usaav[plot]'") from error
    glyphs = TextPath((0, 0), word, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold"))
    polygons = [Path(p) for p in glyphs.to_polygons(closed_only=True)]
    if not polygons:
        raise ValueError(f"word must contain visible characters, got {word!r}")
    box = glyphs.get_extents()
    points = np.empty((0, 2))
    while len(points) < n:
        trial = rng.uniform((box.x0, box.y0), (box.x1, box.y1), size=(4 * n, 2))
        inside = sum(p.contains_points(trial).astype(int) for p in polygons) % 2 == 1
        points = np.vstack([points, trial[inside]])
    points = points[:n]
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    return (points - centre) / box.height


def target_map(shape: str, p) -> np.ndarray:
    r"""The target map :math:`T:[0,1]^k\to\mathbb S^2` of a shape, applied to prompts ``p`` (the paper's Thm. 4 (iii)).

    Pushing the uniform law on the prompt space :math:`[0,1]^k` through
    :math:`T` gives the target law of the shape (see :func:`sphere_target`);
    ``k`` is ``PROMPT_DIMENSION[shape]``.  For ``"word"``, ``p`` holds
    points of the plane (the glyphs at unit height, centred), wrapped onto
    the sphere by longitude and latitude.

    Parameters
    ----------
    shape : str
        One of :data:`SHAPES`.
    p : (n, k) array_like
        Prompts in :math:`[0,1]^k` (``(n, 2)`` plane points for ``"word"``).

    Returns
    -------
    (n, 3) ndarray of unit vectors.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    p = np.asarray(p, dtype=np.float64)
    k = 2 if shape == "word" else PROMPT_DIMENSION[shape]
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"p must have shape (n, {k}) for the shape {shape!r}, got {p.shape}")
    azim, elev = np.radians(FACING)
    if shape == "uniform":
        # Archimedes: the height 2 p_1 - 1 of a uniform point on S^2 is uniform.
        return _spherical(2 * np.pi * p[:, 1], np.arcsin(2 * p[:, 0] - 1))
    if shape == "spiral":
        return _spherical(8 * np.pi * p[:, 0], (np.pi / 2 - 0.25) * (2 * p[:, 0] - 1))
    if shape == "ring":
        band = _spherical(2 * np.pi * p[:, 1], 0.15 * (p[:, 0] - 0.5))
        return band @ rotation(0.6, 3, (1, 2)).T
    if shape == "two caps":
        # Area-uniform cap of angular radius 0.35 about a centre c: cos(polar) uniform on [cos 0.35, 1].
        cos_polar = 1 - (1 - np.cos(0.35)) * p[:, 2]
        first = p[:, 0] < 0.5
        centres = np.where(first[:, None], _spherical(azim - 0.7, elev + 0.55), _spherical(azim + 0.8, elev - 0.75))
        return _cap_points(centres, cos_polar, 2 * np.pi * p[:, 1])
    width = np.ptp(p[:, 0]) if len(p) else 0.0
    scale = min(0.6, 2.4 / max(width, 1e-9))
    return _spherical(azim + scale * p[:, 0], elev * 0.6 + scale * p[:, 1])


def sphere_target(shape: str, n: int, rng, *, word: str = "USA-AV") -> np.ndarray:
    r"""``n`` target points :math:`T(p_i)` for prompts :math:`p_i` drawn from a nonatomic law (the paper's Thm. 4 (iii)).

    Each shape is a measurable map :math:`T` (:func:`target_map`) from a
    prompt space with a nonatomic law :math:`\pi` to :math:`\mathbb S^2`; the
    prompts are drawn i.i.d. from :math:`\pi`, so the points are a sample of
    the target law :math:`T_\#\pi`:

    * ``"uniform"``: :math:`p\sim\mathrm{Unif}[0,1]^2`, Archimedes' map
      :math:`x_3=2p_1-1`, longitude :math:`2\pi p_2` (uniform on the sphere);
    * ``"spiral"``: :math:`p\sim\mathrm{Unif}[0,1]`, a spherical spiral of
      four turns from near the south pole to near the north pole;
    * ``"ring"``: :math:`p\sim\mathrm{Unif}[0,1]^2`, a band of width 0.15 rad
      around a tilted great circle;
    * ``"two caps"``: :math:`p\sim\mathrm{Unif}[0,1]^3`, one of two caps of
      angular radius 0.35 (each with probability 1/2), area-uniform in it;
    * ``"word"``: :math:`p` uniform on the glyphs of ``word`` in the plane
      (needs matplotlib for the glyph outlines), mapped to
      longitude/latitude facing the default camera.

    Examples
    --------
    >>> T = sphere_target("two caps", 100, rng=0)
    >>> T.shape, bool(np.allclose(np.linalg.norm(T, axis=1), 1))
    ((100, 3), True)
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    n = check_int(n, "n", minimum=1)
    rng = np.random.default_rng(rng)
    if shape == "word":
        return target_map("word", _word_region(word, n, rng))
    return target_map(shape, rng.uniform(size=(n, PROMPT_DIMENSION[shape])))


# --------------------------------------------------------------------------
# Finitely many prompts (Cor. 2)
# --------------------------------------------------------------------------

#: The gauge layouts :func:`prompt_gauges` offers.
PROMPT_LAYOUTS = ("random rotations", "phases in one plane", "random phases", "only two distinct gauges")


def prompt_gauges(m: int, layout: str, rng) -> np.ndarray:
    r"""``m`` orthogonal gauges :math:`G_0,\dots,G_{m-1}` in :math:`O(3)` (the paper's Cor. 2).

    ``layout`` is ``"random rotations"`` (Haar on SO(3), drawn by
    :func:`usaav.sphere.haar_rotations`, so a seed gives the same gauges with
    every SciPy version), ``"phases in one plane"`` (:math:`R^{(12)}_{2\pi p/m}`),
    ``"random phases"`` (:math:`R^{(12)}_{\varphi_p}`, :math:`\varphi_p`
    uniform, as in MODEL.md §6.1) or ``"only two distinct gauges"`` (the
    prompts alternate between two random rotations).

    Returns
    -------
    (m, 3, 3) ndarray

    Examples
    --------
    >>> G = prompt_gauges(6, "only two distinct gauges", rng=0)
    >>> G.shape, count_distinct(G)
    ((6, 3, 3), 2)
    """
    m = check_int(m, "m", minimum=1)
    if layout not in PROMPT_LAYOUTS:
        raise ValueError(f"layout must be one of {PROMPT_LAYOUTS}, got {layout!r}")
    rng = np.random.default_rng(rng)
    if layout == "phases in one plane":
        return rotation(2 * np.pi * np.arange(m) / m, 3, (0, 1))
    if layout == "random phases":
        return rotation(rng.uniform(0, 2 * np.pi, m), 3, (0, 1))
    count = m if layout == "random rotations" else 2
    Q = haar_rotations(count, 3, rng)
    return Q if layout == "random rotations" else Q[np.arange(m) % 2]


def count_distinct(gauges, tol: float = 1e-9) -> int:
    """Number of distinct matrices among ``gauges`` (entrywise, up to ``tol``).

    Cor. 2 counts clusters as distinct points :math:`G_p^\\top v`; distinct
    gauges give that many clusters unless two of them agree on ``v``.
    """
    G = check_orthogonal(gauges, "gauges")
    d = G.shape[-1]
    # An orthogonal d x d matrix has Frobenius norm sqrt(d): flattened and
    # divided by it, the gauges are unit vectors, which count_clusters takes.
    return count_clusters(G.reshape(len(G), -1) / np.sqrt(d), tol / np.sqrt(d))
