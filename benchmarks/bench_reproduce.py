"""Wall time of ``python -m usaav reproduce`` batched against ``--no-batch``, at full size.

Run from the repository root::

    python benchmarks/bench_reproduce.py                    # collapse and gallery, 2-15 min on 2 cores (load)
    python benchmarks/bench_reproduce.py --others           # also time metastability and mean-field once
    python benchmarks/bench_reproduce.py --quick            # the --quick experiments (a smoke test)

Each experiment is reproduced by a fresh ``python -m usaav reproduce <name>``
process into its own temporary directory (so no piece is reused), once
batched (the default) and once with ``--no-batch`` (one system per call),
alternating the order between repeats; the whole command is timed, figures
and all: its wall-clock time and its CPU time (user + system, the command
and its worker processes together, from ``getrusage``), the latter being
the measure to trust on a shared machine, where the wall-clock time of a
minutes-long command follows the load of other jobs.  The two outputs must
hold the same numbers: the ``result`` of the JSON files is compared, and a
difference stops the script with exit status 1.  With ``--others`` the experiments that ``--no-batch`` does not
change (metastability, mean-field) are timed once, to estimate the ratio for
``reproduce all``.  Progress goes to stderr; stdout is markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCHED = ("collapse", "gallery")
OTHERS = ("metastability", "mean-field")
#: Target for ``reproduce all``: --no-batch time / batched time.
TARGET_ALL = 2.0


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def children_cpu() -> float:
    """CPU seconds (user + system) of all finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reproduce(experiment: str, batch: bool, quick: bool, workers: int | None) -> tuple[tuple[float, float], dict]:
    """(wall, CPU) seconds of one ``reproduce`` command, and the ``result`` of its JSON file."""
    with tempfile.TemporaryDirectory(prefix="usaav-bench-") as out:
        command = [sys.executable, "-m", "usaav", "reproduce", experiment, "--out", out]
        command += [] if batch else ["--no-batch"]
        command += ["--quick"] if quick else []
        command += [] if workers is None else ["--workers", str(workers)]
        start, cpu_start = time.perf_counter(), children_cpu()
        finished = subprocess.run(command, capture_output=True, text=True)
        seconds = (time.perf_counter() - start, children_cpu() - cpu_start)
        if finished.returncode not in (0, 1):  # 1: a prediction failed, still a timing
            raise SystemExit(f"{' '.join(command)} failed:\n{finished.stderr}")
        payload = json.loads((Path(out) / f"{experiment.replace('-', '_')}.json").read_text())
    return seconds, payload["result"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the --quick experiments (smoke test)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode (best is kept; default 1)")
    parser.add_argument("--workers", type=int, default=None, help="passed to reproduce (default: its own)")
    parser.add_argument("--others", action="store_true",
                        help="also time metastability and mean-field once, to estimate `reproduce all`")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0]

    best = {}
    for experiment in BATCHED:
        results = {}
        for repeat in range(args.repeat):
            order = (True, False) if repeat % 2 == 0 else (False, True)
            for batch in order:
                progress(f"{experiment}, {'batched' if batch else '--no-batch'}, run {repeat + 1} ...")
                seconds, results[batch] = reproduce(experiment, batch, args.quick, args.workers)
                key = (experiment, batch)
                best[key] = tuple(min(a, b) for a, b in zip(best.get(key, (float("inf"),) * 2), seconds))
        if results[True] != results[False]:
            raise SystemExit(f"{experiment}: the batched and --no-batch numbers differ")
    others = {}
    if args.others:
        for experiment in OTHERS:
            progress(f"{experiment} (not batched by this switch) ...")
            others[experiment] = reproduce(experiment, True, args.quick, args.workers)[0]

    print(f"Time of `python -m usaav reproduce <experiment>{' --quick' if args.quick else ''}` "
          f"(fresh process, empty output directory, figures included): wall-clock and CPU (user + system "
          f"of the command and its workers), best of {args.repeat}; load average {load_start:.1f} at "
          f"start, {os.getloadavg()[0]:.1f} at end.\n")
    print("| experiment | batched: wall | CPU | `--no-batch`: wall | CPU | ratio, wall | ratio, CPU |")
    print("|---|---|---|---|---|---|---|")
    for experiment in BATCHED:
        (fast, fast_cpu), (slow, slow_cpu) = best[(experiment, True)], best[(experiment, False)]
        print(f"| {experiment} | {fast:.1f} s | {fast_cpu:.1f} s | {slow:.1f} s | {slow_cpu:.1f} s | "
              f"{slow / fast:.2f}× | **{slow_cpu / fast_cpu:.2f}×** |")
    for experiment, (seconds, cpu) in others.items():
        print(f"| {experiment} | {seconds:.1f} s | {cpu:.1f} s | (same) | (same) | 1.00× | 1.00× |")
    print()
    for index, measure in ((1, "CPU"), (0, "wall-clock")):
        batched_total = sum(best[(e, True)][index] for e in BATCHED)
        unbatched_total = sum(best[(e, False)][index] for e in BATCHED)
        line = (f"- {measure} time, collapse + gallery: {unbatched_total:.1f} s → {batched_total:.1f} s, "
                f"**{unbatched_total / batched_total:.2f}×**")
        if others:
            rest = sum(times[index] for times in others.values())
            ratio = (unbatched_total + rest) / (batched_total + rest)
            line += (f"; estimate for `reproduce all` (metastability and mean-field timed once, unchanged "
                     f"by the switch): {unbatched_total + rest:.0f} s → {batched_total + rest:.0f} s, "
                     f"**{ratio:.2f}×** (target ≥ {TARGET_ALL:g}×: **{'PASS' if ratio >= TARGET_ALL else 'MISS'}**)")
        print(line + ".")
    print("- The JSON numbers of both modes are identical.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
