"""Gauges (usaav.gauges): prompt layouts (Cor. 2) and the wavy generalised-RoPE gauge (MODEL.md §6.2 (v)).

Each test checks one fact against an independent computation: orthogonality
and determinants, the closed-form rotation of a layout, explicit products of
plane rotations written out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

import usaav
from usaav import gauges


@pytest.mark.parametrize("layout, distinct", [
    ("random rotations", 6), ("phases in one plane", 6), ("random phases", 6), ("only two distinct gauges", 2),
])
def test_prompt_gauges_are_rotations_with_the_expected_number_of_distinct_ones(layout, distinct):
    G = gauges.prompt_gauges(6, layout, rng=0)
    np.testing.assert_allclose(np.einsum("pki,pkj->pij", G, G), np.broadcast_to(np.eye(3), (6, 3, 3)), atol=1e-13)
    np.testing.assert_allclose(np.linalg.det(G), 1.0, atol=1e-13)
    assert gauges.count_distinct(G) == distinct


def test_phases_in_one_plane_are_equally_spaced_rotations_about_e3():
    G = gauges.prompt_gauges(4, "phases in one plane", rng=None)
    np.testing.assert_allclose(G[1], [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-15)


def test_prompt_gauges_refuse_bad_input():
    with pytest.raises(ValueError, match="layout must be one of"):
        gauges.prompt_gauges(3, "spiral", rng=0)
    with pytest.raises(ValueError, match="m must be an integer >= 1"):
        gauges.prompt_gauges(0, "random rotations", rng=0)


def test_count_distinct_counts_equal_matrices_once():
    G = np.stack([np.eye(3), np.eye(3), usaav.rotation(0.1, 3), np.eye(3) + 1e-12])
    assert gauges.count_distinct(G) == 2


def test_generalized_rope_gauge_is_the_product_of_two_plane_rotations():
    s = np.array([0.1, 0.35])
    G = gauges.WavyGauge(0.5, 3)(s)
    for k, sk in enumerate(s):
        c1, s1 = np.cos(2 * np.pi * sk), np.sin(2 * np.pi * sk)
        a = 0.5 * np.sin(6 * np.pi * sk)
        R12 = np.array([[c1, -s1, 0], [s1, c1, 0], [0, 0, 1]])
        R13 = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
        np.testing.assert_allclose(G[k], R12 @ R13, atol=1e-15)
