"""Benchmark: ``usaav.velocity`` of a separated kernel against RoPE, and where the time goes.

Run from the repository root::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_separated.py            # n = 4096 and 8192
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_separated.py --sizes 2048

A separated kernel ``w(a, b) e^{β<x,y>}/β`` calls the user's weight tile by
tile: once over every pair to check that it is symmetric (the tiled sums use
one triangle of the pairs), then over one triangle for the forces.  RoPE has
no callable.  For each n (d = 3, β = 1, grid labels, seed 0) the script
prints, measured in the same run (minimum over rounds of one call each, so
a burst of load from other jobs spoils a round of every method alike):

* seconds per ``velocity`` call for RoPE and for ``Separated`` with the
  weight ``exp(-|a - b|)``, and their ratio (the issue's target: at most 5);
* the symmetry scan alone, and the weight alone evaluated once on all n²
  pairs in tiles of the scan's size (the floor set by the user's callable:
  the scan needs every pair, the forces half of them);
* ``scan / weight``: what the scan adds to the callable's own evaluations
  (1.0: nothing), and ``(separated - scan) / RoPE``: the forces alone
  (half of the pairs' weights, the exponentials and the sums) against RoPE.

Nothing here asserts a time; the numbers are printed for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import usaav
from usaav import kernels
from usaav._validation import BLOCK_ENTRIES


def exponential_weight(a, b):
    """w(a, b) = exp(-|a - b|), symmetric to the bit."""
    return np.exp(-np.abs(a[:, None] - b[None, :]))


def best_of(call, rounds: int) -> float:
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def weight_alone(labels: np.ndarray) -> None:
    """The weight on all n² pairs, in the scan's tiles (its allocations included)."""
    side = max(1, min(len(labels), int(np.sqrt(BLOCK_ENTRIES // 2))))
    for i0 in range(0, len(labels), side):
        for j0 in range(0, len(labels), side):
            exponential_weight(labels[i0:i0 + side], labels[j0:j0 + side])


def measure(n: int, rounds: int) -> dict:
    X = usaav.uniform_sphere(n, 3, rng=np.random.default_rng(0))
    labels = np.arange(n) / n
    rope, separated = kernels.RoPE(1.0), kernels.Separated(1.0, exponential_weight)
    # correctness first: the separated velocity against a dense computation of the same formula
    if n <= 4096:
        W = exponential_weight(labels, labels) * np.exp(X @ X.T - 1.0) * np.e
        drift = W @ X / n
        dense = drift - np.sum(drift * X, axis=1, keepdims=True) * X
        error = np.max(np.abs(usaav.velocity(separated, X, labels) - dense)) / np.max(np.abs(dense))
        if not error < 1e-12:
            raise SystemExit(f"n = {n}: separated velocity differs from the dense formula by {error:.2g}")
    times = {"rope": np.inf, "separated": np.inf, "scan": np.inf, "weight": np.inf}
    for _ in range(rounds):  # one call of each per round
        times["rope"] = min(times["rope"], best_of(lambda: usaav.velocity(rope, X, labels), 1))
        times["separated"] = min(times["separated"], best_of(lambda: usaav.velocity(separated, X, labels), 1))
        times["scan"] = min(times["scan"], best_of(
            lambda: kernels._scan_symmetric_weight(separated._weights, labels), 1))
        times["weight"] = min(times["weight"], best_of(lambda: weight_alone(labels), 1))
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4096, 8192])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f}; BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")
    print("| n | RoPE s | separated s | ratio | scan s | weight on n² pairs s | scan / weight | forces / RoPE |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        t = measure(n, args.rounds)
        ratio = t["separated"] / t["rope"]
        forces = (t["separated"] - t["scan"]) / t["rope"]
        print(f"| {n} | {t['rope']:.3f} | {t['separated']:.3f} | {ratio:.1f} | {t['scan']:.3f} | "
              f"{t['weight']:.3f} | {t['scan'] / t['weight']:.2f} | {forces:.1f} |")


if __name__ == "__main__":
    main()
