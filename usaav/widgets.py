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
from .observables import collapse_gap, gauge_gap
from .plotting import CAMERA
from .sphere import rotation, uniform_sphere

__all__ = [
    "sphere_viewer",
    "show_table",
    "show_verdicts",
    "KERNEL_CHOICES",
    "collapse_explorer",
    "explore",
    "kernel_gallery_explorer",
    "scenario",
    "time_update",
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
