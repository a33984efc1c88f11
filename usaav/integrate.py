r"""Time integrators for vector fields on a product of spheres (MODEL.md §5).

The integrators see only a vector field ``field(X)`` returning an array of
the shape of ``X``; they never know which kernel produced it (one idea per
module: integration is independent of the kernels), nor whether ``X`` is one system ``(n, d)`` or a batch
``(B, n, d)`` of systems advanced together: every operation of the Heun step
acts row by row on the last axis.

* :func:`heun_step` is the projected second-order Runge–Kutta (Heun) step
  of the paper's App. B.1: step, then renormalise onto the sphere.
* :func:`solve_ivp_adapter` is the one place where the ``(n, d)`` state is
  flattened for :func:`scipy.integrate.solve_ivp` and unflattened again.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.integrate import OdeSolver, solve_ivp

from ._validation import check_positive_scalar
from .sphere import _normalize as normalize

VectorField = Callable[[np.ndarray], np.ndarray]

#: Heun's method is second order (MODEL.md §5); the tests measure it.
HEUN_ORDER = 2

#: ``solve_ivp`` is stopped with an error once a trial state is this far from
#: the sphere: its step control has lost the solution.
OFF_SPHERE_LIMIT = 0.1


#: The methods of :func:`scipy.integrate.solve_ivp` accepted by name.
IVP_METHODS = ("RK23", "RK45", "DOP853", "Radau", "BDF", "LSODA")

#: scipy raises any ``rtol`` below 100 eps to 100 eps with a warning; we refuse it instead.
MIN_RTOL = 100 * np.finfo(np.float64).eps


def check_ivp_options(ivp_method, rtol, atol) -> tuple:
    """Validate the options passed to :func:`scipy.integrate.solve_ivp` (names as in :func:`usaav.simulate`)."""
    if not (isinstance(ivp_method, str) and ivp_method in IVP_METHODS) and not (
        isinstance(ivp_method, type) and issubclass(ivp_method, OdeSolver)
    ):
        raise ValueError(
            f"ivp_method must be one of {IVP_METHODS} or an OdeSolver subclass, got {type(ivp_method).__name__} "
            f"{ivp_method!r}"
        )
    rtol = check_positive_scalar(rtol, "rtol")
    if rtol < MIN_RTOL:
        raise ValueError(f"rtol must be >= 100 eps = {MIN_RTOL:.2g} (scipy's floor), got {rtol!r}")
    atol = check_positive_scalar(atol, "atol", allow_zero=True)
    return ivp_method, rtol, atol


def heun_step(field: VectorField, X: np.ndarray, dt: float) -> np.ndarray:
    r"""One projected Heun step (MODEL.md §5, the paper's App. B.1).

    .. math::
        k_1 = V(X),\quad \tilde X = \mathrm{normalize}(X + h k_1),\quad
        k_2 = V(\tilde X),\quad
        X^+ = \mathrm{normalize}\big(X + \tfrac h2 (k_1 + k_2)\big).

    ``X`` is ``(n, d)`` or a batch ``(..., n, d)``; each row is renormalised
    on its own, so a system of a batch takes exactly the step it would take
    alone.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> rotate = lambda X: X @ np.array([[0.0, 1.0], [-1.0, 0.0]])   # tangent field
    >>> Y = heun_step(rotate, X, 0.1)
    >>> bool(np.allclose(np.linalg.norm(Y, axis=1), 1.0))
    True
    """
    k1 = field(X)
    k2 = field(normalize(X + dt * k1))
    return normalize(X + 0.5 * dt * (k1 + k2))


def solve_ivp_adapter(
    field: VectorField,
    X0: np.ndarray,
    t_eval: np.ndarray,
    *,
    ivp_method: str = "DOP853",
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Integrate :math:`\dot X = V(X)` with :func:`scipy.integrate.solve_ivp`.

    The ``(n, d)`` state is flattened to ``n d`` numbers and back; no
    renormalisation is applied, so the distance to the sphere measures the
    integration error (MODEL.md §5).

    Returns
    -------
    t : (frames,) ndarray
    X : (frames, n, d) ndarray
    """
    shape = X0.shape

    def rhs(_t, y):
        X = y.reshape(shape)
        # The kernels factor out e^β assuming |x| <= 1 (MODEL.md §3); a trial
        # stage far off the sphere means the tolerances are far too loose,
        # and would otherwise end in an overflow.
        drift = float(np.max(np.abs(np.linalg.norm(X, axis=1) - 1.0)))
        if not drift <= OFF_SPHERE_LIMIT:
            raise RuntimeError(
                f"solve_ivp left the sphere (max | |x|-1 | = {drift:.2g} > {OFF_SPHERE_LIMIT}); "
                f"tighten rtol (= {rtol:g}) and atol (= {atol:g})"
            )
        return field(X).ravel()

    solution = solve_ivp(
        rhs, (float(t_eval[0]), float(t_eval[-1])), X0.ravel(),
        method=ivp_method, t_eval=t_eval, rtol=rtol, atol=atol,
    )
    if not solution.success:
        raise RuntimeError(f"solve_ivp failed: {solution.message}")
    return solution.t, solution.y.T.reshape((len(solution.t),) + shape)
