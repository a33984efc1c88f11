r"""Figures of the experiments (MODEL.md §6; the paper's §6, App. C): matplotlib only.

Each ``figure_*`` function takes a result of :mod:`usaav.experiments` and
returns one :class:`matplotlib.figure.Figure` (what ``python -m usaav
reproduce`` saves, :func:`save_figure` writes PNG and SVG); each
``*_panels`` function returns the same content as
:class:`usaav.plotting.Panels`, one small figure per panel, which the book
shows side by side on a wide screen and stacked on a phone.  Both draw
through the same helpers.  Colours are the Okabe–Ito palette of
:mod:`usaav.plotting`, sphere views use its common camera, gaps are drawn
on log axes.  The numerical modules never import this one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from .. import plotting
from ..experiments.collapse import MODEL_TABLE
from . import PALETTE

__all__ = ["PROMPT_COLOURS", "collapse_beta_panels", "collapse_panels", "figure_collapse",
           "figure_collapse_prediction", "figure_gallery", "figure_mean_field", "figure_metastability",
           "final_law_panels", "gallery_panels", "mean_field_panels", "save_figure"]

# The §6.1 models' colours and legends come from their table (usaav.experiments.collapse.MODEL_TABLE).
_MODEL_COLOURS = {key: PALETTE[row.colour] for key, row in MODEL_TABLE.items()}
_MODEL_NAMES = {key: row.label for key, row in MODEL_TABLE.items()}
#: Line widths of the three models: their gauge-frame curves coincide, so the narrower runs on top.
_MODEL_WIDTHS = {"baseline": 3.4, "rope": 2.2, "prompts": 1.0}
_STYLES = ("-", "--", ":", "-.")
_OBSERVABLE_LABELS = {
    "collapse_gap": r"collapse gap $\Gamma(X)$",
    "gauge_gap": r"gauge-frame gap $\Gamma(\{G(a_i)x_i\})$",
    "conditional_diameter": "conditional diameter",
    "relative_energy_gap": r"relative energy gap $(E_{\max}-E_n)/E_{\max}$",
}
#: Smallest value drawn on each log axis: exact zeros of the gaps sit at 1e-32, round-off of the others near 1e-17.
_FLOORS = {"collapse_gap": 1e-32, "gauge_gap": 1e-32, "conditional_diameter": 1e-17, "relative_energy_gap": 1e-17}
#: Prompt ids 0, 1, ... in the Okabe–Ito colours (yellow left out: too pale on white); a colormap for
#: ``vmin=-0.5, vmax=len(PROMPT_COLOURS.colors) - 0.5``.
PROMPT_COLOURS = ListedColormap([PALETTE[k] for k in (0, 1, 2, 3, 4, 5, 7)], name="okabe_ito_ids")
_GRID = dict(color="#e5e5e5", lw=0.6)
#: Inches of one time-series panel of a Panels figure: at the 110 dpi of Panels, two fit side by side in the
#: book's text column (about 780 px wide).
_PANEL_SIZE = (3.45, 2.75)


def save_figure(fig, directory, stem: str) -> list[Path]:
    """Write ``fig`` to ``directory/stem.png`` and ``directory/stem.svg`` (no timestamp in the SVG).

    Each file is written whole to a temporary file and moved into place, so a
    reader (or a concurrent run saving the same figure) never sees half a file.
    """
    from ..experiments import atomic_writer

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{stem}.png", directory / f"{stem}.svg"]
    with atomic_writer(paths[0]) as stream:
        fig.savefig(stream, format="png", dpi=150)
    with atomic_writer(paths[1]) as stream:
        fig.savefig(stream, format="svg", metadata={"Date": None})
    return paths


def _draw_observable(ax, result, name: str, sizes, floors: Mapping[str, float], *, linear: bool = False):
    """One observable of MODEL.md §6 against t: mean ± one standard error over seeds, one curve per model and size.

    Colour = model, line style = size (when there are several); on a log axis
    values below ``floors[name]`` (an exact 0, round-off) are drawn at it.
    """
    t = result.times
    mean, se = result.summary(name)
    low = None if linear else floors[name]
    for m, model in enumerate(result.models):
        colour = _MODEL_COLOURS.get(str(model), PALETTE.black)
        for k, s in enumerate(sizes):
            middle, lower, upper = mean[m, s], mean[m, s] - se[m, s], mean[m, s] + se[m, s]
            if low is not None:
                middle, lower, upper = (np.maximum(y, low) for y in (middle, lower, upper))
            label = _MODEL_NAMES.get(str(model), str(model))
            if len(sizes) > 1:
                label += f", n={int(result.sizes[s])}"
            ax.fill_between(t, lower, upper, color=colour, alpha=0.15, linewidth=0)
            ax.plot(t, middle, color=colour, ls=_STYLES[k % len(_STYLES)], lw=_MODEL_WIDTHS.get(str(model), 1.5),
                    label=label)
    if linear:
        ax.set_ylim(0, 1.02)
    else:
        ax.set_yscale("log")
        ax.set_ylim(low / 10, 10)
    ax.grid(True, **_GRID)


def figure_collapse(result, floor: float = 1e-32):
    r"""Four panels, one per observable of MODEL.md §6: mean ± one standard error over seeds against t.

    Colour = model, line style = size; log vertical axes (values below the
    panel's floor, e.g. an exact 0, are drawn at the floor: ``floor`` for the
    gaps, 1e-17 — the round-off level — for the diameter and the energy gap).
    In the gauge frame the three models follow the same flow from the same
    cloud, so their curves coincide: they are drawn with decreasing widths.
    """
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.2), layout="constrained", sharex=True)
    floors = {**_FLOORS, "collapse_gap": floor, "gauge_gap": floor}
    for ax, name in zip(axes.flat, _OBSERVABLE_LABELS):
        _draw_observable(ax, result, name, range(len(result.sizes)), floors)
        ax.set_ylabel(_OBSERVABLE_LABELS[name])
    for ax in axes[1]:
        ax.set_xlabel("time $t$ (layers)")
    axes[0, 0].legend(fontsize=8, ncol=1, frameon=False, loc="lower left")
    fig.suptitle(f"Collapse through many layers (β = {result.params['beta']:g}, "
                 f"{len(result.seeds)} seeds, mean ± 1 s.e.)")
    return fig


def collapse_panels(result, size_index: int = -1) -> plotting.Panels:
    r"""The four observables of MODEL.md §6 at one system size, one panel each (:class:`usaav.plotting.Panels`).

    The collapse gap on a linear axis, with the level 2/3 (the mean of
    :math:`1-v_3^2` for :math:`v` uniform on the sphere) and the legend; the
    gauge-frame gap, the conditional diameter and the relative energy gap on
    log axes (exact zeros drawn at 1e-32, round-off near 1e-17).  Mean ± one
    standard error over seeds; the three gauge-frame curves coincide and are
    drawn with decreasing widths.

    Parameters
    ----------
    result : CollapseResult
    size_index : int
        Which of ``result.sizes`` to show (default the largest).
    """
    sizes = [range(len(result.sizes))[size_index]]
    figures = []
    for name in _OBSERVABLE_LABELS:
        fig, ax = plt.subplots(figsize=_PANEL_SIZE, layout="constrained")
        linear = name == "collapse_gap"
        _draw_observable(ax, result, name, sizes, _FLOORS, linear=linear)
        if linear:
            ax.axhline(2 / 3, color="#6e6e6e", ls=":", lw=1.2, label="2/3")
            ax.set_yticks([0, 1 / 3, 2 / 3, 1], ["0", "1/3", "2/3", "1"])
            ax.legend(fontsize=8.5, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 0.05))
        ax.set_title(_OBSERVABLE_LABELS[name] + (" (linear scale)" if linear else ""), fontsize=9.5)
        ax.set_xlabel("time $t$ (layers)")
        figures.append(fig)
    return plotting.Panels(figures)


def collapse_beta_panels(results: Mapping[float, object], size_index: int = 0, seed_index: int = 0) -> plotting.Panels:
    r"""One run per β: the collapse gap of each model against t, the common gauge-frame gap and :math:`1-v_3^2`.

    Parameters
    ----------
    results : dict[float, CollapseResult]
        β → a result of :func:`usaav.experiments.collapse_through_layers`.
    size_index, seed_index : int
        The run shown from each result.

    Returns
    -------
    usaav.plotting.Panels
        One panel per β (log axes, round-off drawn at 1e-17); the legend in the first.
    """
    if not isinstance(results, Mapping) or not results:
        raise TypeError("results must be a non-empty dict {beta: CollapseResult}")
    figures = []
    for k, (beta, res) in enumerate(results.items()):
        fig, ax = plt.subplots(figsize=_PANEL_SIZE, layout="constrained")
        rope = list(res.models).index("rope")
        t = res.times
        ax.plot(t, np.maximum(res.gauge_gap[rope, size_index, seed_index], 1e-17), color="#c8c8c8", lw=6,
                label="gauge frame (all three)")
        for m, model in enumerate(res.models):
            ax.plot(t, np.maximum(res.collapse_gap[m, size_index, seed_index], 1e-17), lw=1.8,
                    color=_MODEL_COLOURS.get(str(model), PALETTE.black), label=_MODEL_NAMES.get(str(model), str(model)))
        ax.axhline(res.predicted_gap_v3[rope, size_index, seed_index], color="#6e6e6e", ls=":", lw=1.2,
                   label="$1-v_3^2$")
        ax.set_yscale("log")
        ax.set_ylim(1e-18, 10)
        ax.set_title(f"β = {beta:g}, n = {int(res.sizes[size_index])}", fontsize=10.5)
        ax.set_xlabel("time $t$")
        ax.set_ylabel("gap")
        ax.grid(True, **_GRID)
        if k == 0:
            ax.legend(fontsize=8, frameon=False, loc="lower left")
        figures.append(fig)
    return plotting.Panels(figures)


def figure_collapse_prediction(result):
    r"""Final original-frame gap per run against the predicted gap of :math:`G(a_i)^\top v` and :math:`1-v_3^2`."""
    fig, ax = plt.subplots(figsize=(5.2, 4.6), layout="constrained")
    ax.plot([0, 1], [0, 1], color="#8c8c8c", lw=0.8, zorder=0, label="measured = predicted")
    markers = {"rope": "o", "prompts": "s"}
    for model in ("rope", "prompts"):
        if model not in result.models:
            continue
        m = list(result.models).index(model)
        gap = result.final("collapse_gap")[m].ravel()
        ax.scatter(result.predicted_gap_v3[m].ravel(), gap, s=22, marker=markers[model],
                   color=_MODEL_COLOURS[model], alpha=0.8, linewidths=0,
                   label=f"{_MODEL_NAMES[model]} vs $1-v_3^2$")
        if model == "prompts":
            ax.scatter(result.predicted_gap[m].ravel(), gap, s=30, marker="x", color=PALETTE.black,
                       linewidths=0.9, label=r"prompts vs gap of $G_\ell^\top v$")
    ax.axhline(2 / 3, color=PALETTE.orange, lw=1, ls="--", label="2/3: mean of $1-v_3^2$, $v$ uniform")
    ax.set_xlabel("predicted original-frame gap")
    ax.set_ylabel(f"measured gap at t = {float(result.times[-1]):g}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_title("Gap kept by RoPE and prompts")
    return fig


def _ring_atoms(ax, X, most: int = 10):
    """Circle the distinct points of a discrete law (at most ``most`` of them, rounded to 1e-3): a Dirac mass is one dot."""
    atoms = np.unique(np.round(X, 3), axis=0)
    if len(atoms) <= most:
        ax.scatter(*atoms.T, s=170, facecolors="none", edgecolors="k", linewidths=0.8, depthshade=False)


def final_law_panels(configs: Mapping[str, np.ndarray], labels: Mapping[str, np.ndarray], *, prompts=(),
                     size: float = 12) -> plotting.Panels:
    """Final clouds on the common sphere view, coloured by label, with a key for each kind of label.

    Parameters
    ----------
    configs : dict[str, (n, 3) array]
        Panel title → final cloud.
    labels : dict[str, (n,) array]
        Panel title → labels: positions :math:`s\\in[0,1)` (viridis, key
        "position s"), or for the titles in ``prompts`` prompt ids
        :math:`0,1,\\dots` (:data:`PROMPT_COLOURS`, key "prompt", numbered from 1).
    prompts : collection of str
        The titles whose labels are prompt ids.
    size : float
        Marker area.

    Returns
    -------
    usaav.plotting.Panels
        One sphere per cloud (a discrete law with at most 10 atoms has them
        circled), then a colour bar for the positions and swatches for the
        prompt ids (each only if used).
    """
    if not isinstance(configs, Mapping) or not configs:
        raise TypeError("configs must be a non-empty dict {title: X}")
    missing = [title for title in configs if title not in labels]
    if missing:
        raise ValueError(f"labels must have an entry for every panel, missing {missing}")
    unknown = [title for title in prompts if title not in configs]
    if unknown:
        raise ValueError(f"prompts must name panels of configs, got unknown {unknown}")
    n_colours = len(PROMPT_COLOURS.colors)
    ids = [int(np.max(labels[title])) + 1 for title in prompts]
    if ids and max(ids) > n_colours:
        raise ValueError(f"prompt ids must be below {n_colours} (one colour each), got up to {max(ids) - 1}")
    figures = []
    width = plotting.SPHERE_SIZE * 0.8
    for title, X in configs.items():
        fig = plt.figure(figsize=(width, width * 0.92), layout="constrained")
        ax = plotting.sphere_axes(fig.add_subplot(projection="3d"), title=title, bare=True)
        if title in prompts:
            plotting.plot_points(X, ax, values=labels[title], cmap=PROMPT_COLOURS, vmin=-0.5, vmax=n_colours - 0.5,
                                 size=size)
        else:
            plotting.plot_points(X, ax, values=labels[title], vmin=0.0, vmax=1.0, size=size)
        _ring_atoms(ax, np.asarray(X))
        figures.append(fig)
    if len(prompts) < len(configs):
        figures.append(plotting.color_key("position s", vmin=0.0, vmax=1.0))
    if ids:
        # ids 0, 1, ... are numbered from 1, as in the explorers and chapters 2 and 4
        figures.append(plotting.color_key("prompt", cmap=PROMPT_COLOURS, vmin=-0.5, vmax=n_colours - 0.5,
                                          categories=[str(k + 1) for k in range(max(ids))]))
    return plotting.Panels(figures)


def gallery_panels(result, size: float = 14) -> plotting.Panels:
    """The six final clouds of the §6.2 gallery (MODEL.md §6.2) as :func:`final_law_panels`, with their keys."""
    configs = {str(title): result.X[k] for k, title in enumerate(result.titles)}
    labels = {str(title): result.aux[k] for k, title in enumerate(result.titles)}
    return final_law_panels(configs, labels, prompts=[str(result.titles[result.index("prompts")])], size=size)


def figure_gallery(result):
    """The six final clouds on the common sphere view (MODEL.md §6.2), coloured by label, atoms circled."""
    configs = {str(title): result.X[k] for k, title in enumerate(result.titles)}
    values = {str(title): result.aux[k] for k, title in enumerate(result.titles)}
    fig = plotting.plot_gallery(configs, values=values, ncols=3, cmap="viridis", size=8,
                                suptitle=f"Final laws, n = {result.params['n']}, β = {result.params['beta']:g} "
                                         "(colour: position or prompt)")
    for ax, X in zip(fig.axes, result.X):
        _ring_atoms(ax, X)
    return fig


def figure_metastability(result, seed_index: int = 0):
    r"""Six panels (App. C, Thm. 5): cluster diameters, centre angles and energy staircase against t for
    every β of the main sweep (one seed); :math:`\log T_1` against β with the reduced-flow prediction;
    the rate study (:math:`\log(\beta T_1)` per gap with the fit :math:`a+c\beta+e/\beta`, and the
    reconstructed exponent :math:`1-\cos\Delta_0`); and the weight study (:math:`T_1` against :math:`W_{AB}`)."""
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.6), layout="constrained")
    colours = PALETTE.cycle(len(result.betas))
    t = result.t
    r = seed_index
    for b, beta in enumerate(result.betas):
        colour = colours[b]
        d = result.diameters[b, r].max(axis=0)  # NaN after the run stopped: not drawn
        axes[0, 0].plot(t, d, color=colour, lw=1.4, label=f"β = {beta:g}")
        axes[0, 1].plot(t, result.centre_angles[b, r].min(axis=0), color=colour, lw=1.4)
        axes[1, 0].plot(t, result.relative_energy_gap[b, r], color=colour, lw=1.4)
        t1 = result.T1[b, r]
        if np.isfinite(t1):
            axes[0, 1].plot([t1], [result.params["merge_angle"]], "o", color=colour, ms=4)
    k = int(result.params["n_clusters"])
    top = int(np.argmax(result.betas))
    rate = float(result.contraction_rate_predicted[top, r])
    axes[0, 0].plot(t, result.diameters[top, r].max(axis=0)[0] * np.exp(-rate * t), color="#8c8c8c", ls="--", lw=1,
                    label=f"linearised rate {rate:.3f} (β = {result.betas[top]:g}; 1/k = {1 / k:.3g})")
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylabel("largest cluster diameter")
    axes[0, 0].legend(fontsize=8, frameon=False)
    axes[0, 1].axhline(result.params["merge_angle"], color="#8c8c8c", ls="--", lw=1, label="merger threshold")
    axes[0, 1].set_ylabel("smallest angle between centres (rad)")
    axes[0, 1].legend(fontsize=8, frameon=False)
    axes[1, 0].set_ylabel(r"relative energy gap $1-E_n/E_{\max}$")
    axes[1, 0].set_ylim(bottom=0)
    for ax in (axes[0, 0], axes[0, 1], axes[1, 0]):
        ax.set_xlabel(r"rescaled time $t' = e^\beta t$")
        ax.set_xlim(0, float(t[-1]))
        ax.grid(True, color="#e5e5e5", lw=0.6)
    ax = axes[1, 1]
    mean, se = result.log_T1()
    ax.errorbar(result.betas, mean, yerr=se, fmt="o", color=PALETTE.blue, ms=5, capsize=3, label=r"measured $\log T_1$")
    ax.plot(result.betas, np.log(np.nanmean(result.T1_reduced, axis=1)), "x", color=PALETTE.vermillion, ms=7,
            label=f"reduced {k}-point flow")
    rows = result.table()
    model = [(row["beta"], row["T1_recorded"]) for row in rows if np.isfinite(row["T1_recorded"])]
    if model:
        ax.plot([b for b, _ in model], [math.log(v) for _, v in model], "s", mfc="none", color=PALETTE.black,
                ms=7, label="regression values (MODEL.md §6)")
    ax.set_xlabel(r"$\beta$")
    ax.set_ylabel(r"$\log T_1$ (rescaled clock)")
    ax.set_title(f"main sweep: Δ0 ≈ {float(np.mean(result.initial_angle)):.2f} rad", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(True, color="#e5e5e5", lw=0.6)
    _rate_panel(axes[0, 2], result.rate_study)
    _weight_panel(axes[1, 2], result.weight_study)
    fig.suptitle(f"Metastability: {k} clusters of {result.params['cluster_size']}, caps {result.params['cap_radius']:g} "
                 f"(seed {int(result.seeds[r])} in the time panels)")
    return fig


def _rate_panel(ax, study):
    r""":math:`\log(\beta T_1)` against β per gap, the fitted :math:`a+c\beta+e/\beta`, and the slope :math:`1-\cos\Delta_0`."""
    if study is None:
        ax.set_axis_off()
        return
    from ..experiments.metastability import fit_exponent

    target = study.reconstructed_exponent()
    for i, gap in enumerate(study.gaps):
        colour = PALETTE.cycle(len(study.gaps))[i]
        keep = np.isfinite(study.betas[i])
        b = study.betas[i][keep]
        log_bT = np.log(b[:, None] * study.T1[i][keep])
        ax.errorbar(b, log_bT.mean(axis=1), yerr=log_bT.std(axis=1), fmt="o", color=colour, ms=4, capsize=2)
        a, c, e = fit_exponent(b, np.exp(log_bT.mean(axis=1)) / b)
        grid = np.linspace(b.min(), b.max(), 60)
        ax.plot(grid, a + c * grid + e / grid, color=colour, lw=1.3,
                label=f"Δ0 = {gap:g}: c = {c:.3f} (1 − cos Δ0 = {target[i]:.3f})")
        anchor = a + c * b.max() + e / b.max()
        ax.plot(grid, anchor + target[i] * (grid - b.max()), color=colour, ls=":", lw=1)
    ax.set_xlabel(r"$\beta$")
    ax.set_ylabel(r"$\log(\beta T_1)$")
    ax.set_title("rate study: fit $a + c\\beta + e/\\beta$; dotted: slope $1-\\cos\\Delta_0$\n"
                 "(this project's reconstruction of the exponent)", fontsize=9)
    ax.legend(fontsize=7.5, frameon=False)
    ax.grid(True, color="#e5e5e5", lw=0.6)


def _weight_panel(ax, study):
    r""":math:`T_1` against :math:`W_{AB}` (log-log) with :math:`T_1^{\rm red}` and the line :math:`T_1\propto1/W_{AB}`."""
    if study is None:
        ax.set_axis_off()
        return
    order = np.argsort(study.W_AB)
    w = study.W_AB[order]
    T1 = study.T1[order]
    ax.errorbar(w, T1.mean(axis=1), yerr=T1.std(axis=1), fmt="o", color=PALETTE.blue, ms=5, capsize=3,
                label="measured $T_1$")
    ax.plot(w, np.nanmean(study.T1_reduced[order], axis=1), "x", color=PALETTE.vermillion, ms=7,
            label="reduced flow, same $W_{ab}$")
    scale = float(np.nanmean(study.scaled()))
    ax.plot(w, scale / w, color="#8c8c8c", ls="--", lw=1, label=r"$T_1\propto 1/W_{AB}$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"coarse-grained weight $W_{AB}$")
    ax.set_ylabel(r"$T_1$ (rescaled clock)")
    ax.set_title(f"weight study: distance bias, β = {study.beta:g}, Δ0 = {study.gap:g}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(True, which="both", color="#e5e5e5", lw=0.6)


def _mean_field_law(result, k: int) -> str:
    return "content law" if result.kernels[k] == "usa" else "joint law of (x, s)"


def _draw_mean_field_sizes(ax, result, k: int):
    r"""Exact :math:`W_2` against n (log-log) at each time, with the fitted rates and the theory's curves."""
    mean, se = result.summary()
    rate, rate_se = result.rate_summary()
    sizes = result.sizes.astype(float)
    colours = PALETTE.cycle(len(result.times))
    for j, t in enumerate(result.times):
        ax.errorbar(sizes, mean[k, :, j], yerr=se[k, :, j], fmt="o-", color=colours[j], ms=4, capsize=2, lw=1.2,
                    label=f"t = {float(t):g}: rate {rate[k, j]:.2f} ± {rate_se[k, j]:.2f}")
    anchor = mean[k, 0, 0]
    if result.kernels[k] == "usa":
        curve = np.sqrt(np.log(sizes) / sizes)
        ax.plot(sizes, anchor * curve / curve[0], color="#6e6e6e", ls="--", lw=1,
                label=r"$\sqrt{\log n/n}$ (i.i.d. on $\mathbb{S}^2$)")
    else:
        ax.plot(sizes, anchor * (sizes / sizes[0]) ** (-1 / 3), color="#6e6e6e", ls="--", lw=1,
                label="$n^{-1/3}$ (i.i.d. in 3 dimensions)")
    ax.plot(sizes, anchor * (sizes / sizes[0]) ** -0.5, color="#6e6e6e", ls=":", lw=1, label="$n^{-1/2}$ (CLT)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("particles $n$")
    ax.grid(True, which="both", **_GRID)


def _draw_mean_field_times(ax, result, k: int, motion_label: str = r"$W_2(\nu_0,\nu_t)$: the mean-field law moves"):
    r"""Exact :math:`W_2` against t for each n, and how far the mean-field law itself moves."""
    mean, se = result.summary()
    colours = PALETTE.cycle(len(result.sizes))
    for s, n in enumerate(result.sizes):
        ax.errorbar(result.times, mean[k, s], yerr=se[k, s], color=colours[s], marker="o", ms=4, lw=1.2,
                    capsize=2, label=f"n = {int(n)}")
    ax.plot(result.times, result.reference_motion[k], color=PALETTE.black, ls="--", lw=1,
            label=motion_label)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time $t$")
    ax.grid(True, which="both", **_GRID)


def _mean_field_ylabel(result, k: int) -> str:
    return f"exact $W_2$ of the {_mean_field_law(result, k)}\nto the mean-field law ({result.params['reference_size']}-point grid)"


def _leave_room_for_legend(ax, factor: float = 1.5):
    """Raise the top of a linear axis starting at 0, so that a legend in the upper corner clears the data."""
    top = max(float(np.nanmax(line.get_ydata())) for line in ax.get_lines())
    ax.set_ylim(0, factor * top)


def figure_mean_field(result):
    r"""Exact :math:`W_2` to the mean-field law against n (log-log, fitted rates, theory slopes) and against t, per kernel."""
    K = len(result.kernels)
    fig, axes = plt.subplots(K, 2, figsize=(11, 4.0 * K), layout="constrained", squeeze=False)
    for k in range(K):
        _draw_mean_field_sizes(axes[k, 0], result, k)
        _draw_mean_field_times(axes[k, 1], result, k)
        for ax in axes[k]:
            ax.set_ylabel(_mean_field_ylabel(result, k))
            ax.legend(fontsize=8, frameon=False)
    fig.suptitle(f"Mean-field limit: exact $W_2$ between the n-particle law and the exact mean-field law "
                 f"(grid of m = {result.params['reference_size']}; {len(result.seeds)} seeds, mean ± 1 s.e.)")
    return fig


def mean_field_panels(result, against=("n", "t")) -> plotting.Panels:
    r"""The panels of :func:`figure_mean_field` as :class:`usaav.plotting.Panels`: for each kernel, :math:`W_2` against n, then against t.

    Parameters
    ----------
    result : MeanFieldResult
    against : sequence of {"n", "t"}
        Which panels to draw for each kernel, in this order: :math:`W_2`
        against the number of particles (with the fitted rates and the rates
        of independent samples), against time.
    """
    against = tuple(against)
    if not against or any(x not in ("n", "t") for x in against):
        raise ValueError(f"against must be a non-empty sequence of 'n' and 't', got {against!r}")
    figures = []

    def panel(title):
        fig, ax = plt.subplots(figsize=(3.45, 2.9), layout="constrained")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("exact $W_2$ to the mean-field law", fontsize=9)
        ax.tick_params(labelsize=8.5)
        figures.append(fig)
        return ax

    for k in range(len(result.kernels)):
        title = f"{_mean_field_law(result, k)} ({'baseline' if result.kernels[k] == 'usa' else 'RoPE'})"
        for axis in against:
            ax = panel(title)
            if axis == "n":
                _draw_mean_field_sizes(ax, result, k)
                low, high = ax.get_ylim()  # log axis: free the lower part of the panel for the legend
                ax.set_ylim(low / (high / low) ** 0.7, high)
                ax.legend(fontsize=7, frameon=False, loc="lower left")
            else:
                _draw_mean_field_times(ax, result, k, motion_label=r"$W_2(\nu_0,\nu_t)$")
                _leave_room_for_legend(ax, 1.6)
                ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
    return plotting.Panels(figures)
