"""Benchmark of the phase diagrams of the attention block: one batch against a loop of separate runs.

Run from the repository root::

    python benchmarks/bench_attention.py            # about a minute on 2 cores
    python benchmarks/bench_attention.py --quick    # fewer systems and rounds, noisier

A phase diagram of MODEL.md §7 (iii) advances every β and seed of a variant
together (``usaav.experiments.transformer.phase_piece``): B = betas × seeds
systems of n = 32 tokens in d = 4, RMSNorm layers of h = 1/8.  This script
times, for three variants (SA + RoPE; SA + LLM RoPE with unrotated values;
SA + RoPE with random Q, K, V and LayerNorm), 40 layers of

* the batch: one ``usaav.attention.run`` on ``(B, n, d)``;
* the loop: B ``run`` calls on ``(n, d)``, one per system (``--no-batch``),

measured in the same rounds, and prints a markdown table with the
per-system times and the ratio loop / batch, against the target: at least
5× at n = 32 (issue 19).  Before timing, the two are compared: the largest
difference of the final tokens must be below 1e-12 (BLAS sums a batch's
products in other orders than a single system's; measured ~1e-15).

Timing as in ``bench_velocity.py``: minimum over rounds of interleaved
batches of calls.  Progress goes to stderr; stdout is markdown.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from usaav.attention import AttentionBlock, run
from usaav.experiments.transformer import PHASE_D, phase_block

from bench_velocity import best_times, environment, fmt_seconds, progress

N = 32
LAYERS = 40
TARGET_SPEEDUP = 5.0
VARIANTS = {"sa": "SA + RoPE", "sa_llm_rope": "SA + LLM RoPE, unrotated values", "sa_qkv": "SA + RoPE, random Q, K, V"}


def systems(variant: str, betas: int, seeds: int):
    """The block, initial tokens ``(B, n, d)`` and positions of one phase-diagram batch."""
    grid = np.linspace(0.5, 12.0, betas)
    block, kind = phase_block(variant, [b for b in grid for _ in range(seeds)])
    rng = np.random.default_rng(0)
    X0 = np.tile(np.stack([_sphere(rng) for _ in range(seeds)]), (betas, 1, 1))
    aux = np.arange(N) / N if kind == "grid" else np.arange(N, dtype=np.float64)
    return block, X0, aux


def _sphere(rng):
    X = rng.standard_normal((N, PHASE_D))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def single(block: AttentionBlock, b: int) -> AttentionBlock:
    options = {name: getattr(block, name) for name in
               ("normalisation", "values", "query", "key", "value", "mask", "depth", "norm", "step")}
    return AttentionBlock(block.kernels[b], **options)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    betas, seeds, rounds = (6, 4, 2) if args.quick else (24, 8, 3)
    depth = LAYERS * 0.125
    rows = []
    for variant, title in VARIANTS.items():
        block, X0, aux = systems(variant, betas, seeds)
        singles = [single(block, b) for b in range(len(X0))]
        progress(f"{variant}: checking the batch against separate runs")
        together = run(block, X0, aux, depth, record_every=LAYERS).final
        apart = np.stack([run(singles[b], X0[b], aux, depth, record_every=LAYERS).final for b in range(len(X0))])
        difference = float(np.max(np.abs(together - apart)))
        if not difference < 1e-12:
            print(f"{variant}: batch and separate runs differ by {difference:.3g} > 1e-12", file=sys.stderr)
            return 1
        times = best_times({
            "batch": lambda: run(block, X0, aux, depth, record_every=LAYERS),
            "loop": lambda: [run(singles[b], X0[b], aux, depth, record_every=LAYERS) for b in range(len(X0))],
        }, rounds=rounds, batch_seconds=0.5)
        B = len(X0)
        rows.append((title, B, times["batch"] / B, times["loop"] / B, times["loop"] / times["batch"], difference))
    print(f"Phase-diagram batches, n = {N}, d = {PHASE_D}, {LAYERS} layers; {environment()}\n")
    print("| variant | systems B | batch, per system | loop, per system | loop / batch | max difference |")
    print("|---|---|---|---|---|---|")
    for title, B, batch, loop, ratio, difference in rows:
        print(f"| {title} | {B} | {fmt_seconds(batch)} | {fmt_seconds(loop)} | {ratio:.1f}x | {difference:.1e} |")
    worst = min(r[4] for r in rows)
    print(f"\nTarget: the batch at least {TARGET_SPEEDUP:g}x faster than the loop at n = {N}: "
          f"{'met' if worst >= TARGET_SPEEDUP else 'NOT met'} (smallest ratio {worst:.1f}x)")
    return 0 if worst >= TARGET_SPEEDUP else 1


if __name__ == "__main__":
    sys.exit(main())
