"""Tests of usaav.twisted: twisted states on the circle, their linear stability on S^1 and S^2.

The eigenvalue formulas are checked against finite-difference Jacobians of
the library's own velocity field (usaav.velocity), an independent code
path; the stability verdicts against simulations; the critical coupling
range against Wiley, Strogatz & Girvan (2006).
"""

from __future__ import annotations

import numpy as np
import pytest

import usaav
from usaav import kernels
from usaav.kernels import periodic_distance
from usaav.twisted import (
    circle_winding,
    normal_eigenvalues,
    stability_margin,
    stability_table,
    stable_twists,
    trapping_fraction,
    twist_distance,
    twisted_eigenvalues,
    twisted_state,
)


class BoxWeight:
    """w = 1 within periodic distance kappa, else 0: k = kappa n nearest neighbours on each side (WSG 2006)."""

    def __init__(self, kappa):
        self.kappa = kappa

    def __call__(self, a, b):
        return (periodic_distance(a, b) <= self.kappa + 1e-12).astype(float)


def _angle_velocity(kernel, theta):
    """dθ_i/dt' from usaav.velocity (rescaled clock): the tangential component of v_i at x_i."""
    X = np.c_[np.cos(theta), np.sin(theta)]
    V = usaav.velocity(kernel, X, np.arange(len(theta)) / len(theta), clock="rescaled")
    return -np.sin(theta) * V[:, 0] + np.cos(theta) * V[:, 1]


KERNELS = [
    kernels.DistanceBias(2.0, 0.05),
    kernels.DistanceBias(0.5, 0.08),
    kernels.DistanceBias(1.0, 0.1, "gaussian"),
    kernels.Separated(0.7, BoxWeight(0.1)),
]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: repr(k)[:40])
@pytest.mark.parametrize("q", [0, 1, 3])
def test_twisted_state_is_an_equilibrium(kernel, q):
    # Round-off: sums of 30 terms of size <= 1.
    np.testing.assert_allclose(_angle_velocity(kernel, 2 * np.pi * q * np.arange(30) / 30), 0.0, atol=1e-14)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: repr(k)[:40])
@pytest.mark.parametrize("q", [0, 1, 2, 5])
def test_circle_eigenvalues_match_a_finite_difference_jacobian(kernel, q):
    n = 24
    theta = 2 * np.pi * q * np.arange(n) / n
    h = 1e-6  # central differences: error ~h^2 * third derivative, far below 1e-9
    J = np.column_stack([(_angle_velocity(kernel, theta + h * e) - _angle_velocity(kernel, theta - h * e)) / (2 * h)
                         for e in np.eye(n)])
    np.testing.assert_allclose(J, J.T, atol=1e-9)  # gradient flow: symmetric Jacobian
    np.testing.assert_allclose(np.sort(twisted_eigenvalues(kernel, n, q)), np.linalg.eigvalsh(J), atol=1e-9)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: repr(k)[:40])
@pytest.mark.parametrize("q", [1, 2])
def test_sphere_normal_eigenvalues_match_a_finite_difference_jacobian(kernel, q):
    # The twisted state on the equator of S^2; heights z_i, x_i = normalize(cos, sin, z).
    n = 24
    theta = 2 * np.pi * q * np.arange(n) / n
    aux = np.arange(n) / n

    def flow(z):
        X = usaav.normalize(np.c_[np.cos(theta), np.sin(theta), z])
        V = usaav.velocity(kernel, X, aux, clock="rescaled")
        return V[:, 2], -np.sin(theta) * V[:, 0] + np.cos(theta) * V[:, 1]

    h = 1e-6
    columns = [(flow(h * e)[0] - flow(-h * e)[0]) / (2 * h) for e in np.eye(n)]
    coupling = [(flow(h * e)[1] - flow(-h * e)[1]) / (2 * h) for e in np.eye(n)]
    J = np.column_stack(columns)
    np.testing.assert_allclose(np.sort(normal_eigenvalues(kernel, n, q)), np.sort(np.linalg.eigvals(J).real),
                               atol=1e-9)
    # x3 -> -x3 symmetry: heights do not move the angles at first order.
    np.testing.assert_allclose(np.column_stack(coupling), 0.0, atol=1e-9)


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda k: repr(k)[:40])
def test_every_twist_is_unstable_on_the_sphere_and_the_lift_is_the_fastest_mode(kernel):
    n = 30
    for q in (1, 2, 4):
        mu = normal_eigenvalues(kernel, n, q)
        assert mu[0] > 0 and mu[0] == pytest.approx(mu.max(), rel=1e-12)
        assert abs(mu[q]) < 1e-15 and abs(mu[n - q]) < 1e-15  # tilting the plane: a rotation
    assert np.all(normal_eigenvalues(kernel, n, 0)[1:] < 0)  # the collapsed state is stable


def test_critical_neighbourhood_of_the_one_twist_is_that_of_wiley_strogatz_girvan():
    # WSG 2006: for beta -> 0 (sin coupling) and k nearest neighbours on each side, the 1-twisted
    # state is stable for k/n below about 0.34. Bisect on kappa = k/n with n = 600 (grid step 1/600).
    n, lo, hi = 600, 0.2, 0.45
    for _ in range(20):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if stability_margin(kernels.Separated(1e-6, BoxWeight(mid)), n, 1) < 0 else (lo, mid)
    assert lo == pytest.approx(0.34, abs=0.005)


def test_stable_twists_shrink_as_the_correlation_length_or_beta_grow():
    rows = {(r["length"], r["beta"]): r["largest_stable_q"] for r in stability_table(
        lengths=(0.02, 0.05, 0.4), betas=(1.0, 2.0, 4.0), n=60)}
    assert rows[(0.02, 1.0)] >= rows[(0.05, 1.0)] >= rows[(0.4, 1.0)] == 0
    assert rows[(0.02, 1.0)] >= rows[(0.02, 2.0)] >= rows[(0.02, 4.0)]
    assert rows[(0.05, 2.0)] == 1


def _perturbed_twist(n, q, size, seed):
    theta = 2 * np.pi * q * np.arange(n) / n + size * np.random.default_rng(seed).standard_normal(n)
    return np.c_[np.cos(theta), np.sin(theta)]


def test_a_stable_twisted_state_stays_twisted_under_the_flow():
    kernel, n = kernels.DistanceBias(0.5, 0.08), 30
    assert 1 in stable_twists(kernel, n)
    X0 = _perturbed_twist(n, 1, 0.2, 0)
    run = usaav.simulate(kernel, X0, np.arange(n) / n, 400.0, dt=0.2, clock="rescaled", record_every=500)
    assert [circle_winding(X) for X in run.X] == [1.0] * len(run.t)
    assert twist_distance(run.final, 1) < 0.2 * twist_distance(X0, 1)
    assert usaav.collapse_gap(run.final) > 0.99


def test_an_unstable_twisted_state_leaves():
    kernel, n = kernels.DistanceBias(0.5, 0.08), 30
    assert stability_margin(kernel, n, 3) > 0
    run = usaav.simulate(kernel, _perturbed_twist(n, 3, 0.01, 1), np.arange(n) / n, 400.0, dt=0.2,
                         clock="rescaled", record_every=100)
    windings = [circle_winding(X) for X in run.X]
    assert windings[0] == 3.0 and abs(windings[-1]) < 3


@pytest.mark.slow
def test_the_stable_circle_twist_escapes_on_the_sphere_at_the_predicted_rate():
    kernel, n = kernels.DistanceBias(0.5, 0.08), 30
    assert 1 in stable_twists(kernel, n)
    mu0 = normal_eigenvalues(kernel, n, 1)[0]
    theta = 2 * np.pi * np.arange(n) / n
    aux = np.arange(n) / n

    def lifted(lift):  # the k = 0 mode alone: every point lifted by the same height
        return usaav.normalize(np.c_[np.cos(theta), np.sin(theta), np.full(n, lift)])

    run = usaav.simulate(kernel, lifted(1e-6), aux, 100.0, dt=0.1, clock="rescaled", record_every=1000)
    growth = np.log(run.final[:, 2].mean() / 1e-6) / run.t[-1]
    # Linear regime (heights < 1e-4): the growth rate is mu_0 (Heun error ~dt^2, far below 1e-3).
    assert growth == pytest.approx(mu0, rel=1e-3)
    # The same twisted state, lifted by 1e-2, collapses on S^2; on S^1 it stays (it is stable there).
    sphere = usaav.simulate(kernel, lifted(1e-2), aux, 1000.0, dt=0.25, clock="rescaled", record_every=4000)
    circle = usaav.simulate(kernel, lifted(0.0)[:, :2], aux, 1000.0, dt=0.25, clock="rescaled", record_every=4000)
    assert usaav.collapse_gap(sphere.final) < 1e-6
    assert circle_winding(circle.final) == 1.0 and usaav.collapse_gap(circle.final) > 0.99


def test_trapping_fraction_on_an_unlifted_sphere_repeats_the_circle_runs():
    # Without a lift the equator is invariant: the S^2 runs are the S^1 runs (same windings, same gaps).
    kwargs = dict(lengths=(0.05, 0.2), n=24, beta=0.5, t_max=60.0, seeds=range(3))
    circle = trapping_fraction(**kwargs)
    flat = trapping_fraction(**kwargs, sphere=True, lift=0.0)
    np.testing.assert_array_equal(circle.final_winding, flat.final_winding)
    np.testing.assert_allclose(circle.final_gap, flat.final_gap, atol=1e-12)
    assert circle.trapped.shape == (2, 3)
    # trapped => winding != 0, stable, close to the twisted state
    for i, ell in enumerate(circle.lengths):
        stable = set(stable_twists(kernels.DistanceBias(0.5, ell), 24).tolist())
        for r in range(3):
            if circle.trapped[i, r]:
                q = int(circle.final_winding[i, r])
                assert q != 0 and abs(q) in stable and circle.twist_distance[i, r] < circle.params["tolerance"]


@pytest.mark.parametrize("q", [-3, -1, 0, 2, 5])
def test_circle_winding_counts_the_twist_and_ignores_the_row_order_given_positions(q):
    n = 20
    X = twisted_state(n, q, phase=0.4)
    assert circle_winding(X) == q
    order = np.random.default_rng(q + 10).permutation(n)
    assert circle_winding(X[order], (np.arange(n) / n)[order]) == q


def test_circle_winding_of_a_collapsed_or_clustered_state_is_zero():
    assert circle_winding(np.tile([[0.6, 0.8]], (7, 1))) == 0.0
    # Two clusters (no point crosses the antipode between neighbours): winding 0 although uncollapsed.
    X = np.r_[np.tile([[1.0, 0.0]], (5, 1)), np.tile([[-0.6, 0.8]], (5, 1))]
    assert circle_winding(X) == 0.0 and usaav.collapse_gap(X) > 0.5


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: twisted_eigenvalues(kernels.RoPE(1.0), 10, 1), TypeError),
        (lambda: twisted_eigenvalues(kernels.DistanceBias(1.0, 0.1), 1, 1), ValueError),
        (lambda: twisted_eigenvalues(kernels.DistanceBias(1.0, 0.1), 10, 1.5), TypeError),
        (lambda: twisted_eigenvalues(kernels.Separated(1.0, lambda a, b: np.add.outer(a, b)), 10, 1), ValueError),
        (lambda: trapping_fraction(lengths=(-0.1,)), ValueError),
        (lambda: trapping_fraction(seeds=[1.5]), ValueError),
        (lambda: circle_winding(np.zeros(3)), ValueError),
    ],
)
def test_bad_input_is_refused(call, error):
    with pytest.raises(error):
        call()
