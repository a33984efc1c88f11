r"""Property-based tests (hypothesis): identities that hold for every gauge, β and dimension.

Random orthogonal gauges are QR factors of Gaussian matrices drawn from a
hypothesis-chosen seed; β ranges over (0, 50], d over 2..6.  Velocities are
compared in the rescaled clock (divided by e^β, MODEL.md §3), where every
force is at most 1 in size, so absolute tolerances are meaningful for all β.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import usaav
from usaav import kernels, maximizers
from references import random_orthogonal, random_sphere

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
