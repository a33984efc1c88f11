r"""The source of the usaav package as this process loaded it: one hash per file, taken at ``import usaav``.

``usaav/__init__.py`` imports this module first, before any other module of
the package, so :data:`LOADED` describes the files the process is about to
run.  A file edited afterwards (a ``git pull`` under a running notebook
session or a long-lived Dask worker) no longer matches what runs:
:func:`usaav.experiments.library_fingerprint` reports :data:`LOADED`, and the
places that store results compare it with :func:`source_hashes` of the disk.

Standard library only: this module sits below every other one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["LOADED", "PACKAGE_DIRECTORY", "source_hashes"]

#: Hex digits kept of each file's SHA-256 (48 bits: a collision by accident is out of reach).
FILE_DIGITS = 12

#: The directory of the imported ``usaav`` package.
PACKAGE_DIRECTORY = Path(__file__).resolve().parent


def source_hashes(root: Path) -> dict[str, str]:
    """SHA-256 prefix of every ``.py`` file under the package directory ``root``, as it is on disk now.

    Keys are paths relative to the package's parent in POSIX form
    (``"usaav/dynamics.py"``), so they do not depend on where the package
    lies; ``__pycache__`` is skipped.
    """
    hashes = {}
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        relative = (Path(root.name) / path.relative_to(root)).as_posix()
        hashes[relative] = hashlib.sha256(path.read_bytes()).hexdigest()[:FILE_DIGITS]
    return hashes


#: The source hashes at ``import usaav``: the code this process runs.
LOADED: dict[str, str] = source_hashes(PACKAGE_DIRECTORY)
