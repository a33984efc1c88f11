r"""Independent pieces of work, an executor to run them and a store to resume them.

An experiment is split into *pieces*: one simulation of one (model, size,
seed), one β, ...  Each piece is a call ``function(**kwargs)`` of a
module-level function (so it pickles and can run in another process or on
another machine) that returns a dict of NumPy arrays.

:func:`run_pieces` sends the pieces to any :class:`concurrent.futures.Executor`
(a ``ProcessPoolExecutor``, a ``ThreadPoolExecutor``, a Dask client's
``get_executor()`` ...) or runs them in order when none is given.  Results are
keyed by piece name, never by completion order, so the outcome does not
depend on the executor.

:class:`PieceStore` keeps finished pieces on disk, one ``.npz`` file per
piece.  A piece's *name* says what it computes (experiment, label, a digest
of the function's name and arguments) and stays the same across library
versions; the file carries a provenance record saying *which code* computed
it (:func:`~usaav.experiments.library_fingerprint`) and what it holds (array
names, shapes, dtypes, a SHA-256 of the bytes).  A stored piece is reused only
if the record matches the file and the running library; otherwise it is
recomputed and the reason reported ("library changed: usaav/dynamics.py
changed", "corrupt file: array 't' missing", ...).

Every file is written to a uniquely named temporary file in the same
directory and moved into place with :func:`os.replace` (atomic on POSIX and
Windows), so concurrent runs and killed runs leave only whole files.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import inspect as _inspect
import json
import logging
import os
import re
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np

from ._provenance import StaleLibraryError, check_library_unchanged, describe_library_change, library_fingerprint
from ._results import jsonable

__all__ = ["Piece", "PieceStore", "StoredPiece", "atomic_writer", "make_piece", "run_pieces"]

PieceResult = dict[str, np.ndarray]

#: Name of the provenance record inside each stored ``.npz`` (a 0-d unicode array holding JSON).
RECORD_KEY = "__usaav_piece__"
#: Version of the record's layout.
RECORD_FORMAT = 1

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]*$")
_LOGGER = logging.getLogger("usaav.experiments")


# --------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------

def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def _temporary_prefix(path: Path) -> str:
    # host and pid in the name: a later run can tell a dead writer's leftover
    # from a file that another live run is still writing
    return f".{path.name}.{_host()}-{os.getpid()}-"


@contextlib.contextmanager
def atomic_writer(path, mode: str = "wb") -> Iterator:
    """Open a uniquely named temporary file beside ``path``; on success move it onto ``path``.

    Readers see either the old file or the whole new one, never a partial
    file, and concurrent writers of the same path never collide (each has its
    own temporary file; the last :func:`os.replace` wins).  On an exception
    the temporary file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or Path
    mode : {"wb", "w"}
        Binary or text (UTF-8).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_writer(target, "w") as stream:
    ...     _ = stream.write("whole")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('whole', ['a.txt'])
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):  # POSIX
            os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, mode, **({"encoding": "utf-8", "newline": ""} if mode == "w" else {})) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(error, OSError) and error.filename in (None, tmp) and error.errno is not None:
            # name the file being written (a full disk, a size limit, a directory in its place),
            # not the temporary file nobody asked for
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def _umask() -> int:
    """This process's umask (Linux tells it in /proc; elsewhere set and restore it at once)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there: keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_dead_temporaries(directory) -> list[Path]:
    """Delete temporary files left in ``directory`` by writers on this host that no longer run.

    A run killed while writing leaves its ``.<name>.<host>-<pid>-<random>.tmp``
    behind; files of live processes (another run writing now) and of other
    hosts (a shared directory) are kept.
    """
    host, removed = _host(), []
    for path in Path(directory).glob(".*.tmp"):
        # mkstemp's random part has no "-": the last two "-" delimit the pid
        match = re.search(r"\.([A-Za-z0-9-]+)-(\d+)-[a-z0-9_]+\.tmp$", path.name)
        if match and match.group(1) == host and not _pid_alive(int(match.group(2))):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


# --------------------------------------------------------------------------
# Pieces
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """One independent unit of work: ``function(**kwargs)`` → dict of arrays.

    Attributes
    ----------
    name : str
        Unique file-system-safe name, e.g. ``collapse-rope-n256-seed3-1a2b3c4d5e``.
    function : callable
        A module-level function (picklable).
    kwargs : dict
        Plain Python arguments (numbers, strings, tuples).
    """

    name: str
    function: Callable[..., PieceResult]
    kwargs: Mapping = field(default_factory=dict)


def _qualified_name(function) -> str:
    return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', repr(function))}"


def _function_digest(function) -> str:
    """SHA-256 prefix of the function's source ("" for builtins): catches edits outside usaav."""
    try:
        source = _inspect.getsource(function)
    except (OSError, TypeError):
        return ""
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def make_piece(experiment: str, label: str, function: Callable[..., PieceResult], **kwargs) -> Piece:
    """A :class:`Piece` named ``{experiment}-{label}-{digest}``.

    The digest hashes the function's qualified name and the arguments, so a
    piece name identifies one computation and stays the same when the library
    changes; which code computed a stored piece is checked separately, from
    the provenance record of its file (see :class:`PieceStore`).

    >>> p = make_piece("demo", "n4", dict, a=1)
    >>> p.name.startswith("demo-n4-"), p.name == make_piece("demo", "n4", dict, a=1).name
    (True, True)
    >>> p.name == make_piece("demo", "n4", dict, a=2).name
    False
    """
    name_part = f"{experiment}-{label}"
    if not _SAFE_NAME.match(name_part):
        raise ValueError(f"experiment and label must use letters, digits and ._+=- only, got {name_part!r}")
    key = json.dumps({"function": _qualified_name(function), "kwargs": jsonable(kwargs)}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return Piece(f"{name_part}-{digest}", function, dict(kwargs))


# --------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------

def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(json.dumps([key, array.dtype.str, list(array.shape)]).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredPiece:
    """What :meth:`PieceStore.inspect` found for one piece.

    Attributes
    ----------
    name : str
    path : Path
    arrays : dict or None
        The stored arrays when the file is valid and current, else ``None``.
    problem : {None, "missing", "library changed", "function changed", "corrupt file"}
        ``None`` when the stored piece can be reused.
    detail : str
        Which file changed, which array is wrong, ... (empty when valid or missing).
    """

    name: str
    path: Path
    arrays: PieceResult | None
    problem: str | None
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.problem is None

    @property
    def reason(self) -> str:
        """Why the piece must be computed, in words ("" when it is valid)."""
        if self.problem is None:
            return ""
        return f"{self.problem} ({self.detail})" if self.detail else self.problem


class PieceStore:
    """Finished pieces on disk: ``directory/<name>.npz``, verified on load, written atomically.

    Each file holds the piece's arrays and a provenance record: the piece
    name, function and arguments, the :func:`~usaav.experiments.library_fingerprint`
    of the code that computed it, every array's shape and dtype, and a
    SHA-256 of the array bytes.  :meth:`inspect` reuses a file only if all of
    it matches; anything else (an empty, truncated or garbage file, a missing
    or reshaped array, changed bytes, another library) is reported and the
    piece is recomputed, replacing the file.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    on_recompute : callable, optional
        Called as ``on_recompute(stored)`` with a :class:`StoredPiece` for
        every stored piece that cannot be reused (not for missing ones);
        default: a warning on the ``usaav.experiments`` logger.

    Attributes
    ----------
    fingerprint : dict
        The fingerprint of the code this process runs (taken at ``import
        usaav``); new pieces are stamped with it and old ones compared
        against it.

    Raises
    ------
    usaav.experiments.StaleLibraryError
        On opening the store and before saving a piece, if usaav's files
        changed on disk after this process imported them (the message names
        the files and asks for a restart): the results would be those of the
        old code.

    Examples
    --------
    >>> import tempfile
    >>> store = PieceStore(tempfile.mkdtemp())
    >>> store.save("p", {"x": np.arange(3)})
    >>> store.load("p")["x"]
    array([0, 1, 2])
    >>> store.load("missing") is None
    True
    >>> store.path("p").write_bytes(b"garbage") and store.inspect("p").problem
    'corrupt file'
    """

    def __init__(self, directory, *, on_recompute: Callable[[StoredPiece], None] | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.fingerprint = check_library_unchanged()
        self.on_recompute = on_recompute
        remove_dead_temporaries(self.directory)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.npz"

    def inspect(self, name: str, function: Callable | None = None) -> StoredPiece:
        """Read and verify the stored piece ``name``; never raises for a bad file.

        Parameters
        ----------
        name : str
        function : callable, optional
            The piece's function: if given, a piece computed by a different
            version of its source is not reused ("function changed"; this
            matters for functions outside usaav, whose files the library
            fingerprint does not cover).
        """
        path = self.path(name)

        def bad(problem, detail=""):
            return StoredPiece(name, path, None, problem, detail)

        if not path.exists():
            return bad("missing")
        if path.stat().st_size == 0:
            return bad("corrupt file", "empty file")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except Exception as error:  # zipfile.BadZipFile, EOFError, ValueError, OSError, zlib.error ...
            return bad("corrupt file", f"not a readable .npz: {type(error).__name__}: {error}")
        if RECORD_KEY not in arrays:
            return bad("library changed", "no provenance record: written by an older usaav")
        try:
            record = json.loads(str(arrays.pop(RECORD_KEY)[()]))
            recorded_arrays = record["arrays"]
            recorded_library = record["library"]
            recorded_name = record["piece"]
            recorded_checksum = record["checksum"]
        except (ValueError, KeyError, TypeError, IndexError) as error:
            return bad("corrupt file", f"unreadable provenance record: {type(error).__name__}: {error}")
        if recorded_name != name:
            return bad("corrupt file", f"holds piece {recorded_name!r}")
        for key in recorded_arrays:
            if key not in arrays:
                return bad("corrupt file", f"array {key!r} missing")
        for key in arrays:
            if key not in recorded_arrays:
                return bad("corrupt file", f"unexpected array {key!r}")
        for key, spec in recorded_arrays.items():
            shape, dtype = tuple(arrays[key].shape), arrays[key].dtype.str
            if list(shape) != list(spec.get("shape", [])) or dtype != spec.get("dtype"):
                return bad("corrupt file", f"array {key!r} has shape {shape} and dtype {dtype}, "
                                           f"recorded {tuple(spec.get('shape', []))} and {spec.get('dtype')}")
        if _checksum(arrays) != recorded_checksum:
            return bad("corrupt file", "checksum mismatch: the array bytes changed")
        if recorded_library.get("digest") != self.fingerprint["digest"]:
            return bad("library changed", describe_library_change(recorded_library, self.fingerprint))
        if function is not None and record.get("function_digest", "") != _function_digest(function):
            return bad("function changed", f"the source of {_qualified_name(function)} changed")
        return StoredPiece(name, path, arrays, None)

    def load(self, name: str) -> PieceResult | None:
        """The stored arrays of piece ``name``, or ``None`` if it is missing, corrupt or stale."""
        return self.inspect(name).arrays

    def save(self, name: str, arrays: Mapping[str, np.ndarray], *, function: Callable | None = None,
             kwargs: Mapping | None = None) -> None:
        """Write ``arrays`` and their provenance record atomically (see :func:`atomic_writer`).

        Parameters
        ----------
        name : str
        arrays : mapping of str to array_like
            No object arrays (they would need pickle to load).
        function, kwargs : optional
            Recorded for provenance (the function's source digest is checked by :meth:`inspect`).
        """
        if not _SAFE_NAME.match(name):
            raise ValueError(f"name must use letters, digits and ._+=- only, got {name!r}")
        arrays = {key: np.asarray(value) for key, value in arrays.items()}
        for key, array in arrays.items():
            if key.startswith("__usaav"):
                raise ValueError(f"array names starting with '__usaav' are reserved, got {key!r}")
            if array.dtype.hasobject:
                raise TypeError(f"array {key!r} of piece {name!r} has dtype object; pieces hold numeric or string arrays")
        # the record says which code computed the arrays: it must still be the code on disk
        check_library_unchanged()
        record = {
            "format": RECORD_FORMAT,
            "piece": name,
            "function": _qualified_name(function) if function is not None else None,
            "function_digest": _function_digest(function) if function is not None else "",
            "kwargs": jsonable(dict(kwargs or {})),
            "library": self.fingerprint,
            "arrays": {key: {"shape": list(a.shape), "dtype": a.dtype.str} for key, a in arrays.items()},
            "checksum": _checksum(arrays),
        }
        with atomic_writer(self.path(name), "wb") as stream:
            np.savez(stream, **arrays, **{RECORD_KEY: np.array(json.dumps(record, sort_keys=True))})

    def report(self, stored: StoredPiece) -> None:
        """Tell ``on_recompute`` (or the ``usaav.experiments`` logger) why a stored piece is recomputed."""
        if self.on_recompute is not None:
            self.on_recompute(stored)
        else:
            _LOGGER.warning("recomputing %s: %s", stored.path, stored.reason)

    def __contains__(self, name: str) -> bool:
        return self.inspect(name).valid


# --------------------------------------------------------------------------
# Running pieces
# --------------------------------------------------------------------------

def _worker_name() -> str:
    """Who computes here: a Dask worker's address, else the process id and host."""
    import sys

    if "distributed" in sys.modules:
        with contextlib.suppress(Exception):  # ValueError outside a Dask worker
            return f"Dask worker {sys.modules['distributed'].get_worker().address}"
    return f"process {os.getpid()} on {socket.gethostname()}"


def _compute(function: Callable[..., PieceResult], kwargs: Mapping) -> tuple[dict, PieceResult]:
    """Run one piece where the executor puts it; return the fingerprint of the code that ran it too.

    The fingerprint is the worker's import-time one (the code it runs, not
    its files now), with the worker's name under ``"worker"``.  The
    arguments travel positionally: an executor's own keywords (Dask's
    ``key``, ``workers``, ``priority`` ...) can never capture a piece argument.
    """
    return {**library_fingerprint(), "worker": _worker_name()}, function(**kwargs)


def _as_arrays(piece: Piece, value) -> PieceResult:
    if not isinstance(value, Mapping):
        raise TypeError(f"piece {piece.name} must return a dict of arrays, got {type(value).__name__}")
    return {str(key): np.asarray(array) for key, array in value.items()}


def run_pieces(
    pieces: list[Piece],
    executor: concurrent.futures.Executor | None = None,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> dict[str, PieceResult]:
    """Run ``pieces`` (reusing those valid in ``store``) and return their results by name.

    Parameters
    ----------
    pieces : list of Piece
    executor : concurrent.futures.Executor, optional
        Where to run the pieces; ``None`` runs them in order in this process.
        Any object with ``submit(fn, *args)`` returning a
        :class:`concurrent.futures.Future` works (e.g. Dask's
        ``client.get_executor()``).  Results come back to this process, which
        alone writes to ``store`` (workers need no shared file system).  A
        result computed by a worker whose library fingerprint differs from
        this process's raises :class:`RuntimeError`.
    store : PieceStore, optional
        Valid finished pieces are loaded from it instead of recomputed; new
        results are saved to it as soon as each piece finishes.  Stored pieces
        that are stale or corrupt are reported with :meth:`PieceStore.report`
        and recomputed.
    progress : callable, optional
        Called as ``progress(name, cached, total)`` once per piece, ``total``
        being the number of pieces (for a progress bar).

    Returns
    -------
    dict
        Piece name → dict of arrays.
    """
    names = [p.name for p in pieces]
    if len(set(names)) != len(names):
        raise ValueError("pieces must have unique names")
    results: dict[str, PieceResult] = {}
    todo = []
    for piece in pieces:
        if store is not None:
            stored = store.inspect(piece.name, piece.function)
            if stored.valid:
                results[piece.name] = stored.arrays
                if progress is not None:
                    progress(piece.name, True, len(pieces))
                continue
            if stored.problem != "missing":
                store.report(stored)
        todo.append(piece)

    def finish(piece: Piece, value) -> None:
        value = _as_arrays(piece, value)
        if store is not None:
            store.save(piece.name, value, function=piece.function, kwargs=piece.kwargs)
        results[piece.name] = value
        if progress is not None:
            progress(piece.name, False, len(pieces))

    if executor is None:
        for piece in todo:
            finish(piece, piece.function(**piece.kwargs))
    elif todo:
        here = store.fingerprint if store is not None else library_fingerprint()
        if store is not None:
            check_library_unchanged()  # before any computing: a stale client would store nothing
        futures = {executor.submit(_compute, piece.function, dict(piece.kwargs)): piece for piece in todo}
        try:
            for future in concurrent.futures.as_completed(futures):
                piece = futures[future]
                there, value = future.result()
                if there["digest"] != here["digest"]:
                    raise StaleLibraryError(
                        f"piece {piece.name} was computed by {there.get('worker', 'a worker')}, which runs "
                        f"a different usaav ({describe_library_change(here, there)}); its result is not "
                        "stored. Restart that worker (it may have imported usaav before the files "
                        "changed) or install the same usaav, NumPy and SciPy everywhere")
                finish(piece, value)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return {name: results[name] for name in names}
