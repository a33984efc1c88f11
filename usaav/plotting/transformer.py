r"""Figures of the transformer experiment (MODEL.md §7): matplotlib only.

:func:`figure_phase_diagrams` draws, for each variant of the attention block,
the fraction of clustered runs over β × depth with the measured boundary;
:func:`figure_layer_order` the error of the RMSNorm layers against the flow.
The numerical modules never import this one.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import PALETTE

__all__ = ["VARIANT_TITLES", "figure_layer_order", "figure_phase_diagrams"]

#: How the figures name the variants of MODEL.md §7 (iii).
VARIANT_TITLES = {
    "usa": "USA + RoPE (the paper)",
    "sa": "SA + RoPE",
    "sa_unrotated": "SA + RoPE, values not rotated",
    "sa_llm_rope": "SA + LLM RoPE",
    "sa_causal": "SA + RoPE, causal mask",
    "sa_qkv": "SA + RoPE, random Q, K, V",
    "sa_layernorm": "SA + RoPE, LayerNorm",
    "sa_plain": "SA, no positions",
}


def figure_phase_diagrams(result):
    """One panel per variant: clustered fraction over β (horizontal) × depth (vertical), boundary in white."""
    variants = [str(v) for v in result.variants]
    columns = 4
    rows = -(-len(variants) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(12, 3.0 * rows), layout="constrained", sharex=True, sharey=True)
    betas, depths = result.betas, result.depths
    fraction, boundary = result.clustered_fraction, result.boundary
    image = None
    for ax, (v, variant) in zip(axes.flat, enumerate(variants)):
        image = ax.pcolormesh(betas, depths, fraction[v].T, vmin=0.0, vmax=1.0, cmap="viridis", shading="nearest")
        finite = np.isfinite(boundary[v])
        ax.plot(betas[finite], boundary[v][finite], color="white", lw=1.5, marker=".", ms=3)
        ax.set_title(VARIANT_TITLES.get(variant, variant), fontsize=9)
    for ax in axes.flat[len(variants):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("β")
    for ax in axes[:, 0]:
        ax.set_ylabel("depth t")
    fig.colorbar(image, ax=axes, shrink=0.8, label=f"fraction of clustered runs (Γ < {result.params['clustered_gap']:g})")
    fig.suptitle(f"Which idealisation decides collapse: n = {result.params['phase_n']}, d = {result.params['d']}, "
                 f"layers h = {result.params['phase_step']:g}, {len(result.phase_seeds)} seeds per cell")
    return fig


def figure_layer_order(result):
    """Largest token distance between RMSNorm layers and the flow at depth 1, against h (log-log), with slope 1."""
    fig, ax = plt.subplots(figsize=(4.2, 3.4), layout="constrained")
    h, error = result.order_steps, result.order_errors
    ax.loglog(h, error, "o-", color=PALETTE.blue, label="layers against the flow")
    ax.loglog(h, error[0] * h / h[0], "--", color="0.5", label="slope 1")
    slope, _ = result.order()
    ax.set_xlabel("layer step h")
    ax.set_ylabel("largest token distance at depth 1")
    ax.set_title(f"fitted order {slope:.3f}", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    return fig
