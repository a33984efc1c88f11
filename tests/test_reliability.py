"""Failure modes of issue 16, each checked against an outside observer.

The observer is a subprocess (a notebook session or a worker whose files
change under it), the file system (modes under a umask), a plain HTTP server
posing as a Dask scheduler, or the command's exit status and its one-line
message; never the code path under test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import usaav

PACKAGE = Path(usaav.__file__).resolve().parent
ROOT = PACKAGE.parent


@pytest.fixture
def library(tmp_path):
    """A copy of the usaav package in ``tmp/lib`` (a subprocess imports it through PYTHONPATH)."""
    copy = tmp_path / "lib"
    shutil.copytree(PACKAGE, copy / "usaav", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _run_script(source: str, library: Path, *args, timeout: float = 240) -> subprocess.CompletedProcess:
    script = library.parent / "script.py"
    script.write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(library), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=library.parent, timeout=timeout)


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


# --------------------------------------------------------------------------
# 1. The digest describes the code that ran
# --------------------------------------------------------------------------

HELPER = '''
import numpy as np


def warm():
    import usaav.experiments  # the worker loads usaav now, before the files change
    return 0


def piece(n):
    return {"x": np.arange(n, dtype=np.float64)}
'''


def test_a_session_whose_files_changed_after_import_stores_nothing_and_names_the_file(library, tmp_path):
    """A notebook session: import usaav, then a ``git pull`` edits dynamics.py; the store refuses, by name."""
    completed = _run_script('''
        import sys
        from pathlib import Path
        import usaav.experiments as ex

        opened = ex.PieceStore(sys.argv[2] + "/early")          # opened while the files were current
        dynamics = Path(sys.argv[1]) / "usaav" / "dynamics.py"
        dynamics.write_text(dynamics.read_text() + "\\n# a pull after import\\n")
        for attempt in (lambda: ex.PieceStore(sys.argv[2] + "/late"),
                        lambda: opened.save("p", {"x": [1.0]})):
            try:
                attempt()
            except ex.StaleLibraryError as error:
                print("REFUSED", error)
            else:
                print("STORED")
    ''', library, library, tmp_path)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("REFUSED") for line in lines), completed.stdout
    assert all("usaav/dynamics.py changed" in line and "restart" in line for line in lines)
    assert not list((tmp_path / "early").glob("*.npz"))


def test_a_worker_that_imported_older_code_is_refused_by_name(library, tmp_path):
    """A worker started before a ``git pull``, a client started after: the client stores nothing."""
    (library / "helper.py").write_text(HELPER)
    completed = _run_script('''
        import concurrent.futures, multiprocessing, sys
        from pathlib import Path
        import helper

        if __name__ == "__main__":
            pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            pool.submit(helper.warm).result()
            observables = Path(sys.argv[1]) / "usaav" / "observables.py"
            observables.write_text(observables.read_text() + "\\n# a pull while the worker runs\\n")
            import usaav.experiments as ex
            assert ex.library_digest(Path(sys.argv[1]) / "usaav") == ex.library_digest()  # the client is current
            worker = pool.submit(__import__("os").getpid).result()
            try:
                ex.run_pieces([ex.make_piece("demo", "n3", helper.piece, n=3)], executor=pool,
                              store=ex.PieceStore(sys.argv[2]))
            except RuntimeError as error:
                print("REFUSED", worker, error)
            else:
                print("STORED")
            pool.shutdown()
    ''', library, library, tmp_path / "pieces")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("REFUSED"), completed.stdout
    worker = completed.stdout.split()[1]
    assert f"computed by process {worker} on" in completed.stdout
    assert "usaav/observables.py changed" in completed.stdout
    assert not list((tmp_path / "pieces").glob("*.npz"))


def test_version_still_shows_the_digest_of_the_loaded_code():
    from usaav import experiments as ex

    completed = subprocess.run([sys.executable, "-m", "usaav", "--version"], capture_output=True, text=True,
                               cwd=ROOT, timeout=120)
    assert f"library digest {ex.library_digest()[:12]}" in completed.stdout


# --------------------------------------------------------------------------
# 3. Output files respect the umask
# --------------------------------------------------------------------------


def test_every_file_reproduce_writes_is_readable_by_others_under_umask_022(tmp_path):
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "usaav", "reproduce", "gallery", "--quick", "--workers", "0", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, preexec_fn=lambda: os.umask(0o022))
    assert completed.returncode == 0, completed.stderr
    files = [path for path in out.rglob("*") if path.is_file()]
    kinds = {path.suffix for path in files}
    assert {".npz", ".json", ".csv", ".png", ".svg"} <= kinds
    modes = {str(path.relative_to(out)): oct(path.stat().st_mode & 0o777) for path in files}
    assert all(mode == "0o644" for mode in modes.values()), modes


# --------------------------------------------------------------------------
# 5. Every experiment is bit-reproducible: across runs, workers, resume
# --------------------------------------------------------------------------


def _reproduce_all(out: Path, *options) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "usaav", "reproduce", "all", "--quick", "--no-figures", "--out", str(out), *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def _finish(process: subprocess.Popen) -> None:
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stdout + stderr


def _contents(out: Path) -> dict:
    """Every stored array's dtype, shape and bytes, and every result JSON without its timings."""
    import json

    import numpy as np

    contents = {}
    for path in sorted((out / "pieces").glob("*.npz")):
        with np.load(path, allow_pickle=False) as data:
            for key in data.files:
                array = data[key]
                contents[f"{path.name}:{key}"] = (array.dtype.str, array.shape, array.tobytes())
    for path in sorted(out.glob("*.json")):
        payload = json.loads(path.read_text())
        payload.pop("run", None)
        for entry in payload.get("experiments", {}).values():  # verdicts.json: no timings there
            entry.pop("elapsed_s", None)
        contents[path.name] = json.dumps(payload, sort_keys=True)
    return contents


@pytest.mark.slow
def test_every_experiment_gives_the_same_bits_in_two_runs_with_any_workers_and_after_a_kill(tmp_path):
    import signal
    import time

    first = _reproduce_all(tmp_path / "first", "--workers", "0")
    _finish(first)
    reference = _contents(tmp_path / "first")
    assert sum(name.endswith(".json") for name in reference) == 6  # five experiments and verdicts.json
    _finish(_reproduce_all(tmp_path / "pool", "--workers", "2"))
    killed = _reproduce_all(tmp_path / "resumed", "--workers", "0")
    deadline = time.monotonic() + 600
    while len(list((tmp_path / "resumed" / "pieces").glob("*.npz"))) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    _finish(_reproduce_all(tmp_path / "resumed", "--workers", "0"))
    for run in ("pool", "resumed"):
        contents = _contents(tmp_path / run)
        assert sorted(contents) == sorted(reference)
        differing = [name for name in reference if contents[name] != reference[name]]
        assert not differing, f"{run}: {len(differing)} differ, e.g. {differing[:3]}"


# --------------------------------------------------------------------------
# 6. A hand-edited verdicts.json; crashes have their own exit status
# 7. A full disk, a size limit, a directory in a file's place: one line
# --------------------------------------------------------------------------

GALLERY = ["reproduce", "gallery", "--quick", "--no-figures", "--workers", "0"]


@pytest.fixture(scope="module")
def gallery_run(tmp_path_factory):
    """One quick gallery run: later runs into a copy reuse every piece and only write."""
    from usaav import cli

    out = tmp_path_factory.mktemp("gallery") / "out"
    assert cli.main([*GALLERY, "--out", str(out)]) == 0
    return out


@pytest.fixture
def rerun(gallery_run, tmp_path, capsys):
    """``rerun()`` runs the gallery again into a copy of ``gallery_run``: (status, stdout, stderr, out)."""
    from usaav import cli

    out = tmp_path / "out"
    shutil.copytree(gallery_run, out)
    capsys.readouterr()

    def run():
        status = cli.main([*GALLERY, "--out", str(out)])
        captured = capsys.readouterr()
        return status, captured.out, captured.err, out

    return out, run


VERDICT = {"experiment": "gallery", "name": "gap", "value": 0.5, "threshold": 1.0, "relation": "<",
           "passed": True, "reference": ""}


@pytest.mark.parametrize("content", [
    '{"experiments": {"gallery": 5}}',
    "[]",
    '{"experiments": {"old": {"verdicts": [' + json.dumps({**VERDICT, "passed": "false"}) + "]}}}",
    '{"experiments": {"old": {"verdicts": [' + json.dumps(VERDICT).replace("0.5", "NaN") + "]}}}",
    '{"experiments": {"old": {"quick": NaN, "verdicts": []}}}',
], ids=["entry-a-number", "a-list", "passed-a-string", "value-nan", "fact-nan"])
def test_a_hand_edited_verdicts_file_of_the_wrong_layout_is_started_afresh_with_a_warning(rerun, content):
    out, run = rerun
    (out / "verdicts.json").write_text(content)
    status, stdout, stderr, out = run()
    assert status == 0, stderr
    assert f"warning: {out / 'verdicts.json'} was unreadable as a verdicts file of usaav" in stdout
    summary = json.loads((out / "verdicts.json").read_text())
    assert list(summary["experiments"]) == ["gallery"] and summary["failed"] == 0


def test_merge_verdicts_refuses_a_passed_field_that_is_a_string():
    from usaav import experiments as ex

    summary = {"experiments": {"old": {"verdicts": [{**VERDICT, "passed": "false"}]}}}
    with pytest.raises(ValueError, match=r"experiments\.old\.verdicts\[0\]\.passed: expected a boolean, got a string"):
        ex.merge_verdicts(summary, "gallery", [])


def test_a_crash_has_its_own_exit_status_and_keeps_the_pieces(rerun, monkeypatch):
    from usaav import experiments as ex

    def broken(**kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(ex, "representation_gallery", broken)
    out, run = rerun
    status, stdout, stderr, out = run()
    assert status == 3
    assert stderr.splitlines()[-1] == (
        f"usaav reproduce: error: the run crashed (ZeroDivisionError: a bug); finished pieces are kept in "
        f"{out / 'pieces'}; rerun the same command to resume")


def test_the_exit_statuses_are_documented_in_the_help_and_the_readme(capsys):
    from usaav import cli

    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--help"])
    help_text = capsys.readouterr().out
    readme = (ROOT / "README.md").read_text()
    words = " ".join(help_text.split())
    for status, meaning in cli.EXIT_STATUSES.items():
        assert f"{status} {meaning}" in words
        assert f"| {status} | {meaning.split(':')[0]}" in readme


def test_a_full_disk_is_one_line_naming_the_file(rerun, monkeypatch):
    import errno

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out, run = rerun
    monkeypatch.setattr(os, "fsync", full)
    status, stdout, stderr, out = run()
    assert status == 3
    assert stderr.splitlines() == [
        f"usaav reproduce: error: cannot write {out / 'gallery.json'}: No space left on device (ENOSPC); "
        f"finished pieces are kept in {out / 'pieces'}; rerun the same command to resume"]


def test_a_directory_where_a_result_file_goes_is_one_line_naming_it(rerun):
    out, run = rerun
    (out / "gallery.json").unlink()
    (out / "gallery.json").mkdir()
    status, stdout, stderr, out = run()
    assert status == 3
    assert stderr.splitlines() == [
        f"usaav reproduce: error: cannot write {out / 'gallery.json'}: Is a directory (EISDIR); "
        f"finished pieces are kept in {out / 'pieces'}; rerun the same command to resume"]


def test_a_file_size_limit_is_one_line_naming_the_file(tmp_path):
    import resource

    def limit():  # 64 KiB: the quick gallery's pieces and JSON are larger
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, 1 << 16))

    out = tmp_path / "out"
    completed = subprocess.run([sys.executable, "-m", "usaav", *GALLERY, "--out", str(out)], capture_output=True,
                               text=True, cwd=ROOT, timeout=600, preexec_fn=limit)
    assert completed.returncode == 3, completed.stderr
    line, = completed.stderr.splitlines()
    assert line.startswith(f"python -m usaav reproduce: error: cannot write {out}/")
    assert line.endswith(": File too large (EFBIG); finished pieces are kept in "
                         f"{out / 'pieces'}; rerun the same command to resume")


def test_an_unusable_out_names_the_path_that_is_in_the_way(tmp_path, capsys):
    from usaav import cli

    (tmp_path / "pf").mkdir()
    (tmp_path / "pf" / "pieces").write_text("a file where the pieces directory goes")
    with pytest.raises(SystemExit) as exit_:
        cli.main([*GALLERY, "--out", str(tmp_path / "pf")])
    assert exit_.value.code == 2
    assert f"--out: cannot write to {tmp_path / 'pf' / 'pieces'} (File exists)" in capsys.readouterr().err


# --------------------------------------------------------------------------
# 2. A --dask-scheduler that is not one; every worker gone mid-run
# --------------------------------------------------------------------------


@pytest.fixture
def http_server():
    """A plain HTTP server on loopback (the dashboard's kind: it waits for a request)."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def talking_server():
    """A server that greets every connection with an HTTP status line (Dask would read it as a length)."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    listener.close()


def _run_on(address: str, out: Path, capsys) -> tuple[int, str, float]:
    """The command against ``address`` in a thread, given 60 s (a hang fails the test instead of stalling it)."""
    import threading
    import time

    from usaav import cli

    outcome = {}

    def run():
        try:
            cli.main(["reproduce", "mean-field", "--quick", "--dask-scheduler", address, "--out", str(out)])
        except SystemExit as exit_:
            outcome["status"] = exit_.code
        else:
            outcome["status"] = "returned"

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), f"the command still runs after 60 s against {address}"
    return outcome["status"], capsys.readouterr().err, time.monotonic() - start


def test_a_web_server_given_as_dask_scheduler_is_one_line_within_the_deadline(http_server, tmp_path, capsys,
                                                                               monkeypatch):
    pytest.importorskip("distributed")
    from usaav import cli

    monkeypatch.setattr(cli, "DASK_CONNECT_TIMEOUT", "2s")
    status, err, elapsed = _run_on(http_server, tmp_path, capsys)
    assert status == 2
    assert err.splitlines() == [
        f"usaav reproduce: error: --dask-scheduler: {http_server!r} is not a Dask scheduler: it sent nothing "
        "within 2 s where a scheduler sends its handshake at once (is it the dashboard or a web server? "
        "the scheduler usually listens on port 8786)"]
    assert elapsed < 2 + 10  # the deadline, and the command's own start-up (observed: under 1 s)


def test_a_server_that_speaks_first_but_not_dask_is_one_line(talking_server, tmp_path, capsys):
    pytest.importorskip("distributed")
    status, err, _ = _run_on(talking_server, tmp_path, capsys)
    assert status == 2
    assert err.splitlines() == [
        f"usaav reproduce: error: --dask-scheduler: {talking_server!r} is not a Dask scheduler: it answered "
        "b'HTTP/1.1 400 Bad', not a Dask handshake"]


@pytest.mark.slow
def test_every_dask_worker_dying_mid_run_is_said_and_the_pieces_are_kept(tmp_path, monkeypatch, capsys):
    import signal
    import threading
    import time

    distributed = pytest.importorskip("distributed")
    from usaav import cli

    monkeypatch.setattr(cli, "DASK_NO_WORKER_GRACE", 3.0)
    pieces = tmp_path / "out" / "pieces"
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0") as cluster:
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
             "--nthreads", "1", "--no-nanny", "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)

        def kill_after_three_pieces():
            deadline = time.monotonic() + 300
            while len(list(pieces.glob("*.npz"))) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            worker.send_signal(signal.SIGKILL)

        killer = threading.Thread(target=kill_after_three_pieces, daemon=True)
        killer.start()
        try:
            status = cli.main(["reproduce", "all", "--quick", "--no-figures", "--dask-scheduler",
                               cluster.scheduler_address, "--out", str(tmp_path / "out")])
        finally:
            worker.kill()
            worker.wait()
            killer.join()
    err = capsys.readouterr().err
    assert status == 3
    assert err.splitlines()[-1].startswith(
        f"usaav reproduce: error: every Dask worker of {cluster.scheduler_address} is gone (none for 3 s) with ")
    assert err.splitlines()[-1].endswith(f"pieces unfinished; finished pieces are kept in {pieces}; "
                                         "rerun the same command to resume")
    assert len(list(pieces.glob("*.npz"))) >= 3


# --------------------------------------------------------------------------
# 8. Frozen kernels stay frozen, and equal, through pickle and deepcopy
# --------------------------------------------------------------------------


def _copies():
    import copy
    import pickle

    return {"pickle": lambda k: pickle.loads(pickle.dumps(k)), "deepcopy": copy.deepcopy, "copy": copy.copy}


@pytest.mark.parametrize("how", sorted(_copies()))
def test_prompt_gauges_stay_read_only_and_equal_after_a_copy(how):
    import numpy as np

    from usaav import kernels

    angle = 0.3
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    original = kernels.Prompts(2.0, np.stack([np.eye(3), rotation]))
    copied = _copies()[how](original)
    assert not copied.gauges.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        copied.gauges[0, 0, 0] = 5.0
    assert copied == original and hash(copied) == hash(original)
    assert copied != kernels.Prompts(2.0, np.stack([rotation, np.eye(3)]))


@pytest.mark.parametrize("how", sorted(_copies()))
def test_toeplitz_coefficients_stay_immutable_and_equal_after_a_copy(how):
    from usaav import kernels

    original = kernels.Toeplitz({3: 0.5, 1: 1.0})
    copied = _copies()[how](original)
    with pytest.raises(TypeError):
        copied.coefficients[2] = 7.0
    with pytest.raises(TypeError):
        original.coefficients[2] = 7.0
    assert copied == original and hash(copied) == hash(original)
    assert list(copied.coefficients) == [1, 3]
    assert copied != kernels.Toeplitz({1: 1.0, 3: 0.25})


# --------------------------------------------------------------------------
# 9. Messages that name the argument
# --------------------------------------------------------------------------

PROMPT_GAUGES = [[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]]


@pytest.mark.parametrize("spec, error, message", [
    ({"type": "usa", "beta": 10**400, "aux": [0.0, 0.5]}, ValueError,
     r"spec\['beta'\] must be finite, got an integer of about 10\*\*400"),
    ({"type": "toeplitz", "coefficients": {"1": 10**400}, "aux": [0.0, 0.5]}, ValueError,
     r"spec\['coefficients'\]\['1'\] must be finite, got an integer of about 10\*\*400"),
    ({"type": "rope", "beta": 1.0, "theta": 1.0, "plane": 3, "aux": [0.0, 0.5]}, TypeError,
     r"spec\['plane'\] must be a pair of axis indices \(i, j\), got int 3"),
    ({"type": "prompts", "beta": 1.0, "gauges": PROMPT_GAUGES, "aux": [0, 1e300]}, ValueError,
     r"spec\['aux'\] must hold prompt ids in 0\.\.0 \(there are 1 gauges\), got spec\['aux'\]\[1\] = 1e\+300"),
], ids=["beta-10**400", "coefficient-10**400", "plane-an-int", "prompt-id-1e300"])
def test_a_hostile_spec_is_refused_naming_the_field(spec, error, message):
    from usaav import specs

    with pytest.raises(error, match=message):
        specs.from_spec(spec)


def test_a_beta_beyond_float_is_refused_naming_beta():
    from usaav import kernels

    with pytest.raises(ValueError, match=r"^beta must be finite, got an integer of about 10\*\*400"):
        kernels.USA(10**400)


def test_an_all_negative_weight_is_not_called_sign_changing():
    import numpy as np

    from usaav import kernels, relative_energy_gap, uniform_sphere

    kernel = kernels.Separated(1.0, lambda a, b: -np.ones((len(a), len(b))))
    X = uniform_sphere(4, 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="Separated with a negative or sign-changing weight has none"):
        relative_energy_gap(kernel, X, np.linspace(0.0, 1.0, 4))


def test_seeds_beyond_any_run_are_a_usage_error_naming_the_option(tmp_path, capsys):
    from usaav import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["reproduce", "collapse", "--seeds", str(10**30), "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "argument --seeds: must be at most 1000000 (each seed is at least one piece per model), got 1e+30" \
        in capsys.readouterr().err


# --------------------------------------------------------------------------
# 10. Ctrl-C while workers start, SIGTERM: the resume hint, nothing else
# --------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _start_full_collapse(out: Path) -> subprocess.Popen:
    # full size: the workers are busy for minutes, so the signal always finds them running
    return subprocess.Popen(
        [sys.executable, "-m", "usaav", "reproduce", "collapse", "--workers", "2", "--no-figures", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)


linux_only = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")


@linux_only
@pytest.mark.parametrize("when", [0.0, 1.5], ids=["workers-starting", "workers-running"])
def test_ctrl_c_prints_the_resume_hint_and_no_worker_traceback(tmp_path, when):
    import signal
    import time

    process = _start_full_collapse(tmp_path / "out")
    try:
        deadline = time.monotonic() + 120
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(when)
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().endswith(f"interrupted: finished pieces are kept in {tmp_path / 'out' / 'pieces'}; "
                                   "rerun the same command to resume")


@linux_only
def test_sigterm_prints_the_resume_hint_and_no_leaked_semaphore_warning(tmp_path):
    import signal
    import time

    process = _start_full_collapse(tmp_path / "out")
    try:
        deadline = time.monotonic() + 120
        while len(_children(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(1.0)
        workers = _children(process.pid)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 143, stderr
    assert "leaked" not in stderr and "Traceback" not in stderr, stderr
    assert stderr.strip().endswith(f"terminated (SIGTERM): finished pieces are kept in "
                                   f"{tmp_path / 'out' / 'pieces'}; rerun the same command to resume")
    time.sleep(1.0)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()
                and "zombie" not in Path(f"/proc/{pid}/status").read_text()]


# --------------------------------------------------------------------------
# 4. from_spec reads tables per particle and Toeplitz keys in canonical decimal
#    (tests/js/specs_agree.test.mjs feeds the same specs to the twin)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("field, spec", [
    ("phases", {"type": "phase_field", "beta": 1.0, "phases": [0.0, 1.0, 2.0], "aux": [0.0, 0.5, 0.0]}),
    ("weights", {"type": "separated", "beta": 1.0, "aux": [0.0, 0.5, 0.0],
                 "weights": [[1.0, 0.2, 0.3], [0.2, 1.0, 0.2], [0.3, 0.2, 1.0]]}),
])
def test_a_table_that_is_not_a_function_of_the_labels_is_refused(field, spec):
    from usaav import specs

    with pytest.raises(ValueError, match=rf"spec\['{field}'\] must be a function of the labels: aux\[0\] = aux\[2\]"):
        specs.from_spec(spec)


@pytest.mark.parametrize("key", ["01", " 1", "+1", "1_0"])
def test_a_toeplitz_key_not_in_canonical_decimal_is_refused(key):
    from usaav import specs

    with pytest.raises(ValueError, match=rf"keys must be integers k >= 0, got '{re.escape(key)}'"):
        specs.from_spec({"type": "toeplitz", "aux": [0.0, 0.5], "coefficients": {key: 1.0}})
