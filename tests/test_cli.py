"""The ``usaav`` command: never a stale or corrupt result, safe to kill, to rerun and to run twice at once.

Every run here is ``reproduce collapse --quick --no-batch`` (18 pieces, one
per system, so that a run can be killed between many small pieces; a few seconds)
or smaller; the reference run is uninterrupted, in this process, and the
other runs must reproduce its numbers exactly (JSON holds every float with
all its digits).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest

import damage
import usaav
from usaav import cli
from usaav import experiments as ex

PACKAGE = Path(usaav.__file__).resolve().parent
QUICK = ["reproduce", "collapse", "--quick", "--no-batch", "--workers", "0"]
#: Seconds a test waits for a process to end that should end within a second: the
#: polls return as soon as it has, so a long limit costs nothing when all is well,
#: and a loaded machine (5 s failed under the load of parallel jobs) does not fail it.
GENEROUS_WAIT = 60
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")


def _command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "usaav", *argv]


def _result(out: Path, stem: str = "collapse") -> dict:
    return json.loads((out / f"{stem}.json").read_text())["result"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted quick collapse run: (output directory, stdout)."""
    out = tmp_path_factory.mktemp("reference")
    completed = subprocess.run(_command(*QUICK, "--out", str(out)), capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out, completed.stdout


def _copy_run(reference_out: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(reference_out, out)
    return out


def _run_here(capsys, *argv: str) -> tuple[int, str]:
    status = cli.main(list(argv))
    return status, capsys.readouterr().out


# --------------------------------------------------------------------------
# The command and its arguments
# --------------------------------------------------------------------------


def test_version_names_the_package_version_and_library_digest():
    completed = subprocess.run(_command("--version"), capture_output=True, text=True, check=True)
    assert completed.stdout.startswith(f"usaav {usaav.__version__} (library digest {ex.library_digest()[:12]}")


def test_python_dash_m_and_the_module_share_one_main():
    from usaav import __main__

    assert __main__.main is cli.main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
        (["--seeds", "abc"], "argument --seeds: expected an integer, got 'abc'"),
        (["--seeds", "-3"], "argument --seeds: must be at least 1, got -3"),
        (["--workers", "-1"], "argument --workers: must be 0 (run in this process) or more, got -1"),
        (["--workers", "two"], "argument --workers: expected an integer, got 'two'"),
        (["--workers", str(cli.WORKERS_PER_CORE * cli.available_cores() + 1)],
         f"argument --workers: at most {cli.WORKERS_PER_CORE * cli.available_cores()}"),
    ],
)
def test_bad_arguments_are_argparse_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["reproduce", "collapse", "--quick", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: usaav reproduce")
    assert message in err


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("not a directory")
    with pytest.raises(SystemExit) as exit_:
        cli.main([*QUICK, "--out", str(target)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"usaav reproduce: error: --out: {target} is a file, not a directory\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")
def test_out_on_a_read_only_file_system_is_a_clear_error(capsys):
    target = Path("/proc/usaav-results")  # /proc refuses new directories, even to root
    with pytest.raises(SystemExit) as exit_:
        cli.main([*QUICK, "--out", str(target)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usaav reproduce: error: --out: cannot write to {target} (")
    assert "Traceback" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only directories")
def test_out_in_a_read_only_directory_is_a_clear_error(tmp_path, capsys):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(SystemExit):
            cli.main([*QUICK, "--out", str(tmp_path / "out")])
    finally:
        tmp_path.chmod(0o755)
    assert "cannot write to" in capsys.readouterr().err


def test_no_batch_reaches_experiments_that_batch_and_only_those(monkeypatch):
    calls = {}

    def batching(*, quick, executor, store, progress, seeds=None, batch=True):
        calls["batching"] = batch
        raise _Stop

    def plain(*, quick, executor, store, progress, seeds=None):
        calls["plain"] = "called"
        raise _Stop

    monkeypatch.setattr(ex, "collapse_through_layers", batching)
    monkeypatch.setattr(ex, "mean_field_convergence", plain)
    for name in ("collapse", "mean-field"):
        args = cli.build_parser().parse_args(["reproduce", name, "--no-batch"])
        with pytest.raises(_Stop):
            cli._run_experiment(name, args, None, None)
    assert calls == {"batching": False, "plain": "called"}


class _Stop(Exception):
    pass


# --------------------------------------------------------------------------
# Resuming, and never a stale or corrupt result
# --------------------------------------------------------------------------


@pytest.mark.process
def test_reference_run_computes_every_piece_and_passes(reference):
    out, stdout = reference
    assert "== collapse: 18 pieces (0 reused" in stdout and "18 computed" in stdout
    assert "12 passed, 0 failed" in stdout
    assert len(list((out / "pieces").glob("*.npz"))) == 18


@pytest.mark.process
def test_killed_run_resumes_to_identical_numbers(reference, tmp_path, capsys):
    out = tmp_path / "out"
    process = subprocess.Popen(_command(*QUICK, "--no-figures", "--out", str(out)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / "pieces").glob("*.npz"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL  # killed mid-run, not finished
    finished = len(list((out / "pieces").glob("*.npz")))
    assert 3 <= finished < 18
    for path in (out / "pieces").glob("*.npz"):  # only whole files
        assert ex.PieceStore(out / "pieces").inspect(path.stem).valid
    status, stdout = _run_here(capsys, *QUICK, "--no-figures", "--out", str(out))
    assert status == 0
    reused = int(stdout.split("pieces (")[1].split(" reused")[0])
    assert reused >= finished - 1  # the piece being written at the kill may be lost, never half-written
    assert _result(out) == _result(reference[0])
    assert not list(out.rglob("*.tmp"))


@pytest.mark.process
@pytest.mark.parametrize("kind", sorted(damage.KINDS))
def test_a_damaged_piece_is_named_replaced_and_the_numbers_unchanged(reference, tmp_path, capsys, kind):
    out = _copy_run(reference[0], tmp_path)
    victim = sorted((out / "pieces").glob("collapse-rope-n64-*.npz"))[0]
    detail = damage.KINDS[kind](victim)
    status, stdout = _run_here(capsys, *QUICK, "--no-figures", "--out", str(out))
    assert status == 0
    assert "18 pieces (17 reused" in stdout and "1 computed" in stdout
    assert f"replaced {victim}: corrupt file (" in stdout and detail in stdout
    assert ex.PieceStore(out / "pieces").inspect(victim.stem).valid
    assert _result(out) == _result(reference[0])


@pytest.mark.process
def test_a_changed_library_recomputes_every_piece_and_says_which_file_changed(tmp_path):
    """The reported bug: forces scaled by 0.1 elsewhere in usaav, and a rerun served the old numbers."""
    library = tmp_path / "lib"
    shutil.copytree(PACKAGE, library / "usaav", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(library)}
    out = tmp_path / "out"
    argv = _command(*QUICK, "--seeds", "1", "--no-figures", "--out", str(out))
    first = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = _result(out)
    dynamics = library / "usaav" / "dynamics.py"
    # forces scaled by 0.1: simulate() looks vector_field up when it runs, so it takes this one
    dynamics.write_text(dynamics.read_text() + (
        "\n_unscaled_vector_field = vector_field\n\n"
        "def vector_field(interaction, clock='raw'):\n"
        "    field = _unscaled_vector_field(interaction, clock)\n"
        "    return lambda X: 0.1 * field(X)\n"))
    second = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "6 pieces (0 reused" in second.stdout and "6 computed" in second.stdout
    assert f"recomputed 6 stored pieces in {out / 'pieces'}: library changed (usaav/dynamics.py changed)" \
        in second.stdout
    after = _result(out)
    assert after["collapse_gap"] != before["collapse_gap"]  # new numbers, not the stored ones
    third = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "6 pieces (6 reused" in third.stdout and "recomputed" not in third.stdout
    assert _result(out) == after


@pytest.mark.process
def test_verdicts_of_every_experiment_are_kept(reference, tmp_path, capsys):
    out = _copy_run(reference[0], tmp_path)
    status, _ = _run_here(capsys, "reproduce", "gallery", "--quick", "--workers", "0",
                          "--no-figures", "--out", str(out))
    assert status == 0
    summary = json.loads((out / "verdicts.json").read_text())
    assert sorted(summary["experiments"]) == ["collapse", "gallery"]
    collapse = json.loads((out / "collapse.json").read_text())["result"]["verdicts"]
    gallery = json.loads((out / "gallery.json").read_text())["result"]["verdicts"]
    assert summary["experiments"]["collapse"]["verdicts"] == collapse
    assert summary["experiments"]["gallery"]["verdicts"] == gallery
    assert summary["passed"] == len(collapse) + len(gallery) and summary["failed"] == 0
    assert summary["experiments"]["collapse"]["library_digest"] == ex.library_digest()


@pytest.mark.process
def test_an_unreadable_verdicts_file_is_started_afresh(reference, tmp_path, capsys):
    out = _copy_run(reference[0], tmp_path)
    (out / "verdicts.json").write_text('{"experiments": {"coll')
    status, stdout = _run_here(capsys, *QUICK, "--no-figures", "--out", str(out))
    assert status == 0 and "verdicts.json was unreadable" in stdout
    assert list(json.loads((out / "verdicts.json").read_text())["experiments"]) == ["collapse"]


# --------------------------------------------------------------------------
# Two runs at once into one directory
# --------------------------------------------------------------------------


def _whole_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")


@pytest.mark.process
def test_two_concurrent_runs_leave_only_whole_files(reference, tmp_path):
    out = tmp_path / "out"
    argv = _command(*QUICK, "--seeds", "1", "--out", str(out))
    partial_reads, stop = [], threading.Event()

    def read_while_running():
        while not stop.is_set():
            for path in (out / "collapse.json", out / "verdicts.json"):
                try:
                    json.loads(path.read_text())
                except FileNotFoundError:
                    pass
                except ValueError as error:
                    partial_reads.append(f"{path.name}: {error}")
            time.sleep(0.002)  # leave the cores to the two runs

    reader = threading.Thread(target=read_while_running)
    reader.start()
    try:
        runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=300) for run in runs]
    finally:
        stop.set()
        reader.join()
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert partial_reads == []
    store = ex.PieceStore(out / "pieces")
    assert all(store.inspect(path.stem).valid for path in (out / "pieces").glob("*.npz"))
    assert len(list((out / "pieces").glob("*.npz"))) == 6
    for path in out.glob("*.json"):
        json.loads(path.read_text())
    for path in (out / "figures").glob("*.png"):
        assert _whole_png(path), path
    for path in (out / "figures").glob("*.svg"):
        ElementTree.parse(path)
    assert len(list((out / "figures").iterdir())) == 4
    assert not list(out.rglob("*.tmp"))
    seeds_1 = _result(out)
    for key in ("collapse_gap", "limit_point"):  # seed 0 of the reference run, the same numbers
        np.testing.assert_array_equal(np.array(seeds_1[key])[:, :, 0], np.array(_result(reference[0])[key])[:, :, 0])


# --------------------------------------------------------------------------
# Workers end with the command
# --------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.process
@linux_only
def test_workers_end_when_the_command_is_killed(tmp_path):
    # full size: each worker is busy with a long n = 1024 piece when the parent dies
    process = subprocess.Popen(_command("reproduce", "collapse", "--workers", "2", "--no-figures",
                                        "--out", str(tmp_path / "out")),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    try:
        assert _wait_until(lambda: len(_children(process.pid)) >= 2, 60), "no worker started"
        time.sleep(1.0)  # the workers are computing
        workers = _children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        # They end at once (prctl) or within a second (getppid poll) on a calm machine; the
        # wait is generous because a busy 2-core machine can take seconds to schedule and reap them.
        assert _wait_until(lambda: not any(_running(pid) for pid in workers), GENEROUS_WAIT), \
            f"workers {[pid for pid in workers if _running(pid)]} outlived the command"
    finally:
        process.kill()
        process.wait()
        for pid in workers:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.process
@linux_only
def test_the_portable_watchdog_alone_ends_an_orphaned_worker():
    """Without prctl: a process whose parent dies exits within a second (the getppid poll)."""
    worker = ("import os, sys, time; from usaav.cli import _end_with_parent; "
              "_end_with_parent(os.getppid(), use_prctl=False); print(os.getpid(), flush=True); time.sleep(60)")
    parent = ("import subprocess, sys, time; "
              f"child = subprocess.Popen([sys.executable, '-c', {worker!r}]); time.sleep(60)")
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        child = int(process.stdout.readline())
        assert _running(child)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert _wait_until(lambda: not _running(child), GENEROUS_WAIT), "the orphaned worker is still running"
    finally:
        process.kill()
        process.wait()
        if child is not None and _running(child):
            os.kill(child, signal.SIGKILL)
