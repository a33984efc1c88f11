"""Tests of usaav.experiments and the ``python -m usaav reproduce`` command (MODEL.md §6).

The quick experiments run once, through the command line, into a temporary
directory; the experiment functions then reload the same pieces from its
store, so every prediction of the paper is checked on the quick sizes
without recomputing.  Independent computations (closed forms, scipy
integrators, brute-force transport) check the pieces of the machinery.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import math
from contextlib import redirect_stdout

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import usaav
from usaav import experiments as ex
from usaav.__main__ import main
from usaav.experiments import collapse as collapse_module
from usaav.observables import count_clusters, winding_number
from usaav.experiments.mean_field import partition_w2
from usaav.transport import wasserstein

EXPERIMENT_FILES = ("collapse", "gallery", "metastability", "mean_field")


# --------------------------------------------------------------------------
# One quick run of the whole command, shared by the tests below
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        status = main(["reproduce", "all", "--quick", "--workers", "2", "--out", str(out)])
    return out, status, buffer.getvalue()


@pytest.fixture(scope="module")
def quick(cli_run):
    """The four quick results, rebuilt from the command's stored pieces (no recomputation)."""
    store = ex.PieceStore(cli_run[0] / "pieces")
    computed = []

    def progress(name, cached, total):
        if not cached:
            computed.append(name)

    results = {
        "collapse": ex.collapse_through_layers(quick=True, store=store, progress=progress),
        "gallery": ex.representation_gallery(quick=True, store=store, progress=progress),
        "metastability": ex.metastability(quick=True, store=store, progress=progress),
        "mean_field": ex.mean_field_convergence(quick=True, store=store, progress=progress),
    }
    assert computed == []  # the functions and the command name their pieces identically
    return results


def _run_cli(capsys, *argv):
    status = main(["reproduce", *argv])
    return status, capsys.readouterr().out


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


def test_cli_writes_numbers_figures_and_passing_verdicts(cli_run):
    out, status, stdout = cli_run
    assert status == 0, stdout
    for name in EXPERIMENT_FILES:
        payload = json.loads((out / f"{name}.json").read_text())
        assert payload["usaav_version"] == usaav.__version__
        assert payload["params"]["quick"] is True
        assert payload["seeds"]
        assert all(v["passed"] for v in payload["result"]["verdicts"])
        assert (out / f"{name}.csv").stat().st_size > 0
        for ext in ("png", "svg"):
            assert (out / "figures" / f"{name}.{ext}").stat().st_size > 0
    summary = json.loads((out / "verdicts.json").read_text())
    assert summary["failed"] == 0 and summary["passed"] > 30
    assert f"{summary['passed']} passed, 0 failed" in stdout
    assert "elapsed:" in stdout


def test_cli_rerun_skips_finished_pieces(cli_run, capsys):
    out = cli_run[0]
    status, stdout = _run_cli(capsys, "mean-field", "--quick", "--workers", "0", "--out", str(out))
    assert status == 0
    assert "12 pieces (12 reused" in stdout and "0 computed" in stdout


def test_cli_recomputes_only_the_missing_piece_after_an_interruption(cli_run, capsys):
    out = cli_run[0]
    before = json.loads((out / "metastability.json").read_text())["result"]
    pieces = sorted((out / "pieces").glob("metastability-beta6-seed1-*.npz"))
    assert len(pieces) == 1
    pieces[0].unlink()  # as if the run had been killed before this piece finished
    status, stdout = _run_cli(capsys, "metastability", "--quick", "--workers", "0", "--out", str(out))
    assert status == 0
    assert "(9 reused" in stdout and "1 computed" in stdout
    assert pieces[0].exists()
    after = json.loads((out / "metastability.json").read_text())["result"]
    assert after == before  # the recomputed piece gives the same numbers


def test_piece_store_leaves_no_partial_file_when_writing_fails(tmp_path, monkeypatch):
    store = ex.PieceStore(tmp_path)

    def broken_savez(stream, **arrays):
        stream.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError):
        store.save("piece", {"x": np.arange(3)})
    assert list(tmp_path.iterdir()) == []
    assert store.load("piece") is None


def test_run_pieces_refuses_duplicate_names():
    piece = ex.make_piece("demo", "a", dict, x=1)
    with pytest.raises(ValueError, match="unique"):
        ex.run_pieces([piece, piece])


# --------------------------------------------------------------------------
# Determinism and executor injection
# --------------------------------------------------------------------------


def test_same_seeds_give_identical_numbers_serially_and_on_a_thread_pool():
    kwargs = dict(sizes=(16, 32), seeds=range(2), t_max=10.0)
    serial = ex.collapse_through_layers(**kwargs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        threaded = ex.collapse_through_layers(executor=pool, **kwargs)
    assert serial.to_json() == threaded.to_json()


def test_thread_pool_reproduces_the_process_pool_numbers(quick):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        again = ex.metastability(quick=True, executor=pool)
    stored = quick["metastability"]
    np.testing.assert_array_equal(again.merger_times, stored.merger_times)
    np.testing.assert_array_equal(again.relative_energy_gap, stored.relative_energy_gap)


# --------------------------------------------------------------------------
# §6.1 collapse through many layers
# --------------------------------------------------------------------------


def test_collapse_predictions_hold(quick):
    failed = [str(v) for v in quick["collapse"].verdicts() if not v.passed]
    assert not failed, failed


def test_gauge_frame_flow_is_the_baseline_flow(quick):
    # MODEL.md §3: with u_i = G(a_i) x_i every gauge kernel follows the baseline
    # flow, and the three models share u(0); so their gauge-frame gaps agree
    # while the gap is well above round-off (relative 1e-8: Heun round-off).
    res = quick["collapse"]
    base = res.gauge_gap[0]
    resolved = base > 1e-6
    for m in (1, 2):
        np.testing.assert_allclose(res.gauge_gap[m][resolved], base[resolved], rtol=1e-8)


def test_rope_limit_gap_is_one_minus_v3_squared(quick):
    # Cor. 1 by hand: the mean of R_{-2πs} v over the grid s = l/L is (0, 0, v3).
    res = quick["collapse"]
    v = res.limit_point[1]
    np.testing.assert_allclose(res.predicted_gap[1], 1 - v[..., 2] ** 2, atol=1e-12)


@pytest.mark.parametrize("model", ["baseline", "rope", "prompts"])
def test_collapse_setup_shares_one_gauge_frame_cloud(model):
    kernel, X0, aux, U0 = ex.collapse_setup(model, 12, seed=4)
    _, _, _, U_base = ex.collapse_setup("baseline", 12, seed=4)
    np.testing.assert_array_equal(U0, U_base)
    np.testing.assert_allclose(collapse_module.gauge_frame_of(kernel, X0, aux), U0, atol=1e-14)
    assert len(np.unique(aux)) == 3  # 12 particles, 4 per label


# --------------------------------------------------------------------------
# §6.2 representation gallery
# --------------------------------------------------------------------------


def test_gallery_predictions_hold(quick):
    failed = [str(v) for v in quick["gallery"].verdicts() if not v.passed]
    assert not failed, failed


def test_gallery_rope_circle_sits_at_the_gauge_frame_latitude(quick):
    # Thm. 1: x(s) = R_{-2πs} v, so x3 = v3 = the third coordinate of the gauge-frame point.
    res = quick["gallery"]
    k = res.index("rope")
    u = usaav.kernels.RoPE(1.0).gauge_frame(res.X[k], res.aux[k])
    np.testing.assert_allclose(res.X[k][:, 2], u[:, 2], atol=1e-12)
    assert np.ptp(u, axis=0).max() < 1e-6


def test_winding_number_and_clusters_on_known_curves():
    s = np.arange(30) / 30
    latitude = np.c_[0.6 * np.cos(-2 * np.pi * s), 0.6 * np.sin(-2 * np.pi * s), np.full(30, 0.8)]
    assert winding_number(latitude, s) == pytest.approx(-1.0) or winding_number(latitude, s) == pytest.approx(1.0)
    three = np.repeat(np.eye(3), 4, axis=0)
    assert count_clusters(three, 1e-2) == 3
    assert count_clusters(latitude, 1e-2) == 30


# --------------------------------------------------------------------------
# App. C metastability
# --------------------------------------------------------------------------


def test_metastability_predictions_hold(quick):
    failed = [str(v) for v in quick["metastability"].verdicts() if not v.passed]
    assert not failed, failed


@pytest.mark.parametrize("beta", [2.0, 6.0, 10.0])
def test_reduced_merger_time_matches_the_angle_ode(beta):
    # Independent: integrate dΔ/dt = -exp(-β(1 - cos Δ)) sin Δ until Δ = 0.1 with an event.
    event = lambda t, y: y[0] - 0.1  # noqa: E731
    event.terminal = True
    sol = solve_ivp(lambda t, y: [-math.exp(-beta * (1 - math.cos(y[0]))) * math.sin(y[0])],
                    (0, 1e4), [1.0], events=event, rtol=1e-11, atol=1e-13)
    assert ex.reduced_merger_time(beta, 1.0, 0.1) == pytest.approx(sol.t_events[0][0], rel=1e-7)


def test_cap_sample_is_uniform_in_the_cap():
    rng = np.random.default_rng(1)
    center = usaav.normalize(np.array([1.0, 2.0, 2.0]))
    X = ex.cap_sample(center, 0.3, 20000, rng)
    heights = X @ center
    assert heights.min() >= math.cos(0.3) - 1e-12
    # Archimedes: the height is uniform on [cos r, 1]; mean (1 + cos r)/2, tolerance ~5 s.e.
    assert heights.mean() == pytest.approx((1 + math.cos(0.3)) / 2, abs=5 * (1 - math.cos(0.3)) / math.sqrt(12 * 20000))
    # rotational symmetry about the centre: the mean lies along it
    np.testing.assert_allclose(usaav.normalize(X.mean(axis=0)), center, atol=1e-2)


# --------------------------------------------------------------------------
# Seed Prop. 4 mean field
# --------------------------------------------------------------------------


def test_mean_field_predictions_hold(quick):
    failed = [str(v) for v in quick["mean_field"].verdicts() if not v.passed]
    assert not failed, failed


@pytest.mark.parametrize("joint", [False, True])
def test_partition_w2_bounds_the_exact_distance_to_the_reference(joint):
    # Joint convexity of W2^2: the strided-partition value is >= the exact W2
    # (computed with repeated atoms by usaav.transport), and equals it for k = 1.
    rng = np.random.default_rng(7)
    X, R = usaav.uniform_sphere(8, 3, rng), usaav.uniform_sphere(32, 3, rng)
    a, b = np.arange(8) / 8, np.arange(32) / 32
    exact = wasserstein(X, R, a, b) if joint else wasserstein(X, R)
    assert partition_w2(X, a, R, b, joint=joint) >= exact - 1e-12
    same = wasserstein(X, R[:8], a, b[::4]) if joint else wasserstein(X, R[:8])
    assert partition_w2(X, a, R[:8], b[::4], joint=joint) == pytest.approx(same, rel=1e-12)


# --------------------------------------------------------------------------
# Results and verdicts
# --------------------------------------------------------------------------


def test_results_have_tables_and_strict_json(quick):
    for result in quick.values():
        rows = result.table()
        assert rows and all(isinstance(row, dict) for row in rows)
        payload = json.loads(result.to_json())  # allow_nan=False: NaN became null
        assert payload["params"] == json.loads(json.dumps(payload["params"]))
        assert len(payload["verdicts"]) == len(result.verdicts())


def test_verdict_with_nan_fails():
    assert not ex.Verdict.check("demo", "x", math.nan, "<", 1.0).passed
    with pytest.raises(ValueError, match="relation"):
        ex.Verdict.check("demo", "x", 0.0, "~", 1.0)


@pytest.mark.parametrize("beta", [6.0, 10.0])
@pytest.mark.parametrize("separations", [(1.0,), (0.9, 1.1)])
def test_linear_contraction_rate_matches_a_finite_difference_jacobian(beta, separations):
    # Independent: the velocity of a massless test point x near centre m_A,
    # F(x) = P_x sum_B w_B exp(beta(<x, m_B> - 1)) m_B, differentiated numerically;
    # the deviation from m_A obeys d(delta)/dt = DF(m_A) delta on the tangent plane.
    C = ex.cluster_centres(len(separations) + 1, separations)
    k = len(C)

    def F(x):
        x = x / np.linalg.norm(x)
        pull = sum(np.exp(beta * (x @ m - 1)) * m for m in C) / k
        return pull - (x @ pull) * x

    rates = []
    for m in C:
        basis = np.linalg.svd(np.eye(3) - np.outer(m, m))[0][:, :2]
        h = 1e-6  # central differences: error ~h^2, far below the 1e-6 tolerance
        J = np.column_stack([(F(m + h * e) - F(m - h * e)) / (2 * h) for e in basis.T])
        rates.append(-np.linalg.eigvals(basis.T @ J).real.max())
    assert ex.linear_contraction_rate(beta, C) == pytest.approx(min(rates), abs=1e-6)
