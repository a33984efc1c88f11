r"""The checking core of the self-checks: the verdict, the trials, the comparisons and the diagnoses.

A self-check runs the reader's function on a few *trials* (arguments the
check chose, with the right answer computed beforehand by the library),
turns each output into a float array of the expected shape, and either
accepts it or raises a :class:`Diagnosis` at the first thing found wrong;
:func:`verdict` turns that into a :class:`CheckResult`.

Most checks compare an array with the library's and then try, in order, the
typical mistakes of the exercise (each a function of the trial giving what
that mistake would return), tangency or unit rows, wrong constant factors,
and finally report the largest difference: that template is
:class:`ComparisonCheck`, declared as data by the topic modules.  Checks
whose answer is not a single array (a maximiser up to symmetry, a law, a
measured time) use the same pieces by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._validation import check_int
from .guard import Breach, Guard, LIBRARY_POLICY, Policy


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
        ``"not_tangent"``, ``"factor_n"``, ...), or one of the codes every
        check can give for a function that does not compute the answer
        itself (``"library_call"``, ``"inspects_checker"``, see
        :mod:`usaav.exercises.guard`).  Tests and instructors use it;
        readers read ``message``.
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


class Diagnosis(Exception):
    """Raised inside a check at the first thing found wrong; becomes a failed CheckResult."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Trial:
    """One call of the reader's function: its arguments, how to describe them, the right answer."""

    args: tuple
    shown: str
    truth: Any


def verdict(check: str, body: Callable[[], str]) -> CheckResult:
    """Run a check's body: its return value is the praise, a :class:`Diagnosis` the verdict "Not yet"."""
    try:
        message = body()
    except Diagnosis as found:
        return CheckResult(check, False, found.code, "Not yet. " + found.message)
    return CheckResult(check, True, "correct", "Correct. " + message)


def require_callable(function, name: str, seed: int | None = None) -> None:
    """Check the arguments of a check: the reader's function, and the seed when there is one."""
    if not callable(function):
        raise TypeError(f"{name} must be a function (pass it without calling it), got {type(function).__name__}")
    if seed is not None:
        check_int(seed, "seed", minimum=0)


def fresh(value):
    """A private copy of an argument: a reader's function may modify its input in place."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return dict(value)
    return value


def call(function, trial: Trial, policy: Policy = LIBRARY_POLICY, guard: Guard | None = None):
    """The reader's function on one trial, watched by a :class:`~usaav.exercises.guard.Guard`.

    Every exception of the reader's function becomes the diagnosis
    ``raises``; a function that runs the library's own answer or looks into
    the checker becomes ``library_call`` or ``inspects_checker``.
    """
    guard = guard if guard is not None else Guard(policy)
    args = tuple(fresh(arg) for arg in trial.args)
    try:
        with np.errstate(all="ignore"), guard:
            value = function(*args)
    except Breach:  # the guard's own signal; the guard has recorded what it saw
        value = None
    except Exception as error:  # every bug of the reader's function becomes a verdict
        if guard.found is None:
            raise Diagnosis(
                "raises",
                f"Your function raised {type(error).__name__}: {error} (called with {trial.shown}). "
                "Run it yourself on the same kind of input to see where.",
            ) from None
    if guard.found is not None:
        raise Diagnosis(*guard.found)
    return value


def as_array(value, shape: tuple, shown: str) -> np.ndarray:
    """The reader's output as a float array of the expected shape, or a diagnosis."""
    if value is None:
        raise Diagnosis("returns_none", f"Your function returned None (called with {shown}): is a `return` missing?")
    if np.iscomplexobj(value):
        raise Diagnosis("complex", f"Your function returned complex numbers (called with {shown}); the answer is "
                                   "real. Take the real part where the mathematics makes it real, or avoid "
                                   "complex arithmetic.")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Diagnosis(
            "not_numeric", f"Your function returned a {type(value).__name__}, not numbers (called with {shown})."
        ) from None
    if array.shape != shape:
        if shape == ():
            expected = "a single number"
        else:
            expected = f"shape {shape}"
        hint = " Transposed?" if len(shape) == 2 and array.shape == shape[::-1] and shape[0] != shape[1] else ""
        raise Diagnosis(
            "wrong_shape", f"Wrong shape: expected {expected}, got shape {array.shape} (called with {shown}).{hint}"
        )
    if not np.all(np.isfinite(array)):
        raise Diagnosis("nan", f"Your function returns NaN or inf (called with {shown}).")
    return array


def outputs(function, trials: Sequence[Trial], shape_of: Callable[[Trial], tuple],
            policy: Policy = LIBRARY_POLICY) -> list[np.ndarray]:
    """The reader's outputs on every trial, each checked for shape and finiteness."""
    return [as_array(call(function, trial, policy), shape_of(trial), trial.shown) for trial in trials]


def close(a, b, rtol: float = 1e-7) -> bool:
    """Equal up to rounding: relative 1e-7, absolute 1e-9 times the size of ``b``.

    Plain-NumPy solutions sum in a different order from the library, which
    changes the last few digits only; a real mistake changes far more.
    """
    b = np.asarray(b, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return bool(np.allclose(a, b, rtol=rtol, atol=1e-9 * scale))


def all_close(found, values) -> bool:
    return all(close(out, value) for out, value in zip(found, values))


def first_mistake(found, mistakes) -> None:
    """Raise the diagnosis of the first typical mistake ``(code, message, values)`` that reproduces every output."""
    for code, message, values in mistakes:
        if all_close(found, values):
            raise Diagnosis(code, message)


def factor(output, truth) -> float | None:
    """The number c with output = c · truth, NaN if there is none, None if truth is zero."""
    o, t = np.ravel(output), np.ravel(truth)
    norm = float(t @ t)
    if norm < 1e-24:
        return None
    c = float(o @ t) / norm
    return c if close(o, c * t, rtol=1e-6) else math.nan


def factor_mistake(found, truths, named) -> None:
    """Diagnose outputs that are the right answer times a factor.

    ``named`` lists ``(code, message, factors)`` with one expected factor per
    trial (e.g. n for "sum instead of mean"); an unnamed factor that is the
    same in every trial is reported as a constant factor, and outputs that
    are zero where the answer is not as ``zero``.
    """
    factors = [factor(out, truth) for out, truth in zip(found, truths)]
    known = [(c, i) for i, c in enumerate(factors) if c is not None]
    if not known or any(math.isnan(c) for c, _ in known):
        return
    if all(c == 0.0 and not np.any(found[i]) for c, i in known):
        raise Diagnosis("zero", "Your function returns zero where the answer is not: is the sum, or the "
                                "factor in front of it, missing?")
    for code, message, expected in named:
        if all(math.isclose(c, expected[i], rel_tol=1e-5) for c, i in known):
            raise Diagnosis(code, message)
    first = known[0][0]
    if all(math.isclose(c, first, rel_tol=1e-5) for c, _ in known):
        raise Diagnosis(
            "constant_factor",
            f"Your result points the right way but is {first:.3g} times the right one: "
            "look for a missing or extra constant.",
        )


def largest_error(found, truths, trials) -> tuple[float, str]:
    errors = [float(np.max(np.abs(out - truth))) for out, truth in zip(found, truths)]
    worst = int(np.argmax(errors))
    return errors[worst], trials[worst].shown


def require_tangent(found, trials, message: str) -> None:
    """Diagnose velocities not tangent to the sphere at the points ``trial.args[0]``.

    ``message`` is formatted with ``defect`` (the largest :math:`|\\langle x_i, v_i\\rangle|`)
    and ``shown``; round-off allows 1e-8 of the largest entry.
    """
    for out, trial in zip(found, trials):
        defect = float(np.max(np.abs(np.sum(trial.args[0] * out, axis=-1))))
        if defect > 1e-8 * max(1.0, float(np.max(np.abs(out)))):
            raise Diagnosis("not_tangent", message.format(defect=defect, shown=trial.shown))


def require_unit_rows(found, trials, code: str, message: str, tol: float = 1e-8) -> None:
    """Diagnose outputs whose rows are not on the sphere; ``message`` is formatted with ``drift`` and ``shown``."""
    for out, trial in zip(found, trials):
        drift = float(np.max(np.abs(np.linalg.norm(out, axis=1) - 1.0)))
        if drift > tol:
            raise Diagnosis(code, message.format(drift=drift, shown=trial.shown))


# --------------------------------------------------------------------------
# The shared template, declared as data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: its code, the message naming it, and what it returns on a trial."""

    code: str
    message: str
    value: Callable[[Trial], Any]


@dataclass(frozen=True)
class Factor:
    """A wrong constant: its code, the message naming it, and the factor it makes on a trial."""

    code: str
    message: str
    factor: Callable[[Trial], float]


@dataclass(frozen=True)
class ComparisonCheck:
    """A check that compares one array per trial with the library's, then names the mistake.

    Attributes
    ----------
    name : str
        The public name (``"check_velocity"``).
    trials : callable
        ``trials(rng) -> list[Trial]``, the truths computed by the library.
    shape : callable
        ``shape(trial) -> tuple``, the shape the answer must have.
    success : str
        The praise when every output matches.
    mistakes : tuple of Mistake
        Tried in order; the first that reproduces every output is named.
    tangent : str or None
        If given, outputs must be tangent at the rows of ``trial.args[0]``;
        the message is formatted with ``defect`` and ``shown``.
    unit_rows : tuple or None
        If given, ``(code, message, tol)``: outputs must have unit rows.
    factors : tuple of Factor
        Named wrong constants, tried after the mistakes.
    mismatch : str
        The last verdict, formatted with ``error`` and ``shown``.
    policy : Policy
        What library code the reader's function may run.
    """

    name: str
    trials: Callable[[np.random.Generator], list]
    shape: Callable[[Trial], tuple]
    success: str
    mismatch: str
    mistakes: tuple = ()
    tangent: str | None = None
    unit_rows: tuple | None = None
    factors: tuple = ()
    policy: Policy = field(default=LIBRARY_POLICY)

    def run(self, function, seed: int, argument: str) -> CheckResult:
        """Check ``function`` (the reader's, named ``argument`` in error messages) on the trials of ``seed``."""
        require_callable(function, argument, seed)

        def body() -> str:
            trials = self.trials(np.random.default_rng(seed))
            found = outputs(function, trials, self.shape, self.policy)
            truths = [t.truth for t in trials]
            if all_close(found, truths):
                return self.success
            first_mistake(found, [(m.code, m.message, [m.value(t) for t in trials]) for m in self.mistakes])
            if self.tangent is not None:
                require_tangent(found, trials, self.tangent)
            if self.unit_rows is not None:
                code, message, tol = self.unit_rows
                require_unit_rows(found, trials, code, message, tol)
            factor_mistake(found, truths, [(f.code, f.message, [f.factor(t) for t in trials]) for f in self.factors])
            error, shown = largest_error(found, truths, trials)
            raise Diagnosis("mismatch", self.mismatch.format(error=error, shown=shown))

        return verdict(self.name, body)
