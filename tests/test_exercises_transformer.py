"""The self-checks of chapter 8 (usaav.exercises.transformer): right solutions pass, typical mistakes are named.

The right solutions here are written as loops over tokens (an independent
computation of MODEL.md §7, not the library's code path).
"""

import math

import numpy as np
import pytest

from usaav.exercises import CheckResult
from usaav.exercises import EXERCISES, check_layer_norm, check_sa_direction


def _rope(theta_s: float) -> np.ndarray:
    """R_{θs} of MODEL.md §1 in the plane (e1, e2) of R^d, as a 2 x 2 block."""
    return np.array([[math.cos(theta_s), -math.sin(theta_s)], [math.sin(theta_s), math.cos(theta_s)]])


def _gauge(d: int, angle: float) -> np.ndarray:
    G = np.eye(d)
    G[:2, :2] = _rope(angle)
    return G


def loop_sa_direction(X, s, beta, theta, *, stable=True, rotated=True, sign=1.0, usa=False):
    """A_i = Σ_j softmax_j(β⟨u_i,u_j⟩) G_iᵀ u_j, one token at a time (MODEL.md §7), with planted mistakes."""
    n, d = X.shape
    G = [_gauge(d, sign * theta * s_i) for s_i in s]
    U = [G[i] @ X[i] for i in range(n)]
    out = np.zeros((n, d))
    for i in range(n):
        scores = np.array([beta * (U[i] @ U[j]) for j in range(n)])
        shift = scores.max() if stable else 0.0
        weights = np.exp(scores - shift) if not usa else np.exp(scores) / n
        if not usa:
            weights = weights / weights.sum()
        for j in range(n):
            out[i] += weights[j] * (G[i].T @ U[j] if rotated else X[j])
    return out


def loop_layer_norm(Y, *, centre=True, unit=True):
    """N(y) = c/|c|, c = y − ȳ1, one row at a time (MODEL.md §7), with planted mistakes."""
    out = np.empty_like(Y)
    for k, y in enumerate(Y):
        c = y - (sum(y) / len(y) if centre else 0.0)
        out[k] = c / (math.sqrt(sum(c * c)) if unit else 1.0)
    return out


def test_a_softmax_direction_written_as_loops_passes():
    assert check_sa_direction(loop_sa_direction)


def test_a_second_seed_also_accepts_the_softmax_direction():
    assert check_sa_direction(loop_sa_direction, seed=3)


def test_layer_norm_written_as_loops_passes():
    assert check_layer_norm(loop_layer_norm)


@pytest.mark.parametrize("code, wrong", [
    ("overflow", lambda X, s, b, t: loop_sa_direction(X, s, b, t, stable=False)),
    ("values_not_rotated", lambda X, s, b, t: loop_sa_direction(X, s, b, t, rotated=False)),
    ("rotation_sign", lambda X, s, b, t: loop_sa_direction(X, s, b, t, sign=-1.0)),
    ("usa_normalisation", lambda X, s, b, t: loop_sa_direction(X, s, b, t, usa=True)),
    ("projected", lambda X, s, b, t: (lambda A: A - np.sum(A * X, axis=1, keepdims=True) * X)(
        loop_sa_direction(X, s, b, t))),
    ("constant_factor", lambda X, s, b, t: 2.0 * loop_sa_direction(X, s, b, t)),
    ("wrong_shape", lambda X, s, b, t: loop_sa_direction(X, s, b, t).T),
])
def test_sa_direction_check_names_the_mistake(code, wrong):
    result = check_sa_direction(wrong)
    assert not result and result.diagnosis == code, result


@pytest.mark.parametrize("code, wrong", [
    ("not_centred", lambda Y: loop_layer_norm(Y, centre=False)),
    ("not_normalised", lambda Y: loop_layer_norm(Y, unit=False)),
    ("pytorch_scale", lambda Y: math.sqrt(Y.shape[1]) * loop_layer_norm(Y)),
    ("centred_columns", lambda Y: loop_layer_norm(Y - Y.mean(axis=0), centre=False)),
    ("raises", lambda Y: Y[:, 99]),
])
def test_layer_norm_check_names_the_mistake(code, wrong):
    result = check_layer_norm(wrong)
    assert not result and result.diagnosis == code, result


@pytest.mark.parametrize("check", [check_sa_direction, check_layer_norm])
def test_a_chapter_8_check_refuses_something_that_is_not_a_function(check):
    with pytest.raises(TypeError, match="must be a function"):
        check(np.zeros(3))


def test_chapter_8_exercises_are_listed_with_their_chapter():
    chapter8 = [e for e in EXERCISES if e.chapter == 8]
    assert [e.name for e in chapter8] == ["check_sa_direction", "check_layer_norm"]
    assert all(isinstance(e.check(lambda *a: None), CheckResult) for e in chapter8)
