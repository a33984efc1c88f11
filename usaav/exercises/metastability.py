r"""Self-checks of chapter 7 (metastability): a measured first merger time and the reduced k-point flow (MODEL.md §4, §6; the paper's Thm. 5)."""

from __future__ import annotations

import math
import os
from typing import Callable

import numpy as np

from .. import kernels
from ..dynamics import velocity
from ..integrate import heun_step
from ..reduced import reduced_merger_time, reduced_velocity
from ..sphere import normalize, uniform_sphere
from .checking import CheckResult, ComparisonCheck, Diagnosis, Factor, Mistake, Trial, as_array, call, \
    require_callable, verdict
from .guard import LIBRARY_DIR, Guard, Policy

__all__ = ["MERGER_TOLERANCE", "check_contraction_rates", "check_first_merger_time", "check_laplace_merger_time",
           "check_merger_rate", "check_reduced_velocity"]

#: Relative tolerance of :func:`check_first_merger_time`: particle runs with
#: the setup of the exercise stay within 0.3 % of the reduced two-point flow
#: (measured for β = 2…6 and gaps 0.7…1.2); 10 % leaves room for coarser
#: merger detection (the first step after the crossing, up to 2 % late).
MERGER_TOLERANCE = 0.10

#: The Heun step of the exercise.
MERGER_STEP = 0.05

#: A measured time must come from a simulation that covered at least this
#: fraction of it (steps of the library's integrator times the step 0.05): a
#: closed-form or reduced-flow answer runs no particle step at all.
SIMULATED_FRACTION = 0.5

_EXPERIMENT_FILE = os.path.join(LIBRARY_DIR, "experiments", "metastability.py")
_THEORY_FILES = (os.path.join(LIBRARY_DIR, "reduced.py"), _EXPERIMENT_FILE, os.path.join(LIBRARY_DIR, "exercises"))
#: The set-up helpers the exercise names (experiments.cap_sample, experiments.cluster_centres), by name:
#: the exercises import nothing else from the experiments.
_SET_UP = frozenset({"cap_sample", "cluster_centres"})


def _simulation_allowed(code) -> bool:
    """The merger-time exercise may run the library's simulation and set-up helpers, not its theory."""
    if code.co_filename == _EXPERIMENT_FILE and code.co_name in _SET_UP:
        return True
    return not os.path.abspath(code.co_filename).startswith(_THEORY_FILES)


MERGER_POLICY = Policy(_simulation_allowed, ", the theory the check compares with,")


def check_first_merger_time(my_T1: Callable) -> CheckResult:
    r"""Check a measured first merger time against the reduced flow (MODEL.md §4, §6; the paper's Thm. 5).

    The exercise: write ``my_T1(beta, gap)`` that *measures* the first
    merger time of two clusters by simulation: 20 particles per cluster,
    uniform in caps of radius 0.05 around two centres ``gap`` radians apart,
    the baseline kernel in the rescaled clock :math:`t'=e^\beta t`
    (``usaav.simulate(..., clock="rescaled")``), Heun step h = 0.05, merger
    when the normalised cluster means come within 0.1 rad.  The centres
    follow the reduced two-point flow :math:`\dot\Delta=-e^{-\beta(1-\cos\Delta)}\sin\Delta`,
    so the measured time must agree with

    .. math:: T_1^{\rm red}=\int_{0.1}^{\Delta_0}\frac{e^{\beta(1-\cos\Delta)}}{\sin\Delta}\,d\Delta

    (:func:`usaav.reduced.reduced_merger_time`) within
    :data:`MERGER_TOLERANCE` (10 %), at (β, gap) = (2, 1), (4, 1), (3, 0.8).
    The exercise asks for a measurement: a time the library's integrator
    did not reach (at least :data:`SIMULATED_FRACTION` of it in steps of
    0.05) is a closed-form shortcut, and calling the library's reduced flow
    is refused.

    Parameters
    ----------
    my_T1 : callable
        ``my_T1(beta, gap) -> float``.

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``raw_clock``, ``counts_steps``,
        ``no_growth_in_beta``, ``off_prediction``, ``closed_form``.
    """
    require_callable(my_T1, "my_T1")

    def run() -> str:
        cases = [(2.0, 1.0), (4.0, 1.0), (3.0, 0.8)]
        trials = [Trial((beta, gap), f"beta = {beta:g}, gap = {gap:g}", reduced_merger_time(beta, gap, 0.1))
                  for beta, gap in cases]
        outputs, simulated = [], []
        for trial in trials:
            guard = Guard(MERGER_POLICY, counted=(heun_step.__code__,))
            outputs.append(float(as_array(call(my_T1, trial, MERGER_POLICY, guard), (), trial.shown)))
            simulated.append(guard.calls[heun_step.__code__] * MERGER_STEP)
        ratios = [out / t.truth for out, t in zip(outputs, trials)]
        if all(abs(r - 1.0) <= MERGER_TOLERANCE for r in ratios):
            short = [i for i, (out, time) in enumerate(zip(outputs, simulated)) if time < SIMULATED_FRACTION * out]
            if short:
                worst = short[0]
                raise Diagnosis("closed_form",
                                f"Your time is right, but it was not measured: the library's integrator ran "
                                f"{simulated[worst] / outputs[worst]:.0%} of the time you report "
                                f"({trials[worst].shown}). The exercise asks for a simulation of the particles "
                                "(usaav.simulate with clock=\"rescaled\", step 0.05) until the clusters merge, "
                                "not the reduced flow's formula.")
            return (f"Your merger times agree with the reduced two-point flow within {MERGER_TOLERANCE:.0%} for "
                    "β = 2, 3, 4: the cluster centres move as the theorem's reduced flow says.")
        betas = [beta for beta, _ in cases]
        if all(abs(r * math.exp(b) - 1.0) <= MERGER_TOLERANCE for r, b in zip(ratios, betas)):
            raise Diagnosis("raw_clock", "Your times are about e^{−β} times the prediction: you measured in the raw "
                                         "clock t. The prediction is in the rescaled clock t' = e^β t "
                                         "(simulate with clock=\"rescaled\").")
        if all(abs(r * MERGER_STEP - 1.0) <= MERGER_TOLERANCE for r in ratios):
            raise Diagnosis("counts_steps", "Your times are about 20 times too large: you returned a number of steps. "
                                            "Multiply by the step h = 0.05.")
        if not outputs[1] > outputs[0]:
            raise Diagnosis("no_growth_in_beta",
                            "Your merger time does not grow from β = 2 to β = 4, but at fixed gap it must: the "
                            "clusters attract each other with weight e^{−β(1−cos Δ)}.")
        worst = int(np.argmax([abs(r - 1.0) for r in ratios]))
        raise Diagnosis("off_prediction",
                        f"Your merger time is {ratios[worst] - 1.0:+.0%} off the reduced-flow prediction "
                        f"({trials[worst].shown}; tolerance ±{MERGER_TOLERANCE:.0%}). Check the set-up: caps, "
                        "rescaled clock, and the merger rule on the normalised cluster means.")

    return verdict("check_first_merger_time", run)


def _reduced_trials(rng) -> list:
    trials = []
    for k, d, beta in ((2, 3, 2.0), (3, 3, 1.0), (4, 4, 3.0)):
        M = uniform_sphere(k, d, rng)
        sizes = rng.integers(1, 6, k)
        mean_weight = rng.uniform(0.2, 1.0, (k, k))
        mean_weight = (mean_weight + mean_weight.T) / 2
        W = mean_weight * (sizes / sizes.sum())[None, :]
        cluster = np.repeat(np.arange(k), sizes)

        def weight(a, b, table=mean_weight):
            return table[np.ix_(a.astype(int), b.astype(int))]

        particles = velocity(kernels.Separated(beta, weight), M[cluster], cluster)
        first = np.r_[0, np.cumsum(sizes)[:-1]]
        trials.append(Trial((M, W, beta), f"{k} centres in dimension {d}, beta = {beta:g}", particles[first]))
    return trials


def _reduced(M, W, beta) -> np.ndarray:
    """The reduced k-point velocity in the raw clock (the exercise's): e^β times usaav.reduced's, rescaled."""
    return math.exp(beta) * reduced_velocity(beta, M, W)


REDUCED_VELOCITY = ComparisonCheck(
    name="check_reduced_velocity",
    trials=_reduced_trials,
    shape=lambda t: t.args[0].shape,
    success=("Your reduced velocity matches the particle flow of point clusters with unequal masses, "
             "for 2 to 4 centres."),
    mistakes=(
        Mistake("W_transposed", "You used W transposed: the pull of centre b on centre a is weighted by W_ab "
                                "(row a, column b), which carries the mass of b.",
                lambda t: _reduced(t.args[0], t.args[1].T, t.args[2])),
        Mistake("ignores_W", "Your velocity ignores the weights W_ab: every pair must be weighted by W_ab.",
                lambda t: _reduced(t.args[0], np.ones_like(t.args[1]), t.args[2])),
    ),
    tangent=("Your velocities are not tangent to the sphere: ⟨m_a, ṁ_a⟩ reaches {defect:.2g} "
             "({shown}). Apply the projection P_{{m_a}}."),
    factors=(
        Factor("factor_1_over_k", "Off by a factor 1/k: the mass fractions inside W already do the averaging; "
                                  "do not divide by k.", lambda t: 1 / len(t.args[0])),
        Factor("rescaled_clock", "Off by a factor e^{−β}: that is the rescaled clock; this exercise asks for the raw "
                                 "flow.", lambda t: math.exp(-t.args[2])),
    ),
    mismatch="Your velocities differ from the reduced flow by up to {error:.2g} ({shown}).",
)


def check_reduced_velocity(my_reduced_velocity: Callable, seed: int = 0) -> CheckResult:
    r"""Check the reduced k-point flow of cluster centres (MODEL.md §4, the paper's Thm. 5 (3)).

    The exercise: for centres :math:`m_1,\dots,m_k` (rows of ``M``) and
    coarse-grained weights :math:`W_{ab}` (mass fraction of cluster
    :math:`b` times the mean positional weight between :math:`a` and
    :math:`b`), write ``my_reduced_velocity(M, W, beta)`` returning

    .. math:: \dot m_a = P_{m_a}\sum_{b=1}^k W_{ab}\,e^{\beta\langle m_a,m_b\rangle}m_b

    (raw clock).  :math:`W` is not symmetric when the masses differ.  The
    check compares with :func:`usaav.velocity` of the particle system in
    which cluster :math:`b` is :math:`N_b` copies of :math:`m_b` and the
    kernel is the separated kernel with the mean weights: that is what the
    reduced flow is.

    Parameters
    ----------
    my_reduced_velocity : callable
        ``my_reduced_velocity(M, W, beta) -> (k, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``W_transposed``, ``ignores_W``,
        ``not_tangent``, ``factor_1_over_k``, ``rescaled_clock``,
        ``constant_factor``, ``mismatch``.
    """
    return REDUCED_VELOCITY.run(my_reduced_velocity, seed, "my_reduced_velocity")


def _rescaled_reduced(M, W, beta) -> np.ndarray:
    """The reduced velocities of centres M with weights W, rescaled clock, read off the particle flow.

    Cluster b is made of copies of m_b whose number is proportional to its
    mass fraction; the separated kernel carries the mean weights.  This is
    the construction of :func:`check_reduced_velocity`, with W given.
    """
    k = len(M)
    sizes = np.full(k, 4)
    mean_weight = W * k  # equal sizes: W_ab = mean weight × 1/k
    cluster = np.repeat(np.arange(k), sizes)

    def weight(a, b):
        return mean_weight[np.ix_(a.astype(int), b.astype(int))]

    particles = velocity(kernels.Separated(beta, weight), M[cluster], cluster)
    return math.exp(-beta) * particles[np.r_[0, np.cumsum(sizes)[:-1]]]


def _two_centres(gap: float) -> np.ndarray:
    return np.array([[0.0, 0.0, 1.0], [math.sin(gap), 0.0, math.cos(gap)]])


def _merger_rate_trials(rng) -> list:
    trials = []
    for gap, beta, W in ((1.0, 2.0, [[0.5, 0.5], [0.5, 0.5]]), (0.6, 4.0, [[0.3, 0.2], [0.2, 0.6]]),
                         (2.0, 1.0, [[0.4, 0.1], [0.1, 0.4]])):
        W = np.array(W)
        M = _two_centres(gap)
        V = _rescaled_reduced(M, W, beta)
        rate = -float(V[0] @ M[1] + M[0] @ V[1]) / math.sin(gap)
        trials.append(Trial((gap, beta, W), f"gap = {gap:g}, beta = {beta:g}, W = {W.tolist()}", rate))
    return trials


def _rate_formula(gap, beta, pull) -> float:
    return -pull * math.exp(-beta * (1 - math.cos(gap))) * math.sin(gap)


MERGER_RATE = ComparisonCheck(
    name="check_merger_rate",
    trials=_merger_rate_trials,
    shape=lambda t: (),
    success="Your rate dΔ/dt matches the reduced flow of two point clusters for three gaps and weights.",
    mistakes=(
        Mistake("one_centre_moves", "You let one centre move: both move, so the pull is W_AB + W_BA.",
                lambda t: _rate_formula(t.args[0], t.args[1], t.args[2][0, 1])),
        Mistake("self_weight", "The weights W_AA and W_BB pull a centre towards itself and do not move it: "
                               "P_m m = 0. Leave them out.",
                lambda t: _rate_formula(t.args[0], t.args[1], t.args[2].sum())),
        Mistake("raw_clock", "Off by a factor e^β: this is the raw clock; the reduced flow here is in the "
                             "rescaled clock, weight e^{−β(1−cos Δ)}.",
                lambda t: math.exp(t.args[1]) * t.truth),
    ),
    factors=(Factor("sign", "Wrong sign: the clusters attract, Δ decreases.", lambda t: -1.0),),
    mismatch="Your rate differs from the reduced flow by up to {error:.2g} ({shown}).",
)


def check_merger_rate(my_merger_rate: Callable, seed: int = 0) -> CheckResult:
    r"""Check the gap equation of two clusters, :math:`\dot\Delta=-(W_{AB}+W_{BA})e^{-\beta(1-\cos\Delta)}\sin\Delta` (MODEL.md §4; the paper's Thm. 5 (3)).

    The exercise: write ``my_merger_rate(gap, beta, W)`` returning
    :math:`\dot\Delta` in the rescaled clock for two centres at angle
    ``gap`` with the ``(2, 2)`` weights ``W``.  Compared with the rate
    read off the particle flow of two point clusters
    (:func:`usaav.velocity` with the separated kernel, rescaled by
    :math:`e^{-\beta}`), :math:`\dot\Delta=-(\langle\dot m_A,m_B\rangle+\langle m_A,\dot m_B\rangle)/\sin\Delta`.

    Parameters
    ----------
    my_merger_rate : callable
        ``my_merger_rate(gap, beta, W) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``one_centre_moves``,
        ``self_weight``, ``raw_clock``, ``sign``, ``constant_factor``,
        ``mismatch``.
    """
    return MERGER_RATE.run(my_merger_rate, seed, "my_merger_rate")


def _laplace_trials(rng) -> list:
    cases = [(10.0, 1.0), (40.0, 0.7), (25.0, 1.3)]
    return [Trial((beta, gap), f"beta = {beta:g}, gap = {gap:g}",
                  math.exp(beta * (1 - math.cos(gap))) / (beta * math.sin(gap) ** 2)) for beta, gap in cases]


LAPLACE_MERGER_TIME = ComparisonCheck(
    name="check_laplace_merger_time",
    trials=_laplace_trials,
    shape=lambda t: (),
    success=("Your leading term e^{β(1−cos Δ₀)}/(β sin²Δ₀) is Laplace's approximation of the merger integral "
             "for three (β, Δ₀)."),
    mistakes=(
        Mistake("sine_not_squared", "One factor sin Δ₀ comes from the integrand, one from the derivative of the "
                                    "exponent β(1 − cos Δ): the denominator is β sin²Δ₀.",
                lambda t: t.truth * math.sin(t.args[1])),
        Mistake("no_beta", "The exponent's derivative β sin Δ₀ brings a 1/β: the leading term is "
                           "e^{β(1−cos Δ₀)}/(β sin²Δ₀).", lambda t: t.truth * t.args[0]),
    ),
    mismatch="Your approximation differs from Laplace's leading term by up to {error:.2g} ({shown}).",
)


def check_laplace_merger_time(my_laplace_T1: Callable, seed: int = 0) -> CheckResult:
    r"""Check Laplace's leading term of the merger integral, :math:`e^{\beta(1-\cos\Delta_0)}/(\beta\sin^2\Delta_0)` (MODEL.md §4; the paper's Thm. 5).

    The exercise: write ``my_laplace_T1(beta, gap)`` returning the leading
    term, as :math:`\beta\to\infty`, of
    :math:`\int_\delta^{\Delta_0}e^{\beta(1-\cos\Delta)}/\sin\Delta\,d\Delta`.
    Compared with that term (the tests check that its ratio to
    :func:`usaav.reduced.reduced_merger_time` tends to 1 like
    :math:`1+O(1/\beta)`).

    Parameters
    ----------
    my_laplace_T1 : callable
        ``my_laplace_T1(beta, gap) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``sine_not_squared``,
        ``no_beta``, ``mismatch``.
    """
    return LAPLACE_MERGER_TIME.run(my_laplace_T1, seed, "my_laplace_T1")


def _pull(x, gap, beta, W_AA, W_AB) -> np.ndarray:
    """Rescaled-clock velocity of one particle at x near m_A = e₃, pulled by its cluster and by m_B."""
    m_A, m_B = _two_centres(gap)
    v = W_AA * math.exp(-beta * (1 - x @ m_A)) * m_A + W_AB * math.exp(-beta * (1 - x @ m_B)) * m_B
    return v - (x @ v) * x


def _contraction_trials(rng) -> list:
    trials, h = [], 1e-6
    for beta, gap, W_AA, W_AB in ((2.0, 1.0, 0.5, 0.5), (6.0, 0.5, 0.7, 0.3), (1.0, 1.5, 0.4, 0.6)):
        rates = []
        for direction in (np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])):  # along, across the line
            ahead = _pull(normalize(np.array([0.0, 0.0, 1.0]) + h * direction), gap, beta, W_AA, W_AB)
            behind = _pull(normalize(np.array([0.0, 0.0, 1.0]) - h * direction), gap, beta, W_AA, W_AB)
            rates.append(-float(direction @ (ahead - behind)) / (2 * h))  # central difference: error O(h²) ≈ 1e-12
        trials.append(Trial((beta, gap, W_AA, W_AB), f"beta = {beta:g}, gap = {gap:g}, W_AA = {W_AA:g}, "
                                                     f"W_AB = {W_AB:g}", np.array(rates)))
    return trials


CONTRACTION_RATES = ComparisonCheck(
    name="check_contraction_rates",
    trials=_contraction_trials,
    shape=lambda t: (2,),
    success="Your two rates (along and across the line of centres) match the linearised pull for three set-ups.",
    mistakes=(
        Mistake("swapped", "Your rates are swapped: the β sin²Δ term acts along the line of centres, the first "
                           "entry.", lambda t: t.truth[::-1]),
        Mistake("no_beta_term", "Along the line of centres the neighbour's weight e^{−β(1−⟨x, m_B⟩)} changes with "
                                "x too: that adds −β sin²Δ inside the bracket.",
                lambda t: t.truth + np.array([1.0, 0.0]) * t.args[3] * math.exp(-t.args[0] * (1 - math.cos(t.args[1])))
                * t.args[0] * math.sin(t.args[1]) ** 2),
        Mistake("no_self_weight", "You left out the cluster's own pull: each rate starts with W_AA.",
                lambda t: t.truth - t.args[2]),
    ),
    mismatch="Your rates differ from the linearised pull by up to {error:.2g} ({shown}).",
)


def check_contraction_rates(my_contraction_rates: Callable, seed: int = 0) -> CheckResult:
    r"""Check the linearised contraction rates of a cluster next to a neighbour (MODEL.md §4; the paper's Thm. 5).

    The exercise: write ``my_contraction_rates(beta, gap, W_AA, W_AB)``
    returning the array ``[along, across]`` of the rates
    :math:`W_{AA}+W_{AB}e^{-\beta(1-\cos\Delta)}(\cos\Delta-\beta\sin^2\Delta)`
    and :math:`W_{AA}+W_{AB}e^{-\beta(1-\cos\Delta)}\cos\Delta` at which
    deviations contract along and across the line of centres (rescaled
    clock).  Compared with central differences of the pull on one particle
    near :math:`m_A` (step :math:`10^{-6}`, error about :math:`10^{-10}`).

    Parameters
    ----------
    my_contraction_rates : callable
        ``my_contraction_rates(beta, gap, W_AA, W_AB) -> (2,) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``swapped``, ``no_beta_term``,
        ``no_self_weight``, ``mismatch``.
    """
    return CONTRACTION_RATES.run(my_contraction_rates, seed, "my_contraction_rates")
