"""Bad input raises ValueError / TypeError naming the argument (API.md "Errors", STYLE.md principle 4).

The checks run at the entry points, before any numerical work, so nothing
here can hang or overflow; the cases are grouped by *class* of bad input
(types, shapes, values, sizes, callables' outputs) and run across every
public function that takes the argument, not only the examples that were
reported.
"""

from __future__ import annotations

import warnings

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


@pytest.mark.parametrize("X", [X3[0], X3[None, None], X3[:, :1] / np.abs(X3[:, :1]), np.zeros((0, 3)), np.zeros((2, 0, 3))],
                         ids=["1d", "4d", "d=1", "empty", "empty-batch"])
def test_points_of_the_wrong_shape_are_refused(X):
    """(n, d) is one system and (B, n, d) a batch; anything else, or no points, is refused."""
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


# ==========================================================================
# Classes of bad input, across every public function (not just examples)
# ==========================================================================

S8 = np.arange(8) / 8
X8 = usaav.uniform_sphere(8, 3, rng=3)
IDS8 = np.arange(8) % 2


#: Every public function taking a configuration X (unit rows), called with the other arguments fixed.
X_TAKERS = {
    "velocity": lambda X: usaav.velocity(kernels.RoPE(1.0), X, S8),
    "energy": lambda X: usaav.energy(kernels.Prompts(1.0, GAUGES), X, IDS8),
    "simulate": lambda X: usaav.simulate(kernels.USA(1.0), X, None, t_max=0.1),
    "relative_energy_gap": lambda X: usaav.relative_energy_gap(kernels.DistanceBias(1.0, 0.3), X, S8),
    "euler_lagrange_residual": lambda X: usaav.euler_lagrange_residual(kernels.Toeplitz({1: 1.0}), X, S8),
    "collapse_gap": lambda X: usaav.collapse_gap(X),
    "gauge_gap": lambda X: usaav.gauge_gap(kernels.RoPE(1.0), X, S8),
    "conditional_diameter": lambda X: usaav.conditional_diameter(X, IDS8),
    "count_clusters": lambda X: usaav.count_clusters(X, 0.1),
    "winding_number": lambda X: usaav.winding_number(X, S8),
    "project_tangent": lambda X: usaav.project_tangent(X, np.ones((8, 3))),
    "kernel.value": lambda X: kernels.Separated(1.0, lambda a, b: np.ones((len(a), len(b)))).value(X, S8),
    "gauge_frame": lambda X: kernels.RoPE(1.0).gauge_frame(X, S8),
    "orbit_angles": lambda X: maximizers.orbit_angles(X, [1.0, 0.0, 0.0]),
}

BAD_X = {
    "None": (None, TypeError, "X must"),
    "numeric string": ("1.0", TypeError, "X must"),
    "strings": (X8.astype(str), TypeError, "X must hold real numbers"),
    "complex": (X8 + 0j, TypeError, "X must hold real numbers, got complex"),
    "booleans": (X8 > 0, TypeError, "X must hold real numbers, got booleans"),
    "objects": (np.array([[1.0, 0.0, None]] * 8), TypeError, "X must hold real numbers"),
    "ragged": ([[1.0, 0.0, 0.0], [1.0, 0.0]], TypeError, "X must be a rectangular"),
    "empty": (np.zeros((0, 3)), ValueError, "X must hold at least one point"),
    "1-D": (X8[0], ValueError, "X must"),
    "d=1": (np.ones((8, 1)), ValueError, "X must have d >= 2"),
    "nan": (nan_at(X8, (3, 1)), ValueError, r"X must be finite; it has 1 NaN and 0 inf entries \(first at index \(3, 1\)\)"),
    "inf": (inf_at(X8, (0, 2)), ValueError, "X must be finite; it has 0 NaN and 1 inf"),
    "off the sphere": (2 * X8, ValueError, r"X must have unit rows .* max \|‖x‖-1\| = 1 at row"),
    "slightly off": (X8 * (1 + 1e-7), ValueError, "X must have unit rows"),
    "huge rows": (1e200 * X8, ValueError, "X must have unit rows .* = inf"),
}


@pytest.mark.parametrize("bad", list(BAD_X))
@pytest.mark.parametrize("taker", list(X_TAKERS))
def test_every_function_taking_x_refuses_every_class_of_bad_x(taker, bad):
    """None, strings, complex, booleans, objects, ragged, empty, wrong rank, d = 1, NaN/inf, off the sphere."""
    X, error, message = BAD_X[bad]
    if taker == "simulate" and bad == "None":
        message = "seed must be given when X0 is None"  # None asks simulate to draw X0
    with pytest.raises(error, match=message):
        X_TAKERS[taker](X)


FRAME_TAKERS = ["relative_energy_gap", "euler_lagrange_residual", "collapse_gap", "gauge_gap", "conditional_diameter", "gauge_frame"]


@pytest.mark.parametrize("frame", [0, 1, 4])
@pytest.mark.parametrize("taker", FRAME_TAKERS)
def test_observables_check_every_frame_of_a_stack(taker, frame):
    """One frame off the sphere anywhere in a (frames, n, d) stack is refused and located."""
    frames = np.stack([usaav.uniform_sphere(8, 3, rng=k) for k in range(5)])
    frames[frame, 6] *= 5.0
    with pytest.raises(ValueError, match=rf"X must have unit rows .* at frame {frame}, row 6"):
        X_TAKERS[taker](frames)


# velocity and energy take a stack (B, n, d) as a batch of systems (tests/test_batch.py)
@pytest.mark.parametrize("taker", ["count_clusters", "winding_number", "project_tangent"])
def test_single_configuration_functions_refuse_stacks(taker):
    with pytest.raises(ValueError, match="X must"):
        X_TAKERS[taker](np.stack([X8, X8]))


def test_normalize_refuses_zero_and_non_finite_rows_but_accepts_any_scale():
    with pytest.raises(ValueError, match="X must have non-zero rows.*row 1 is zero"):
        usaav.normalize(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="X must be finite"):
        usaav.normalize(np.array([[np.nan, 1.0]]))
    with pytest.raises(TypeError, match="X must hold real numbers"):
        usaav.normalize(np.array([[1.0 + 1j, 0.0]]))
    with pytest.raises(ValueError, match="d >= 2"):
        usaav.normalize(np.array([[2.0]]))
    np.testing.assert_allclose(usaav.normalize([[0.0, -1e-300]]), [[0.0, -1.0]])


def test_project_tangent_checks_v():
    with pytest.raises(ValueError, match=r"V must have the shape of X"):
        usaav.project_tangent(X8, np.ones((8, 2)))
    with pytest.raises(TypeError, match="V must hold real numbers"):
        usaav.project_tangent(X8, X8 + 1j)


def test_winding_number_needs_three_points():
    with pytest.raises(ValueError, match="at least 3 points"):
        usaav.winding_number(X8[:2])


# --------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------

LABEL_KERNELS = {
    "rope": kernels.RoPE(1.0),
    "distance_bias": kernels.DistanceBias(1.0, 0.3),
    "separated": kernels.Separated(1.0, lambda a, b: np.ones((len(a), len(b)))),
    "toeplitz": kernels.Toeplitz({1: 1.0}),
    "prompts": kernels.Prompts(1.0, GAUGES),
    "gauge": kernels.Gauge(1.0, lambda aux: np.broadcast_to(np.eye(3), (len(aux), 3, 3))),
}

BAD_AUX = {
    "None": (None, TypeError, "aux must be"),
    "string": ("01234567", TypeError, "aux must be"),
    "strings": (np.array(["0"] * 8), TypeError, "aux must hold real numbers"),
    "complex": (S8 + 0j, TypeError, "aux must hold real numbers"),
    "booleans": (S8 > 0.5, TypeError, "aux must hold real numbers"),
    "objects": (np.array([0.0] * 7 + [None]), TypeError, "aux must hold real numbers"),
    "short": (S8[:7], ValueError, r"aux must have shape \(8,\)"),
    "2-D": (S8[:, None], ValueError, r"aux must have shape \(8,\)"),
    "nan": (nan_at(S8, 5), ValueError, r"aux must be finite; it has 1 NaN and 0 inf entries \(first at index 5\)"),
}


@pytest.mark.parametrize("bad", list(BAD_AUX))
@pytest.mark.parametrize("kernel", list(LABEL_KERNELS))
@pytest.mark.parametrize("entry", ["velocity", "energy", "gauge_gap", "relative_energy_gap"])
def test_every_kernel_refuses_every_class_of_bad_labels(entry, kernel, bad):
    aux, error, message = BAD_AUX[bad]
    call = {"velocity": usaav.velocity, "energy": usaav.energy, "gauge_gap": usaav.gauge_gap,
            "relative_energy_gap": usaav.relative_energy_gap}[entry]
    with pytest.raises(error, match=message):
        call(LABEL_KERNELS[kernel], X8, aux)


def test_usa_accepts_no_labels_but_checks_given_ones():
    assert np.isfinite(usaav.energy(kernels.USA(1.0), X8, None))
    with pytest.raises(TypeError, match="aux must hold real numbers"):
        usaav.energy(kernels.USA(1.0), X8, S8 + 1j)


def test_position_just_above_one_is_shown_with_all_its_digits():
    aux = S8.copy()
    aux[7] = 1.0 + 2.3e-16
    with pytest.raises(ValueError, match=r"aux\[7\] = 1\.0000000000000002 is outside"):
        usaav.velocity(kernels.RoPE(1.0), X8, aux)


@pytest.mark.parametrize("value, dtype, shown", [(1e300, float, "1e\\+300"), (2.0**70, float, "1.18"), (-3, np.int64, "-3"),
                                                 (2**63 + 5, np.uint64, "9223372036854775813")])
def test_prompt_ids_out_of_range_are_shown_as_given(value, dtype, shown):
    """No wrap-around through int64: the offending id is printed as it was given."""
    ids = np.array([0, 1, 0, 1, 1, 0, 1, value], dtype=dtype)
    with pytest.raises(ValueError, match=rf"aux must hold prompt ids in 0\.\.1 .* got aux\[7\] = {shown}"):
        usaav.energy(kernels.Prompts(1.0, GAUGES), X8, ids)


def test_replicate_and_grid_positions_check_their_arguments():
    with pytest.raises(TypeError, match="labels must"):
        labels_module().replicate(None, 2)
    with pytest.raises(ValueError, match="labels must hold at least one"):
        labels_module().replicate([], 2)
    with pytest.raises(ValueError, match="labels must be a 1-D"):
        labels_module().replicate([[0.0]], 2)
    with pytest.raises(TypeError, match="copies must be an integer"):
        labels_module().replicate([0.0], 2.0)
    with pytest.raises(ValueError, match="GiB"):
        labels_module().grid_positions(2**40)


def labels_module():
    from usaav import labels

    return labels


# --------------------------------------------------------------------------
# Scalars and options
# --------------------------------------------------------------------------

SCALAR_CASES = [
    ("theta", lambda v: kernels.RoPE(1.0, theta=v), [(True, TypeError), ("1.0", TypeError), (1j, TypeError), (None, TypeError), (np.nan, ValueError), ([1.0], TypeError)]),
    ("theta", lambda v: maximizers.rope([1.0, 0.0, 0.0], v, S8), [(True, TypeError), ("2", TypeError), (np.inf, ValueError), (np.ones(2), TypeError)]),
    ("length", lambda v: kernels.DistanceBias(1.0, v), [(0.0, ValueError), (-1.0, ValueError), (True, TypeError), ("0.3", TypeError), (np.inf, ValueError)]),
    ("beta", lambda v: kernels.Toeplitz({1: 1.0}) and kernels.USA(v), [(1e7, ValueError), (1e-320, ValueError), (complex(1, 0), TypeError)]),
    ("threshold", lambda v: usaav.count_clusters(X8, v), [(np.nan, ValueError), (-1e-3, ValueError), ("0.1", TypeError), (None, TypeError), (np.inf, ValueError)]),
    ("dt", lambda v: usaav.simulate(kernels.USA(1.0), X8, None, 1.0, dt=v), [(1j, TypeError), (True, TypeError), (-0.1, ValueError)]),
    ("seed", lambda v: usaav.simulate(kernels.USA(1.0), None, S8, 0.1, seed=v), [(1.5, TypeError), (2.0, TypeError), ("1", TypeError), (True, TypeError), (-1, ValueError)]),
    ("seed", lambda v: usaav.simulate(kernels.USA(1.0), X8, None, 0.1, seed=v), [(1.5, TypeError)]),
    ("d", lambda v: usaav.simulate(kernels.USA(1.0), None, S8, 0.1, seed=1, d=v), [(1, ValueError), (3.0, TypeError)]),
    ("max_bytes", lambda v: usaav.simulate(kernels.USA(1.0), X8, None, 0.1, max_bytes=v), [(0, ValueError), (True, TypeError), (1e9, TypeError)]),
    ("max_steps", lambda v: usaav.simulate(kernels.USA(1.0), X8, None, 0.1, max_steps=v), [(0, ValueError), (1e9, TypeError)]),
    ("rtol", lambda v: usaav.simulate(kernels.USA(1.0), X8, None, 0.1, rtol=v), [(0.0, ValueError), (1e-16, ValueError), ("1e-6", TypeError)]),
    ("atol", lambda v: usaav.simulate(kernels.USA(1.0), X8, None, 0.1, atol=v), [(-1.0, ValueError), (np.nan, ValueError)]),
    ("ivp_method", lambda v: usaav.simulate(kernels.USA(1.0), X8, None, 0.1, method="solve_ivp", ivp_method=v), [("foo", ValueError), ("rk45", ValueError), (None, ValueError), (np.eye(2), ValueError)]),
    ("profile", lambda v: kernels.DistanceBias(1.0, 0.3, v), [(None, ValueError), (["gaussian"], ValueError), ("Gaussian", ValueError)]),
    ("kind", lambda v: maximizers.gauge_for_targets([1.0, 0.0, 0.0], [[0.0, 1.0, 0.0]], kind=v), [(None, ValueError), (1, ValueError)]),
    ("require_grid", lambda v: maximizers.toeplitz({1: 1.0}, S8, require_grid=v), [("no", TypeError), (None, TypeError)]),
    ("count", lambda v: labels_module().grid_positions(v), [(0, ValueError), (2.0, TypeError), ("4", TypeError)]),
    ("rng", lambda v: usaav.uniform_sphere(4, 3, v), [(None, TypeError), (1.5, TypeError), (True, TypeError), (np.random.RandomState(0), TypeError), (-1, ValueError)]),
    ("coefficients key k", lambda v: kernels.Toeplitz({v: 1.0}), [(2**30, ValueError), (True, TypeError), ("1", TypeError)]),
]
SCALAR_PARAMS = [pytest.param(name, make, value, error, id=f"{name}-{value!r}"[:60]) for name, make, cases in SCALAR_CASES for value, error in cases]


@pytest.mark.parametrize("name, make, value, error", SCALAR_PARAMS)
def test_bad_scalars_and_options_are_refused_naming_the_argument(name, make, value, error):
    """Bools, strings that parse as numbers, complex, None, NaN/inf and out-of-range values."""
    with pytest.raises(error, match=name):
        make(value)


@pytest.mark.parametrize("values, error, message", [
    ([1.5], TypeError, r"seeds\[0\] must be an integer, got float 1.5"),
    ([1, True], TypeError, r"seeds\[1\] must be an integer"),
    (np.array([1.0, 2.0]), TypeError, r"seeds\[0\] must be an integer"),
    ("12", TypeError, "seeds must be a sequence of integers"),
    (None, TypeError, "seeds must be a sequence"),
    (5, TypeError, "seeds must be a sequence"),
    ([], ValueError, "seeds must hold at least one"),
    ([0, -1], ValueError, r"seeds\[1\] must be an integer >= 0"),
    (np.zeros((2, 2), dtype=int), ValueError, "1-D"),
])
def test_check_int_sequence_refuses_non_integer_seeds(values, error, message):
    from usaav._validation import check_int_sequence

    with pytest.raises(error, match=message):
        check_int_sequence(values, "seeds", minimum=0)


def test_check_int_sequence_accepts_integers_of_any_kind():
    from usaav._validation import check_int_sequence

    assert check_int_sequence(range(3), "seeds") == (0, 1, 2)
    assert check_int_sequence(np.arange(2, dtype=np.uint8), "seeds") == (0, 1)
    assert check_int_sequence([np.int64(7)], "seeds") == (7,)


# --------------------------------------------------------------------------
# Callables' outputs: weights, gauges, phases
# --------------------------------------------------------------------------


def ones(a, b):
    return np.ones((len(a), len(b)))


BAD_CALLABLE_OUTPUTS = [
    ("weight complex", kernels.Separated(1.0, lambda a, b: ones(a, b) + 0j), TypeError, r"weight\(a, b\) must hold real numbers"),
    ("weight nan", kernels.Separated(1.0, lambda a, b: ones(a, b) * np.nan), ValueError, r"weight\(a, b\) must be finite"),
    ("weight strings", kernels.Separated(1.0, lambda a, b: ones(a, b).astype(str)), TypeError, r"weight\(a, b\) must hold real numbers"),
    ("weight scalar", kernels.Separated(1.0, lambda a, b: 1.0), ValueError, r"weight\(a, b\) must return shape"),
    ("gauge complex", kernels.Gauge(1.0, lambda aux: np.broadcast_to(np.eye(3), (len(aux), 3, 3)) + 0j), TypeError, r"gauge\(aux\) must hold real numbers"),
    ("gauge nan", kernels.Gauge(1.0, lambda aux: np.full((len(aux), 3, 3), np.nan)), ValueError, r"gauge\(aux\) must be finite"),
    ("gauge None", kernels.Gauge(1.0, lambda aux: None), TypeError, r"gauge\(aux\) must"),
    ("phase complex", kernels.PhaseField(1.0, lambda s: s + 0j), TypeError, r"phase\(s\) must hold real numbers"),
    ("phase nan", kernels.PhaseField(1.0, lambda s: s * np.nan), ValueError, r"phase\(s\) must be finite"),
    ("phase shape", kernels.PhaseField(1.0, lambda s: s[:-1]), ValueError, r"phase\(s\) must return shape"),
]


@pytest.mark.parametrize("kernel, error, message", [c[1:] for c in BAD_CALLABLE_OUTPUTS], ids=[c[0] for c in BAD_CALLABLE_OUTPUTS])
@pytest.mark.parametrize("entry", ["velocity", "energy"])
def test_bad_outputs_of_user_callables_are_refused(entry, kernel, error, message):
    call = usaav.velocity if entry == "velocity" else usaav.energy
    with pytest.raises(error, match=message):
        call(kernel, X8, S8)


def test_maximizer_callables_are_checked():
    with pytest.raises(TypeError, match=r"phase\(positions\) must hold real numbers"):
        maximizers.phase_field([1.0, 0.0, 0.0], lambda s: s + 1j, S8)
    with pytest.raises(TypeError, match="phase must be callable"):
        maximizers.phase_field([1.0, 0.0, 0.0], 0.3, S8)
    with pytest.raises(TypeError, match=r"angles_target\(s\) must hold real numbers"):
        maximizers.realize_on_orbit(lambda u: u + 1j)(S8)
    with pytest.raises(ValueError, match=r"s must hold quantile levels"):
        maximizers.realize_on_orbit([0.1, 0.2])(np.array([1.5]))
    with pytest.raises(ValueError, match="positions must hold at least one"):
        maximizers.rope([1.0, 0.0, 0.0], 1.0, [])


@pytest.mark.parametrize("n", [8, 1500])
@pytest.mark.parametrize("asymmetry", [5e-6, 1e-9])
def test_separated_weight_asymmetry_is_found_in_any_tile(n, asymmetry):
    """w(a, b) (1 + ε [a > 0.9][b < 0.1]): asymmetric only between far labels, i.e. (for n = 1500,
    several 724 x 724 tiles) only in an off-diagonal tile; found for ε = 5e-6 (which allclose let through) and 1e-9."""
    def weight(a, b):
        return np.exp(-np.abs(np.subtract.outer(a, b))) * (1 + asymmetry * np.outer(a > 0.9, b < 0.1))

    X = usaav.uniform_sphere(n, 3, rng=4)
    with pytest.raises(ValueError, match=r"weight must be symmetric.*relative difference"):
        usaav.energy(kernels.Separated(1.0, weight), X, np.linspace(0.0, 1.0, n))


def test_separated_weight_evaluated_in_any_order_is_accepted():
    """A symmetric formula that rounds differently in (a, b) and (b, a) (a few ulps) is accepted."""
    kernel = kernels.Separated(1.0, lambda a, b: np.exp(-(a[:, None] * 3.0 - b[None, :] * 3.0) ** 2 / 7.0) + 0.1 * np.add.outer(a, b) / 3.0)
    s = np.random.default_rng(5).random(1500)
    assert np.isfinite(usaav.energy(kernel, usaav.uniform_sphere(1500, 3, rng=5), s))


# --------------------------------------------------------------------------
# Sizes that cannot fit, step counts that cannot finish
# --------------------------------------------------------------------------


def test_simulate_refuses_a_recording_that_cannot_fit_and_says_how_to_fit():
    """1001 frames of 10 x 3 points (~0.5 MB) against max_bytes = 1e5: refused up front, naming record_every.

    (The issue's t_max = 1e4, dt = 1e-4 at the default 1 GiB is checked in
    tests/test_memory.py, in a child process whose memory is capped: were the
    guard broken, this process would try to allocate 450 GiB.)
    """
    X = usaav.uniform_sphere(10, 3, rng=6)
    with pytest.raises(ValueError, match=r"1001 frames of 10 x 3 points.*> max_bytes.*record_every >= \d+.*raise max_bytes"):
        usaav.simulate(kernels.USA(1.0), X, None, t_max=1.0, dt=1e-3, max_bytes=10**5)


def test_the_suggested_record_every_fits_and_one_less_does_not():
    """The message's record_every is the smallest that fits max_bytes (checked by running a small case)."""
    import re

    X = usaav.uniform_sphere(10, 3, rng=7)
    limit = 20_000  # bytes: ~40 frames of 10 x 3 (two copies) fit
    with pytest.raises(ValueError, match="record_every >=") as info:
        usaav.simulate(kernels.USA(1.0), X, None, t_max=1.0, dt=0.01, max_bytes=limit)
    every = int(re.search(r"record_every >= (\d+)", str(info.value)).group(1))

    run = usaav.simulate(kernels.USA(1.0), X, None, t_max=1.0, dt=0.01, max_bytes=limit, record_every=every)
    assert 2 * run.X.nbytes + 3 * 8 * len(run.t) <= limit
    with pytest.raises(ValueError, match="max_bytes"):
        usaav.simulate(kernels.USA(1.0), X, None, t_max=1.0, dt=0.01, max_bytes=limit, record_every=every - 1)


@pytest.mark.parametrize("dt", [1e-300, 5e-324])
def test_simulate_refuses_absurd_step_counts_instead_of_hanging(dt):
    with pytest.raises(ValueError, match="max_steps"):
        usaav.simulate(kernels.USA(1.0), X8, None, t_max=1.0, dt=dt, record_every=10**9)


@pytest.mark.parametrize("make", [
    lambda: usaav.uniform_sphere(10**10, 3, 0),
    lambda: usaav.rotation(np.zeros(10**6), 100),
    lambda: kernels.USA(1.0).value(usaav.uniform_sphere(20000, 3, 0), None),
    lambda: labels_module().replicate(np.zeros(10**4), 10**6),
], ids=["uniform_sphere", "rotation", "value", "replicate"])
def test_outputs_above_one_gib_are_refused(make):
    with pytest.raises(ValueError, match="GiB"):
        make()


# --------------------------------------------------------------------------
# The raw clock: no silent overflow (MODEL.md §3)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("beta", [710.0, 1000.0, 1e6])
@pytest.mark.parametrize("entry", ["velocity", "energy", "simulate"])
def test_raw_clock_refuses_beta_where_exp_beta_overflows(entry, beta):
    """β > log(max float) ≈ 709.78: a ValueError naming beta and the rescaled clock, never inf/NaN."""
    kernel = kernels.USA(beta)
    with pytest.raises(ValueError, match=r"beta = .* is too large for clock='raw'.*clock='rescaled'"):
        if entry == "simulate":
            usaav.simulate(kernel, X8, None, t_max=0.1)
        else:
            getattr(usaav, entry)(kernel, X8, None)
    # The rescaled clock works for the same β.
    assert np.isfinite(usaav.energy(kernel, X8, None, clock="rescaled"))


def test_raw_clock_energy_is_finite_just_below_the_overflow():
    """β = 709: E_n of a collapsed cloud is e^β/(2β) ≈ 5.8e304, finite (the pair sum is divided by n² first)."""
    collapsed = np.tile(X8[:1], (8, 1))
    assert usaav.energy(kernels.USA(709.0), collapsed, None) == pytest.approx(np.exp(709.0) / (2 * 709.0), rel=1e-12)


@pytest.mark.parametrize("entry", ["velocity", "energy", "simulate"])
def test_overflow_from_huge_weights_is_an_error_not_inf(entry):
    """Weights of 1e300 at β = 700: e^β w overflows although e^β alone does not; refused, not inf/NaN."""
    kernel = kernels.Separated(700.0, lambda a, b: 1e300 * np.ones((len(a), len(b))))
    with pytest.raises(ValueError, match="overflows float64: .* or beta = 700 too large for clock=.raw."):
        if entry == "simulate":
            with pytest.warns(RuntimeWarning, match="dt \\* e\\^beta"):
                usaav.simulate(kernel, X8, S8, t_max=1e-300, dt=1e-300)
        else:
            getattr(usaav, entry)(kernel, X8, S8)


def test_heun_in_the_raw_clock_warns_beyond_its_stability_limit():
    """dt·e^β > 2 warns (naming dt, beta and the rescaled clock); just below it does not."""
    beta = 4.0
    with pytest.warns(RuntimeWarning, match=r"dt \* e\^beta = 2.18 > 2 \(dt = 0.04, beta = 4\).*clock='rescaled'"):
        usaav.simulate(kernels.USA(beta), X8, None, t_max=0.04, dt=0.04)
    usaav.simulate(kernels.USA(beta), X8, None, t_max=0.035, dt=0.035)  # 1.91: no warning (errors are raised)
    usaav.simulate(kernels.USA(beta), X8, None, t_max=0.04, dt=0.04, clock="rescaled")


def test_the_raw_step_limit_separates_usable_steps_from_lost_ones():
    """The measurement behind RAW_STEP_LIMIT = 2: Heun against dt/64 over t = 2 (USA, β = 3, 32 points).

    Error below 1e-2 at dt·e^β = 0.5, above 0.1 at dt·e^β = 5 (the warning's
    promise "position errors of 0.1 and more" past the limit).
    """
    from usaav.dynamics import RAW_STEP_LIMIT

    beta = 3.0
    X0 = usaav.uniform_sphere(32, 3, rng=8)
    kernel = kernels.USA(beta)

    def error(step_times_exp_beta):
        dt = step_times_exp_beta * np.exp(-beta)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            coarse = usaav.simulate(kernel, X0, None, t_max=2.0, dt=dt, max_steps=10**6)
        fine = usaav.simulate(kernel, X0, None, t_max=2.0, dt=dt / 64, record_every=64, max_steps=10**6)
        return np.max(np.linalg.norm(coarse.X - fine.X, axis=-1))

    assert RAW_STEP_LIMIT == 2.0
    assert error(0.5) < 1e-2
    assert error(5.0) > 0.1


@pytest.mark.parametrize("kernel", [kernels.Toeplitz({1: 1e308}), kernels.Separated(1.0, lambda a, b: 1e308 * np.ones((len(a), len(b))))],
                         ids=["toeplitz", "separated"])
@pytest.mark.parametrize("entry", ["energy", "velocity", "relative_energy_gap", "euler_lagrange_residual"])
def test_overflow_in_any_clock_is_an_error_naming_the_coefficients(entry, kernel):
    """Coefficients or weights of 1e308 overflow the sums: a ValueError, never inf or NaN."""
    with pytest.raises(ValueError, match="too large"):
        getattr(usaav, entry)(kernel, X8, S8)
