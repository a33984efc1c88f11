r"""Figures for the book and for readers' notebooks (matplotlib only).

One visual language everywhere:

* :data:`PALETTE`, the Okabe–Ito colour-blind-safe colours, in a fixed order
  for series (``PALETTE[0]``, ``PALETTE["blue"]`` and ``PALETTE.blue`` all work);
* :data:`CAMERA`, one elevation/azimuth for every sphere view, so that clouds
  on different pages can be compared at a glance (``ax.view_init(**CAMERA)``);
* :func:`sphere_axes`, 3-D axes with a faint wireframe of :math:`\mathbb S^2`,
  equal aspect and axes labelled :math:`x_1, x_2, x_3`.

Every function returns the matplotlib objects it made (axes, figure or
animation) and never calls ``plt.show``: notebooks display the returned
figure, scripts save it.  The numerical core never imports this package,
so it runs without matplotlib.  The figures of the paper's experiments (one
function per experiment result of :mod:`usaav.experiments`) are in the
submodule :mod:`usaav.plotting.experiments`.

Examples
--------
>>> import numpy as np, usaav
>>> from usaav import plotting
>>> X = usaav.uniform_sphere(50, 3, rng=0)
>>> ax = plotting.plot_points(X, values=np.linspace(0, 1, 50), title="uniform")
>>> ax.get_xlabel()
'$x_1$'
>>> plotting.close(ax)
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

__all__ = [
    "CAMERA",
    "PALETTE",
    "Camera",
    "Panels",
    "animate_sphere",
    "animation_html",
    "close",
    "color_key",
    "palette_png",
    "plot_circle",
    "plot_gallery",
    "plot_panels",
    "plot_points",
    "plot_realization",
    "plot_realizations",
    "plot_series",
    "sphere_axes",
]


# --------------------------------------------------------------------------
# Colours and camera
# --------------------------------------------------------------------------


class Palette(NamedTuple):
    """The Okabe–Ito palette (Okabe & Ito 2008), ordered for data series.

    Index it by position (``PALETTE[0]``), by name (``PALETTE["vermillion"]``)
    or by attribute (``PALETTE.green``).  The first entries are the most
    distinguishable for all common colour-vision deficiencies.
    """

    blue: str = "#0072B2"
    vermillion: str = "#D55E00"
    green: str = "#009E73"
    orange: str = "#E69F00"
    purple: str = "#CC79A7"
    sky: str = "#56B4E9"
    yellow: str = "#F0E442"
    black: str = "#000000"

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return getattr(self, key)
            except AttributeError:
                raise KeyError(f"PALETTE has no colour {key!r}; names are {self._fields}") from None
        return tuple.__getitem__(self, key)

    def cycle(self, count: int) -> list[str]:
        """``count`` colours, repeating the palette if needed."""
        return [self[k % len(self)] for k in range(count)]


PALETTE = Palette()


class Camera(NamedTuple):
    """A fixed 3-D view: ``ax.view_init(**CAMERA)`` or ``ax.view_init(*CAMERA)``."""

    elev: float = 22.0
    azim: float = -58.0

    def keys(self):
        return self._fields

    def __getitem__(self, key):
        if isinstance(key, str):
            return getattr(self, key)
        return tuple.__getitem__(self, key)


CAMERA = Camera()

FONT_SIZE = 11
TITLE_SIZE = 12
SPHERE_SIZE = 3.6  # inches: one sphere panel
_WIRE = "#b8b8b8"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def close(obj=None) -> None:
    """Close the figure owning ``obj`` (a figure, axes, animation) or, with no argument, nothing.

    Lets notebooks and scripts free memory without reaching for ``pyplot``.
    """
    if obj is None:
        return
    if isinstance(obj, FuncAnimation):
        obj = obj._fig
    fig = obj if isinstance(obj, matplotlib.figure.Figure) else getattr(obj, "figure", None)
    if fig is not None:
        plt.close(fig)


def _as_points(X, name: str = "X") -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] not in (2, 3):
        raise ValueError(f"{name} must have shape (n, 2) or (n, 3), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} must be finite")
    return X


def _as_frames(frames) -> tuple[np.ndarray, np.ndarray | None]:
    """Accept a Trajectory (anything with ``.X`` and ``.t``) or a ``(T, n, d)`` array."""
    if hasattr(frames, "X") and hasattr(frames, "t"):
        return np.asarray(frames.X, dtype=np.float64), np.asarray(frames.t, dtype=np.float64)
    X = np.asarray(frames, dtype=np.float64)
    if X.ndim != 3 or X.shape[2] not in (2, 3):
        raise ValueError(f"frames must be a Trajectory or have shape (T, n, 2|3), got shape {X.shape}")
    return X, None


def _check_values(values, n: int, name: str = "values") -> np.ndarray | None:
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) to match the points, got shape {values.shape}")
    return values


def _scatter_kwargs(color, values, cmap, vmin=None, vmax=None) -> dict:
    if values is not None:
        lo = np.min(values) if vmin is None else vmin
        hi = np.max(values) if vmax is None else vmax
        if hi <= lo:
            hi = lo + 1.0
        return dict(c=values, cmap=cmap, vmin=lo, vmax=hi)
    return dict(color=PALETTE.blue if color is None else color)


# --------------------------------------------------------------------------
# Sphere views
# --------------------------------------------------------------------------


def sphere_axes(ax=None, *, title: str | None = None, wire: bool = True, bare: bool = False):
    r"""3-D axes showing the unit sphere :math:`\mathbb S^2` from the common :data:`CAMERA`.

    A faint wireframe (meridians every 30°, parallels every 30°, the equator
    slightly darker) marks the sphere; the aspect is equal and the axes are
    labelled :math:`x_1, x_2, x_3`.

    Parameters
    ----------
    ax : mpl_toolkits.mplot3d.Axes3D, optional
        Existing 3-D axes to decorate; by default a new figure is made.
    title : str, optional
    wire : bool
        Draw the wireframe (default ``True``).
    bare : bool
        Hide the box, ticks and panes and draw three short labelled
        coordinate axes instead: a lighter look for small multiples, and
        about twice as fast to render.

    Returns
    -------
    Axes3D
    """
    if ax is None:
        fig = plt.figure(figsize=(SPHERE_SIZE, SPHERE_SIZE), layout="constrained")
        ax = fig.add_subplot(projection="3d")
    elif getattr(ax, "name", "") != "3d":
        raise TypeError("ax must be a 3-D axes (fig.add_subplot(projection='3d'))")
    if wire:
        u = np.linspace(0, 2 * np.pi, 97)
        for lat in np.deg2rad([-60, -30, 30, 60]):
            ax.plot(np.cos(lat) * np.cos(u), np.cos(lat) * np.sin(u), np.full_like(u, np.sin(lat)),
                    color=_WIRE, lw=0.5, zorder=0)
        ax.plot(np.cos(u), np.sin(u), np.zeros_like(u), color="#8c8c8c", lw=0.7, zorder=0)
        v = np.linspace(-np.pi / 2, np.pi / 2, 49)
        for lon in np.deg2rad(np.arange(0, 180, 30)):
            ax.plot(np.cos(v) * np.cos(lon), np.cos(v) * np.sin(lon), np.sin(v), color=_WIRE, lw=0.5, zorder=0)
            ax.plot(-np.cos(v) * np.cos(lon), -np.cos(v) * np.sin(lon), np.sin(v), color=_WIRE, lw=0.5, zorder=0)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_zlim(-1, 1)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(**CAMERA)
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if bare:
        ax.set_axis_off()
        for k, label in enumerate(("$x_1$", "$x_2$", "$x_3$")):
            tip = np.zeros(3)
            tip[k] = 1.3
            ax.plot(*np.c_[np.zeros(3), tip], color="#6e6e6e", lw=0.8, zorder=0)
            ax.text(*(1.12 * tip), label, fontsize=FONT_SIZE - 1, color="#444444", ha="center", va="center")
        return ax
    ax.set_xticks([-1, 0, 1])
    ax.set_yticks([-1, 0, 1])
    ax.set_zticks([-1, 0, 1])
    ax.tick_params(labelsize=FONT_SIZE - 3, pad=0)
    for axis, label in zip((ax.xaxis, ax.yaxis, ax.zaxis), ("$x_1$", "$x_2$", "$x_3$")):
        axis.set_pane_color((1, 1, 1, 0))
        axis.set_label_text(label, fontsize=FONT_SIZE)
        axis.labelpad = -4
    return ax


def plot_points(X, ax=None, *, color=None, values=None, cmap: str = "viridis", title: str | None = None,
                size: float = 12, vmin=None, vmax=None, colorbar: bool = False, label: str | None = None):
    r"""Scatter a configuration on the sphere (``d = 3``) or the circle (``d = 2``).

    Parameters
    ----------
    X : (n, 3) or (n, 2) array_like
        Points (unit rows).  ``d = 2`` is passed on to :func:`plot_circle`.
    ax : axes, optional
        3-D axes (from :func:`sphere_axes`); a new one is made by default.
    color : colour, optional
        One colour for all points (default ``PALETTE.blue``); ignored when
        ``values`` is given.
    values : (n,) array_like, optional
        Colour each point by a number, e.g. its position label :math:`s_i`
        or prompt id, through ``cmap``.
    cmap : str
        Colormap for ``values`` (default "viridis", perceptually uniform and
        colour-blind safe).
    title : str, optional
    size : float
        Marker area in points².
    vmin, vmax : float, optional
        Range of ``values`` mapped to the colormap.
    colorbar : bool
        Add a colour bar for ``values``.
    label : str, optional
        Legend label.

    Returns
    -------
    The axes.
    """
    X = _as_points(X)
    if X.shape[1] == 2:
        return plot_circle(X, ax, color=color, values=values, cmap=cmap, title=title, size=size,
                           vmin=vmin, vmax=vmax, colorbar=colorbar, label=label)
    values = _check_values(values, len(X))
    if ax is None:
        ax = sphere_axes(title=title)
    elif getattr(ax, "name", "") != "3d":
        raise TypeError("ax must be a 3-D axes for (n, 3) points; use sphere_axes()")
    elif title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    art = ax.scatter(X[:, 0], X[:, 1], X[:, 2], s=size, depthshade=False, linewidths=0, label=label,
                     **_scatter_kwargs(color, values, cmap, vmin, vmax))
    if colorbar and values is not None:
        ax.figure.colorbar(art, ax=ax, shrink=0.6, pad=0.08)
    return ax


def plot_circle(X2, ax=None, *, color=None, values=None, cmap: str = "viridis", title: str | None = None,
                size: float = 12, vmin=None, vmax=None, colorbar: bool = False, label: str | None = None):
    r"""Scatter a configuration on the unit circle :math:`\mathbb S^1` (``d = 2``).

    Same keywords as :func:`plot_points`; the circle is drawn faintly.

    Returns
    -------
    The (2-D) axes.
    """
    X2 = _as_points(X2, "X2")
    if X2.shape[1] != 2:
        raise ValueError(f"X2 must have shape (n, 2), got shape {X2.shape}")
    values = _check_values(values, len(X2))
    if ax is None:
        fig, ax = plt.subplots(figsize=(SPHERE_SIZE * 0.9, SPHERE_SIZE * 0.9), layout="constrained")
    u = np.linspace(0, 2 * np.pi, 181)
    ax.plot(np.cos(u), np.sin(u), color=_WIRE, lw=0.8, zorder=0)
    art = ax.scatter(X2[:, 0], X2[:, 1], s=size, linewidths=0, label=label, zorder=2,
                     **_scatter_kwargs(color, values, cmap, vmin, vmax))
    ax.set_aspect("equal")
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.15, 1.15)
    ax.set_xlabel("$x_1$", fontsize=FONT_SIZE)
    ax.set_ylabel("$x_2$", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 2)
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if colorbar and values is not None:
        ax.figure.colorbar(art, ax=ax, shrink=0.7)
    return ax


def plot_gallery(configs: Mapping[str, np.ndarray], *, values=None, ncols: int = 3, cmap: str = "viridis",
                 size: float = 10, suptitle: str | None = None, bare: bool = True):
    """Small multiples: one sphere (or circle) per configuration, all on the common view.

    Parameters
    ----------
    configs : dict[str, (n, d) array]
        Panel title → configuration (``d`` = 3, or 2 for circles).
    values : (n,) array or dict[str, (n,) array], optional
        Colour values shared by all panels, or one array per panel (missing
        keys are drawn in one colour).  Each panel uses the range of its values.
    ncols : int
        Panels per row.
    cmap : str
    size : float
        Marker area.
    suptitle : str, optional
    bare : bool
        Panels without box and ticks (see :func:`sphere_axes`), the default.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(configs, Mapping) or not configs:
        raise TypeError("configs must be a non-empty dict {title: X}")
    if not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    names = list(configs)
    ncols = min(int(ncols), len(names))
    nrows = -(-len(names) // ncols)
    width = SPHERE_SIZE * (0.8 if bare else 0.9)
    fig = plt.figure(figsize=(width * ncols, width * 0.92 * nrows + (0.3 if suptitle else 0)),
                     layout="constrained")
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.0, hspace=0.0)
    for k, name in enumerate(names):
        X = _as_points(configs[name], f"configs[{name!r}]")
        panel_values = values.get(name) if isinstance(values, Mapping) else values
        if X.shape[1] == 3:
            ax = sphere_axes(fig.add_subplot(nrows, ncols, k + 1, projection="3d"), title=name, bare=bare)
        else:
            ax = fig.add_subplot(nrows, ncols, k + 1)
            ax.set_title(name, fontsize=TITLE_SIZE)
        plot_points(X, ax, values=panel_values, cmap=cmap, size=size)
    if suptitle:
        fig.suptitle(suptitle, fontsize=TITLE_SIZE + 1)
    return fig


def palette_png(fig: matplotlib.figure.Figure, dpi: float = 110) -> bytes:
    """``fig`` as PNG bytes with a palette of at most 256 colours (transparency kept).

    A third to a quarter of the bytes of matplotlib's true-colour PNG for the
    figures of this package, with no visible difference: what the book embeds
    in its pages (:class:`Panels`).
    """
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGBA")
    if image.getextrema()[3][0] == 255:
        # Opaque (the usual white background): median cut (method 0) keeps flat colours exact.
        image = image.convert("RGB").quantize(colors=256, method=0)
    else:
        # Transparent pixels: fast octree (method 2), the quantizer that keeps an alpha channel.
        image = image.quantize(colors=256, method=2)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return out.getvalue()


class Panels:
    """Several single-panel figures shown as one output that wraps: side by side, stacked on a phone.

    A notebook (and the book) displays it as one HTML block of PNG images
    in a row that wraps (class ``usaav-panels``), so a numbered figure caption
    (myst-nb cell metadata ``mystnb: figure:``) covers all panels, and the
    panels stack at phone width instead of shrinking.  Iterating gives the
    matplotlib figures, e.g. to save them.  The figures are rendered once,
    when the object is made, and closed.

    Parameters
    ----------
    figures : sequence of matplotlib.figure.Figure
    dpi : float
        Resolution of the PNG images.

    Notes
    -----
    The images are embedded in the page, so they are stored with a palette
    of at most 256 colours (:func:`palette_png`): a plot's flat colours and
    their antialiased edges survive, and the page carries a third to a
    quarter of the bytes.
    """

    def __init__(self, figures, *, dpi: float = 110):
        import base64

        figures = list(figures)
        if not figures or not all(isinstance(f, matplotlib.figure.Figure) for f in figures):
            raise TypeError("figures must be a non-empty sequence of matplotlib figures")
        self.figures = figures
        self._png = []
        for fig in figures:
            self._png.append(base64.b64encode(palette_png(fig, dpi)).decode("ascii"))
            plt.close(fig)

    def __iter__(self):
        return iter(self.figures)

    def __len__(self) -> int:
        return len(self.figures)

    def _repr_html_(self) -> str:
        images = "".join(f'<img src="data:image/png;base64,{png}" alt="panel {k + 1} of {len(self._png)}"/>'
                         for k, png in enumerate(self._png))
        return f'<div class="usaav-panels">{images}</div>'


def color_key(label: str, *, values=None, cmap: str = "viridis", vmin: float = 0.0, vmax: float = 1.0,
              categories=None) -> matplotlib.figure.Figure:
    """A small figure that says what the colours mean: a colour bar, or swatches for categories.

    Parameters
    ----------
    label : str
        What the colour encodes, e.g. ``"position s"`` or ``"prompt id"``.
    cmap : str
        The colormap of the panels (continuous key).
    vmin, vmax : float
        Range of the continuous key.
    categories : sequence of str, optional
        Category names: then one swatch per category, coloured as
        :func:`plot_points` colours the integer values ``0, 1, ...`` with ``cmap``
        over ``[vmin, vmax]`` (give ``vmin=-0.5, vmax=m - 0.5`` for ``m`` ids).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib import colors as mcolors
    from matplotlib.cm import ScalarMappable

    if not isinstance(label, str) or not label:
        raise TypeError(f"label must be a non-empty string, got {label!r}")
    if categories is None:
        fig = plt.figure(figsize=(SPHERE_SIZE * 0.8, 0.75), layout="constrained")
        ax = fig.add_subplot()
        fig.colorbar(ScalarMappable(norm=mcolors.Normalize(vmin, vmax), cmap=cmap), cax=ax,
                     orientation="horizontal", label=label)
        return fig
    categories = [str(c) for c in categories]
    colormap = plt.get_cmap(cmap)
    norm = mcolors.Normalize(vmin, vmax)
    # As many swatch columns as fit the panel width (a swatch with its name
    # takes about 0.35 in plus 0.6 em per character), then as many rows as needed.
    width = SPHERE_SIZE * 0.8
    font = FONT_SIZE - 2
    swatch = 0.35 + 0.6 * font / 72 * max(len(c) for c in categories) if categories else 1.0
    ncols = max(1, min(len(categories), int(width // swatch)))
    nrows = -(-len(categories) // ncols)
    fig = plt.figure(figsize=(width, 0.45 + 0.24 * nrows), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    handles = [plt.Line2D([], [], marker="o", ls="", color=colormap(norm(k)), label=name)
               for k, name in enumerate(categories)]
    ax.legend(handles=handles, title=label, loc="center", frameon=False, ncols=ncols, columnspacing=0.8,
              handletextpad=0.2, borderaxespad=0.0, fontsize=font, title_fontsize=FONT_SIZE - 1)
    return fig


def plot_panels(configs: Mapping[str, np.ndarray], *, values=None, cmap: str = "viridis", size: float = 10,
                key: str | None = None, vmin=None, vmax=None, categories=None, bare: bool = True) -> Panels:
    """Small multiples as :class:`Panels`: one sphere (or circle) per figure, plus an optional colour key.

    The same panels as :func:`plot_gallery`, but each in its own figure, so
    that on a phone they stack instead of shrinking.

    Parameters
    ----------
    configs, values, cmap, size, bare
        As in :func:`plot_gallery`.
    key : str, optional
        Add a last panel saying what the colour encodes (:func:`color_key`),
        e.g. ``"position s"``; with ``categories``, a swatch per category.
    vmin, vmax : float, optional
        Common colour range of every panel (and of the key); default: each
        panel's own range, and [0, 1] for the key.
    categories : sequence of str, optional
        See :func:`color_key`.

    Returns
    -------
    Panels
    """
    if not isinstance(configs, Mapping) or not configs:
        raise TypeError("configs must be a non-empty dict {title: X}")
    figures = []
    width = SPHERE_SIZE * (0.8 if bare else 0.9)
    for name, X in configs.items():
        X = _as_points(X, f"configs[{name!r}]")
        fig = plt.figure(figsize=(width, width * 0.92), layout="constrained")
        if X.shape[1] == 3:
            ax = sphere_axes(fig.add_subplot(projection="3d"), title=name, bare=bare)
        else:
            ax = fig.add_subplot()
            ax.set_title(name, fontsize=TITLE_SIZE)
        panel_values = values.get(name) if isinstance(values, Mapping) else values
        plot_points(X, ax, values=panel_values, cmap=cmap, size=size, vmin=vmin, vmax=vmax)
        figures.append(fig)
    if key is not None:
        figures.append(color_key(key, cmap=cmap, vmin=0.0 if vmin is None else vmin,
                                 vmax=1.0 if vmax is None else vmax, categories=categories))
    return Panels(figures)


# --------------------------------------------------------------------------
# Animation
# --------------------------------------------------------------------------


def _frame_indices(total: int, max_frames: int) -> np.ndarray:
    if total <= max_frames:
        return np.arange(total)
    return np.unique(np.round(np.linspace(0, total - 1, max_frames)).astype(int))


def animate_sphere(frames, *, values=None, interval: int = 80, max_frames: int = 60, cmap: str = "viridis",
                   size: float = 12, title: str | None = None, dpi: int = 72, bare: bool = False):
    """Animate a trajectory on the sphere (or the circle for ``d = 2``).

    Parameters
    ----------
    frames : Trajectory or (T, n, d) array_like
        With a :class:`usaav.Trajectory` the frame time is shown in the title.
    values : (n,) array_like, optional
        Colour values, e.g. the position labels ``run.aux``.
    interval : int
        Milliseconds between frames.
    max_frames : int
        At most this many frames, evenly spaced in the recording (the first
        and the last are always kept).
    cmap, size, title
        As in :func:`plot_points`.
    dpi : int
        Resolution used when the animation is rendered (kept low so that
        ``to_jshtml`` stays small).
    bare : bool
        Sphere without box and ticks (see :func:`sphere_axes`): renders
        about twice as fast.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        The figure is already closed (no stray static copy in notebooks);
        embed it with ``IPython.display.HTML(anim.to_jshtml())`` or
        :func:`animation_html`.
    """
    X, t = _as_frames(frames)
    if not isinstance(max_frames, (int, np.integer)) or max_frames < 2:
        raise ValueError(f"max_frames must be an integer >= 2, got {max_frames!r}")
    values = _check_values(values, X.shape[1])
    index = _frame_indices(len(X), int(max_frames))
    d = X.shape[2]
    heading = (title + "\n") if title else ""

    def label(k):
        return f"{heading}t = {t[k]:.2f}" if t is not None else f"{heading}frame {k}"

    if d == 3:
        ax = sphere_axes(title=label(index[0]), bare=bare)
        fig = ax.figure
        art = ax.scatter(*X[index[0]].T, s=size, depthshade=False, linewidths=0,
                         **_scatter_kwargs(None, values, cmap))

        def update(k):
            art._offsets3d = tuple(X[k].T)
            ax.set_title(label(k), fontsize=TITLE_SIZE)
            return (art,)
    else:
        ax = plot_circle(X[index[0]], values=values, cmap=cmap, size=size, title=label(index[0]))
        fig = ax.figure
        art = ax.collections[-1]

        def update(k):
            art.set_offsets(X[k])
            ax.set_title(label(k), fontsize=TITLE_SIZE)
            return (art,)

    fig.set_dpi(dpi)
    anim = FuncAnimation(fig, update, frames=list(index), interval=interval, blit=False)
    plt.close(fig)
    return anim


def animation_html(anim, *, default_mode: str = "once"):
    """The animation as an ``IPython.display.HTML`` object (JavaScript player, no kernel needed)."""
    from IPython.display import HTML

    return HTML(anim.to_jshtml(default_mode=default_mode))


# --------------------------------------------------------------------------
# Time series
# --------------------------------------------------------------------------


def plot_series(t, series: Mapping[str, np.ndarray], *, ax=None, log: bool = True,
                bands: Mapping[str, np.ndarray] | None = None, ylabel: str | None = None,
                xlabel: str = "$t$", title: str | None = None, floor: float = 1e-300, colors=None,
                legend: bool = True):
    r"""Plot time series on common axes, with optional shaded bands (e.g. ± one standard error).

    Parameters
    ----------
    t : (T,) array_like
        Common time grid.
    series : dict[str, (T,) array]
        Legend label → values.
    ax : axes, optional
    log : bool
        Logarithmic vertical axis (values are clipped below at ``floor``, so
        an exact 0 such as a collapsed gap stays visible).
    bands : dict[str, (T,) array], optional
        Label → half-width of a band drawn around that series
        (``mean ± bands[label]``).
    ylabel, xlabel, title : str, optional
    floor : float
        Smallest value drawn on a log axis.
    colors : dict[str, colour] or sequence, optional
        Default: :data:`PALETTE` in order.
    legend : bool

    Returns
    -------
    The axes.
    """
    t = np.asarray(t, dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"t must be one-dimensional, got shape {t.shape}")
    if not isinstance(series, Mapping) or not series:
        raise TypeError("series must be a non-empty dict {label: values}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    names = list(series)
    if colors is None:
        colors = dict(zip(names, PALETTE.cycle(len(names))))
    elif not isinstance(colors, Mapping):
        colors = dict(zip(names, colors))
    for name in names:
        y = np.asarray(series[name], dtype=np.float64)
        if y.shape != t.shape:
            raise ValueError(f"series[{name!r}] must have shape {t.shape} like t, got {y.shape}")
        color = colors.get(name)
        if bands is not None and name in bands:
            half = np.asarray(bands[name], dtype=np.float64)
            if half.shape != t.shape:
                raise ValueError(f"bands[{name!r}] must have shape {t.shape} like t, got {half.shape}")
            lo, hi = y - half, y + half
            if log:
                lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
            ax.fill_between(t, lo, hi, color=color, alpha=0.22, linewidth=0)
        ax.plot(t, np.maximum(y, floor) if log else y, color=color, lw=1.8, label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=FONT_SIZE)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
    if title is not None:
        ax.set_title(title, fontsize=TITLE_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    ax.grid(True, which="major", color="#e5e5e5", lw=0.6)
    if legend and len(names) > 0:
        ax.legend(fontsize=FONT_SIZE - 1, frameon=False)
    return ax


# --------------------------------------------------------------------------
# Target laws realised (usaav.targets; Thm. 2 (ii))
# --------------------------------------------------------------------------


def plot_realization(result, ax_sphere=None, ax_hist=None, *, bins: int = 36):
    """A realisation on the sphere (coloured by position, orbit in grey) next to a histogram of its angles.

    Parameters
    ----------
    result : usaav.targets.OrbitRealization
    ax_sphere, ax_hist : axes, optional
        With both omitted a two-panel figure is made; with only ``ax_hist``
        given, only the histogram (against the target density) is drawn.
    bins : int

    Returns
    -------
    The figure.
    """
    if ax_sphere is None and ax_hist is None:
        fig = plt.figure(figsize=(7.6, 3.4), layout="constrained")
        ax_sphere = fig.add_subplot(1, 2, 1, projection="3d")
        ax_hist = fig.add_subplot(1, 2, 2)
    if ax_sphere is not None:
        from ..sphere import rotation

        sphere_axes(ax_sphere, bare=True)
        orbit = rotation(np.linspace(-np.pi, np.pi, 181), 3) @ result.v
        ax_sphere.plot(*orbit.T, color="#777777", lw=0.8)
        plot_points(result.X, ax_sphere, values=result.positions, size=9, vmin=0, vmax=1)
    if ax_hist is not None:
        ax_hist.hist(result.angles, bins=bins, range=(-np.pi, np.pi), density=True, color=PALETTE.sky,
                     edgecolor="white", lw=0.4, label=f"{len(result.angles)} realised angles")
        ax_hist.plot(result.law.grid, result.law.density_values, color=PALETTE.vermillion, lw=1.8,
                     label="target density")
        ax_hist.set_xlim(-np.pi, np.pi)
        ax_hist.set_xticks(np.pi * np.array([-1, -0.5, 0, 0.5, 1]), ["−π", "−π/2", "0", "π/2", "π"])
        ax_hist.set_xlabel("angle α on the orbit, x = R_α v")
        ax_hist.set_title(f"{result.law.name}\nKS = {result.ks_distance:.1e}", fontsize=TITLE_SIZE - 1)
        ax_hist.legend(fontsize=8, frameon=True, framealpha=0.85, edgecolor="none", loc="upper left")
    return (ax_sphere if ax_sphere is not None else ax_hist).figure


def plot_realizations(results, *, ncols: int = 2):
    """Histograms of several realisations (``usaav.targets.OrbitRealization``) against their target densities."""
    results = list(results)
    nrows = -(-len(results) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.0 * nrows), layout="constrained", squeeze=False)
    for ax, result in zip(axes.flat, results):
        plot_realization(result, ax_hist=ax)
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    return fig
