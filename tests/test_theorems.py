r"""One test (or a few) per result of MODEL.md §4, each against an independent computation.

Energies are recomputed here from the gauge-frame formula
:math:`E_n=\frac1{2\beta n^2}\sum_{i,j}e^{\beta\langle G(a_i)x_i,G(a_j)x_j\rangle}`
with gauges built by the test (``tests/references.py``), and compared with
the bound :math:`e^\beta/(2\beta)` of MODEL.md §4; laws are compared with
target CDFs by Kolmogorov–Smirnov distances; clusters are counted by a
single-linkage loop.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

import usaav
from usaav import kernels, labels, maximizers
from references import (
    GAUGE_CASE,
    PHASE_CASE,
    PHASE_PLANE,
    PROMPTS_CASE,
    ROPE_CASE,
    THETA_ROPE,
    TOEPLITZ_CASE,
    TOEPLITZ_COEFFICIENTS,
    count_clusters,
    loop_drift,
    plane_rotation,
    project,
    random_orthogonal,
    random_sphere,
    rope_plane,
    toeplitz_profile,
    torus_distance,
    wavy_phase,
)

#: A saturating configuration has every gauge-frame inner product equal to 1
#: up to a few ulps, so E_n / E_max - 1 is a few times 1e-16 (seed Thm. 1:
#: "~1e-15"), plus the rounding of the exponent β<u, u'>, an absolute error
#: ~β eps that becomes a relative error of e^{β<u,u'>}.
SATURATION_TOL = 1e-14


def saturation_tol(beta: float) -> float:
    """SATURATION_TOL widened by the exponent's rounding, 10 β eps (1e-13 at β = 40)."""
    return SATURATION_TOL + 10 * beta * np.finfo(float).eps


def gauge_frame_energy(beta, U) -> float:
    r""":math:`\frac1{2\beta n^2}\sum_{ij}e^{\beta\langle u_i,u_j\rangle}` from gauge-frame points (MODEL.md §3)."""
    n = len(U)
    return float(np.sum(np.exp(beta * (U @ U.T)))) / (2 * beta * n * n)


def unit(vector) -> np.ndarray:
    vector = np.asarray(vector, dtype=float)
    return vector / np.linalg.norm(vector)


# --------------------------------------------------------------------------
# Theorem 1 (RoPE anti-collapse)
# --------------------------------------------------------------------------

ROPE_SETTINGS = [
    # (beta, theta, d, plane)
    (1.0, 2 * np.pi, 3, (0, 1)),
    (10.0, 2 * np.pi, 3, (0, 1)),
    (2.5, 3.0, 2, (1, 0)),
    (0.3, -1.7, 5, (4, 2)),
    (30.0, 4 * np.pi, 4, (2, 3)),
]


@pytest.mark.parametrize("beta, theta, d, plane", ROPE_SETTINGS)
def test_thm1_rope_maximizer_saturates_the_bound(beta, theta, d, plane):
    """x(s) = R_{-θs} v gives E_n = e^β/(2β) (seed Thm. 1); relative energy gap ~ 1e-15."""
    rng = np.random.default_rng(1)
    v = random_sphere(1, d, rng)[0]
    s = np.sort(rng.random(25))

    X = maximizers.rope(v, theta, s, plane)
    U = np.stack([plane_rotation(theta * si, d, plane) @ x for si, x in zip(s, X)])
    bound = np.exp(beta) / (2 * beta)

    np.testing.assert_allclose(U, np.broadcast_to(v, U.shape), atol=1e-14)  # gauge frame: all at v
    assert gauge_frame_energy(beta, U) / bound == pytest.approx(1.0, abs=saturation_tol(beta))
    assert usaav.energy(kernels.RoPE(beta, theta, plane), X, s) / bound == pytest.approx(1.0, abs=saturation_tol(beta))
    assert abs(usaav.relative_energy_gap(kernels.RoPE(beta, theta, plane), X, s)) < saturation_tol(beta)


@pytest.mark.parametrize("beta, theta, d, plane", ROPE_SETTINGS)
def test_thm1_random_configurations_stay_below_the_bound(beta, theta, d, plane):
    """K <= e^β/β pointwise, so any configuration has E_n < e^β/(2β), strictly unless it saturates."""
    rng = np.random.default_rng(2)
    s = rng.random(25)
    X = random_sphere(25, d, rng)
    U = np.stack([plane_rotation(theta * si, d, plane) @ x for si, x in zip(s, X)])
    bound = np.exp(beta) / (2 * beta)

    assert gauge_frame_energy(beta, U) < bound
    # 25 random points are far from a common gauge-frame point: the gap is O(1),
    # far above round-off.
    assert usaav.relative_energy_gap(kernels.RoPE(beta, theta, plane), X, s) > 1e-3


# --------------------------------------------------------------------------
# Corollary 1 / Example 5 (latitude circles on S^2)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("polar", [0.3, np.pi / 2, 2.0, 3.0])
def test_cor1_rope_2pi_output_is_uniform_on_the_latitude_circle(polar):
    """d = 3, θ = 2π, v at polar angle ϑ: x3 = cos ϑ and the azimuths are equispaced on a grid (Cor. 1)."""
    L = 12
    azimuth_v = 0.7
    v = np.array([np.sin(polar) * np.cos(azimuth_v), np.sin(polar) * np.sin(azimuth_v), np.cos(polar)])

    X = maximizers.rope(v, 2 * np.pi, labels.grid_positions(L))

    np.testing.assert_allclose(X[:, 2], np.cos(polar), atol=1e-15)  # on the latitude circle
    azimuths = np.arctan2(X[:, 1], X[:, 0])
    # x(s_l) = R_{-2π l/L} v: azimuth decreases by 2π/L per position, covering
    # the circle once -> the empirical law is uniform on the L-point grid of the circle.
    steps = np.mod(azimuths[:-1] - azimuths[1:], 2 * np.pi)
    np.testing.assert_allclose(steps, 2 * np.pi / L, atol=1e-13)
    half_step = np.pi / L  # shift so that no angle sits on the 0/2π seam
    offsets = np.sort(np.mod(azimuths - azimuth_v + half_step, 2 * np.pi)) - half_step
    np.testing.assert_allclose(offsets, 2 * np.pi * np.arange(L) / L, atol=1e-13)


def test_cor1_pole_gives_a_dirac_mass():
    """ϑ = 0: the latitude circle degenerates to the pole, all x(s) = v."""
    X = maximizers.rope([0.0, 0.0, 1.0], 2 * np.pi, labels.grid_positions(10))
    np.testing.assert_array_equal(X, np.tile([0.0, 0.0, 1.0], (10, 1)))


# --------------------------------------------------------------------------
# Theorem 2 (phase fields)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.5, 4.0, 40.0])
@pytest.mark.parametrize("d", [2, 3, 5])
def test_thm2i_phase_field_maximizer_saturates_the_bound(beta, d):
    """x(s) = R_{-φ(s)} v maximises K_ψ (seed Thm. 2 (i)), for the wavy phase φ(s) = 2πs + 0.7 sin 4πs."""
    rng = np.random.default_rng(3)
    v = random_sphere(1, d, rng)[0]
    s = rng.random(30)

    X = maximizers.phase_field(v, wavy_phase, s, PHASE_PLANE)
    U = np.stack([plane_rotation(float(wavy_phase(si)), d, PHASE_PLANE) @ x for si, x in zip(s, X)])
    kernel = kernels.PhaseField(beta, wavy_phase, PHASE_PLANE)

    assert gauge_frame_energy(beta, U) / (np.exp(beta) / (2 * beta)) == pytest.approx(1.0, abs=saturation_tol(beta))
    assert abs(usaav.relative_energy_gap(kernel, X, s)) < saturation_tol(beta)
    assert usaav.relative_energy_gap(kernel, random_sphere(30, d, rng), s) > 1e-3


#: An asymmetric target (von Mises centred at 1 rad, so it wraps around ±π): a
#: symmetric law could not tell the phase -Q from +Q.
KAPPA, LOC = 2.0, 1.0
TARGET = stats.vonmises(KAPPA, loc=LOC)


def von_mises_quantile():
    """Quantile function of TARGET on [LOC - π, LOC + π], by inverting scipy's CDF on a fine grid.

    Linear interpolation on 1e5 intervals: the CDF error is O(h^2 max|f'|) ≈ 1e-9.
    """
    grid = np.linspace(LOC - np.pi, LOC + np.pi, 100001)
    cdf = TARGET.cdf(grid)
    return lambda u: np.interp(u, cdf, grid)


def angles_in_target_window(X, v):
    """α with x = R_α v (azimuth shift, computed here), wrapped into TARGET's support [LOC - π, LOC + π)."""
    alpha = np.arctan2(X[:, 1], X[:, 0]) - np.arctan2(v[1], v[0])
    return LOC + np.mod(alpha - LOC + np.pi, 2 * np.pi) - np.pi


@pytest.mark.parametrize("n", [100, 1000, 10000])
def test_thm2ii_realized_orbit_law_has_ks_distance_one_over_2n_to_von_mises(n):
    """Phase -Q (Q the von Mises quantile) on the midpoint grid realises the law: KS distance = 1/(2n) (Thm. 2 (ii))."""
    v = unit([0.6, 0.0, 0.8])
    phase = maximizers.realize_on_orbit(von_mises_quantile())
    s = (np.arange(n) + 0.5) / n

    X = maximizers.phase_field(v, phase, s)
    distance = stats.kstest(angles_in_target_window(X, v), TARGET.cdf).statistic

    # The empirical law of Q((l + 1/2)/n) is at KS distance exactly 1/(2n) from
    # the target; the interpolated quantile adds ~1e-9 (see von_mises_quantile).
    assert distance <= 0.5 / n + 1e-8
    np.testing.assert_allclose(X[:, 2], v[2], atol=1e-15)  # on the orbit of v
    # And it is a maximiser of the phase-field energy (Thm. 2 (i)).
    assert abs(usaav.relative_energy_gap(kernels.PhaseField(1.0, phase), X, s)) < SATURATION_TOL


def test_thm2ii_ks_distance_shrinks_tenfold_per_decade_of_n():
    """KS distance to the target at n = 100, 1000, 10000 decreases like 1/n (ratios ≈ 10); orbit_angles agrees."""
    v = unit([0.0, 1.0, 0.5])
    phase = maximizers.realize_on_orbit(von_mises_quantile())
    distances = []
    for n in (100, 1000, 10000):
        s = (np.arange(n) + 0.5) / n
        X = maximizers.phase_field(v, phase, s)
        angles = angles_in_target_window(X, v)
        # The library's orbit_angles gives the same angles modulo 2π.
        np.testing.assert_allclose(np.exp(1j * maximizers.orbit_angles(X, v)), np.exp(1j * angles), atol=1e-12)
        distances.append(stats.kstest(angles, TARGET.cdf).statistic)

    ratios = np.array(distances[:-1]) / np.array(distances[1:])
    # 1/(2n) exactly, up to the 1e-9 interpolation error: ratios 10 ± 1e-3.
    np.testing.assert_allclose(ratios, 10.0, rtol=1e-3)


def mixture_cdf(angles):
    """CDF of 0.3 VM(-2, κ=8) + 0.7 VM(1, κ=3) on [-π, π]."""
    return 0.3 * stats.vonmises(8.0, loc=-2.0).cdf(angles) + 0.7 * stats.vonmises(3.0, loc=1.0).cdf(angles)


def mixture_samples(n, rng):
    first = rng.random(n) < 0.3
    return np.where(first, rng.vonmises(-2.0, 8.0, n), rng.vonmises(1.0, 3.0, n))


@pytest.mark.parametrize("n", [100, 1000, 10000])
def test_thm2ii_sampled_mixture_target_is_realized_exactly(n):
    """realize_on_orbit(samples) on n midpoint positions puts exactly one particle at each sampled angle."""
    rng = np.random.default_rng(n)
    samples = mixture_samples(n, rng)
    v = unit([1.0, 1.0, 0.3])
    s = (np.arange(n) + 0.5) / n

    X = maximizers.phase_field(v, maximizers.realize_on_orbit(samples), s)
    angles = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - np.arctan2(v[1], v[0]))))

    # Realised law = empirical target law: the sorted angles agree to round-off of atan2.
    np.testing.assert_allclose(np.sort(angles), np.sort(samples), atol=1e-12)
    # Hence the KS distance to the mixture is the sampling error: below the 1%
    # critical value 1.63/sqrt(n) of the one-sample KS test (fixed seed).
    assert stats.kstest(angles, mixture_cdf).statistic < 1.63 / np.sqrt(n)


@pytest.mark.parametrize("refinement", [1, 7, 10])
def test_thm2ii_more_positions_than_samples_keep_the_empirical_law(refinement):
    """With n = refinement · m positions, each of the m sampled angles gets a 1/m share (to within 1/n)."""
    m = 50
    samples = mixture_samples(m, np.random.default_rng(4))
    n = refinement * m
    s = (np.arange(n) + 0.5) / n
    v = unit([1.0, 0.0, 1.0])

    angles = maximizers.orbit_angles(maximizers.phase_field(v, maximizers.realize_on_orbit(samples), s), v)
    grid = np.linspace(-np.pi, np.pi, 2001)
    realized = np.searchsorted(np.sort(angles), grid, side="right") / n
    target = np.searchsorted(np.sort(samples), grid, side="right") / m

    assert np.max(np.abs(realized - target)) <= 1.0 / n + 1e-12


# --------------------------------------------------------------------------
# Theorem 3 (conditional Dirac, marginal spread)
# --------------------------------------------------------------------------


def test_thm3_rope_dynamics_become_dirac_at_each_label_but_not_marginally():
    """RoPE, 4 particles per label: conditional diameter -> 0 while the collapse gap stays clearly > 0 (Thm. 3)."""
    aux = labels.replicate(labels.grid_positions(16), 4)
    X0 = random_sphere(64, 3, np.random.default_rng(5))
    kernel = kernels.RoPE(1.0, 2 * np.pi)

    run = usaav.simulate(kernel, X0, aux, t_max=30.0, dt=0.05, record_every=100)
    diameter = usaav.conditional_diameter(run.X, aux)
    gap = usaav.collapse_gap(run.X)

    assert diameter[0] > 1.0  # uniform start: labels hold far-apart points
    assert diameter[-1] < 1e-8  # exponential contraction of each label's group
    assert gap[-1] > 0.1  # ... but no mode collapse: the marginal stays spread
    # The limit is the RoPE maximiser (global max of the energy, Thm. 1).
    assert abs(usaav.relative_energy_gap(kernel, run.final, aux)) < 1e-12


# --------------------------------------------------------------------------
# Proposition 8 (Euler–Lagrange) at the maximisers of Thm. 1, 2, 4 and Prop. 10
# --------------------------------------------------------------------------


def rope_maximizer(s, d, rng):
    return maximizers.rope(random_sphere(1, d, rng)[0], THETA_ROPE, s, rope_plane(d))


def phase_maximizer(s, d, rng):
    return maximizers.phase_field(random_sphere(1, d, rng)[0], wavy_phase, s, PHASE_PLANE)


def prompts_maximizer(ids, d, rng):
    return maximizers.gauge(random_sphere(1, d, rng)[0], PROMPTS_CASE.make_kernel(d).gauges)[ids]


def gauge_maximizer(s, d, rng):
    stack = np.stack([GAUGE_CASE.gauge(a, d) for a in s])
    return maximizers.gauge(random_sphere(1, d, rng)[0], stack)


def toeplitz_maximizer(s, d, rng):
    return maximizers.toeplitz(TOEPLITZ_COEFFICIENTS, s, d)


PROP8_CASES = [
    (ROPE_CASE, rope_maximizer),
    (PHASE_CASE, phase_maximizer),
    (PROMPTS_CASE, prompts_maximizer),
    (GAUGE_CASE, gauge_maximizer),
    (TOEPLITZ_CASE, toeplitz_maximizer),
]


@pytest.mark.parametrize("d", [3, 5])
@pytest.mark.parametrize("case, maximizer", PROP8_CASES, ids=[case.name for case, _ in PROP8_CASES])
def test_prop8_euler_lagrange_residual_vanishes_at_maximizers(case, maximizer, d):
    """P_x ∫∇_xK dλ = 0 at the closed-form maximisers (seed Prop. 8); O(1) at random points."""
    rng = np.random.default_rng(6)
    n = 16
    # Toeplitz needs the grid (its maximiser is exact for grid positions, Prop. 10).
    aux = labels.grid_positions(n) if case is TOEPLITZ_CASE else case.make_aux(n, rng)
    kernel = case.make_kernel(d)
    X = maximizer(aux, d, rng)
    Y = random_sphere(n, d, rng)

    test_side = np.max(np.linalg.norm(project(X, loop_drift(case, X, aux)), axis=1))
    random_side = np.max(np.linalg.norm(project(Y, loop_drift(case, Y, aux)), axis=1))
    scale = np.exp(kernel.beta) if hasattr(kernel, "beta") else 1.0  # library residual is in the rescaled clock

    # Forces of size <= e^β cancel to round-off at the maximiser.
    assert test_side < 1e-13 * scale
    assert usaav.euler_lagrange_residual(kernel, X, aux) < 1e-13
    assert random_side > 1e-2 * scale
    assert usaav.euler_lagrange_residual(kernel, Y, aux) > 1e-2


# --------------------------------------------------------------------------
# Theorem 4 and Corollary 2 (prompts)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [1.0, 25.0])
@pytest.mark.parametrize("d, m", [(2, 2), (3, 4), (5, 3)])
def test_thm4i_gauge_maximizer_saturates_the_bound(beta, d, m):
    """x_p = G_p^T v is a global maximiser (seed Thm. 4 (i)): G_p x_p = v and E_n = e^β/(2β)."""
    rng = np.random.default_rng(7)
    G = random_orthogonal(m, d, rng)
    v = random_sphere(1, d, rng)[0]
    ids = rng.integers(0, m, 40)

    X = maximizers.gauge(v, G)[ids]
    U = np.einsum("nab,nb->na", G[ids], X)

    np.testing.assert_allclose(U, np.broadcast_to(v, U.shape), atol=1e-14)
    assert gauge_frame_energy(beta, U) / (np.exp(beta) / (2 * beta)) == pytest.approx(1.0, abs=saturation_tol(beta))
    assert abs(usaav.relative_energy_gap(kernels.Prompts(beta, G), X, ids)) < saturation_tol(beta)


@pytest.mark.parametrize("kind", ["householder", "rotation"])
@pytest.mark.parametrize("d", [3, 5])
def test_thm4ii_gauge_for_targets_is_orthogonal_and_maps_v_to_each_target(kind, d):
    """G_p orthogonal with G_p^T v = T_p for random targets, T_p = ±v and T_p ≈ ±v (seed Thm. 4 (ii))."""
    rng = np.random.default_rng(8 + d)
    v = random_sphere(1, d, rng)[0]
    nearly_antipodal = unit(-v + 1e-11 * rng.standard_normal(d))
    nearly_equal = unit(v + 1e-11 * rng.standard_normal(d))
    targets = np.vstack([random_sphere(5, d, rng), nearly_antipodal, nearly_equal, v, -v])

    G = maximizers.gauge_for_targets(v, targets, kind=kind)

    assert G.shape == (9, d, d)
    # Products of a few O(1) matrices: round-off ~1e-15; 1e-13 leaves margin.
    np.testing.assert_allclose(np.einsum("pki,pkj->pij", G, G), np.broadcast_to(np.eye(d), G.shape), atol=1e-13)
    mapped = np.einsum("pji,j->pi", G, v)
    # A reflection exchanging v and T exists only if |v| = |T| exactly; with
    # norms off by ~eps its error is ~eps/|v - T| (or |v - T| for the identity
    # used at tiny |v - T|): at best sqrt(eps) ≈ 1.5e-8 for T ≈ v.  The rotation
    # has no such limit.
    near_tol = 1e-13 if kind == "rotation" else 2e-8
    np.testing.assert_allclose(mapped[6], targets[6], atol=near_tol)
    np.testing.assert_allclose(np.delete(mapped, 6, axis=0), np.delete(targets, 6, axis=0), atol=1e-13)
    determinants = np.linalg.det(G)
    if kind == "rotation":
        np.testing.assert_allclose(determinants, 1.0, atol=1e-12)  # proper rotations
    else:
        # A reflection (det -1) except for T_p = v, where the identity is returned.
        # (T ≈ v at distance 1e-11 < sqrt(eps) also gets the identity.)
        np.testing.assert_allclose(determinants, [-1.0] * 6 + [1.0, 1.0, -1.0], atol=1e-12)


@pytest.mark.parametrize("kind", ["householder", "rotation"])
def test_thm4_any_target_map_is_the_output_of_a_saturating_configuration(kind):
    """Gauges from targets T_p make x_p = T_p a maximiser: E_n = e^β/(2β) at the prescribed points."""
    rng = np.random.default_rng(9)
    v = unit([0.0, 0.0, 1.0])
    targets = random_sphere(5, 3, rng)
    ids = np.repeat(np.arange(5), 3)
    kernel = kernels.Prompts(2.0, maximizers.gauge_for_targets(v, targets, kind=kind))

    X = targets[ids]

    assert abs(usaav.relative_energy_gap(kernel, X, ids)) < SATURATION_TOL


@pytest.mark.parametrize("m", [2, 3, 5])
def test_cor2_prompt_maximizer_has_exactly_m_clusters(m):
    """n particles over m distinct gauges: the maximiser has exactly m distinct points (seed Cor. 2)."""
    rng = np.random.default_rng(10 + m)
    G = random_orthogonal(m, 3, rng)
    ids = np.arange(60) % m
    v = random_sphere(1, 3, rng)[0]

    X = maximizers.gauge(v, G)[ids]

    assert count_clusters(X, radius=1e-9) == m
    assert usaav.conditional_diameter(X, ids) == 0.0


@pytest.mark.parametrize("m", [2, 4])
def test_cor2_prompt_dynamics_end_in_m_clusters_in_the_original_frame(m):
    """Simulating Prompts from uniform tokens: the gauge frame collapses, the original frame shows m clusters."""
    rng = np.random.default_rng(20 + m)
    G = random_orthogonal(m, 3, rng)
    ids = np.repeat(np.arange(m), 15)
    X0 = random_sphere(len(ids), 3, rng)
    kernel = kernels.Prompts(1.0, G)

    run = usaav.simulate(kernel, X0, ids, t_max=40.0, dt=0.05, record_every=200)
    U = np.einsum("nab,nb->na", G[ids], run.final)  # gauge frame, computed here

    assert count_clusters(X0, radius=1e-3) == len(ids)
    # Baseline collapse in the gauge frame at rate ~e^{-t}: spread < 1e-10 by t = 40.
    assert np.max(np.linalg.norm(U - U.mean(axis=0), axis=1)) < 1e-8
    assert count_clusters(run.final, radius=1e-3) == m
    # Haar gauges send v to points O(1) apart; the clusters are the prompts.
    assert usaav.conditional_diameter(run.final, ids) < 1e-8


# --------------------------------------------------------------------------
# Proposition 10 / Example 6 (Toeplitz)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "coefficients, k_star",
    # {0: 0.7, 1: 1.0}: ĉ(0) = 0.7 beats ĉ(1) = 0.5, so k* = 0 (the halving of c_k matters).
    # {0: -1.0, 1: -0.5}: every listed ĉ is negative, so the first absent mode (ĉ(2) = 0) wins.
    [({1: 1.0}, 1), ({0: 0.3, 1: 1.0, 3: -0.5}, 1), ({1: 0.4, 3: 1.0}, 3), ({0: 1.0, 1: 0.5}, 0), ({0: 0.7, 1: 1.0}, 0),
     ({0: -1.0, 1: -0.5}, 2)],
)
def test_prop10_toeplitz_maximizer_has_energy_half_max_fourier_on_a_grid(coefficients, k_star):
    """x(s) = cos(2πk*s)e1 + sin(2πk*s)e2 has E_n = ĉ(k*)/2 (ĉ(0) = c_0, ĉ(±k) = c_k/2), by a double loop."""
    n = 24
    s = labels.grid_positions(n)
    X = maximizers.toeplitz(coefficients, s, d=3)
    c_hat = {0: coefficients.get(0, 0.0), **{k: c / 2 for k, c in coefficients.items() if k > 0}}
    profile = lambda r: sum(c * np.cos(2 * np.pi * k * r) for k, c in coefficients.items())  # noqa: E731

    energy = sum(profile(s[i] - s[j]) * (X[i] @ X[j]) for i in range(n) for j in range(n)) / (2 * n * n)

    np.testing.assert_allclose(X[:, 0] + 1j * X[:, 1], np.exp(2j * np.pi * k_star * s), atol=1e-15)
    # Discrete orthogonality of cosines on the grid (n > 2 max k): exact up to round-off.
    # Modes missing from the series have ĉ(k) = 0, so the supremum over k is at least 0.
    assert energy == pytest.approx(max(0.0, *c_hat.values()) / 2, abs=1e-14)
    assert usaav.energy(kernels.Toeplitz(coefficients), X, s) == pytest.approx(energy, abs=1e-14)


_MODES = st.integers(min_value=1, max_value=kernels.Toeplitz.MAX_MODE)
_POSITIONS = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(s=_POSITIONS, k=st.integers(min_value=0, max_value=kernels.Toeplitz.MAX_MODE))
@example(s=0.13715613010862285, k=3)  # a negative low part: its own fractional part would round (error 1.25 2^-53)
def test_mode_turns_is_the_fraction_of_k_times_s_to_one_rounding(s, k):
    """Independent: {k s} in rational arithmetic; the distance on the circle of turns is at most 2^-53."""
    exact = (Fraction(s) * k) % 1
    error = abs(Fraction(float(kernels.mode_turns(s, k))) - exact)
    assert min(error, 1 - error) <= Fraction(1, 2**53)


@settings(max_examples=300, deadline=None)
@given(k=_MODES, s=_POSITIONS, amplitude=st.sampled_from([1.0, 0.37]))
def test_prop10_relative_gap_of_two_points_at_the_bound_is_never_below_round_off_for_large_modes(k, s, amplitude):
    """Two points, C = c_k [[1, cos φ], [cos φ, 1]] (φ = 2πks): X = [e1, ±e1] attains λ_max(C)/(2n) exactly.

    The energy and the bound share the exactly reduced phase (kernels.mode_turns), so the relative gap is
    0 up to the round-off of two sums and a 2 x 2 eigenvalue (~1e-16); with the phase formed as 2πks in two
    different orders it went down to -1.5e-8 for modes between 1e6 and 2^24 (issue 18).
    """
    kernel = kernels.Toeplitz({k: amplitude})
    cos = math.cos(2 * math.pi * float((Fraction(s) * k) % 1))  # independent phase
    e1 = np.array([1.0, 0.0, 0.0])
    sign = 1.0 if amplitude * cos >= 0 else -1.0
    gap = usaav.relative_energy_gap(kernel, np.array([e1, sign * e1]), np.array([0.0, s]))
    assert gap >= -1e-14


@settings(max_examples=100, deadline=None)
@given(k=_MODES, positions=st.lists(_POSITIONS, min_size=2, max_size=8), seed=st.integers(0, 2**32 - 1))
def test_prop10_relative_gap_is_never_below_round_off_for_large_modes_at_the_maximiser_and_random_points(
        k, positions, seed):
    """At the Toeplitz maximiser for these positions (grid not required) and at random points: gap >= -1e-14."""
    s = np.array(positions)
    kernel = kernels.Toeplitz({0: 0.25, k: 1.0})
    rng = np.random.default_rng(seed)
    for X in (maximizers.toeplitz(kernel, s, d=3, require_grid=False), random_sphere(len(s), 3, rng)):
        assert usaav.relative_energy_gap(kernel, X, s) >= -1e-14


def test_prop10_relative_gap_of_the_issue_case_is_not_negative():
    # Toeplitz({12236095: 1}), s = [0, 0.14792608457745593], X = [e1, -e1] gave -7.6e-10 before the reduction.
    e1 = np.array([1.0, 0.0, 0.0])
    gap = usaav.relative_energy_gap(kernels.Toeplitz({12236095: 1.0}), np.array([e1, -e1]),
                                    np.array([0.0, 0.14792608457745593]))
    assert abs(gap) <= 1e-14


def test_prop10_cos_kernel_maximizer_energy_is_one_quarter_and_random_configurations_are_below():
    """c(r) = cos 2πr: ĉ(±1) = 1/2, maximum 1/4 on a grid; random configurations score less."""
    n = 32
    s = labels.grid_positions(n)
    kernel = kernels.Toeplitz({1: 1.0})
    rng = np.random.default_rng(11)

    assert usaav.energy(kernel, maximizers.toeplitz({1: 1.0}, s, 3), s) == pytest.approx(0.25, abs=1e-15)
    randoms = [usaav.energy(kernel, random_sphere(n, 3, rng), s) for _ in range(20)]
    # On the grid E_n = (1/2)Σ_k ĉ(k)|x̂(k)|² <= (1/2) max ĉ by Parseval.
    assert max(randoms) < 0.25


def test_prop10_toeplitz_dynamics_converge_to_a_great_circle_with_energy_one_quarter():
    """c(r) = cos 2πr from random tokens at grid positions: the limit lies in a plane (σ_3(X) ≈ 0), E_n -> 1/4."""
    n = 64
    s = labels.grid_positions(n)
    X0 = random_sphere(n, 3, np.random.default_rng(12))

    run = usaav.simulate(kernels.Toeplitz({1: 1.0}), X0, s, t_max=60.0, dt=0.05, record_every=100)
    singular = np.linalg.svd(run.final, compute_uv=False)
    energy = sum(np.cos(2 * np.pi * (s[i] - s[j])) * (run.final[i] @ run.final[j]) for i in range(n) for j in range(n)) / (2 * n * n)

    assert np.linalg.svd(X0, compute_uv=False)[2] > 1.0  # random start spans R^3
    # Convergence in the transverse direction at rate ~e^{-t/4}: 1e-11 measured at t = 60.
    assert singular[2] < 1e-8 * singular[0]
    np.testing.assert_allclose(singular[:2], np.sqrt(n / 2), rtol=1e-6)  # uniform on the circle
    assert energy == pytest.approx(0.25, abs=1e-10)
    # The bound of Prop. 10, (1/2) max ĉ = 1/4, is reached: relative gap -> 0.
    assert abs(usaav.relative_energy_gap(kernels.Toeplitz({1: 1.0}), run.final, s)) < 1e-9


def test_prop10_energy_bound_uses_the_largest_fourier_coefficient():
    """Toeplitz.energy_bound() = max(0, max_k ĉ(k))/2 with ĉ(0) = c_0, ĉ(k) = c_k/2 (MODEL.md §3)."""
    assert kernels.Toeplitz({1: 1.0}).energy_bound() == 0.25
    assert kernels.Toeplitz({0: 0.3, 1: 1.0, 3: -0.5}).energy_bound() == pytest.approx(0.25)
    assert kernels.Toeplitz({0: 0.8, 2: 1.0}).energy_bound() == pytest.approx(0.4)
    assert kernels.Toeplitz({2: -1.0}).energy_bound() == 0.0
    assert toeplitz_profile(0.0) == pytest.approx(0.8)  # the reference profile itself: c(0) = Σ c_k


# --------------------------------------------------------------------------
# Proposition 11 / Example 4 (nonnegative distance bias collapses)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["exponential", "gaussian"])
def test_prop11_distance_bias_dynamics_collapse(profile):
    """w >= 0: the only maximisers are constant, and the flow collapses to a Dirac mass (seed Prop. 11)."""
    rng = np.random.default_rng(13)
    s = rng.random(64)
    X0 = random_sphere(64, 3, rng)
    kernel = kernels.DistanceBias(1.0, 0.5, profile)

    run = usaav.simulate(kernel, X0, s, t_max=40.0, dt=0.05, record_every=200)
    gap = usaav.collapse_gap(run.X)

    assert gap[0] > 0.9
    assert gap[-1] < 1e-12  # measured ~1e-30 at t = 40
    # A constant configuration is the maximiser: energy = Σ w_ij e^β / (2βn²), computed here.
    w = np.array([[np.exp(-min(abs(a - b), 1 - abs(a - b)) / 0.5) if profile == "exponential"
                   else np.exp(-min(abs(a - b), 1 - abs(a - b)) ** 2 / (2 * 0.25)) for b in s] for a in s])
    assert run.energy[-1] == pytest.approx(np.sum(w) * np.exp(1.0) / (2 * 64**2), rel=1e-10)


# --------------------------------------------------------------------------
# Proposition 10, finite n: the bound λ_max(C)/(2n) holds for any labels
# --------------------------------------------------------------------------


def dense_toeplitz_bound(coefficients, s):
    r""":math:`\lambda_{\max}(C)/(2n)` with :math:`C_{ij}=\sum_kc_k\cos2\pi k(s_i-s_j)` formed entry by entry."""
    n = len(s)
    C = np.array([[sum(c * np.cos(2 * np.pi * k * (s[i] - s[j])) for k, c in coefficients.items())
                   for j in range(n)] for i in range(n)])
    return float(np.linalg.eigvalsh(C)[-1]) / (2 * n)


TOEPLITZ_SERIES = [{1: 1.0}, {0: 0.3, 1: 1.0, 3: -0.5}, {0: 0.8, 2: 1.0}, {0: -1.0, 1: -0.5}, {0: 0.2, 5: 1.0}]


@pytest.mark.parametrize("coefficients", TOEPLITZ_SERIES, ids=str)
def test_prop10_finite_bound_equals_half_max_fourier_on_the_grid(coefficients):
    """On ℓ/n with n > 2 max k, C is circulant with eigenvalues n ĉ(k), 0 <= k <= n/2: λ_max(C)/(2n) = ½ max ĉ.

    ĉ(k) = 0 for modes absent from the series; from n = 2 max k + 2 on one of
    them is a frequency of the grid, and the bound is the mean-field
    ``energy_bound()`` = ½ max(0, max ĉ).  At n = 2 max k + 1 every grid
    frequency may carry a negative ĉ: then the finite bound is negative.
    """
    kernel = kernels.Toeplitz(coefficients)
    c_hat = kernel.fourier()
    top = max(coefficients)
    for n in (2 * top + 1, 2 * top + 2, 24, 101):
        s = labels.grid_positions(n)
        expected = 0.5 * max(c_hat.get(k, 0.0) for k in range(n // 2 + 1))
        # Eigenvalues of a 2m x 2m matrix from a QR of the n x 2m Fourier matrix: round-off ~1e-15.
        assert kernel.finite_energy_bound(s) == pytest.approx(expected, abs=1e-14)
        assert kernel.finite_energy_bound(np.random.default_rng(n).permutation(s)) == pytest.approx(expected, abs=1e-14)
        if n > 2 * top + 1:
            assert kernel.finite_energy_bound(s) == pytest.approx(kernel.energy_bound(), abs=1e-14)


@pytest.mark.parametrize("coefficients", TOEPLITZ_SERIES, ids=str)
@pytest.mark.parametrize("n", [1, 2, 5, 30])
def test_prop10_finite_bound_is_the_top_eigenvalue_of_the_dense_matrix(coefficients, n):
    """Off the grid (random, clustered, repeated positions): λ_max(C)/(2n) from the dense C, 0 included when rank C < n."""
    rng = np.random.default_rng(n)
    for s in (rng.random(n), np.repeat(rng.random(1), n), np.sort(0.1 + 0.02 * rng.random(n))):
        expected = max(dense_toeplitz_bound(coefficients, s), 0.0 if n > 2 * len(coefficients) else -np.inf)
        # Dense eigvalsh of an n x n matrix with entries <= Σ|c_k|: error ~n eps Σ|c_k|.
        assert kernels.Toeplitz(coefficients).finite_energy_bound(s) == pytest.approx(expected, abs=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_prop10_no_configuration_beats_the_finite_bound_off_the_grid(seed):
    """Random, clustered and flowed configurations at random positions: E_n <= λ_max(C)/(2n), gap >= 0.

    The mean-field value ½ max ĉ is exceeded here (the bug this guards
    against gave relative gaps of -0.03 to -0.96).
    """
    rng = np.random.default_rng(seed)
    kernel = kernels.Toeplitz({1: 1.0})
    s = np.sort(np.r_[0.1 + 0.03 * rng.random(9), 0.6 + 0.03 * rng.random(9), rng.random(4)])
    bound = dense_toeplitz_bound({1: 1.0}, s)
    flowed = usaav.simulate(kernel, random_sphere(len(s), 3, rng), s, t_max=40.0, record_every=400).final
    # Two antipodal clusters following the sign of cos 2πs: <x_i, x_j> = sign c(s_i - s_j) mostly.
    clustered = np.sign(np.cos(2 * np.pi * s))[:, None] * random_sphere(1, 3, rng)

    for X in (random_sphere(len(s), 3, rng), flowed, clustered):
        energy = sum(np.cos(2 * np.pi * (s[i] - s[j])) * (X[i] @ X[j]) for i in range(len(s)) for j in range(len(s))) / (2 * len(s) ** 2)
        assert energy <= bound + 1e-15
        assert usaav.relative_energy_gap(kernel, X, s) == pytest.approx(1 - energy / bound, abs=1e-12)
        assert usaav.relative_energy_gap(kernel, X, s) >= 0.0
    assert usaav.energy(kernel, clustered, s) > kernel.energy_bound()  # the mean-field bound fails here


def test_prop10_relative_gap_is_undefined_without_a_positive_eigenvalue():
    """c(r) = -cos 2πr: C is negative semidefinite, the maximum energy is 0 and the relative gap is refused."""
    s = np.random.default_rng(5).random(12)
    assert kernels.Toeplitz({1: -1.0}).finite_energy_bound(s) == 0.0
    with pytest.raises(ValueError, match="relative_energy_gap is undefined"):
        usaav.relative_energy_gap(kernels.Toeplitz({1: -1.0}), random_sphere(12, 3, np.random.default_rng(6)), s)


def test_prop10_great_circle_is_critical_on_the_grid_only():
    """maximizers.toeplitz: Euler–Lagrange residual ~0 on ℓ/n; off the grid it is O(1e-2..1) and the default refuses it."""
    coefficients = {1: 1.0}
    kernel = kernels.Toeplitz(coefficients)
    grid = labels.grid_positions(40)
    off_grid = np.sort(np.random.default_rng(7).random(40))

    assert usaav.euler_lagrange_residual(kernel, maximizers.toeplitz(coefficients, grid), grid) < 1e-14
    assert usaav.euler_lagrange_residual(kernel, maximizers.toeplitz(coefficients, off_grid, require_grid=False), off_grid) > 1e-2
    with pytest.raises(ValueError, match="positions must be the uniform grid"):
        maximizers.toeplitz(coefficients, off_grid)
    with pytest.raises(ValueError, match="n > 2 k"):
        maximizers.toeplitz({3: 1.0}, labels.grid_positions(6))


# --------------------------------------------------------------------------
# Proposition 11: the maximum behind the relative gap, against brute force
# --------------------------------------------------------------------------


def nonnegative_weight(a, b):
    """w(a, b) = 1 + cos 2π(a - b) >= 0, vectorised for the library."""
    return 1.0 + np.cos(2 * np.pi * np.subtract.outer(a, b))


WEIGHTED = [
    ("distance_bias_exponential", lambda beta: kernels.DistanceBias(beta, 0.3), lambda a, b: np.exp(-torus_distance(a, b) / 0.3)),
    ("distance_bias_gaussian", lambda beta: kernels.DistanceBias(beta, 0.3, "gaussian"), lambda a, b: np.exp(-torus_distance(a, b) ** 2 / (2 * 0.09))),
    ("separated_nonnegative", lambda beta: kernels.Separated(beta, nonnegative_weight), lambda a, b: 1.0 + np.cos(2 * np.pi * (a - b))),
]


@pytest.mark.parametrize("beta", [0.5, 3.0, 300.0])
@pytest.mark.parametrize("name, make, weight", WEIGHTED, ids=[w[0] for w in WEIGHTED])
def test_prop11_gap_maximum_is_the_energy_of_a_constant_configuration_by_loops(name, make, weight, beta):
    """E_max = Σ_ij w(a_i, a_j) e^β / (2βn²) by a double loop; the gap is 0 there and 1 - E/E_max at random points."""
    rng = np.random.default_rng(8)
    n = 17
    s = rng.random(n)
    kernel = make(beta)
    weight_sum = sum(weight(s[i], s[j]) for i in range(n) for j in range(n))
    constant = np.tile(random_sphere(1, 3, rng), (n, 1))

    _, interaction = usaav.dynamics.bind(kernel, constant, s)
    # pair_sum_max is the rescaled sum Σ w e^{β(1-1)} = Σ w: a sum of n² terms, error ~n² eps.
    assert interaction.pair_sum_max() == pytest.approx(weight_sum, rel=1e-13)
    assert usaav.relative_energy_gap(kernel, constant, s) == pytest.approx(0.0, abs=1e-13)
    for _ in range(5):
        X = random_sphere(n, 3, rng)
        rescaled = sum(weight(s[i], s[j]) * np.exp(beta * (X[i] @ X[j] - 1)) for i in range(n) for j in range(n))
        gap = usaav.relative_energy_gap(kernel, X, s)
        assert gap == pytest.approx(1 - rescaled / weight_sum, abs=1e-13)
        assert gap > 0.0


# --------------------------------------------------------------------------
# Theorem 4 (ii): the Householder fallback threshold
# --------------------------------------------------------------------------


@pytest.mark.parametrize("d", [3, 6])
@pytest.mark.parametrize("distance", [1e-2, 1e-4, 1e-6, 1e-7, 1e-9, 1e-11])
def test_thm4ii_householder_maps_v_to_targets_close_to_v(d, distance):
    """T at angle δ from v: |G^T v - T| <= 2e-8, and <= δ/10 by a reflection (det -1) down to δ = 1e-7.

    The reflection's error is ~eps/δ and the identity's is δ: the switch at
    |v - T| = sqrt(eps) ≈ 1.5e-8 keeps both below 2e-8.  Raising the switch
    (identity for δ = 1e-2) or dropping it (reflections at δ = 1e-11, error
    ~1e-5) fails here.
    """
    rng = np.random.default_rng(int(-np.log10(distance)) + d)
    v = random_sphere(1, d, rng)[0]
    e = rng.standard_normal(d)
    e -= (e @ v) * v
    e /= np.linalg.norm(e)
    target = np.cos(distance) * v + np.sin(distance) * e

    G = maximizers.gauge_for_targets(v, target[None])[0]

    error = np.max(np.abs(G.T @ v - target))
    assert error <= 2e-8
    if distance >= 1e-7:
        assert error <= distance / 10
        assert np.linalg.det(G) == pytest.approx(-1.0, abs=1e-12)


def test_thm2ii_sample_quantile_is_the_step_function_of_the_sorted_samples():
    """Q(s) = α_(⌊sm⌋+1) from the sorted samples: -phase at s = k/m, (k + ½)/m and 1 (the largest sample)."""
    samples = np.array([0.3, -1.0, 2.0, 0.1])
    ordered = np.sort(samples)
    s = np.r_[np.arange(4) / 4, (np.arange(4) + 0.5) / 4, 1.0]

    phase = maximizers.realize_on_orbit(samples)

    np.testing.assert_array_equal(-phase(s), np.r_[ordered, ordered, ordered[-1]])
