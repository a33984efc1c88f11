"""Ways a stored piece file goes bad, for tests/test_pieces.py and tests/test_cli.py.

Each function damages a valid piece file in place and is independent of the
store's own code: it rewrites the ``.npz`` with NumPy and ``zipfile`` alone,
keeping the provenance record where the damage is to the arrays.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

RECORD = "__usaav_piece__"  # the provenance record's name inside the .npz


def _arrays(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _first_array(arrays: dict) -> str:
    return sorted(key for key in arrays if key != RECORD)[0]


def truncated(path: Path) -> str:
    """The first half of the file, as a killed writer without atomic rename would leave it."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return "not a readable .npz"


def garbage(path: Path) -> str:
    """Random bytes of the same length."""
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))
    return "not a readable .npz"


def empty(path: Path) -> str:
    path.write_bytes(b"")
    return "empty file"


def wrong_keys(path: Path) -> str:
    """One recorded array missing, the record kept."""
    arrays = _arrays(path)
    key = _first_array(arrays)
    del arrays[key]
    np.savez(path, **arrays)
    return f"array {key!r} missing"


def extra_key(path: Path) -> str:
    arrays = _arrays(path)
    np.savez(path, **arrays, intruder=np.zeros(2))
    return "unexpected array 'intruder'"


def wrong_shape(path: Path) -> str:
    """One array cut to a different shape, the record kept."""
    arrays = _arrays(path)
    key = _first_array(arrays)
    arrays[key] = np.zeros((3,) + arrays[key].shape)
    np.savez(path, **arrays)
    return f"array {key!r} has shape"


def tampered(path: Path) -> str:
    """One number changed and the archive rewritten consistently (valid zip, valid record)."""
    arrays = _arrays(path)
    key = next(k for k in sorted(arrays) if k != RECORD and arrays[k].dtype.kind == "f" and arrays[k].size)
    values = arrays[key].copy()
    values.flat[0] += 1.0
    arrays[key] = values
    np.savez(path, **arrays)
    return "checksum mismatch"


def flipped_byte(path: Path) -> str:
    """One byte of array data flipped in place (the zip member's CRC no longer matches)."""
    with zipfile.ZipFile(path) as archive:
        member = next(info for info in archive.infolist() if not info.filename.startswith(RECORD))
    data = bytearray(path.read_bytes())
    # last byte of the member's data: local header (30 bytes + name + extra) then the data
    offset = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra) + member.compress_size - 1
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return "not a readable .npz"


KINDS = {
    "truncated": truncated,
    "garbage": garbage,
    "empty": empty,
    "wrong_keys": wrong_keys,
    "extra_key": extra_key,
    "wrong_shape": wrong_shape,
    "tampered": tampered,
    "flipped_byte": flipped_byte,
}
