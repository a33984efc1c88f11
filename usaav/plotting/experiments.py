r"""Figures of the experiments (MODEL.md §6; the paper's §6, App. C): matplotlib only.

Each function takes a result of :mod:`usaav.experiments` and returns a
:class:`matplotlib.figure.Figure`; :func:`save_figure` writes it as PNG and
SVG.  Colours are the Okabe–Ito palette of :mod:`usaav.plotting`, sphere
views use its common camera, gaps are drawn on log axes.  The numerical
modules never import this one; the command line ``python -m usaav
reproduce`` and the book do (``usaav.plotting.experiments``).
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .. import plotting
from . import PALETTE

__all__ = ["figure_collapse", "figure_collapse_prediction", "figure_gallery", "figure_mean_field",
           "figure_metastability", "save_figure"]

_MODEL_COLOURS = {"baseline": PALETTE.vermillion, "rope": PALETTE.blue, "prompts": PALETTE.green}
_MODEL_NAMES = {"baseline": "baseline USA", "rope": "RoPE θ=2π", "prompts": "fixed prompts"}
_STYLES = ("-", "--", ":", "-.")
_OBSERVABLE_LABELS = {
    "collapse_gap": r"collapse gap $\Gamma(X)$",
    "gauge_gap": r"gauge-frame gap $\Gamma(\{G(a_i)x_i\})$",
    "conditional_diameter": "conditional diameter",
    "relative_energy_gap": r"relative energy gap $(E_{\max}-E_n)/E_{\max}$",
}


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


def figure_collapse(result, floor: float = 1e-32):
    r"""Four panels, one per observable of MODEL.md §6: mean ± one standard error over seeds against t.

    Colour = model, line style = size; log vertical axes (values below the
    panel's floor, e.g. an exact 0, are drawn at the floor: ``floor`` for the
    gaps, 1e-17 — the round-off level — for the diameter and the energy gap).
    In the gauge frame the three models follow the same flow from the same
    cloud, so their curves coincide: they are drawn with decreasing widths.
    """
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.2), layout="constrained", sharex=True)
    t = result.times
    widths = {"baseline": 3.4, "rope": 2.2, "prompts": 1.1}
    floors = {"collapse_gap": floor, "gauge_gap": floor, "conditional_diameter": 1e-17, "relative_energy_gap": 1e-17}
    for ax, name in zip(axes.flat, _OBSERVABLE_LABELS):
        mean, se = result.summary(name)
        low = floors[name]
        for m, model in enumerate(result.models):
            for s, size in enumerate(result.sizes):
                colour = _MODEL_COLOURS.get(str(model), PALETTE.black)
                ax.fill_between(t, np.maximum(mean[m, s] - se[m, s], low), np.maximum(mean[m, s] + se[m, s], low),
                                color=colour, alpha=0.15, linewidth=0)
                ax.plot(t, np.maximum(mean[m, s], low), color=colour, ls=_STYLES[s % len(_STYLES)],
                        lw=widths.get(str(model), 1.5), label=f"{_MODEL_NAMES.get(str(model), model)}, n={int(size)}")
        ax.set_yscale("log")
        ax.set_ylim(low / 10, 10)
        ax.set_ylabel(_OBSERVABLE_LABELS[name])
        ax.grid(True, color="#e5e5e5", lw=0.6)
    for ax in axes[1]:
        ax.set_xlabel("time $t$ (layers)")
    axes[0, 0].legend(fontsize=8, ncol=1, frameon=False, loc="lower left")
    fig.suptitle(f"Collapse through many layers (β = {result.params['beta']:g}, "
                 f"{len(result.seeds)} seeds, mean ± 1 s.e.)")
    return fig


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
    ax.axhline(2 / 3, color=PALETTE.orange, lw=1, ls="--", label="2/3 (mean over uniform $v$)")
    ax.set_xlabel("predicted original-frame gap")
    ax.set_ylabel(f"measured gap at t = {float(result.times[-1]):g}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    ax.set_title("Gap kept by RoPE and prompts")
    return fig


def figure_gallery(result):
    """The six final clouds on the common sphere view (MODEL.md §6.2), coloured by label."""
    configs = {str(title): result.X[k] for k, title in enumerate(result.titles)}
    values = {str(title): result.aux[k] for k, title in enumerate(result.titles)}
    fig = plotting.plot_gallery(configs, values=values, ncols=3, cmap="viridis", size=8,
                                suptitle=f"Final laws, n = {result.params['n']}, β = {result.params['beta']:g} "
                                         "(colour: position or prompt)")
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
    model = [(row["beta"], row["T1_MODEL_md"]) for row in rows if np.isfinite(row["T1_MODEL_md"])]
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


def figure_mean_field(result):
    r"""Exact :math:`W_2` to the mean-field law against n (log-log, fitted rates, theory slopes) and against t, per kernel."""
    K = len(result.kernels)
    fig, axes = plt.subplots(K, 2, figsize=(11, 4.0 * K), layout="constrained", squeeze=False)
    mean, se = result.summary()
    rate, rate_se = result.rate_summary()
    sizes = result.sizes.astype(float)
    for k, kernel in enumerate(result.kernels):
        law = "content law" if kernel == "usa" else "joint law of (x, s)"
        colours = PALETTE.cycle(max(len(result.times), len(result.sizes)))
        ax = axes[k, 0]
        for j, t in enumerate(result.times):
            ax.errorbar(sizes, mean[k, :, j], yerr=se[k, :, j], fmt="o-", color=colours[j], ms=4, capsize=2, lw=1.2,
                        label=f"t = {float(t):g}: rate {rate[k, j]:.3f} ± {rate_se[k, j]:.3f}")
        anchor = mean[k, 0, 0]
        theory = "AKT $\\sqrt{\\log n/n}$" if kernel == "usa" else "$n^{-1/3}$ (3 dimensions)"
        if kernel == "usa":
            curve = np.sqrt(np.log(sizes) / sizes)
            ax.plot(sizes, anchor * curve / curve[0], color="#8c8c8c", ls="--", lw=1, label=theory)
        else:
            ax.plot(sizes, anchor * (sizes / sizes[0]) ** (-1 / 3), color="#8c8c8c", ls="--", lw=1, label=theory)
        ax.plot(sizes, anchor * (sizes / sizes[0]) ** -0.5, color="#8c8c8c", ls=":", lw=1, label="$n^{-1/2}$ (CLT)")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("particles $n$")
        ax.set_ylabel(f"exact $W_2$ of the {law}\nto the mean-field law")
        ax.legend(fontsize=8, frameon=False)
        ax.grid(True, which="both", color="#e5e5e5", lw=0.6)
        ax = axes[k, 1]
        for s, n in enumerate(result.sizes):
            ax.errorbar(result.times, mean[k, s], yerr=se[k, s], color=colours[s], marker="o", ms=4, lw=1.2,
                        capsize=2, label=f"n = {int(n)}")
        ax.plot(result.times, result.reference_motion[k], color=PALETTE.black, ls="--", lw=1,
                label=r"$W_2(\nu_0,\nu_t)$: how far the mean-field law moves")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("time $t$")
        ax.set_ylabel(f"exact $W_2$ of the {law}\nto the mean-field law")
        ax.legend(fontsize=8, frameon=False)
        ax.grid(True, which="both", color="#e5e5e5", lw=0.6)
    fig.suptitle(f"Mean-field limit: exact $W_2$ between the n-particle law and the exact mean-field law "
                 f"(grid of m = {result.params['reference_size']}; {len(result.seeds)} seeds, mean ± 1 s.e.)")
    return fig
