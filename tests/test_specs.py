"""usaav.specs: kernels as JSON specs shared with the browser twin.

The round trip ``from_spec(to_spec(kernel, aux, d))`` must give the same
velocities and energies as ``kernel`` at ``aux`` for every kernel class, through
JSON and through pickle; the tabulated callables answer at their labels only;
bad specs raise errors that name the field.
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from scipy.stats import special_ortho_group

import usaav
from usaav import kernels
from usaav.gauges import WavyGauge
from usaav.specs import SPEC_TYPES, TabulatedGauge, TabulatedPhase, TabulatedWeight, from_spec, to_spec

N = 12
POSITIONS = usaav.labels.replicate(usaav.labels.grid_positions(N // 2), 2)  # two particles per label


def _weight(a, b):
    return np.cos(2 * np.pi * np.subtract.outer(a, b)) + 0.25  # changes sign


def _phase(s):
    return 3 * s**2 - np.sin(2 * np.pi * s)


def _haar_gauge(aux):
    # One Haar rotation per distinct label, the same for equal labels.
    labels = np.unique(aux)
    gauges = special_ortho_group.rvs(4, size=len(labels), random_state=1)
    return gauges[np.searchsorted(labels, aux)]


# (kernel, aux, d): every kernel class of usaav.kernels, both distance-bias
# profiles, planes other than (0, 1), d from 2 to 4.
KERNELS = {
    "USA": (kernels.USA(1.5), POSITIONS, 3),
    "DistanceBias exponential": (kernels.DistanceBias(2.0, 0.2), POSITIONS, 3),
    "DistanceBias gaussian": (kernels.DistanceBias(0.5, 0.3, "gaussian"), POSITIONS, 2),
    "Separated": (kernels.Separated(1.2, _weight), POSITIONS, 3),
    "RoPE": (kernels.RoPE(3.0, theta=5.0, plane=(2, 0)), POSITIONS, 3),
    "PhaseField": (kernels.PhaseField(1.0, _phase, plane=(1, 3)), POSITIONS, 4),
    "Gauge generalized RoPE": (kernels.Gauge(2.0, WavyGauge(0.5, 3)), POSITIONS, 3),
    "Gauge Haar": (kernels.Gauge(0.8, _haar_gauge), POSITIONS, 4),
    "Prompts": (kernels.Prompts(1.0, special_ortho_group.rvs(3, size=3, random_state=2)), np.arange(N) % 3, 3),
    "Toeplitz": (kernels.Toeplitz({0: 0.2, 1: 1.0, 4: -0.3}), POSITIONS, 3),
}


@pytest.fixture(params=list(KERNELS), ids=list(KERNELS))
def case(request):
    kernel, aux, d = KERNELS[request.param]
    X = usaav.uniform_sphere(len(aux), d, rng=3)
    return kernel, aux, d, X


def test_every_spec_type_is_covered():
    kinds = {to_spec(kernel, aux, d)["type"] for kernel, aux, d in KERNELS.values()}
    assert kinds == set(SPEC_TYPES)


def test_round_trip_through_json_gives_the_same_velocity_and_energy(case):
    kernel, aux, d, X = case
    spec = to_spec(kernel, aux, d)
    kernel_back, aux_back = from_spec(json.loads(json.dumps(spec)))
    assert type(kernel_back) is type(kernel)
    for clock in ("raw", "rescaled"):
        # Same numbers in the same operations: equal up to the last bit or two.
        np.testing.assert_allclose(
            usaav.velocity(kernel_back, X, aux_back, clock=clock),
            usaav.velocity(kernel, X, aux, clock=clock),
            rtol=1e-15, atol=1e-15,
        )
        assert usaav.energy(kernel_back, X, aux_back, clock=clock) == pytest.approx(
            usaav.energy(kernel, X, aux, clock=clock), rel=1e-15
        )
    np.testing.assert_array_equal(aux_back, aux)


def test_spec_is_plain_json(case):
    kernel, aux, d, _ = case
    spec = to_spec(kernel, aux, d)
    assert json.loads(json.dumps(spec, allow_nan=False)) == spec
    assert spec["aux"] == list(aux)


def test_round_trip_kernel_pickles(case):
    kernel, aux, d, X = case
    kernel_back, aux_back = from_spec(to_spec(kernel, aux, d))
    unpickled = pickle.loads(pickle.dumps(kernel_back))
    np.testing.assert_array_equal(usaav.velocity(unpickled, X, aux_back), usaav.velocity(kernel_back, X, aux_back))


def test_spec_fields_hold_the_evaluated_callables():
    kernel, aux, d = KERNELS["Gauge generalized RoPE"]
    spec = to_spec(kernel, aux, d)
    np.testing.assert_array_equal(np.array(spec["gauges"]), WavyGauge(0.5, 3)(aux))
    kernel, aux, d = KERNELS["Separated"]
    np.testing.assert_array_equal(np.array(to_spec(kernel, aux, d)["weights"]), _weight(aux, aux))
    kernel, aux, d = KERNELS["PhaseField"]
    spec = to_spec(kernel, aux, d)
    np.testing.assert_array_equal(spec["phases"], _phase(aux))
    assert spec["plane"] == [1, 3]
    assert to_spec(*KERNELS["Toeplitz"])["coefficients"] == {"0": 0.2, "1": 1.0, "4": -0.3}
    assert to_spec(*KERNELS["Prompts"])["aux"] == [i % 3 for i in range(N)]


@pytest.mark.parametrize("tabulated, call", [
    (TabulatedWeight(np.array([0.0, 0.5]), np.eye(2)), lambda f: f(np.array([0.25]), np.array([0.0]))),
    (TabulatedPhase(np.array([0.0, 0.5]), np.zeros(2)), lambda f: f(np.array([0.7]))),
    (TabulatedGauge(np.array([0.0, 0.5]), np.stack([np.eye(2)] * 2)), lambda f: f(np.array([1.0]))),
])
def test_tabulated_callables_answer_at_their_labels_only(tabulated, call):
    with pytest.raises(ValueError, match="tabulated at its spec's labels only"):
        call(tabulated)


def test_tabulated_lookup_with_repeated_and_unsorted_labels():
    labels = np.array([0.5, 0.0, 0.5, 0.25])
    table = np.array([[1.0, 2.0, 1.0, 3.0], [2.0, 4.0, 2.0, 5.0], [1.0, 2.0, 1.0, 3.0], [3.0, 5.0, 3.0, 6.0]])
    weight = TabulatedWeight(labels, table)
    np.testing.assert_array_equal(weight(np.array([0.25, 0.5]), np.array([0.0, 0.25])), [[5.0, 6.0], [2.0, 3.0]])


def test_to_spec_refuses_bad_arguments():
    with pytest.raises(TypeError, match="kernel must be a usaav kernel"):
        to_spec("USA", POSITIONS, 3)
    with pytest.raises(TypeError, match="aux must be an array of n labels"):
        to_spec(kernels.USA(1.0), None, 3)
    with pytest.raises(ValueError, match="aux must be a non-empty 1-D array"):
        to_spec(kernels.USA(1.0), [], 3)
    with pytest.raises(ValueError, match="d must be an integer >= 2"):
        to_spec(kernels.USA(1.0), POSITIONS, 1)
    with pytest.raises(ValueError, match=r"plane = \(0, 3\) needs dimension d > 3"):
        to_spec(kernels.RoPE(1.0, plane=(0, 3)), POSITIONS, 3)
    with pytest.raises(ValueError, match=r"aux must hold positions in \[0, 1\]"):
        to_spec(kernels.RoPE(1.0), POSITIONS + 2, 3)


@pytest.mark.parametrize("spec, error, message", [
    ([1, 2], TypeError, "spec must be a dict"),
    ({"type": "USA", "aux": [0.0]}, ValueError, r"spec\['type'\] must be one of"),
    ({"type": "usa", "beta": 1.0}, ValueError, "must have the field 'aux'"),
    ({"type": "usa", "aux": [0.0, 1.0]}, ValueError, "must have the field 'beta'"),
    ({"type": "usa", "beta": "1", "aux": [0.0]}, TypeError, r"spec\['beta'\] must be a real number"),
    ({"type": "usa", "beta": -1.0, "aux": [0.0]}, ValueError, "beta must be > 0"),
    ({"type": "usa", "beta": 1.0, "aux": []}, ValueError, r"spec\['aux'\] must be a non-empty list of numbers"),
    ({"type": "separated", "beta": 1.0, "weights": [[1.0]], "aux": [0.0, 0.5]}, ValueError,
     r"spec\['weights'\] must have shape \(2, 2\)"),
    ({"type": "gauge", "beta": 1.0, "gauges": [[1.0, 0.0], [0.0, 1.0]], "aux": [0.0]}, ValueError,
     r"spec\['gauges'\] must have shape \(m, d, d\)"),
    ({"type": "gauge", "beta": 1.0, "gauges": [np.eye(2).tolist()], "aux": [0.0, 0.5]}, ValueError,
     r"one matrix per label \(2\)"),
    ({"type": "prompts", "beta": 1.0, "gauges": [np.eye(2).tolist()], "aux": [0, 0.5]}, TypeError,
     "integer prompt ids"),
    ({"type": "prompts", "beta": 1.0, "gauges": [[[1.0, 1.0], [0.0, 1.0]]], "aux": [0]}, ValueError,
     "gauges must be orthogonal matrices"),
    ({"type": "toeplitz", "coefficients": {"one": 1.0}, "aux": [0.0]}, ValueError, "keys must be integers"),
])
def test_from_spec_refuses_bad_specs(spec, error, message):
    with pytest.raises(error, match=message):
        from_spec(spec)
