"""Benchmark of batches: many small systems advanced together against one call per system.

Run from the repository root::

    python benchmarks/bench_batch.py              # about a minute on 2 cores
    python benchmarks/bench_batch.py --quick      # fewer rounds, noisier
    python benchmarks/bench_batch.py --sizes 256 --batch 32

For each n (default 64, 128, 256 and 1024; d = 3, β = 1, points uniform on the
sphere, fixed seeds) and B = 32 systems it times, per system,

* ``usaav.velocity`` called once on the batch ``(B, n, d)`` against B calls
  on ``(n, d)`` (the baseline, measured in the same rounds);
* a short ``usaav.simulate`` (10 Heun steps, frames every 5 steps) on the
  batch against B separate runs,

for the baseline kernel ``USA`` and for ``RoPE`` (θ = 2π, positions l/n
shared by the systems), and prints a markdown table with the ratios and the
target at n = 256 (at least 3× faster per system).

Before anything is timed, the batched results are compared with the
separate ones and must be bitwise equal (``np.array_equal``); otherwise the
script stops with exit status 1.

Timing as in ``bench_velocity.py``: minimum over rounds of interleaved
batches of calls, wall-clock time (CPU time when every BLAS is pinned to one
thread).  Progress goes to stderr; stdout is markdown.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import usaav
from usaav import kernels, labels

from bench_velocity import SINGLE_THREADED, best_times, environment, fmt_seconds, progress

SIZES = (64, 128, 256, 1024)
BATCH = 32
D = 3
BETA = 1.0
SEED = 0
#: Per-system speed-up of a batch over separate calls, checked at n = TARGET_N.
TARGET_N = 256
TARGET_SPEEDUP = 3.0
#: The short simulation: 10 Heun steps of 0.05, a frame every 5 steps.
SIMULATION = dict(t_max=0.5, dt=0.05, record_every=5)


def prepare(n: int, batch: int, seed: int) -> dict:
    """Check batch == separate bitwise for ``n``; return the functions to time."""
    X = np.stack([usaav.uniform_sphere(n, D, rng=seed + b) for b in range(batch)])
    cases = {"USA": (kernels.USA(BETA), None), "RoPE": (kernels.RoPE(BETA), labels.grid_positions(n))}
    functions = {}
    for name, (kernel, aux) in cases.items():
        together = usaav.velocity(kernel, X, aux)
        run = usaav.simulate(kernel, X, aux, **SIMULATION)
        for b in range(batch):
            alone = usaav.simulate(kernel, X[b], aux, **SIMULATION)
            if not (np.array_equal(together[b], usaav.velocity(kernel, X[b], aux))
                    and np.array_equal(run[b].X, alone.X) and np.array_equal(run[b].energy, alone.energy)):
                raise SystemExit(f"n = {n}, {name}: the batch differs from separate runs for system {b}; "
                                 "not timing a wrong answer")

        def velocity_separate(kernel=kernel, aux=aux):
            for b in range(batch):
                usaav.velocity(kernel, X[b], aux)

        def simulate_separate(kernel=kernel, aux=aux):
            for b in range(batch):
                usaav.simulate(kernel, X[b], aux, **SIMULATION)

        functions[(name, "velocity", "separate")] = velocity_separate
        functions[(name, "velocity", "batch")] = lambda kernel=kernel, aux=aux: usaav.velocity(kernel, X, aux)
        functions[(name, "simulate", "separate")] = simulate_separate
        functions[(name, "simulate", "batch")] = (
            lambda kernel=kernel, aux=aux: usaav.simulate(kernel, X, aux, **SIMULATION))
    return functions


def markdown_table(results: dict, sizes, batch: int) -> str:
    header = ["n", "kernel", "`velocity`: separate", "batch", "ratio",
              "short `simulate`: separate", "batch", "ratio"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for n in sizes:
        for name in ("USA", "RoPE"):
            cells = [str(n), name]
            for what in ("velocity", "simulate"):
                separate = results[(n, name, what, "separate")] / batch
                together = results[(n, name, what, "batch")] / batch
                cells += [fmt_seconds(separate), fmt_seconds(together), f"**{separate / together:.1f}×**"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_lines(results: dict, sizes) -> list[str]:
    if TARGET_N not in sizes:
        return [f"- Target: not measured (n = {TARGET_N} was not among the sizes)."]
    out = []
    for what in ("velocity", "simulate"):
        ratios = [results[(TARGET_N, name, what, "separate")] / results[(TARGET_N, name, what, "batch")]
                  for name in ("USA", "RoPE")]
        worst = min(ratios)
        out.append(f"- Target at n = {TARGET_N}, `{what}` per system, separate / batch ≥ {TARGET_SPEEDUP:g}: "
                   f"{worst:.1f}× (worst kernel) — **{'PASS' if worst >= TARGET_SPEEDUP else 'MISS'}**")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rounds (noisier)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), metavar="N",
                        help=f"particle counts (default: {' '.join(map(str, SIZES))})")
    parser.add_argument("--batch", type=int, default=BATCH, metavar="B", help=f"systems per batch (default {BATCH})")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds (default 7, 3 with --quick)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the first system (default {SEED})")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    load_start = os.getloadavg()[0]

    functions = {}
    for n in args.sizes:
        progress(f"n = {n}: checking the batch against separate runs ...")
        functions.update({(n,) + key: f for key, f in prepare(n, args.batch, args.seed).items()})
    times = best_times(functions, rounds, 0.02 if args.quick else 0.05)

    clock = "CPU time (one thread throughout)" if SINGLE_THREADED else "wall-clock time"
    print(f"Seconds per system: a batch of B = {args.batch} systems in one call against {args.batch} "
          f"separate calls; d = {D}, β = {BETA:g}, uniform points; short simulate = "
          f"{int(round(SIMULATION['t_max'] / SIMULATION['dt']))} Heun steps. {clock}, best of {rounds} rounds.")
    print(f"{environment()}; load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end.\n")
    print(markdown_table(times, args.sizes, args.batch))
    print()
    for line in target_lines(times, args.sizes):
        print(line)
    print("- Before timing, every batched velocity, trajectory and energy was bitwise equal to the "
          "separate runs' (np.array_equal).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
