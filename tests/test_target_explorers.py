"""The explorers of chapters 3, 4, 5 and 7 from Python: options, placeholders, and the state they hand back.

The browser side runs in node (the bundle the widget ships, headless; skipped
with the reason where node is missing); its reported state is checked with
the library, which is the reference.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

import usaav
from usaav import explorers, maximizers, targets
from usaav.explorers import OPTION_RANGES, bundle, state_from_snapshot

#: The explorers of chapters 3, 4, 5 and 7, built on usaav.targets and usaav.maximizers.
TARGET_EXPLORERS = ("latitude", "orbit_law", "prompt_law", "prompts", "toeplitz", "metastability")

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node (>= 20) is not installed")
CONSTRUCTORS = {name: getattr(explorers, name) for name in TARGET_EXPLORERS}


def _node(script: str, cwd) -> str:
    result = subprocess.run([NODE, "--input-type=module", "-e", script], cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "usaav-explorers.mjs"
    path.write_text(bundle(), encoding="utf-8")
    return path


def _headless(bundle_file, name, options, t):
    out = _node(f"import w from {json.dumps(bundle_file.as_uri())};"
                f"console.log(JSON.stringify(w.runHeadless({json.dumps(name)}, {json.dumps(options)}, {t})));",
                bundle_file.parent)
    return json.loads(out)


# --------------------------------------------------------------------------
# Constructors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TARGET_EXPLORERS))
def test_constructor_makes_the_named_explorer_with_its_default_options(name):
    w = CONSTRUCTORS[name]()
    assert w.name == name and set(w.options) == set(OPTION_RANGES[name])
    assert f'"name":"{name}"' in w._repr_mimebundle_()[0]["text/html"].replace("&quot;", '"')


@pytest.mark.parametrize(("name", "kwargs", "error", "message"), [
    ("latitude", {"polar": 7}, ValueError, "polar must be a multiple of 5"),
    ("latitude", {"plane": "x1x4"}, ValueError, "plane must be one of"),
    ("latitude", {"flow": 1}, TypeError, "flow must be True or False, got int"),
    ("latitude", {"copies": 2}, ValueError, "copies must be one of"),
    ("orbit_law", {"law": "cauchy"}, ValueError, "law must be one of"),
    ("orbit_law", {"quantile": "__import__('os')"}, ValueError, "unknown name '__import__'"),
    ("orbit_law", {"quantile": "pi*(2*s"}, ValueError, r"character 8: unbalanced parenthesis"),
    ("orbit_law", {"quantile": 3}, TypeError, "quantile must be a string, got int"),
    ("orbit_law", {"n": 75}, ValueError, "n must be a multiple of 50"),
    ("prompt_law", {"word": "  "}, ValueError, "word must contain visible characters"),
    ("prompt_law", {"word": "x" * 25}, ValueError, "word must have at most 24 characters, got 25"),
    ("prompt_law", {"shape": "torus"}, ValueError, "shape must be one of"),
    ("prompts", {"m": 11}, ValueError, r"m must lie in \[1, 10\]"),
    ("prompts", {"layout": "spiral"}, ValueError, "layout must be one of"),
    ("toeplitz", {"c2": 1.5}, ValueError, r"c2 must lie in \[0.0, 1.0\]"),
    ("toeplitz", {"c1": "0.5"}, TypeError, "c1 must be a number, got str"),
    ("metastability", {"beta": 6.5}, ValueError, "beta must be an integer"),
    ("metastability", {"clusters": 4}, ValueError, r"clusters must lie in \[2, 3\]"),
])
def test_bad_options_raise_naming_the_option(name, kwargs, error, message):
    with pytest.raises(error, match=message):
        CONSTRUCTORS[name](**kwargs)


# --------------------------------------------------------------------------
# State: JS -> Python, checked with the library
# --------------------------------------------------------------------------


@needs_node
def test_latitude_state_is_the_rope_maximiser_and_its_flow_is_at_the_ceiling(bundle_file):
    w = explorers.latitude(polar=45, theta=1.5, plane="x1x3")
    result = _headless(bundle_file, "latitude", w.options, 30)
    maximiser = state_from_snapshot(result["snapshot"], "maximiser")
    v = targets.tilted_start(np.radians(45), (0, 2))
    np.testing.assert_allclose(maximiser.X, maximizers.rope(v, 1.5 * np.pi, maximiser.aux, (0, 2)), atol=1e-14)
    flow = state_from_snapshot(result["snapshot"], "flow")
    assert abs(flow.t - 30) < 1e-9
    assert usaav.relative_energy_gap(flow.kernel, flow.X, flow.aux) < 1e-12
    assert usaav.conditional_diameter(flow.X, flow.aux) < 1e-9
    assert np.ptp(flow.X[:, 1]) < 1e-9  # the axis of the (x1, x3)-plane is x2
    assert usaav.gauge_gap(flow.kernel, flow.X, flow.aux) == pytest.approx(result["readouts"]["flowGauge"], abs=1e-20)


@needs_node
def test_orbit_law_state_is_the_realisation_of_usaav_targets(bundle_file):
    w = explorers.orbit_law(law="your quantile", quantile="tanh(3*(s - 0.5)) * 2", n=300)
    result = _headless(bundle_file, "orbit_law", w.options, 0)
    state = state_from_snapshot(result["snapshot"])
    reference = targets.realize_law(targets.angle_law("your quantile", expression="tanh(3*(s - 0.5)) * 2"), n=300)
    np.testing.assert_allclose(state.X, reference.X, atol=1e-12)
    assert result["readouts"]["ks"] == pytest.approx(reference.ks_distance, abs=1e-12)


@needs_node
def test_prompt_law_state_lies_on_targets_with_householder_gauges(bundle_file):
    result = _headless(bundle_file, "prompt_law", explorers.prompt_law(shape="two caps", n=500).options, 0)
    state = state_from_snapshot(result["snapshot"])
    v = np.array([0.0, 0.0, 1.0])
    G = maximizers.gauge_for_targets(v, state.X)  # the targets are the state itself (x_p = T_p)
    assert usaav.relative_energy_gap(usaav.kernels.Prompts(1.0, G), maximizers.gauge(v, G), np.arange(500)) < 1e-13
    assert result["readouts"]["error"] < 1e-14 and abs(result["readouts"]["gap"]) < 1e-13


@needs_node
@pytest.mark.parametrize("layout", targets.PROMPT_LAYOUTS)
def test_prompts_state_has_one_cluster_per_distinct_point(bundle_file, layout):
    result = _headless(bundle_file, "prompts", explorers.prompts(m=5, layout=layout, seed=3).options, 30)
    state = state_from_snapshot(result["snapshot"])
    u = usaav.normalize(state.kernel.gauge_frame(state.X, state.aux).mean(axis=0))
    points = maximizers.gauge(u, state.kernel.gauges)
    assert usaav.count_clusters(state.X) == usaav.count_clusters(points) == int(result["readouts"]["clusters"])
    assert targets.count_distinct(state.kernel.gauges) == int(result["readouts"]["gauges"])


@needs_node
def test_toeplitz_state_winds_k_star_times_below_the_finite_bound(bundle_file):
    result = _headless(bundle_file, "toeplitz", explorers.toeplitz(c0=0.1, c1=0.0, c2=0.0, c3=0.8).options, 60)
    state = state_from_snapshot(result["snapshot"])
    C = state.kernel.profile(state.aux[:, None] - state.aux[None, :])
    E = usaav.energy(state.kernel, state.X, state.aux)
    assert E <= np.linalg.eigvalsh(C).max() / (2 * len(state.X)) + 1e-12  # MODEL.md §4, Prop. 10 row
    assert E == pytest.approx(result["readouts"]["energy"], rel=1e-12)
    assert round(abs(usaav.winding_number(state.X, state.aux))) == 3 == int(result["readouts"]["kStar"])


@needs_node
def test_metastability_state_is_clustered_and_the_reduced_prediction_is_the_librarys(bundle_file):
    from usaav.experiments import reduced_merger_time

    result = _headless(bundle_file, "metastability", explorers.metastability(beta=4, gap=1.0).options, 1)
    state = state_from_snapshot(result["snapshot"])
    assert state.X.shape == (40, 3) and abs(state.t - 1.0) < 1e-9
    centres = usaav.normalize(state.X.reshape(2, 20, 3).mean(axis=1))
    initial = float(np.arccos(np.clip(centres[0] @ centres[1], -1, 1)))
    # The reduced flow is autonomous: from the centres at t' = 1 it needs T1 - 1 more (up to the clusters'
    # finite size, which the reduced flow ignores).
    assert result["readouts"]["reduced"] == pytest.approx(1.0 + reduced_merger_time(4.0, initial, 0.1), rel=1e-2)
    # c = 1 - cos Δ0 of the sampled start: Δ0 is 1 up to the caps' radius 0.05.
    assert result["readouts"]["c"] == pytest.approx(1 - np.cos(1.0), abs=0.05 * np.sin(1.0) + 1e-3)
