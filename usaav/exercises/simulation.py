r"""Self-checks of chapter 6 (experiments): one projected Heun step and the gauge-frame gap (MODEL.md §5, §6)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import kernels, maximizers
from ..dynamics import bind, vector_field
from ..integrate import heun_step
from ..observables import collapse_gap, gauge_gap
from ..sphere import normalize, rotate_in_plane, uniform_sphere
from .checking import CheckResult, ComparisonCheck, Factor, Mistake, Trial
from .guard import geometry_and

__all__ = ["check_gauge_gap", "check_heun_step", "check_random_angle_gap", "check_standard_error"]


@dataclass(frozen=True)
class Field:
    """The vector field handed to the reader's step: ``field(X)`` is :math:`V(X)` (MODEL.md §2)."""

    kernel_name: str
    evaluate: Callable[[np.ndarray], np.ndarray]

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.evaluate(X)

    def __repr__(self) -> str:
        return f"<the {self.kernel_name} vector field>"


def _heun_trials(rng) -> list:
    setups = [(kernels.USA(1.5), None, 8, 3, 0.3), (kernels.RoPE(2.0), "positions", 6, 4, 0.1),
              (kernels.Toeplitz({0: 0.2, 1: 1.0}), "positions", 10, 3, 0.3)]
    trials = []
    for kernel, labels, n, d, h in setups:
        X = uniform_sphere(n, d, rng)
        aux = rng.uniform(0, 1, n) if labels else None
        field = Field(type(kernel).__name__, vector_field(bind(kernel, X, aux)[1]))
        trials.append(Trial((field, X, h), f"the {type(kernel).__name__} field, X of shape ({n}, {d}), h = {h:g}",
                            heun_step(field, X, h)))
    return trials


def _variant(step) -> Callable:
    return lambda t: step(*t.args)


HEUN_STEP = ComparisonCheck(
    name="check_heun_step",
    trials=_heun_trials,
    shape=lambda t: t.args[1].shape,
    success="Your step is the projected Heun step, for three vector fields and two step sizes.",
    mistakes=(
        Mistake("euler", "This is the projected Euler step X⁺ = normalize(X + h k₁), first order. Heun evaluates "
                         "the field a second time at the predicted point and averages the two slopes.",
                _variant(lambda V, X, h: normalize(X + h * V(X)))),
        Mistake("midpoint", "This is the midpoint method (a half step, then a full step with the midpoint slope). "
                            "Heun takes a full Euler step as predictor and averages k₁ and k₂.",
                _variant(lambda V, X, h: normalize(X + h * V(normalize(X + 0.5 * h * V(X)))))),
        Mistake("k2_only", "You stepped with k₂ alone; Heun uses the average ½(k₁ + k₂).",
                _variant(lambda V, X, h: normalize(X + h * V(normalize(X + h * V(X)))))),
        Mistake("full_step_average",
                "You used h instead of h/2 in front of (k₁ + k₂): the step is X + (h/2)(k₁ + k₂).",
                _variant(lambda V, X, h: normalize(X + h * (V(X) + V(normalize(X + h * V(X))))))),
        Mistake("predictor_not_normalised",
                "Your predictor X + h k₁ is not normalised before k₂ is evaluated: the field lives on the sphere, "
                "so project the predictor onto it first.",
                _variant(lambda V, X, h: normalize(X + 0.5 * h * (V(X) + V(X + h * V(X)))))),
        Mistake("not_normalised", "Your step is right up to the final normalisation: divide each row of "
                                  "X + (h/2)(k₁ + k₂) by its length.",
                _variant(lambda V, X, h: X + 0.5 * h * (V(X) + V(normalize(X + h * V(X)))))),
    ),
    unit_rows=("leaves_sphere", "Your step leaves the sphere: |x| − 1 reaches {drift:.2g} ({shown}). "
                                "Normalise every row at the end.", 1e-10),
    mismatch="Your step differs from the projected Heun step by up to {error:.2g} ({shown}).",
    policy=geometry_and(Field.__call__),
)


def check_heun_step(my_step: Callable, seed: int = 0) -> CheckResult:
    r"""Check a projected Heun step (MODEL.md §5, the paper's App. B.1).

    The exercise: write ``my_step(field, X, h)`` returning

    .. math:: k_1=V(X),\quad \tilde X=\mathrm{normalize}(X+hk_1),\quad k_2=V(\tilde X),\quad
              X^+=\mathrm{normalize}\big(X+\tfrac h2(k_1+k_2)\big),

    where ``field(X)`` returns :math:`V(X)` and normalize divides each row by
    its length.  Compared with :func:`usaav.integrate.heun_step` for the
    vector fields of three kernels (USA, RoPE, Toeplitz) with large steps
    (h = 0.3 and 0.1), where the variants differ visibly.  The reader's step
    may call ``field`` and the sphere's helpers, not the library's step.

    Parameters
    ----------
    my_step : callable
        ``my_step(field, X, h) -> (n, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``euler``, ``midpoint``,
        ``k2_only``, ``full_step_average``, ``predictor_not_normalised``,
        ``not_normalised``, ``leaves_sphere``, ``mismatch``.
    """
    return HEUN_STEP.run(my_step, seed, "my_step")


def _gauge_gap_trials(rng) -> list:
    s1, s2, s3 = rng.uniform(0, 1, 12), rng.uniform(0, 1, 20), rng.uniform(0, 1, 9)
    cases = [(uniform_sphere(12, 3, rng), s1, 2 * np.pi),
             (maximizers.rope(uniform_sphere(1, 3, rng)[0], 1.0, s2), s2, 1.0),
             (np.tile(uniform_sphere(1, 4, rng), (9, 1)), s3, -2.5)]
    return [Trial((X, s, theta), f"X of shape {X.shape}, theta = {theta:.3g}",
                  gauge_gap(kernels.RoPE(1.0, theta), X, s)) for X, s, theta in cases]


GAUGE_GAP = ComparisonCheck(
    name="check_gauge_gap",
    trials=_gauge_gap_trials,
    shape=lambda t: (),
    success=("Your gauge gap matches the library's on a random cloud, on a RoPE maximiser (gauge gap 0) and on "
             "a collapsed cloud (gauge gap large)."),
    mistakes=(
        Mistake("content_frame", "You measured the gap of the tokens x_i themselves; the gauge gap is the gap of "
                                 "the gauge-frame points u_i = R_{θs_i} x_i.", lambda t: collapse_gap(t.args[0])),
        Mistake("sign_of_rotation", "Sign of the rotation: the gauge-frame point is u_i = R_{+θs_i} x_i.",
                lambda t: gauge_gap(kernels.RoPE(1.0, -t.args[2]), t.args[0], t.args[1])),
        Mistake("mean_not_squared", "You used 1 − |ū| instead of 1 − |ū|²: square the length of the mean.",
                lambda t: 1 - np.linalg.norm(rotate_in_plane(t.args[0], t.args[2] * t.args[1], (0, 1)).mean(axis=0))),
    ),
    factors=(
        Factor("factor_2", "Off by a factor 2: Γ = (1/(2n²)) Σ|u_i − u_j|² = 1 − |ū|².", lambda t: 2.0),
    ),
    mismatch="Your gauge gap differs from the library's by up to {error:.2g} ({shown}).",
)


def check_gauge_gap(my_gauge_gap: Callable, seed: int = 0) -> CheckResult:
    r"""Check the gauge-frame collapse gap of RoPE (MODEL.md §6).

    The exercise: with :math:`G(s)=R_{\theta s}` (rotation in the plane of
    the first two coordinates), write ``my_gauge_gap(X, s, theta)``
    returning :math:`\Gamma(\{G(s_i)x_i\}) = 1-|\frac1n\sum_iR_{\theta s_i}x_i|^2`,
    the collapse gap of the gauge-frame points.  It goes to 0 under the RoPE
    flow while the gap of the tokens themselves stays of order one.
    Compared with :func:`usaav.gauge_gap` for :class:`usaav.kernels.RoPE`
    on random clouds, on a RoPE maximiser (gauge gap 0, large content gap)
    and on a collapsed cloud (content gap 0, large gauge gap).

    Parameters
    ----------
    my_gauge_gap : callable
        ``my_gauge_gap(X, s, theta) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``content_frame``,
        ``sign_of_rotation``, ``mean_not_squared``, ``factor_2``,
        ``constant_factor``, ``mismatch``.
    """
    return GAUGE_GAP.run(my_gauge_gap, seed, "my_gauge_gap")


def _random_angle_trials(rng) -> list:
    trials = []
    for L in (2, 5, 20):
        v = uniform_sphere(1, 3, rng)[0]
        angles = rng.uniform(0, 2 * np.pi, L)
        points = rotate_in_plane(np.tile(v, (L, 1)), -angles, (0, 1))
        trials.append(Trial((v, angles), f"v = {np.round(v, 3)}, {L} angles", collapse_gap(points)))
    v = uniform_sphere(1, 3, rng)[0]
    grid = 2 * np.pi * np.arange(6) / 6
    trials.append(Trial((v, grid), "the grid of 6 angles", collapse_gap(rotate_in_plane(np.tile(v, (6, 1)), -grid,
                                                                                        (0, 1)))))
    return trials


def _m_L(angles) -> complex:
    return complex(np.mean(np.exp(-1j * np.asarray(angles))))


RANDOM_ANGLE_GAP = ComparisonCheck(
    name="check_random_angle_gap",
    trials=_random_angle_trials,
    shape=lambda t: (),
    success="Your gap (1 − v₃²)(1 − |m_L|²) matches the collapse gap of the rotated copies, on random angles and "
            "on the grid (where m_L = 0).",
    mistakes=(
        Mistake("grid_formula", "You used the grid's gap 1 − v₃²; with random angles the mean of the (1,2) "
                                "components is (v₁, v₂) rotated by m_L, and does not vanish.",
                lambda t: 1 - t.args[0][2] ** 2),
        Mistake("m_not_squared", "Square the modulus of m_L: Γ = (1 − v₃²)(1 − |m_L|²).",
                lambda t: (1 - t.args[0][2] ** 2) * (1 - abs(_m_L(t.args[1])))),
    ),
    mismatch="Your gap differs from the collapse gap of the rotated copies by up to {error:.2g} ({shown}).",
)


def check_random_angle_gap(my_random_angle_gap: Callable, seed: int = 0) -> CheckResult:
    r"""Check the collapse gap of copies of :math:`v` at random angles, :math:`(1-v_3^2)(1-|m_L|^2)` (MODEL.md §6).

    The exercise: write ``my_random_angle_gap(v, angles)`` returning
    :math:`\Gamma(\{R_{-\varphi_\ell}v\})` with
    :math:`m_L=\frac1L\sum_\ell e^{-i\varphi_\ell}`.  Compared with
    :func:`usaav.collapse_gap` of the rotated copies.

    Parameters
    ----------
    my_random_angle_gap : callable
        ``my_random_angle_gap(v, angles) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``grid_formula``,
        ``m_not_squared``, ``mismatch``.
    """
    return RANDOM_ANGLE_GAP.run(my_random_angle_gap, seed, "my_random_angle_gap")


def _variance_of_gap() -> float:
    """Var(1 − u²) for u uniform on [−1, 1], by Gauss–Legendre quadrature (exact for polynomials of degree ≤ 9)."""
    u, w = np.polynomial.legendre.leggauss(5)
    g = 1 - u ** 2
    mean = float(np.sum(w * g) / 2)
    return float(np.sum(w * g ** 2) / 2) - mean ** 2


def _standard_error_trials(rng) -> list:
    return [Trial((R,), f"R = {R}", math.sqrt(_variance_of_gap() / R)) for R in (20, 5, 100, int(rng.integers(2, 50)))]


STANDARD_ERROR = ComparisonCheck(
    name="check_standard_error",
    trials=_standard_error_trials,
    shape=lambda t: (),
    success="Your standard error √(Var(1 − v₃²)/R) is right for four numbers of runs.",
    mistakes=(
        Mistake("variance_not_error", "You returned the variance of the mean, Var/R; the standard error is its "
                                      "square root.", lambda t: _variance_of_gap() / t.args[0]),
        Mistake("no_division_by_R", "You returned the standard deviation of one run; the mean of R runs has "
                                    "standard error σ/√R.", lambda t: math.sqrt(_variance_of_gap())),
    ),
    mismatch="Your standard error differs from √(Var(1 − v₃²)/R) by up to {error:.2g} ({shown}).",
)


def check_standard_error(my_standard_error: Callable, seed: int = 0) -> CheckResult:
    r"""Check the standard error of a mean of :math:`1-v_3^2` over R runs, :math:`v` uniform on :math:`\mathbb S^2` (MODEL.md §6).

    The exercise: :math:`v_3` is uniform on :math:`[-1,1]`; write
    ``my_standard_error(R)`` returning :math:`\sqrt{\operatorname{Var}(1-v_3^2)/R}`.
    Compared with the variance computed by Gauss–Legendre quadrature (exact
    for this polynomial).

    Parameters
    ----------
    my_standard_error : callable
        ``my_standard_error(R) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``variance_not_error``,
        ``no_division_by_R``, ``mismatch``.
    """
    return STANDARD_ERROR.run(my_standard_error, seed, "my_standard_error")
