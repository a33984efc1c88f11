r"""Interactive explorers for the book (ipywidgets + matplotlib).

The pattern is one function, :func:`explore`: give it an ``update`` function
and the controls it takes as keywords; it returns a widget whose output area
is redrawn (only when a slider is released) with whatever ``update`` returns
— a figure, axes, text or any displayable object.

Two rules keep the explorers usable in a live kernel *and* on the static web
page:

* every update runs in well under half a second at the default sizes (the
  simulations are small; :func:`time_update` measures it);
* the initial state is drawn when the widget is created, so a notebook
  executed with widget state saved (myst-nb / nbclient ``store_widget_state``)
  shows it without a kernel.

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

import time
from typing import Callable

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import plotting
from .dynamics import simulate
from .kernels import RoPE, USA, DistanceBias, Gauge, Prompts, Toeplitz
from .labels import grid_positions
from .maximizers import gauge as gauge_maximizer
from .maximizers import gauge_for_targets, rope
from .observables import collapse_gap, count_clusters, gauge_gap, relative_energy_gap, winding_number
from .plotting import CAMERA, PALETTE, plot_realization
from .sphere import rotation, uniform_sphere
from .targets import (
    ANGLE_LAWS,
    PROMPT_LAYOUTS,
    SHAPES,
    angle_law,
    count_distinct,
    prompt_gauges,
    realize_law,
    sphere_target,
    tilted_start,
)

__all__ = [
    "metastability_explorer",
    "metastability_figure",
    "sphere_viewer",
    "show_table",
    "show_verdicts",
    "KERNEL_CHOICES",
    "PLANES",
    "collapse_explorer",
    "explore",
    "kernel_gallery_explorer",
    "latitude_explorer",
    "latitude_figure",
    "orbit_law_explorer",
    "prompt_law_explorer",
    "prompt_law_figure",
    "prompts_explorer",
    "prompts_figure",
    "scenario",
    "time_update",
    "toeplitz_explorer",
    "toeplitz_figure",
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


def time_update(explorer, repeats: int = 3, **overrides) -> float:
    """Best CPU time (seconds) of one update, figures rendered to PNG as in a kernel.

    CPU time of this process rather than wall-clock time, so that the figure
    does not depend on other work on the machine.

    Uses the explorer's current control values, overridden by ``overrides``.
    """
    values = {name: widget.value for name, widget in explorer.controls.items()}
    values.update(overrides)
    best = np.inf
    for _ in range(repeats):
        start = time.process_time()
        result = explorer.update(**values)
        for item in result if isinstance(result, (tuple, list)) else (result,):
            fig = item.figure if isinstance(item, Axes) else item
            if isinstance(fig, Figure):
                fig.savefig(_NullWriter(), format="png")
                plt.close(fig)
        best = min(best, time.process_time() - start)
    return best


class _NullWriter:
    def write(self, data):
        return len(data)


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


def _run(name, beta, n, seed, t_max, record_every=10):
    kernel, aux, values = scenario(name, beta, n, seed)
    X0 = uniform_sphere(n, 3, seed)
    run = simulate(kernel, X0, aux, t_max, dt=0.05, record_every=record_every)
    return kernel, aux, values, run


# --------------------------------------------------------------------------
# Explorers
# --------------------------------------------------------------------------


def _collapse_figure(kernel_name, beta, n, seed, t_max=15.0):
    kernel, aux, values, run = _run(kernel_name, beta, n, seed, t_max)
    gap = collapse_gap(run.X)
    fig = plt.figure(figsize=(8.4, 3.6), layout="constrained")
    ax = plotting.sphere_axes(fig.add_subplot(1, 2, 1, projection="3d"))
    plotting.plot_points(run.final, ax, values=values, title=f"{kernel_name}, t = {run.t[-1]:g}")
    series = {"collapse gap Γ": gap}
    if kernel_name != "baseline":
        series["gauge-frame gap"] = gauge_gap(kernel, run.X, aux)
    plotting.plot_series(run.t, series, ax=fig.add_subplot(1, 2, 2), ylabel="gap", floor=1e-32)
    text = f"β = {beta:g}, n = {n}: Γ(t=0) = {gap[0]:.3f}, Γ(t={run.t[-1]:g}) = {gap[-1]:.2e}"
    return fig, text


def collapse_explorer(*, beta: float = 1.0, n: int = 128, kernel: str = "baseline", seed: int = 0,
                      t_max: float = 15.0) -> ipw.VBox:
    """Mode collapse and its prevention, live (chapter 1).

    Runs :func:`usaav.simulate` from a uniform cloud of ``n`` tokens for the
    chosen kernel (baseline, RoPE θ = 2π, four fixed prompts, distance bias)
    and shows the final cloud on the sphere, coloured by label, next to the
    collapse gap :math:`\\Gamma(X_t)` (and, for gauge kernels, the gap in the
    gauge frame) over time.

    Returns
    -------
    ipywidgets.VBox (see :func:`explore`).
    """
    def update(beta, n, kernel, seed):
        fig, text = _collapse_figure(kernel, beta, n, seed, t_max)
        return fig, text

    return explore(
        update,
        beta=ipw.FloatSlider(value=beta, min=0.25, max=6.0, step=0.25, description="β"),
        n=ipw.IntSlider(value=n, min=16, max=384, step=16, description="n"),
        kernel=ipw.Dropdown(options=KERNEL_CHOICES, value=kernel, description="kernel"),
        seed=ipw.IntSlider(value=seed, min=0, max=20, description="seed"),
    )


def kernel_gallery_explorer(*, beta: float = 2.0, n: int = 96, seed: int = 0, t_max: float = 10.0,
                            names=GALLERY) -> ipw.VBox:
    """What each kernel does to the same uniform cloud (chapter 2, MODEL.md §6.2).

    Every kernel in ``names`` (see :func:`scenario`) starts from the same
    ``n`` uniform tokens and runs to time ``t_max`` (a slider: 5, 10, 20 or
    40; an update takes about 0.4 s at T = 10 and 1.5 s at T = 40); the final
    clouds are shown on the common sphere view, coloured by position (or
    prompt id).

    Returns
    -------
    ipywidgets.VBox (see :func:`explore`).
    """
    names = tuple(names)

    def update(beta, n, seed, t_max):
        finals, values = {}, {}
        for name in names:
            _, _, colour, run = _run(name, beta, n, seed, t_max, record_every=10**6)
            finals[name] = run.final
            values[name] = colour
        fig = plotting.plot_gallery(finals, values=values, ncols=3, size=8)
        return fig, f"β = {beta:g}, n = {n}, seed = {seed}, final clouds at T = {t_max:g}"

    return explore(
        update,
        beta=ipw.FloatSlider(value=beta, min=0.5, max=6.0, step=0.5, description="β"),
        n=ipw.IntSlider(value=n, min=24, max=240, step=24, description="n"),
        seed=ipw.IntSlider(value=seed, min=0, max=20, description="seed"),
        t_max=ipw.SelectionSlider(options=[5.0, 10.0, 20.0, 40.0], value=float(t_max), description="T"),
    )


# ==========================================================================
# Chapters 3-5: the theorems, live (MODEL.md §4)
# ==========================================================================
#
# Target laws and shapes below are *inputs* the reader picks; the
# realisations themselves come from usaav.maximizers and are checked with
# usaav.observables.

#: Rotation planes of S^2 offered to the reader, label -> (i, j).
PLANES = {"(x₁, x₂)": (0, 1), "(x₁, x₃)": (0, 2), "(x₂, x₃)": (1, 2)}


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
# Turning a sphere around
# --------------------------------------------------------------------------


def sphere_viewer(X, *, values=None, cmap: str = "viridis", title: str | None = None, size: float = 14,
                  azim: float | None = None, elev: float | None = None) -> ipw.VBox:
    """Look at a configuration on S² from any side: sliders for the camera's azimuth and elevation.

    Only the view changes (no simulation runs), so an update is one redraw.
    The initial view is the common :data:`usaav.plotting.CAMERA`.

    Parameters
    ----------
    X : (n, 3) array_like
        Points on the sphere.
    values : (n,) array_like, optional
        Colour values (e.g. positions or prompt ids).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(f"X must have shape (n, 3) to be shown on S^2, got shape {X.shape}")

    def update(azimuth, elevation):
        fig = plt.figure(figsize=(4.2, 4.2), layout="constrained")
        ax = plotting.sphere_axes(fig.add_subplot(projection="3d"), title=title)
        plotting.plot_points(X, ax, values=values, cmap=cmap, size=size)
        ax.view_init(elev=elevation, azim=azimuth)
        return fig

    return explore(
        update,
        azimuth=ipw.FloatSlider(value=CAMERA.azim if azim is None else azim, min=-180, max=180, step=5,
                                description="azimuth°"),
        elevation=ipw.FloatSlider(value=CAMERA.elev if elev is None else elev, min=-90, max=90, step=5,
                                  description="elevation°"),
    )


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
