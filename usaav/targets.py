r"""Target laws the reader picks: angles on an orbit and shapes on the sphere.

The theorems of MODEL.md §4 say that a maximiser can realise *any* target
law — on the orbit of a vector for a phase field (Thm. 2 (ii)), anywhere on
the sphere for prompts (Thm. 4 (ii)–(iii)).  This module holds the targets
themselves; the realisations come from :mod:`usaav.maximizers` and are
checked with :mod:`usaav.observables`.  The browser explorers use the same
laws, written again in ``usaav/web/targets.js`` and tested against this
module.

* :func:`angle_law` / :data:`ANGLE_LAWS`: laws of the orbit angle
  (:class:`AngleLaw`), including a quantile function the reader types as a
  formula (:func:`user_quantile`, read by the safe parser of
  :mod:`usaav.formula` — never ``eval``);
* :func:`realize_law`: Thm. 2 (ii) carried out, with its energy gap and
  Kolmogorov–Smirnov distance (:class:`OrbitRealization`);
* :func:`tilted_start`: the start vector :math:`v` at a polar angle (Cor. 1);
* :func:`target_map`, :func:`sphere_target` / :data:`SHAPES`: target maps
  :math:`T` from a nonatomic prompt law to :math:`\mathbb S^2` (Thm. 4 (iii)).

The prompt gauges of Cor. 2 are in :mod:`usaav.gauges`.

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

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.integrate import trapezoid
from scipy.stats import kstest

from ._validation import check_array_bytes, check_int, check_plane
from .formula import Formula, parse_formula
from .gauges import PROMPT_LAYOUTS, count_distinct, prompt_gauges  # reachable here too, see below
from .kernels import PhaseField
from .maximizers import orbit_angles, phase_field, realize_on_orbit
from .observables import relative_energy_gap
from .sphere import rotation

# The prompt gauges of Cor. 2 live in usaav.gauges.  prompt_gauges, count_distinct and PROMPT_LAYOUTS stay
# reachable as attributes of this module (not in __all__, so documented once) because the book's chapter 4
# and the explorers' options call them through usaav.targets.

__all__ = [
    "ANGLE_LAWS",
    "FACING",
    "SHAPES",
    "AngleLaw",
    "OrbitRealization",
    "angle_law",
    "midpoints",
    "realize_law",
    "sphere_target",
    "target_map",
    "tilted_start",
    "user_quantile",
]


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

    An ``n`` whose ``(n, 3)`` result would exceed the library's array budget
    (:data:`usaav._validation.MAX_ARRAY_BYTES`, 1 GiB) is refused with a
    ``ValueError`` before anything is drawn.

    Examples
    --------
    >>> T = sphere_target("two caps", 100, rng=0)
    >>> T.shape, bool(np.allclose(np.linalg.norm(T, axis=1), 1))
    ((100, 3), True)
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    n = check_int(n, "n", minimum=1)
    # The result's budget, checked before the prompts are drawn (the working arrays are a few times the result).
    check_array_bytes(3.0 * n, f"sphere_target({shape!r}, n={n}): the {n} x 3 target points")
    rng = np.random.default_rng(rng)
    if shape == "word":
        return target_map("word", _word_region(word, n, rng))
    return target_map(shape, rng.uniform(size=(n, PROMPT_DIMENSION[shape])))
