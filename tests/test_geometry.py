r"""Sphere geometry, labels and collapse observables (MODEL.md §1, §6).

Each identity is checked against the defining formula written in the test
(entry-by-entry rotation matrices, double loops over pairs).
"""

from __future__ import annotations

import numpy as np
import pytest

import usaav
from usaav import kernels, labels
from scipy import stats

from usaav.sphere import haar_rotations, rotate_in_plane, sphere_drift
from references import (
    ALL_CASES,
    gram_schmidt_rotations,
    plane_rotation,
    prompt_gauges,
    random_orthogonal,
    random_sphere,
    torus_distance,
)

#: Geometry identities involve a handful of flops per entry: a few ulps.
ULP_TOL = 1e-14

PLANES = [(0, 1), (1, 0), (0, 2), (2, 1), (3, 0)]


@pytest.mark.parametrize("plane", PLANES)
@pytest.mark.parametrize("d", [4, 5])
def test_rotation_matches_model_convention(plane, d):
    """R e_i = cos φ e_i + sin φ e_j, R e_j = -sin φ e_i + cos φ e_j, identity elsewhere (MODEL.md §1)."""
    angle = 0.83
    i, j = plane
    R = usaav.rotation(angle, d, plane)
    e = np.eye(d)

    np.testing.assert_allclose(R @ e[i], np.cos(angle) * e[i] + np.sin(angle) * e[j], atol=ULP_TOL)
    np.testing.assert_allclose(R @ e[j], -np.sin(angle) * e[i] + np.cos(angle) * e[j], atol=ULP_TOL)
    for k in set(range(d)) - {i, j}:
        np.testing.assert_array_equal(R @ e[k], e[k])


@pytest.mark.parametrize("plane", [(0, 1), (2, 0)])
def test_rotation_is_orthogonal_with_determinant_one_and_additive_in_angle(plane):
    """R_a R_b = R_{a+b}, R^T R = I, det R = 1."""
    a, b = 0.4, -1.9
    Ra, Rb = usaav.rotation(a, 3, plane), usaav.rotation(b, 3, plane)

    np.testing.assert_allclose(Ra @ Rb, usaav.rotation(a + b, 3, plane), atol=ULP_TOL)
    np.testing.assert_allclose(Ra.T @ Ra, np.eye(3), atol=ULP_TOL)
    assert np.linalg.det(Ra) == pytest.approx(1.0, abs=ULP_TOL)


def test_rotation_of_an_array_of_angles_stacks_the_matrices():
    """An angle array of shape s gives s + (d, d), each equal to the scalar-angle matrix."""
    angles = np.array([[0.1, 2.0, -0.5], [3.0, 0.0, 1.0]])
    R = usaav.rotation(angles, 4, (1, 3))

    assert R.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(R[1, 2], plane_rotation(1.0, 4, (1, 3)), atol=ULP_TOL)


@pytest.mark.parametrize("plane", [(0, 1), (2, 0)])
def test_rotate_in_plane_equals_rotation_matrix_product(plane):
    """rotate_in_plane(X, φ, plane)[k] = R_{φ_k} x_k (the O(n) shortcut used by the RoPE gauge)."""
    rng = np.random.default_rng(1)
    X = random_sphere(7, 3, rng)
    angles = rng.uniform(-4, 4, 7)

    expected = np.stack([plane_rotation(a, 3, plane) @ x for a, x in zip(angles, X)])

    np.testing.assert_allclose(rotate_in_plane(X, angles, plane), expected, atol=ULP_TOL)


def test_normalize_projects_rows_radially():
    """normalize(c x) = x for c > 0, also for rows so large that |x|² overflows."""
    rng = np.random.default_rng(2)
    X = random_sphere(6, 4, rng)
    scales = np.array([1e-200, 1e-3, 1.0, 7.0, 1e200, 1e300])[:, None]

    np.testing.assert_allclose(usaav.normalize(scales * X), X, atol=ULP_TOL)


def test_project_tangent_is_orthogonal_projection():
    """P_x v ⊥ x, P_x P_x v = P_x v, and v - P_x v is parallel to x (MODEL.md §1)."""
    rng = np.random.default_rng(3)
    X = random_sphere(10, 5, rng)
    V = rng.standard_normal((10, 5))

    P = usaav.project_tangent(X, V)

    np.testing.assert_allclose(np.sum(P * X, axis=1), 0.0, atol=ULP_TOL)
    np.testing.assert_allclose(usaav.project_tangent(X, P), P, atol=ULP_TOL)
    normal = V - P
    np.testing.assert_allclose(normal, np.sum(V * X, axis=1)[:, None] * X, atol=ULP_TOL)


@pytest.mark.parametrize("d", [2, 3, 4, 7, 8, 11])
def test_row_wise_reductions_give_numpys_bits_for_a_batch_and_for_each_system(d):
    """normalize, project_tangent and sphere_drift equal NumPy's own reductions along the last axis bit for bit.

    Many short rows are combined one column at a time (usaav.sphere,
    _by_columns): here the batch of 3 × 100 rows is, each system of 100 rows
    is not.  The reference is the plain ``np.sum``/``np.linalg.norm``/``np.max``
    formula.
    """
    rng = np.random.default_rng(d)
    X = rng.standard_normal((3, 100, d)) * np.exp(rng.uniform(-30, 30, (3, 100, 1)))
    V = rng.standard_normal((3, 100, d))
    scaled = X / np.max(np.abs(X), axis=-1, keepdims=True)
    unit = scaled / np.linalg.norm(scaled, axis=-1, keepdims=True)
    tangent = V - np.sum(unit * V, axis=-1, keepdims=True) * unit

    assert np.array_equal(usaav.normalize(X), unit)
    for b in range(3):
        assert np.array_equal(usaav.normalize(X[b]), unit[b])
        assert np.array_equal(usaav.project_tangent(unit[b], V[b]), tangent[b])
    assert np.array_equal(usaav.project_tangent(unit.reshape(-1, d), V.reshape(-1, d)), tangent.reshape(-1, d))
    off = 1.25 * unit
    assert sphere_drift(off) == np.max(np.abs(np.linalg.norm(off, axis=-1) - 1.0))


def test_sphere_drift_is_largest_radial_deviation():
    X = np.array([[1.0, 0.0], [0.0, 1.001], [0.6, 0.8]])
    assert sphere_drift(X) == pytest.approx(0.001, abs=ULP_TOL)


@pytest.mark.parametrize("d", [2, 3, 6])
def test_uniform_sphere_draws_reproducible_unit_rows_with_zero_mean(d):
    """Unit rows, same seed -> same points, mean ~ 0 (E x = 0 for the uniform law)."""
    X = usaav.uniform_sphere(20000, d, rng=5)

    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=ULP_TOL)
    np.testing.assert_array_equal(X, usaav.uniform_sphere(20000, d, rng=np.random.default_rng(5)))
    # Each coordinate has variance 1/d, so the mean of 20000 has standard
    # deviation <= 1/sqrt(2 * 20000) = 0.005; 0.03 is six standard deviations.
    assert np.max(np.abs(X.mean(axis=0))) < 0.03
    # E x_k^2 = 1/d by symmetry; the sample second moment has sd < 0.005.
    np.testing.assert_allclose(np.mean(X**2, axis=0), 1.0 / d, atol=0.03)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_haar_rotations_are_orthogonal_with_determinant_one(d):
    Q = haar_rotations(500, d, rng=3)
    assert Q.shape == (500, d, d)
    np.testing.assert_allclose(np.einsum("pki,pkj->pij", Q, Q), np.broadcast_to(np.eye(d), Q.shape), atol=1e-13)
    np.testing.assert_allclose(np.linalg.det(Q), 1.0, atol=1e-13)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_haar_rotations_are_gram_schmidt_of_the_generators_normals(d):
    """Seed -> rotations depends on NumPy's normals only: Gram–Schmidt of the same draws, det fixed."""
    expected = gram_schmidt_rotations(np.random.default_rng(11).standard_normal((7, d, d)))
    np.testing.assert_allclose(haar_rotations(7, d, rng=11), expected, atol=1e-12)
    np.testing.assert_array_equal(haar_rotations(7, d, rng=11), haar_rotations(7, d, np.random.default_rng(11)))


def test_haar_rotations_of_the_plane_have_uniform_angles():
    """On SO(2) the Haar law is the uniform law of the rotation angle on [0, 2π)."""
    Q = haar_rotations(4000, 2, rng=4)
    angles = np.arctan2(Q[:, 1, 0], Q[:, 0, 0]) % (2 * np.pi)
    assert stats.kstest(angles, stats.uniform(0, 2 * np.pi).cdf).pvalue > 1e-3


def test_haar_rotations_of_space_have_the_haar_angle_law_and_uniform_axes():
    r"""SO(3): the rotation angle ω has density (1 − cos ω)/π on [0, π], so F(ω) = (ω − sin ω)/π,
    and every column is uniform on S², so each coordinate of a column is uniform on [−1, 1] (Archimedes)."""
    Q = haar_rotations(4000, 3, rng=5)
    omega = np.arccos(np.clip((np.trace(Q, axis1=1, axis2=2) - 1) / 2, -1, 1))
    assert stats.kstest(omega, lambda w: (w - np.sin(w)) / np.pi).pvalue > 1e-3
    for column in range(3):
        for coordinate in range(3):
            assert stats.kstest(Q[:, coordinate, column], stats.uniform(-1, 2).cdf).pvalue > 1e-3


@pytest.mark.parametrize("d", [3, 6])
def test_haar_rotations_have_the_trace_moments_of_the_haar_law(d):
    """E tr Q = 0 and E (tr Q)² = 1 on SO(d), d ≥ 3 (Diaconis and Shahshahani); 4000 draws, 5 standard errors."""
    trace = np.trace(haar_rotations(4000, d, rng=6), axis1=1, axis2=2)
    assert abs(trace.mean()) < 5 * trace.std() / np.sqrt(len(trace))
    assert np.mean(trace**2) == pytest.approx(1.0, abs=5 * np.std(trace**2) / np.sqrt(len(trace)))


def test_haar_rotations_refuse_bad_input():
    with pytest.raises(ValueError, match="m must"):
        haar_rotations(0, 3, rng=0)
    with pytest.raises(ValueError, match="d must"):
        haar_rotations(2, 1, rng=0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        haar_rotations(2, 3, rng=None)


def test_grid_positions_and_replicate():
    """s_l = l/L (MODEL.md §6.1); replicate repeats each label in a block."""
    np.testing.assert_allclose(labels.grid_positions(5), [0.0, 0.2, 0.4, 0.6, 0.8])
    np.testing.assert_array_equal(labels.replicate([3, 7], 3), [3, 3, 3, 7, 7, 7])


def test_periodic_distance_is_the_torus_distance():
    """d(a, b) = min(|a-b| mod 1, 1 - |a-b| mod 1), outer over a and b."""
    rng = np.random.default_rng(6)
    a, b = rng.random(5), rng.random(4)

    expected = np.array([[torus_distance(x, y) for y in b] for x in a])

    np.testing.assert_allclose(kernels.periodic_distance(a, b), expected, atol=ULP_TOL)


# --------------------------------------------------------------------------
# Observables of MODEL.md §6 against their defining double sums
# --------------------------------------------------------------------------


def test_collapse_gap_equals_mean_squared_pair_distance():
    """Γ(X) = (1/2n²) Σ_ij |x_i - x_j|² = 1 - |mean x|² (MODEL.md §6)."""
    rng = np.random.default_rng(7)
    X = random_sphere(15, 3, rng)
    n = len(X)

    pairs = sum(np.sum((X[i] - X[j]) ** 2) for i in range(n) for j in range(n)) / (2 * n * n)

    assert usaav.collapse_gap(X) == pytest.approx(pairs, rel=1e-13)
    assert usaav.collapse_gap(X) == pytest.approx(1.0 - np.sum(X.mean(axis=0) ** 2), rel=1e-13)


def test_collapse_gap_of_frames_is_per_frame_and_zero_when_collapsed():
    rng = np.random.default_rng(8)
    spread = random_sphere(9, 3, rng)
    collapsed = np.tile(spread[:1], (9, 1))

    values = usaav.collapse_gap(np.stack([spread, collapsed]))

    assert values.shape == (2,)
    assert values[0] == pytest.approx(usaav.collapse_gap(spread))
    # The mean of 9 equal numbers is within an ulp of them: gap ~ (1e-16)^2.
    assert values[1] < 1e-28


def test_conditional_diameter_equals_double_loop_over_equal_labels():
    """max over labels a of max_{a_i = a_j = a} |x_i - x_j| (MODEL.md §6)."""
    rng = np.random.default_rng(9)
    X = random_sphere(24, 3, rng)
    aux = rng.integers(0, 5, 24)

    expected = max(
        np.linalg.norm(X[i] - X[j]) for i in range(24) for j in range(24) if aux[i] == aux[j]
    )

    assert usaav.conditional_diameter(X, aux) == pytest.approx(expected, rel=1e-14)


def test_conditional_diameter_vanishes_for_points_determined_by_their_label():
    """x_i a function of a_i only (Thm. 3's conditional Dirac) -> 0, though the points differ across labels."""
    rng = np.random.default_rng(10)
    per_label = random_sphere(4, 3, rng)
    aux = rng.permutation(np.repeat(np.arange(4), 5))
    X = per_label[aux]

    assert usaav.conditional_diameter(X, aux) == 0.0
    assert usaav.collapse_gap(X) > 0.1


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.name)
def test_gauge_frame_is_G_and_from_gauge_frame_is_G_transpose_with_G_written_by_the_test(case, d):
    """u_i = G(a_i) x_i and back x_i = G(a_i)^T u_i (MODEL.md §3), G from references (I for kernels without one)."""
    rng = np.random.default_rng(14)
    kernel, aux, U = case.make_kernel(d), case.make_aux(9, rng), random_sphere(9, d, rng)
    G = [case.gauge(a, d) if case.gauge is not None else np.eye(d) for a in aux]
    X = np.stack([g.T @ u for g, u in zip(G, U)])

    assert kernel.has_gauge == (case.gauge is not None)
    np.testing.assert_allclose(kernel.from_gauge_frame(U, aux), X, rtol=0, atol=ULP_TOL)
    np.testing.assert_allclose(kernel.gauge_frame(X, aux), U, rtol=0, atol=ULP_TOL)


def test_gauge_gap_is_collapse_gap_of_gauge_frame_points():
    """Γ({G(a_i) x_i}) with G_p computed by the test (Prompts gauges)."""
    rng = np.random.default_rng(11)
    G = prompt_gauges(3)
    X = random_sphere(12, 3, rng)
    ids = rng.integers(0, len(G), 12)
    U = np.stack([G[p] @ x for p, x in zip(ids, X)])

    value = usaav.gauge_gap(kernels.Prompts(1.0, G), X, ids)

    assert value == pytest.approx(1.0 - np.sum(U.mean(axis=0) ** 2), rel=1e-13)


def test_gauge_gap_for_rope_frames_uses_the_rotations():
    """RoPE gauge gap over a stack of frames: one value per frame, u_i = R_{θ s_i} x_i."""
    rng = np.random.default_rng(12)
    s = rng.random(10)
    frames = np.stack([random_sphere(10, 3, rng) for _ in range(3)])
    theta = 2.5
    expected = [
        1.0 - np.sum(np.mean([plane_rotation(theta * si, 3) @ x for si, x in zip(s, frame)], axis=0) ** 2)
        for frame in frames
    ]

    np.testing.assert_allclose(usaav.gauge_gap(kernels.RoPE(1.0, theta), frames, s), expected, rtol=1e-13)


def test_relative_energy_gap_is_zero_for_collapsed_and_positive_otherwise():
    """(E_max - E_n)/E_max with E_max = e^β/(2β) (MODEL.md §6), from a test-side energy."""
    rng = np.random.default_rng(13)
    beta = 3.0
    X = random_sphere(10, 3, rng)
    energy = np.sum(np.exp(beta * X @ X.T)) / (2 * beta * 100)
    e_max = np.exp(beta) / (2 * beta)

    assert usaav.relative_energy_gap(kernels.USA(beta), X, None) == pytest.approx(
        (e_max - energy) / e_max, rel=1e-12
    )
    assert usaav.relative_energy_gap(kernels.USA(beta), np.tile(X[:1], (10, 1)), None) == pytest.approx(
        0.0, abs=1e-15
    )


def test_random_orthogonal_helper_is_orthogonal():
    """The test-side Haar sampler itself (used by many tests) gives orthogonal matrices."""
    G = random_orthogonal(4, 5, np.random.default_rng(14))
    np.testing.assert_allclose(np.einsum("pki,pkj->pij", G, G), np.broadcast_to(np.eye(5), G.shape), atol=1e-14)


# --------------------------------------------------------------------------
# count_clusters is single linkage cut at the threshold, exactly as scipy's
# --------------------------------------------------------------------------


def scipy_clusters(X, threshold):
    """The reference: scipy's single linkage on the condensed distances, cut at ``threshold`` (ties joined)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(X) == 1:
        return 1
    return int(fcluster(linkage(X, method="single"), t=threshold, criterion="distance").max())


def clustered_cloud(n, k, spread, rng):
    """n points in k caps of chordal radius ~spread around random centres, rows shuffled."""
    centres = random_sphere(k, 3, rng)
    X = centres[rng.integers(0, k, n)] + spread * rng.standard_normal((n, 3))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


CLOUDS = {
    "uniform-40": lambda rng: random_sphere(40, 3, rng),
    "uniform-700": lambda rng: random_sphere(700, 3, rng),  # several 256 x 256 tiles
    "clustered-600": lambda rng: clustered_cloud(600, 7, 1e-3, rng),
    "clustered-d5": lambda rng: (lambda Y: Y / np.linalg.norm(Y, axis=1, keepdims=True))(
        np.repeat(random_sphere(5, 5, rng), 60, axis=0) + 1e-4 * rng.standard_normal((300, 5))),
    "duplicates": lambda rng: np.repeat(random_sphere(6, 3, rng), 50, axis=0),
    "circle": lambda rng: np.c_[np.cos(2 * np.pi * np.arange(300) / 300), np.sin(2 * np.pi * np.arange(300) / 300), np.zeros(300)],
}


@pytest.mark.parametrize("quantile", [0.0, 1e-4, 0.003, 0.05, 0.5])
@pytest.mark.parametrize("cloud", list(CLOUDS))
def test_count_clusters_equals_scipy_single_linkage_including_ties(cloud, quantile):
    """Thresholds equal to a computed pairwise distance (a tie: joined), just below it (not joined), and just above."""
    from scipy.spatial.distance import pdist

    X = CLOUDS[cloud](np.random.default_rng(len(cloud)))
    distances = np.sort(pdist(X))
    tie = float(distances[int(quantile * (len(distances) - 1))])

    for threshold in (tie, np.nextafter(tie, -np.inf) if tie > 0 else 0.0, np.nextafter(tie, np.inf)):
        assert usaav.count_clusters(X, threshold) == scipy_clusters(X, threshold), threshold


def test_count_clusters_joins_a_pair_exactly_at_the_threshold():
    """Two points: one cluster iff their distance (as pdist computes it) <= threshold."""
    from scipy.spatial.distance import pdist

    X = random_sphere(2, 3, np.random.default_rng(1))
    distance = float(pdist(X)[0])

    assert usaav.count_clusters(X, distance) == 1
    assert usaav.count_clusters(X, np.nextafter(distance, 0.0)) == 2


@pytest.mark.parametrize("factor, expected", [(1.01, 1), (0.99, 600)])
def test_count_clusters_follows_a_chain_along_the_sorting_axis_across_tiles(factor, expected):
    """600 equally spaced points on a meridian through e_1: consecutive points differ mostly in x_1, the
    coordinate the tiles are sorted and skipped by; a threshold just above the spacing chains them all."""
    angles = np.linspace(-0.3, 0.3, 600)
    X = np.c_[np.sin(angles), np.zeros(600), np.cos(angles)]
    spacing = 2 * np.sin(0.3 / 599)

    assert usaav.count_clusters(X, factor * spacing) == expected == scipy_clusters(X, factor * spacing)


@pytest.mark.parametrize("threshold, expected", [(0.0, 4), (1e-9, 4), (2.5, 1), (1e300, 1)])
def test_count_clusters_edge_thresholds(threshold, expected):
    """Threshold 0 joins only identical points; any threshold above the diameter 2 gives one cluster."""
    X = np.repeat(random_sphere(4, 3, np.random.default_rng(2)), 3, axis=0)
    assert usaav.count_clusters(X, threshold) == expected
    assert usaav.count_clusters(X[:1], threshold) == 1


# --------------------------------------------------------------------------
# conditional_diameter with large label groups and many frames
# --------------------------------------------------------------------------


def loop_conditional_diameter(X, aux):
    """max over labels of max |x_i - x_j| over pairs with equal labels, by a double loop."""
    n = len(X)
    return max(
        [np.linalg.norm(X[i] - X[j]) for i in range(n) for j in range(i + 1, n) if aux[i] == aux[j]] + [0.0]
    )


@pytest.mark.parametrize("sizes", [(150,), (70, 5, 1, 80), (2,) * 40 + (65,)], ids=["one-large", "mixed", "many-small"])
def test_conditional_diameter_of_large_groups_and_frames_equals_double_loop(sizes):
    """Groups above 64 go through tiles of centred inner products, small ones pair by pair: both equal the loop."""
    rng = np.random.default_rng(sum(sizes))
    aux = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    frames = np.stack([random_sphere(len(aux), 3, rng) for _ in range(3)])

    values = usaav.conditional_diameter(frames, aux)

    expected = [loop_conditional_diameter(frame, aux) for frame in frames]
    # Squared distances from centred inner products: error a few eps times the
    # diameter squared, i.e. ~1e-15 relative on the diameter.
    np.testing.assert_allclose(values, expected, rtol=1e-13)


def test_conditional_diameter_of_a_nearly_collapsed_large_group_is_accurate():
    """A group of 100 points within 1e-9 of each other: the diameter is exact to ~1e-15 relative, not sqrt(eps)."""
    rng = np.random.default_rng(3)
    base = random_sphere(1, 3, rng)[0]
    X = base + 1e-9 * rng.standard_normal((100, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    aux = np.zeros(100)

    expected = loop_conditional_diameter(X, aux)

    assert 1e-10 < expected < 1e-8
    # Centred on a member, the squared distances carry an error of a few eps
    # times the diameter squared (uncentred: eps absolute, 1e2 relative here).
    assert usaav.conditional_diameter(X, aux) == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------
# winding_number
# --------------------------------------------------------------------------


@pytest.mark.parametrize("turns", [1, 3, -2])
def test_winding_number_counts_turns_of_a_great_circle_in_any_order(turns):
    """x(s) = (cos 2πms, sin 2πms, 0) at shuffled grid positions: winding m (Prop. 10's great circle run m times)."""
    s = np.random.default_rng(4).permutation(np.arange(40) / 40)
    X = np.c_[np.cos(2 * np.pi * turns * s), np.sin(2 * np.pi * turns * s), np.zeros(40)]

    assert abs(usaav.winding_number(X, s)) == pytest.approx(abs(turns), abs=1e-12)
