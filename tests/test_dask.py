"""The experiments on a Dask cluster: the same numbers, resumable, and workers running other code refused.

One small ``distributed.LocalCluster`` (two worker processes) serves the
module.  The reference numbers come from the default executor (this process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="needs usaav[dask] (dask and distributed)")

pytestmark = pytest.mark.process  # local clusters of worker processes (tests/conftest.py)

import usaav  # noqa: E402
from usaav import cli  # noqa: E402
from usaav import experiments as ex  # noqa: E402

PACKAGE = Path(usaav.__file__).resolve().parent
SMALL = dict(quick=True, seeds=range(1))


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        yield client


def _counting():
    counts = {"reused": 0, "computed": 0}

    def progress(name, cached, total):
        counts["reused" if cached else "computed"] += 1

    return counts, progress


def test_dask_gives_bit_identical_numbers_and_resumes(client, tmp_path):
    here = ex.collapse_through_layers(**SMALL)
    store = ex.PieceStore(tmp_path / "pieces")
    counts, progress = _counting()
    assert set(ex.check_dask_workers(client).values()) == {ex.library_digest()}
    on_dask = ex.collapse_through_layers(**SMALL, executor=client.get_executor(), store=store, progress=progress)
    assert on_dask.to_json() == here.to_json()
    assert counts == {"reused": 0, "computed": 6}
    counts, progress = _counting()
    again = ex.collapse_through_layers(**SMALL, executor=client.get_executor(), store=store, progress=progress)
    assert counts == {"reused": 6, "computed": 0}
    assert again.to_json() == here.to_json()


def test_command_on_a_dask_scheduler_matches_the_default_executor(client, tmp_path, capsys):
    # the gallery: one seed by design, a second on the quick sizes (the issue's own check)
    argv = ["reproduce", "gallery", "--quick", "--no-figures"]
    assert cli.main([*argv, "--workers", "0", "--out", str(tmp_path / "here")]) == 0
    address = client.scheduler.address
    assert cli.main([*argv, "--dask-scheduler", address, "--out", str(tmp_path / "dask")]) == 0
    first = capsys.readouterr().out
    assert cli.main([*argv, "--dask-scheduler", address, "--out", str(tmp_path / "dask")]) == 0
    second = capsys.readouterr().out
    result = {name: json.loads((tmp_path / name / "gallery.json").read_text())["result"] for name in ("here", "dask")}
    assert result["dask"] == result["here"]
    assert "0 reused" in first and f"Dask scheduler {address}" in first
    assert "0 computed" in second


def test_command_starts_a_local_cluster(tmp_path, capsys):
    status = cli.main(["reproduce", "gallery", "--quick", "--no-figures", "--workers", "1",
                       "--dask-scheduler", "local", "--out", str(tmp_path)])
    assert status == 0
    assert "Dask scheduler local" in capsys.readouterr().out


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["reproduce", "mean-field", "--quick", "--dask-scheduler", "tcp://127.0.0.1:9",
                  "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "--dask-scheduler: cannot connect to 'tcp://127.0.0.1:9'" in capsys.readouterr().err


def test_a_worker_running_other_code_is_refused_by_name(client, tmp_path, capsys):
    library = tmp_path / "lib"
    shutil.copytree(PACKAGE, library / "usaav", ignore=shutil.ignore_patterns("__pycache__"))
    observables = library / "usaav" / "observables.py"
    observables.write_text(observables.read_text() + "\n# an edit on one machine only\n")
    before = set(client.scheduler_info()["workers"])
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", client.scheduler.address,
         "--nthreads", "1", "--no-nanny", "--no-dashboard"],
        env={**os.environ, "PYTHONPATH": str(library)}, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(client.scheduler_info()["workers"]) <= len(before) and time.monotonic() < deadline:
            time.sleep(0.1)
        stranger = next(iter(set(client.scheduler_info()["workers"]) - before))
        with pytest.raises(RuntimeError, match="1 of 3 Dask workers run a different usaav") as error:
            ex.check_dask_workers(client)
        assert f"{stranger}: usaav/observables.py changed" in str(error.value)
        with pytest.raises(SystemExit) as exit_:
            cli.main(["reproduce", "mean-field", "--quick", "--seeds", "1", "--no-figures",
                      "--dask-scheduler", client.scheduler.address, "--out", str(tmp_path / "out")])
        assert exit_.value.code == 2
        assert f"{stranger}: usaav/observables.py changed" in capsys.readouterr().err
        assert not list((tmp_path / "out" / "pieces").glob("*.npz"))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        deadline = time.monotonic() + 30
        while set(client.scheduler_info()["workers"]) != before and time.monotonic() < deadline:
            time.sleep(0.1)
