"""The piece store never serves a stale or corrupt result (usaav.experiments._pieces, _provenance).

Facts checked here, each against an independent construction:

* the library digest changes with any source file of the package and with
  nothing else (``__pycache__``, the package's location);
* a stored piece is reused only when the file is intact (each way of
  damaging it, written by ``tests/damage.py`` with NumPy and zipfile alone, is
  named) and was computed by the running library and function;
* ``run_pieces`` recomputes exactly the bad pieces, reports why, and refuses
  results computed by a worker running other code;
* files are replaced atomically: a failed or concurrent write leaves only
  whole files, and leftovers of dead writers are cleared.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import damage
import usaav
from usaav import experiments as ex
from usaav.experiments import _pieces

PACKAGE = Path(usaav.__file__).resolve().parent


def square_piece(n: int, scale: float = 1.0) -> dict:
    """A small piece: a few arrays of different dtypes and shapes."""
    x = np.arange(n, dtype=np.float64)
    return {"t": x, "square": scale * x**2, "count": np.int64(n), "label": np.array("ok")}


def _pieces_for(ns):
    return [ex.make_piece("demo", f"n{n}", square_piece, n=n) for n in ns]


@pytest.fixture
def package_copy(tmp_path):
    copy = tmp_path / "lib" / "usaav"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


# --------------------------------------------------------------------------
# The library digest
# --------------------------------------------------------------------------


def test_library_digest_does_not_depend_on_where_the_package_lies(package_copy):
    assert ex.library_digest(package_copy) == ex.library_digest()


def test_library_digest_changes_with_a_formula_and_names_the_file(package_copy):
    before = ex.library_fingerprint(package_copy)
    dynamics = package_copy / "dynamics.py"
    dynamics.write_text(dynamics.read_text() + "\n_SCALE = 0.1  # a changed constant\n")
    after = ex.library_fingerprint(package_copy)
    assert after["digest"] != before["digest"]
    assert ex.describe_library_change(before, after) == "usaav/dynamics.py changed"


def test_library_digest_sees_new_and_removed_modules(package_copy):
    before = ex.library_fingerprint(package_copy)
    (package_copy / "experiments" / "extra.py").write_text("X = 1\n")
    (package_copy / "labels.py").unlink()
    after = ex.library_fingerprint(package_copy)
    assert ex.describe_library_change(before, after) == "usaav/experiments/extra.py added, usaav/labels.py removed"


def test_library_digest_ignores_bytecode_caches(package_copy):
    before = ex.library_digest(package_copy)
    (package_copy / "__pycache__").mkdir()
    (package_copy / "__pycache__" / "dynamics.cpython-311.py").write_text("stale = True\n")
    assert ex.library_digest(package_copy) == before


def test_library_digest_covers_numpy_and_scipy_versions():
    here = ex.library_fingerprint()
    older = {**here, "numpy": "1.0.0"}
    assert ex.describe_library_change(older, here) == f"numpy 1.0.0 → {here['numpy']}"


def test_library_digest_refuses_a_directory_that_is_not_a_package(tmp_path):
    with pytest.raises(ValueError, match="package_dir must be a Python package directory"):
        ex.library_digest(tmp_path)


# --------------------------------------------------------------------------
# A stored piece is verified on load
# --------------------------------------------------------------------------


def test_saved_piece_loads_bit_identical_with_its_provenance(tmp_path):
    store = ex.PieceStore(tmp_path)
    arrays = square_piece(5)
    store.save("demo-a", arrays, function=square_piece, kwargs={"n": 5})
    stored = store.inspect("demo-a", square_piece)
    assert stored.valid and stored.reason == ""
    for key, value in arrays.items():
        np.testing.assert_array_equal(stored.arrays[key], value)
        assert stored.arrays[key].dtype == np.asarray(value).dtype
    with np.load(store.path("demo-a")) as data:
        record = json.loads(str(data[damage.RECORD][()]))
    assert record["library"]["digest"] == ex.library_digest()
    assert record["kwargs"] == {"n": 5}
    assert record["arrays"]["t"] == {"shape": [5], "dtype": "<f8"}


@pytest.mark.parametrize("kind", sorted(damage.KINDS))
def test_every_kind_of_damaged_file_is_named_and_not_reused(tmp_path, kind):
    store = ex.PieceStore(tmp_path)
    store.save("demo-a", square_piece(5), function=square_piece)
    expected = damage.KINDS[kind](store.path("demo-a"))
    stored = store.inspect("demo-a", square_piece)
    assert stored.problem == "corrupt file"
    assert expected in stored.detail
    assert store.load("demo-a") is None and "demo-a" not in store


def test_a_file_of_another_piece_is_not_reused(tmp_path):
    store = ex.PieceStore(tmp_path)
    store.save("demo-a", square_piece(5))
    shutil.copy(store.path("demo-a"), store.path("demo-b"))
    assert store.inspect("demo-b").detail == "holds piece 'demo-a'"


def test_a_file_without_provenance_is_not_reused(tmp_path):
    np.savez(tmp_path / "demo-a.npz", **square_piece(5))  # as usaav 0.1.0 wrote them
    stored = ex.PieceStore(tmp_path).inspect("demo-a")
    assert stored.reason == "library changed (no provenance record: written by an older usaav)"


def test_a_piece_of_another_library_is_not_reused_and_the_changed_file_is_named(tmp_path):
    old = ex.PieceStore(tmp_path)
    old.fingerprint = {**old.fingerprint, "files": {**old.fingerprint["files"], "usaav/dynamics.py": "0" * 12},
                       "digest": "0" * 64}
    old.save("demo-a", square_piece(5))
    stored = ex.PieceStore(tmp_path).inspect("demo-a")
    assert stored.reason == "library changed (usaav/dynamics.py changed)"


def test_a_piece_of_an_edited_function_is_not_reused(tmp_path):
    store = ex.PieceStore(tmp_path)
    store.save("demo-a", square_piece(5), function=square_piece)
    assert store.inspect("demo-a", square_piece).valid
    assert store.inspect("demo-a", _pieces_for).problem == "function changed"


def test_missing_piece(tmp_path):
    stored = ex.PieceStore(tmp_path).inspect("demo-a")
    assert (stored.problem, stored.arrays) == ("missing", None)


def test_save_refuses_unsafe_names_reserved_keys_and_object_arrays(tmp_path):
    store = ex.PieceStore(tmp_path)
    with pytest.raises(ValueError, match="name must use"):
        store.save("../escape", {"x": np.zeros(1)})
    with pytest.raises(ValueError, match="reserved"):
        store.save("demo-a", {damage.RECORD: np.zeros(1)})
    with pytest.raises(TypeError, match="dtype object"):
        store.save("demo-a", {"x": np.array([None, 1], dtype=object)})
    assert list(tmp_path.iterdir()) == []


def test_make_piece_refuses_labels_that_are_not_file_names():
    with pytest.raises(ValueError, match="experiment and label"):
        ex.make_piece("demo", "a/b", square_piece, n=1)


# --------------------------------------------------------------------------
# run_pieces recomputes exactly the bad pieces and says why
# --------------------------------------------------------------------------


def test_run_pieces_recomputes_only_bad_pieces_and_reports_each(tmp_path):
    pieces = _pieces_for([3, 4, 5, 6])
    first = ex.run_pieces(pieces, store=ex.PieceStore(tmp_path))
    damage.truncated(tmp_path / f"{pieces[0].name}.npz")
    (tmp_path / f"{pieces[1].name}.npz").unlink()
    reports, calls = [], []
    store = ex.PieceStore(tmp_path, on_recompute=reports.append)
    second = ex.run_pieces(pieces, store=store, progress=lambda name, cached, total: calls.append((name, cached)))
    assert [(r.name, r.problem) for r in reports] == [(pieces[0].name, "corrupt file")]  # missing is not a problem
    assert sorted(calls) == sorted([(pieces[0].name, False), (pieces[1].name, False),
                                    (pieces[2].name, True), (pieces[3].name, True)])
    for name in first:
        for key in first[name]:
            np.testing.assert_array_equal(second[name][key], first[name][key])
    assert all(store.inspect(p.name).valid for p in pieces)


def test_run_pieces_logs_a_warning_without_a_callback(tmp_path, caplog):
    pieces = _pieces_for([3])
    ex.run_pieces(pieces, store=ex.PieceStore(tmp_path))
    damage.empty(tmp_path / f"{pieces[0].name}.npz")
    with caplog.at_level("WARNING", logger="usaav.experiments"):
        ex.run_pieces(pieces, store=ex.PieceStore(tmp_path))
    assert f"{pieces[0].name}.npz: corrupt file (empty file)" in caplog.text


class _OtherLibraryExecutor(concurrent.futures.Executor):
    """Runs each call here but reports the library of another machine."""

    def submit(self, fn, *args, **kwargs):
        future = concurrent.futures.Future()
        fingerprint, value = fn(*args, **kwargs)
        future.set_result(({**fingerprint, "digest": "f" * 64, "numpy": "0.0"}, value))
        return future


def test_run_pieces_refuses_results_of_a_worker_running_other_code(tmp_path):
    with pytest.raises(RuntimeError, match=r"different usaav \(numpy .* → 0\.0\)"):
        ex.run_pieces(_pieces_for([3]), executor=_OtherLibraryExecutor(), store=ex.PieceStore(tmp_path))
    assert not list(tmp_path.glob("*.npz"))


def test_run_pieces_passes_piece_arguments_positionally_to_the_executor(tmp_path):
    """An executor's own keywords (Dask's ``key``, ``workers`` ...) never capture a piece argument."""
    seen = []

    class Recording(concurrent.futures.ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            seen.append(kwargs)
            return super().submit(fn, *args, **kwargs)

    with Recording(max_workers=2) as pool:
        ex.run_pieces(_pieces_for([3, 4]), executor=pool)
    assert seen == [{}, {}]


# --------------------------------------------------------------------------
# Atomic files
# --------------------------------------------------------------------------


def test_atomic_writer_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    with pytest.raises(OSError, match="disk full"):
        with ex.atomic_writer(target, "w") as stream:
            stream.write("partial")
            raise OSError("disk full")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_concurrent_writers_of_one_file_never_collide(tmp_path):
    target = tmp_path / "a.txt"
    texts = [str(i) * 100_000 for i in range(8)]
    barrier = threading.Barrier(len(texts))

    def write(text):
        with ex.atomic_writer(target, "w") as stream:
            barrier.wait()  # every writer has its temporary file open at once
            stream.write(text)

    with concurrent.futures.ThreadPoolExecutor(len(texts)) as pool:
        list(pool.map(write, texts))
    assert target.read_text() in texts
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_leftovers_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    host = _pieces._host()
    dead_file = tmp_path / f".demo-a.npz.{host}-{dead_pid}-abc_123x.tmp"
    live_file = tmp_path / f".demo-b.npz.{host}-{os.getpid()}-abc_123x.tmp"
    remote_file = tmp_path / f".demo-c.npz.elsewhere-{dead_pid}-abc_123x.tmp"
    for path in (dead_file, live_file, remote_file):
        path.write_bytes(b"partial")
    ex.PieceStore(tmp_path)
    assert not dead_file.exists()
    assert live_file.exists() and remote_file.exists()
