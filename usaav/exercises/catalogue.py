r"""The exercises of the book as data: chapter, label, what each trains, its difficulty and time, and its self-check.

:data:`EXERCISES` lists the coding exercises, one per self-check;
:data:`PAPER_EXERCISES` the exercises without a self-check (proofs and
derivations, with worked solutions in the book).  Every exercise of the
book's chapters appears in exactly one of them (a test compares the labels
with the chapters), and the instructor page shows both as one table.

Difficulty is one to three stars: ★ a direct computation from the chapter
(under 20 minutes), ★★ a computation that needs an idea from the chapter
(20–40 minutes), ★★★ a proof or a study that needs an idea of one's own.
The times are the book's estimates for a student who has read the chapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .checking import CheckResult
from .collapse import check_collapse_gap, check_energy_gradient, check_two_token_rate, check_velocity
from .framework import check_energy, check_energy_rate, check_gauge_energy, check_rope_velocity
from .metastability import (check_contraction_rates, check_first_merger_time, check_laplace_merger_time,
                            check_merger_rate, check_reduced_velocity)
from .positional import (check_circle_energy_gap, check_latitude_gap, check_quantile_phase, check_rope_energy,
                         check_rope_maximizer)
from .prompts import check_cluster_count, check_householder_gauge, check_prompt_maximizer
from .simulation import check_gauge_gap, check_heun_step, check_random_angle_gap, check_standard_error
from .transformer import check_layer_norm, check_sa_direction
from .toeplitz import (check_circulant_spectrum, check_ring_eigenvalue, check_toeplitz_bound, check_toeplitz_mode,
                       check_two_mode_energy)

__all__ = ["EXERCISES", "Exercise", "PAPER_EXERCISES", "PaperExercise", "every_exercise", "stars"]


def stars(difficulty: int) -> str:
    """``2 -> "★★"``."""
    return "★" * difficulty


@dataclass(frozen=True)
class Exercise:
    """A coding exercise of the book and its self-check.

    Attributes
    ----------
    chapter : int
        The chapter whose exercise section holds it.
    check : callable
        The self-check, e.g. :func:`check_velocity`.
    signature : str
        The function the reader writes.
    trains : str
        What the exercise trains, for the instructor's table.
    label : str
        The exercise's label in the book (``"ex-ch1-velocity"``).
    difficulty : int
        1 to 3 stars (module docstring).
    minutes : int
        Expected time.
    """

    chapter: int
    check: Callable[..., CheckResult]
    signature: str
    trains: str
    label: str
    difficulty: int
    minutes: int

    @property
    def name(self) -> str:
        return self.check.__name__


@dataclass(frozen=True)
class PaperExercise:
    """An exercise with a worked solution and no self-check (a proof, a derivation, a reading of a figure).

    Attributes are those of :class:`Exercise` without ``check`` and
    ``signature``.
    """

    chapter: int
    trains: str
    label: str
    difficulty: int
    minutes: int


#: Every coding exercise, in the order of the book.
EXERCISES: tuple[Exercise, ...] = (
    Exercise(1, check_energy_gradient, "my_gradient(X, beta)",
             "the energy's gradient; the flow as a gradient ascent", "ex-ch1-energy-ceiling", 2, 30),
    Exercise(1, check_collapse_gap, "my_gap(X)", "the collapse gap and its two formulas",
             "ex-ch1-collapse-gap", 1, 20),
    Exercise(1, check_velocity, "my_velocity(X, beta)",
             "the USA flow as an array computation; the tangent projection", "ex-ch1-velocity", 1, 25),
    Exercise(1, check_two_token_rate, "my_angle_rate(phi, beta)",
             "two tokens: the angle equation and the speed of collapse", "ex-ch1-two-tokens", 2, 40),
    Exercise(2, check_energy_rate, "my_energy_rate(X, beta)",
             "the energy climbs at the rate (1/n) Σ|ẋ_i|²", "ex-ch2-energy-ascent", 2, 30),
    Exercise(2, check_gauge_energy, "my_gauge_energy(X, gauges, prompt_ids, beta)",
             "the gauge frame: a gauge kernel's energy is the baseline's of u_i = G(a_i) x_i",
             "ex-ch2-gauge-frame", 2, 40),
    Exercise(2, check_energy, "my_energy(X, beta)", "the discrete energy and its normalisation",
             "ex-ch2-energy", 1, 15),
    Exercise(2, check_rope_velocity, "my_rope_velocity(X, s, beta, theta)",
             "gauge kernels are the baseline seen through the gauge", "ex-ch2-rope-velocity", 2, 30),
    Exercise(3, check_rope_energy, "my_rope_energy(X, s, beta, theta)",
             "RoPE's energy in the gauge frame", "ex-ch3-gauge-frame", 1, 25),
    Exercise(3, check_circle_energy_gap, "my_circle_gap(beta, polar)",
             "what the baseline sees of the RoPE circle: a Bessel function", "ex-ch3-ceiling", 2, 40),
    Exercise(3, check_rope_maximizer, "my_rope(v, theta, s)", "the RoPE maximiser of the paper's Thm. 1",
             "ex-ch3-rope-maximizer", 1, 20),
    Exercise(3, check_latitude_gap, "my_latitude_gap(polar)", "the output law of the latitude circle and its gap",
             "ex-ch3-latitude-law", 1, 25),
    Exercise(3, check_quantile_phase, "my_phase(s, angles)",
             "quantile functions realise any law on an orbit (the paper's Thm. 2 (ii))",
             "ex-ch3-quantile-phase", 2, 30),
    Exercise(4, check_householder_gauge, "my_gauge(v, t)",
             "Householder reflections realise any target (the paper's Thm. 4 (ii))",
             "ex-ch4-householder-gauge", 2, 25),
    Exercise(4, check_prompt_maximizer, "my_maximizer(v, gauges, prompt_ids)",
             "one cluster per distinct gauge (the paper's Thm. 4 (i), Cor. 2)", "ex-ch4-prompt-maximizer", 1, 20),
    Exercise(4, check_cluster_count, "my_cluster_count(v, gauges)",
             "counting clusters: fixed points of G_p G_qᵀ", "ex-ch4-count-clusters", 2, 30),
    Exercise(5, check_two_mode_energy, "my_max_energy(a0, a1, m)",
             "Fourier coefficients of two modes; when a great circle wins", "ex-ch5-two-modes", 1, 25),
    Exercise(5, check_toeplitz_mode, "my_winning_mode(coefficients)",
             "Fourier coefficients of a cosine series; the strongest mode wins (the paper's Prop. 10)",
             "ex-ch5-winning-mode", 2, 25),
    Exercise(5, check_circulant_spectrum, "my_eigenvalues(coefficients, n)",
             "circulant matrices: eigenvalues from Fourier coefficients", "ex-ch5-rayleigh", 2, 35),
    Exercise(5, check_toeplitz_bound, "my_bound(coefficients, s)",
             "Rayleigh quotients: the finite-n energy bound off the grid", "ex-ch5-bound-code", 1, 20),
    Exercise(5, check_ring_eigenvalue, "my_ring_eigenvalue(p, kappa)",
             "the stability of a twisted state in the large-n limit", "ex-ch5-critical-ring", 3, 50),
    Exercise(6, check_standard_error, "my_standard_error(R)",
             "the law of 1 − v₃² and the error bar of the RoPE verdict", "ex-ch6-two-thirds", 1, 25),
    Exercise(6, check_random_angle_gap, "my_random_angle_gap(v, angles)",
             "the gap of rotated copies: grid against random angles", "ex-ch6-grid-gap", 2, 35),
    Exercise(6, check_gauge_gap, "my_gauge_gap(X, s, theta)", "collapse in the gauge frame, not in the content frame",
             "ex-ch6-gauge-gap", 1, 15),
    Exercise(6, check_heun_step, "my_step(field, X, h)", "the projected Heun integrator", "ex-ch6-heun-step", 1, 20),
    Exercise(7, check_merger_rate, "my_merger_rate(gap, beta, W)",
             "the reduced flow of two clusters: the gap equation", "ex-ch7-two-cluster-ode", 2, 30),
    Exercise(7, check_laplace_merger_time, "my_laplace_T1(beta, gap)",
             "Laplace's method: the exponential merger time", "ex-ch7-laplace", 3, 45),
    Exercise(7, check_contraction_rates, "my_contraction_rates(beta, gap, W_AA, W_AB)",
             "linearising a cluster's contraction next to a neighbour", "ex-ch7-contraction", 3, 45),
    Exercise(7, check_first_merger_time, "my_T1(beta, gap)",
             "measuring a metastable time scale against the reduced flow (the paper's Thm. 5)",
             "ex-ch7-first-merger", 3, 60),
    Exercise(7, check_reduced_velocity, "my_reduced_velocity(M, W, beta)",
             "coarse-graining clusters into a k-point flow", "ex-ch7-reduced-velocity", 2, 30),
    Exercise(8, check_sa_direction, "my_sa_direction(X, s, beta, theta)",
             "softmax attention with RoPE and rotated values; a softmax that cannot overflow",
             "ex-ch8-softmax-direction", 2, 30),
    Exercise(8, check_layer_norm, "my_layer_norm(Y)", "LayerNorm as a map onto the sphere of 1⊥",
             "ex-ch8-layernorm-layer", 1, 20),
)

#: Every exercise without a self-check, in the order of the book.
PAPER_EXERCISES: tuple[PaperExercise, ...] = (
    PaperExercise(3, "a kernel whose maximisers are in no slice: Fourier series of the slice means",
                  "ex-ch3-no-graph-maximizer", 3, 60),
    PaperExercise(4, "the Householder reflection: symmetric, orthogonal, exchanging v and t",
                  "ex-ch4-householder", 1, 20),
    PaperExercise(4, "what a phase field cannot do: its output law lies in one plane",
                  "ex-ch4-no-phase-field", 2, 30),
    PaperExercise(5, "a nonnegative distance bias collapses; when a disconnected weight does not",
                  "ex-ch5-constant-paths", 2, 40),
    PaperExercise(6, "predict, then measure, what Euler steps change", "ex-ch6-euler", 2, 45),
    PaperExercise(8, "LayerNorm commutes with the permutations and rotations that fix (1, ..., 1)",
                  "ex-ch8-layernorm-equivariance", 2, 30),
    PaperExercise(8, "the first token of a causal block sees only itself", "ex-ch8-causal-first-token", 1, 15),
    PaperExercise(8, "why un-rotated values see no gauge frame", "ex-ch8-unrotated", 2, 30),
)


def every_exercise() -> list:
    """Every exercise of the book, coding and pen-and-paper, by chapter (book order within a kind)."""
    return sorted(EXERCISES + PAPER_EXERCISES, key=lambda exercise: exercise.chapter)  # stable: book order kept
