"""Benchmark of ``usaav.velocity`` against plain NumPy and the cost of one dense ``exp``.

Run from the repository root::

    python benchmarks/bench_velocity.py            # about 30 s on 2 cores
    python benchmarks/bench_velocity.py --quick    # fewer rounds, about 15 s
    python benchmarks/bench_velocity.py --sizes 256 2048 --large 0

For n in {16, 64, 256, 1024, 2048, 8192} (d = 3, β = 1, points uniform on the
sphere, fixed seed) it prints a markdown table of

* seconds per ``usaav.velocity`` call for the baseline kernel ``USA`` and the
  gauge kernel ``RoPE`` (same cost: forces are computed in the gauge frame);
* the ratio to *plain NumPy*, the approach of the public implementations and
  the baseline named in the issue, ``V = np.exp(beta * (X @ X.T)) @ X / n``
  then the tangent projection, timed in the same run (NumPy evaluates
  ``X @ X.T`` with the BLAS symmetric rank-k update).  A variant written
  ``np.exp(beta * X @ X.T)``, which Python reads as ``(beta * X) @ X.T`` and
  NumPy sends to a general product, is faster on these machines; it is
  shown in its own column so that no reader has to take the baseline on trust;
* the ratio to a single ``np.exp`` over an n × n float64 array, the floor of
  any exact dense method.  The array exponentiated is β(X Xᵀ − 1), whose
  entries lie in [−2β, 0], so no overflow path is timed.  Both the allocating
  ``np.exp(M)`` (what a dense method does) and ``np.exp(M, out=buffer)`` (no
  page faults: a stricter floor) are shown;

then the small-system targets (plain NumPy / usaav at least 1 at n = 16 and 64
and 3 at n = 256, against the faster plain formulation; a call at n = 16 under
15 µs), a single run at n = 32768 for usaav alone (plain NumPy would need an
8 GiB n × n array) with its peak memory, and the targets at n = 2048: at
least 3× (the goal is 5×) against the faster plain formulation
``(βX) @ Xᵀ``, whose time at n = 2048 is also measured in a fresh process
without the allocator warm-up (:func:`cold_gemm_baseline`); the ratio is
taken against the faster of the two, so the baseline gets every advantage.

Before anything is timed, every usaav result is compared with an independent
dense computation (relative difference at most 1e-12), so a fast wrong answer
stops the benchmark with exit status 1.

Timing: the machine may be shared and noisy, so every quantity is the minimum
over ``rounds`` batches (``timeit``) of the mean time per call in the batch,
measured in wall-clock time in the default environment (what a user
sees), or in CPU time (user + system) when the caller pins every BLAS to one
thread (``OPENBLAS_NUM_THREADS=1`` etc.), which hides the time slices taken
by other jobs.
A round times one batch of every method at every n, so a burst of load from
other jobs, however long, spoils a few rounds of all methods alike rather
than all batches of one method.  The load average is printed.  The
memory allocator is warmed first (:func:`warm_allocator`), which makes plain
NumPy faster and its times reproducible: the comparison is in its favour.

BLAS threads: usaav runs on one core by design (its products stay below the
size where OpenBLAS starts threads, see ``usaav/_pairwise.py``); plain NumPy
uses BLAS's default threads unless the caller sets ``OPENBLAS_NUM_THREADS``.

Progress goes to stderr; stdout is markdown, ready to paste into the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import timeit
import tracemalloc

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: With one thread everywhere, CPU time is the time of the work itself, blind
#: to the time slices other jobs take; with BLAS threads it would add the
#: threads' times up, so wall-clock time is used instead.
SINGLE_THREADED = all(os.environ.get(variable) == "1" for variable in THREAD_VARIABLES)
CLOCK = time.process_time if SINGLE_THREADED else time.perf_counter

import numpy as np  # noqa: E402

import usaav  # noqa: E402
from usaav import kernels, labels  # noqa: E402

SIZES = (16, 64, 256, 1024, 2048, 8192)
LARGE = 32768
D = 3
BETA = 1.0
THETA = 2 * np.pi
SEED = 0
#: Targets, checked at n = TARGET_N.
TARGET_N = 2048
TARGET_GEMM = 3.0  # plain `(βX) @ Xᵀ` time / usaav time, at least ...
GOAL_GEMM = 5.0  # ... and the goal we chase
TARGET_SPEEDUP = 7.0  # plain NumPy (the formulation) time / usaav time, at least
TARGET_FLOOR = 1.3  # usaav time / one allocating n × n exp, at most
#: Small systems (issue 20): plain NumPy time / usaav time, at least, at each n
#: (the chapters, exercises and phase diagrams live at these sizes), and the most
#: a call may cost at n = 16, where the arithmetic is a few µs: the fixed cost.
SMALL_TARGETS = {16: 1.0, 64: 1.0, 256: 3.0}
FIXED_COST_TARGET = 15e-6
#: usaav and the dense reference sum the same n terms in different orders:
#: they differ by ~n·eps ≈ 1e-12 at n = 8192 in the worst case (observed ~1e-15).
CHECK_RTOL = 1e-12
#: Rows of the n = LARGE run checked against their direct sums.
LARGE_CHECK_ROWS = 64


# --------------------------------------------------------------------------
# The methods compared
# --------------------------------------------------------------------------


def plain_velocity(X: np.ndarray, beta: float) -> np.ndarray:
    """Plain NumPy as in the public implementations and the issue: ``exp(β (X Xᵀ)) X``, projected."""
    n = len(X)
    V = np.exp(beta * (X @ X.T)) @ X / n
    return V - np.sum(V * X, 1)[:, None] * X


def plain_velocity_gemm(X: np.ndarray, beta: float) -> np.ndarray:
    """The same written ``exp(β X @ X.T)``: ``(βX) @ X.T`` goes to a general BLAS product."""
    n = len(X)
    V = np.exp(beta * X @ X.T) @ X / n
    return V - np.sum(V * X, 1)[:, None] * X


def plain_rope_velocity(X: np.ndarray, s: np.ndarray, beta: float, theta: float) -> np.ndarray:
    r"""Dense RoPE velocity :math:`P_{x_i}G_i^\top\frac1n\sum_j e^{\beta\langle G_ix_i,G_jx_j\rangle}G_jx_j`.

    Built from explicit rotation matrices :math:`G_i=R_{\theta s_i}`, not
    from the library's gauge-frame shortcut.
    """
    G = usaav.rotation(theta * s, X.shape[1])
    U = np.einsum("nab,nb->na", G, X)
    F = np.exp(beta * U @ U.T) @ U / len(X)
    V = np.einsum("nba,nb->na", G, F)
    return V - np.sum(V * X, 1)[:, None] * X


def relative_difference(actual: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def best_times(functions: dict, rounds: int, batch_seconds: float) -> dict:
    """Seconds per call of each function: the minimum over ``rounds`` batches.

    Each batch runs a function ``number`` times back to back, with
    ``number`` chosen so that a batch lasts about ``batch_seconds``.  A round
    runs one batch of every function, so a burst of load from other jobs,
    however long, spoils at most a few rounds of every method alike.
    """
    numbers = {}
    for key, function in functions.items():
        single = min(timeit.repeat(function, number=1, repeat=2, timer=CLOCK))  # also warms up
        numbers[key] = max(1, int(batch_seconds / max(single, 1e-9)))
    best = {key: np.inf for key in functions}
    for round_ in range(rounds):
        progress(f"round {round_ + 1} of {rounds}")
        for key, function in functions.items():
            seconds = timeit.timeit(function, number=numbers[key], timer=CLOCK) / numbers[key]
            best[key] = min(best[key], seconds)
    return best


def warm_allocator() -> None:
    """Allocate and free a 31 MiB array once, in fairness to plain NumPy.

    glibc serves large requests with fresh ``mmap`` pages (page faults and
    zeroing on every call) until a freed mmapped chunk raises its dynamic
    threshold, up to 32 MiB.  Without this, the plain-NumPy times at n <= 1024
    depend on what ran before (measured at n = 256: 0.6 ms cold, 0.11 ms
    warm).  usaav's 512 KiB tile buffer warms the allocator by itself.
    """
    block = np.ones(31 * 2**20 // 8)
    del block


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# The runs
# --------------------------------------------------------------------------


def prepare_size(n: int, seed: int) -> tuple[dict, float]:
    """Check usaav against the dense references at ``n``; return the functions to time.

    Returns ``({name: function}, largest relative difference)``.
    """
    X = usaav.uniform_sphere(n, D, rng=seed)
    s = labels.grid_positions(n)
    usa, rope = kernels.USA(BETA), kernels.RoPE(BETA, THETA)

    errors = {
        "USA": relative_difference(usaav.velocity(usa, X, None), plain_velocity(X, BETA)),
        "RoPE": relative_difference(usaav.velocity(rope, X, s), plain_rope_velocity(X, s, BETA, THETA)),
    }
    for name, error in errors.items():
        if not error <= CHECK_RTOL:
            raise SystemExit(
                f"n = {n}: usaav {name} velocity differs from the dense computation by "
                f"{error:.1e} (relative) > {CHECK_RTOL:.0e}; not timing a wrong answer"
            )

    exponent = BETA * (X @ X.T - 1.0)  # entries in [-2β, 0]: no overflow path
    out = np.empty_like(exponent)
    functions = {
        "usa": lambda: usaav.velocity(usa, X, None),
        "rope": lambda: usaav.velocity(rope, X, s),
        "plain": lambda: plain_velocity(X, BETA),
        "plain_gemm": lambda: plain_velocity_gemm(X, BETA),
        "exp": lambda: np.exp(exponent),
        "exp_in_place": lambda: np.exp(exponent, out=out),
    }
    return functions, max(errors.values())


def measure_large(n: int, repeat: int, seed: int) -> dict:
    """usaav alone at a size where plain NumPy cannot run: time and peak memory.

    Run first, before anything large is allocated, so that the growth of the
    peak resident set size (``ru_maxrss``) is due to this call alone.
    """
    X = usaav.uniform_sphere(n, D, rng=seed)
    usa = kernels.USA(BETA)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = CLOCK()
    V = usaav.velocity(usa, X, None)
    first = CLOCK() - start
    rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024

    # A sample of rows against their direct sums (the dense check of the others).
    rows = np.random.default_rng(seed).choice(n, LARGE_CHECK_ROWS, replace=False)
    F = np.exp(BETA * X[rows] @ X.T) @ X / n
    expected = F - np.sum(F * X[rows], 1)[:, None] * X[rows]
    error = relative_difference(V[rows], expected)
    if not error <= CHECK_RTOL:
        raise SystemExit(f"n = {n}: usaav differs from the direct sums by {error:.1e} > {CHECK_RTOL:.0e}")

    tracemalloc.start()  # NumPy reports its array buffers to tracemalloc
    usaav.velocity(usa, X, None)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    seconds = min([first] + timeit.repeat(lambda: usaav.velocity(usa, X, None), number=1, repeat=repeat,
                                          timer=CLOCK))
    return {"n": n, "seconds": seconds, "traced_peak": traced_peak, "rss_growth": rss_growth,
            "error": error, "points_bytes": X.nbytes}


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def fmt_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def mib(size: float) -> str:
    return f"{size / 2**20:.1f} MiB"


def environment() -> str:
    blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or "default"
    return (
        f"Python {platform.python_version()}, NumPy {np.__version__} "
        f"({blas.get('name')} {blas.get('version')}, BLAS threads: {threads}), "
        f"{os.cpu_count()} logical CPUs, {platform.machine()}"
    )


def markdown_table(results: list[dict]) -> str:
    header = [
        "n", "usaav USA", "usaav RoPE", "plain NumPy", "plain, `(βX)@Xᵀ`", "one n×n `exp`",
        "plain / USA", "plain `(βX)@Xᵀ` / USA", "USA / `exp`", "USA / in-place `exp`",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        cells = [
            str(r["n"]), fmt_seconds(r["usa"]), fmt_seconds(r["rope"]), fmt_seconds(r["plain"]),
            fmt_seconds(r["plain_gemm"]), fmt_seconds(r["exp"]),
            f"**{r['plain'] / r['usa']:.1f}×**", f"{r['plain_gemm'] / r['usa']:.1f}×",
            f"{r['usa'] / r['exp']:.2f}",
            f"{r['usa'] / r['exp_in_place']:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cold_gemm_baseline(n: int, seed: int, repeat: int) -> float:
    """Seconds of ``plain_velocity_gemm`` at ``n`` in a fresh process, without allocator warm-up.

    Best of ``repeat`` calls after one untimed call, with the clock of this run.
    """
    import subprocess

    code = (
        "import sys, time, timeit; sys.path.insert(0, {here!r}); import numpy as np, usaav;"
        "from bench_velocity import plain_velocity_gemm, BETA, D, CLOCK;"
        "X = usaav.uniform_sphere({n}, D, rng={seed}); plain_velocity_gemm(X, BETA);"
        "print(min(timeit.repeat(lambda: plain_velocity_gemm(X, BETA), number=1, repeat={repeat}, timer=CLOCK)))"
    ).format(here=os.path.dirname(os.path.abspath(__file__)), n=n, seed=seed, repeat=repeat)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(output.stdout.strip())


def target_lines(results: list[dict], cold_gemm: float | None = None) -> list[str]:
    at = [r for r in results if r["n"] == TARGET_N]
    if not at:
        return [f"- Targets: not measured (n = {TARGET_N} was not among the sizes)."]
    r = at[0]
    speedup, floor = r["plain"] / r["usa"], r["usa"] / r["exp"]
    gemm = r["plain_gemm"] if cold_gemm is None else min(r["plain_gemm"], cold_gemm)
    gemm_speedup = gemm / r["usa"]
    cold = ("" if cold_gemm is None else
            f" (best of {fmt_seconds(r['plain_gemm'])} after the allocator warm-up and "
            f"{fmt_seconds(cold_gemm)} in a fresh process without it)")
    verdict = "PASS, goal met" if gemm_speedup >= GOAL_GEMM else ("PASS" if gemm_speedup >= TARGET_GEMM else "MISS")
    return [
        f"- **Target at n = {TARGET_N}, plain `(βX) @ Xᵀ` / usaav ≥ {TARGET_GEMM:g} (goal {GOAL_GEMM:g}): "
        f"{gemm_speedup:.1f}× — {verdict}**; the baseline takes {fmt_seconds(gemm)}{cold}, "
        f"usaav {fmt_seconds(r['usa'])}.",
        f"- Target at n = {TARGET_N}, plain NumPy / usaav ≥ {TARGET_SPEEDUP:g}: "
        f"{speedup:.1f}× — **{'PASS' if speedup >= TARGET_SPEEDUP else 'MISS'}**",
        f"- Target at n = {TARGET_N}, usaav / one n×n `exp` ≤ {TARGET_FLOOR:g}: "
        f"{floor:.2f} — **{'PASS' if floor <= TARGET_FLOOR else 'MISS'}**",
        "- Plain NumPy is the issue's `np.exp(X @ X.T) @ X` then the projection; the faster "
        "variant `(beta * X) @ X.T` (same result, a general BLAS product) is the target's baseline.",
    ]


def small_lines(results: list[dict]) -> list[str]:
    """The small-system targets: plain NumPy (the faster of its two formulations) / usaav, and the fixed cost."""
    lines = []
    for r in results:
        if r["n"] not in SMALL_TARGETS:
            continue
        target = SMALL_TARGETS[r["n"]]
        plain = min(r["plain"], r["plain_gemm"])
        ratio = plain / r["usa"]
        lines.append(
            f"- Small systems, n = {r['n']}: plain NumPy / usaav ≥ {target:g}: {ratio:.2f}× "
            f"({fmt_seconds(plain)} against {fmt_seconds(r['usa'])}) — **{'PASS' if ratio >= target else 'MISS'}**"
        )
        if r["n"] == 16:
            cost = r["usa"]
            lines.append(
                f"- Fixed cost of a call (usaav at n = 16, an upper bound) ≤ {fmt_seconds(FIXED_COST_TARGET)}: "
                f"{fmt_seconds(cost)} — **{'PASS' if cost <= FIXED_COST_TARGET else 'MISS'}**"
            )
    return lines


def large_lines(large: dict) -> list[str]:
    n = large["n"]
    dense = n * n * 8
    return [
        f"- n = {n}, usaav USA only: {fmt_seconds(large['seconds'])} per call; peak memory "
        f"+{mib(large['traced_peak'])} (tracemalloc), max RSS +{mib(large['rss_growth'])} "
        f"(the points themselves: {mib(large['points_bytes'])}). No n×n array is formed: plain "
        f"NumPy would need {dense / 2**30:.0f} GiB for exp(βXXᵀ) alone "
        f"({2 * dense / 2**30:.0f} GiB with XXᵀ), so it is not run. "
        f"{LARGE_CHECK_ROWS} random rows agree with their direct sums to {large['error']:.0e}.",
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter batches (noisier)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), metavar="N",
                        help=f"particle counts (default: {' '.join(map(str, SIZES))})")
    parser.add_argument("--large", type=int, default=LARGE, metavar="N",
                        help=f"size of the usaav-only run (default {LARGE}; 0 skips it)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="timing rounds, one batch of every method each (default 9, 3 with --quick)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the points (default {SEED})")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 9)
    batch_seconds = 0.01 if args.quick else 0.03
    load_start = os.getloadavg()[0]

    large = None
    if args.large:
        progress(f"n = {args.large}: usaav only ...")
        large = measure_large(args.large, 1 if args.quick else 3, args.seed)
    warm_allocator()  # after the large run, whose peak resident size it would mask
    functions, errors = {}, {}
    for n in args.sizes:
        progress(f"n = {n}: checking usaav against the dense computation ...")
        cases, errors[n] = prepare_size(n, args.seed)
        functions.update({(n, name): function for name, function in cases.items()})
    times = best_times(functions, rounds, batch_seconds)
    results = [
        {"n": n, **{name: t for (m, name), t in times.items() if m == n}} for n in args.sizes
    ]

    clock = "CPU time (one thread throughout)" if SINGLE_THREADED else "wall-clock time"
    print(f"Seconds per `usaav.velocity` call, d = {D}, β = {BETA:g}, uniform points (seed "
          f"{args.seed}); {clock}, best of {rounds} rounds of interleaved batches. "
          f"RoPE: θ = 2π, positions l/n.")
    print(f"{environment()}; load average {load_start:.1f} at start, "
          f"{os.getloadavg()[0]:.1f} at end.\n")
    print(markdown_table(results))
    print()
    cold_gemm = None
    if TARGET_N in args.sizes:
        progress(f"n = {TARGET_N}: plain `(βX) @ Xᵀ` in a fresh process without allocator warm-up ...")
        cold_gemm = cold_gemm_baseline(TARGET_N, args.seed, 3 if args.quick else 9)
    for line in small_lines(results) + target_lines(results, cold_gemm) + (large_lines(large) if large else []):
        print(line)
    worst = max(errors.values())
    print(f"- Before timing, usaav matched the dense computation (USA and RoPE) to {worst:.0e} "
          f"relative (required ≤ {CHECK_RTOL:.0e}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
