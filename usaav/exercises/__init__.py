r"""Self-checks for the exercises of the book, one module per chapter on a small checking core.

Each coding exercise asks the reader to write one small function in plain
NumPy; a ``check_*`` function here runs it on random inputs (explicit seeds),
compares it with the library and answers in plain words: *correct*, or what
is wrong ("your forces are not tangent to the sphere", "off by a factor n",
"sign of the rotation", "wrong shape (expected (n, d), got ...)", "your
function raised ..."), never the answer itself.  A check returns a
:class:`CheckResult`, which is truthy when the function is right, so
``assert check_velocity(my_velocity)`` works in a test, and which prints as
one line in a notebook.

:data:`EXERCISES` lists the coding exercises, one per check, with the chapter
each belongs to, what it trains, its difficulty and time;
:data:`PAPER_EXERCISES` the others.

The package: :mod:`~usaav.exercises.checking` (the verdict, trials,
comparisons and diagnoses, and :class:`~usaav.exercises.checking.ComparisonCheck`,
the template most checks share, declared as data),
:mod:`~usaav.exercises.guard` (what a check watches while the reader's
function runs: no call of the library's own answer, no look into the
checker), one module of checks per chapter (``collapse``, ``framework``,
``positional``, ``prompts``, ``toeplitz``, ``simulation``,
``metastability``, ``transformer``), :mod:`~usaav.exercises.catalogue` (every exercise as
data, with its difficulty and time) and :mod:`~usaav.exercises.grading`
(otter-grader tests that grade a student notebook in a fresh process).

How to write an exercise in the book
------------------------------------

*A note for the book's chapter authors.*  Every chapter ends with a section
``## Exercises`` holding at least three exercises, pen-and-paper and coding,
each followed by its solution folded in a dropdown.  The directives come
from sphinx-exercise.  Exercises are numbered per chapter ("Exercise 3.2");
refer to one by its label (``{ref}`ex-rope-maximizer```), never by a
number typed by hand.  Labels start with ``ex-``.

A pen-and-paper exercise and its solution::

    ```{exercise} The gauge frame removes the positions
    :label: ex-gauge-frame

    Let $u_i = G(a_i)x_i$. Show that the $u_i$ follow the baseline USA
    flow ({model}`§3`).
    ```

    ```{solution} ex-gauge-frame
    :class: dropdown

    Projection commutes with orthogonal maps: $G P_x G^\top = P_{Gx}$, so ...
    ```

A coding exercise has three parts.  The statement names the function to
write, its signature and the check.  A code cell, tagged ``skip-execution``,
holds the template the reader fills in: the book shows it but does not run
it (an empty template would only print "Not yet").  The solution *is* run
when the book is built, so every solution is checked again on every build.
Code cells cannot sit inside a directive, so the solution uses the gated
form ``solution-start`` / ``solution-end``, with ``:class: dropdown`` to
fold it::

    ```{exercise} The USA velocity in plain NumPy
    :label: ex-usa-velocity

    Write `my_velocity(X, beta)` returning the $(n, d)$ array of velocities
    $\dot x_i = P_{x_i}\big(\frac1n\sum_j e^{\beta\langle x_i,x_j\rangle}x_j\big)$
    ({model}`§2`), then run `check_velocity(my_velocity)`.
    ```

    ```{code-cell} ipython3
    :tags: [skip-execution]

    from usaav.exercises import check_velocity

    def my_velocity(X, beta):
        ...  # your code here

    check_velocity(my_velocity)
    ```

    ```{solution-start} ex-usa-velocity
    :class: dropdown
    ```

    Explain the idea in a sentence or two, then the code:

    ```{code-cell} ipython3
    def my_velocity(X, beta):
        ...  # the solution

    check_velocity(my_velocity)
    ```

    ```{solution-end}
    ```

The last line of the solution cell shows ``check_velocity: Correct. ...``
in the built book.  The statement gives the exact signature the check calls
(each check's docstring states it, with the equation and its place in
the model appendix); the dimensions, seeds and tolerances are the check's
business.
"""

from . import catalogue, metastability
from .catalogue import Exercise, PaperExercise, every_exercise
from .checking import CheckResult
from .collapse import check_collapse_gap, check_energy_gradient, check_two_token_rate, check_velocity
from .framework import check_energy, check_energy_rate, check_gauge_energy, check_rope_velocity
from .metastability import (check_contraction_rates, check_first_merger_time, check_laplace_merger_time,
                            check_merger_rate, check_reduced_velocity)
from .positional import (check_circle_energy_gap, check_latitude_gap, check_quantile_phase, check_rope_energy,
                         check_rope_maximizer)
from .prompts import check_cluster_count, check_householder_gauge, check_prompt_maximizer
from .simulation import check_gauge_gap, check_heun_step, check_random_angle_gap, check_standard_error
from .toeplitz import (check_circulant_spectrum, check_ring_eigenvalue, check_toeplitz_bound, check_toeplitz_mode,
                       check_two_mode_energy)
from .transformer import check_layer_norm, check_sa_direction

#: Every coding exercise of the book and its self-check, with label, difficulty and time, in the
#: order of the book (the table lives in :mod:`usaav.exercises.catalogue`).
EXERCISES = catalogue.EXERCISES

#: Every exercise without a self-check (proofs, derivations), with label, difficulty and time.
PAPER_EXERCISES = catalogue.PAPER_EXERCISES

#: Relative tolerance of :func:`check_first_merger_time` (see :mod:`usaav.exercises.metastability`).
MERGER_TOLERANCE = metastability.MERGER_TOLERANCE

__all__ = [
    "EXERCISES",
    "MERGER_TOLERANCE",
    "PAPER_EXERCISES",
    "CheckResult",
    "Exercise",
    "PaperExercise",
    "check_circle_energy_gap",
    "check_circulant_spectrum",
    "check_cluster_count",
    "check_collapse_gap",
    "check_contraction_rates",
    "check_energy",
    "check_energy_gradient",
    "check_energy_rate",
    "check_first_merger_time",
    "check_gauge_energy",
    "check_gauge_gap",
    "check_heun_step",
    "check_householder_gauge",
    "check_laplace_merger_time",
    "check_latitude_gap",
    "check_layer_norm",
    "check_merger_rate",
    "check_prompt_maximizer",
    "check_quantile_phase",
    "check_random_angle_gap",
    "check_reduced_velocity",
    "check_ring_eigenvalue",
    "check_rope_energy",
    "check_rope_maximizer",
    "check_rope_velocity",
    "check_sa_direction",
    "check_standard_error",
    "check_toeplitz_bound",
    "check_toeplitz_mode",
    "check_two_mode_energy",
    "check_two_token_rate",
    "check_velocity",
    "every_exercise",
]
