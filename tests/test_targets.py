"""Target laws (usaav.targets): orbit-angle laws and sphere shapes (the parser: test_formula; gauges: test_gauges).

Each test checks one fact against an independent computation: closed-form
quantiles and CDFs for the angle laws, the geometry of each shape.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy.stats import kstest

import usaav
from usaav import kernels, maximizers, targets

S = np.linspace(0.0005, 0.9995, 41)


# --------------------------------------------------------------------------
# Laws of the orbit angle (Thm. 2 (ii))
# --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["9**9**9**9 + s", "sqrt(-1 - s)", "log(s - s)", "exp(exp(exp(9)))*s"])
def test_non_finite_values_raise_naming_the_formula_not_returning_nan(text):
    with pytest.raises(ValueError, match="is not finite at s ="):
        targets.user_quantile(text)


@pytest.mark.parametrize("name", ["uniform arc", "von Mises", "bimodal mixture", "your quantile"])
def test_angle_law_cdf_runs_from_zero_to_one_and_the_quantile_inverts_it(name):
    law = targets.angle_law(name, 0.4)
    assert np.all(np.diff(law.cdf_values) >= 0)
    assert law.cdf(-np.pi) == pytest.approx(0.0, abs=1e-4) and law.cdf(np.pi) == pytest.approx(1.0)
    # F(Q(u)) = u up to the tabulation (grid spacing 2π/4096; the typed law has 20000 atoms).
    np.testing.assert_allclose(law.cdf(law.quantile(S)), S, atol=2e-3)


def test_uniform_arc_quantile_is_the_affine_closed_form():
    law = targets.angle_law("uniform arc", 0.5)
    np.testing.assert_allclose(law.quantile(S), 0.5 * np.pi * (2 * S - 1), atol=2 * np.pi / 4096)


def test_von_mises_density_integrates_to_one_and_peaks_at_zero():
    law = targets.angle_law("von Mises", 0.3)
    density, grid = law.density_values, law.grid
    # the trapezoid rule written out (np.trapezoid needs NumPy >= 2; the library allows 1.24)
    assert np.sum(np.diff(grid) * (density[1:] + density[:-1]) / 2) == pytest.approx(1.0, rel=1e-12)
    assert law.grid[np.argmax(law.density_values)] == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("alpha", [-2.0, -np.pi / 6, 0.5, 2.5])
def test_bimodal_mixture_cdf_matches_the_von_mises_closed_form(alpha):
    """F(α) against quad of 0.35 vM(-2π/3, κ) + 0.65 vM(π/3, κ), normalised by 2π I₀(κ), κ = 1/(wπ/4)²."""
    from scipy.integrate import quad
    from scipy.special import i0

    kappa = 1 / (0.4 * np.pi / 4) ** 2

    def density(a):
        bumps = [np.exp(kappa * np.cos(a - c)) / (2 * np.pi * i0(kappa)) for c in (-2 * np.pi / 3, np.pi / 3)]
        return 0.35 * bumps[0] + 0.65 * bumps[1]

    expected = quad(density, -np.pi, alpha, epsabs=1e-13)[0]
    law = targets.angle_law("bimodal mixture", 0.4)
    assert law.cdf(alpha) == pytest.approx(expected, abs=1e-6)  # trapezoid rule on 4097 points


def test_typed_monotone_quantile_is_realised_exactly():
    law = targets.angle_law("your quantile", expression="pi * (2*s - 1)**3")
    result = targets.realize_law(law, n=200)
    s = targets.midpoints(200)
    np.testing.assert_allclose(np.sort(result.angles), np.sort(np.pi * (2 * s - 1) ** 3), atol=1e-12)


@pytest.mark.parametrize("name", ["uniform arc", "von Mises", "bimodal mixture", "your quantile"])
def test_realize_law_reaches_the_energy_ceiling_and_the_best_ks_distance(name):
    n = 400
    result = targets.realize_law(targets.angle_law(name, 0.4), n=n)
    assert result.energy_gap < 1e-13  # Thm. 2 (i): every pair at e^β/β, up to round-off
    # Midpoints of the quantile give KS = 1/(2n) exactly for a continuous law;
    # the tabulated CDF adds at most its interpolation error (~1e-4 here).
    assert result.ks_distance == pytest.approx(0.5 / n, abs=2e-4)
    assert result.ks_distance == pytest.approx(kstest(result.angles, result.law.cdf).statistic)


def test_realized_points_lie_on_the_orbit_of_v():
    result = targets.realize_law(targets.angle_law("von Mises", 0.4), n=100, polar=1.1)
    np.testing.assert_allclose(result.X[:, 2], np.cos(1.1), atol=1e-15)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(name="cauchy"), ValueError, "name must be one of"),
    (dict(name="von Mises", width=0.0), ValueError, "width must be in"),
    (dict(name="von Mises", width=1.5), ValueError, "width must be in"),
    (dict(name="von Mises", width="wide"), TypeError, "width must be a real number"),
    (dict(name="your quantile", expression="s +"), ValueError, r"formula 's \+'"),
])
def test_angle_law_refuses_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        targets.angle_law(**kwargs)


def test_realize_law_needs_an_angle_law():
    with pytest.raises(TypeError, match="law must be an AngleLaw"):
        targets.realize_law("von Mises")


@pytest.mark.parametrize("plane", [(0, 1), (0, 2), (1, 2)])
@pytest.mark.parametrize("polar", [0.0, 0.7, np.pi / 2, 2.5])
def test_tilted_start_is_a_unit_vector_at_the_polar_angle_from_the_plane_axis(plane, polar):
    v = targets.tilted_start(polar, plane)
    (axis,) = {0, 1, 2} - set(plane)
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-15)
    assert math.acos(np.clip(v[axis], -1, 1)) == pytest.approx(polar, abs=1e-12)
    # Its RoPE orbit keeps the height along the axis (Cor. 1).
    X = maximizers.rope(v, 2 * np.pi, np.arange(16) / 16, plane)
    np.testing.assert_allclose(X[:, axis], v[axis], atol=1e-15)


# --------------------------------------------------------------------------
# Shapes on the sphere (Thm. 4 (iii))
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["uniform", "spiral", "ring", "two caps", "word"])
def test_sphere_targets_are_unit_vectors(shape):
    T = targets.sphere_target(shape, 300, rng=0)
    assert T.shape == (300, 3)
    np.testing.assert_allclose(np.linalg.norm(T, axis=1), 1.0, atol=1e-14)


def test_uniform_shape_has_uniform_heights_and_azimuths():
    T = targets.sphere_target("uniform", 4000, rng=1)
    # Archimedes: x3 of a uniform point on S^2 is Unif[-1, 1]; the azimuth is Unif[-π, π].
    assert kstest(T[:, 2], "uniform", args=(-1, 2)).pvalue > 1e-3
    assert kstest(np.arctan2(T[:, 1], T[:, 0]), "uniform", args=(-np.pi, 2 * np.pi)).pvalue > 1e-3


def test_two_caps_points_lie_within_035_of_one_of_two_centres():
    T = targets.sphere_target("two caps", 2000, rng=2)
    p = np.array([[0.0, 0.5, 0.0], [0.9, 0.5, 0.0]])  # zero polar angle: the two centres
    centres = targets.target_map("two caps", p)
    angles = np.arccos(np.clip(T @ centres.T, -1, 1)).min(axis=1)
    assert angles.max() <= 0.35 + 1e-12
    assert 0.45 < np.mean(np.argmin(np.arccos(np.clip(T @ centres.T, -1, 1)), axis=1) == 0) < 0.55


def test_ring_points_lie_in_a_band_of_half_width_0075_about_a_great_circle():
    T = targets.sphere_target("ring", 2000, rng=3)
    normal = usaav.rotation(0.6, 3, (1, 2)) @ np.array([0.0, 0.0, 1.0])
    assert np.max(np.abs(np.arcsin(T @ normal))) <= 0.075 + 1e-12


def test_spiral_latitude_grows_linearly_along_the_prompt():
    p = np.linspace(0, 1, 11)[:, None]
    T = targets.target_map("spiral", p)
    np.testing.assert_allclose(np.arcsin(T[:, 2]), (np.pi / 2 - 0.25) * (2 * p[:, 0] - 1), atol=1e-14)


@pytest.mark.parametrize("shape", ["uniform", "spiral", "ring", "two caps"])
def test_sphere_target_is_the_target_map_of_uniform_prompts(shape):
    p = np.random.default_rng(5).uniform(size=(50, targets.PROMPT_DIMENSION[shape]))
    np.testing.assert_array_equal(targets.sphere_target(shape, 50, rng=5), targets.target_map(shape, p))


def test_facing_direction_is_the_books_camera():
    plotting = pytest.importorskip("usaav.plotting")
    assert targets.FACING == (plotting.CAMERA.azim, plotting.CAMERA.elev)


@pytest.mark.parametrize("word", ["", "   "])
def test_a_word_without_glyphs_is_refused(word):
    with pytest.raises(ValueError, match="word must contain visible characters"):
        targets.sphere_target("word", 10, rng=0, word=word)


def test_the_word_shape_names_the_plot_extra_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.textpath", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"usaav\[plot\]"):
        targets.sphere_target("word", 10, rng=0)


@pytest.mark.parametrize("kwargs, words", [
    (dict(shape="torus", n=10), "shape must be one of"),
])
def test_sphere_target_refuses_unknown_shapes(kwargs, words):
    with pytest.raises(ValueError, match=words):
        targets.sphere_target(rng=0, **kwargs)


@pytest.mark.parametrize("shape", ["uniform", "word"])
def test_sphere_target_refuses_a_sample_beyond_the_array_budget_before_drawing(shape):
    """n = 10**9 asks for 24 GB of targets: a ValueError naming n and the budget, not a MemoryError (issue 16)."""
    with pytest.raises(ValueError, match=r"n=1000000000\): the 1000000000 x 3 target points would need 22.4 GiB, "
                                         r"more than the limit of 1 GiB"):
        targets.sphere_target(shape, 10**9, rng=0)


def test_target_map_checks_the_prompt_dimension():
    with pytest.raises(ValueError, match=r"p must have shape \(n, 3\)"):
        targets.target_map("two caps", np.zeros((4, 2)))


def test_householder_gauges_realise_every_shape_at_the_energy_ceiling():
    """Thm. 4 (ii): G_p = Householder(v, T_p) gives x_p = G_p^T v = T_p, a maximiser."""
    v = np.array([0.0, 0.0, 1.0])
    T = targets.sphere_target("spiral", 200, rng=0)
    G = maximizers.gauge_for_targets(v, T)
    X = maximizers.gauge(v, G)
    np.testing.assert_allclose(X, T, atol=1e-14)
    assert usaav.relative_energy_gap(kernels.Prompts(1.0, G), X, np.arange(200)) < 1e-14
