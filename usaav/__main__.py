r"""Command line: ``python -m usaav reproduce {collapse,gallery,metastability,mean-field,all}``.

Reproduces the experiments of MODEL.md §6 (seed §6, App. B, C; Prop. 4) at
full size, or small with ``--quick``, and writes into ``--out``:

* ``pieces/<name>.npz``: every finished independent piece (one run), written
  atomically; a rerun reuses them, so an interrupted run resumes;
* ``<experiment>.json``: parameters, ``usaav.__version__``, seeds, the full
  result arrays, the table and the verdicts; ``<experiment>.csv``: the table;
* ``figures/<experiment>*.png`` and ``.svg``;
* ``verdicts.json``: every verdict of the run.

Independent pieces run on a ``ProcessPoolExecutor(max_workers=--workers)``
(``--workers 0`` runs them in this process).  Prints one PASS/FAIL line per
prediction and the elapsed time; exits with status 1 if any prediction fails.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

EXPERIMENTS = ("collapse", "gallery", "metastability", "mean-field")
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m usaav", description="USA-AV: reproduce the paper's experiments.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproduce", help="run experiments, write figures and numbers, print verdicts")
    rep.add_argument("experiment", choices=EXPERIMENTS + ("all",))
    rep.add_argument("--quick", action="store_true", help="small sizes and few seeds (under a minute)")
    rep.add_argument("--seeds", type=int, default=None, metavar="N",
                     help="use seeds 0..N-1 (default: 10, or fewer with --quick; the gallery uses seed 0)")
    rep.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                     help="worker processes (default: number of cores; 0 runs in this process)")
    rep.add_argument("--out", default="reproduce-out", metavar="DIR", help="output directory")
    rep.add_argument("--no-batch", dest="batch", action="store_false",
                     help="run one system per call instead of advancing seeds/scenarios together "
                          "(same numbers, slower; for comparison)")
    return parser


def _progress_bar(label: str):
    """A tqdm bar (on stderr, hidden when it is not a terminal) and the callback feeding it."""
    from tqdm import tqdm

    bar = tqdm(total=None, desc=label, unit="piece", leave=False, file=sys.stderr, disable=None,
               dynamic_ncols=True)
    counts = {"reused": 0, "computed": 0}

    def callback(name: str, cached: bool, total: int) -> None:
        if bar.total is None:
            bar.reset(total=total)
        counts["reused" if cached else "computed"] += 1
        bar.update(1)

    return bar, counts, callback


def _run(name: str, args, executor, store):
    """Run one experiment with its default (or ``--quick``) parameters; returns (result, piece counts)."""
    from . import experiments as ex

    common = dict(quick=args.quick, executor=executor, store=store)
    seeds = None if args.seeds is None else range(args.seeds)
    functions = {
        "collapse": lambda cb: ex.collapse_through_layers(seeds=seeds, progress=cb, batch=args.batch, **common),
        # one seed by design (MODEL.md §6.2): --seeds does not apply
        "gallery": lambda cb: ex.representation_gallery(progress=cb, batch=args.batch, **common),
        "metastability": lambda cb: ex.metastability(seeds=seeds, progress=cb, **common),
        "mean-field": lambda cb: ex.mean_field_convergence(seeds=seeds, progress=cb, **common),
    }
    bar, counts, callback = _progress_bar(name)
    try:
        result = functions[name](callback)
    finally:
        bar.close()
    return result, counts


def _figures(name: str, result, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import _figures_experiments as figs

    makers = {
        "collapse": [("collapse", figs.figure_collapse), ("collapse_prediction", figs.figure_collapse_prediction)],
        "gallery": [("gallery", figs.figure_gallery)],
        "metastability": [("metastability", figs.figure_metastability)],
        "mean-field": [("mean_field", figs.figure_mean_field)],
    }[name]
    paths = []
    for stem, make in makers:
        fig = make(result)
        paths += figs.save_figure(fig, directory, stem)
        plt.close(fig)
    return paths


def _write_numbers(name: str, result, out: Path, elapsed: float, counts: dict) -> None:
    from . import __version__

    stem = name.replace("-", "_")
    content = result.to_dict()
    payload = {
        "usaav_version": __version__,
        "experiment": name,
        "params": content["params"],
        "seeds": content["params"].get("seeds", [content["params"].get("seed")]),
        "result": content,
        "run": {"elapsed_s": round(elapsed, 3), "pieces_reused": counts["reused"],
                "pieces_computed": counts["computed"]},
    }
    _atomic_write(out / f"{stem}.json", json.dumps(payload, indent=1, allow_nan=False))
    rows = result.table()
    if rows:
        keys = list(rows[0])
        for row in rows[1:]:
            keys += [k for k in row if k not in keys]
        tmp = out / f".{stem}.csv.tmp"
        with open(tmp, "w", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, out / f"{stem}.csv")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _executor(workers: int):
    if workers <= 0:
        return None
    # Each worker runs one piece on one core: keep BLAS single-threaded in the
    # (freshly spawned) workers, which read these variables when NumPy loads.
    for variable in _THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers,
                                                  mp_context=multiprocessing.get_context("spawn"))


def reproduce(args) -> int:
    from .experiments import PieceStore

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = PieceStore(out / "pieces")
    names = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    start = time.perf_counter()
    verdicts = []
    executor = _executor(args.workers)
    try:
        for name in names:
            t0 = time.perf_counter()
            result, counts = _run(name, args, executor, store)
            compute = time.perf_counter() - t0
            _write_numbers(name, result, out, compute, counts)
            _figures(name, result, out / "figures")
            elapsed = time.perf_counter() - t0
            total = counts["reused"] + counts["computed"]
            print(f"== {name}: {total} pieces ({counts['reused']} reused from {out / 'pieces'}, "
                  f"{counts['computed']} computed), {elapsed:.1f} s")
            for verdict in result.verdicts():
                print(f"   {verdict}")
                verdicts.append({"experiment_run": name, **verdict.to_dict()})
    finally:
        if executor is not None:
            executor.shutdown()
    elapsed = time.perf_counter() - start
    failed = sum(not v["passed"] for v in verdicts)
    _atomic_write(out / "verdicts.json", json.dumps(
        {"quick": bool(args.quick), "verdicts": verdicts, "passed": len(verdicts) - failed, "failed": failed},
        indent=1, allow_nan=False))
    print(f"{len(verdicts) - failed} passed, {failed} failed")
    print(f"elapsed: {elapsed:.1f} s ({'quick' if args.quick else 'full size'}, workers={args.workers}); "
          f"numbers and figures in {out}")
    return 1 if failed else 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        _parser().error("--seeds must be at least 1")
    if args.command == "reproduce":
        return reproduce(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
