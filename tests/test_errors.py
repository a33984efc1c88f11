"""Bad input raises ValueError / TypeError naming the argument (API.md "Errors", STYLE.md principle 4).

Every case is instantaneous: the checks run at the entry points, before any
numerical work, so nothing here can hang or overflow.
"""

from __future__ import annotations

import numpy as np
import pytest

import usaav
from usaav import kernels, maximizers

X3 = usaav.uniform_sphere(5, 3, rng=0)
POSITIONS = np.linspace(0.0, 0.8, 5)
IDS = np.array([0, 1, 0, 1, 1])
GAUGES = np.stack([np.eye(3), usaav.rotation(0.5, 3)])


def nan_at(array, index):
    out = np.array(array, dtype=float, copy=True)
    out[index] = np.nan
    return out


def inf_at(array, index):
    out = np.array(array, dtype=float, copy=True)
    out[index] = np.inf
    return out


# --------------------------------------------------------------------------
# beta
# --------------------------------------------------------------------------

BETA_CONSTRUCTORS = {
    "USA": lambda beta: kernels.USA(beta),
    "DistanceBias": lambda beta: kernels.DistanceBias(beta, 0.3),
    "Separated": lambda beta: kernels.Separated(beta, lambda a, b: np.ones((len(a), len(b)))),
    "Gauge": lambda beta: kernels.Gauge(beta, lambda aux: np.broadcast_to(np.eye(3), (len(aux), 3, 3))),
    "RoPE": lambda beta: kernels.RoPE(beta),
    "PhaseField": lambda beta: kernels.PhaseField(beta, lambda s: s),
    "Prompts": lambda beta: kernels.Prompts(beta, GAUGES),
}

BAD_BETAS = [
    (0.0, ValueError),
    (-1.0, ValueError),
    (np.nan, ValueError),
    (np.inf, ValueError),
    (-np.inf, ValueError),
    (True, TypeError),
    ("1.0", TypeError),
    (None, TypeError),
    (np.array([1.0, 2.0]), TypeError),
]


@pytest.mark.parametrize("beta, error", BAD_BETAS, ids=[repr(b) for b, _ in BAD_BETAS])
@pytest.mark.parametrize("name", list(BETA_CONSTRUCTORS))
def test_bad_beta_is_refused_by_every_kernel(name, beta, error):
    """β <= 0, NaN, ±inf, bool, str, None and arrays are refused with a message naming beta."""
    with pytest.raises(error, match="beta"):
        BETA_CONSTRUCTORS[name](beta)


@pytest.mark.parametrize("beta", [np.float32(2.0), np.int64(3), 1e-3, 500])
def test_good_beta_of_any_real_type_is_accepted_as_float(beta):
    assert kernels.USA(beta).beta == float(beta)


def test_distance_bias_length_and_profile_are_checked():
    with pytest.raises(ValueError, match="length"):
        kernels.DistanceBias(1.0, 0.0)
    with pytest.raises(ValueError, match="length"):
        kernels.DistanceBias(1.0, np.nan)
    with pytest.raises(ValueError, match="profile"):
        kernels.DistanceBias(1.0, 0.3, profile="cauchy")


def test_callables_must_be_callable():
    with pytest.raises(TypeError, match="weight"):
        kernels.Separated(1.0, np.ones((3, 3)))
    with pytest.raises(TypeError, match="gauge"):
        kernels.Gauge(1.0, np.eye(3))
    with pytest.raises(TypeError, match="phase"):
        kernels.PhaseField(1.0, 0.5)


@pytest.mark.parametrize("coefficients, error", [({}, TypeError), ([1.0], TypeError), ({-1: 1.0}, ValueError), ({1.5: 1.0}, TypeError), ({1: np.nan}, ValueError), ({1: "a"}, TypeError)])
def test_toeplitz_coefficients_are_checked(coefficients, error):
    with pytest.raises(error, match="coefficients"):
        kernels.Toeplitz(coefficients)


# --------------------------------------------------------------------------
# X and aux
# --------------------------------------------------------------------------

ENTRY_POINTS = {
    "velocity": lambda kernel, X, aux: usaav.velocity(kernel, X, aux),
    "energy": lambda kernel, X, aux: usaav.energy(kernel, X, aux),
    "simulate": lambda kernel, X, aux: usaav.simulate(kernel, X, aux, t_max=0.1),
    "relative_energy_gap": lambda kernel, X, aux: usaav.relative_energy_gap(kernel, X, aux),
    "euler_lagrange_residual": lambda kernel, X, aux: usaav.euler_lagrange_residual(kernel, X, aux),
}


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_rows_not_unit_length_are_refused(entry):
    """|‖x‖ - 1| beyond the tolerance names X and the measured defect."""
    with pytest.raises(ValueError, match=r"X must have unit rows"):
        ENTRY_POINTS[entry](kernels.RoPE(1.0), 1.01 * X3, POSITIONS)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("bad", [nan_at, inf_at], ids=["nan", "inf"])
def test_non_finite_points_are_refused(entry, bad):
    with pytest.raises(ValueError, match=r"X must be finite"):
        ENTRY_POINTS[entry](kernels.USA(1.0), bad(X3, (2, 1)), None)


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("bad", [nan_at, inf_at], ids=["nan", "inf"])
@pytest.mark.parametrize("kernel", [kernels.RoPE(1.0), kernels.DistanceBias(1.0, 0.3), kernels.Toeplitz({1: 1.0})], ids=["rope", "distance_bias", "toeplitz"])
def test_non_finite_labels_are_refused(entry, bad, kernel):
    with pytest.raises(ValueError, match=r"aux must be finite"):
        ENTRY_POINTS[entry](kernel, X3, bad(POSITIONS, 3))


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
@pytest.mark.parametrize("aux", [POSITIONS[:4], np.r_[POSITIONS, 0.9], POSITIONS[:, None]], ids=["short", "long", "2d"])
def test_labels_of_the_wrong_shape_are_refused(entry, aux):
    """aux must have shape (n,) to match the n rows of X."""
    with pytest.raises(ValueError, match=r"aux must have shape \(5,\)"):
        ENTRY_POINTS[entry](kernels.RoPE(1.0), X3, aux)


@pytest.mark.parametrize("X", [X3[0], X3[None], X3[:, :1] / np.abs(X3[:, :1]), np.zeros((0, 3))], ids=["1d", "3d", "d=1", "empty"])
def test_points_of_the_wrong_shape_are_refused(X):
    with pytest.raises(ValueError, match="X must"):
        usaav.velocity(kernels.USA(1.0), X, None)


def test_missing_or_non_numeric_labels_are_refused():
    with pytest.raises(TypeError, match="aux"):
        usaav.velocity(kernels.RoPE(1.0), X3, None)
    with pytest.raises(TypeError, match="aux"):
        usaav.velocity(kernels.RoPE(1.0), X3, np.array(["a"] * 5))


@pytest.mark.parametrize("value", [-0.1, 1.5])
@pytest.mark.parametrize("kernel", [kernels.RoPE(1.0), kernels.PhaseField(1.0, lambda s: s), kernels.DistanceBias(1.0, 0.3), kernels.Toeplitz({1: 1.0})], ids=["rope", "phase_field", "distance_bias", "toeplitz"])
def test_positions_outside_unit_interval_are_refused(kernel, value):
    aux = POSITIONS.copy()
    aux[1] = value
    with pytest.raises(ValueError, match=r"aux must hold positions in \[0, 1\]"):
        usaav.velocity(kernel, X3, aux)


@pytest.mark.parametrize("ids", [[0, 1, 2, 0, 1], [0, -1, 0, 1, 1]], ids=["too_large", "negative"])
def test_prompt_ids_out_of_range_are_refused(ids):
    with pytest.raises(ValueError, match=r"aux must hold prompt ids in 0\.\.1"):
        usaav.velocity(kernels.Prompts(1.0, GAUGES), X3, np.array(ids))


def test_non_integer_prompt_ids_are_refused():
    with pytest.raises(TypeError, match="aux must hold integer prompt ids"):
        usaav.velocity(kernels.Prompts(1.0, GAUGES), X3, np.array([0.0, 0.5, 1.0, 0.0, 1.0]))


def test_prompt_gauges_of_the_wrong_dimension_are_refused():
    with pytest.raises(ValueError, match="gauges act on d = 3"):
        usaav.velocity(kernels.Prompts(1.0, GAUGES), usaav.uniform_sphere(5, 4, 0), IDS)


def test_kernel_must_be_a_usaav_kernel():
    with pytest.raises(TypeError, match="kernel"):
        usaav.velocity(lambda x, y: x @ y, X3, None)


# --------------------------------------------------------------------------
# Gauges
# --------------------------------------------------------------------------

NON_ORTHOGONAL = [
    np.stack([np.eye(3), 2 * np.eye(3)]),
    np.stack([np.eye(3), np.eye(3) + 1e-6]),
    np.stack([np.eye(3), np.zeros((3, 3))]),
]


@pytest.mark.parametrize("gauges", NON_ORTHOGONAL, ids=["scaled", "perturbed", "zero"])
def test_prompts_refuse_non_orthogonal_gauges(gauges):
    with pytest.raises(ValueError, match="gauges must be orthogonal"):
        kernels.Prompts(1.0, gauges)


@pytest.mark.parametrize("gauges", NON_ORTHOGONAL, ids=["scaled", "perturbed", "zero"])
def test_gauge_kernel_refuses_non_orthogonal_gauge_values(gauges):
    kernel = kernels.Gauge(1.0, lambda aux: gauges[np.asarray(aux, dtype=int)])
    with pytest.raises(ValueError, match=r"gauge\(aux\) must be orthogonal"):
        usaav.velocity(kernel, X3, IDS)


@pytest.mark.parametrize("gauges", [np.eye(3), np.ones((2, 3, 4)), nan_at(GAUGES, (1, 0, 0))], ids=["2d", "not_square", "nan"])
def test_prompts_refuse_badly_shaped_or_non_finite_gauges(gauges):
    with pytest.raises(ValueError, match="gauges"):
        kernels.Prompts(1.0, gauges)


def test_gauge_kernel_refuses_gauges_of_the_wrong_shape():
    kernel = kernels.Gauge(1.0, lambda aux: np.broadcast_to(np.eye(3), (len(aux) + 1, 3, 3)))
    with pytest.raises(ValueError, match=r"gauge\(aux\) must return shape \(5, 3, 3\)"):
        usaav.velocity(kernel, X3, IDS)


def test_maximizers_refuse_non_orthogonal_gauges():
    with pytest.raises(ValueError, match="gauges must be orthogonal"):
        maximizers.gauge([1.0, 0.0, 0.0], NON_ORTHOGONAL[0])


# --------------------------------------------------------------------------
# Planes
# --------------------------------------------------------------------------

BAD_PLANES = [((0, 0), ValueError, "distinct"), ((0,), TypeError, "plane"), ((0, 1, 2), TypeError, "plane"), ((-1, 0), ValueError, r"plane\[0\]"), ((0.5, 1), TypeError, r"plane\[0\]"), ("ab", TypeError, "plane must be a pair"), (None, TypeError, "plane")]


@pytest.mark.parametrize("plane, error, message", BAD_PLANES, ids=[repr(p) for p, _, _ in BAD_PLANES])
@pytest.mark.parametrize("make", [lambda plane: kernels.RoPE(1.0, plane=plane), lambda plane: kernels.PhaseField(1.0, lambda s: s, plane), lambda plane: usaav.rotation(0.3, 3, plane)], ids=["rope", "phase_field", "rotation"])
def test_bad_planes_are_refused(make, plane, error, message):
    with pytest.raises(error, match=message):
        make(plane)


def test_plane_beyond_the_dimension_is_refused_at_bind_time():
    with pytest.raises(ValueError, match=r"plane = \(0, 3\) needs dimension d > 3, got d = 3"):
        usaav.velocity(kernels.RoPE(1.0, plane=(0, 3)), X3, POSITIONS)
    with pytest.raises(ValueError, match="plane"):
        maximizers.rope([1.0, 0.0, 0.0], 1.0, POSITIONS, plane=(0, 3))


# --------------------------------------------------------------------------
# simulate's options
# --------------------------------------------------------------------------


def run(**options):
    defaults = dict(kernel=kernels.USA(1.0), X0=X3, aux=None, t_max=0.2)
    defaults.update(options)
    return usaav.simulate(**defaults)


@pytest.mark.parametrize("dt, error", [(0.0, ValueError), (-0.05, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("0.1", TypeError), (None, TypeError)])
def test_bad_dt_is_refused(dt, error):
    with pytest.raises(error, match="dt"):
        run(dt=dt)


@pytest.mark.parametrize("t_max, error", [(0.0, ValueError), (-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("1", TypeError)])
def test_bad_t_max_is_refused(t_max, error):
    with pytest.raises(error, match="t_max"):
        run(t_max=t_max)


@pytest.mark.parametrize("method", ["euler", "rk4", "", None])
def test_bad_method_is_refused(method):
    with pytest.raises(ValueError, match="method must be one of"):
        run(method=method)


@pytest.mark.parametrize("clock", ["wall", "RAW", "", None])
@pytest.mark.parametrize("entry", ["simulate", "velocity", "energy"])
def test_bad_clock_is_refused(entry, clock):
    with pytest.raises(ValueError, match="clock must be one of"):
        if entry == "simulate":
            run(clock=clock)
        elif entry == "velocity":
            usaav.velocity(kernels.USA(1.0), X3, None, clock=clock)
        else:
            usaav.energy(kernels.USA(1.0), X3, None, clock=clock)


@pytest.mark.parametrize("record_every, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)])
def test_bad_record_every_is_refused(record_every, error):
    with pytest.raises(error, match="record_every"):
        run(record_every=record_every)


def test_stop_tol_with_solve_ivp_is_refused():
    with pytest.raises(ValueError, match="stop_tol is only supported with method='heun'"):
        run(method="solve_ivp", stop_tol=1e-6)


@pytest.mark.parametrize("stop_tol, error", [(0.0, ValueError), (-1e-6, ValueError), (np.nan, ValueError)])
def test_bad_stop_tol_is_refused(stop_tol, error):
    with pytest.raises(error, match="stop_tol"):
        run(stop_tol=stop_tol)


def test_bad_stop_window_is_refused():
    with pytest.raises(ValueError, match="stop_window"):
        run(stop_tol=1e-6, stop_window=0.0)


def test_missing_seed_or_labels_when_x0_is_drawn_are_refused():
    with pytest.raises(TypeError, match="seed"):
        run(X0=None, aux=POSITIONS)
    with pytest.raises(TypeError, match="aux"):
        run(X0=None, aux=None, seed=1)
    with pytest.raises(ValueError, match="seed"):
        run(X0=None, aux=POSITIONS, seed=-1)


# --------------------------------------------------------------------------
# Geometry and maximizers
# --------------------------------------------------------------------------


def test_uniform_sphere_arguments_are_checked():
    with pytest.raises(TypeError, match="rng"):
        usaav.uniform_sphere(5, 3, None)
    with pytest.raises(ValueError, match="d must be"):
        usaav.uniform_sphere(5, 1, 0)
    with pytest.raises(ValueError, match="n must be"):
        usaav.uniform_sphere(0, 3, 0)
    with pytest.raises(TypeError, match="n must be"):
        usaav.uniform_sphere(2.5, 3, 0)


def test_rotation_refuses_non_finite_angles():
    with pytest.raises(ValueError, match="angle"):
        usaav.rotation(np.nan, 3)


@pytest.mark.parametrize("v", [[1.0, 1.0, 0.0], [np.nan, 0.0, 1.0], [1.0], [[1.0, 0.0]]], ids=["not_unit", "nan", "d=1", "2d"])
def test_maximizers_refuse_bad_v(v):
    with pytest.raises(ValueError, match="v must"):
        maximizers.rope(v, 1.0, POSITIONS)


def test_gauge_for_targets_checks_targets_and_kind():
    with pytest.raises(ValueError, match="targets must have unit rows"):
        maximizers.gauge_for_targets([1.0, 0.0, 0.0], [[1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match=r"targets must have shape \(m, 3\)"):
        maximizers.gauge_for_targets([1.0, 0.0, 0.0], [[1.0, 0.0]])
    with pytest.raises(ValueError, match="kind"):
        maximizers.gauge_for_targets([1.0, 0.0, 0.0], [[0.0, 1.0, 0.0]], kind="givens")


def test_orbit_angles_refuse_v_orthogonal_to_the_plane():
    with pytest.raises(ValueError, match="v must have a non-zero component in plane"):
        maximizers.orbit_angles(X3, [0.0, 0.0, 1.0])


def test_realize_on_orbit_refuses_empty_or_non_finite_targets():
    with pytest.raises(ValueError, match="angles_target"):
        maximizers.realize_on_orbit([])
    with pytest.raises(ValueError, match="angles_target"):
        maximizers.realize_on_orbit([0.1, np.nan])


def test_separated_weight_must_be_symmetric():
    kernel = kernels.Separated(1.0, lambda a, b: np.add.outer(a, 2 * b))
    with pytest.raises(ValueError, match="weight must be symmetric"):
        usaav.velocity(kernel, X3, POSITIONS)


def test_separated_weight_of_the_wrong_shape_is_refused():
    kernel = kernels.Separated(1.0, lambda a, b: np.ones((len(a), len(b) + 1)))
    with pytest.raises(ValueError, match=r"weight\(a, b\) must return shape"):
        usaav.velocity(kernel, X3, POSITIONS)


def test_relative_energy_gap_refuses_a_sign_changing_weight():
    kernel = kernels.Separated(1.0, lambda a, b: np.cos(2 * np.pi * np.subtract.outer(a, b)))
    with pytest.raises(ValueError, match="sign-changing weight"):
        usaav.relative_energy_gap(kernel, X3, POSITIONS)


def test_observables_refuse_arrays_of_the_wrong_rank():
    with pytest.raises(ValueError, match=r"X must have shape \(n, d\) or \(frames, n, d\)"):
        usaav.collapse_gap(np.ones(3))
