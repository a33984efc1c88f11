r"""Self-checks of chapter 5 (examples): the winning Fourier mode and the finite-n bound of a Toeplitz kernel (MODEL.md §4, the paper's Prop. 10)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import kernels
from .checking import CheckResult, ComparisonCheck, Diagnosis, Factor, Mistake, Trial, as_array, call, \
    require_callable, verdict

__all__ = ["check_circulant_spectrum", "check_ring_eigenvalue", "check_toeplitz_bound", "check_toeplitz_mode",
           "check_two_mode_energy"]


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


def _two_mode_trials(rng) -> list:
    cases = [(0.3, 1.0, 1), (0.8, 1.0, 2), (1.0, 3.0, 3), (-0.5, -1.0, 2), (-0.2, 0.6, 1),
             (float(rng.uniform(-1, 1)), float(rng.uniform(-1, 2)), 4)]
    return [Trial((a0, a1, m), f"a0 = {a0:.3g}, a1 = {a1:.3g}, m = {m}",
                  kernels.Toeplitz({0: a0, m: a1}).energy_bound()) for a0, a1, m in cases]


TWO_MODE_ENERGY = ComparisonCheck(
    name="check_two_mode_energy",
    trials=_two_mode_trials,
    shape=lambda t: (),
    success=("Your maximal energy ½ max(a₀, a₁/2, 0) matches the Toeplitz bound for six kernels, including one "
             "with both coefficients negative."),
    mistakes=(
        Mistake("forgot_the_half", "You compared a₀ with a₁ itself; the Fourier coefficient of a₁cos(2πmr) is "
                                   "split between ±m: ĉ(±m) = a₁/2.",
                lambda t: 0.5 * max(t.args[0], t.args[1], 0.0)),
        Mistake("absent_modes", "When a₀ and a₁ are both negative, a mode absent from the series has ĉ(k) = 0 and "
                                "wins: the maximal energy is 0.",
                lambda t: 0.5 * max(t.args[0], t.args[1] / 2)),
    ),
    factors=(Factor("factor_2", "Off by a factor 2: the maximal energy is ½ max_k ĉ(k).", lambda t: 2.0),),
    mismatch="Your maximal energy differs from the Toeplitz bound by up to {error:.2g} ({shown}).",
)


def check_two_mode_energy(my_max_energy: Callable, seed: int = 0) -> CheckResult:
    r"""Check the maximal energy of :math:`c(r)=a_0+a_1\cos(2\pi mr)`, :math:`\frac12\max(a_0,a_1/2,0)` (MODEL.md §4, the paper's Prop. 10).

    The exercise: write ``my_max_energy(a0, a1, m)`` returning the maximal
    mean-field energy :math:`\frac12\max_k\hat c(k)`.  Compared with
    :meth:`usaav.kernels.Toeplitz.energy_bound`.

    Parameters
    ----------
    my_max_energy : callable
        ``my_max_energy(a0, a1, m) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``forgot_the_half``,
        ``absent_modes``, ``factor_2``, ``constant_factor``, ``mismatch``.
    """
    return TWO_MODE_ENERGY.run(my_max_energy, seed, "my_max_energy")


def _circulant_trials(rng) -> list:
    cases = [({0: 0.2, 1: 1.0}, 7), ({1: 1.0, 2: 0.7}, 12), ({0: -0.5, 3: -1.0}, 9),
             ({int(k): float(c) for k, c in zip(rng.choice(4, 2, replace=False), rng.normal(0, 1, 2))}, 10)]
    return [Trial((c, n), f"coefficients {c}, n = {n}", _spectrum(c, np.arange(n) / n)) for c, n in cases]


CIRCULANT_SPECTRUM = ComparisonCheck(
    name="check_circulant_spectrum",
    trials=_circulant_trials,
    shape=lambda t: (t.args[1],),
    success="Your eigenvalues n ĉ(k) (and zeros) are those of C on the grid, for four kernels and several n.",
    mistakes=(
        Mistake("missing_n", "Your eigenvalues lack the factor n: C applied to (e^{2πik a_j})_j gives "
                             "Σ_j c(a_i − a_j) e^{2πik a_j} = n ĉ(k) e^{2πik a_i}.", lambda t: t.truth / t.args[1]),
    ),
    mismatch="Your eigenvalues, in increasing order, differ from those of C by up to {error:.2g} ({shown}).",
)


def check_circulant_spectrum(my_eigenvalues: Callable, seed: int = 0) -> CheckResult:
    r"""Check the spectrum of the circulant matrix :math:`C_{ij}=c(i/n-j/n)` (MODEL.md §4, the paper's Prop. 10).

    The exercise: write ``my_eigenvalues(coefficients, n)`` returning the
    ``n`` eigenvalues of :math:`C` on the grid :math:`a_i=i/n`, in
    increasing order: :math:`n\hat c(k)` for :math:`|k|\le K` and 0 for the
    other frequencies (when :math:`n>2K`), from the Fourier coefficients
    alone, without forming :math:`C`.  Compared with
    ``numpy.linalg.eigvalsh`` of :math:`C` built from
    :meth:`usaav.kernels.Toeplitz.profile`.

    Parameters
    ----------
    my_eigenvalues : callable
        ``my_eigenvalues(coefficients: dict, n: int) -> (n,) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``missing_n``,
        ``constant_factor``, ``mismatch``.
    """
    return CIRCULANT_SPECTRUM.run(my_eigenvalues, seed, "my_eigenvalues")


def _ring_eigenvalue(p: int, kappa: float) -> float:
    """2 ∫_0^κ cos(2πx)(cos(2πpx) − 1) dx by Gauss–Legendre quadrature (60 nodes: exact to round-off here)."""
    nodes, weights = np.polynomial.legendre.leggauss(60)
    x = 0.5 * kappa * (nodes + 1)
    return float(kappa * np.sum(weights * np.cos(2 * np.pi * x) * (np.cos(2 * np.pi * p * x) - 1)))


def _ring_trials(rng) -> list:
    cases = [(1, 0.1), (1, 0.3), (2, 0.2), (3, float(rng.uniform(0.05, 0.45)))]
    return [Trial((p, kappa), f"p = {p}, kappa = {kappa:.3g}", _ring_eigenvalue(p, kappa)) for p, kappa in cases]


RING_EIGENVALUE = ComparisonCheck(
    name="check_ring_eigenvalue",
    trials=_ring_trials,
    shape=lambda t: (),
    success="Your limit eigenvalue matches 2∫₀^κ cos(2πx)(cos(2πpx) − 1) dx for four (p, κ).",
    mistakes=(
        Mistake("one_side", "You counted the neighbours on one side only: the box weight takes k neighbours on "
                            "each side, hence the 2 in front.", lambda t: t.truth / 2),
    ),
    factors=(Factor("sign", "Wrong sign: for small κ the twisted state is stable, λ_p < 0.", lambda t: -1.0),),
    mismatch="Your eigenvalue differs from the limit integral by up to {error:.2g} ({shown}).",
)


def check_ring_eigenvalue(my_ring_eigenvalue: Callable, seed: int = 0) -> CheckResult:
    r"""Check the large-n eigenvalue of the 1-twisted ring, :math:`2\int_0^\kappa\cos(2\pi x)(\cos(2\pi px)-1)\,dx` (MODEL.md §4).

    The exercise: write ``my_ring_eigenvalue(p, kappa)`` returning the
    limit of the eigenvalue :math:`\lambda_p` of the twisted state
    :math:`q=1` for :math:`\beta\to0` and the box weight on a fraction
    :math:`\kappa` of neighbours on each side, in closed form or by
    quadrature.  Compared with Gauss–Legendre quadrature of the integral.

    Parameters
    ----------
    my_ring_eigenvalue : callable
        ``my_ring_eigenvalue(p, kappa) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``one_side``, ``sign``,
        ``constant_factor``, ``mismatch``.
    """
    return RING_EIGENVALUE.run(my_ring_eigenvalue, seed, "my_ring_eigenvalue")
