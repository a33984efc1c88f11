r"""Which library computed a result: a digest of usaav's source files and of NumPy/SciPy.

A stored result is reusable only if it was computed by the same code.  The
code is every Python source file of the ``usaav`` package (a change to the
forces in ``dynamics.py`` changes every experiment, even though no experiment
module changed) together with the versions of NumPy and SciPy, whose
floating-point results may change between releases.

:func:`library_fingerprint` lists all of it (one hash per source file, so a
mismatch can say *which* file changed); :func:`library_digest` condenses it
to one string.  The experiment piece store and the book's execution cache
both key on :func:`library_digest`, so neither serves results of older code.

The fingerprint describes the code this process *runs*: the source files as
they were at ``import usaav`` (:mod:`usaav._source`), not as they are on
disk when asked.  A process whose files changed after it imported usaav (a
notebook session across a ``git pull``, a Dask worker started before it)
still computes with the old code; :func:`check_library_unchanged` compares
the loaded code with the disk and refuses to store such results, naming the
changed files and asking for a restart.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .. import _source

__all__ = [
    "StaleLibraryError",
    "check_library_unchanged",
    "describe_library_change",
    "library_digest",
    "library_fingerprint",
]


class StaleLibraryError(RuntimeError):
    """The usaav source files changed on disk after this process (or a worker) imported them."""


def _package_directory(package_dir) -> Path:
    path = Path(package_dir)
    if not (path / "__init__.py").is_file():
        raise ValueError(f"package_dir must be a Python package directory (with __init__.py), got {str(path)!r}")
    return path


def library_fingerprint(package_dir=None) -> dict:
    """Everything that decides what usaav computes: its source files and the NumPy/SciPy versions.

    Parameters
    ----------
    package_dir : str or Path, optional
        The ``usaav`` package directory to describe, as its files are on disk
        now; default: the code this process runs, that is the imported
        package's files as they were at ``import usaav`` (compare with
        :func:`check_library_unchanged`).

    Returns
    -------
    dict
        ``{"files": {"usaav/dynamics.py": "<sha256 prefix>", ...}, "numpy": "2.1.3",
        "scipy": "1.14.1", "digest": "<sha256>"}``; ``digest`` condenses the rest
        (the files are keyed by their path relative to the package's parent, in
        POSIX form, so the digest does not depend on where the package lies).

    Examples
    --------
    >>> fingerprint = library_fingerprint()
    >>> "usaav/dynamics.py" in fingerprint["files"], fingerprint["digest"] == library_digest()
    (True, True)
    """
    import numpy
    import scipy

    if package_dir is None:
        files = dict(_source.LOADED)
    else:
        files = _source.source_hashes(_package_directory(package_dir))
    fingerprint = {"files": files, "numpy": numpy.__version__, "scipy": scipy.__version__}
    text = json.dumps(fingerprint, sort_keys=True)
    fingerprint["digest"] = hashlib.sha256(text.encode()).hexdigest()
    return fingerprint


def library_digest(package_dir=None) -> str:
    """One SHA-256 hex string for :func:`library_fingerprint`: equal digests, same code.

    Parameters
    ----------
    package_dir : str or Path, optional
        The ``usaav`` package directory; default: the one imported.

    Examples
    --------
    >>> len(library_digest())
    64
    """
    return library_fingerprint(package_dir)["digest"]


def check_library_unchanged(what: str = "this process") -> dict:
    """Raise :class:`StaleLibraryError` if usaav's files on disk differ from the code this process loaded.

    Called before a result is stored: results of the loaded (older) code
    must not be stamped with, or mistaken for, those of the files on disk.

    Parameters
    ----------
    what : str
        Who runs the stale code, for the message ("this process", "Dask worker tcp://...").

    Returns
    -------
    dict
        The fingerprint of the loaded code (:func:`library_fingerprint`).

    Raises
    ------
    StaleLibraryError
        Naming the files that changed since ``import usaav`` and saying to restart.
    """
    loaded = library_fingerprint()
    on_disk = library_fingerprint(_source.PACKAGE_DIRECTORY)
    if on_disk["digest"] != loaded["digest"]:
        raise StaleLibraryError(
            f"the usaav source files changed after {what} imported usaav "
            f"({describe_library_change(loaded, on_disk)} on disk); {what} still runs the old code, "
            "so its results are not stored: restart it (a notebook: restart the kernel) and run again")
    return loaded


def describe_library_change(old: dict, new: dict, limit: int = 3) -> str:
    """In words, what differs between two fingerprints ("usaav/dynamics.py changed; numpy 1.26.4 → 2.1.3").

    >>> a = {"files": {"usaav/a.py": "1", "usaav/b.py": "2"}, "numpy": "2.0", "scipy": "1.14"}
    >>> describe_library_change(a, {**a, "files": {"usaav/a.py": "3"}})
    'usaav/a.py changed, usaav/b.py removed'
    """
    old_files, new_files = old.get("files", {}), new.get("files", {})
    changes = []
    for name in sorted(set(old_files) | set(new_files)):
        if name not in new_files:
            changes.append(f"{name} removed")
        elif name not in old_files:
            changes.append(f"{name} added")
        elif old_files[name] != new_files[name]:
            changes.append(f"{name} changed")
    if len(changes) > limit:
        changes = changes[:limit] + [f"{len(changes) - limit} more files"]
    for package in ("numpy", "scipy"):
        if old.get(package) != new.get(package):
            changes.append(f"{package} {old.get(package)} → {new.get(package)}")
    return ", ".join(changes) if changes else "digest differs"
