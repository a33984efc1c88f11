r"""Self-checks for the coding exercises of the book.

Each coding exercise asks the reader to write one small function in plain
NumPy; a ``check_*`` function here runs it on random inputs (explicit seeds),
compares it with the library and answers in plain words: *correct*, or what
is wrong ("your forces are not tangent to the sphere", "off by a factor n",
"sign of the rotation", "wrong shape (expected (n, d), got ...)", "your
function raised ..."), never the answer itself.  A check returns a
:class:`CheckResult`, which is truthy when the function is right, so
``assert check_velocity(my_velocity)`` works in a test, and which prints as
one line in a notebook.

:data:`EXERCISES` lists the exercises, one per check, with the chapter each
belongs to and what it trains.

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
(each check's docstring below states it, with the equation and its place in
the model appendix); the dimensions, seeds and tolerances are the check's
business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import kernels, maximizers
from ._validation import check_int
from .dynamics import bind, energy, vector_field, velocity
from .experiments.metastability import reduced_merger_time
from .integrate import heun_step
from .observables import collapse_gap, gauge_gap, relative_energy_gap
from .sphere import haar_rotations, normalize, project_tangent, rotate_in_plane, uniform_sphere

__all__ = [
    "EXERCISES",
    "CheckResult",
    "Exercise",
    "check_collapse_gap",
    "check_energy",
    "check_first_merger_time",
    "check_gauge_gap",
    "check_heun_step",
    "check_householder_gauge",
    "check_prompt_maximizer",
    "check_quantile_phase",
    "check_reduced_velocity",
    "check_rope_maximizer",
    "check_rope_velocity",
    "check_toeplitz_bound",
    "check_toeplitz_mode",
    "check_velocity",
]


# --------------------------------------------------------------------------
# The verdict and the machinery shared by the checks
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a self-check.

    Attributes
    ----------
    check : str
        Name of the check that ran (``"check_velocity"``).
    passed : bool
        Whether the reader's function is right.
    diagnosis : str
        A short code for what was found: ``"correct"``, or one of the codes
        listed in the check's docstring (``"wrong_shape"``, ``"raises"``,
        ``"not_tangent"``, ``"factor_n"``, ...).  Tests and instructors use
        it; readers read ``message``.
    message : str
        The verdict in plain words.
    """

    check: str
    passed: bool
    diagnosis: str
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the verdict, not the dataclass
        printer.text(str(self))


class _Diagnosis(Exception):
    """Raised inside a check at the first thing found wrong; becomes a failed CheckResult."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Trial:
    """One call of the reader's function: its arguments, how to describe them, the right answer."""

    args: tuple
    shown: str
    truth: Any


def _verdict(check: str, body: Callable[[], str]) -> CheckResult:
    try:
        message = body()
    except _Diagnosis as found:
        return CheckResult(check, False, found.code, "Not yet. " + found.message)
    return CheckResult(check, True, "correct", "Correct. " + message)


def _require_callable(function, name: str, seed: int | None = None) -> None:
    """Check the arguments of a check: the reader's function, and the seed when there is one."""
    if not callable(function):
        raise TypeError(f"{name} must be a function (pass it without calling it), got {type(function).__name__}")
    if seed is not None:
        check_int(seed, "seed", minimum=0)


def _fresh(value):
    """A private copy of an argument: a reader's function may modify its input in place."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return dict(value)
    return value


def _call(function, trial: _Trial):
    try:
        with np.errstate(all="ignore"):
            return function(*(_fresh(arg) for arg in trial.args))
    except Exception as error:  # every bug of the reader's function becomes a verdict
        raise _Diagnosis(
            "raises",
            f"Your function raised {type(error).__name__}: {error} (called with {trial.shown}). "
            "Run it yourself on the same kind of input to see where.",
        ) from None


def _as_array(value, shape: tuple, shown: str) -> np.ndarray:
    """The reader's output as a float array of the expected shape, or a diagnosis."""
    if value is None:
        raise _Diagnosis("returns_none", f"Your function returned None (called with {shown}): is a `return` missing?")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _Diagnosis(
            "not_numeric", f"Your function returned a {type(value).__name__}, not numbers (called with {shown})."
        ) from None
    if array.shape != shape:
        if shape == ():
            expected = "a single number"
        else:
            expected = f"shape {shape}"
        hint = " Transposed?" if len(shape) == 2 and array.shape == shape[::-1] and shape[0] != shape[1] else ""
        raise _Diagnosis(
            "wrong_shape", f"Wrong shape: expected {expected}, got shape {array.shape} (called with {shown}).{hint}"
        )
    if not np.all(np.isfinite(array)):
        raise _Diagnosis("nan", f"Your function returns NaN or inf (called with {shown}).")
    return array


def _outputs(function, trials: Sequence[_Trial], shape_of: Callable[[_Trial], tuple]) -> list[np.ndarray]:
    return [_as_array(_call(function, trial), shape_of(trial), trial.shown) for trial in trials]


def _close(a, b, rtol: float = 1e-7) -> bool:
    """Equal up to rounding: relative 1e-7, absolute 1e-9 times the size of ``b``.

    Plain-NumPy solutions sum in a different order from the library, which
    changes the last few digits only; a real mistake changes far more.
    """
    b = np.asarray(b, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return bool(np.allclose(a, b, rtol=rtol, atol=1e-9 * scale))


def _all_close(outputs, values) -> bool:
    return all(_close(out, value) for out, value in zip(outputs, values))


def _first_mistake(outputs, mistakes) -> None:
    """Raise the diagnosis of the first typical mistake that reproduces every output."""
    for code, message, values in mistakes:
        if _all_close(outputs, values):
            raise _Diagnosis(code, message)


def _factor(output, truth) -> float | None:
    """The number c with output = c · truth, NaN if there is none, None if truth is zero."""
    o, t = np.ravel(output), np.ravel(truth)
    norm = float(t @ t)
    if norm < 1e-24:
        return None
    c = float(o @ t) / norm
    return c if _close(o, c * t, rtol=1e-6) else math.nan


def _factor_mistake(outputs, truths, named) -> None:
    """Diagnose outputs that are the right answer times a factor.

    ``named`` lists ``(code, message, factors)`` with one expected factor per
    trial (e.g. n for "sum instead of mean"); an unnamed factor that is the
    same in every trial is reported as a constant factor.
    """
    factors = [_factor(out, truth) for out, truth in zip(outputs, truths)]
    known = [(c, i) for i, c in enumerate(factors) if c is not None]
    if not known or any(math.isnan(c) for c, _ in known):
        return
    for code, message, expected in named:
        if all(math.isclose(c, expected[i], rel_tol=1e-5) for c, i in known):
            raise _Diagnosis(code, message)
    first = known[0][0]
    if all(math.isclose(c, first, rel_tol=1e-5) for c, _ in known):
        raise _Diagnosis(
            "constant_factor",
            f"Your result points the right way but is {first:.3g} times the right one: "
            "look for a missing or extra constant.",
        )


def _largest_error(outputs, truths, trials) -> tuple[float, str]:
    errors = [float(np.max(np.abs(out - truth))) for out, truth in zip(outputs, truths)]
    worst = int(np.argmax(errors))
    return errors[worst], trials[worst].shown


def _require_tangent(outputs, trials, message: str) -> None:
    """Diagnose velocities not tangent to the sphere at the points ``trial.args[0]``.

    ``message`` is formatted with ``defect`` (the largest :math:`|\\langle x_i, v_i\\rangle|`)
    and ``shown``; round-off allows 1e-8 of the largest entry.
    """
    for out, trial in zip(outputs, trials):
        defect = float(np.max(np.abs(np.sum(trial.args[0] * out, axis=-1))))
        if defect > 1e-8 * max(1.0, float(np.max(np.abs(out)))):
            raise _Diagnosis("not_tangent", message.format(defect=defect, shown=trial.shown))


def _require_unit_rows(outputs, trials, code: str, message: str, tol: float = 1e-8) -> None:
    """Diagnose outputs whose rows are not on the sphere; ``message`` is formatted with ``drift`` and ``shown``."""
    for out, trial in zip(outputs, trials):
        drift = float(np.max(np.abs(np.linalg.norm(out, axis=1) - 1.0)))
        if drift > tol:
            raise _Diagnosis(code, message.format(drift=drift, shown=trial.shown))


# --------------------------------------------------------------------------
# Chapter 1: mode collapse
# --------------------------------------------------------------------------


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
        ``not_numeric``, ``wrong_shape``, ``nan``): ``missing_projection``,
        ``not_tangent``, ``softmax``, ``exponent_without_beta``,
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
    _require_callable(my_velocity, "my_velocity", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for n, d, beta in ((5, 3, 1.0), (12, 4, 2.5), (40, 3, 0.5), (7, 2, 4.0)):
            X = uniform_sphere(n, d, rng)
            trials.append(_Trial((X, beta), f"X of shape ({n}, {d}), beta = {beta:g}",
                                 velocity(kernels.USA(beta), X, None)))
        outputs = _outputs(my_velocity, trials, lambda t: t.args[0].shape)
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return ("Your velocities match the library (usaav.velocity with the USA kernel) on four random clouds "
                    "with n from 5 to 40, d from 2 to 4 and β from 0.5 to 4.")
        attention = [np.exp(beta * X @ X.T) for X, beta in (t.args for t in trials)]
        _first_mistake(outputs, [
            ("missing_projection",
             "Your forces are not tangent to the sphere: you are missing the projection "
             "P_{x_i} = I − x_i x_iᵀ applied to the attention sum (§2 of the model appendix). "
             "Without it the tokens would leave the sphere.",
             [A @ X / len(X) for A, (X, _) in zip(attention, (t.args for t in trials))]),
            ("softmax",
             "You normalised the attention weights (a softmax, dividing by Σ_j e^{β⟨x_i,x_j⟩}). "
             "The USA flow is the unnormalised model: the weights are e^{β⟨x_i,x_j⟩} and the sum is "
             "divided by n only.",
             [project_tangent(X, (A / A.sum(axis=1, keepdims=True)) @ X)
              for A, (X, _) in zip(attention, (t.args for t in trials))]),
            ("exponent_without_beta",
             "Your weights ignore β: use e^{β⟨x_i,x_j⟩}, not e^{⟨x_i,x_j⟩}.",
             [velocity(kernels.USA(1.0), X, None) for X, _ in (t.args for t in trials)]),
        ])
        _require_tangent(outputs, trials,
                         "Your forces are not tangent to the sphere: ⟨x_i, v_i⟩ reaches {defect:.2g} "
                         "(called with {shown}). The last step must be the projection "
                         "P_{{x_i}} v = v − ⟨x_i, v⟩ x_i.")
        ns = [len(t.args[0]) for t in trials]
        betas = [t.args[1] for t in trials]
        _factor_mistake(outputs, truths, [
            ("factor_n", "Off by a factor n: you summed over j but did not divide by n "
                         "(the velocity averages over the n tokens).", ns),
            ("factor_1_over_n", "Off by a factor 1/n: you divided by n twice.", [1 / n for n in ns]),
            ("factor_n_minus_1",
             "Off by a factor n/(n − 1): you divided by n − 1. The sum runs over all j, including j = i "
             "(that term is projected away anyway), and is divided by n.", [n / (n - 1) for n in ns]),
            ("sign", "Wrong sign: with your velocity the tokens move apart. The flow climbs the energy: "
                     "each token moves towards its attention-weighted average.", [-1.0] * len(ns)),
            ("factor_1_over_beta",
             "Off by a factor 1/β: the gradient of K = e^{β⟨x,y⟩}/β in x is e^{β⟨x,y⟩} y; "
             "the β of the chain rule cancels the 1/β.", [1 / b for b in betas]),
            ("factor_beta",
             "Off by a factor β: you differentiated e^{β⟨x,y⟩} instead of K = e^{β⟨x,y⟩}/β.", betas),
            ("rescaled_clock",
             "Off by a factor e^{−β}: that is the velocity in the rescaled clock t' = e^β t. "
             "This exercise asks for the raw flow.", [math.exp(-b) for b in betas]),
        ])
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your velocities differ from the library's by up to {error:.2g} "
                                     f"(called with {shown}). Check the weights e^{{β⟨x_i,x_j⟩}} and the "
                                     "average over j.")

    return _verdict("check_velocity", run)


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
    _require_callable(my_gap, "my_gap", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        clouds = [
            uniform_sphere(6, 3, rng),
            uniform_sphere(50, 4, rng),
            normalize(np.array([0.3, -0.2, 0.9]) + 0.2 * rng.standard_normal((20, 3))),
            np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]]),
            np.tile(uniform_sphere(1, 3, rng), (8, 1)),
            uniform_sphere(1, 2, rng),
        ]
        trials = [_Trial((X,), f"X of shape {X.shape}", collapse_gap(X)) for X in clouds]
        outputs = _outputs(my_gap, trials, lambda t: ())
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return ("Your gap matches usaav.collapse_gap on random clouds, a clustered cloud, two antipodal "
                    "points, a collapsed cloud and a single point.")
        distances = [np.linalg.norm(X[:, None] - X[None], axis=-1) for X in clouds]
        _first_mistake(outputs, [
            ("mean_not_squared", "You used 1 − |x̄| instead of 1 − |x̄|²: square the length of the mean.",
             [1 - np.linalg.norm(X.mean(axis=0)) for X in clouds]),
            ("distances_not_squared",
             "You averaged the distances |x_i − x_j|; the gap averages their squares |x_i − x_j|².",
             [D.sum() / (2 * len(D) ** 2) for D in distances]),
        ])
        ns = [len(X) for X in clouds]
        _factor_mistake(outputs, truths, [
            ("factor_2", "Off by a factor 2: the double sum counts every pair twice, hence the 1/2 in front.",
             [2.0] * len(ns)),
            ("factor_n", "Off by a factor n: the double sum has n² terms, so divide by 2n², not 2n.", ns),
        ])
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your gap differs from the library's by up to {error:.2g} (called with {shown}).")

    return _verdict("check_collapse_gap", run)


# --------------------------------------------------------------------------
# Chapter 2: the framework
# --------------------------------------------------------------------------


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
    _require_callable(my_energy, "my_energy", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        cases = [(uniform_sphere(6, 3, rng), 1.0), (uniform_sphere(30, 4, rng), 2.5),
                 (uniform_sphere(11, 2, rng), 0.5), (np.tile(uniform_sphere(1, 3, rng), (5, 1)), 3.0)]
        trials = [_Trial((X, beta), f"X of shape {X.shape}, beta = {beta:g}", energy(kernels.USA(beta), X, None))
                  for X, beta in cases]
        outputs = _outputs(my_energy, trials, lambda t: ())
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return "Your energy matches usaav.energy on three random clouds and a collapsed one."
        K = [np.exp(beta * X @ X.T) / beta for X, beta in cases]
        _first_mistake(outputs, [
            ("pairs_i_less_than_j",
             "You summed over the pairs i < j only; the energy sums over all (i, j), "
             "including i = j and both orders.",
             [np.triu(k, 1).sum() / (2 * len(k) ** 2) for k in K]),
            ("no_diagonal", "You left out the terms i = j; the sum runs over all pairs (i, j).",
             [(k.sum() - np.trace(k)) / (2 * len(k) ** 2) for k in K]),
            ("exponent_without_beta", "Your kernel ignores β in the exponent: K = e^{β⟨x,y⟩}/β.",
             [np.exp(X @ X.T).sum() / (2 * beta * len(X) ** 2) for X, beta in cases]),
        ])
        _factor_mistake(outputs, truths, [
            ("factor_2", "Off by a factor 2: E_n has 1/(2n²) in front.", [2.0] * len(cases)),
            ("factor_n", "Off by a factor n: there are n² pairs, so divide by 2n², not 2n.",
             [len(X) for X, _ in cases]),
            ("factor_beta", "Off by a factor β: the kernel is K = e^{β⟨x,y⟩}/β; the 1/β is missing.",
             [beta for _, beta in cases]),
        ])
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your energy differs from the library's by up to {error:.2g} "
                                     f"(called with {shown}).")

    return _verdict("check_energy", run)


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
    :class:`usaav.kernels.RoPE`.

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
        ``not_tangent``, ``factor_n``, ``constant_factor``, ``mismatch``.
    """
    _require_callable(my_rope_velocity, "my_rope_velocity", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for n, d, beta, theta in ((6, 3, 1.0, 2 * np.pi), (15, 4, 2.0, 1.3), (9, 3, 0.7, -2.0)):
            X, s = uniform_sphere(n, d, rng), rng.uniform(0.0, 1.0, n)
            trials.append(_Trial((X, s, beta, theta), f"X of shape ({n}, {d}), beta = {beta:g}, theta = {theta:.3g}",
                                 velocity(kernels.RoPE(beta, theta), X, s)))
        outputs = _outputs(my_rope_velocity, trials, lambda t: t.args[0].shape)
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return ("Your gauge-frame computation matches the RoPE velocity of the library on three random "
                    "clouds (d = 3 and 4, several β and θ): the RoPE flow is the baseline flow seen through "
                    "the gauge.")

        def gauge_frame_parts(trial):
            X, s, beta, theta = trial.args
            U = rotate_in_plane(X, theta * s, (0, 1))
            return U, velocity(kernels.USA(beta), U, None)

        parts = [gauge_frame_parts(t) for t in trials]
        _first_mistake(outputs, [
            ("gauge_frame_velocity",
             "You returned the velocity of the gauge-frame points u_i = R_{θs_i} x_i. "
             "Map it back to the tokens: ẋ_i = G(s_i)ᵀ u̇_i.",
             [W for _, W in parts]),
            ("G_instead_of_GT",
             "You used G instead of Gᵀ when mapping back: u_i = G(s_i) x_i, so ẋ_i = G(s_i)ᵀ u̇_i = R_{−θs_i} u̇_i.",
             [rotate_in_plane(W, t.args[3] * t.args[1], (0, 1)) for (_, W), t in zip(parts, trials)]),
            ("sign_of_rotation",
             "Sign of the rotation: RoPE's gauge is G(s) = R_{θs}, so u_i = R_{θs_i} x_i "
             "(and back with R_{−θs_i}); you used the opposite angles.",
             [velocity(kernels.RoPE(t.args[2], -t.args[3]), t.args[0], t.args[1]) for t in trials]),
            ("ignores_positions",
             "Your velocity ignores the positions: it is the baseline USA velocity of the tokens. "
             "Rotate each token by its own angle θs_i first.",
             [velocity(kernels.USA(t.args[2]), t.args[0], None) for t in trials]),
        ])
        _require_tangent(outputs, trials,
                         "Your forces are not tangent to the sphere: ⟨x_i, ẋ_i⟩ reaches {defect:.2g} "
                         "(called with {shown}). Is the projection P_{{u_i}} missing in the gauge frame?")
        _factor_mistake(outputs, truths, [
            ("factor_n", "Off by a factor n: the baseline velocity averages over j (divide by n).",
             [len(t.args[0]) for t in trials]),
        ])
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your velocities differ from the library's by up to {error:.2g} "
                                     f"(called with {shown}).")

    return _verdict("check_rope_velocity", run)


# --------------------------------------------------------------------------
# Chapter 3: positional encoding
# --------------------------------------------------------------------------


def check_rope_maximizer(my_rope: Callable, seed: int = 0) -> CheckResult:
    r"""Check the RoPE maximiser :math:`x(s)=R_{-\theta s}v` (MODEL.md §4, the paper's Thm. 1).

    The exercise: write ``my_rope(v, theta, s)`` returning the ``(n, d)``
    array of the points :math:`x(s_k)=R_{-\theta s_k}v` (rotation in the
    plane of the first two coordinates).  In the gauge frame
    :math:`R_{\theta s}x(s)=v` for every :math:`s`, so every interaction is
    maximal and :math:`E=e^\beta/(2\beta)`.  Compared with
    :func:`usaav.maximizers.rope`; a path that is not the theorem's gets its
    relative energy gap under :class:`usaav.kernels.RoPE` reported.

    Parameters
    ----------
    my_rope : callable
        ``my_rope(v, theta, s) -> (n, d) array`` for a unit vector ``v`` of
        length ``d`` and positions ``s`` of length ``n``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``sign_of_rotation``,
        ``same_angle_for_all``, ``not_on_sphere``, ``other_maximizer``,
        ``not_a_maximizer``.
    """
    _require_callable(my_rope, "my_rope", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for n, d, theta in ((10, 3, 2 * np.pi), (25, 4, 1.5), (16, 3, -3.0)):
            v, s = uniform_sphere(1, d, rng)[0], rng.uniform(0.0, 1.0, n)
            trials.append(_Trial((v, theta, s), f"v in dimension {d}, theta = {theta:.3g}, {n} positions",
                                 maximizers.rope(v, theta, s)))
        outputs = _outputs(my_rope, trials, lambda t: (len(t.args[2]), len(t.args[0])))
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return ("Your path is the RoPE maximiser x(s) = R_{−θs}v of the theorem, for d = 3 and 4 and "
                    "positive and negative θ.")
        _first_mistake(outputs, [
            ("sign_of_rotation",
             "Sign of the rotation: your path is x(s) = R_{+θs}v. In the gauge frame R_{θs}x(s) must be the "
             "same point v for every s, so x(s) has to undo the gauge.",
             [maximizers.rope(v, -theta, s) for v, theta, s in (t.args for t in trials)]),
            ("same_angle_for_all",
             "Every token got the same rotation: the angle must depend on the position, −θ s.",
             [maximizers.rope(v, theta, np.ones_like(s)) for v, theta, s in (t.args for t in trials)]),
        ])
        _require_unit_rows(outputs, trials, "not_on_sphere",
                           "Your points are not on the sphere (| |x| − 1 | reaches {drift:.2g}, called with "
                           "{shown}). A rotation keeps lengths: check the cos/sin entries.")
        gaps = [relative_energy_gap(kernels.RoPE(1.0, t.args[1]), out, t.args[2]) for out, t in zip(outputs, trials)]
        if max(gaps) < 1e-9:
            raise _Diagnosis("other_maximizer",
                             "Your path attains the maximal energy, so it is a maximiser, but not the theorem's "
                             "path for this v: x(s) = R_{−θs}v is v itself at s = 0.")
        worst = int(np.argmax(gaps))
        raise _Diagnosis("not_a_maximizer",
                         f"Your path is not a maximiser: its relative energy gap (E_max − E)/E_max under the RoPE "
                         f"kernel is {gaps[worst]:.2g} (called with {trials[worst].shown}); it is 0 at a maximiser.")

    return _verdict("check_rope_maximizer", run)


def _circular_w1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance between sorted angles on the circle (both samples of equal size, reduced mod 2π)."""
    a, b = np.sort(np.mod(a, 2 * np.pi)), np.sort(np.mod(b, 2 * np.pi))
    return float(np.mean(np.abs(np.angle(np.exp(1j * (a - b))))))


def check_quantile_phase(my_phase: Callable, seed: int = 0) -> CheckResult:
    r"""Check a phase that realises a target law on an orbit (MODEL.md §4, the paper's Thm. 2 (ii)).

    The exercise: given target angles :math:`\alpha_1,\dots,\alpha_m` (their
    empirical law :math:`\nu`), write ``my_phase(s, angles)`` returning
    :math:`\varphi(s)` at every position of the array ``s`` such that the
    phase-field maximiser :math:`x(s)=R_{-\varphi(s)}v` has angle law
    :math:`\nu` when :math:`s` is uniform.  The theorem's choice:
    :math:`-\varphi=Q`, the quantile function of :math:`\nu`,
    :math:`Q(s)=\alpha_{(\lfloor sm\rfloor+1)}` with the angles sorted.  The
    check evaluates the phase on a uniform grid of :math:`8m` midpoints and
    compares the law of the angles :math:`-\varphi(s)` with the law realised
    by :func:`usaav.maximizers.realize_on_orbit`.

    Parameters
    ----------
    my_phase : callable
        ``my_phase(s, angles) -> array of the shape of s``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``sign``, ``approximate``,
        ``wrong_law``.
    """
    _require_callable(my_phase, "my_phase", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        targets = [
            rng.uniform(0.3, 2 * np.pi - 0.3, 5),
            np.r_[rng.normal(1.0, 0.1, 4), rng.normal(4.0, 0.2, 4)],
            np.array([2.0]),
            rng.uniform(0.3, 2.0, 12),
        ]
        trials = []
        for angles in targets:
            m = len(angles)
            s = (np.arange(8 * m) + 0.5) / (8 * m)
            trials.append(_Trial((s, angles), f"{m} target angle(s) and {8 * m} positions s",
                                 -maximizers.realize_on_orbit(angles)(s)))
        outputs = _outputs(my_phase, trials, lambda t: t.args[0].shape)
        realised = [-out for out in outputs]
        distances = [_circular_w1(r, t.truth) for r, t in zip(realised, trials)]
        if max(distances) < 1e-9:
            return ("The angles −φ(s) of your maximiser, for uniform s, have exactly the target law, "
                    "for four target laws (spread out, two bumps, a single angle, twelve angles).")
        if all(_circular_w1(-r, t.truth) < 1e-9 for r, t in zip(realised, trials)):
            raise _Diagnosis("sign", "Sign: your tokens sit at the mirror image of the target law. The maximiser is "
                                     "x(s) = R_{−φ(s)}v, so −φ must be the quantile function: φ = −Q.")
        worst = int(np.argmax(distances))
        spread = max(float(np.ptp(trials[worst].truth)), 1.0)
        if distances[worst] < 0.05 * spread:
            raise _Diagnosis("approximate",
                             f"Close, but not exact: the law of your angles is {distances[worst]:.2g} rad away from "
                             f"the target (Wasserstein distance, {trials[worst].shown}). The theorem realises the "
                             "law exactly with the step quantile function Q(s) = α_(⌊sm⌋+1), angles sorted.")
        raise _Diagnosis("wrong_law",
                         f"Your phase does not realise the target law: the angles −φ(s) are {distances[worst]:.2g} rad "
                         f"away from it (Wasserstein distance, {trials[worst].shown}). −φ should be the quantile "
                         "function of the target angles.")

    return _verdict("check_quantile_phase", run)


# --------------------------------------------------------------------------
# Chapter 4: prompts
# --------------------------------------------------------------------------


def check_householder_gauge(my_gauge: Callable, seed: int = 0) -> CheckResult:
    r"""Check an orthogonal gauge that sends ``v`` to a target (MODEL.md §4, the paper's Thm. 4 (ii)).

    The exercise: write ``my_gauge(v, t)`` returning a ``(d, d)`` orthogonal
    matrix :math:`G` with :math:`G^\top v=t`, for unit vectors :math:`v, t`;
    the theorem's choice is the Householder reflection exchanging them,

    .. math:: H = I - 2\frac{ww^\top}{|w|^2},\qquad w = v - t,

    (and :math:`I` when :math:`t=v`).  Then :math:`x_p=G_p^\top v=T(p)` is a
    maximiser (Thm. 4 (i)) whose output law is any target law.  Tested on
    random pairs in :math:`d=3` and :math:`d=5`, on :math:`t=v`,
    :math:`t=-v` and on :math:`t` within :math:`10^{-6}` of :math:`v`; the
    images are computed with :func:`usaav.maximizers.gauge`.

    Parameters
    ----------
    my_gauge : callable
        ``my_gauge(v, t) -> (d, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``nan_when_equal``,
        ``not_normalised``, ``not_orthogonal``, ``G_instead_of_GT``,
        ``sign``, ``identity_too_early``, ``misses_target``.
    """
    _require_callable(my_gauge, "my_gauge", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        v3, v5 = uniform_sphere(2, 3, rng), uniform_sphere(2, 5, rng)
        near = normalize(v3[0] + 1e-6 * uniform_sphere(1, 3, rng)[0])
        pairs = [("a random pair in d = 3", v3[0], v3[1]), ("a random pair in d = 5", v5[0], v5[1]),
                 ("t = v", v3[1], v3[1].copy()), ("t = −v", v5[1], -v5[1]),
                 ("t within 1e-6 of v", v3[0], near)]
        trials = [_Trial((v, t), shown, t) for shown, v, t in pairs]
        outputs = []
        for trial in trials:
            d = len(trial.args[0])
            try:
                outputs.append(_as_array(_call(my_gauge, trial), (d, d), trial.shown))
            except _Diagnosis as found:
                if found.code == "nan" and trial.shown == "t = v":
                    raise _Diagnosis("nan_when_equal",
                                     "Your gauge is NaN when t = v: then w = v − t = 0 and the reflection "
                                     "divides by zero. Nothing has to move in that case: return the identity.") from None
                if found.code == "nan" and trial.shown == "t = −v":
                    raise _Diagnosis("sign",
                                     "Your gauge is NaN when t = −v: did you take w = v + t (which is 0 there)? "
                                     "The reflection that exchanges v and t uses w = v − t.") from None
                raise
        for G, trial in zip(outputs, trials):
            defect = float(np.max(np.abs(G.T @ G - np.eye(len(G)))))
            if defect > 1e-8:
                v, t = trial.args
                w = v - t
                if _close(G, np.eye(len(G)) - 2 * np.outer(w, w)):
                    raise _Diagnosis("not_normalised",
                                     f"Your G is not orthogonal (max |GᵀG − I| = {defect:.2g}, {trial.shown}): the "
                                     "reflection is I − 2wwᵀ/|w|²; did you forget to divide by |w|²?")
                raise _Diagnosis("not_orthogonal",
                                 f"Your G is not orthogonal: max |GᵀG − I| = {defect:.2g} ({trial.shown}). "
                                 "A gauge must be an orthogonal matrix.")
        images = [maximizers.gauge(trial.args[0], G[None])[0] for G, trial in zip(outputs, trials)]
        misses = [float(np.max(np.abs(x - trial.truth))) for x, trial in zip(images, trials)]
        if max(misses) < 1e-8:
            return ("Your gauges are orthogonal and send v to the target (Gᵀv = t) for random pairs, "
                    "for t = v, t = −v and t very close to v.")
        if all(_close(G @ trial.args[0], trial.truth, rtol=1e-8) for G, trial in zip(outputs, trials)):
            raise _Diagnosis("G_instead_of_GT",
                             "Your G maps v to t (Gv = t), but the theorem needs Gᵀv = t: the token of prompt p "
                             "is x_p = G_pᵀ v. Transpose your matrix (a reflection is its own transpose).")
        if all(_close(x, -trial.truth, rtol=1e-8) for x, trial in zip(images, trials)):
            raise _Diagnosis("sign", "Your Gᵀv is −t: the reflection that exchanges v and t uses w = v − t, not v + t.")
        near_trial = next(i for i, trial in enumerate(trials) if trial.shown.startswith("t within"))
        if misses[near_trial] >= 1e-8 and _close(outputs[near_trial], np.eye(3), rtol=0.0):
            raise _Diagnosis("identity_too_early",
                             "You returned the identity for t very close to v, but t ≠ v there, so Gᵀv misses t. "
                             "The reflection is well defined whenever w = v − t ≠ 0; only t = v needs the identity.")
        worst = int(np.argmax(misses))
        raise _Diagnosis("misses_target",
                         f"Your G is orthogonal but Gᵀv misses t by {misses[worst]:.2g} ({trials[worst].shown}).")

    return _verdict("check_householder_gauge", run)


def check_prompt_maximizer(my_maximizer: Callable, seed: int = 0) -> CheckResult:
    r"""Check the prompt maximiser :math:`x_i=G_{p_i}^\top v` (MODEL.md §4, the paper's Thm. 4 (i), Cor. 2).

    The exercise: with ``m`` prompts of gauges :math:`G_0,\dots,G_{m-1}`
    (an ``(m, d, d)`` array) and prompt ids :math:`p_1,\dots,p_n`, write
    ``my_maximizer(v, gauges, prompt_ids)`` returning the ``(n, d)`` array
    of tokens :math:`x_i=G_{p_i}^\top v`: in the gauge frame every token sits
    at :math:`v`, so the energy is maximal, and there are as many clusters as
    distinct points :math:`G_p^\top v`.  Compared with
    :func:`usaav.maximizers.gauge`; a configuration that is not the
    theorem's gets its relative energy gap under
    :class:`usaav.kernels.Prompts` reported.

    Parameters
    ----------
    my_maximizer : callable
        ``my_maximizer(v, gauges, prompt_ids) -> (n, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``one_row_per_prompt``,
        ``G_instead_of_GT``, ``not_on_sphere``, ``other_maximizer``,
        ``not_a_maximizer``.
    """
    _require_callable(my_maximizer, "my_maximizer", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for m, d, n in ((3, 3, 10), (5, 4, 12), (2, 3, 7)):
            v = uniform_sphere(1, d, rng)[0]
            G = haar_rotations(m, d, rng)
            ids = np.r_[np.arange(m), rng.integers(0, m, n - m)]
            rng.shuffle(ids)
            trials.append(_Trial((v, G, ids), f"{m} prompts in dimension {d}, {n} tokens",
                                 maximizers.gauge(v, G)[ids]))
        outputs = []
        for trial in trials:
            v, G, ids = trial.args
            raw = _call(my_maximizer, trial)
            if np.shape(raw) == (len(G), len(v)) and len(G) != len(ids):
                raise _Diagnosis("one_row_per_prompt",
                                 f"You returned one row per prompt (shape {np.shape(raw)}); the exercise asks for one "
                                 f"row per token, shape ({len(ids)}, {len(v)}): pick row p_i for token i.")
            outputs.append(_as_array(raw, (len(ids), len(v)), trial.shown))
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return ("Your tokens are the theorem's maximiser x_i = G_{p_i}ᵀ v, for 2 to 5 prompts in dimensions "
                    "3 and 4.")
        _first_mistake(outputs, [
            ("G_instead_of_GT",
             "You used G instead of Gᵀ: the gauge-frame point of token i is G_{p_i} x_i, and it must be v, "
             "so x_i = G_{p_i}ᵀ v.",
             [np.einsum("pij,j->pi", G, v)[ids] for v, G, ids in (t.args for t in trials)]),
        ])
        _require_unit_rows(outputs, trials, "not_on_sphere",
                           "Your tokens are not on the sphere (| |x| − 1 | reaches {drift:.2g}, {shown}): "
                           "an orthogonal matrix keeps the length of v.")
        gaps = [relative_energy_gap(kernels.Prompts(1.0, t.args[1]), out, t.args[2])
                for out, t in zip(outputs, trials)]
        if max(gaps) < 1e-9:
            raise _Diagnosis("other_maximizer",
                             "Your tokens attain the maximal energy, but they are not the theorem's tokens for "
                             "this v: every gauge-frame point G_{p_i} x_i should be v itself.")
        worst = int(np.argmax(gaps))
        raise _Diagnosis("not_a_maximizer",
                         f"Your tokens are not a maximiser: the relative energy gap under the prompt kernel is "
                         f"{gaps[worst]:.2g} ({trials[worst].shown}); it is 0 at a maximiser.")

    return _verdict("check_prompt_maximizer", run)


# --------------------------------------------------------------------------
# Chapter 5: examples
# --------------------------------------------------------------------------


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
    _require_callable(my_winning_mode, "my_winning_mode", seed)

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
            trial = _Trial((c,), f"coefficients {c}", None)
            value = _call(my_winning_mode, trial)
            array = _as_array(value, (), trial.shown)
            if float(array) != round(float(array)):
                best = max(0.0, max(spectrum(c).values()))
                if math.isclose(float(array), best, rel_tol=1e-9, abs_tol=1e-12):
                    raise _Diagnosis("returned_the_value",
                                     "You returned the largest Fourier coefficient ĉ(k*); the exercise asks for the "
                                     "mode k* itself (an integer).")
                raise _Diagnosis("not_an_integer", f"A mode is an integer k; you returned {float(array):.4g} "
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
                raise _Diagnosis(code, message)
        wrong = next(i for i, (c, k) in enumerate(zip(cases, answers)) if not right(c, k))
        raise _Diagnosis("wrong_mode", f"For the coefficients {cases[wrong]} another mode has a larger ĉ(k) than "
                                       f"your k = {answers[wrong]}.")

    return _verdict("check_toeplitz_mode", run)


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
    _require_callable(my_bound, "my_bound", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        cases = [({0: 0.2, 1: 1.0}, rng.uniform(0, 1, 7)), ({1: 1.0, 2: 0.7}, rng.uniform(0, 1, 12)),
                 ({0: 0.1, 1: -2.0}, rng.uniform(0, 1, 9)), ({0: 0.5, 3: 1.0}, (np.arange(10) + 0.5) / 10)]
        spectra = [np.linalg.eigvalsh(kernels.Toeplitz(c).profile(np.subtract.outer(s, s))) for c, s in cases]
        trials = [_Trial((c, s), f"coefficients {c} at {len(s)} positions", lam.max() / (2 * len(s)))
                  for (c, s), lam in zip(cases, spectra)]
        outputs = _outputs(my_bound, trials, lambda t: ())
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return "Your bound is λ_max(C)/(2n) for random labels and on the grid, for four kernels."
        _first_mistake(outputs, [
            ("mean_field_bound",
             "You returned the mean-field bound ½ max_k ĉ(k). For labels off the uniform grid the bound on E_n "
             "is λ_max(C)/(2n), with C_ij = c(s_i − s_j) (a Rayleigh quotient).",
             [kernels.Toeplitz(c).energy_bound() for c, _ in cases]),
            ("smallest_eigenvalue", "You used the smallest eigenvalue of C; the Rayleigh quotient is at most the "
                                    "largest one.", [lam.min() / (2 * len(lam)) for lam in spectra]),
            ("largest_magnitude",
             "You used the eigenvalue of largest magnitude (a norm of C); the bound is the largest eigenvalue "
             "with its sign.", [np.abs(lam).max() / (2 * len(lam)) for lam in spectra]),
        ])
        ns = [len(s) for _, s in cases]
        _factor_mistake(outputs, truths, [
            ("factor_2", "Off by a factor 2: E_n has 1/(2n²) in front, so the bound is λ_max/(2n).", [2.0] * len(ns)),
            ("factor_n", "Off by a factor n: Σ_i |x_i|² = n, so the bound is λ_max/(2n), not λ_max/2.", ns),
            ("factor_1_over_n", "Off by a factor 1/n: divide λ_max by 2n, not by 2n².", [1 / n for n in ns]),
        ])
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your bound differs from λ_max(C)/(2n) by up to {error:.2g} ({shown}).")

    return _verdict("check_toeplitz_bound", run)


# --------------------------------------------------------------------------
# Chapter 6: experiments
# --------------------------------------------------------------------------


def check_heun_step(my_step: Callable, seed: int = 0) -> CheckResult:
    r"""Check a projected Heun step (MODEL.md §5, the paper's App. B.1).

    The exercise: write ``my_step(field, X, h)`` returning

    .. math:: k_1=V(X),\quad \tilde X=\mathrm{normalize}(X+hk_1),\quad k_2=V(\tilde X),\quad
              X^+=\mathrm{normalize}\big(X+\tfrac h2(k_1+k_2)\big),

    where ``field(X)`` returns :math:`V(X)` and normalize divides each row by
    its length.  Compared with :func:`usaav.integrate.heun_step` for the
    vector fields of three kernels (USA, RoPE, Toeplitz) with large steps
    (h = 0.3 and 0.1), where the variants differ visibly.

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
    _require_callable(my_step, "my_step", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        setups = [(kernels.USA(1.5), None, 8, 3, 0.3), (kernels.RoPE(2.0), "positions", 6, 4, 0.1),
                  (kernels.Toeplitz({0: 0.2, 1: 1.0}), "positions", 10, 3, 0.3)]
        trials = []
        for kernel, labels, n, d, h in setups:
            X = uniform_sphere(n, d, rng)
            aux = rng.uniform(0, 1, n) if labels else None
            field = vector_field(bind(kernel, X, aux)[1])
            trials.append(_Trial((field, X, h), f"the {type(kernel).__name__} field, X of shape ({n}, {d}), h = {h:g}",
                                 heun_step(field, X, h)))
        outputs = _outputs(my_step, trials, lambda t: t.args[1].shape)
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return "Your step is the projected Heun step, for three vector fields and two step sizes."

        def variant(step):
            return [step(*t.args) for t in trials]

        _first_mistake(outputs, [
            ("euler", "This is the projected Euler step X⁺ = normalize(X + h k₁), first order. Heun evaluates the field "
                      "a second time at the predicted point and averages the two slopes.",
             variant(lambda V, X, h: normalize(X + h * V(X)))),
            ("midpoint", "This is the midpoint method (a half step, then a full step with the midpoint slope). Heun "
                         "takes a full Euler step as predictor and averages k₁ and k₂.",
             variant(lambda V, X, h: normalize(X + h * V(normalize(X + 0.5 * h * V(X)))))),
            ("k2_only", "You stepped with k₂ alone; Heun uses the average ½(k₁ + k₂).",
             variant(lambda V, X, h: normalize(X + h * V(normalize(X + h * V(X)))))),
            ("full_step_average", "You used h instead of h/2 in front of (k₁ + k₂): the step is X + (h/2)(k₁ + k₂).",
             variant(lambda V, X, h: normalize(X + h * (V(X) + V(normalize(X + h * V(X))))))),
            ("predictor_not_normalised",
             "Your predictor X + h k₁ is not normalised before k₂ is evaluated: the field lives on the sphere, so "
             "project the predictor onto it first.",
             variant(lambda V, X, h: normalize(X + 0.5 * h * (V(X) + V(X + h * V(X)))))),
            ("not_normalised", "Your step is right up to the final normalisation: divide each row of "
                               "X + (h/2)(k₁ + k₂) by its length.",
             variant(lambda V, X, h: X + 0.5 * h * (V(X) + V(normalize(X + h * V(X)))))),
        ])
        _require_unit_rows(outputs, trials, "leaves_sphere",
                           "Your step leaves the sphere: |x| − 1 reaches {drift:.2g} ({shown}). "
                           "Normalise every row at the end.", tol=1e-10)
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your step differs from the projected Heun step by up to {error:.2g} ({shown}).")

    return _verdict("check_heun_step", run)


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
    _require_callable(my_gauge_gap, "my_gauge_gap", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        s1, s2, s3 = rng.uniform(0, 1, 12), rng.uniform(0, 1, 20), rng.uniform(0, 1, 9)
        cases = [(uniform_sphere(12, 3, rng), s1, 2 * np.pi),
                 (maximizers.rope(uniform_sphere(1, 3, rng)[0], 1.0, s2), s2, 1.0),
                 (np.tile(uniform_sphere(1, 4, rng), (9, 1)), s3, -2.5)]
        trials = [_Trial((X, s, theta), f"X of shape {X.shape}, theta = {theta:.3g}",
                         gauge_gap(kernels.RoPE(1.0, theta), X, s)) for X, s, theta in cases]
        outputs = _outputs(my_gauge_gap, trials, lambda t: ())
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return ("Your gauge gap matches the library's on a random cloud, on a RoPE maximiser (gauge gap 0) and on "
                    "a collapsed cloud (gauge gap large).")
        _first_mistake(outputs, [
            ("content_frame", "You measured the gap of the tokens x_i themselves; the gauge gap is the gap of the "
                              "gauge-frame points u_i = R_{θs_i} x_i.", [collapse_gap(X) for X, _, _ in cases]),
            ("sign_of_rotation", "Sign of the rotation: the gauge-frame point is u_i = R_{+θs_i} x_i.",
             [gauge_gap(kernels.RoPE(1.0, -theta), X, s) for X, s, theta in cases]),
            ("mean_not_squared", "You used 1 − |ū| instead of 1 − |ū|²: square the length of the mean.",
             [1 - np.linalg.norm(rotate_in_plane(X, theta * s, (0, 1)).mean(axis=0)) for X, s, theta in cases]),
        ])
        _factor_mistake(outputs, truths, [
            ("factor_2", "Off by a factor 2: Γ = (1/(2n²)) Σ|u_i − u_j|² = 1 − |ū|².", [2.0] * len(cases)),
        ])
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your gauge gap differs from the library's by up to {error:.2g} ({shown}).")

    return _verdict("check_gauge_gap", run)


# --------------------------------------------------------------------------
# Chapter 7: metastability
# --------------------------------------------------------------------------

#: Relative tolerance of :func:`check_first_merger_time`: particle runs with
#: the setup of the exercise stay within 0.3 % of the reduced two-point flow
#: (measured for β = 2…6 and gaps 0.7…1.2); 10 % leaves room for coarser
#: merger detection (the first step after the crossing, up to 2 % late).
MERGER_TOLERANCE = 0.10


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

    (:func:`usaav.experiments.reduced_merger_time`) within
    :data:`MERGER_TOLERANCE` (10 %), at (β, gap) = (2, 1), (4, 1), (3, 0.8).

    Parameters
    ----------
    my_T1 : callable
        ``my_T1(beta, gap) -> float``.

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``raw_clock``, ``counts_steps``,
        ``no_growth_in_beta``, ``off_prediction``.
    """
    _require_callable(my_T1, "my_T1")

    def run() -> str:
        cases = [(2.0, 1.0), (4.0, 1.0), (3.0, 0.8)]
        trials = [_Trial((beta, gap), f"beta = {beta:g}, gap = {gap:g}", reduced_merger_time(beta, gap, 0.1))
                  for beta, gap in cases]
        outputs = [float(out) for out in _outputs(my_T1, trials, lambda t: ())]
        ratios = [out / t.truth for out, t in zip(outputs, trials)]
        if all(abs(r - 1.0) <= MERGER_TOLERANCE for r in ratios):
            return (f"Your merger times agree with the reduced two-point flow within {MERGER_TOLERANCE:.0%} for "
                    "β = 2, 3, 4: the cluster centres move as the theorem's reduced flow says.")
        betas = [beta for beta, _ in cases]
        if all(abs(r * math.exp(b) - 1.0) <= MERGER_TOLERANCE for r, b in zip(ratios, betas)):
            raise _Diagnosis("raw_clock", "Your times are about e^{−β} times the prediction: you measured in the raw "
                                          "clock t. The prediction is in the rescaled clock t' = e^β t "
                                          "(simulate with clock=\"rescaled\").")
        if all(abs(r * 0.05 - 1.0) <= MERGER_TOLERANCE for r in ratios):
            raise _Diagnosis("counts_steps", "Your times are about 20 times too large: you returned a number of steps. "
                                             "Multiply by the step h = 0.05.")
        if not outputs[1] > outputs[0]:
            raise _Diagnosis("no_growth_in_beta",
                             "Your merger time does not grow from β = 2 to β = 4, but at fixed gap it must: the "
                             "clusters attract each other with weight e^{−β(1−cos Δ)}.")
        worst = int(np.argmax([abs(r - 1.0) for r in ratios]))
        raise _Diagnosis("off_prediction",
                         f"Your merger time is {ratios[worst] - 1.0:+.0%} off the reduced-flow prediction "
                         f"({trials[worst].shown}; tolerance ±{MERGER_TOLERANCE:.0%}). Check the set-up: caps, "
                         "rescaled clock, and the merger rule on the normalised cluster means.")

    return _verdict("check_first_merger_time", run)


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
    _require_callable(my_reduced_velocity, "my_reduced_velocity", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
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
            trials.append(_Trial((M, W, beta), f"{k} centres in dimension {d}, beta = {beta:g}", particles[first]))
        outputs = _outputs(my_reduced_velocity, trials, lambda t: t.args[0].shape)
        truths = [t.truth for t in trials]
        if _all_close(outputs, truths):
            return ("Your reduced velocity matches the particle flow of point clusters with unequal masses, "
                    "for 2 to 4 centres.")

        def reduced(M, W, beta):
            return project_tangent(M, (W * np.exp(beta * M @ M.T)) @ M)

        _first_mistake(outputs, [
            ("W_transposed", "You used W transposed: the pull of centre b on centre a is weighted by W_ab "
                             "(row a, column b), which carries the mass of b.",
             [reduced(M, W.T, beta) for M, W, beta in (t.args for t in trials)]),
            ("ignores_W", "Your velocity ignores the weights W_ab: every pair must be weighted by W_ab.",
             [reduced(M, np.ones_like(W), beta) for M, W, beta in (t.args for t in trials)]),
        ])
        _require_tangent(outputs, trials,
                         "Your velocities are not tangent to the sphere: ⟨m_a, ṁ_a⟩ reaches {defect:.2g} "
                         "({shown}). Apply the projection P_{{m_a}}.")
        _factor_mistake(outputs, truths, [
            ("factor_1_over_k", "Off by a factor 1/k: the mass fractions inside W already do the averaging; "
                                "do not divide by k.", [1 / len(t.args[0]) for t in trials]),
            ("rescaled_clock", "Off by a factor e^{−β}: that is the rescaled clock; this exercise asks for the raw "
                               "flow.", [math.exp(-t.args[2]) for t in trials]),
        ])
        error, shown = _largest_error(outputs, truths, trials)
        raise _Diagnosis("mismatch", f"Your velocities differ from the reduced flow by up to {error:.2g} ({shown}).")

    return _verdict("check_reduced_velocity", run)


# --------------------------------------------------------------------------
# The list of exercises
# --------------------------------------------------------------------------


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
    """

    chapter: int
    check: Callable[..., CheckResult]
    signature: str
    trains: str

    @property
    def name(self) -> str:
        return self.check.__name__


#: Every coding exercise, in the order of the book.
EXERCISES: tuple[Exercise, ...] = (
    Exercise(1, check_velocity, "my_velocity(X, beta)",
             "the USA flow as an array computation; the tangent projection"),
    Exercise(1, check_collapse_gap, "my_gap(X)", "the collapse gap and its two formulas"),
    Exercise(2, check_energy, "my_energy(X, beta)", "the discrete energy and its normalisation"),
    Exercise(2, check_rope_velocity, "my_rope_velocity(X, s, beta, theta)",
             "gauge kernels are the baseline seen through the gauge"),
    Exercise(3, check_rope_maximizer, "my_rope(v, theta, s)", "the RoPE maximiser of the paper's Thm. 1"),
    Exercise(3, check_quantile_phase, "my_phase(s, angles)",
             "quantile functions realise any law on an orbit (the paper's Thm. 2 (ii))"),
    Exercise(4, check_householder_gauge, "my_gauge(v, t)",
             "Householder reflections realise any target (the paper's Thm. 4 (ii))"),
    Exercise(4, check_prompt_maximizer, "my_maximizer(v, gauges, prompt_ids)",
             "one cluster per distinct gauge (the paper's Thm. 4 (i), Cor. 2)"),
    Exercise(5, check_toeplitz_mode, "my_winning_mode(coefficients)",
             "Fourier coefficients of a cosine series; the strongest mode wins (the paper's Prop. 10)"),
    Exercise(5, check_toeplitz_bound, "my_bound(coefficients, s)",
             "Rayleigh quotients: the finite-n energy bound off the grid"),
    Exercise(6, check_heun_step, "my_step(field, X, h)", "the projected Heun integrator"),
    Exercise(6, check_gauge_gap, "my_gauge_gap(X, s, theta)", "collapse in the gauge frame, not in the content frame"),
    Exercise(7, check_first_merger_time, "my_T1(beta, gap)",
             "measuring a metastable time scale against the reduced flow (the paper's Thm. 5)"),
    Exercise(7, check_reduced_velocity, "my_reduced_velocity(M, W, beta)",
             "coarse-graining clusters into a k-point flow"),
)
