"""The shared scenario table (usaav.scenarios) and the §6.2 gallery set-up built on it."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import usaav
from usaav import kernels, scenarios
from usaav.experiments import gallery_setup, representation_gallery
from usaav.labels import grid_positions


def _gallery_setup_before(scenario, n=400, seed=0, *, beta=1.0, length=0.25, toeplitz=(0.2, 1.0, 2),
                          wavy=(0.5, 3), n_prompts=5):
    """The §6.2 set-up as written before the shared table, kept verbatim as the reference.

    One deliberate change since: the prompt gauges come from the SciPy-independent
    Haar sampler (checked against Gram–Schmidt in test_geometry.py), no longer
    from scipy.stats.special_ortho_group, whose draws changed between SciPy releases.
    """
    rng = np.random.default_rng(seed)
    X0 = usaav.uniform_sphere(n, 3, rng)
    gauges = usaav.sphere.haar_rotations(n_prompts, 3, rng)
    positions = grid_positions(n)
    if scenario == "baseline":
        return kernels.USA(beta), X0, positions
    if scenario == "distance_bias":
        return kernels.DistanceBias(beta, length, "exponential"), X0, positions
    if scenario == "toeplitz":
        a0, a1, m = toeplitz
        return kernels.Toeplitz({0: float(a0), int(m): float(a1)}), X0, positions
    if scenario == "rope":
        return kernels.RoPE(beta, theta=2 * np.pi), X0, positions
    if scenario == "generalized_rope":
        alpha, m = wavy

        def gauge(s):
            s = np.asarray(s, dtype=np.float64)
            return (usaav.rotation(2 * np.pi * s, 3, (0, 1))
                    @ usaav.rotation(alpha * np.sin(2 * np.pi * m * s), 3, (0, 2)))

        return kernels.Gauge(beta, gauge), X0, positions
    return kernels.Prompts(beta, gauges), X0, np.arange(n) % n_prompts


GALLERY_CASES = [
    dict(n=400, seed=0),
    dict(n=40, seed=3, beta=2.0, length=0.1, toeplitz=(0.1, 1.0, 3), wavy=(0.6, 2), n_prompts=4),
]


@pytest.mark.parametrize("case", GALLERY_CASES, ids=["defaults", "overrides"])
@pytest.mark.parametrize("key", scenarios.KEYS)
def test_gallery_setup_is_bit_for_bit_what_it_was_before_the_shared_table(key, case):
    kernel, X0, aux = gallery_setup(key, **case)
    kernel_ref, X0_ref, aux_ref = _gallery_setup_before(key, **case)
    assert type(kernel) is type(kernel_ref)
    np.testing.assert_array_equal(X0, X0_ref)
    np.testing.assert_array_equal(aux, aux_ref)
    assert aux.dtype == aux_ref.dtype
    # Same kernel: identical forces and energy at the initial tokens, to the last bit.
    np.testing.assert_array_equal(usaav.velocity(kernel, X0, aux), usaav.velocity(kernel_ref, X0_ref, aux_ref))
    assert usaav.energy(kernel, X0, aux) == usaav.energy(kernel_ref, X0_ref, aux_ref)


def test_the_table_lists_the_six_scenarios_of_model_62_in_order():
    assert scenarios.KEYS == ("baseline", "distance_bias", "toeplitz", "rope", "generalized_rope", "prompts")
    assert [row.title[:row.title.index(")") + 1] for row in scenarios.TABLE.values()] == [
        "(i)", "(ii)", "(iii)", "(iv)", "(v)", "(vi)"]


@pytest.mark.parametrize("key", scenarios.KEYS)
def test_every_scenario_cites_model_62_and_builds_its_spec_type(key):
    row = scenarios.TABLE[key]
    assert "MODEL.md" in row.reference and "§6.2" in row.reference
    built = scenarios.setup(key, 20, rng=0)
    expected = {"usa": kernels.USA, "distance_bias": kernels.DistanceBias, "toeplitz": kernels.Toeplitz,
                "rope": kernels.RoPE, "gauge": kernels.Gauge, "prompts": kernels.Prompts}[row.spec_type]
    assert type(built.kernel) is expected
    assert built.aux.shape == built.values.shape == (20,)
    np.testing.assert_array_equal(built.values, built.aux.astype(float))


def test_prompt_scenario_labels_are_ids_modulo_the_number_of_prompts():
    built = scenarios.setup("prompts", 7, rng=0, n_prompts=3)
    np.testing.assert_array_equal(built.aux, [0, 1, 2, 0, 1, 2, 0])
    assert built.kernel.gauges.shape == (3, 3, 3)


def test_toeplitz_scenario_is_the_cosine_series_a0_plus_a1_cos_2pi_m_r():
    built = scenarios.setup("toeplitz", 10, a0=0.1, a1=0.8, m=3)
    r = np.linspace(0, 1, 7)
    np.testing.assert_allclose(built.kernel.profile(r), 0.1 + 0.8 * np.cos(6 * np.pi * r), atol=1e-15)


@pytest.mark.parametrize("function", [gallery_setup, representation_gallery])
def test_gallery_keyword_defaults_are_the_scenario_tables(function):
    """One copy of the §6.2 defaults: the gallery's keywords carry the table's values (and one β fits all rows)."""
    table = {key: row.parameters for key, row in scenarios.TABLE.items()}
    defaults = {name: p.default for name, p in inspect.signature(function).parameters.items()}
    assert defaults["beta"] == table["baseline"]["beta"]
    assert {row["beta"] for row in table.values() if "beta" in row} == {defaults["beta"]}
    assert defaults["length"] == table["distance_bias"]["length"]
    assert defaults["toeplitz"] == (table["toeplitz"]["a0"], table["toeplitz"]["a1"], table["toeplitz"]["m"])
    assert defaults["wavy"] == (table["generalized_rope"]["alpha"], table["generalized_rope"]["m"])
    assert defaults["n_prompts"] == table["prompts"]["n_prompts"]


def test_predicted_law_fills_in_the_parameters():
    assert scenarios.TABLE["toeplitz"].predicted_law(m=3) == "great circle run 3 times"
    assert scenarios.TABLE["prompts"].predicted_law().startswith("5 clusters")


def test_unknown_parameters_are_refused_naming_the_allowed_ones():
    with pytest.raises(TypeError, match=r"has no parameter\(s\) \['length'\]; its parameters are \['beta'\]"):
        scenarios.setup("baseline", 10, length=0.1)


@pytest.mark.parametrize("key, parameters, error, words", [
    ("torus", {}, ValueError, "key must be one of"),
    ("prompts", {"layout": "spiral"}, ValueError, "layout must be one of"),
    ("prompts", {"n_prompts": 0}, ValueError, "n_prompts must be an integer >= 1"),
    ("toeplitz", {"m": 0}, ValueError, "m must be an integer >= 1"),
    ("rope", {"beta": -1.0}, ValueError, "beta"),
])
def test_bad_scenario_input_is_refused(key, parameters, error, words):
    with pytest.raises(error, match=words):
        scenarios.setup(key, 10, rng=0, **parameters)


def test_defaults_are_read_only():
    with pytest.raises(TypeError):
        scenarios.TABLE["rope"].parameters["beta"] = 2.0


def test_as_json_survives_a_json_round_trip_with_the_defaults():
    data = json.loads(json.dumps(scenarios.as_json()))
    assert [row["key"] for row in data["scenarios"]] == list(scenarios.KEYS)
    for row in data["scenarios"]:
        defaults = scenarios.TABLE[row["key"]].parameters
        assert set(row["parameters"]) == set(defaults)
        for name, value in defaults.items():
            assert row["parameters"][name] == (list(value) if isinstance(value, tuple) else value)
