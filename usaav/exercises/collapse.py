r"""Self-checks of chapter 1 (mode collapse): the USA velocity and the collapse gap (MODEL.md §2, §3, §6)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import kernels
from ..dynamics import velocity
from ..observables import collapse_gap
from ..sphere import normalize, project_tangent, uniform_sphere
from .checking import CheckResult, ComparisonCheck, Factor, Mistake, Trial

__all__ = ["check_collapse_gap", "check_energy_gradient", "check_two_token_rate", "check_velocity"]


def _velocity_trials(rng) -> list:
    trials = []
    for n, d, beta in ((5, 3, 1.0), (12, 4, 2.5), (40, 3, 0.5), (7, 2, 4.0)):
        X = uniform_sphere(n, d, rng)
        trials.append(Trial((X, beta), f"X of shape ({n}, {d}), beta = {beta:g}", velocity(kernels.USA(beta), X, None)))
    return trials


def _attention(trial) -> np.ndarray:
    X, beta = trial.args
    return np.exp(beta * X @ X.T)


VELOCITY = ComparisonCheck(
    name="check_velocity",
    trials=_velocity_trials,
    shape=lambda t: t.args[0].shape,
    success=("Your velocities match the library (usaav.velocity with the USA kernel) on four random clouds "
             "with n from 5 to 40, d from 2 to 4 and β from 0.5 to 4."),
    mistakes=(
        Mistake("missing_projection",
                "Your forces are not tangent to the sphere: you are missing the projection "
                "P_{x_i} = I − x_i x_iᵀ applied to the attention sum (§2 of the model appendix). "
                "Without it the tokens would leave the sphere.",
                lambda t: _attention(t) @ t.args[0] / len(t.args[0])),
        Mistake("softmax",
                "You normalised the attention weights (a softmax, dividing by Σ_j e^{β⟨x_i,x_j⟩}). "
                "The USA flow is the unnormalised model: the weights are e^{β⟨x_i,x_j⟩} and the sum is "
                "divided by n only.",
                lambda t: project_tangent(t.args[0], (_attention(t) / _attention(t).sum(axis=1, keepdims=True))
                                          @ t.args[0])),
        Mistake("exponent_without_beta", "Your weights ignore β: use e^{β⟨x_i,x_j⟩}, not e^{⟨x_i,x_j⟩}.",
                lambda t: velocity(kernels.USA(1.0), t.args[0], None)),
    ),
    tangent=("Your forces are not tangent to the sphere: ⟨x_i, v_i⟩ reaches {defect:.2g} "
             "(called with {shown}). The last step must be the projection "
             "P_{{x_i}} v = v − ⟨x_i, v⟩ x_i."),
    factors=(
        Factor("factor_n", "Off by a factor n: you summed over j but did not divide by n "
                           "(the velocity averages over the n tokens).", lambda t: len(t.args[0])),
        Factor("factor_1_over_n", "Off by a factor 1/n: you divided by n twice.", lambda t: 1 / len(t.args[0])),
        Factor("factor_n_minus_1",
               "Off by a factor n/(n − 1): you divided by n − 1. The sum runs over all j, including j = i "
               "(that term is projected away anyway), and is divided by n.",
               lambda t: len(t.args[0]) / (len(t.args[0]) - 1)),
        Factor("sign", "Wrong sign: with your velocity the tokens move apart. The flow climbs the energy: "
                       "each token moves towards its attention-weighted average.", lambda t: -1.0),
        Factor("factor_1_over_beta",
               "Off by a factor 1/β: the gradient of K = e^{β⟨x,y⟩}/β in x is e^{β⟨x,y⟩} y; "
               "the β of the chain rule cancels the 1/β.", lambda t: 1 / t.args[1]),
        Factor("factor_beta", "Off by a factor β: you differentiated e^{β⟨x,y⟩} instead of K = e^{β⟨x,y⟩}/β.",
               lambda t: t.args[1]),
        Factor("rescaled_clock", "Off by a factor e^{−β}: that is the velocity in the rescaled clock t' = e^β t. "
                                 "This exercise asks for the raw flow.", lambda t: math.exp(-t.args[1])),
    ),
    mismatch=("Your velocities differ from the library's by up to {error:.2g} (called with {shown}). Check the "
              "weights e^{{β⟨x_i,x_j⟩}} and the average over j."),
)


def check_velocity(my_velocity: Callable, seed: int = 0) -> CheckResult:
    r"""Check a plain-NumPy velocity of the baseline USA flow (MODEL.md §2–3).

    The exercise: write ``my_velocity(X, beta)`` returning the ``(n, d)``
    array

    .. math:: \dot x_i = P_{x_i}\Big(\frac1n\sum_{j=1}^n e^{\beta\langle x_i,x_j\rangle}x_j\Big),
              \qquad P_x = I - xx^\top,

    the right-hand side of the finite-particle system for the kernel
    :math:`K=e^{\beta\langle x,y\rangle}/\beta`, whose gradient in :math:`x`
    is :math:`e^{\beta\langle x,y\rangle}y` (MODEL.md §2, §3; the paper's eq. (1)).
    Compared with :func:`usaav.velocity` with :class:`usaav.kernels.USA` on
    four random clouds (``n`` from 5 to 40, ``d`` from 2 to 4, β from 0.5 to 4).

    Parameters
    ----------
    my_velocity : callable
        ``my_velocity(X, beta) -> (n, d) array``.
    seed : int
        Seed of the random clouds.

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones (``raises``, ``returns_none``,
        ``not_numeric``, ``complex``, ``wrong_shape``, ``nan``,
        ``library_call``, ``inspects_checker``): ``missing_projection``,
        ``not_tangent``, ``softmax``, ``exponent_without_beta``, ``zero``,
        ``factor_n``, ``factor_1_over_n``, ``factor_n_minus_1``, ``sign``,
        ``factor_1_over_beta``, ``factor_beta``, ``rescaled_clock``,
        ``constant_factor``, ``mismatch``.

    Examples
    --------
    >>> def my_velocity(X, beta):
    ...     V = np.exp(beta * X @ X.T) @ X / len(X)
    ...     return V - np.sum(V * X, axis=1, keepdims=True) * X
    >>> bool(check_velocity(my_velocity))
    True
    """
    return VELOCITY.run(my_velocity, seed, "my_velocity")


def _gap_trials(rng) -> list:
    clouds = [
        uniform_sphere(6, 3, rng),
        uniform_sphere(50, 4, rng),
        normalize(np.array([0.3, -0.2, 0.9]) + 0.2 * rng.standard_normal((20, 3))),
        np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]),
        np.tile(uniform_sphere(1, 3, rng), (8, 1)),
        uniform_sphere(1, 2, rng),
    ]
    return [Trial((X,), f"X of shape {X.shape}", collapse_gap(X)) for X in clouds]


def _mean_distance(X) -> float:
    return float(np.linalg.norm(X[:, None] - X[None], axis=-1).sum() / (2 * len(X) ** 2))


COLLAPSE_GAP = ComparisonCheck(
    name="check_collapse_gap",
    trials=_gap_trials,
    shape=lambda t: (),
    success=("Your gap matches usaav.collapse_gap on random clouds, a clustered cloud, two antipodal "
             "points, a collapsed cloud and a single point."),
    mistakes=(
        Mistake("mean_not_squared", "You used 1 − |x̄| instead of 1 − |x̄|²: square the length of the mean.",
                lambda t: 1 - np.linalg.norm(t.args[0].mean(axis=0))),
        Mistake("distances_not_squared",
                "You averaged the distances |x_i − x_j|; the gap averages their squares |x_i − x_j|².",
                lambda t: _mean_distance(t.args[0])),
    ),
    factors=(
        Factor("factor_2", "Off by a factor 2: the double sum counts every pair twice, hence the 1/2 in front.",
               lambda t: 2.0),
        Factor("factor_n", "Off by a factor n: the double sum has n² terms, so divide by 2n², not 2n.",
               lambda t: len(t.args[0])),
    ),
    mismatch="Your gap differs from the library's by up to {error:.2g} (called with {shown}).",
)


def check_collapse_gap(my_gap: Callable, seed: int = 0) -> CheckResult:
    r"""Check a collapse gap (MODEL.md §6).

    The exercise: write ``my_gap(X)`` returning the number

    .. math:: \Gamma(X) = \frac1{2n^2}\sum_{i,j=1}^n|x_i-x_j|^2 = 1-\Big|\frac1n\sum_{i=1}^n x_i\Big|^2,

    which is 0 exactly when all tokens coincide (pen and paper first: prove
    the second equality for unit vectors).  Compared with
    :func:`usaav.collapse_gap` on random clouds, a collapsed cloud, two
    antipodal points and a single point.

    Parameters
    ----------
    my_gap : callable
        ``my_gap(X) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``factor_2``, ``mean_not_squared``,
        ``distances_not_squared``, ``factor_n``, ``constant_factor``, ``mismatch``.
    """
    return COLLAPSE_GAP.run(my_gap, seed, "my_gap")


def _gradient_trials(rng) -> list:
    trials = []
    for n, d, beta in ((4, 3, 1.0), (9, 2, 2.0), (15, 4, 0.5)):
        X = uniform_sphere(n, d, rng)
        # the Euclidean gradient of E_n in x_i is v_i / n (chapter 1, exercise "The energy ceiling", part 1)
        trials.append(Trial((X, beta), f"X of shape ({n}, {d}), beta = {beta:g}",
                            np.exp(beta * X @ X.T) @ X / n ** 2))
    return trials


ENERGY_GRADIENT = ComparisonCheck(
    name="check_energy_gradient",
    trials=_gradient_trials,
    shape=lambda t: t.args[0].shape,
    success=("Your gradient is ∇_{x_i} E_n = v_i/n on three random clouds: the flow is n times the gradient "
             "of the energy along the sphere."),
    mistakes=(
        Mistake("projected", "You projected onto the tangent plane: the exercise asks for the Euclidean gradient "
                             "∇_{x_i} E_n, before any projection.",
                lambda t: project_tangent(t.args[0], t.truth)),
    ),
    factors=(
        Factor("velocity_not_gradient", "Off by a factor n: that is v_i, the attention average; the gradient of "
                                        "E_n = (1/(2n²)) Σ K is v_i/n.", lambda t: len(t.args[0])),
        Factor("one_term_only", "Off by a factor 1/2: x_i appears in the terms (i, j) and (j, i) of the double "
                                "sum; count both.", lambda t: 0.5),
    ),
    mismatch="Your gradient differs from v_i/n by up to {error:.2g} ({shown}).",
)


def check_energy_gradient(my_gradient: Callable, seed: int = 0) -> CheckResult:
    r"""Check the Euclidean gradient of the energy of the baseline kernel (MODEL.md §2; the paper's Def. 8).

    The exercise: write ``my_gradient(X, beta)`` returning the ``(n, d)``
    array of :math:`\nabla_{x_i}E_n = \frac1n v_i` with
    :math:`v_i=\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle}x_j` (no
    projection).  Compared with that formula on three random clouds (the
    tests compare it with finite differences of :func:`usaav.energy`).

    Parameters
    ----------
    my_gradient : callable
        ``my_gradient(X, beta) -> (n, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``projected``,
        ``velocity_not_gradient``, ``one_term_only``, ``zero``,
        ``constant_factor``, ``mismatch``.
    """
    return ENERGY_GRADIENT.run(my_gradient, seed, "my_gradient")


def _two_token_rate(phi: float, beta: float) -> float:
    """dφ/dt of two tokens at angle φ, read off the library's velocities: d cos φ/dt = −sin φ · dφ/dt."""
    X = np.array([[1.0, 0.0], [math.cos(phi), math.sin(phi)]])
    V = velocity(kernels.USA(beta), X, None)
    return -float(V[0] @ X[1] + X[0] @ V[1]) / math.sin(phi)


def _angle_trials(rng) -> list:
    cases = [(0.3, 1.0), (1.2, 2.0), (2.5, 0.5), (float(rng.uniform(0.2, 3.0)), 3.0)]
    return [Trial((phi, beta), f"phi = {phi:.3g}, beta = {beta:g}", _two_token_rate(phi, beta)) for phi, beta in cases]


TWO_TOKEN_RATE = ComparisonCheck(
    name="check_two_token_rate",
    trials=_angle_trials,
    shape=lambda t: (),
    success="Your rate dφ/dt = −e^{β cos φ} sin φ matches two tokens of the library's flow at four angles.",
    mistakes=(
        Mistake("no_sine", "Your rate lacks the factor sin φ: d cos φ/dt = −sin φ · dφ/dt, and "
                           "d cos φ/dt = e^{β cos φ} sin² φ.",
                lambda t: -math.exp(t.args[1] * math.cos(t.args[0]))),
        Mistake("exponent_at_collapse", "Your weight is e^{β}, the weight of a token with itself; between the two "
                                        "tokens it is e^{β⟨x₁, x₂⟩} = e^{β cos φ}.",
                lambda t: -math.exp(t.args[1]) * math.sin(t.args[0])),
    ),
    factors=(
        Factor("one_token_moves",
               "Off by a factor 1/2: you let one token move; both move towards each other, so the angle closes "
                                  "twice as fast.",
               lambda t: 0.5),
        Factor("sign", "Wrong sign: the angle shrinks, the tokens attract.", lambda t: -1.0),
    ),
    mismatch="Your rate differs from two tokens of the library's flow by up to {error:.2g} ({shown}).",
)


def check_two_token_rate(my_angle_rate: Callable, seed: int = 0) -> CheckResult:
    r"""Check the angle equation of two tokens, :math:`\dot\varphi=-e^{\beta\cos\varphi}\sin\varphi` (MODEL.md §2).

    The exercise: write ``my_angle_rate(phi, beta)`` returning
    :math:`\dot\varphi` for two tokens at angle :math:`\varphi` under the USA
    flow.  Compared with the rate read off :func:`usaav.velocity` for two
    tokens, :math:`\dot\varphi=-(\langle\dot x_1,x_2\rangle+\langle x_1,\dot x_2\rangle)/\sin\varphi`.

    Parameters
    ----------
    my_angle_rate : callable
        ``my_angle_rate(phi, beta) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``no_sine``,
        ``exponent_at_collapse``, ``one_token_moves``, ``sign``,
        ``constant_factor``, ``mismatch``.
    """
    return TWO_TOKEN_RATE.run(my_angle_rate, seed, "my_angle_rate")
