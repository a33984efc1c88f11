"""The reduced k-point flow of metastable clusters (usaav.reduced) and the merger times it predicts (MODEL.md §4, Thm. 5 row; §6).

Fast tests, each against an independent computation: solve_ivp with an event,
the quadrature of the reduced two-point flow, a union-find written out here.
The merger-time tests are the ones tests/mutants.py runs for the merger-time
mutations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.special import exp1, expi

from usaav import normalize, uniform_sphere
from usaav.experiments.metastability import cluster_centres, metastability_piece
from usaav.observables import count_clusters
from usaav.reduced import laplace_merger_time, reduced_first_merger, reduced_merger_time


def _point_cluster_T1(beta, separation, dt):
    """First merger time of the particle experiment with caps of radius 1e-7: the clusters are points."""
    k = 2 if np.ndim(separation) == 0 else len(separation) + 1
    run = metastability_piece(
        beta=beta, seed=0, n_clusters=k, cluster_size=2, cap_radius=1e-7, separation=separation, dt=dt,
        merge_angle=0.1, record_every=10**6, t_max=1e4, until="first")
    return float(run["merger_times"][0]), float(run["initial_angle"])


@pytest.mark.parametrize("beta", [2.0, 6.0])
def test_first_merger_time_of_point_clusters_is_the_quadrature_to_second_order_in_the_step(beta):
    # Point clusters follow the reduced 2-point flow, whose T1 is the quadrature (Thm. 5 (3)).  Heun and the
    # linear interpolation of the crossing inside the step are both second order.  Measured |T1 / T1_red - 1|
    # at dt = 0.05: 3.4e-4 (beta 2), 1.3e-4 (beta 6); Richardson (4 T(dt/2) - T(dt)) / 3: 2.9e-6, 3.3e-6.
    # Without the interpolation (T1 = dt * step) the errors are 1.2 % and 0.7 % at dt = 0.05.
    coarse, angle = _point_cluster_T1(beta, 1.0, 0.05)
    fine, _ = _point_cluster_T1(beta, 1.0, 0.025)
    exact = reduced_merger_time(beta, angle, 0.1)
    assert abs(coarse / exact - 1) < 1e-3
    assert abs((4 * fine - coarse) / 3 / exact - 1) < 1e-5


def _reduced_flow_T1_by_solve_ivp(beta, C, W, merge_angle):
    """Independent: the reduced k-point flow written as loops, DOP853 with an event on the smallest angle."""
    k = len(C)

    def field(t, y):
        M = y.reshape(k, 3)
        V = np.zeros_like(M)
        for a in range(k):
            for b in range(k):
                V[a] += W[a][b] * math.exp(beta * (M[a] @ M[b] - 1)) * M[b]
            V[a] -= (M[a] @ V[a]) * M[a]
        return V.ravel()

    def merged(t, y):
        M = y.reshape(k, 3) / np.linalg.norm(y.reshape(k, 3), axis=1, keepdims=True)
        return min(math.acos(min(1.0, M[a] @ M[b])) for a in range(k) for b in range(a + 1, k)) - merge_angle

    merged.terminal = True
    sol = solve_ivp(field, (0, 1e4), np.ravel(C), events=merged, method="DOP853", rtol=1e-12, atol=1e-13)
    return sol.t_events[0][0]


def test_first_merger_of_three_point_clusters_and_of_the_reduced_flow_is_second_order_in_the_step():
    # Three clusters (gaps 0.8, 1.2; no closed form): the reduced k-point flow of usaav.reduced and the particle
    # experiment with point caps against solve_ivp.  Measured |T1 / T1_ode - 1| at dt = 0.05: 1.1e-4 (both);
    # Richardson error 3.6e-6.  Without the interpolation: 0.85 %.
    beta, gaps = 4.0, (0.8, 1.2)
    C = cluster_centres(3, gaps)
    W = np.full((3, 3), 1 / 3)
    exact = _reduced_flow_T1_by_solve_ivp(beta, C, W, 0.1)
    reduced = [reduced_first_merger(beta, C, W, dt, 0.1, 1e4) for dt in (0.05, 0.025)]
    particles = [_point_cluster_T1(beta, gaps, dt)[0] for dt in (0.05, 0.025)]
    for coarse, fine in (reduced, particles):
        assert abs(coarse / exact - 1) < 5e-4
        assert abs((4 * fine - coarse) / 3 / exact - 1) < 1e-5


def _groups_by_union_find(centres, merge_angle):
    """Independent: components of the graph joining centres whose angle (arccos of the dot) is below merge_angle."""
    k = len(centres)
    parent = list(range(k))

    def root(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for a in range(k):
        for b in range(a + 1, k):
            if math.acos(min(1.0, max(-1.0, float(centres[a] @ centres[b])))) < merge_angle:
                parent[root(a)] = root(b)
    return len({root(a) for a in range(k)})


def test_merged_groups_of_centres_are_count_clusters_at_the_chord_of_the_merge_angle():
    # The experiment counts groups with count_clusters(centres, 2 sin(delta/2)): the same components as
    # joining centres at angle < delta (chord = 2 sin(angle/2) is increasing), away from round-off ties.
    rng = np.random.default_rng(7)
    compared = 0
    for _ in range(400):
        k = int(rng.integers(2, 7))
        merge_angle = float(rng.uniform(0.05, 0.5))
        anchors = uniform_sphere(int(rng.integers(1, k + 1)), 3, rng)
        C = normalize(anchors[rng.integers(0, len(anchors), k)] + rng.normal(0, merge_angle, (k, 3)))
        angles = [math.acos(min(1.0, max(-1.0, float(C[a] @ C[b])))) for a in range(k) for b in range(a + 1, k)]
        if min(abs(np.array(angles) - merge_angle)) < 1e-9:
            continue
        compared += 1
        assert count_clusters(C, 2 * math.sin(merge_angle / 2)) == _groups_by_union_find(C, merge_angle)
    assert compared > 350


@pytest.mark.parametrize("beta", [2.0, 10.0, 40.0])
@pytest.mark.parametrize("gap", [0.7, 1.0, 1.3])
def test_reduced_merger_time_is_the_exponential_integral_closed_form(beta, gap):
    # Independent (chapter 7): with u = 1 - cos, the integral is that of e^{beta u} / (u (2 - u)); partial fractions
    # give (Ei(beta u0) - Ei(beta u_delta)) / 2 + e^{2 beta} (E1(beta (2 - u0)) - E1(beta (2 - u_delta))) / 2.
    # The quadrature is asked for 1e-12 (relative); measured agreement 1e-15.
    u0, u1 = 1 - math.cos(gap), 1 - math.cos(0.1)
    closed = 0.5 * (expi(beta * u0) - expi(beta * u1)) + 0.5 * math.exp(2 * beta) * (
        exp1(beta * (2 - u0)) - exp1(beta * (2 - u1)))
    assert reduced_merger_time(beta, gap, 0.1) == pytest.approx(closed, rel=1e-11)


@pytest.mark.parametrize("gap", [0.7, 1.0, 1.3])
def test_laplace_merger_time_error_times_beta_squared_tends_to_the_next_coefficient(gap):
    # Laplace's method (chapter 7): T_red = L (1 + 2 cos / (beta S) + (2 / S + 8 cos^2 / S^2) / beta^2 + ...),
    # S = sin^2 gap, and laplace_merger_time keeps two terms, so (T_red / T_laplace - 1) beta^2 tends to the
    # third coefficient like 1/beta.  Measured relative distance at beta = 400: 1.2 % (gap 1), so 3 %.
    S, cos = math.sin(gap) ** 2, math.cos(gap)
    coefficient = 2 / S + 8 * cos**2 / S**2
    scaled = [(reduced_merger_time(b, gap, 0.1) / laplace_merger_time(b, gap) - 1) * b * b for b in (100.0, 200.0, 400.0)]
    distances = [abs(x / coefficient - 1) for x in scaled]
    assert distances[2] < distances[1] < distances[0] and distances[2] < 0.03


@pytest.mark.parametrize("kwargs", [dict(beta=0.0, angle=1.0), dict(beta=5.0, angle=0.0), dict(beta=5.0, angle=math.pi),
                                    dict(beta=5.0, angle=1.0, coupling=-1.0), dict(beta=float("nan"), angle=1.0)])
def test_laplace_merger_time_refuses_bad_input_naming_the_argument(kwargs):
    with pytest.raises(ValueError, match="beta|angle|coupling"):
        laplace_merger_time(**kwargs)
