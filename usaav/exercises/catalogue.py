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
from .collapse import check_collapse_gap, check_velocity
from .framework import check_energy, check_rope_velocity
from .metastability import check_first_merger_time, check_reduced_velocity
from .positional import check_quantile_phase, check_rope_maximizer
from .prompts import check_householder_gauge, check_prompt_maximizer
from .simulation import check_gauge_gap, check_heun_step
from .toeplitz import check_toeplitz_bound, check_toeplitz_mode

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
    Exercise(1, check_velocity, "my_velocity(X, beta)",
             "the USA flow as an array computation; the tangent projection",
             "ex-ch1-velocity", 1, 25),
    Exercise(1, check_collapse_gap, "my_gap(X)", "the collapse gap and its two formulas",
             "ex-ch1-collapse-gap", 1, 20),
    Exercise(2, check_energy, "my_energy(X, beta)", "the discrete energy and its normalisation",
             "ex-ch2-energy", 1, 15),
    Exercise(2, check_rope_velocity, "my_rope_velocity(X, s, beta, theta)",
             "gauge kernels are the baseline seen through the gauge",
             "ex-ch2-rope-velocity", 2, 30),
    Exercise(3, check_rope_maximizer, "my_rope(v, theta, s)", "the RoPE maximiser of the paper's Thm. 1",
             "ex-ch3-rope-maximizer", 1, 20),
    Exercise(3, check_quantile_phase, "my_phase(s, angles)",
             "quantile functions realise any law on an orbit (the paper's Thm. 2 (ii))",
             "ex-ch3-quantile-phase", 2, 30),
    Exercise(4, check_householder_gauge, "my_gauge(v, t)",
             "Householder reflections realise any target (the paper's Thm. 4 (ii))",
             "ex-ch4-householder-gauge", 2, 25),
    Exercise(4, check_prompt_maximizer, "my_maximizer(v, gauges, prompt_ids)",
             "one cluster per distinct gauge (the paper's Thm. 4 (i), Cor. 2)",
             "ex-ch4-prompt-maximizer", 1, 20),
    Exercise(5, check_toeplitz_mode, "my_winning_mode(coefficients)",
             "Fourier coefficients of a cosine series; the strongest mode wins (the paper's Prop. 10)",
             "ex-ch5-winning-mode", 2, 25),
    Exercise(5, check_toeplitz_bound, "my_bound(coefficients, s)",
             "Rayleigh quotients: the finite-n energy bound off the grid",
             "ex-ch5-bound-code", 1, 20),
    Exercise(6, check_heun_step, "my_step(field, X, h)", "the projected Heun integrator",
             "ex-ch6-heun-step", 1, 20),
    Exercise(6, check_gauge_gap, "my_gauge_gap(X, s, theta)", "collapse in the gauge frame, not in the content frame",
             "ex-ch6-gauge-gap", 1, 15),
    Exercise(7, check_first_merger_time, "my_T1(beta, gap)",
             "measuring a metastable time scale against the reduced flow (the paper's Thm. 5)",
             "ex-ch7-first-merger", 3, 60),
    Exercise(7, check_reduced_velocity, "my_reduced_velocity(M, W, beta)",
             "coarse-graining clusters into a k-point flow",
             "ex-ch7-reduced-velocity", 2, 30),
)

#: Every exercise without a self-check, in the order of the book.
PAPER_EXERCISES: tuple[PaperExercise, ...] = ()


def every_exercise() -> list:
    """Every exercise of the book, coding and pen-and-paper, by chapter (book order within a kind)."""
    return sorted(EXERCISES + PAPER_EXERCISES, key=lambda exercise: exercise.chapter)
