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

At n = 256 it also times the tile arithmetic of the batch alone
(:func:`tile_arithmetic`: the products, exps and contractions of the same
stacks of tiles, with nothing else), and prints the largest ratio a batch
could reach if all the rest cost nothing: separate time / arithmetic time.

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
from usaav._pairwise import BATCH_ENTRIES, tile_plan

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


def tile_arithmetic(n: int, batch: int, seed: int):
    """The tile operations of ``batch`` systems at ``n`` alone, as a function to time.

    For every stack of tiles that ``usaav._pairwise.exp_attention`` forms
    (same plan, same stack sizes), the product giving the exponents, the
    in-place ``exp`` and the contractions (two for the strips, one for the
    diagonal squares), on arrays allocated beforehand and with no other
    Python in between: what a batch costs if everything but its arithmetic
    were free.
    """
    plan = tile_plan(n)
    rng = np.random.default_rng(seed)
    kinds = []  # (tiles in the stack, rows, columns, contractions)
    squares = batch * plan.blocks
    per = max(1, min(squares, BATCH_ENTRIES // plan.block**2))
    kinds += [(min(per, squares - k), plan.block, plan.block, 1) for k in range(0, squares, per)]
    if plan.tail:
        per = max(1, min(batch, BATCH_ENTRIES // plan.tail**2))
        kinds += [(min(per, batch - k), plan.tail, plan.tail, 1) for k in range(0, batch, per)]
    for i0, i1, j0, j1 in plan.strips:
        per = max(1, min(batch, BATCH_ENTRIES // ((i1 - i0) * (j1 - j0))))
        kinds += [(min(per, batch - k), i1 - i0, j1 - j0, 2) for k in range(0, batch, per)]
    # Exponents β(⟨u, v⟩ - 1) of uniform points, as in the tiles (β = BETA), and one
    # tile buffer for all stacks, as exp_attention has (it stays in the cache).
    buffer = np.empty(BATCH_ENTRIES)
    stacks = []
    for count, rows, cols, contractions in kinds:
        u = usaav.uniform_sphere(count * (rows + cols), D, rng)
        left = np.concatenate([np.sqrt(BETA) * u[: count * rows], np.ones((count * rows, 1))], axis=1)
        right = np.concatenate([np.sqrt(BETA) * u[count * rows:], np.full((count * cols, 1), -BETA)], axis=1)
        stacks.append((left.reshape(count, rows, D + 1), right.reshape(count, cols, D + 1).transpose(0, 2, 1).copy(),
                       buffer[: count * rows * cols].reshape(count, rows, cols),
                       rng.standard_normal((count, cols, D + 1)), rng.standard_normal((count, rows, D + 1)),
                       np.empty((count, rows, D + 1)), np.empty((count, cols, D + 1)), contractions))

    def run():
        for left, right, tile, o_cols, o_rows, acc_rows, acc_cols, contractions in stacks:
            np.matmul(left, right, out=tile)
            np.exp(tile, out=tile)
            np.matmul(tile, o_cols, out=acc_rows)
            if contractions == 2:
                np.matmul(tile.transpose(0, 2, 1), o_rows, out=acc_cols)

    return run


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


def target_lines(results: dict, sizes, batch: int) -> list[str]:
    if TARGET_N not in sizes:
        return [f"- Target: not measured (n = {TARGET_N} was not among the sizes)."]
    floor = results[(TARGET_N, "arithmetic")] / batch
    steps = int(round(SIMULATION["t_max"] / SIMULATION["dt"]))
    passes = 2 * steps + steps // SIMULATION["record_every"] + 1  # Heun: 2 per step; an energy per frame
    bounds = []
    for what, arithmetic in (("velocity", floor), ("simulate", passes * floor)):
        separate = min(results[(TARGET_N, name, what, "separate")] for name in ("USA", "RoPE")) / batch
        bounds.append(f"`{what}` {separate / arithmetic:.1f}× ({fmt_seconds(separate)} / {fmt_seconds(arithmetic)})")
    out = [f"- The tile arithmetic alone at n = {TARGET_N} (products, exps and contractions of the same stacks, "
           f"arrays allocated beforehand, nothing else): {fmt_seconds(floor)} per system and pass over the "
           f"pairs. A batch doing nothing but that arithmetic ({passes} passes in the short simulate, an energy "
           f"counted as one) would beat the fastest separate calls by at most " + " and ".join(bounds)
           + ": the ceiling of any batch of this method."]
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
    if TARGET_N in args.sizes:
        functions[(TARGET_N, "arithmetic")] = tile_arithmetic(TARGET_N, args.batch, args.seed)
    times = best_times(functions, rounds, 0.02 if args.quick else 0.05)

    clock = "CPU time (one thread throughout)" if SINGLE_THREADED else "wall-clock time"
    print(f"Seconds per system: a batch of B = {args.batch} systems in one call against {args.batch} "
          f"separate calls; d = {D}, β = {BETA:g}, uniform points; short simulate = "
          f"{int(round(SIMULATION['t_max'] / SIMULATION['dt']))} Heun steps. {clock}, best of {rounds} rounds.")
    print(f"{environment()}; load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end.\n")
    print(markdown_table(times, args.sizes, args.batch))
    print()
    for line in target_lines(times, args.sizes, args.batch):
        print(line)
    print("- Before timing, every batched velocity, trajectory and energy was bitwise equal to the "
          "separate runs' (np.array_equal).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
