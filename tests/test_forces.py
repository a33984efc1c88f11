r"""Forces and energies of every kernel against independent computations (MODEL.md §2, §3).

The velocity is the projected gradient of the energy scaled by ``n``:
:math:`\dot x_i = P_{x_i}\big(n\,\partial E_n/\partial x_i\big) =
P_{x_i}\big(\frac1n\sum_j\nabla_xK(z_i,z_j)\big)` for a symmetric kernel.
Both sides are computed here without the library's blocked routine: the
energy by a double loop over the kernel formula written in
``tests/references.py`` (differentiated by central differences), the force
sum by a plain loop over the gradient formula of MODEL.md §3.
"""

from __future__ import annotations

import numpy as np
import pytest

import usaav
from references import (
    ALL_CASES,
    DB_GAUSS_CASE,
    PROMPTS_CASE,
    SEPARATED_CASE,
    USA_CASE,
    finite_difference_gradient,
    loop_drift,
    loop_energy,
    project,
    random_sphere,
    row_loop_drift,
    row_loop_energy,
)

CASE_IDS = [case.name for case in ALL_CASES]

#: Central-difference step for the energy.  Truncation error ~ h^2 |E'''| ≈ 1e-10
#: (β ≤ 1.3, |E'''| = O(β^3 e^β)), rounding error ~ eps |E| / h ≈ 1e-11.
FD_STEP = 1e-5
#: Relative tolerance of the finite-difference comparison: both errors above,
#: times n = 6, stay below ~1e-9 (measured worst case 4e-10 over all kernels
#: and d); 1e-7 leaves two orders of margin while a wrong factor or sign
#: gives O(1) disagreement.
FD_RTOL = 1e-7
#: Relative tolerance between the library and a plain loop computing the same
#: sum of n terms: accumulation in a different order costs at most ~n eps
#: (600 * 1.1e-16 ≈ 7e-14) relative to the largest term.
LOOP_RTOL = 1e-12


def scale(array) -> float:
    """The size relative to which a tolerance is applied (never 0)."""
    return max(1.0, float(np.max(np.abs(array))))


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_velocity_is_projected_finite_difference_gradient_of_loop_energy(case, d):
    """P_x (n ∂E_n/∂x_i), by central differences of a double-loop E_n, equals usaav.velocity."""
    rng = np.random.default_rng(10 + d)
    n = 6
    X = random_sphere(n, d, rng)
    aux = case.make_aux(n, rng)
    kernel = case.make_kernel(d)

    gradient = finite_difference_gradient(lambda Y: loop_energy(case, Y, aux), X, FD_STEP)
    expected = project(X, n * gradient)
    actual = usaav.velocity(kernel, X, aux)

    np.testing.assert_allclose(actual, expected, rtol=0, atol=FD_RTOL * scale(expected))


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_velocity_equals_projected_double_loop_of_kernel_gradient(case, d):
    """usaav.velocity = P_x((1/n) Σ_j ∇_x K(z_i, z_j)) with the gradient of MODEL.md §3 in a double loop."""
    rng = np.random.default_rng(20 + d)
    n = 9
    X = random_sphere(n, d, rng)
    aux = case.make_aux(n, rng)

    expected = project(X, loop_drift(case, X, aux))
    actual = usaav.velocity(case.make_kernel(d), X, aux)

    np.testing.assert_allclose(actual, expected, rtol=0, atol=LOOP_RTOL * scale(expected))


#: Large systems that the blocked routine cuts into several tiles: n = 600
#: spans several strips of rows; n = 1100 > 1024 also splits rows into column
#: blocks (tile boundaries inside a row).  d = 2, 3 and d = 5 take the
#: matrix-vector and the matrix-matrix contraction paths respectively.
LARGE_SYSTEMS = [pytest.param(case, 600, 3, id=f"{case.name}-n600-d3") for case in ALL_CASES] + [
    pytest.param(case, 1100, d, id=f"{case.name}-n1100-d{d}")
    for case in (USA_CASE, DB_GAUSS_CASE, SEPARATED_CASE, PROMPTS_CASE)
    for d in (2, 5)
]


@pytest.mark.parametrize("case, n, d", LARGE_SYSTEMS)
def test_velocity_for_more_particles_than_a_tile_equals_row_loop(case, n, d):
    """Many tiles (strips and column blocks): tile edges must not matter."""
    rng = np.random.default_rng(30 + n + d)
    X = random_sphere(n, d, rng)
    aux = case.make_aux(n, rng)

    expected = project(X, row_loop_drift(case, X, aux))
    actual = usaav.velocity(case.make_kernel(d), X, aux)

    np.testing.assert_allclose(actual, expected, rtol=0, atol=LOOP_RTOL * scale(expected))


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_energy_equals_double_loop_over_kernel_formula(case, d):
    """usaav.energy = (1/2n²) Σ_ij K(z_i, z_j) with K written out by hand (seed Def. 8)."""
    rng = np.random.default_rng(40 + d)
    n = 9
    X = random_sphere(n, d, rng)
    aux = case.make_aux(n, rng)

    expected = loop_energy(case, X, aux)
    actual = usaav.energy(case.make_kernel(d), X, aux)

    # Sum of n² terms in another order: relative error ~ n² eps ≈ 1e-14.
    assert actual == pytest.approx(expected, rel=LOOP_RTOL, abs=LOOP_RTOL)


@pytest.mark.parametrize("case, n, d", LARGE_SYSTEMS)
def test_energy_for_more_particles_than_a_tile_equals_row_loop(case, n, d):
    """The blocked pair sum counts off-diagonal tiles twice and diagonal squares once: check over many tiles."""
    rng = np.random.default_rng(50 + n + d)
    X = random_sphere(n, d, rng)
    aux = case.make_aux(n, rng)

    expected = row_loop_energy(case, X, aux)
    actual = usaav.energy(case.make_kernel(d), X, aux)

    assert actual == pytest.approx(expected, rel=LOOP_RTOL, abs=LOOP_RTOL)


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_kernel_value_matrix_equals_formula(case, d):
    """kernel.value(X, a, Y, b)[i, j] = K((x_i, a_i), (y_j, b_j)) for two different point sets."""
    rng = np.random.default_rng(60 + d)
    X, Y = random_sphere(5, d, rng), random_sphere(4, d, rng)
    aux_X, aux_Y = case.make_aux(5, rng), case.make_aux(4, rng)

    expected = np.stack([case.pair(X[i], aux_X[i], Y, aux_Y) for i in range(5)])
    actual = case.make_kernel(d).value(X, aux_X, Y, aux_Y)

    # One exp per entry on both sides: agreement to a few ulps (β <= 1.3).
    np.testing.assert_allclose(actual, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_kernel_is_symmetric_in_its_two_particles(case):
    """K(z, z') = K(z', z) (MODEL.md §1): the energy is then a potential for the velocity."""
    rng = np.random.default_rng(70)
    X = random_sphere(8, 3, rng)
    aux = case.make_aux(8, rng)

    K = case.make_kernel(3).value(X, aux)

    # Same products in transposed order: equal to rounding.
    np.testing.assert_allclose(K, K.T, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_velocity_is_tangent_to_the_sphere(case):
    """<x_i, ẋ_i> = 0: the exact flow stays on the sphere (seed Prop. 2)."""
    rng = np.random.default_rng(80)
    X = random_sphere(12, 4, rng)
    aux = case.make_aux(12, rng)

    V = usaav.velocity(case.make_kernel(4), X, aux)

    # One projection in float64: |<x, P_x v>| <= a few eps |v|.
    np.testing.assert_allclose(np.sum(X * V, axis=1), 0.0, atol=1e-14 * scale(V))


@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_rescaled_clock_divides_velocity_and_energy_by_exp_beta(case):
    """clock='rescaled' measures t' = e^β t: velocity and energy are divided by e^β (1 for Toeplitz)."""
    rng = np.random.default_rng(90)
    X = random_sphere(10, 3, rng)
    aux = case.make_aux(10, rng)
    kernel = case.make_kernel(3)
    factor = np.exp(kernel.beta) if hasattr(kernel, "beta") else 1.0

    raw_V = project(X, loop_drift(case, X, aux))
    raw_E = loop_energy(case, X, aux)

    np.testing.assert_allclose(
        usaav.velocity(kernel, X, aux, clock="rescaled") * factor, raw_V, rtol=0, atol=LOOP_RTOL * scale(raw_V)
    )
    assert usaav.energy(kernel, X, aux, clock="rescaled") * factor == pytest.approx(raw_E, rel=LOOP_RTOL)


# --------------------------------------------------------------------------
# One projected Heun step is the velocity combined as in MODEL.md §5
# --------------------------------------------------------------------------


def unit_rows(Y):
    return Y / np.linalg.norm(Y, axis=1, keepdims=True)


@pytest.mark.parametrize("case", [USA_CASE, SEPARATED_CASE, PROMPTS_CASE], ids=lambda c: c.name)
def test_one_simulate_step_is_the_hand_written_projected_heun_step(case):
    """k1 = V(X), X~ = N(X + h k1), k2 = V(X~), X+ = N(X + h/2 (k1 + k2)), V from the loop formula.

    Order tests cannot tell Heun from another second-order step (explicit
    midpoint, Ralston): one large step can (they differ at O(h³) ≈ 1e-3 here).
    """
    rng = np.random.default_rng(90)
    X = random_sphere(7, 3, rng)
    aux = case.make_aux(7, rng)
    h = 0.3

    def V(Y):
        return project(Y, loop_drift(case, Y, aux))

    k1 = V(X)
    k2 = V(unit_rows(X + h * k1))
    expected = unit_rows(X + 0.5 * h * (k1 + k2))

    run = usaav.simulate(case.make_kernel(3), X, aux, t_max=h, dt=h)

    np.testing.assert_allclose(run.t, [0.0, h])
    np.testing.assert_allclose(run.final, expected, rtol=0, atol=LOOP_RTOL * 10)


# --------------------------------------------------------------------------
# Bound interactions are kept per kernel and labels (usaav.dynamics._bind_single)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_velocity_follows_labels_changed_in_place_between_calls(case):
    """The kept interaction is keyed by the labels' values: new values in the same array are new labels."""
    rng = np.random.default_rng(31)
    n, d = 9, 3
    X = random_sphere(n, d, rng)
    aux = case.make_aux(n, rng)
    kernel = case.make_kernel(d)
    usaav.velocity(kernel, X, aux)  # bound and kept for these labels
    aux[...] = case.make_aux(n, rng)  # the same array, other labels
    expected = project(X, loop_drift(case, X, aux))
    actual = usaav.velocity(kernel, X, aux)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=LOOP_RTOL * scale(expected))


def test_unit_rows_a_few_ulps_off_are_projected_on_the_fast_path_as_on_the_full_check():
    """Rows off the sphere by more than PROJECT_ABOVE are projected (a copy), the caller's array untouched."""
    rng = np.random.default_rng(32)
    X = random_sphere(12, 3, rng)
    X[4] *= 1.0 + 1e-12  # inside the tolerance, far above a few ulps
    kept = X.copy()
    unit = X / np.linalg.norm(X, axis=1)[:, None]
    kernel = usaav.kernels.USA(1.5)
    # Unprojected, row 4 would change the velocities by ~1e-12 (relative); projected, they agree
    # with those of the normalised rows to round-off (measured 2e-16; 1e-14 leaves room).
    np.testing.assert_allclose(usaav.velocity(kernel, X, None), usaav.velocity(kernel, unit, None), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(X, kept)
