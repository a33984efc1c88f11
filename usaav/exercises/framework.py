r"""Self-checks of chapter 2 (the framework): the discrete energy and RoPE through the gauge frame (MODEL.md §2, §3)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import kernels
from ..dynamics import energy, velocity
from ..sphere import haar_rotations, rotate_in_plane, uniform_sphere
from .checking import CheckResult, ComparisonCheck, Factor, Mistake, Trial

__all__ = ["check_energy", "check_energy_rate", "check_gauge_energy", "check_rope_velocity"]


def _energy_trials(rng) -> list:
    cases = [(uniform_sphere(6, 3, rng), 1.0), (uniform_sphere(30, 4, rng), 2.5),
             (uniform_sphere(11, 2, rng), 0.5), (np.tile(uniform_sphere(1, 3, rng), (5, 1)), 3.0)]
    return [Trial((X, beta), f"X of shape {X.shape}, beta = {beta:g}", energy(kernels.USA(beta), X, None))
            for X, beta in cases]


def _pair_kernel(trial) -> np.ndarray:
    X, beta = trial.args
    return np.exp(beta * X @ X.T) / beta


ENERGY = ComparisonCheck(
    name="check_energy",
    trials=_energy_trials,
    shape=lambda t: (),
    success="Your energy matches usaav.energy on three random clouds and a collapsed one.",
    mistakes=(
        Mistake("pairs_i_less_than_j",
                "You summed over the pairs i < j only; the energy sums over all (i, j), "
                "including i = j and both orders.",
                lambda t: np.triu(_pair_kernel(t), 1).sum() / (2 * len(t.args[0]) ** 2)),
        Mistake("no_diagonal", "You left out the terms i = j; the sum runs over all pairs (i, j).",
                lambda t: (_pair_kernel(t).sum() - np.trace(_pair_kernel(t))) / (2 * len(t.args[0]) ** 2)),
        Mistake("exponent_without_beta", "Your kernel ignores β in the exponent: K = e^{β⟨x,y⟩}/β.",
                lambda t: np.exp(t.args[0] @ t.args[0].T).sum() / (2 * t.args[1] * len(t.args[0]) ** 2)),
    ),
    factors=(
        Factor("factor_2", "Off by a factor 2: E_n has 1/(2n²) in front.", lambda t: 2.0),
        Factor("factor_n", "Off by a factor n: there are n² pairs, so divide by 2n², not 2n.",
               lambda t: len(t.args[0])),
        Factor("factor_beta", "Off by a factor β: the kernel is K = e^{β⟨x,y⟩}/β; the 1/β is missing.",
               lambda t: t.args[1]),
    ),
    mismatch="Your energy differs from the library's by up to {error:.2g} (called with {shown}).",
)


def check_energy(my_energy: Callable, seed: int = 0) -> CheckResult:
    r"""Check the discrete energy of the baseline kernel (MODEL.md §2).

    The exercise: write ``my_energy(X, beta)`` returning

    .. math:: E_n = \frac1{2n^2}\sum_{i,j=1}^n\frac1\beta e^{\beta\langle x_i,x_j\rangle}

    (the paper's Def. 8 for :math:`K=e^{\beta\langle x,y\rangle}/\beta`).
    Compared with :func:`usaav.energy` on random clouds and a collapsed one
    (where :math:`E_n=e^\beta/(2\beta)`, the maximum).

    Parameters
    ----------
    my_energy : callable
        ``my_energy(X, beta) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``pairs_i_less_than_j``,
        ``no_diagonal``, ``exponent_without_beta``, ``factor_2``,
        ``factor_n``, ``factor_beta``, ``constant_factor``, ``mismatch``.
    """
    return ENERGY.run(my_energy, seed, "my_energy")


def _rope_trials(rng) -> list:
    trials = []
    for n, d, beta, theta in ((6, 3, 1.0, 2 * np.pi), (15, 4, 2.0, 1.3), (9, 3, 0.7, -2.0)):
        X, s = uniform_sphere(n, d, rng), rng.uniform(0.0, 1.0, n)
        trials.append(Trial((X, s, beta, theta), f"X of shape ({n}, {d}), beta = {beta:g}, theta = {theta:.3g}",
                            velocity(kernels.RoPE(beta, theta), X, s)))
    return trials


def _gauge_points(trial) -> np.ndarray:
    X, s, _, theta = trial.args
    return rotate_in_plane(X, theta * s, (0, 1))


def _gauge_velocity(trial) -> np.ndarray:
    return velocity(kernels.USA(trial.args[2]), _gauge_points(trial), None)


def _unprojected(trial) -> np.ndarray:
    """The gauge-frame attention sum mapped back without the projection P_{u_i}."""
    U, (_, s, beta, theta) = _gauge_points(trial), trial.args
    return rotate_in_plane(np.exp(beta * U @ U.T) @ U / len(U), -theta * s, (0, 1))


ROPE_VELOCITY = ComparisonCheck(
    name="check_rope_velocity",
    trials=_rope_trials,
    shape=lambda t: t.args[0].shape,
    success=("Your velocities match the RoPE velocity of the library on three random clouds (d = 3 and 4, "
             "several β and θ). Whichever way you computed them, they equal Gᵀ(s_i) u̇_i: the RoPE flow is "
             "the baseline flow seen through the gauge."),
    mistakes=(
        Mistake("gauge_frame_velocity",
                "You returned the velocity of the gauge-frame points u_i = R_{θs_i} x_i. "
                "Map it back to the tokens: ẋ_i = G(s_i)ᵀ u̇_i.", _gauge_velocity),
        Mistake("G_instead_of_GT",
                "You used G instead of Gᵀ when mapping back: u_i = G(s_i) x_i, so ẋ_i = G(s_i)ᵀ u̇_i = R_{−θs_i} u̇_i.",
                lambda t: rotate_in_plane(_gauge_velocity(t), t.args[3] * t.args[1], (0, 1))),
        Mistake("sign_of_rotation",
                "Sign of the rotation: RoPE's gauge is G(s) = R_{θs}, so u_i = R_{θs_i} x_i "
                "(and back with R_{−θs_i}); you used the opposite angles.",
                lambda t: velocity(kernels.RoPE(t.args[2], -t.args[3]), t.args[0], t.args[1])),
        Mistake("ignores_positions",
                "Your velocity ignores the positions: it is the baseline USA velocity of the tokens. "
                "Rotate each token by its own angle θs_i first.",
                lambda t: velocity(kernels.USA(t.args[2]), t.args[0], None)),
        Mistake("missing_projection",
                "Your forces are not tangent to the sphere: the projection P_{u_i} is missing in the gauge "
                "frame (u̇_i = P_{u_i}(…), then ẋ_i = G(s_i)ᵀ u̇_i).", _unprojected),
    ),
    tangent=("Your forces are not tangent to the sphere: ⟨x_i, ẋ_i⟩ reaches {defect:.2g} "
             "(called with {shown}). It is not the missing projection: check the rotations, which must be "
             "orthogonal (cos θs_i, −sin θs_i in the first row, sin θs_i, cos θs_i in the second), the same "
             "matrix going in and its transpose coming back."),
    factors=(
        Factor("factor_n", "Off by a factor n: the baseline velocity averages over j (divide by n).",
               lambda t: len(t.args[0])),
    ),
    mismatch="Your velocities differ from the library's by up to {error:.2g} (called with {shown}).",
)


def check_rope_velocity(my_rope_velocity: Callable, seed: int = 0) -> CheckResult:
    r"""Check a RoPE velocity computed through the gauge frame (MODEL.md §3).

    The exercise: for RoPE, :math:`G(s)=R_{\theta s}` (rotation in the plane
    of the first two coordinates), write ``my_rope_velocity(X, s, beta,
    theta)`` by going to the gauge frame :math:`u_i=R_{\theta s_i}x_i`,
    taking the baseline USA velocity :math:`\dot u_i` there, and coming back:

    .. math:: \dot x_i = G(s_i)^\top\,\dot u_i,\qquad
              \dot u_i = P_{u_i}\Big(\frac1n\sum_j e^{\beta\langle u_i,u_j\rangle}u_j\Big).

    This is the fact that every gauge kernel is the baseline seen through
    the gauge (MODEL.md §3).  Compared with :func:`usaav.velocity` with
    :class:`usaav.kernels.RoPE`; a direct computation in the content frame
    that gives the same numbers is accepted too (it is the same velocity).

    Parameters
    ----------
    my_rope_velocity : callable
        ``my_rope_velocity(X, s, beta, theta) -> (n, d) array``; ``s`` holds
        the positions in [0, 1].
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``gauge_frame_velocity``,
        ``G_instead_of_GT``, ``sign_of_rotation``, ``ignores_positions``,
        ``missing_projection``, ``not_tangent`` (a broken rotation),
        ``factor_n``, ``zero``, ``constant_factor``, ``mismatch``.
    """
    return ROPE_VELOCITY.run(my_rope_velocity, seed, "my_rope_velocity")


def _rate_trials(rng) -> list:
    trials = []
    for n, d, beta in ((5, 3, 1.0), (12, 2, 2.0), (20, 4, 0.7)):
        X = uniform_sphere(n, d, rng)
        V = velocity(kernels.USA(beta), X, None)
        trials.append(Trial((X, beta), f"X of shape ({n}, {d}), beta = {beta:g}", float(np.sum(V * V)) / n))
    return trials


def _attention_sum(trial) -> np.ndarray:
    X, beta = trial.args
    return np.exp(beta * X @ X.T) @ X / len(X)


ENERGY_RATE = ComparisonCheck(
    name="check_energy_rate",
    trials=_rate_trials,
    shape=lambda t: (),
    success="Your rate dE_n/dt = (1/n) Σ|ẋ_i|² matches the library's flow on three random clouds.",
    mistakes=(
        Mistake("unprojected", "You used |v_i|², the attention average before the projection; the rate is "
                               "(1/n) Σ |P_{x_i} v_i|², the squared speeds of the tokens.",
                lambda t: float(np.sum(_attention_sum(t) ** 2)) / len(t.args[0])),
    ),
    factors=(
        Factor("factor_n", "Off by a factor n: dE_n/dt = Σ_i ⟨∇_{x_i}E_n, ẋ_i⟩ = (1/n) Σ |ẋ_i|², a mean, not a sum.",
               lambda t: len(t.args[0])),
        Factor("factor_1_over_n", "Off by a factor 1/n: ∇_{x_i}E_n = v_i/n, and ẋ_i = P v_i, so the rate is "
                                  "(1/n) Σ |ẋ_i|², not (1/n²) Σ |ẋ_i|².", lambda t: 1 / len(t.args[0])),
    ),
    mismatch="Your rate differs from the library's flow by up to {error:.2g} ({shown}).",
)


def check_energy_rate(my_energy_rate: Callable, seed: int = 0) -> CheckResult:
    r"""Check the rate at which the energy climbs, :math:`\frac{d}{dt}E_n=\frac1n\sum_i|\dot x_i|^2` (MODEL.md §2).

    The exercise: write ``my_energy_rate(X, beta)`` returning that rate for
    the baseline kernel.  Compared with the squared speeds of
    :func:`usaav.velocity` (the tests compare it with a finite difference
    of :func:`usaav.energy` along the flow).

    Parameters
    ----------
    my_energy_rate : callable
        ``my_energy_rate(X, beta) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``unprojected``, ``factor_n``,
        ``factor_1_over_n``, ``constant_factor``, ``mismatch``.
    """
    return ENERGY_RATE.run(my_energy_rate, seed, "my_energy_rate")


def _gauge_energy_trials(rng) -> list:
    trials = []
    for m, n, d, beta in ((3, 8, 3, 1.0), (5, 12, 4, 2.0), (2, 6, 3, 0.5)):
        G = haar_rotations(m, d, rng)
        X = uniform_sphere(n, d, rng)
        ids = rng.integers(0, m, n)
        trials.append(Trial((X, G, ids, beta), f"{m} gauges, X of shape ({n}, {d}), beta = {beta:g}",
                            energy(kernels.Prompts(beta, G), X, ids)))
    return trials


def _baseline_energy(U, beta) -> float:
    """The baseline USA energy of the points ``U`` (a mistake's value: the library's own energy)."""
    return float(energy(kernels.USA(beta), U, None))


GAUGE_ENERGY = ComparisonCheck(
    name="check_gauge_energy",
    trials=_gauge_energy_trials,
    shape=lambda t: (),
    success=("Your energy of the gauge-frame points u_i = G(a_i) x_i matches the energy of the gauge kernel on "
             "three random clouds: the gauge kernel is the baseline seen through the gauge."),
    mistakes=(
        Mistake("transposed_gauges", "You used G(a_i)ᵀ x_i; the gauge-frame point is u_i = G(a_i) x_i.",
                lambda t: _baseline_energy(np.einsum("nji,nj->ni", t.args[1][t.args[2]], t.args[0]), t.args[3])),
        Mistake("content_frame", "You computed the baseline energy of the tokens x_i themselves; the gauge kernel "
                                 "sees u_i = G(a_i) x_i.", lambda t: _baseline_energy(t.args[0], t.args[3])),
    ),
    factors=(
        Factor("factor_2", "Off by a factor 2: E_n has 1/(2n²) in front.", lambda t: 2.0),
        Factor("factor_beta", "Off by a factor β: the kernel is e^{β⟨u,u'⟩}/β.", lambda t: t.args[3]),
    ),
    mismatch="Your energy differs from the gauge kernel's by up to {error:.2g} ({shown}).",
)


def check_gauge_energy(my_gauge_energy: Callable, seed: int = 0) -> CheckResult:
    r"""Check the energy of a gauge kernel through the gauge frame (MODEL.md §3; the paper's §4).

    The exercise: for prompts with gauges :math:`G_0,\dots,G_{m-1}` (an
    ``(m, d, d)`` array) and prompt ids :math:`a_i`, write
    ``my_gauge_energy(X, gauges, prompt_ids, beta)`` returning the baseline
    energy :math:`\frac1{2n^2}\sum_{i,j}\frac1\beta e^{\beta\langle u_i,u_j\rangle}`
    of the gauge-frame points :math:`u_i=G(a_i)x_i`.  Compared with
    :func:`usaav.energy` for :class:`usaav.kernels.Prompts`, which sums
    :math:`K((x,a),(y,b))=\frac1\beta e^{\beta\langle G(a)x,G(b)y\rangle}`.

    Parameters
    ----------
    my_gauge_energy : callable
        ``my_gauge_energy(X, gauges, prompt_ids, beta) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``transposed_gauges``,
        ``content_frame``, ``factor_2``, ``factor_beta``,
        ``constant_factor``, ``mismatch``.
    """
    return GAUGE_ENERGY.run(my_gauge_energy, seed, "my_gauge_energy")
