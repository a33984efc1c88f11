r"""Property-based tests (hypothesis): identities that hold for every gauge, β and dimension.

Random orthogonal gauges are QR factors of Gaussian matrices drawn from a
hypothesis-chosen seed; β ranges over (0, 50], d over 2..6.  Velocities are
compared in the rescaled clock (divided by e^β, MODEL.md §3), where every
force is at most 1 in size, so absolute tolerances are meaningful for all β.

The second half feeds the public API hostile inputs (wrong types, complex,
strings, None, NaN/inf, empty, wrong shapes, off-sphere rows, huge and tiny
β, one argument at a time): every call must either raise ValueError or
TypeError naming that argument, or return a finite answer equal to an
independent formula written in the test.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import usaav
from usaav import kernels, labels, maximizers
from references import plane_rotation, random_orthogonal, random_sphere

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)

betas = st.floats(min_value=1e-3, max_value=50.0, allow_nan=False, allow_infinity=False)
dimensions = st.integers(min_value=2, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=24)
prompt_counts = st.integers(min_value=1, max_value=4)

#: In the rescaled clock each force (1/n)Σ_j e^{β(<u_i,u_j>-1)} u_j has norm <= 1;
#: β <u,v> carries a rounding error ~β eps <= 1e-14 in the exponent, so 1e-12
#: absolute covers every identity below with margin.
ABS_TOL = 1e-12


def prompt_setup(seed, n, d, m):
    rng = np.random.default_rng(seed)
    G = random_orthogonal(m, d, rng)
    ids = rng.integers(0, m, n)
    X = random_sphere(n, d, rng)
    return rng, G, ids, X


@PROPERTY_SETTINGS
@given(beta=betas, d=dimensions, n=sizes, m=prompt_counts, seed=seeds)
def test_velocity_is_tangent_for_random_gauges(beta, d, n, m, seed):
    """<x_i, ẋ_i> = 0 for any orthogonal gauges (MODEL.md §2: P_x in the equation)."""
    _, G, ids, X = prompt_setup(seed, n, d, m)

    V = usaav.velocity(kernels.Prompts(beta, G), X, ids, clock="rescaled")

    assert np.max(np.abs(np.sum(X * V, axis=1))) < ABS_TOL


@PROPERTY_SETTINGS
@given(beta=betas, d=dimensions, n=sizes, m=prompt_counts, seed=seeds)
def test_prompt_velocity_is_baseline_velocity_in_the_gauge_frame(beta, d, n, m, seed):
    """G(a_i) ẋ_i = USA velocity at u = G(a_i) x_i (MODEL.md §3: projection commutes with orthogonal maps)."""
    _, G, ids, X = prompt_setup(seed, n, d, m)
    U = np.einsum("nab,nb->na", G[ids], X)

    V = usaav.velocity(kernels.Prompts(beta, G), X, ids, clock="rescaled")
    W = usaav.velocity(kernels.USA(beta), U, None, clock="rescaled")

    np.testing.assert_allclose(np.einsum("nab,nb->na", G[ids], V), W, atol=ABS_TOL)


@PROPERTY_SETTINGS
@given(beta=betas, d=dimensions, n=sizes, m=prompt_counts, seed=seeds)
def test_global_rotation_is_a_symmetry_of_gauge_dynamics(beta, d, n, m, seed):
    """Gauges G_p Q^T and points Q x_i: velocities are Q ẋ_i and the energy is unchanged (equivariance)."""
    rng, G, ids, X = prompt_setup(seed, n, d, m)
    Q = random_orthogonal(1, d, rng)[0]
    kernel, rotated_kernel = kernels.Prompts(beta, G), kernels.Prompts(beta, G @ Q.T)

    V = usaav.velocity(kernel, X, ids, clock="rescaled")
    V_rotated = usaav.velocity(rotated_kernel, X @ Q.T, ids, clock="rescaled")

    np.testing.assert_allclose(V_rotated, V @ Q.T, atol=ABS_TOL)
    e, e_rotated = usaav.energy(kernel, X, ids, clock="rescaled"), usaav.energy(rotated_kernel, X @ Q.T, ids, clock="rescaled")
    assert abs(e_rotated - e) <= 1e-12 * e


@PROPERTY_SETTINGS
@given(beta=betas, d=dimensions, n=sizes, seed=seeds)
def test_usa_velocity_is_rotation_equivariant(beta, d, n, seed):
    """The baseline is O(d)-equivariant: velocity(XQ^T) = velocity(X)Q^T for any orthogonal Q."""
    rng = np.random.default_rng(seed)
    X = random_sphere(n, d, rng)
    Q = random_orthogonal(1, d, rng)[0]

    V = usaav.velocity(kernels.USA(beta), X, None, clock="rescaled")

    np.testing.assert_allclose(usaav.velocity(kernels.USA(beta), X @ Q.T, None, clock="rescaled"), V @ Q.T, atol=ABS_TOL)


@PROPERTY_SETTINGS
@given(beta=betas, d=dimensions, n=sizes, m=prompt_counts, seed=seeds)
def test_energy_never_exceeds_the_bound(beta, d, n, m, seed):
    """E_n <= e^β/(2β) for any configuration (MODEL.md §4); rescaled: e^{-β}E_n <= 1/(2β)."""
    _, G, ids, X = prompt_setup(seed, n, d, m)

    rescaled = usaav.energy(kernels.Prompts(beta, G), X, ids, clock="rescaled")

    # Terms e^{β(<u,v>-1)} <= 1 up to the exponent's rounding (~β eps).
    assert rescaled <= (1.0 + 1e-13) / (2 * beta)
    assert usaav.relative_energy_gap(kernels.Prompts(beta, G), X, ids) >= -1e-13


@PROPERTY_SETTINGS
@given(beta=betas, d=dimensions, n=sizes, m=prompt_counts, seed=seeds)
def test_bound_is_attained_by_the_gauge_maximizer(beta, d, n, m, seed):
    """x_i = G_{a_i}^T v gives e^{-β}E_n = 1/(2β) exactly (seed Thm. 4 (i)) and zero Euler–Lagrange residual."""
    rng, G, ids, _ = prompt_setup(seed, n, d, m)
    v = random_sphere(1, d, rng)[0]
    X = maximizers.gauge(v, G)[ids]
    kernel = kernels.Prompts(beta, G)

    # <u_i, u_j> = 1 up to a few ulps: relative error ~ 10 β eps <= 1.2e-13.
    assert abs(usaav.energy(kernel, X, ids, clock="rescaled") * 2 * beta - 1.0) < 1e-12
    assert usaav.euler_lagrange_residual(kernel, X, ids) < ABS_TOL


@PROPERTY_SETTINGS
@given(d=dimensions, m=prompt_counts, seed=seeds, kind=st.sampled_from(["householder", "rotation"]))
def test_gauge_for_targets_realizes_random_targets(d, m, seed, kind):
    """Orthogonal G_p with G_p^T v = T_p for random v and targets (seed Thm. 4 (ii))."""
    rng = np.random.default_rng(seed)
    v = random_sphere(1, d, rng)[0]
    T = random_sphere(m, d, rng)

    G = maximizers.gauge_for_targets(v, T, kind=kind)

    np.testing.assert_allclose(np.einsum("pki,pkj->pij", G, G), np.broadcast_to(np.eye(d), G.shape), atol=1e-12)
    # Random targets are O(1) away from ±v, where both constructions are well conditioned.
    np.testing.assert_allclose(np.einsum("pji,j->pi", G, v), T, atol=1e-12)


@PROPERTY_SETTINGS
@given(beta=betas, theta=st.floats(-20.0, 20.0), d=st.integers(3, 6), n=sizes, seed=seeds)
def test_rope_energy_is_invariant_under_a_common_shift_of_positions(beta, theta, d, n, seed):
    """K depends on t - s only: shifting every position by c leaves E_n unchanged (MODEL.md §3, RoPE row)."""
    rng = np.random.default_rng(seed)
    s = 0.5 * rng.random(n)
    X = random_sphere(n, d, rng)
    shift = 0.37
    kernel = kernels.RoPE(beta, theta)
    # Shifting positions by c rotates every gauge-frame point by R_{θc}: same energy.
    E = usaav.energy(kernel, X, s, clock="rescaled")

    assert abs(usaav.energy(kernel, X, s + shift, clock="rescaled") - E) <= 1e-11 * E


# ==========================================================================
# Hostile inputs: every call either refuses with the argument's name, or
# returns a finite answer that an independent formula confirms
# ==========================================================================

HOSTILE_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REFUSALS = (ValueError, TypeError)


def refuses_naming(name, call):
    """Run ``call``; a refusal must be a ValueError/TypeError naming ``name``. Returns (refused, value)."""
    try:
        return False, call()
    except REFUSALS as error:
        assert name in str(error), (name, str(error))
        return True, None


def mutations(array: np.ndarray):
    """The valid ``array`` and hostile variants of it: wrong types, shapes, values."""
    flat = array.reshape(-1)

    def with_value(value):
        def make(index):
            out = np.array(array, dtype=float, copy=True)
            out.reshape(-1)[index % flat.size] = value
            return out
        return make

    index = st.integers(0, 10**6)
    return st.one_of(
        st.just(array),
        st.just(array.tolist()),
        st.sampled_from([None, "1.0", b"1", 1.0, True, [[1.0, 0.0], [1.0]]]),
        st.just(array.astype(str)),
        st.just(array + 0j),
        st.just(array > 0),
        st.just(array.astype(object)),
        st.just(array.astype(np.float32)),
        st.just(array[..., :1]),
        st.just(array.reshape(-1)),
        st.just(array[None]),
        st.just(array[:0]),
        index.map(with_value(np.nan)),
        index.map(with_value(np.inf)),
        index.map(with_value(-np.inf)),
        st.floats(-1e300, 1e300, allow_nan=False).map(lambda c: c * array),
        st.floats(-1e-6, 1e-6, allow_nan=False).map(lambda e: (1 + e) * array),
    )


def hostile_scalars(valid):
    return st.one_of(
        valid,
        st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 1e308, 5e-324, True, None, "1.0", 1j, [1.0]]),
        valid.map(lambda v: np.array([v, v])),
        valid.map(np.float32),
    )


def sphere_points(data, n_max=10, d_max=5):
    n = data.draw(st.integers(1, n_max), label="n")
    d = data.draw(st.integers(2, d_max), label="d")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return random_sphere(n, d, np.random.default_rng(seed))


@HOSTILE_SETTINGS
@given(data=st.data())
def test_collapse_gap_of_hostile_x_refuses_or_equals_the_pair_formula(data):
    X = data.draw(mutations(sphere_points(data)), label="X")
    refused, value = refuses_naming("X", lambda: usaav.collapse_gap(X))
    if refused:
        return
    frames = np.asarray(X, dtype=float)
    frames = frames[None] if frames.ndim == 2 else frames
    n = frames.shape[1]
    expected = [sum(np.sum((F[i] - F[j]) ** 2) for i in range(n) for j in range(n)) / (2 * n * n) for F in frames]
    # Unit rows to 1e-8: the pair formula equals the centred form to ~1e-8.
    np.testing.assert_allclose(np.atleast_1d(value), expected, atol=1e-7)


@HOSTILE_SETTINGS
@given(data=st.data())
def test_conditional_diameter_of_hostile_input_refuses_or_equals_the_loop(data):
    X = sphere_points(data)
    n = len(X)
    X_drawn = data.draw(mutations(X), label="X")
    aux = data.draw(st.one_of(st.just(np.arange(n) % 3), mutations(np.arange(n) % 3.0)), label="aux")
    try:
        value = usaav.conditional_diameter(X_drawn, aux)
    except REFUSALS as error:
        assert "X" in str(error) or "aux" in str(error), str(error)
        return
    frames = np.asarray(X_drawn, dtype=float)
    frames = frames[None] if frames.ndim == 2 else frames
    a = np.asarray(aux)
    expected = [max([np.linalg.norm(F[i] - F[j]) for i in range(n) for j in range(n) if a[i] == a[j]]) for F in frames]
    np.testing.assert_allclose(np.atleast_1d(value), expected, rtol=1e-12, atol=1e-15)


@HOSTILE_SETTINGS
@given(data=st.data(), threshold=hostile_scalars(st.floats(0.0, 2.5)))
def test_count_clusters_of_hostile_input_refuses_or_equals_scipy(data, threshold):
    from scipy.cluster.hierarchy import fcluster, linkage

    X = sphere_points(data, n_max=30)
    X = data.draw(st.one_of(st.just(X), st.just(np.repeat(X[:3], 4, axis=0)), mutations(X)), label="X")
    try:
        value = usaav.count_clusters(X, threshold)
    except REFUSALS as error:
        assert "X" in str(error) or "threshold" in str(error), str(error)
        return
    X = np.asarray(X, dtype=float)
    expected = 1 if len(X) == 1 else int(fcluster(linkage(X, "single"), t=float(threshold), criterion="distance").max())
    assert value == expected


KERNEL_MAKERS = {
    "USA": lambda beta, s: kernels.USA(beta),
    "DistanceBias": lambda beta, s: kernels.DistanceBias(beta, 0.25, "gaussian"),
    "RoPE": lambda beta, s: kernels.RoPE(beta, 2.5),
    "Prompts": lambda beta, s: kernels.Prompts(beta, random_orthogonal(3, s, np.random.default_rng(0))),
}


def rescaled_energy_formula(name, beta, X, aux):
    """e^{-β}E_n = (1/2βn²) Σ w e^{β(<u_i,u_j> - 1)} written out (MODEL.md §2, §3)."""
    n, d = X.shape
    if name == "RoPE":
        U = np.stack([plane_rotation(2.5 * a, d) @ x for a, x in zip(aux, X)])
    elif name == "Prompts":
        G = random_orthogonal(3, d, np.random.default_rng(0))
        U = np.stack([G[int(a)] @ x for a, x in zip(aux, X)])
    else:
        U = X
    w = np.ones((n, n))
    if name == "DistanceBias":
        r = np.abs(np.subtract.outer(aux, aux)) % 1.0
        w = np.exp(-np.minimum(r, 1 - r) ** 2 / (2 * 0.25**2))
    return float(np.sum(w * np.exp(beta * (U @ U.T - 1.0)))) / (2 * beta * n * n)


@HOSTILE_SETTINGS
@given(data=st.data(), name=st.sampled_from(list(KERNEL_MAKERS)),
       beta=hostile_scalars(st.floats(1e-6, 1e6)), hostile=st.sampled_from(["beta", "X", "aux"]))
def test_energy_velocity_and_gap_of_hostile_input_refuse_or_are_finite_and_right(data, name, beta, hostile):
    """One hostile argument at a time: a refusal names it; a result matches the written-out formula."""
    X = sphere_points(data)
    n, d = X.shape
    aux = np.arange(n) % 3 if name == "Prompts" else np.linspace(0.0, 1.0, n)
    if hostile != "beta":
        beta = 2.0
    if hostile == "X":
        X = data.draw(mutations(X), label="X")
    if hostile == "aux":
        aux = data.draw(mutations(np.asarray(aux, dtype=float)), label="aux")
    maker = (lambda: KERNEL_MAKERS[name](beta, d)) if name != "Prompts" else (lambda: KERNEL_MAKERS[name](beta, d))
    refused, kernel = refuses_naming(hostile, maker)
    if refused:
        return
    refused, energy = refuses_naming(hostile, lambda: usaav.energy(kernel, X, aux, clock="rescaled"))
    if refused:
        return
    # The labels as the library was given them (None is a valid "no labels" for USA, which ignores them;
    # as a float array it would become a 0-d NaN that velocity rightly refuses).
    labels_given = aux
    X, aux = np.asarray(X, dtype=float), np.asarray(aux, dtype=float)
    # Rows accepted within 1e-8 of the sphere are projected onto it (check_points(project=True)).
    X = X / np.linalg.norm(X, axis=-1, keepdims=True)
    # A mutation may add a leading axis: (1, n, d) is a batch of one system, which the library accepts.
    systems = X if X.ndim == 3 else X[None]
    expected = [rescaled_energy_formula(name, float(beta), system, aux) for system in systems]
    # The exponent's rounding, (d + 1) β eps, is the relative error of every term.
    assert list(np.atleast_1d(energy)) == pytest.approx(expected, rel=1e-12 + 10 * (d + 1) * float(beta) * 2.3e-16)
    V = usaav.velocity(kernel, X, labels_given, clock="rescaled")
    assert np.all(np.isfinite(V)) and np.max(np.abs(np.sum(V * X, axis=-1))) < 1e-12
    gap = np.atleast_1d(usaav.relative_energy_gap(kernel, X, labels_given))
    assert np.all((0.0 <= gap) & (gap <= 1.0))


@HOSTILE_SETTINGS
@given(data=st.data(), coefficients=st.dictionaries(st.integers(0, 6), st.floats(-3, 3), min_size=1, max_size=4))
def test_toeplitz_relative_gap_is_never_negative_for_any_labels(data, coefficients):
    """Random labels (clustered or not) and configurations: the gap is undefined (refused) or in [0, ∞)."""
    X = sphere_points(data, n_max=12)
    n = len(X)
    s = data.draw(st.one_of(st.just(np.random.default_rng(n).random(n)), st.just(np.repeat([0.1, 0.6], n)[:n]),
                            st.just(labels.grid_positions(n))), label="s")
    kernel = kernels.Toeplitz(coefficients)
    refused, gap = refuses_naming("relative_energy_gap is undefined", lambda: usaav.relative_energy_gap(kernel, X, s))
    if not refused:
        assert gap >= 0.0
        bound = kernel.finite_energy_bound(s)
        assert usaav.energy(kernel, X, s) <= bound * (1 + 1e-12) + 1e-15


@HOSTILE_SETTINGS
@given(data=st.data())
def test_normalize_and_project_tangent_of_hostile_input(data):
    X = sphere_points(data)
    Y = data.draw(mutations(3.0 * X), label="X")
    refused, unit = refuses_naming("X", lambda: usaav.normalize(Y))
    if not refused:
        Y = np.asarray(Y, dtype=float)
        np.testing.assert_allclose(np.linalg.norm(unit, axis=-1), 1.0, atol=1e-14)
        # Same direction: the normalised row is a positive multiple of the input row.
        assert np.all(np.sum(unit * Y, axis=-1) > 0)
    V = data.draw(mutations(X[::-1].copy()), label="V")
    refused, P = refuses_naming("V", lambda: usaav.project_tangent(X, V))
    if not refused:
        np.testing.assert_allclose(np.sum(P * X, axis=1), 0.0, atol=1e-12 * max(1.0, np.max(np.abs(np.asarray(V, dtype=float)))))


@HOSTILE_SETTINGS
@given(angle=hostile_scalars(st.floats(-100, 100)), d=hostile_scalars(st.integers(2, 6)),
       plane=st.one_of(st.just((0, 1)), st.sampled_from([(1, 0), (0, 0), (0, 9), (0.0, 1), "01", None, (True, 1), (-1, 0)])))
def test_rotation_of_hostile_arguments_refuses_or_is_orthogonal(angle, d, plane):
    try:
        R = usaav.rotation(angle, d, plane)
    except REFUSALS as error:
        assert any(name in str(error) for name in ("angle", "d ", "d must", "plane")), str(error)
        return
    np.testing.assert_allclose(np.swapaxes(R, -1, -2) @ R, np.broadcast_to(np.eye(R.shape[-1]), R.shape), atol=1e-14)


@HOSTILE_SETTINGS
@given(n=hostile_scalars(st.integers(1, 20)), d=hostile_scalars(st.integers(2, 5)), rng=hostile_scalars(st.integers(0, 2**31)))
def test_uniform_sphere_of_hostile_arguments_refuses_or_draws_unit_rows(n, d, rng):
    try:
        X = usaav.uniform_sphere(n, d, rng)
    except REFUSALS as error:
        assert any(name in str(error) for name in ("n must", "d must", "rng must")), str(error)
        return
    assert X.shape == (n, d)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-14)


@HOSTILE_SETTINGS
@given(dt=hostile_scalars(st.floats(1e-3, 0.5)), t_max=hostile_scalars(st.floats(1e-3, 1.0)),
       record_every=st.one_of(st.integers(-2, 5), st.sampled_from([None, 1.5, "2", True, 2.0])),
       hostile=st.sampled_from(["dt", "t_max", "record_every"]))
def test_simulate_of_hostile_options_refuses_or_lands_on_t_max(dt, t_max, record_every, hostile):
    options = {"dt": 0.1, "t_max": 0.3, "record_every": None}
    options[hostile] = {"dt": dt, "t_max": t_max, "record_every": record_every}[hostile]
    X0 = random_sphere(5, 3, np.random.default_rng(1))
    refused, run = refuses_naming(hostile, lambda: usaav.simulate(kernels.USA(1.0), X0, None, clock="rescaled", max_steps=10**5, **options))
    if not refused:
        assert run.t[-1] == pytest.approx(float(options["t_max"]), rel=1e-12)
        assert np.all(np.isfinite(run.X)) and np.all(np.isfinite(run.energy))
        np.testing.assert_allclose(np.linalg.norm(run.X, axis=-1), 1.0, atol=1e-14)


@HOSTILE_SETTINGS
@given(data=st.data(), theta=hostile_scalars(st.floats(-20, 20)))
def test_maximizers_of_hostile_input_refuse_or_saturate(data, theta):
    d = data.draw(st.integers(2, 5), label="d")
    v = data.draw(mutations(random_sphere(1, d, np.random.default_rng(d))[0]), label="v")
    positions = data.draw(st.one_of(st.just(np.linspace(0, 1, 7)), mutations(np.linspace(0, 1, 7))), label="positions")
    try:
        X = maximizers.rope(v, theta, positions)
    except REFUSALS as error:
        assert any(name in str(error) for name in ("v", "theta", "positions", "plane")), str(error)
        return
    s = np.asarray(positions, dtype=float)
    if np.all((0 <= s) & (s <= 1)) and s.ndim == 1:
        assert usaav.relative_energy_gap(kernels.RoPE(1.0, float(theta)), X, s) < 1e-13
