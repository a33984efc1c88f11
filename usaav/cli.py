r"""The ``usaav`` command: ``usaav reproduce {collapse,gallery,metastability,mean-field,transformer,all}``.

Reproduces the experiments of MODEL.md §6 (the paper's §6, App. B, C;
Prop. 4) at full size, or small with ``--quick``, and writes into ``--out``:

* ``pieces/<name>.npz``: every finished independent piece (one run) with its
  provenance record; a rerun reuses the pieces that are intact and were
  computed by the same library (:class:`usaav.experiments.PieceStore`), so an
  interrupted run resumes, and says why any other piece is recomputed;
* ``<experiment>.json``: parameters, ``usaav.__version__``, the library
  digest, seeds, the full result arrays, the table and the verdicts;
  ``<experiment>.csv``: the table;
* ``figures/<experiment>*.png`` and ``.svg`` (needs matplotlib:
  ``pip install "usaav[experiments]"``);
* ``verdicts.json``: the verdicts of every experiment run into this directory.

Every file is written to a temporary file and moved into place, so
concurrent runs into one directory and killed runs leave only whole files.

Pieces run on a process pool of ``--workers`` processes (``--workers 0``:
in this process) or on a Dask cluster (``--dask-scheduler ADDRESS``, or
``local`` for a :class:`distributed.LocalCluster`).  Prints one PASS/FAIL
line per prediction and the elapsed time.  Exit statuses (:data:`EXIT_STATUSES`):
0 every prediction passed, 1 a prediction failed, 2 a usage error (bad
option, unusable ``--out``, unreachable or wrong Dask scheduler), 3 the run
could not finish (a file could not be written, the workers died, the
library changed under the run, an unexpected error), 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM).  In cases 3, 130 and 143 the finished
pieces are kept and the same command resumes.

The same from Python: :func:`main` (``main(["reproduce", "collapse", "--quick"])``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import csv
import errno
import inspect
import json
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

__all__ = ["EXIT_STATUSES", "EXPERIMENTS", "WORKERS_PER_CORE", "build_parser", "main"]

#: The experiments ``usaav reproduce`` knows, in the order ``all`` runs them.
EXPERIMENTS = ("collapse", "gallery", "metastability", "mean-field", "transformer")

#: ``--workers`` is capped at this many processes per core.  A worker computes
#: one piece on one core (BLAS is single-threaded in workers), so beyond one
#: worker per core extra workers only share the same cores, while each holds
#: its own interpreter, NumPy and arrays; a small multiple still leaves room
#: for cores that idle while a worker saves or starts.
WORKERS_PER_CORE = 4

_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: How long ``--dask-scheduler ADDRESS`` may take to connect and exchange the Dask handshake, in all.
DASK_CONNECT_TIMEOUT = "30s"
#: How long a Dask cluster may have no worker while pieces wait before the run stops (a nanny
#: restarts a dead worker within a few seconds; a cluster whose workers all died would wait forever).
DASK_NO_WORKER_GRACE = 20.0
#: The largest first message a Dask scheduler sends (its handshake: a few dozen bytes).
_HANDSHAKE_LIMIT = 1 << 20
#: ``--seeds`` at most this many: every seed is at least one piece per model.
MAX_SEEDS = 10**6

#: The exit statuses of ``usaav reproduce`` (also in its ``--help`` and the README).
EXIT_STATUSES = {
    0: "every prediction passed",
    1: "a prediction failed",
    2: "a usage error: a bad option, an unusable --out, an unreachable or wrong Dask scheduler",
    3: "the run could not finish: a file could not be written, the workers died, the library "
       "changed under the run, or an unexpected error",
    130: "interrupted (Ctrl-C)",
    143: "terminated (SIGTERM)",
}
EXIT_FAILED_PREDICTION, EXIT_USAGE, EXIT_CRASH, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 3, 130, 143


class UsageError(Exception):
    """A bad command line or environment, reported like an argparse error (exit status 2)."""


class RunError(Exception):
    """The run could not finish for a reason it can name in one line (exit status 3)."""


class _Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (workers stopped, pieces kept)."""


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


# --------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------

def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _seed_count(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    if value > MAX_SEEDS:
        raise argparse.ArgumentTypeError(
            f"must be at most {MAX_SEEDS} (each seed is at least one piece per model), got {value:.3g}")
    return value


def _worker_count(text: str) -> int:
    value = _integer(text)
    cores = available_cores()
    limit = WORKERS_PER_CORE * cores
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (run in this process) or more, got {value}")
    if value > limit:
        raise argparse.ArgumentTypeError(
            f"at most {limit} ({WORKERS_PER_CORE} x the {cores} cores here: each worker computes one "
            f"piece on one core, so more workers only share the same cores while each holds its own "
            f"NumPy and arrays), got {value}")
    return value


class _VersionAction(argparse.Action):
    """``--version``: the package version, and the library digest that keys stored results."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__
        from .experiments import library_fingerprint

        fingerprint = library_fingerprint()
        print(f"usaav {__version__} (library digest {fingerprint['digest'][:12]}, numpy {fingerprint['numpy']}, "
              f"scipy {fingerprint['scipy']}, python {sys.version.split()[0]})")
        parser.exit()


def build_parser(prog: str = "usaav") -> argparse.ArgumentParser:
    """The argument parser of the ``usaav`` command."""
    parser = argparse.ArgumentParser(
        prog=prog, description="USA-AV (arXiv 2605.30229): reproduce the paper's experiments.")
    parser.add_argument("--version", action=_VersionAction, help="print the version and the library digest")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    statuses = "\n".join(f"  {status:<4} {meaning}" for status, meaning in EXIT_STATUSES.items())
    rep = sub.add_parser(
        "reproduce", help="run experiments, write figures and numbers, print verdicts",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the paper's experiments; write numbers, figures and verdicts into --out. "
                    "A rerun into the same directory reuses every finished piece that is intact and "
                    "was computed by the same library, and says why it recomputes the others.",
        epilog=f"exit status:\n{statuses}\n"
               "After 3, 130 and 143 the finished pieces are kept: rerun the same command to resume.")
    rep.add_argument("experiment", choices=EXPERIMENTS + ("all",))
    rep.add_argument("--quick", action="store_true", help="small sizes and few seeds (under a minute)")
    rep.add_argument("--seeds", type=_seed_count, default=None, metavar="N",
                     help="use seeds 0..N-1 (default: 10, or fewer with --quick; the gallery uses seed 0)")
    cores = available_cores()
    rep.add_argument("--workers", type=_worker_count, default=cores, metavar="N",
                     help=f"worker processes (default: {cores}, the cores here; at most "
                          f"{WORKERS_PER_CORE} per core; 0 runs the pieces in this process)")
    rep.add_argument("--out", default="reproduce-out", metavar="DIR", help="output directory (default: %(default)s)")
    rep.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                     help="run the pieces on a Dask cluster: a scheduler address such as tcp://host:8786, "
                          "or 'local' to start a LocalCluster of --workers processes (needs usaav[dask])")
    rep.add_argument("--no-figures", action="store_true", help="write numbers and verdicts only")
    rep.add_argument("--no-batch", action="store_true",
                     help="simulate one run at a time instead of stacking runs into one batched "
                          "simulation (for experiments that batch)")
    return parser


# --------------------------------------------------------------------------
# Worker processes that end with their parent
# --------------------------------------------------------------------------

def _end_with_parent(parent_pid: int, use_prctl: bool = True) -> None:
    """Initializer of worker processes: end this process as soon as its parent ends.

    A worker computing a full-size piece would otherwise go on for minutes
    after the command was killed.  On Linux the kernel sends SIGKILL when the
    parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere, a watchdog thread
    exits when the parent's sentinel closes (processes started by
    :mod:`multiprocessing`) or the parent pid changes (orphans are
    re-parented).
    """
    if use_prctl and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)
    parent = multiprocessing.parent_process()
    sentinel = parent.sentinel if parent is not None and parent.pid == parent_pid else None

    def watch() -> None:
        from multiprocessing.connection import wait

        while True:
            if sentinel is not None:
                if wait([sentinel], timeout=0.5):
                    os._exit(1)
            else:
                time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="usaav-parent-watchdog", daemon=True).start()


def _stop_workers(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """End a process pool now: cancel queued pieces and terminate the running ones."""
    if hasattr(pool, "terminate_workers"):  # Python >= 3.14
        pool.terminate_workers()
        return
    # Before Python 3.14 there is no public way to stop a running worker:
    # shutdown() would wait for the piece in progress (minutes at full size).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)
    # Let the pool's manager thread see its dead workers and close its pipe now: at interpreter
    # exit Python < 3.12 would write to that pipe while the thread closes it ("Bad file descriptor").
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        with contextlib.suppress(Exception):
            manager.join(timeout=5)


@contextlib.contextmanager
def _single_threaded_blas():
    """Each worker runs one piece on one core: single-threaded BLAS in the workers it spawns."""
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    for name in _THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _InterruptFreePool(concurrent.futures.ProcessPoolExecutor):
    """A process pool whose workers never see Ctrl-C: the command stops them itself.

    A Ctrl-C at the terminal reaches every process of the foreground group;
    workers still importing NumPy, or waiting for a piece, would each print a
    KeyboardInterrupt traceback.  The pool starts its workers inside
    ``submit``: SIGINT is blocked in this thread meanwhile, and a started
    process inherits the blocked mask, so the workers never receive it.  A
    Ctrl-C that arrives during ``submit`` (delivered to another thread, or
    pending) is held and raised as soon as ``submit`` returns: none is lost,
    and none interrupts a worker half-started.
    """

    def submit(self, fn, /, *args, **kwargs):
        if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
            return super().submit(fn, *args, **kwargs)
        held = []
        previous_handler = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            future = super().submit(fn, *args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)  # a pending Ctrl-C lands in `held`
            signal.signal(signal.SIGINT, previous_handler)
        if held:
            raise KeyboardInterrupt
        return future


@contextlib.contextmanager
def _process_pool(workers: int):
    if workers <= 0:
        yield None
        return
    with _single_threaded_blas():
        pool = _InterruptFreePool(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_end_with_parent, initargs=(os.getpid(),))
        try:
            yield pool
        except BaseException:
            _stop_workers(pool)
            raise
        pool.shutdown()


def _receive(sock, size: int, deadline: float) -> bytes:
    data = b""
    while len(data) < size:
        sock.settimeout(max(deadline - time.monotonic(), 1e-3))
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _check_dask_handshake(address: str, deadline: float) -> None:
    """Raise UsageError unless ``address`` answers, before ``deadline``, as a Dask scheduler does.

    A Dask scheduler speaks first: on accepting a TCP connection it sends its
    handshake, one message framed as an 8-byte little-endian total length
    (a few dozen bytes), an 8-byte frame count and the frames.  A web server
    (the dashboard, a plain HTTP server) waits for a request and sends
    nothing; Dask's own client would then wait, or read ``HTTP/1.1`` as a
    length of exabytes.  Only plain TCP addresses are probed (``tls://``
    and others are left to Dask).
    """
    import socket
    from urllib.parse import urlsplit

    scheme = address.split("://", 1)[0] if "://" in address else "tcp"
    if scheme != "tcp":
        return
    try:
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise UsageError(f"--dask-scheduler: {address!r} is not an address like tcp://host:8786 ({error})") from None
    if not host or port is None:
        raise UsageError(f"--dask-scheduler: {address!r} is not an address like tcp://host:8786 (no host or port)")
    budget = _connect_timeout_seconds()
    try:
        with socket.create_connection((host, port), timeout=max(deadline - time.monotonic(), 1e-3)) as sock:
            header = _receive(sock, 16, deadline)
    except TimeoutError:
        header = None
    except OSError as error:
        raise UsageError(f"--dask-scheduler: cannot connect to {address!r} ({error.strerror or error})") from None
    if header is None or len(header) == 0:
        said = "sent nothing" if header is None else "closed the connection"
        raise UsageError(
            f"--dask-scheduler: {address!r} is not a Dask scheduler: it {said} within {budget:g} s where a "
            "scheduler sends its handshake at once (is it the dashboard or a web server? the scheduler "
            "usually listens on port 8786)")
    length = int.from_bytes(header[:8], "little")
    frames = int.from_bytes(header[8:16], "little") if len(header) == 16 else 0
    if not (16 <= length <= _HANDSHAKE_LIMIT and 1 <= frames <= 64):
        raise UsageError(f"--dask-scheduler: {address!r} is not a Dask scheduler: it answered "
                         f"{header!r}, not a Dask handshake")


def _connect_timeout_seconds() -> float:
    """:data:`DASK_CONNECT_TIMEOUT` in seconds (``"30s"``, ``"1s"``, ``5``)."""
    text = str(DASK_CONNECT_TIMEOUT).strip()
    return float(text[:-1]) if text.endswith("s") else float(text)


class _WorkersWatched(concurrent.futures.Executor):
    """A Dask executor whose pending pieces fail when the cluster has had no worker for ``grace`` seconds.

    Dask keeps the tasks of dead workers for workers to come; when every
    worker is gone for good, the run would wait forever without a word.
    """

    def __init__(self, client, executor, grace: float, address: str):
        self._client, self._executor, self._grace, self._address = client, executor, grace, address
        self._pending: set[concurrent.futures.Future] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="usaav-dask-workers", daemon=True)
        self._thread.start()

    def submit(self, fn, /, *args, **kwargs):
        inner = self._executor.submit(fn, *args, **kwargs)
        outer = concurrent.futures.Future()
        with self._lock:
            self._pending.add(outer)

        def relay(done) -> None:
            with self._lock:
                self._pending.discard(outer)
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                if done.cancelled():
                    outer.cancel()
                elif done.exception() is not None:
                    outer.set_exception(done.exception())
                else:
                    outer.set_result(done.result())

        inner.add_done_callback(relay)
        cancel = outer.cancel
        outer.cancel = lambda: (inner.cancel(), cancel())[1]
        return outer

    def _watch(self) -> None:
        empty_since = None
        while not self._stop.wait(1.0):
            with self._lock:
                waiting = bool(self._pending)
            try:
                workers = len(self._client.nthreads())
            except Exception:  # the scheduler itself is gone: the same for the pieces
                workers = 0
            if not waiting or workers:
                empty_since = None
                continue
            empty_since = empty_since or time.monotonic()
            if time.monotonic() - empty_since < self._grace:
                continue
            with self._lock:
                pending, self._pending = list(self._pending), set()
            error = RunError(f"every Dask worker of {self._address} is gone (none for {self._grace:g} s) "
                             f"with {len(pending)} pieces unfinished")
            for future in pending:
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(error)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._stop.set()
        self._executor.shutdown(wait=wait)


@contextlib.contextmanager
def _dask_executor(address: str, workers: int, fingerprint: dict):
    try:
        import distributed
    except ImportError:
        raise UsageError("--dask-scheduler needs dask and distributed: pip install \"usaav[dask]\"") from None
    from .experiments import check_dask_workers

    with contextlib.ExitStack() as stack:
        if address == "local":
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                # any free port: a second cluster on this machine must not fight for 8787
                dashboard_address=":0"))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            # one deadline for the connection and the handshake together
            deadline = time.monotonic() + _connect_timeout_seconds()
            _check_dask_handshake(address, deadline)
            try:
                client = stack.enter_context(distributed.Client(
                    address, timeout=max(deadline - time.monotonic(), 1.0)))
            except (OSError, TimeoutError, ValueError) as error:
                raise UsageError(f"--dask-scheduler: cannot connect to {address!r} ({error})") from None
            try:
                client.wait_for_workers(1, timeout=60)
            except (TimeoutError, OSError) as error:
                raise UsageError(f"--dask-scheduler: no worker joined {address!r} within 60 s ({error})") from None
        try:
            check_dask_workers(client, fingerprint)
        except RuntimeError as error:
            raise UsageError(str(error)) from None
        executor = _WorkersWatched(client, client.get_executor(), DASK_NO_WORKER_GRACE, address)
        try:
            yield executor
        finally:
            executor.shutdown(wait=False)


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

def _prepare_output(out: Path) -> None:
    """Create ``out`` and ``out/pieces``, and prove they are writable, or raise UsageError."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} is a file, not a directory")
    try:
        (out / "pieces").mkdir(parents=True, exist_ok=True)
        for directory in (out, out / "pieces"):
            with tempfile.TemporaryFile(dir=directory):
                pass
    except OSError as error:
        where = error.filename or out
        raise UsageError(f"--out: cannot write to {where} ({error.strerror or error})") from None


def _write_text(path: Path, text: str) -> None:
    from .experiments import atomic_writer

    with atomic_writer(path, "w") as stream:
        stream.write(text)


def _write_numbers(name: str, result, out: Path, elapsed: float, counts: dict, digest: str) -> None:
    from . import __version__
    from .experiments import atomic_writer

    stem = name.replace("-", "_")
    content = result.to_dict()
    payload = {
        "usaav_version": __version__,
        "library_digest": digest,
        "experiment": name,
        "params": content["params"],
        "seeds": content["params"].get("seeds", [content["params"].get("seed")]),
        "result": content,
        "run": {"elapsed_s": round(elapsed, 3), "pieces_reused": counts["reused"],
                "pieces_computed": counts["computed"]},
    }
    _write_text(out / f"{stem}.json", json.dumps(payload, indent=1, allow_nan=False))
    rows = result.table()
    if rows:
        keys = list(rows[0])
        for row in rows[1:]:
            keys += [k for k in row if k not in keys]
        with atomic_writer(out / f"{stem}.csv", "w") as stream:
            writer = csv.DictWriter(stream, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (POSIX ``flock``), so that concurrent runs merge their verdicts in turn."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; each write is still atomic
        yield
        return
    with open(path, "a") as stream:
        fcntl.flock(stream, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(stream, fcntl.LOCK_UN)


def _record_verdicts(out: Path, name: str, verdicts: list, **run) -> dict:
    """Merge this experiment's verdicts into ``out/verdicts.json``, keeping the other experiments'."""
    from .experiments import check_verdicts_summary, merge_verdicts

    path = out / "verdicts.json"
    with _locked(out / ".verdicts.json.lock"):
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
            check_verdicts_summary(summary)
        except FileNotFoundError:
            summary = None
        except (ValueError, OSError) as error:  # a hand edit, a truncated file, a directory ...
            print(f"   warning: {path} was unreadable as a verdicts file of usaav ({error}); starting it afresh")
            summary = None
        summary = merge_verdicts(summary, name, verdicts, **run)
        _write_text(path, json.dumps(summary, indent=1, allow_nan=False))
    return summary


def _figures(name: str, result, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import experiments as figs
    from .plotting import transformer as transformer_figs

    makers = {
        "collapse": [("collapse", figs.figure_collapse), ("collapse_prediction", figs.figure_collapse_prediction)],
        "gallery": [("gallery", figs.figure_gallery)],
        "metastability": [("metastability", figs.figure_metastability)],
        "mean-field": [("mean_field", figs.figure_mean_field)],
        "transformer": [("transformer_phases", transformer_figs.figure_phase_diagrams),
                        ("transformer_order", transformer_figs.figure_layer_order)],
    }[name]
    paths = []
    for stem, make in makers:
        fig = make(result)
        try:
            paths += figs.save_figure(fig, directory, stem)
        finally:
            plt.close(fig)
    return paths


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# --------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------

def _progress_bar(label: str):
    """A tqdm bar on stderr (hidden when stderr is not a terminal; none without tqdm) and its callback."""
    counts = {"reused": 0, "computed": 0}
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm comes with usaav[experiments]; the run does not need it
        bar = None
    else:
        bar = tqdm(total=None, desc=label, unit="piece", leave=False, file=sys.stderr, disable=None,
                   dynamic_ncols=True)

    def callback(name: str, cached: bool, total: int) -> None:
        counts["reused" if cached else "computed"] += 1
        if bar is not None:
            if bar.total is None:
                bar.reset(total=total)
            bar.update(1)

    return bar, counts, callback


def _accepts(function, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _run_experiment(name: str, args, executor, store):
    """Run one experiment with its default (or ``--quick``) parameters; returns (result, piece counts)."""
    from . import experiments as ex

    functions = {
        "collapse": ex.collapse_through_layers,
        "gallery": ex.representation_gallery,
        "metastability": ex.metastability,
        "mean-field": ex.mean_field_convergence,
        "transformer": ex.transformer_experiment,
    }
    function = functions[name]
    kwargs = dict(quick=args.quick, executor=executor, store=store)
    # one seed by design for the gallery (MODEL.md §6.2): --seeds does not apply
    if args.seeds is not None and name != "gallery":
        kwargs["seeds"] = range(args.seeds)
    if args.no_batch and _accepts(function, "batch"):
        kwargs["batch"] = False
    bar, counts, callback = _progress_bar(name)
    try:
        result = function(progress=callback, **kwargs)
    finally:
        if bar is not None:
            bar.close()
    return result, counts


def _describe_recomputed(recomputed: list, out: Path) -> list[str]:
    """One line per corrupt file (which file was replaced and why); one per other reason."""
    lines, grouped = [], {}
    for stored in recomputed:
        if stored.problem == "corrupt file":
            lines.append(f"replaced {stored.path}: {stored.reason}")
        else:
            grouped.setdefault(stored.reason, []).append(stored)
    for reason, pieces in grouped.items():
        what = f"{pieces[0].path}" if len(pieces) == 1 else f"{len(pieces)} stored pieces in {out / 'pieces'}"
        lines.append(f"recomputed {what}: {reason}")
    return lines


def reproduce(args) -> int:
    """``usaav reproduce``: run, save, print; the exit status (0 all passed, 1 a prediction failed)."""
    from . import __version__
    from .experiments import PieceStore

    out = Path(args.out)
    _prepare_output(out)
    recomputed = []
    store = PieceStore(out / "pieces", on_recompute=recomputed.append)
    digest = store.fingerprint["digest"]
    names = EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    draw = not args.no_figures
    if draw and not _have("matplotlib"):
        print("figures: skipped, matplotlib is not installed (pip install \"usaav[experiments]\")")
        draw = False
    start = time.perf_counter()
    passed = failed = 0
    if args.dask_scheduler is not None:
        context = _dask_executor(args.dask_scheduler, args.workers, store.fingerprint)
        where = f"Dask scheduler {args.dask_scheduler}"
    else:
        context = _process_pool(args.workers)
        where = f"workers={args.workers}"
    with context as executor:
        for name in names:
            t0 = time.perf_counter()
            seen = len(recomputed)
            result, counts = _run_experiment(name, args, executor, store)
            compute = time.perf_counter() - t0
            _write_numbers(name, result, out, compute, counts, digest)
            if draw:
                _figures(name, result, out / "figures")
            elapsed = time.perf_counter() - t0
            total = counts["reused"] + counts["computed"]
            print(f"== {name}: {total} pieces ({counts['reused']} reused from {out / 'pieces'}, "
                  f"{counts['computed']} computed), {elapsed:.1f} s")
            for line in _describe_recomputed(recomputed[seen:], out):
                print(f"   {line}")
            verdicts = result.verdicts()
            for verdict in verdicts:
                print(f"   {verdict}")
            failed_here = sum(not v.passed for v in verdicts)
            passed += len(verdicts) - failed_here
            failed += failed_here
            _record_verdicts(out, name, verdicts, quick=bool(args.quick), usaav_version=__version__,
                             library_digest=digest)
    elapsed = time.perf_counter() - start
    print(f"{passed} passed, {failed} failed")
    print(f"elapsed: {elapsed:.1f} s ({'quick' if args.quick else 'full size'}, {where}); "
          f"numbers and figures in {out}")
    return EXIT_FAILED_PREDICTION if failed else 0


def _describe_os_error(error: OSError) -> str:
    """"<file>: <cause> (<ERRNO>)", naming the file written (not its temporary twin)."""
    code = f" ({errno.errorcode[error.errno]})" if error.errno in errno.errorcode else ""
    cause = f"{error.strerror or error}{code}"
    return f"{error.filename}: {cause}" if error.filename else cause


@contextlib.contextmanager
def _sigterm_unwinds():
    """While the run lasts, SIGTERM unwinds like Ctrl-C (workers stopped, pieces kept, the resume hint)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None, prog: str = "usaav") -> int:
    """Run the ``usaav`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Bad arguments exit with status 2 and an argparse-style message naming the
    option (``usaav reproduce: error: argument --workers: must be 0 ... or
    more, got -1``), as does an unusable ``--out`` or Dask cluster.  A run
    that cannot finish (a full disk, a file-size limit, a directory where a
    file should go, workers that died, files changed under the run) prints
    one line naming the file or the cause and returns 3; Ctrl-C returns 130
    and SIGTERM 143.  Each of these says that the finished pieces are kept
    and that rerunning resumes (:data:`EXIT_STATUSES`).
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.command != "reproduce":  # pragma: no cover - argparse requires a command
        return 2
    from .experiments import StaleLibraryError

    kept = f"finished pieces are kept in {Path(args.out) / 'pieces'}; rerun the same command to resume"

    def fail(status: int, line: str) -> int:
        sys.stdout.flush()
        print(f"{parser.prog} reproduce: error: {line}; {kept}", file=sys.stderr)
        return status

    try:
        with _sigterm_unwinds():
            return reproduce(args)
    except UsageError as error:
        parser.exit(EXIT_USAGE, f"{parser.prog} reproduce: error: {error}\n")
    except KeyboardInterrupt:
        print(f"\ninterrupted: {kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print(f"\nterminated (SIGTERM): {kept}", file=sys.stderr)
        return EXIT_TERMINATED
    except OSError as error:
        return fail(EXIT_CRASH, f"cannot write {_describe_os_error(error)}")
    except concurrent.futures.BrokenExecutor as error:
        return fail(EXIT_CRASH, f"a worker process died (killed, or out of memory?): {error}")
    except (StaleLibraryError, RunError) as error:
        return fail(EXIT_CRASH, str(error).replace("\n", " "))
    except Exception as error:  # a bug: the traceback helps its report, the status tells it from a failed prediction
        traceback.print_exc()
        return fail(EXIT_CRASH, f"the run crashed ({type(error).__name__}: {error})")
