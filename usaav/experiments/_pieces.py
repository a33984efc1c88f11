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
piece, written to a temporary file and moved into place with
:func:`os.replace` (atomic on POSIX): an interrupted run leaves only whole
files, and a rerun skips them.  A piece's name ends with a digest of its
function and arguments, so changing a parameter never reuses a stale piece.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import inspect
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from ._results import jsonable

__all__ = ["Piece", "PieceStore", "make_piece", "run_pieces"]

PieceResult = dict[str, np.ndarray]


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


def _version() -> str:
    from .. import __version__

    return __version__


def make_piece(experiment: str, label: str, function: Callable[..., PieceResult], **kwargs) -> Piece:
    """A :class:`Piece` named ``{experiment}-{label}-{digest}``.

    The digest hashes the function's name and source, ``usaav.__version__``
    and the arguments, so a piece is reused only by the same computation
    (changes to the library code the piece calls are not seen: clear the
    store after editing it).

    >>> p = make_piece("demo", "n4", dict, a=1)
    >>> p.name.startswith("demo-n4-"), p.name == make_piece("demo", "n4", dict, a=1).name
    (True, True)
    >>> p.name == make_piece("demo", "n4", dict, a=2).name
    False
    """
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):  # builtins and the like
        source = ""
    key = json.dumps(
        {"function": f"{function.__module__}.{function.__qualname__}", "source": source,
         "version": _version(), "kwargs": jsonable(kwargs)},
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return Piece(f"{experiment}-{label}-{digest}", function, dict(kwargs))


class PieceStore:
    """Finished pieces on disk: ``directory/<name>.npz``, written atomically.

    Parameters
    ----------
    directory : str or Path
        Created if missing.

    Examples
    --------
    >>> import tempfile
    >>> store = PieceStore(tempfile.mkdtemp())
    >>> store.save("p", {"x": np.arange(3)})
    >>> store.load("p")["x"]
    array([0, 1, 2])
    >>> store.load("missing") is None
    True
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.npz"

    def load(self, name: str) -> PieceResult | None:
        """The stored arrays of piece ``name``, or ``None`` if it has not finished."""
        path = self.path(name)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}

    def save(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Write ``arrays`` to a temporary file in the same directory, then :func:`os.replace` it into place."""
        handle, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.savez(stream, **{key: np.asarray(value) for key, value in arrays.items()})
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, self.path(name))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def __contains__(self, name: str) -> bool:
        return self.path(name).exists()


def run_pieces(
    pieces: list[Piece],
    executor: concurrent.futures.Executor | None = None,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> dict[str, PieceResult]:
    """Run ``pieces`` (skipping those already in ``store``) and return their results by name.

    Parameters
    ----------
    pieces : list of Piece
    executor : concurrent.futures.Executor, optional
        Where to run the pieces; ``None`` runs them in order in this process.
        Any object with ``submit(fn, **kwargs)`` returning a
        :class:`concurrent.futures.Future` works (e.g. Dask's
        ``client.get_executor()``).
    store : PieceStore, optional
        Finished pieces are loaded from it instead of recomputed, and new
        results are saved to it as soon as each piece finishes.
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
        cached = store.load(piece.name) if store is not None else None
        if cached is not None:
            results[piece.name] = cached
            if progress is not None:
                progress(piece.name, True, len(pieces))
        else:
            todo.append(piece)

    def finish(piece: Piece, value: PieceResult) -> None:
        value = {key: np.asarray(array) for key, array in value.items()}
        if store is not None:
            store.save(piece.name, value)
        results[piece.name] = value
        if progress is not None:
            progress(piece.name, False, len(pieces))

    if executor is None:
        for piece in todo:
            finish(piece, piece.function(**piece.kwargs))
    else:
        futures = {executor.submit(piece.function, **piece.kwargs): piece for piece in todo}
        try:
            for future in concurrent.futures.as_completed(futures):
                finish(futures[future], future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return {name: results[name] for name in names}
