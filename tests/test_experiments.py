"""Tests of usaav.experiments and the ``python -m usaav reproduce`` command (MODEL.md §6).

The quick experiments run once, through the command line, into a temporary
directory; the experiment functions then reload the same pieces from its
store, so every prediction of the paper is checked on the quick sizes
without recomputing.  Independent computations (closed forms, scipy
integrators, brute-force transport) check the pieces of the machinery.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import json
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import usaav
from usaav import experiments as ex
from usaav.__main__ import main
from usaav.experiments import collapse as collapse_module
from usaav.experiments import gallery as gallery_module
from usaav.experiments import mean_field as mean_field_module
from usaav.observables import count_clusters, winding_number
from usaav.transport import wasserstein
from usaav.zonal import height_velocity, sample_vmf, vmf_height_quantile, zonal_mean_field

# the package re-exports the function ``metastability``, which shadows the submodule's name
metastability_module = importlib.import_module("usaav.experiments.metastability")
reduced_module = importlib.import_module("usaav.reduced")

EXPERIMENT_FILES = ("collapse", "gallery", "metastability", "mean_field")


# --------------------------------------------------------------------------
# One quick run of the whole command, shared by the tests below
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_run(quick_reproduction):
    """``usaav reproduce all --quick``, run once per session (tests/conftest.py)."""
    return quick_reproduction


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
    assert "26 pieces (26 reused" in stdout and "0 computed" in stdout


def test_cli_recomputes_only_the_missing_piece_after_an_interruption(cli_run, capsys):
    out = cli_run[0]
    before = json.loads((out / "metastability.json").read_text())["result"]
    pieces = sorted((out / "pieces").glob("metastability-beta6-seed1-*.npz"))
    assert len(pieces) == 1
    pieces[0].unlink()  # as if the run had been killed before this piece finished
    status, stdout = _run_cli(capsys, "metastability", "--quick", "--workers", "0", "--out", str(out))
    assert status == 0
    assert "(31 reused" in stdout and "1 computed" in stdout
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
        again = ex.metastability(quick=True, executor=pool, rate_study=(), weight_study=None)  # the main sweep
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
    np.testing.assert_allclose(kernel.gauge_frame(X0, aux), U0, atol=1e-14)
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


@pytest.mark.parametrize("coupling", [1.0, 0.3])
def test_reduced_merger_time_with_weights_matches_the_angle_ode(coupling):
    # dΔ/dt = -(W_AB + W_BA) exp(-β(1 - cos Δ)) sin Δ (Thm. 5 (3)), integrated independently.
    event = lambda t, y: y[0] - 0.1  # noqa: E731
    event.terminal = True
    sol = solve_ivp(lambda t, y: [-coupling * math.exp(-6.0 * (1 - math.cos(y[0]))) * math.sin(y[0])],
                    (0, 1e4), [1.2], events=event, rtol=1e-11, atol=1e-13)
    assert ex.reduced_merger_time(6.0, 1.2, 0.1, coupling=coupling) == pytest.approx(sol.t_events[0][0], rel=1e-7)


@pytest.mark.parametrize("length", [None, 0.3])
def test_coarse_weights_are_mass_fraction_times_mean_weight_between_clusters(length):
    # Independent: the kernel's own K / (e^{β<x,y>}/β) between the labels, averaged over cluster blocks.
    k, m, beta = 3, 4, 2.0
    labels = np.repeat(metastability_module.cluster_positions(k), m)
    X = usaav.uniform_sphere(k * m, 3, np.random.default_rng(0))
    kernel = usaav.kernels.USA(beta) if length is None else usaav.kernels.DistanceBias(beta, length)
    w = kernel.value(X, labels) / (np.exp(beta * X @ X.T) / beta)
    blocks = w.reshape(k, m, k, m).mean(axis=(1, 3))
    np.testing.assert_allclose(metastability_module.coarse_weights(k, length), blocks / k, rtol=1e-12)


def test_reduced_rate_table_slopes_match_finite_differences_of_the_merger_time():
    # Independent: central differences of log of reduced_merger_time itself (plain quadrature).
    row = metastability_module.reduced_rate_table(gaps=(0.7,), betas=(20.0,))[0]
    h = 1e-3
    slope = (math.log(ex.reduced_merger_time(20 + h, 0.7, 0.1)) - math.log(ex.reduced_merger_time(20 - h, 0.7, 0.1))) / (2 * h)
    assert row["slope_log_T1"] == pytest.approx(slope, rel=1e-6)
    assert row["slope_log_beta_T1"] == pytest.approx(slope + 1 / 20, rel=1e-6)


@pytest.mark.parametrize("gap", [0.7, 1.0, 1.3])
def test_local_slope_of_the_reduced_flow_converges_to_one_minus_cos_gap(gap):
    rows = metastability_module.reduced_rate_table(gaps=(gap,), betas=(10.0, 20.0, 40.0, 80.0))
    errors = [abs(r["slope_log_beta_T1"] / r["c"] - 1) for r in rows]
    assert errors[-1] < 0.01 and errors[-1] < errors[0]


def test_weight_study_merger_times_scale_like_one_over_W_AB(quick):
    study = quick["metastability"].weight_study
    np.testing.assert_allclose(study.scaled(), study.scaled()[0, 0], rtol=0.01)
    assert study.W_AB.max() / study.W_AB.min() > 5  # a real range of weights


@pytest.mark.parametrize(
    "kwargs",
    [dict(dt=0.0), dict(dt=-0.1), dict(cluster_size=0), dict(seeds=[1.5]), dict(seeds=[]), dict(betas=(2.0, 0.0)),
     dict(betas=()), dict(cap_radius=2.0), dict(separation=0.05), dict(n_clusters=1), dict(until="last"),
     dict(length=-1.0), dict(record_every=0), dict(merge_angle=0.0), dict(t_max=0.0),
     dict(rate_study=((0.05, (2.0, 4.0)),)), dict(weight_study=(6.0, 1.0, ())), dict(study_seeds=[-1]),
     dict(n_clusters=3, separation=(1.0, 1.0, 1.0))],
)
def test_metastability_refuses_bad_parameters_at_entry(kwargs):
    with pytest.raises((ValueError, TypeError)):
        ex.metastability(**kwargs)


def test_verdicts_are_deterministic(quick):
    for result in quick.values():
        assert [str(v) for v in result.verdicts()] == [str(v) for v in result.verdicts()]


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


@pytest.mark.parametrize("clock", ["raw", "rescaled"])
@pytest.mark.parametrize("beta", [0.5, 1.0, 3.0])
def test_zonal_height_velocity_is_the_particle_velocity_on_rings(beta, clock):
    # Independent: M rings x K equally spaced azimuths, velocities from usaav.velocity (the
    # particle code); the azimuthal average is the trapezoid rule, exact to round-off for K = 64.
    M, K = 7, 64
    z = np.linspace(-0.9, 0.95, M)
    phi = 2 * np.pi * np.arange(K) / K + 0.3
    s = np.sqrt(1 - z**2)
    X = np.c_[np.outer(s, np.cos(phi)).ravel(), np.outer(s, np.sin(phi)).ravel(), np.repeat(z, K)]
    V = usaav.velocity(usaav.kernels.USA(beta), X, None, clock=clock)
    np.testing.assert_allclose(V[:, 2].reshape(M, K), np.repeat(height_velocity(z, z, beta, clock=clock)[:, None], K, 1),
                               rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kappa", [0.0, 0.5, 3.0])
def test_vmf_height_quantile_inverts_its_distribution_function(kappa):
    u = np.linspace(0, 1, 11)
    z = vmf_height_quantile(u, kappa)
    F = (z + 1) / 2 if kappa == 0 else np.expm1(kappa * (z + 1)) / np.expm1(2 * kappa)
    np.testing.assert_allclose(F, u, atol=1e-12)


def test_vmf_sample_has_the_known_mean_height():
    # E[x3] = coth(kappa) - 1/kappa for the von Mises-Fisher law on S^2; tolerance 5 s.e. (s.d. < 1).
    X = sample_vmf(40000, 2.0, np.random.default_rng(3))
    assert X[:, 2].mean() == pytest.approx(1 / math.tanh(2.0) - 0.5, abs=5 / math.sqrt(40000))
    # Zonal: the azimuth is uniform on the whole turn, so E[x1] = E[x2] = 0 (same 5 s.e. bound).
    np.testing.assert_allclose(X[:, :2].mean(axis=0), 0.0, atol=5 / math.sqrt(40000))


def test_zonal_flow_converges_spectrally_in_the_number_of_rings():
    u = np.linspace(0, 1, 401)
    coarse, fine = (zonal_mean_field(1.0, 1.0, (0.0, 1.0), rings=m) for m in (64, 128))
    # At t = 0 the interpolated quantile is the closed form; at t = 1, 64 and 128 rings agree to 1e-6.
    np.testing.assert_allclose(fine.quantile(u, 0), vmf_height_quantile(u, 1.0), atol=1e-10)
    np.testing.assert_allclose(coarse.quantile(u, 1), fine.quantile(u, 1), atol=1e-6)


def test_zonal_flow_matches_a_particle_system_started_on_rings():
    # A ring-symmetric particle start stays ring-symmetric; with equal masses per ring its heights
    # follow the ring ODE.  Independent: usaav.simulate with solve_ivp on 40 x 32 particles.
    M, K, beta = 40, 32, 1.0
    z0 = vmf_height_quantile((np.arange(M) + 0.5) / M, 1.0)
    phi = 2 * np.pi * np.arange(K) / K
    s = np.sqrt(1 - z0**2)
    X0 = np.c_[np.outer(s, np.cos(phi)).ravel(), np.outer(s, np.sin(phi)).ravel(), np.repeat(z0, K)]
    run = usaav.simulate(usaav.kernels.USA(beta), X0, None, 1.0, dt=1.0, method="solve_ivp", rtol=1e-10, atol=1e-12)
    ode = solve_ivp(lambda t, z: height_velocity(z, z, beta), (0, 1), z0, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(run.final[:, 2].reshape(M, K).mean(axis=1), ode.y[:, -1], atol=1e-8)
    # The Gauss-ring flow of zonal_mean_field at the same quantile levels: the M equal rings are its midpoint
    # rule, second order (measured max error 7.3e-4 at M = 40, 1.8e-4 at M = 80; the law moves by 0.5).
    flow = zonal_mean_field(1.0, beta, (0.0, 1.0))
    np.testing.assert_allclose(flow.quantile((np.arange(M) + 0.5) / M, 1), ode.y[:, -1], atol=2e-3)


def test_reference_grid_error_shrinks_like_one_over_sqrt_m():
    # Grids of the content law: W2(grid_m, grid_4m) halves when m quadruples (m^{-1/2}).
    grid = {m: mean_field_module.reference_law("usa", m)[0] for m in (128, 512, 2048)}
    coarse, fine = wasserstein(grid[128], grid[512]), wasserstein(grid[512], grid[2048])
    assert 1.6 < coarse / fine < 2.5
    assert fine < 0.07


def test_asymptotic_rate_is_the_slope_of_sqrt_log_n_over_n():
    sizes = np.array([32, 64, 128, 256])
    y = 0.5 * np.log(np.log(sizes) / sizes)
    expected = np.polyfit(np.log(sizes), y, 1)[0]
    assert mean_field_module.asymptotic_rate("usa", sizes) == pytest.approx(expected, rel=1e-12)
    assert mean_field_module.asymptotic_rate("rope", sizes) == pytest.approx(-1 / 3)


@pytest.mark.parametrize(
    "kwargs",
    [dict(dt=0.0), dict(sizes=(32,)), dict(sizes=(2, 8)), dict(seeds=[1.5]), dict(seeds=[]),
     dict(times=(0.5, 1.0)), dict(times=(0.0, 0.07)), dict(kernel="toeplitz"), dict(kernel=("usa", "usa")),
     dict(reference_size=0), dict(beta=-1.0), dict(kappa=-1.0)],
)
def test_mean_field_refuses_bad_parameters_at_entry(kwargs):
    with pytest.raises((ValueError, TypeError)):
        ex.mean_field_convergence(**kwargs)


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


@pytest.mark.parametrize("length", [None, 0.4])
@pytest.mark.parametrize("beta", [6.0, 10.0])
@pytest.mark.parametrize("separations", [(1.0,), (0.9, 1.1)])
def test_linear_contraction_rate_matches_a_finite_difference_jacobian(beta, separations, length):
    # Independent: the velocity of a massless test point x near centre m_A,
    # F(x) = P_x sum_B W_AB exp(beta(<x, m_B> - 1)) m_B, differentiated numerically;
    # the deviation from m_A obeys d(delta)/dt = DF(m_A) delta on the tangent plane.
    C = ex.cluster_centres(len(separations) + 1, separations)
    k = len(C)
    W = metastability_module.coarse_weights(k, length)

    rates = []
    for a, m in enumerate(C):
        def F(x, a=a):
            x = x / np.linalg.norm(x)
            pull = sum(W[a, b] * np.exp(beta * (x @ C[b] - 1)) * C[b] for b in range(k))
            return pull - (x @ pull) * x

        basis = np.linalg.svd(np.eye(3) - np.outer(m, m))[0][:, :2]
        h = 1e-6  # central differences: error ~h^2, far below the 1e-6 tolerance
        J = np.column_stack([(F(m + h * e) - F(m - h * e)) / (2 * h) for e in basis.T])
        rates.append(-np.linalg.eigvals(basis.T @ J).real.max())
    assert ex.linear_contraction_rate(beta, C, W) == pytest.approx(min(rates), abs=1e-6)


# --------------------------------------------------------------------------
# Verdicts that discriminate: each printed prediction fails on a broken
# set-up and passes on the right one (same sizes, same seeds).
# --------------------------------------------------------------------------


def _verdicts_named(verdicts, fragment):
    chosen = [v for v in verdicts if fragment in v.name]
    assert chosen, f"no verdict contains {fragment!r}"
    return chosen


def _passes(verdicts, fragment):
    return all(v.passed for v in _verdicts_named(verdicts, fragment))


def _fails(verdicts, fragment):
    return not any(v.passed for v in _verdicts_named(verdicts, fragment))


class ConstantWeight:
    """A separated-kernel weight equal to ``value`` for every pair of labels (picklable)."""

    def __init__(self, value):
        self.value = value

    def __call__(self, a, b):
        return np.full((len(a), len(b)), self.value)


# -- App. C metastability ---------------------------------------------------

_SMALL_METASTABILITY = dict(betas=(6.0, 8.0, 10.0), seeds=range(1), study_seeds=range(1),
                            rate_study=((1.0, (6.0, 8.0, 10.0, 12.0)), (1.3, (4.0, 5.0, 6.0, 7.0))),
                            weight_study=(6.0, 1.0, (None, 0.5)))
_METASTABILITY_VERDICTS = ("(3) largest |T1 / T1(reduced", "(4) Delta0 = 1:",
                           "(4) Delta0 = 1.3:", "(4) Delta0 = 1, no fit", "(4) Delta0 = 1.3, no fit", "(4) smallest increase",
                           "(1) contraction along each eigen-direction", "(1) sign of the tidal",
                           "(1) rate study: contraction along each", "(1) rate study: sign of the tidal", "(3) rate study", "(1) rate study",
                           "(4) reduced flow alone", "(3) T1 * W_AB constant", "(3) weight study")


@pytest.fixture(scope="module")
def metastability_right():
    return ex.metastability(**_SMALL_METASTABILITY).verdicts()


@pytest.mark.parametrize("fragment", _METASTABILITY_VERDICTS)
def test_metastability_verdicts_pass_on_the_small_right_set_up(metastability_right, fragment):
    assert _passes(metastability_right, fragment)


def test_metastability_regression_verdict_fails_with_a_halved_force(monkeypatch):
    # The recorded T1 (MODEL.md §6) are regression values: a force scaled by 1/2 doubles T1.
    right = ex.metastability(betas=(2.0, 4.0), seeds=range(1), rate_study=(), weight_study=None).verdicts()
    assert _passes(right, "regression check")
    monkeypatch.setattr(metastability_module, "_kernel", lambda beta, length: usaav.kernels.Separated(
        beta, ConstantWeight(0.5)))
    broken = ex.metastability(betas=(2.0, 4.0), seeds=range(1), rate_study=(), weight_study=None).verdicts()
    assert _fails(broken, "regression check")


@pytest.mark.slow
def test_metastability_verdicts_fail_with_a_wrong_force(monkeypatch):
    # Every weight halved (intra- and inter-cluster) behind the reduced flow's back: contraction at
    # half the predicted rate, mergers twice as late; the fitted exponent c is unchanged (a constant factor),
    # and so is "c grows with the gap", but the Laplace formula's error no longer tends to 0 (decay 0.5, not 2).
    monkeypatch.setattr(metastability_module, "_kernel", lambda beta, length: usaav.kernels.Separated(
        beta, ConstantWeight(0.5)))
    broken = ex.metastability(**_SMALL_METASTABILITY).verdicts()
    for fragment in ("(3) largest |T1 / T1(reduced", "(3) rate study", "(1) rate study",
                     "(3) T1 * W_AB constant", "(3) weight study", "(4) Delta0 = 1, no fit", "(4) Delta0 = 1.3, no fit",
                     "(1) contraction along each eigen-direction", "(1) sign of the tidal",
                     "(1) rate study: contraction along each", "(1) rate study: sign of the tidal"):
        assert _fails(broken, fragment), fragment
    for fragment in ("(4) Delta0 = 1:", "(4) Delta0 = 1.3:", "(4) smallest increase"):
        assert _passes(broken, fragment), fragment


def test_metastability_sign_verdicts_fail_when_the_linearisation_has_the_other_sign_of_the_cos_term(monkeypatch):
    # M_A with +cos(Delta) P_A for -cos(Delta) P_A (the planted sign): predicted and "flipped" exchange, the
    # measured rates sit next to the flipped ones, and both eigen-direction verdicts fail.
    original = reduced_module._tangent_matrix

    def other_sign(beta, C, W, a, basis=None):
        M = original(beta, C, W, a, basis)
        cos = np.clip(C @ C[a], -1.0, 1.0)
        others = np.arange(len(C)) != a
        return M + 2.0 * np.sum(W[a, others] * np.exp(-beta * (1.0 - cos[others])) * cos[others]) * np.eye(len(M))

    monkeypatch.setattr(reduced_module, "_tangent_matrix", other_sign)
    broken = ex.metastability(**_SMALL_METASTABILITY).verdicts()
    for fragment in ("(1) sign of the tidal", "(1) rate study: sign of the tidal"):
        assert _fails(broken, fragment), fragment


def test_metastability_exponent_verdicts_fail_in_the_raw_clock(monkeypatch):
    # Integrating in the raw clock t (not t' = e^beta t) makes T1 e^beta times shorter: c drops by 1.
    original = metastability_module.vector_field
    monkeypatch.setattr(metastability_module, "vector_field", lambda interaction, clock: original(interaction, "raw"))
    broken = ex.metastability(**_SMALL_METASTABILITY, t_max=100.0).verdicts()
    for fragment in ("(4) Delta0 = 1:", "(4) Delta0 = 1.3:", "(3) rate study", "(3) largest |T1 / T1(reduced",
                     "(4) Delta0 = 1, no fit", "(4) Delta0 = 1.3, no fit"):
        assert _fails(broken, fragment), fragment


def test_metastability_gap_order_verdict_fails_when_the_gap_is_not_applied(monkeypatch):
    original = metastability_module.cluster_centres
    monkeypatch.setattr(metastability_module, "cluster_centres", lambda k, separation: original(k, 1.0))
    broken = ex.metastability(**_SMALL_METASTABILITY).verdicts()
    assert _fails(broken, "(4) smallest increase")


def test_metastability_weight_verdicts_fail_when_the_kernel_ignores_the_positions(monkeypatch):
    # The distance bias replaced by w = 1: T1 no longer depends on W_AB.
    monkeypatch.setattr(metastability_module, "_kernel", lambda beta, length: usaav.kernels.USA(beta))
    broken = ex.metastability(**_SMALL_METASTABILITY).verdicts()
    assert _fails(broken, "(3) T1 * W_AB constant") and _fails(broken, "(3) weight study")


def test_metastability_quadrature_verdict_fails_for_a_wrong_reduced_flow(monkeypatch):
    # A reduced flow whose exponent is not 1 - cos(gap) (here the angle enters as 1 - cos(0.9 gap)).
    original = reduced_module._log_reduced_integral
    monkeypatch.setattr(reduced_module, "_log_reduced_integral",
                        lambda beta, angle, merge_angle: original(beta * (1 - math.cos(0.9 * angle)) / (1 - math.cos(angle)),
                                                                  angle, merge_angle))
    broken = ex.metastability(betas=(6.0, 8.0), seeds=range(1), rate_study=((1.3, (4.0, 5.0, 6.0, 7.0)),),
                              weight_study=None, study_seeds=range(1)).verdicts()
    assert _fails(broken, "(4) reduced flow alone")


@pytest.mark.slow
def test_metastability_verdicts_fail_with_overlapping_caps():
    # The brief's broken set-up: caps of radius 0.45 whose centres are 0.5 apart (not well separated).
    broken = ex.metastability(betas=(6.0, 8.0, 10.0), seeds=range(1), cap_radius=0.45, separation=0.5,
                              rate_study=((0.5, (20.0, 30.0, 40.0, 50.0, 60.0)),), weight_study=None,
                              study_seeds=range(1)).verdicts()
    right = ex.metastability(betas=(6.0, 8.0, 10.0), seeds=range(1), cap_radius=0.05, separation=0.5,
                             rate_study=((0.5, (20.0, 30.0, 40.0, 50.0, 60.0)),), weight_study=None,
                             study_seeds=range(1)).verdicts()
    for fragment in ("(3) largest |T1 / T1(reduced", "(4) Delta0 = 0.5:", "(3) rate study"):
        assert _passes(right, fragment), fragment
        assert _fails(broken, fragment), fragment


# -- Prop. 4 mean field -------------------------------------------------------

_SMALL_MEAN_FIELD = dict(sizes=(32, 64, 128), reference_size=1024, seeds=range(3), times=(0.0, 0.5, 1.0))


@pytest.fixture(scope="module")
def mean_field_right():
    return ex.mean_field_convergence(**_SMALL_MEAN_FIELD).verdicts()


_MEAN_FIELD_VERDICTS = ("law to the mean field at t=0:", "to the mean field at t=0.5: rate",
                        "to the mean field at t=1: rate", "at t=0.5, n=", "at t=1, n=", "law at t=0.5: change",
                        "law at t=1: change", "content law to the mean-field law itself", "joint (x, s) law to the mean-field law itself")


@pytest.mark.slow
@pytest.mark.parametrize("fragment", _MEAN_FIELD_VERDICTS)
def test_mean_field_verdicts_pass_on_the_small_right_set_up(mean_field_right, fragment):
    assert _passes(mean_field_right, fragment)


@pytest.mark.slow
@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_mean_field_verdicts_fail_with_a_mis_scaled_force(monkeypatch, factor):
    # A force scaled by `factor` = the right flow run for `factor` times as long: the n-particle laws
    # converge to another law.  The clock check fails at every t > 0; the rate (W2 stops decreasing)
    # at t = 1 (at t = 0.5 these small sizes cannot resolve it: the law has moved by 0.17 only).
    original = mean_field_module.simulate
    monkeypatch.setattr(mean_field_module, "simulate", lambda kernel, X0, aux, t_max, dt, record_every:
                        original(kernel, X0, aux, factor * t_max, dt=factor * dt, record_every=record_every))
    broken = ex.mean_field_convergence(**_SMALL_MEAN_FIELD).verdicts()
    assert _fails(broken, "at t=0.5, n=") and _fails(broken, "at t=1, n=")
    assert _fails(broken, "to the mean field at t=1: rate")
    assert _passes(broken, "law to the mean field at t=0:")


@pytest.mark.slow
@pytest.mark.parametrize("factor", [1.15, 0.85])
def test_mean_field_speed_verdicts_fail_for_a_flow_run_15_percent_fast_or_slow(monkeypatch, factor):
    # The right flow run for `factor` times as long: the particles' mean height has moved as the law's does at
    # factor * t (ratio about 1.18 or 0.82); the W2 clock check (t/2, t, 2t) cannot see 15 %, the speed check does.
    original = mean_field_module.simulate
    monkeypatch.setattr(mean_field_module, "simulate", lambda kernel, X0, aux, t_max, dt, record_every:
                        original(kernel, X0, aux, factor * t_max, dt=factor * dt, record_every=record_every))
    broken = ex.mean_field_convergence(**_SMALL_MEAN_FIELD).verdicts()
    assert _fails(broken, "law at t=0.5: change") and _fails(broken, "law at t=1: change")


def test_law_w2_is_the_richardson_limit_of_a_geometric_grid_sequence_and_the_spread_otherwise():
    # Independent: W_m = W + C r^j on grids m/4, m/2, m (j = 0, 1, 2) has the limit W (remainder C r^2 at m);
    # an oscillating sequence keeps W_m; the error bar is the largest step in both.
    W, C, r = 0.3, 0.004, 0.4
    grid = np.array([[[[W + C, W + C * r, W + C * r * r], [0.30, 0.31, 0.305]]]])  # geometric (r <= 1/2); oscillating
    result = ex.MeanFieldResult(kernels=np.array(["usa"]), sizes=np.array([8]), times=np.array([0.0, 1.0]),
                                seeds=np.array([0]), w2=np.zeros((1, 1, 1, 2)), rate=np.zeros((1, 1, 2)),
                                asymptotic_rate=np.zeros(1), reference_motion=np.zeros((1, 2)),
                                clock_w2=np.zeros((1, 1, 2, 3)), grid_w2=grid, mean_height=np.zeros((1, 1, 1, 2)),
                                law_height=np.zeros(2), params={})
    limit, error = result.law_w2()
    assert limit[0, 0, 0] == pytest.approx(W, abs=1e-15)
    # The error bar is the largest step, C (1 - r), above the true remainder C r^2 (conservative).
    assert error[0, 0, 0] == pytest.approx(C * (1 - r), rel=1e-9)
    assert limit[0, 0, 1] == 0.305 and error[0, 0, 1] == pytest.approx(0.01, rel=1e-12)


def test_mean_field_law_height_is_the_integral_of_the_height_under_the_zonal_law():
    # Independent: the mean height of the vMF(1) law in closed form, coth(1) - 1, at t = 0; at t = 1 the quantile
    # function integrated by the midpoint rule on 20000 levels (E z = int_0^1 Q_t(u) du).
    heights = mean_field_module._law_height(1.0, 1.0, (0.0, 1.0))
    assert heights[0] == pytest.approx(1 / math.tanh(1.0) - 1.0, abs=1e-12)
    flow = zonal_mean_field(1.0, 1.0, (0.0, 1.0))
    assert heights[1] == pytest.approx(flow.quantile((np.arange(20000) + 0.5) / 20000, 1).mean(), abs=1e-6)


@pytest.mark.slow
def test_mean_field_verdicts_fail_with_a_wrong_initial_law(monkeypatch):
    # Particles drawn from the uniform law while the mean field starts from von Mises-Fisher(1).
    original = mean_field_module.sample_vmf
    monkeypatch.setattr(mean_field_module, "sample_vmf", lambda n, kappa, rng: original(n, 0.0, rng))
    broken = ex.mean_field_convergence(**{**_SMALL_MEAN_FIELD, "times": (0.0,)}).verdicts()
    assert _fails(broken, "law to the mean field at t=0:")


# -- §6.1 collapse (collapse.py is the batch stream's; broken through its module globals) ---

_SMALL_COLLAPSE = dict(sizes=(16,), seeds=range(4), t_max=30.0)
_COLLAPSE_VERDICTS = ["baseline: largest collapse gap"] + [
    f"{model}: {what}" for model in ("RoPE", "prompts")
    for what in ("largest gauge-frame gap", "largest conditional diameter", "largest relative energy gap",
                 "largest |Γ(T) − Γ(G(a)ᵀv)|", "|mean Γ(T) −")] + ["RoPE: largest |Γ(T) − (1 − v₃²)|"]


def _repulsive(simulate):
    """A wrong force: whatever the kernel, integrate the repulsive baseline w = -1."""
    def wrapped(kernel, X0, aux, t_max, **kwargs):
        return simulate(usaav.kernels.Separated(kernel.beta if hasattr(kernel, "beta") else 1.0,
                                                ConstantWeight(-1.0)), X0, aux, t_max, **kwargs)
    return wrapped


@pytest.fixture(scope="module")
def collapse_right():
    return ex.collapse_through_layers(**_SMALL_COLLAPSE).verdicts()


@pytest.mark.parametrize("fragment", _COLLAPSE_VERDICTS)
def test_collapse_verdicts_pass_on_the_small_right_set_up(collapse_right, fragment):
    assert _passes(collapse_right, fragment)


@pytest.fixture(scope="module")
def collapse_repulsive():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(collapse_module, "simulate", _repulsive(collapse_module.simulate))
        return ex.collapse_through_layers(**_SMALL_COLLAPSE).verdicts()


@pytest.mark.slow
@pytest.mark.parametrize("fragment", _COLLAPSE_VERDICTS)
def test_collapse_verdicts_fail_with_a_repulsive_force(collapse_repulsive, fragment):
    assert _fails(collapse_repulsive, fragment)


def test_collapse_v3_verdict_fails_with_off_grid_positions_while_theorem_1_holds(monkeypatch):
    # Cor. 1's 1 - v3^2 needs the grid (the (1,2) components average out over s = l/L); Thm. 1's
    # limit G(a)^T v holds for any positions.
    monkeypatch.setattr(collapse_module.labels, "grid_positions",
                        lambda count: np.sort(np.random.default_rng(count).uniform(0, 1, count)))
    broken = ex.collapse_through_layers(**_SMALL_COLLAPSE).verdicts()
    assert _fails(broken, "RoPE: largest |Γ(T) − (1 − v₃²)|")
    assert _passes(broken, "RoPE: largest |Γ(T) − Γ(G(a)ᵀv)|")


def test_collapse_two_thirds_verdicts_fail_with_a_non_uniform_cloud(monkeypatch):
    # E[1 - v3^2] = 2/3 needs a uniform gauge-frame cloud (v uniform); a cloud near e3 gives v3 ~ 1.
    original = collapse_module.uniform_sphere
    monkeypatch.setattr(collapse_module, "uniform_sphere",
                        lambda n, d, rng: usaav.normalize(original(n, d, rng) + [0.0, 0.0, 3.0]))
    broken = ex.collapse_through_layers(**_SMALL_COLLAPSE).verdicts()
    assert _fails(broken, "RoPE: |mean Γ(T) −") and _fails(broken, "prompts: |mean Γ(T) −")


def test_prompts_two_thirds_verdict_says_it_shares_the_clouds_of_rope(collapse_right):
    # RoPE and the prompts start from one gauge-frame cloud per run and reach the same v (the shared-cloud
    # design of test_collapse_setup_shares_one_gauge_frame_cloud): the prompts' average is not new evidence.
    (verdict,) = _verdicts_named(collapse_right, "prompts: |mean Γ(T) −")
    assert "same clouds and v as RoPE: not independent evidence" in verdict.name


def test_prompts_mean_gap_prediction_is_two_thirds_times_one_minus_one_over_L():
    # Independent: Monte Carlo of (1 - v3^2)(1 - |mean of L uniform phases|^2), v uniform, L = 4.
    rng = np.random.default_rng(0)
    v3 = rng.uniform(-1, 1, 200_000)  # Archimedes: v3 is uniform for v uniform on the sphere
    m = np.exp(-1j * rng.uniform(0, 2 * np.pi, (200_000, 4))).mean(axis=1)
    sample = (1 - v3**2) * (1 - np.abs(m) ** 2)
    # 5 standard errors of a 200 000-sample mean (sd < 0.3)
    assert sample.mean() == pytest.approx(2 / 3 * (1 - 1 / 4), abs=5 * 0.3 / math.sqrt(200_000))
    res = ex.collapse_through_layers(sizes=(16,), seeds=range(2), t_max=1.0)
    (verdict,) = _verdicts_named(res.verdicts(), "prompts: |mean Γ(T) −")
    assert "|mean Γ(T) − 0.500|" in verdict.name


# -- §6.2 gallery (gallery.py is the batch stream's; broken through its module globals) ---

_SMALL_GALLERY = dict(n=100, t_max=300.0)
_GALLERY_VERDICTS = ("(i) baseline: collapse gap", "(i) baseline: clusters", "(ii) distance bias",
                     "(iii) Toeplitz: third singular", "(iii) Toeplitz: largest |σ₁ − 1/√2|",
                     "(iii) Toeplitz: |winding|", "(iii) Toeplitz: |relative energy",
                     "(iv) RoPE: spread of x₃", "(iv) RoPE: gauge-frame gap", "(iv) RoPE: |Γ − (1 − v₃²)|",
                     "(v) generalised RoPE: relative energy", "(v) generalised RoPE: |winding|",
                     "(v) generalised RoPE: spread of x₃", "(vi) prompts: clusters")
#: Which break makes each verdict fail: a repulsive force, the labels ignored (baseline USA for all), or RoPE
#: turning at half speed (θ = π: the tokens end on half a latitude circle, not on a whole one).
_GALLERY_BREAKS = {
    "(i) baseline: collapse gap": "repulsive", "(i) baseline: clusters": "repulsive",
    "(ii) distance bias": "repulsive", "(iii) Toeplitz: third singular": "repulsive",
    "(iii) Toeplitz: largest |σ₁ − 1/√2|": "labels ignored",
    "(iii) Toeplitz: |winding|": "labels ignored", "(iii) Toeplitz: |relative energy": "labels ignored",
    "(iv) RoPE: spread of x₃": "repulsive", "(iv) RoPE: gauge-frame gap": "labels ignored",
    "(iv) RoPE: |Γ − (1 − v₃²)|": "RoPE half turn",
    "(v) generalised RoPE: relative energy": "repulsive", "(v) generalised RoPE: |winding|": "labels ignored",
    "(v) generalised RoPE: spread of x₃": "labels ignored", "(vi) prompts: clusters": "labels ignored",
}


def _labels_ignored(simulate):
    def wrapped(kernel, X0, aux, t_max, **kwargs):
        return simulate(usaav.kernels.USA(getattr(kernel, "beta", 1.0)), X0, aux, t_max, **kwargs)
    return wrapped


def _rope_half_turn(simulate):
    def half(kernel):
        return usaav.kernels.RoPE(kernel.beta, theta=kernel.theta / 2) if isinstance(kernel, usaav.kernels.RoPE) \
            else kernel

    def wrapped(kernel, X0, aux, t_max, **kwargs):
        kernel = [half(k) for k in kernel] if isinstance(kernel, (list, tuple)) else half(kernel)
        return simulate(kernel, X0, aux, t_max, **kwargs)
    return wrapped


@pytest.fixture(scope="module")
def gallery_runs():
    runs = {"right": ex.representation_gallery(**_SMALL_GALLERY).verdicts()}
    for name, breaker in (("repulsive", _repulsive), ("labels ignored", _labels_ignored),
                          ("RoPE half turn", _rope_half_turn)):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(gallery_module, "simulate", breaker(gallery_module.simulate))
            runs[name] = ex.representation_gallery(**{**_SMALL_GALLERY, "t_max": 30.0}).verdicts()
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("fragment", _GALLERY_VERDICTS)
def test_gallery_verdict_passes_on_the_right_set_up_and_fails_on_a_broken_one(gallery_runs, fragment):
    assert _passes(gallery_runs["right"], fragment)
    assert _fails(gallery_runs[_GALLERY_BREAKS[fragment]], fragment)


@pytest.mark.slow
def test_gallery_great_circle_verdicts_tell_a_circle_from_a_dirac_mass(gallery_runs):
    # With the labels ignored every token ends at one point: a Dirac mass lies in a plane through 0 too
    # (sigma3 = 0 passes), but its singular values are (1, 0, 0), not (1/sqrt 2, 1/sqrt 2, 0).
    broken = gallery_runs["labels ignored"]
    assert _passes(broken, "(iii) Toeplitz: third singular")
    assert _fails(broken, "(iii) Toeplitz: largest |σ₁ − 1/√2|")


def test_gallery_rope_verdicts_pass_when_v_lands_near_a_pole():
    # n = 40, seed 0: the RoPE limit point v has v3^2 > 0.99, so the latitude circle is small (gap 0.009);
    # the prediction Γ = 1 - v3^2 holds there as anywhere (a bound "gap > 0.01" would have failed).
    res = ex.representation_gallery(n=40)
    k = res.index("rope")
    assert res.collapse_gap[k] < 0.01
    assert _passes(res.verdicts(), "(iv) RoPE")


def test_gallery_limit_point_is_the_mean_gauge_frame_direction(quick):
    # Independent: the gauge frame by hand, u_i = R_{2 pi s_i} x_i (rotation in the (x1, x2)-plane).
    res = quick["gallery"]
    k = res.index("rope")
    angle = 2 * np.pi * res.aux[k]
    x = res.X[k]
    u = np.c_[np.cos(angle) * x[:, 0] - np.sin(angle) * x[:, 1], np.sin(angle) * x[:, 0] + np.cos(angle) * x[:, 1],
              x[:, 2]]
    mean = u.mean(axis=0)
    np.testing.assert_allclose(res.limit_point[k], mean / np.linalg.norm(mean), atol=1e-12)
    assert np.isnan(res.limit_point[res.index("toeplitz")]).all()


def test_gallery_table_gives_a_winding_number_for_the_curves_only(quick):
    rows = {row["scenario"]: row for row in quick["gallery"].table()}
    for scenario in ("toeplitz", "rope", "generalized_rope"):
        assert np.isfinite(rows[scenario]["winding"])
    for scenario in ("baseline", "distance_bias", "prompts"):
        assert np.isnan(rows[scenario]["winding"])


@pytest.mark.slow
def test_gallery_rope_latitude_verdict_alone_passes_half_a_circle(gallery_runs):
    # At half speed the tokens end on an arc of a latitude circle: x3 is constant (the spread verdict passes),
    # but the gauge frame has not collapsed and the gap is not 1 - v3^2.
    broken = gallery_runs["RoPE half turn"]
    assert _passes(broken, "(iv) RoPE: spread of x₃")
    assert _fails(broken, "(iv) RoPE: gauge-frame gap") and _fails(broken, "(iv) RoPE: |Γ − (1 − v₃²)|")


def test_gallery_panels_colour_each_prompt_id_as_its_key_swatch(quick):
    # Independent: the colour of id k is PROMPT_COLOURS at (k + 1/2) / (number of colours), the centre of its
    # band; the panel's points and the key's swatches must both show it.
    import matplotlib.colors as mcolors

    from usaav.plotting import experiments as figures

    res = quick["gallery"]
    panels = figures.gallery_panels(res)
    assert len(panels) == len(res.scenarios) + 2  # six spheres, the position colour bar, the prompt swatches
    k = res.index("prompts")
    colours = figures.PROMPT_COLOURS.colors
    expected = {i: mcolors.to_rgba(colours[i]) for i in range(int(res.params["n_prompts"]))}
    # a 3-D scatter draws its points in depth order, so compare how often each colour occurs
    drawn = np.unique(np.round(panels.figures[k].axes[0].collections[0].get_facecolors(), 6), axis=0,
                      return_counts=True)
    ids, counts = np.unique(res.aux[k].astype(int), return_counts=True)
    want = np.unique(np.round([expected[i] for i in res.aux[k].astype(int)], 6), axis=0, return_counts=True)
    np.testing.assert_array_equal(drawn[0], want[0])
    np.testing.assert_array_equal(drawn[1], want[1])
    assert len(ids) == len(expected) and len(set(counts)) == 1  # every id drawn, ids i mod 5 equally often
    swatches = [mcolors.to_rgba(h.get_color()) for h in panels.figures[-1].axes[0].get_legend().legend_handles]
    np.testing.assert_allclose(swatches, [expected[i] for i in sorted(expected)], atol=1e-6)


def test_final_law_panels_refuse_panels_without_labels():
    from usaav.plotting import experiments as figures

    X = usaav.uniform_sphere(6, 3, rng=0)
    with pytest.raises(ValueError, match="labels must have an entry for every panel, missing"):
        figures.final_law_panels({"a": X, "b": X}, {"a": np.zeros(6)})
    with pytest.raises(ValueError, match="prompts must name panels of configs"):
        figures.final_law_panels({"a": X}, {"a": np.zeros(6)}, prompts=["z"])
    with pytest.raises(ValueError, match="prompt ids must be below 7"):
        figures.final_law_panels({"a": X}, {"a": np.arange(6) + 3}, prompts=["a"])


def test_collapse_panels_show_one_panel_per_observable(quick):
    from usaav.plotting import experiments as figures

    panels = figures.collapse_panels(quick["collapse"])
    assert [fig.axes[0].get_title().split(" (")[0] for fig in panels] == [
        "collapse gap $\\Gamma(X)$", "gauge-frame gap $\\Gamma(\\{G(a_i)x_i\\})$", "conditional diameter",
        "relative energy gap $(E_{\\max}-E_n)/E_{\\max}$"]


def test_mean_field_panels_draw_the_requested_axes_for_each_kernel(quick):
    from usaav.plotting import experiments as figures

    res = quick["mean_field"]
    both = figures.mean_field_panels(res)
    sizes_only = figures.mean_field_panels(res, against=("n",))
    assert len(both) == 2 * len(res.kernels) and len(sizes_only) == len(res.kernels)
    # W2 against n: a log x axis over the sizes; against t: a linear one over the times
    assert all(fig.axes[0].get_xscale() == "log" for fig in sizes_only)
    assert [fig.axes[0].get_xscale() for fig in both] == ["log", "linear"] * len(res.kernels)
    with pytest.raises(ValueError, match="against must be a non-empty sequence of 'n' and 't', got"):
        figures.mean_field_panels(res, against=("x",))
