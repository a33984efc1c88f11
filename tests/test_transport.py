"""Tests of usaav.transport: exact Wasserstein distances between empirical laws, any sizes."""

import numpy as np
import pytest
from scipy.optimize import linprog

from usaav.transport import MAX_COST_ENTRIES, wasserstein


def _wasserstein_by_linear_program(X, Y, p, label_cost=None):
    """Independent reference: solve the transport LP min <C, π> over couplings with scipy.linprog."""
    n, m = len(X), len(Y)
    cost = np.sum((X[:, None, :] - Y[None, :, :]) ** 2, axis=-1)
    if label_cost is not None:
        cost = cost + label_cost
    if p == 1:
        cost = np.sqrt(cost)
    rows = np.kron(np.eye(n), np.ones((1, m)))  # sum_j π_ij = 1/n
    cols = np.kron(np.ones((1, n)), np.eye(m))  # sum_i π_ij = 1/m
    A_eq = np.vstack([rows, cols])
    b_eq = np.r_[np.full(n, 1 / n), np.full(m, 1 / m)]
    result = linprog(cost.ravel(), A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    assert result.success
    return result.fun if p == 1 else np.sqrt(result.fun)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("n, m", [(4, 4), (3, 6), (4, 6), (5, 2), (7, 11), (13, 5)])
def test_matches_transport_linear_program(n, m, p):
    rng = np.random.default_rng(10 * n + m)
    X, Y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
    # Tolerance: HiGHS solves the LP to about 1e-9 relative accuracy.
    assert wasserstein(X, Y, p=p) == pytest.approx(_wasserstein_by_linear_program(X, Y, p), rel=1e-7)


@pytest.mark.parametrize("kappa", [0.0, 0.5, 2.0])
def test_label_cost_matches_linear_program_with_periodic_distance(kappa):
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(6, 2))
    a, b = rng.uniform(size=4), rng.uniform(size=6)
    r = np.abs(a[:, None] - b[None, :])
    torus = np.minimum(r, 1 - r)  # periodic distance, written out independently
    expected = _wasserstein_by_linear_program(X, Y, 2, label_cost=(kappa * torus) ** 2)
    assert wasserstein(X, Y, a, b, aux_weight=kappa) == pytest.approx(expected, rel=1e-7)


def test_one_dimensional_laws_are_matched_in_sorted_order():
    # On the line, the optimal coupling of two equal-size empirical laws is monotone.
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=50), rng.normal(loc=0.3, size=50)
    expected = np.sqrt(np.mean((np.sort(x) - np.sort(y)) ** 2))
    assert wasserstein(x[:, None], y[:, None]) == pytest.approx(expected, rel=1e-12)


def test_distance_between_two_diracs_is_the_ground_distance():
    x, y = np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]])
    assert wasserstein(x, y) == pytest.approx(np.sqrt(2.0), rel=1e-15)
    assert wasserstein(x, y, p=1) == pytest.approx(np.sqrt(2.0), rel=1e-15)


def test_law_is_invariant_under_reordering_and_replication():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(8, 3))
    assert wasserstein(X, X[rng.permutation(8)]) == 0.0
    assert wasserstein(X, np.tile(X, (3, 1))) == pytest.approx(0.0, abs=1e-12)


def test_symmetric_and_triangle_inequality():
    rng = np.random.default_rng(11)
    X, Y, Z = (rng.normal(size=(6, 3)) for _ in range(3))
    assert wasserstein(X, Y) == pytest.approx(wasserstein(Y, X), rel=1e-12)
    assert wasserstein(X, Z) <= wasserstein(X, Y) + wasserstein(Y, Z) + 1e-12


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(X=np.zeros((3, 2)), Y=np.zeros((3, 3))), ValueError),
        (dict(X=np.zeros((3, 2)), Y=np.zeros((3, 2)), p=3), ValueError),
        (dict(X=np.zeros((3, 2)), Y=np.zeros((3, 2)), aux_X=np.zeros(3)), TypeError),
        (dict(X=np.zeros((3, 2)), Y=np.full((3, 2), np.nan)), ValueError),
        (dict(X=np.zeros((MAX_COST_ENTRIES // 2 + 1, 1)), Y=np.zeros((2, 1))), ValueError),
    ],
)
def test_bad_input_is_refused(kwargs, error):
    with pytest.raises(error):
        wasserstein(**kwargs)


def test_coprime_sizes_beyond_the_old_lcm_limit_match_the_linear_program():
    # n = 61, m = 89: lcm = 5429 > 4096, which the former replicate-to-lcm method refused.
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(61, 2)), rng.normal(size=(89, 2))
    # Tolerance: HiGHS solves the LP to about 1e-9 relative accuracy.
    assert wasserstein(X, Y) == pytest.approx(_wasserstein_by_linear_program(X, Y, 2), rel=1e-7)


def test_unequal_sizes_with_labels_match_the_linear_program():
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(9, 3)), rng.normal(size=(14, 3))
    a, b = rng.uniform(size=9), rng.uniform(size=14)
    r = np.abs(a[:, None] - b[None, :])
    expected = _wasserstein_by_linear_program(X, Y, 2, label_cost=np.minimum(r, 1 - r) ** 2)
    assert wasserstein(X, Y, a, b) == pytest.approx(expected, rel=1e-7)


def test_equal_points_give_exactly_zero():
    # The cost is summed coordinate by coordinate, never as |x|^2 + |y|^2 - 2<x, y>,
    # so equal laws give exactly 0 (a cancellation error would show up as ~1e-8 after the sqrt).
    rng = np.random.default_rng(9)
    X = rng.normal(size=(20, 3))
    assert wasserstein(X, X[rng.permutation(20)]) == 0.0


def test_nested_law_distances_compare_prefix_systems_with_the_reference():
    import usaav
    from usaav import kernels
    from usaav.transport import nested_law_distances

    rng = np.random.default_rng(2)
    X = usaav.uniform_sphere(16, 3, rng)
    a = rng.uniform(size=16)
    kernel = kernels.RoPE(1.0)
    result = nested_law_distances(kernel, X, a, [4, 8, 16], t_max=1.0, record_every=10)
    assert result.distances.shape == (3, len(result.t))
    # The full-size "subsystem" is the reference itself.
    np.testing.assert_allclose(result.distances[-1], 0.0, atol=1e-12)
    # At t = 0 the distances are those of the initial prefixes, computed directly.
    for row, m in enumerate([4, 8]):
        assert result.distances[row, 0] == pytest.approx(wasserstein(X[:m], X, a[:m], a), rel=1e-12)
    # A later frame: simulate the prefix independently and compare.
    run = usaav.simulate(kernel, X[:8], a[:8], 1.0, record_every=10)
    ref = usaav.simulate(kernel, X, a, 1.0, record_every=10)
    assert result.distances[1, -1] == pytest.approx(wasserstein(run.final, ref.final, a[:8], a), rel=1e-12)


def test_nested_law_distances_refuses_sizes_beyond_the_reference():
    import usaav
    from usaav import kernels
    from usaav.transport import nested_law_distances

    with pytest.raises(ValueError):
        nested_law_distances(kernels.USA(1.0), usaav.uniform_sphere(8, 3, 0), None, [16], t_max=1.0)
