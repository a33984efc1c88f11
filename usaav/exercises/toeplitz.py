r"""Self-checks of chapter 5 (examples): the winning Fourier mode and the finite-n bound of a Toeplitz kernel (MODEL.md §4, the paper's Prop. 10)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import kernels
from .checking import CheckResult, ComparisonCheck, Diagnosis, Factor, Mistake, Trial, as_array, call, \
    require_callable, verdict

__all__ = ["check_toeplitz_bound", "check_toeplitz_mode"]


def check_toeplitz_mode(my_winning_mode: Callable, seed: int = 0) -> CheckResult:
    r"""Check the winning Fourier mode of a Toeplitz kernel (MODEL.md §4, the paper's Prop. 10).

    The exercise: for :math:`c(r)=\sum_k c_k\cos(2\pi kr)` given as a dict
    ``{k: c_k}``, write ``my_winning_mode(coefficients)`` returning a mode
    :math:`k^*\ge0` with the largest Fourier coefficient

    .. math:: \hat c(0)=c_0,\qquad \hat c(\pm k)=\tfrac12c_k\ (k\ge1),\qquad
              \hat c(k)=0 \text{ for modes not in the series},

    the one the maximiser :math:`x(s)=\cos(2\pi k^*s)e_1+\sin(2\pi k^*s)e_2`
    runs around.  Any mode with the largest :math:`\hat c` is accepted (and
    :math:`-k` as well as :math:`k`); the coefficients come from
    :meth:`usaav.kernels.Toeplitz.fourier`.

    Parameters
    ----------
    my_winning_mode : callable
        ``my_winning_mode(coefficients: dict) -> int``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``not_an_integer``,
        ``returned_the_value``, ``forgot_the_half``, ``largest_magnitude``,
        ``absent_modes``, ``wrong_mode``.
    """
    require_callable(my_winning_mode, "my_winning_mode", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        cases = [{0: 0.3, 1: 1.0}, {0: 0.8, 1: 1.0}, {1: 1.0, 3: 1.5}, {0: 0.1, 1: 0.5, 2: -3.0},
                 {0: -1.0, 1: -2.0}, {2: 0.4, 5: 0.6, 0: 0.25}]
        cases.append({int(k): float(c) for k, c in zip(rng.choice(8, 4, replace=False), rng.normal(0.0, 1.0, 4))})

        def spectrum(c):
            return kernels.Toeplitz(c).fourier()

        def chat(c, k):
            return spectrum(c).get(abs(k), 0.0)

        answers = []
        for c in cases:
            trial = Trial((c,), f"coefficients {c}", None)
            value = call(my_winning_mode, trial)
            array = as_array(value, (), trial.shown)
            if float(array) != round(float(array)):
                best = max(0.0, max(spectrum(c).values()))
                if math.isclose(float(array), best, rel_tol=1e-9, abs_tol=1e-12):
                    raise Diagnosis("returned_the_value",
                                     "You returned the largest Fourier coefficient ĉ(k*); the exercise asks for the "
                                     "mode k* itself (an integer).")
                raise Diagnosis("not_an_integer", f"A mode is an integer k; you returned {float(array):.4g} "
                                                   f"({trial.shown}).")
            answers.append(int(round(float(array))))

        def rule(score, candidates):
            return [max(candidates(c), key=lambda k: score(c, k)) for c in cases]

        def right(c, k):
            return math.isclose(chat(c, k), max(0.0, max(spectrum(c).values())), rel_tol=1e-12)

        if all(right(c, k) for c, k in zip(cases, answers)):
            return ("Your mode has the largest Fourier coefficient ĉ(k) for all seven series, including one whose "
                    "coefficients are all negative.")
        mistakes = [
            ("forgot_the_half",
             "You compared the c_k themselves; the Fourier coefficient of cos(2πkr) is split between k and −k: "
             "ĉ(±k) = c_k/2 for k ≥ 1, while ĉ(0) = c_0.",
             rule(lambda c, k: c[k], lambda c: list(c))),
            ("largest_magnitude",
             "You took the mode with the largest |ĉ(k)|; the energy bound is the largest ĉ(k) with its sign "
             "(a negative ĉ(k) pushes that mode away).",
             rule(lambda c, k: abs(chat(c, k)), lambda c: list(c))),
            ("absent_modes",
             "When every listed ĉ(k) is negative, a mode that is not in the series wins: its ĉ(k) = 0.",
             rule(lambda c, k: chat(c, k), lambda c: list(c))),
        ]
        for code, message, predicted in mistakes:
            if all(chat(c, a) == chat(c, p) for c, a, p in zip(cases, answers, predicted)):
                raise Diagnosis(code, message)
        wrong = next(i for i, (c, k) in enumerate(zip(cases, answers)) if not right(c, k))
        raise Diagnosis("wrong_mode", f"For the coefficients {cases[wrong]} another mode has a larger ĉ(k) than "
                                       f"your k = {answers[wrong]}.")

    return verdict("check_toeplitz_mode", run)



def _bound_trials(rng) -> list:
    cases = [({0: 0.2, 1: 1.0}, rng.uniform(0, 1, 7)), ({1: 1.0, 2: 0.7}, rng.uniform(0, 1, 12)),
             ({0: 0.1, 1: -2.0}, rng.uniform(0, 1, 9)), ({0: 0.5, 3: 1.0}, (np.arange(10) + 0.5) / 10)]
    return [Trial((c, s), f"coefficients {c} at {len(s)} positions", _spectrum(c, s).max() / (2 * len(s)))
            for c, s in cases]


def _spectrum(coefficients, s) -> np.ndarray:
    """Eigenvalues of C_ij = c(s_i − s_j), the matrix built from the kernel's profile."""
    return np.linalg.eigvalsh(kernels.Toeplitz(coefficients).profile(np.subtract.outer(s, s)))


TOEPLITZ_BOUND = ComparisonCheck(
    name="check_toeplitz_bound",
    trials=_bound_trials,
    shape=lambda t: (),
    success="Your bound is λ_max(C)/(2n) for random labels and on the grid, for four kernels.",
    mistakes=(
        Mistake("mean_field_bound",
                "You returned the mean-field bound ½ max_k ĉ(k). For labels off the uniform grid the bound on E_n "
                "is λ_max(C)/(2n), with C_ij = c(s_i − s_j) (a Rayleigh quotient).",
                lambda t: kernels.Toeplitz(t.args[0]).energy_bound()),
        Mistake("smallest_eigenvalue", "You used the smallest eigenvalue of C; the Rayleigh quotient is at most the "
                                       "largest one.", lambda t: _spectrum(*t.args).min() / (2 * len(t.args[1]))),
        Mistake("largest_magnitude",
                "You used the eigenvalue of largest magnitude (a norm of C); the bound is the largest eigenvalue "
                "with its sign.", lambda t: np.abs(_spectrum(*t.args)).max() / (2 * len(t.args[1]))),
    ),
    factors=(
        Factor("factor_2", "Off by a factor 2: E_n has 1/(2n²) in front, so the bound is λ_max/(2n).", lambda t: 2.0),
        Factor("factor_n", "Off by a factor n: Σ_i |x_i|² = n, so the bound is λ_max/(2n), not λ_max/2.",
               lambda t: len(t.args[1])),
        Factor("factor_1_over_n", "Off by a factor 1/n: divide λ_max by 2n, not by 2n².", lambda t: 1 / len(t.args[1])),
    ),
    mismatch="Your bound differs from λ_max(C)/(2n) by up to {error:.2g} ({shown}).",
)


def check_toeplitz_bound(my_bound: Callable, seed: int = 0) -> CheckResult:
    r"""Check the finite-n energy bound of a Toeplitz kernel (MODEL.md §4, the paper's Prop. 10).

    The exercise: for labels :math:`s_1,\dots,s_n` anywhere in [0, 1] and
    :math:`C_{ij}=c(s_i-s_j)`,

    .. math:: E_n=\frac1{2n^2}\sum_{i,j}C_{ij}\langle x_i,x_j\rangle\le\frac{\lambda_{\max}(C)}{2n}

    (a Rayleigh quotient, since :math:`\sum_i|x_i|^2=n`).  Write
    ``my_bound(coefficients, s)`` returning :math:`\lambda_{\max}(C)/(2n)`.
    Off the uniform grid this differs from the mean-field bound
    :math:`\frac12\max_k\hat c(k)`.  The check builds :math:`C` from
    :meth:`usaav.kernels.Toeplitz.profile`.

    Parameters
    ----------
    my_bound : callable
        ``my_bound(coefficients: dict, s) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``mean_field_bound``,
        ``smallest_eigenvalue``, ``largest_magnitude``, ``factor_2``,
        ``factor_n``, ``factor_1_over_n``, ``constant_factor``, ``mismatch``.
    """
    return TOEPLITZ_BOUND.run(my_bound, seed, "my_bound")
