r"""Interactive explorers for the book (ipywidgets + matplotlib).

The pattern is one function, :func:`explore`: give it an ``update`` function
and the controls it takes as keywords; it returns a widget whose output area
is redrawn (only when a slider is released) with whatever ``update`` returns
— a figure, axes, text or any displayable object.

The explorers of chapters 1, 2 and 6 run in the reader's browser instead
(:mod:`usaav.explorers`); the ones here still compute in Python.

Examples
--------
>>> from usaav import widgets
>>> import ipywidgets
>>> import contextlib, io
>>> with contextlib.redirect_stdout(io.StringIO()):  # outside a kernel the output prints
...     box = widgets.explore(lambda k: f"k = {k}", k=ipywidgets.IntSlider(value=2, min=0, max=5))
>>> sorted(box.controls)
['k']
>>> box.update(k=3)
'k = 3'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.stats import special_ortho_group

from . import plotting
from .dynamics import simulate
from .kernels import RoPE, USA, DistanceBias, Gauge, PhaseField, Prompts, Toeplitz
from .labels import grid_positions
from .maximizers import gauge as gauge_maximizer
from .maximizers import gauge_for_targets, orbit_angles, phase_field, realize_on_orbit, rope
from .observables import collapse_gap, count_clusters, gauge_gap, relative_energy_gap, winding_number
from .plotting import CAMERA, PALETTE
from .sphere import rotation, uniform_sphere

__all__ = [
    "metastability_explorer",
    "metastability_figure",
    "show_table",
    "show_verdicts",
    "ANGLE_LAWS",
    "AngleLaw",
    "KERNEL_CHOICES",
    "OrbitRealization",
    "PLANES",
    "PROMPT_LAYOUTS",
    "SHAPES",
    "angle_law",
    "count_distinct",
    "explore",
    "latitude_explorer",
    "latitude_figure",
    "orbit_law_explorer",
    "plot_realization",
    "plot_realizations",
    "prompt_gauges",
    "prompt_law_explorer",
    "prompt_law_figure",
    "prompts_explorer",
    "prompts_figure",
    "realize_law",
    "scenario",
    "sphere_target",
    "tilted_start",
    "toeplitz_explorer",
    "toeplitz_figure",
    "user_quantile",
]


# --------------------------------------------------------------------------
# The pattern
# --------------------------------------------------------------------------


def _control(name, value):
    if isinstance(value, ipw.ValueWidget):
        widget = value
    else:
        widget = ipw.interactive.widget_from_abbrev(value)
        if widget is None:
            raise TypeError(f"control {name!r} must be an ipywidgets widget or an abbreviation, got {value!r}")
    if not widget.description:
        widget.description = name
    if hasattr(widget, "continuous_update"):
        widget.continuous_update = False
    widget.style.description_width = "initial"
    widget.layout.margin = "2px 16px 2px 0px"
    return widget


def _show(result) -> None:
    """Display what an update returned; close figures so nothing is shown twice."""
    if result is None:
        return
    if isinstance(result, Axes):
        result = result.figure
    if isinstance(result, Figure):
        display(result)
        plt.close(result)
    elif isinstance(result, (tuple, list)):
        for item in result:
            _show(item)
    elif isinstance(result, str):
        print(result)
    else:
        display(result)


def explore(update: Callable, /, **controls) -> ipw.VBox:
    """An explorer: controls on top, the output of ``update(**values)`` below.

    Parameters
    ----------
    update : callable
        Called with one keyword per control; returns a figure, axes, string,
        any displayable object, or a tuple of those (displayed in order).
        Figures are closed after display.
    **controls : ipywidgets.ValueWidget or abbreviation
        ``name=widget`` (e.g. ``beta=FloatSlider(...)``) or an
        ``ipywidgets.interact`` abbreviation such as ``(0.0, 5.0, 0.5)`` or a
        list of options.  Sliders update on release only.

    Returns
    -------
    ipywidgets.VBox
        Also carries ``.controls`` (name → widget), ``.output`` (the Output
        widget) and ``.update`` (the raw ``update`` function, for timing).
    """
    if not callable(update):
        raise TypeError(f"update must be callable, got {type(update).__name__}")
    if not controls:
        raise TypeError("explore needs at least one control")
    widgets = {name: _control(name, value) for name, value in controls.items()}

    def redraw(**values):
        _show(update(**values))

    output = ipw.interactive_output(redraw, widgets)
    layout = ipw.Layout(flex_flow="row wrap")
    box = ipw.VBox([ipw.HBox(list(widgets.values()), layout=layout), output])
    box.controls = widgets
    box.output = output
    box.update = update
    return box


# --------------------------------------------------------------------------
# Scenarios: kernels with their labels and colour values (MODEL.md §3, §6)
# --------------------------------------------------------------------------

KERNEL_CHOICES = ("baseline", "RoPE", "prompts", "distance bias")
GALLERY = ("baseline", "distance bias", "Toeplitz", "RoPE", "generalized RoPE", "prompts")


def _generalized_rope_gauge(alpha: float = 0.6, m: int = 3):
    r"""Gauge :math:`G(s)=R^{(12)}_{2\pi s}R^{(13)}_{\alpha\sin(2\pi m s)}` (MODEL.md §3, §6.2 (v))."""

    def gauge(s):
        s = np.asarray(s, dtype=np.float64)
        return rotation(2 * np.pi * s, 3, (0, 1)) @ rotation(alpha * np.sin(2 * np.pi * m * s), 3, (0, 2))

    return gauge


def scenario(name: str, beta: float, n: int, seed: int, *, prompts: int = 4):
    """Kernel, labels and colour values for one of the book's standard set-ups.

    Parameters
    ----------
    name : str
        One of ``"baseline"`` (USA, Ex. 1), ``"distance bias"`` (exponential
        profile, length 0.1; Ex. 4), ``"Toeplitz"`` (:math:`c(r)=0.2+\\cos 4\\pi r`;
        Prop. 10), ``"RoPE"`` (:math:`\\theta=2\\pi`; Thm. 1),
        ``"generalized RoPE"`` (MODEL.md §3) or ``"prompts"`` (``prompts``
        fixed prompts with gauges :math:`R^{(12)}_{\\varphi_p}`, phases drawn
        from ``seed``; Cor. 2).
    beta : float
    n : int
        Number of particles.
    seed : int
        Seed of the prompt phases.
    prompts : int
        Number of prompts for ``"prompts"``.

    Returns
    -------
    (kernel, aux, values)
        ``values`` colour the particles: positions, or prompt ids.
    """
    positions = grid_positions(n)
    if name == "baseline":
        return USA(beta), positions, positions
    if name == "distance bias":
        return DistanceBias(beta, 0.1), positions, positions
    if name == "Toeplitz":
        return Toeplitz({0: 0.2, 2: 1.0}), positions, positions
    if name == "RoPE":
        return RoPE(beta, 2 * np.pi), positions, positions
    if name == "generalized RoPE":
        return Gauge(beta, _generalized_rope_gauge()), positions, positions
    if name == "prompts":
        rng = np.random.default_rng(seed)
        phases = rng.uniform(0, 2 * np.pi, prompts)
        ids = np.arange(n) % prompts
        return Prompts(beta, rotation(phases, 3, (0, 1))), ids, ids.astype(float)
    raise ValueError(f"name must be one of {GALLERY}, got {name!r}")


# ==========================================================================
# Chapters 3-5: the theorems, live (MODEL.md §4)
# ==========================================================================
#
# Target laws and shapes below are *inputs* the reader picks; the
# realisations themselves come from usaav.maximizers and are checked with
# usaav.observables.

#: Rotation planes of S^2 offered to the reader, label -> (i, j).
PLANES = {"(x₁, x₂)": (0, 1), "(x₁, x₃)": (0, 2), "(x₂, x₃)": (1, 2)}


def _midpoints(n: int) -> np.ndarray:
    """Positions :math:`s_i=(i+\\tfrac12)/n`: the n-point grid closest to Unif[0, 1] in Kolmogorov distance."""
    return (np.arange(n) + 0.5) / n


def tilted_start(polar: float, plane=(0, 1)) -> np.ndarray:
    r"""Unit vector :math:`v\in\mathbb S^2` at angle ``polar`` from the rotation axis of ``plane``.

    For ``plane = (i, j)`` and :math:`k` the remaining axis,
    :math:`v=\cos\vartheta\,e_k+\sin\vartheta\,e_i`.  Its orbit
    :math:`\{R_\alpha v\}` under rotations in ``plane`` is the circle at
    polar angle :math:`\vartheta` about :math:`e_k` (seed Cor. 1: the
    latitude circle when ``plane = (0, 1)``).
    """
    i, j = plane
    (k,) = {0, 1, 2} - {i, j}
    v = np.zeros(3)
    v[k] = np.cos(polar)
    v[i] = np.sin(polar)
    return v


def _axis_of(plane) -> int:
    (k,) = {0, 1, 2} - set(plane)
    return k


def latitude_figure(polar: float, theta: float, plane=(0, 1), *, n: int = 240, beta: float = 1.0):
    r"""The RoPE maximiser :math:`x(s)=R_{-\theta s}v` of Thm. 1 / Cor. 1, drawn and checked.

    Returns ``(figure, text)``: the points coloured by position ``s``, the
    start vector ``v`` (black star) and the rotation axis (dashed), and a
    line with the relative energy gap and the spread of the height along the
    axis (both 0 up to round-off).
    """
    plane = tuple(plane)
    s = grid_positions(n)
    v = tilted_start(polar, plane)
    X = rope(v, theta, s, plane)
    gap = relative_energy_gap(RoPE(beta, theta, plane), X, s)
    k = _axis_of(plane)
    ax = plotting.sphere_axes(title=f"ϑ = {np.degrees(polar):.0f}°, θ = {theta / np.pi:.2f}π")
    axis = np.zeros((2, 3))
    axis[:, k] = (-1.25, 1.25)
    ax.plot(*axis.T, color="#444444", lw=1, ls="--")
    plotting.plot_points(X, ax, values=s, size=14, vmin=0, vmax=1)
    ax.scatter(*v, marker="*", s=160, color="black", depthshade=False, zorder=5)
    height = X[:, k]
    text = (f"relative energy gap (E_max − E)/E_max = {gap:.1e};  height along the axis: "
            f"cos ϑ = {np.cos(polar):+.3f}, spread {np.ptp(height):.1e}")
    return ax.figure, text


def latitude_explorer(*, polar_deg: float = 60.0, theta_over_pi: float = 2.0, plane: str = "(x₁, x₂)",
                      n: int = 240, beta: float = 1.0) -> ipw.VBox:
    """Cor. 1 live: choose the polar angle ϑ of ``v``, the RoPE frequency θ and the rotation plane.

    Returns
    -------
    ipywidgets.VBox (see :func:`explore`).
    """
    def update(polar_deg, theta_over_pi, plane):
        return latitude_figure(np.radians(polar_deg), np.pi * theta_over_pi, PLANES[plane], n=n, beta=beta)

    return explore(
        update,
        polar_deg=ipw.FloatSlider(value=polar_deg, min=0, max=180, step=5, description="ϑ (degrees)"),
        theta_over_pi=ipw.FloatSlider(value=theta_over_pi, min=0.25, max=4, step=0.25, description="θ / π"),
        plane=ipw.Dropdown(options=list(PLANES), value=plane, description="rotation plane"),
    )


@dataclass(frozen=True, eq=False)
class AngleLaw:
    r"""A target law :math:`\nu` for the orbit angle, tabulated on :math:`[-\pi,\pi]` (seed Thm. 2 (ii)).

    Attributes
    ----------
    name : str
    grid : (m,) ndarray
        Increasing angles from :math:`-\pi` to :math:`\pi`.
    cdf_values : (m,) ndarray
        :math:`F(\alpha)=\nu((-\pi,\alpha])` on ``grid`` (nondecreasing, 0 to 1).
    density_values : (m,) ndarray
        The density on ``grid`` (for plotting).
    exact_quantile : callable or None
        The quantile function when the reader typed one.
    sample : (N,) ndarray or None
        Sorted reference sample :math:`Q(u_k)` on a fine grid :math:`u_k`
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


ANGLE_LAWS = ("uniform arc", "von Mises", "bimodal mixture", "your quantile")
_SAFE_NAMES = {name: getattr(np, name) for name in
               ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "exp", "log", "sqrt", "abs", "where",
                "minimum", "maximum", "clip", "floor", "sign", "tanh")}


def _wrap(alpha):
    return np.angle(np.exp(1j * np.asarray(alpha, dtype=np.float64)))


def _von_mises(alpha, centre, kappa):
    # Unnormalised; normalised by the caller on the grid.
    return np.exp(kappa * (np.cos(alpha - centre) - 1.0))


def user_quantile(expression: str) -> Callable:
    r"""Turn a formula in ``s`` (e.g. ``"pi * (2*s - 1)**3"``) into a quantile function.

    Only arithmetic, ``s``, ``pi`` and a few NumPy functions (``sin``,
    ``exp``, ``sqrt``, ``where``, ...) are available.

    Raises
    ------
    ValueError
        If the formula does not evaluate to finite angles of the right shape.
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("expression must be a non-empty formula in s")
    code = compile(expression, "<quantile>", "eval")

    def quantile(s):
        s = np.asarray(s, dtype=np.float64)
        values = eval(code, {"__builtins__": {}}, {**_SAFE_NAMES, "pi": np.pi, "s": s})  # noqa: S307
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), s.shape)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"the quantile {expression!r} gives non-finite angles")
        return values

    quantile(np.linspace(0.0005, 0.9995, 5))  # fail early, with the reader's formula in the message
    return quantile


def angle_law(name: str, width: float = 0.4, expression: str = "pi * (2*s - 1)**3", *,
              points: int = 4097) -> AngleLaw:
    r"""One of the target laws :data:`ANGLE_LAWS` for the orbit angle (seed Thm. 2 (ii)).

    Parameters
    ----------
    name : str
        ``"uniform arc"`` (uniform on :math:`[-w\pi, w\pi]`), ``"von Mises"``
        (centre 0, circular spread about :math:`w\pi/2`), ``"bimodal mixture"``
        (two von Mises bumps at :math:`-2\pi/3` and :math:`\pi/3`, masses
        0.35 and 0.65), or ``"your quantile"`` (the law of
        :math:`Q(U)`, :math:`U\sim\mathrm{Unif}[0,1]`, for the formula
        ``expression``).
    width : float
        :math:`w\in(0,1]`, the width of the first three laws.
    expression : str
        Formula of :math:`Q(s)` for ``"your quantile"``.
    points : int
        Size of the angle grid.
    """
    if name not in ANGLE_LAWS:
        raise ValueError(f"name must be one of {ANGLE_LAWS}, got {name!r}")
    if not 0 < width <= 1:
        raise ValueError(f"width must be in (0, 1], got {width!r}")
    grid = np.linspace(-np.pi, np.pi, points)
    if name == "your quantile":
        quantile = user_quantile(expression)
        fine = np.sort(_wrap(quantile(_midpoints(20000))))
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
        bumps = [b / np.trapezoid(b, grid) for b in bumps]
        density = 0.35 * bumps[0] + 0.65 * bumps[1]
        label = "bimodal mixture"
    density = density / np.trapezoid(density, grid)
    cdf = np.r_[0.0, np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))]
    cdf /= cdf[-1]
    return AngleLaw(label, grid, cdf, density)


@dataclass(frozen=True, eq=False)
class OrbitRealization:
    """A target law realised on an orbit by a phase-field maximiser (seed Thm. 2 (ii)); see :func:`realize_law`."""

    law: AngleLaw
    v: np.ndarray
    positions: np.ndarray
    X: np.ndarray
    angles: np.ndarray
    energy_gap: float
    ks_distance: float


def realize_law(law: AngleLaw, *, n: int = 400, polar: float = np.pi / 3, beta: float = 1.0) -> OrbitRealization:
    r"""Realise ``law`` on the orbit of ``v`` with the phase :math:`\phi=-Q` (seed Thm. 2 (ii)).

    Builds the phase with :func:`usaav.maximizers.realize_on_orbit`, the
    maximiser :math:`x(s_i)=R_{Q(s_i)}v` with
    :func:`usaav.maximizers.phase_field` at :math:`s_i=(i+\frac12)/n`,
    reads the angles back from the points
    (:func:`usaav.maximizers.orbit_angles`), and measures the relative
    energy gap of the phase-field kernel and the Kolmogorov–Smirnov
    distance between the realised angles and ``law`` (at best
    :math:`1/(2n)` for n points).
    """
    from scipy.stats import kstest

    s = _midpoints(n)
    v = tilted_start(polar, (0, 1))
    phase = realize_on_orbit(law.quantile)
    X = phase_field(v, phase, s)
    angles = orbit_angles(X, v)
    gap = relative_energy_gap(PhaseField(beta, phase), X, s)
    ks = kstest(angles, law.cdf).statistic
    return OrbitRealization(law, v, s, X, angles, float(gap), float(ks))


def plot_realization(result: OrbitRealization, ax_sphere=None, ax_hist=None, *, bins: int = 36):
    """A realisation on the sphere (coloured by position, orbit in grey) next to a histogram of its angles.

    With both axes omitted a two-panel figure is made; with only ``ax_hist``
    given, only the histogram (against the target density) is drawn.
    Returns the figure.
    """
    if ax_sphere is None and ax_hist is None:
        fig = plt.figure(figsize=(7.6, 3.4), layout="constrained")
        ax_sphere = fig.add_subplot(1, 2, 1, projection="3d")
        ax_hist = fig.add_subplot(1, 2, 2)
    if ax_sphere is not None:
        plotting.sphere_axes(ax_sphere, bare=True)
        orbit = rotation(np.linspace(-np.pi, np.pi, 181), 3) @ result.v
        ax_sphere.plot(*orbit.T, color="#777777", lw=0.8)
        plotting.plot_points(result.X, ax_sphere, values=result.positions, size=9, vmin=0, vmax=1)
    if ax_hist is not None:
        ax_hist.hist(result.angles, bins=bins, range=(-np.pi, np.pi), density=True, color=PALETTE.sky,
                     edgecolor="white", lw=0.4, label=f"{len(result.angles)} realised angles")
        ax_hist.plot(result.law.grid, result.law.density_values, color=PALETTE.vermillion, lw=1.8,
                     label="target density")
        ax_hist.set_xlim(-np.pi, np.pi)
        ax_hist.set_xticks(np.pi * np.array([-1, -0.5, 0, 0.5, 1]), ["−π", "−π/2", "0", "π/2", "π"])
        ax_hist.set_xlabel("angle α on the orbit, x = R_α v")
        ax_hist.set_title(f"{result.law.name}\nKS = {result.ks_distance:.1e}", fontsize=plotting.TITLE_SIZE - 1)
        ax_hist.legend(fontsize=8, frameon=True, framealpha=0.85, edgecolor="none", loc="upper left")
    return (ax_sphere if ax_sphere is not None else ax_hist).figure


def plot_realizations(results, *, ncols: int = 2):
    """Histograms of several realisations against their target densities, as small multiples."""
    results = list(results)
    nrows = -(-len(results) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.0 * nrows), layout="constrained", squeeze=False)
    for ax, result in zip(axes.flat, results):
        plot_realization(result, ax_hist=ax)
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    return fig


def orbit_law_explorer(*, law: str = "bimodal mixture", width: float = 0.4,
                       expression: str = "pi * (2*s - 1)**3", n: int = 400) -> ipw.VBox:
    """Thm. 2 (ii) live: pick a target law on the orbit; see it realised exactly by a maximiser.

    Returns
    -------
    ipywidgets.VBox (see :func:`explore`).
    """
    def update(law, width, expression):
        try:
            target = angle_law(law, width, expression)
        except (ValueError, SyntaxError, NameError, TypeError) as error:
            return f"Cannot use this quantile: {error}"
        result = realize_law(target, n=n)
        text = (f"n = {n}: relative energy gap = {result.energy_gap:.1e}, KS distance = "
                f"{result.ks_distance:.2e} (smallest possible for {n} points: 1/(2n) = {0.5 / n:.2e})")
        return plot_realization(result), text

    return explore(
        update,
        law=ipw.Dropdown(options=ANGLE_LAWS, value=law, description="target law"),
        width=ipw.FloatSlider(value=width, min=0.1, max=1.0, step=0.05, description="width w"),
        expression=ipw.Text(value=expression, description="Q(s) =", continuous_update=False),
    )


# --------------------------------------------------------------------------
# Chapter 4: prompts (Thm. 4 (iii), Cor. 2)
# --------------------------------------------------------------------------

SHAPES = ("spiral", "ring", "two caps", "word", "uniform")


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
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    if not isinstance(word, str) or not word.strip():
        raise ValueError(f"word must contain visible characters, got {word!r}")
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


def sphere_target(shape: str, n: int, rng, *, word: str = "USA-AV") -> np.ndarray:
    r"""``n`` target points :math:`T(p_i)` for prompts :math:`p_i` drawn from a nonatomic law (seed Thm. 4 (iii)).

    Each shape is a measurable map :math:`T` from a prompt space with a
    nonatomic law :math:`\pi` to :math:`\mathbb S^2`; the prompts are drawn
    i.i.d. from :math:`\pi`, so the points are a sample of the target law
    :math:`T_\#\pi`:

    * ``"uniform"``: :math:`p\sim\mathrm{Unif}[0,1]^2`, Archimedes' map
      :math:`x_3=2p_1-1`, longitude :math:`2\pi p_2` (uniform on the sphere);
    * ``"spiral"``: :math:`p\sim\mathrm{Unif}[0,1]`, a spherical spiral of
      four turns from near the south pole to near the north pole;
    * ``"ring"``: :math:`p\sim\mathrm{Unif}[0,1]^2`, a band of width 0.15 rad
      around a tilted great circle;
    * ``"two caps"``: :math:`p\sim\mathrm{Unif}[0,1]^3`, one of two caps of
      angular radius 0.35 (each with probability 1/2), area-uniform in it;
    * ``"word"``: :math:`p` uniform on the glyphs of ``word`` in the plane,
      mapped to longitude/latitude facing the default camera.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    rng = np.random.default_rng(rng)
    if shape == "uniform":
        p = rng.uniform(size=(n, 2))
        z = 2 * p[:, 0] - 1
        return _spherical(2 * np.pi * p[:, 1], np.arcsin(z))
    if shape == "spiral":
        p = rng.uniform(size=n)
        return _spherical(8 * np.pi * p, (np.pi / 2 - 0.25) * (2 * p - 1))
    if shape == "ring":
        p = rng.uniform(size=(n, 2))
        band = _spherical(2 * np.pi * p[:, 1], 0.15 * (p[:, 0] - 0.5))
        return band @ rotation(0.6, 3, (1, 2)).T
    if shape == "two caps":
        p = rng.uniform(size=(n, 3))
        # Area-uniform cap of angular radius 0.35 about a centre c: cos(polar) uniform on [cos 0.35, 1].
        cos_polar = 1 - (1 - np.cos(0.35)) * p[:, 2]
        first = p[:, 0] < 0.5
        azim, elev = np.radians(CAMERA.azim), np.radians(CAMERA.elev)
        centres = np.where(first[:, None], _spherical(azim - 0.7, elev + 0.55), _spherical(azim + 0.8, elev - 0.75))
        return _cap_points(centres, cos_polar, 2 * np.pi * p[:, 1])
    flat = _word_region(word, n, rng)
    width = np.ptp(flat[:, 0])
    scale = min(0.6, 2.4 / max(width, 1e-9))
    lon = np.radians(CAMERA.azim) + scale * flat[:, 0]
    lat = np.radians(CAMERA.elev) * 0.6 + scale * flat[:, 1]
    return _spherical(lon, lat)


def prompt_law_figure(shape: str, *, n: int = 800, word: str = "USA-AV", seed: int = 0, beta: float = 1.0, ax=None):
    r"""Thm. 4 (ii)–(iii): the maximiser :math:`x_p=G_p^\top v` for Householder gauges built from a target shape.

    Returns ``(axes, text)``; the text gives the relative energy gap of the
    prompt kernel at this configuration and :math:`\max_p|G_p^\top v-T_p|`.
    """
    T = sphere_target(shape, n, seed, word=word)
    v = np.array([0.0, 0.0, 1.0])
    G = gauge_for_targets(v, T)
    X = gauge_maximizer(v, G)
    ids = np.arange(n)
    gap = relative_energy_gap(Prompts(beta, G), X, ids)
    ax = plotting.plot_points(X, ax, color=PALETTE.blue, size=6, title=shape)
    text = (f"{n} prompts: relative energy gap = {gap:.1e}, max |G_pᵀ v − T_p| = {np.max(np.abs(X - T)):.1e}")
    return ax, text


def prompt_law_explorer(*, shape: str = "word", word: str = "USA-AV", n: int = 800) -> ipw.VBox:
    """Thm. 4 (iii) live: a prompt law realising a target law on the sphere picked by the reader."""
    def update(shape, word, n):
        try:
            return prompt_law_figure(shape, n=n, word=word)
        except ValueError as error:
            return str(error)

    return explore(
        update,
        shape=ipw.Dropdown(options=SHAPES, value=shape, description="target law"),
        word=ipw.Text(value=word, description="word", continuous_update=False),
        n=ipw.IntSlider(value=n, min=100, max=1600, step=100, description="prompts"),
    )


PROMPT_LAYOUTS = ("random rotations", "phases in one plane", "random phases", "only two distinct gauges")


def prompt_gauges(m: int, layout: str, rng) -> np.ndarray:
    r"""``m`` orthogonal gauges :math:`G_0,\dots,G_{m-1}` in :math:`O(3)` (seed Cor. 2).

    ``layout`` is ``"random rotations"`` (Haar on SO(3), drawn by
    :data:`scipy.stats.special_ortho_group`), ``"phases in one plane"`` (:math:`R^{(12)}_{2\pi p/m}`),
    ``"random phases"`` (:math:`R^{(12)}_{\varphi_p}`, :math:`\varphi_p`
    uniform, as in MODEL.md §6.1) or ``"only two distinct gauges"`` (the
    prompts alternate between two random rotations).
    """
    if layout not in PROMPT_LAYOUTS:
        raise ValueError(f"layout must be one of {PROMPT_LAYOUTS}, got {layout!r}")
    rng = np.random.default_rng(rng)
    if layout == "phases in one plane":
        return rotation(2 * np.pi * np.arange(m) / m, 3, (0, 1))
    if layout == "random phases":
        return rotation(rng.uniform(0, 2 * np.pi, m), 3, (0, 1))
    count = m if layout == "random rotations" else 2
    Q = special_ortho_group.rvs(3, size=count, random_state=rng).reshape(count, 3, 3)  # Haar on SO(3)
    return Q if layout == "random rotations" else Q[np.arange(m) % 2]


def count_distinct(gauges, tol: float = 1e-9) -> int:
    """Number of distinct matrices among ``gauges`` (entrywise, up to ``tol``)."""
    G = np.asarray(gauges, dtype=np.float64)
    return count_clusters(G.reshape(len(G), -1), tol)


def prompts_figure(m: int, layout: str, *, per_prompt: int = 24, beta: float = 1.0, seed: int = 0,
                   t_max: float = 30.0):
    r"""Cor. 2: simulate ``m`` fixed prompts from a uniform cloud; count the final clusters.

    Returns ``(figure, text)``.  The final cloud is coloured by prompt id; the
    right panel shows the collapse gap (original frame) and the gauge-frame
    gap over time.
    """
    G = prompt_gauges(m, layout, seed)
    kernel = Prompts(beta, G)
    ids = np.repeat(np.arange(m), per_prompt)
    run = simulate(kernel, uniform_sphere(len(ids), 3, seed), ids, t_max, dt=0.05, record_every=10,
                   stop_tol=1e-12)
    final = run.final
    fig = plt.figure(figsize=(8.4, 3.6), layout="constrained")
    ax = plotting.sphere_axes(fig.add_subplot(1, 2, 1, projection="3d"))
    plotting.plot_points(final, ax, values=ids.astype(float), cmap="tab10", vmin=-0.5, vmax=9.5, size=16,
                         title=f"{m} prompts, t = {run.t[-1]:.1f}")
    plotting.plot_series(run.t, {"collapse gap Γ": collapse_gap(run.X),
                                 "gauge-frame gap": gauge_gap(kernel, run.X, ids)},
                         ax=fig.add_subplot(1, 2, 2), ylabel="gap", floor=1e-17)
    text = (f"{m} prompts, {count_distinct(G)} distinct gauges → {count_clusters(final)} clusters; "
            f"relative energy gap = {relative_energy_gap(kernel, final, ids):.1e}")
    return fig, text


def prompts_explorer(*, m: int = 4, layout: str = "random rotations", seed: int = 0) -> ipw.VBox:
    """Cor. 2 live: the number and layout of the prompts decide the number of clusters."""
    def update(m, layout, seed):
        return prompts_figure(m, layout, seed=seed)

    return explore(
        update,
        m=ipw.IntSlider(value=m, min=1, max=10, description="prompts m"),
        layout=ipw.Dropdown(options=PROMPT_LAYOUTS, value=layout, description="gauges"),
        seed=ipw.IntSlider(value=seed, min=0, max=20, description="seed"),
    )


# --------------------------------------------------------------------------
# Chapter 5: Toeplitz kernels (Prop. 10)
# --------------------------------------------------------------------------


def toeplitz_figure(coefficients: dict, *, n: int = 200, seed: int = 0, t_max: float = 60.0):
    r"""Prop. 10: simulate a Toeplitz kernel and compare with the winning Fourier mode :math:`k^*`.

    Returns ``(figure, text)``: the final curve coloured by position, the
    spectrum :math:`\hat c(k)` with :math:`k^*` highlighted, and the energy
    against the bound :math:`\frac12\max_k\hat c(k)`.
    """
    kernel = Toeplitz({k: c for k, c in coefficients.items() if c != 0} or {0: 0.0})
    s = grid_positions(n)
    run = simulate(kernel, uniform_sphere(n, 3, seed), s, t_max, dt=0.05, record_every=20)
    spectrum = {0: 0.0, **kernel.fourier()}
    winner = max(spectrum, key=lambda k: (spectrum[k], -k))
    fig = plt.figure(figsize=(11.0, 3.4), layout="constrained")
    ax = plotting.sphere_axes(fig.add_subplot(1, 3, 1, projection="3d"), bare=True)
    plotting.plot_points(run.final, ax, values=s, size=9, vmin=0, vmax=1, title=f"t = {run.t[-1]:g}")
    ks = sorted(set(spectrum) | set(coefficients))  # zero coefficients shown as empty bars
    spectrum = {k: spectrum.get(k, 0.0) for k in ks}
    bars = fig.add_subplot(1, 3, 2)
    bars.bar(ks, [spectrum[k] for k in ks], color=[PALETTE.vermillion if k == winner else PALETTE.sky for k in ks])
    bars.set_xticks(ks)
    bars.set_xlabel("frequency k")
    bars.set_ylabel("ĉ(k)")
    bars.set_title(f"spectrum, k* = {winner}", fontsize=plotting.TITLE_SIZE)
    bars.axhline(0, color="#777777", lw=0.6)
    series = fig.add_subplot(1, 3, 3)
    series.plot(run.t, run.energy, color=PALETTE.blue, lw=1.8, label="$E_n(t)$")
    series.axhline(kernel.energy_bound(), color=PALETTE.vermillion, ls="--", lw=1.2, label="max ĉ / 2")
    series.set_xlabel("$t$")
    series.legend(frameon=False, fontsize=9)
    series.set_title("energy", fontsize=plotting.TITLE_SIZE)
    sv = np.linalg.svd(run.final, compute_uv=False)
    text = (f"k* = {winner}; E(t_max) = {run.energy[-1]:.6f} vs bound {kernel.energy_bound():.6f}; "
            f"winding number {abs(winding_number(run.final, s)):.0f}; singular values {np.array2string(sv, precision=2)}")
    return fig, text


def toeplitz_explorer(*, c0: float = 0.2, c1: float = 0.0, c2: float = 1.0, c3: float = 0.0) -> ipw.VBox:
    r"""Prop. 10 live: choose :math:`c(r)=c_0+c_1\cos2\pi r+c_2\cos4\pi r+c_3\cos6\pi r`; the largest :math:`\hat c(k)` wins."""
    def update(c0, c1, c2, c3):
        return toeplitz_figure({0: c0, 1: c1, 2: c2, 3: c3})

    slider = dict(min=0.0, max=1.0, step=0.05)
    return explore(
        update,
        c0=ipw.FloatSlider(value=c0, description="c₀", **slider),
        c1=ipw.FloatSlider(value=c1, description="c₁", **slider),
        c2=ipw.FloatSlider(value=c2, description="c₂", **slider),
        c3=ipw.FloatSlider(value=c3, description="c₃", **slider),
    )


# --------------------------------------------------------------------------
# Tables of numbers on a page
# --------------------------------------------------------------------------


def show_table(header, rows) -> None:
    """Display rows of formatted cells as a Markdown table (first column left, others right)."""
    def cell(text):
        return str(text).replace("|", r"\|")  # a bare | would end the cell
    rule = "|:---|" + "---:|" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", rule]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    display(Markdown("\n".join(lines)))


def show_verdicts(result) -> None:
    """The paper's predictions checked by an experiment ``result``, as a table with PASS/FAIL."""
    show_table(["prediction", "measured", "threshold", "source", "verdict"],
               [[v.name, f"{v.value:.3g}", f"{v.relation} {v.threshold:.3g}",
                 v.reference, "**PASS**" if v.passed else "**FAIL**"]
                for v in result.verdicts()])


# --------------------------------------------------------------------------
# Chapter 7: metastability (Thm. 5)
# --------------------------------------------------------------------------


def metastability_figure(beta: float = 6.0, gap: float = 1.0, clusters: int = 2, *, cluster_size: int = 20,
                         seed: int = 0, dt: float = 0.1):
    r"""Thm. 5 in one run: clusters in caps of radius 0.05, ``gap`` radians apart, rescaled clock.

    Returns ``(figure, text)``: the angles between cluster centres against
    :math:`t'` (log axis), with the first merger :math:`T_1` (centres within
    0.1 rad) and the prediction of the reduced k-point flow.
    """
    from .experiments.metastability import metastability_piece

    run = metastability_piece(beta=beta, seed=seed, n_clusters=clusters, cluster_size=cluster_size,
                              cap_radius=0.05, separation=gap, dt=dt, merge_angle=0.1, record_every=2,
                              t_max=2000.0, until="first")
    T1, predicted = float(run["merger_times"][0]), float(run["T1_reduced"])
    fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    t = np.maximum(run["t"], dt)
    pairs = [(a, b) for a in range(clusters) for b in range(a + 1, clusters)]  # the run's pair order
    for k, ((a, b), angles) in enumerate(zip(pairs, run["centre_angles"])):
        ax.plot(t, angles, color=PALETTE[k], label=f"centres {a + 1}–{b + 1}")
    ax.axvline(predicted, color="black", linestyle=":", label=f"reduced flow: {predicted:.1f}")
    if np.isfinite(T1):
        ax.axvline(T1, color=PALETTE[3], linestyle="--", label=f"first merger $T_1$ = {T1:.1f}")
    ax.set_xscale("log")
    ax.set_xlabel("rescaled time $t'$")
    ax.set_ylabel("angle between centres (rad)")
    ax.set_title(f"β = {beta:g}, Δ = {gap:g}, {clusters} clusters")
    ax.legend(loc="lower left", fontsize="small")
    text = (f"T1 = {T1:.2f} (reduced {clusters}-point flow: {predicted:.2f}); "
            f"β(1 - cos Δ) = {beta * (1 - np.cos(gap)):.2f}")
    return fig, text


def metastability_explorer(*, beta: float = 6.0, gap: float = 1.0, clusters: int = 2) -> ipw.VBox:
    """Thm. 5 live: the first merger time grows like e^{β(1 - cos Δ)} with β and the gap Δ."""
    return explore(
        metastability_figure,
        beta=ipw.FloatSlider(value=beta, min=2.0, max=10.0, step=1.0, description="β"),
        gap=ipw.FloatSlider(value=gap, min=0.6, max=1.2, step=0.1, description="gap Δ (rad)"),
        clusters=ipw.IntSlider(value=clusters, min=2, max=3, description="clusters"),
    )
