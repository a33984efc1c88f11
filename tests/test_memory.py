"""Memory stays bounded at n = 32768 (MODEL.md §2, §6): measured in a child process.

One child Python process (``subprocess``) imports the library once and runs
every case below in turn, measuring two things:

* the peak of the memory NumPy allocates during the case (``tracemalloc``,
  which NumPy reports its array buffers to), reset before each case; it
  must stay below 256 MiB: the working memory is O(n · d + tile), a few MiB
  at n = 32768, while one ``n × n`` matrix would be 8 GiB;
* the peak resident set size of the whole process
  (``resource.getrusage(...).ru_maxrss``), which must stay below 1 GB, the
  limit asked of every public function.

The child caps its data segment (``RLIMIT_DATA``, 2 GiB), so that a
regression to ``n × n`` memory fails fast with a MemoryError instead of
swapping the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("resource", reason="peak memory is measured with the POSIX resource module")

pytestmark = pytest.mark.process  # one child process measures the memory (tests/conftest.py)

N = 32768

CASES = {
    "velocity": "usaav.velocity(kernels.RoPE(1.0), X, s)",
    "energy": "usaav.energy(kernels.USA(1.0), X, None)",
    # One cluster of n points, and 64 interleaved clusters: dense tiles everywhere.
    "count_clusters_collapsed": "assert usaav.count_clusters(np.tile(X[:1], (n, 1)), 1e-3) == 1",
    "count_clusters_64": (
        "Y = usaav.normalize(X[np.arange(n) % 64] + 1e-6 * np.random.default_rng(1).standard_normal((n, 3)))\n"
        "assert usaav.count_clusters(Y, 1e-4) == 64"
    ),
    # One label for all n points (n²/2 pairs), and 61 frames of 1024 points in two large groups.
    "conditional_diameter": "assert usaav.conditional_diameter(X, np.zeros(n)) > 1.99",
    "conditional_diameter_frames": (
        "F = usaav.uniform_sphere(61 * 1024, 3, rng=2).reshape(61, 1024, 3)\n"
        "assert usaav.conditional_diameter(F, np.arange(1024) % 2).shape == (61,)"
    ),
    # 1e8 frames (~450 GiB): refused before anything is allocated.
    "simulate_refused": (
        "try:\n"
        "    usaav.simulate(kernels.USA(1.0), X[:1000], None, t_max=1e4, dt=1e-4)\n"
        "except ValueError as error:\n"
        "    assert 'record_every' in str(error)\n"
        "else:\n"
        "    raise AssertionError('not refused')"
    ),
}

CHILD = textwrap.dedent(
    """
    import json, resource, sys, tracemalloc
    resource.setrlimit(resource.RLIMIT_DATA, (2 << 30, 2 << 30))
    import numpy as np
    import usaav
    from usaav import kernels, labels

    n = {n}
    X = usaav.uniform_sphere(n, 3, rng=0)
    s = labels.grid_positions(n)
    cases = json.loads(sys.argv[1])
    report = {{}}
    tracemalloc.start()
    for name, code in cases.items():
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        try:
            exec(code)
        except BaseException as error:
            report[name] = {{"error": repr(error)}}
            continue
        report[name] = {{"numpy_peak_bytes": tracemalloc.get_traced_memory()[1] - start}}
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    unit = 1 if sys.platform == "darwin" else 1024
    report["rss_peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def measured():
    script = CHILD.format(n=N)
    result = subprocess.run([sys.executable, "-c", script, json.dumps(CASES)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(CASES))
def test_working_memory_at_n_32768_is_a_few_tiles_not_n_squared(measured, case):
    report = measured[case]
    assert "error" not in report, report.get("error")
    assert report["numpy_peak_bytes"] < 256 * 2**20, f"{case}: {report['numpy_peak_bytes'] / 2**20:.0f} MiB"


def test_peak_resident_memory_of_all_cases_stays_below_one_gigabyte(measured):
    assert measured["rss_peak_bytes"] < 1e9, f"{measured['rss_peak_bytes'] / 2**20:.0f} MiB"
