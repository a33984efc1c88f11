r"""The finite-particle USA-AV system: velocity, energy and trajectories (MODEL.md §2).

.. math::
    \dot x_i = P_{x_i}\Big(\frac1n\sum_{j=1}^n \nabla_x K\big((x_i,a_i),(x_j,a_j)\big)\Big),
    \qquad
    E_n = \frac1{2n^2}\sum_{i,j=1}^n K\big((x_i,a_i),(x_j,a_j)\big).

Two clocks are offered.  The *raw* clock is the equation above.  The
*rescaled* clock :math:`t' = e^{\sigma}t` (:math:`\sigma=\beta` for the
exponential kernels, MODEL.md §3 and App. C) divides the velocity and the
energy by :math:`e^\beta`: the trajectories are the same curves, traversed at
a speed that neither overflows nor hides the metastable time scales.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validation import (
    MAX_ARRAY_BYTES,
    check_aux,
    check_choice,
    check_int,
    check_points,
    check_positive_scalar,
)
from .integrate import VectorField, check_ivp_options, heun_step, solve_ivp_adapter
from .kernels import Interaction, Kernel
from .sphere import _project_tangent as project_tangent
from .sphere import uniform_sphere

__all__ = ["Trajectory", "bind", "energy", "simulate", "vector_field", "velocity"]

CLOCKS = ("raw", "rescaled")
METHODS = ("heun", "solve_ivp")

#: e^σ is a finite float64 up to σ = log(max float) ≈ 709.78: the raw clock ends there.
MAX_RAW_LOG_SCALE = float(np.log(np.finfo(np.float64).max))

#: Default limit on the memory that recording a trajectory may take (1 GiB):
#: the frames, their stacked copy, and three floats per frame.
MAX_TRAJECTORY_BYTES = MAX_ARRAY_BYTES

#: Default limit on the number of steps of one run.  10**9 Heun steps take
#: days even for a handful of particles (~50 µs a step); more is a mistake
#: (dt = 1e-300) rather than a plan, and would hang.
MAX_STEPS = 10**9

#: Projected Heun in the raw clock warns when dt·e^β exceeds this.  Near a
#: cluster the raw flow contracts at rate ~e^β, and Heun's stability limit
#: for a decay rate λ is λ·dt <= 2 (|1 - z + z²/2| <= 1).  Measured (USA,
#: n = 32 and 64 uniform on S², t = 2, max position error against dt/256):
#: 2e-2 at dt·e^β = 1, 6e-2..9e-2 at 2, 0.1 at 2.7, 0.2..0.6 at 5 and
#: O(1) (the trajectory is lost) from 10 on; e.g. dt = 0.05 is inaccurate
#: from β ≈ 3.7 (dt·e^β = 2) and lost at β = 5..9.
RAW_STEP_LIMIT = 2.0


def _check_kernel(kernel) -> Kernel:
    if not isinstance(kernel, Kernel):
        raise TypeError(
            f"kernel must be a usaav kernel (USA, RoPE, Prompts, ...), got {type(kernel).__name__}"
        )
    return kernel


def _clock_factor(interaction: Interaction, clock: str) -> float:
    check_choice(clock, "clock", CLOCKS)
    if clock == "rescaled":
        return 1.0
    if interaction.log_scale > MAX_RAW_LOG_SCALE:
        raise ValueError(
            f"beta = {interaction.log_scale:g} is too large for clock='raw': e^beta overflows float64 "
            f"(beta must be <= {MAX_RAW_LOG_SCALE:.2f} in the raw clock); use clock='rescaled', "
            "time t' = e^beta t, in which velocities and energies are divided by e^beta (MODEL.md §3)"
        )
    return float(np.exp(interaction.log_scale))


def _check_finite_result(values, what: str, interaction: Interaction, clock: str):
    """Refuse a result that overflowed (huge weights or coefficients, raw clock near β = 709)."""
    if not np.all(np.isfinite(values)):
        hint = (f", or beta = {interaction.log_scale:g} too large for clock='raw' (use clock='rescaled', "
                "MODEL.md §3)" if clock == "raw" and interaction.log_scale > 0 else "")
        raise ValueError(
            f"{what} overflows float64: the kernel's weights or coefficients are too large for this many "
            f"particles{hint}"
        )
    return values


def bind(kernel: Kernel, X, aux) -> tuple[np.ndarray, Interaction]:
    """Validate ``kernel``, ``X`` and ``aux`` once; return ``X`` (rows off by more than a few ulps projected) and the bound interaction."""
    kernel = _check_kernel(kernel)
    X = check_points(X, project=True)
    return X, kernel.bind(aux, *X.shape)


def vector_field(interaction: Interaction, clock: str = "raw") -> VectorField:
    r"""The right-hand side :math:`X\mapsto (P_{x_i}v_i)_i` as a plain function of ``X``."""
    factor = _clock_factor(interaction, clock)

    def field(X: np.ndarray) -> np.ndarray:
        return factor * project_tangent(X, interaction.drift(X))

    return field


def velocity(kernel: Kernel, X, aux, *, clock: str = "raw") -> np.ndarray:
    r"""Velocities :math:`\dot x_i` of the finite-particle system (MODEL.md §2, seed eq. (1)).

    Parameters
    ----------
    kernel : Kernel
        Any kernel of :mod:`usaav.kernels`.
    X : (n, d) array_like
        Unit rows.
    aux : (n,) array_like
        Auxiliary labels (positions in [0, 1] or prompt ids; ignored by ``USA``).
    clock : {"raw", "rescaled"}
        ``"rescaled"`` divides by :math:`e^\beta` (MODEL.md §3).  The raw
        clock refuses β > 709.78, where :math:`e^\beta` overflows float64.

    Returns
    -------
    (n, d) ndarray of tangent vectors.

    Raises
    ------
    ValueError
        For bad arguments, and when the result would overflow (raw clock).

    Memory: O(n · d) plus one force tile (:mod:`usaav._pairwise`); time
    O(n² d) for the exponential kernels, O(n · modes · d) for Toeplitz.

    Examples
    --------
    >>> import usaav
    >>> X = usaav.uniform_sphere(6, 3, rng=1)
    >>> V = usaav.velocity(usaav.kernels.USA(1.0), X, None)
    >>> bool(np.allclose(np.sum(V * X, axis=1), 0))
    True
    """
    X, interaction = bind(kernel, X, aux)
    field = vector_field(interaction, clock)
    with np.errstate(over="ignore", invalid="ignore"):
        V = field(X)
    return _check_finite_result(V, "the velocity", interaction, clock)


def energy(kernel: Kernel, X, aux, *, clock: str = "raw") -> float:
    r"""Discrete energy :math:`E_n = \frac1{2n^2}\sum_{i,j}K(z_i,z_j)` (MODEL.md §2, seed Def. 8).

    With ``clock="rescaled"`` the value is :math:`e^{-\beta}E_n`, finite for
    every β; the raw clock refuses β > 709.78 (:math:`e^\beta` overflows).
    Memory: O(n · d) plus one tile, as :func:`velocity`.

    Examples
    --------
    >>> import usaav
    >>> X = np.tile([[0.0, 0.0, 1.0]], (5, 1))          # all tokens equal
    >>> beta = 2.0
    >>> bool(np.isclose(usaav.energy(usaav.kernels.USA(beta), X, None), np.exp(beta) / (2 * beta)))
    True
    """
    X, interaction = bind(kernel, X, aux)
    with np.errstate(over="ignore", invalid="ignore"):
        value = _energy(interaction, X, clock)
    return _check_finite_result(value, "the energy", interaction, clock)


def _energy(interaction: Interaction, X: np.ndarray, clock: str) -> float:
    scale = interaction.prefactor * _clock_factor(interaction, clock)
    # pair_sum / (2n²) first: it is at most 1/2 times the largest weight, so the
    # product with e^β/β stays finite up to β = 709.78 (MODEL.md §3).
    return scale * (interaction.pair_sum(X) / (2.0 * interaction.n**2))


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Recorded frames of a simulation (returned by :func:`simulate`).

    Attributes
    ----------
    t : (frames,) ndarray
        Times of the frames (in the chosen ``clock``).
    X : (frames, n, d) ndarray
        Configurations.
    energy : (frames,) ndarray
        :math:`E_n` at each frame (divided by :math:`e^\\beta` in the rescaled clock).
    sphere_drift : (frames,) ndarray
        :math:`\\max_i|\\,|x_i|-1|` at each frame: round-off for Heun,
        the integration error for ``solve_ivp`` (MODEL.md §5).
    stopped_early : bool
        Whether the energy-increment criterion ended the run before ``t_max``.
    method, clock : str
    dt : float
        Heun step (the spacing of the output grid for ``solve_ivp``).
    seed : int or None
        The seed used to draw ``X0`` when it was not given.
    aux : (n,) ndarray
        The labels.
    kernel : Kernel
    """

    t: np.ndarray
    X: np.ndarray
    energy: np.ndarray
    sphere_drift: np.ndarray
    stopped_early: bool
    method: str
    clock: str
    dt: float
    seed: int | None
    aux: np.ndarray | None
    kernel: Kernel

    @property
    def final(self) -> np.ndarray:
        """The last recorded configuration, ``(n, d)``."""
        return self.X[-1]


def simulate(
    kernel: Kernel,
    X0,
    aux,
    t_max: float,
    dt: float = 0.05,
    method: str = "heun",
    record_every: int | None = None,
    stop_tol: float | None = None,
    seed: int | None = None,
    *,
    clock: str = "raw",
    stop_window: float = 1.0,
    d: int = 3,
    ivp_method: str = "DOP853",
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_bytes: int = MAX_TRAJECTORY_BYTES,
    max_steps: int = MAX_STEPS,
) -> Trajectory:
    r"""Integrate the USA-AV system from ``X0`` up to ``t_max`` (MODEL.md §2, §5).

    Parameters
    ----------
    kernel : Kernel
    X0 : (n, d) array_like or None
        Initial unit rows; ``None`` draws ``len(aux)`` points uniformly on
        :math:`\mathbb S^{d-1}` with ``seed``.
    aux : (n,) array_like
        Fixed auxiliary labels (they never move).
    t_max : float
        Final time (> 0).  The last step is shortened to land on it.
    dt : float
        Heun step :math:`h` (> 0); for ``solve_ivp``, the spacing of the
        output grid.
    method : {"heun", "solve_ivp"}
        Projected Heun with renormalisation (seed App. B.1), or
        :func:`scipy.integrate.solve_ivp` on the flattened system (reference).
    record_every : int, optional
        Keep every ``record_every``-th step (default: every step).  The
        final time is always recorded.
    stop_tol : float, optional
        Stop early (Heun only) once the relative energy increment over a
        window of length ``stop_window``, :math:`(E(t)-E(t-\tau))/|E(t)|`,
        falls below ``stop_tol``.
    seed : int, optional
        Seed for drawing ``X0`` when it is ``None``; recorded in the result.
    clock : {"raw", "rescaled"}
        Time in :math:`t` or in :math:`t'=e^\beta t` (MODEL.md §3).
    stop_window : float
        The window :math:`\tau` of the early-stop rule.
    d : int
        Dimension used only when ``X0`` is ``None``.
    ivp_method, rtol, atol
        Passed to :func:`scipy.integrate.solve_ivp` (``ivp_method`` one of
        :data:`usaav.integrate.IVP_METHODS` or an ``OdeSolver`` subclass).
    max_bytes : int
        Limit on the memory of the recording, about
        ``2 * frames * n * d * 8`` bytes (the frames and their stacked copy)
        with ``frames = 1 + ceil(t_max / dt / record_every)``; default
        1 GiB.  A request above it is refused before anything is allocated,
        with the ``record_every`` that would fit.
    max_steps : int
        Limit on ``t_max / dt`` (default 10**9), so that a mistaken tiny
        ``dt`` is refused instead of running for ever.

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError
        For bad arguments; for a raw-clock run with β > 709.78 (e^β
        overflows: use ``clock="rescaled"``); for a recording above
        ``max_bytes`` or more than ``max_steps`` steps.

    Warns
    -----
    RuntimeWarning
        Heun in the raw clock with ``dt * e^beta > 2``
        (:data:`RAW_STEP_LIMIT`): the step cannot follow the contraction at
        rate e^β near a cluster; use ``clock="rescaled"`` or a smaller ``dt``.

    Memory: the recording (bounded by ``max_bytes``) plus O(n · d) per
    step and the force tiles (:mod:`usaav._pairwise`).

    Examples
    --------
    >>> import usaav
    >>> X0 = usaav.uniform_sphere(32, 3, rng=0)
    >>> run = usaav.simulate(usaav.kernels.USA(1.0), X0, None, t_max=30.0, record_every=100)
    >>> bool(usaav.collapse_gap(run.final) < 1e-8)      # mode collapse
    True
    """
    kernel = _check_kernel(kernel)
    method = check_choice(method, "method", METHODS)
    check_choice(clock, "clock", CLOCKS)
    if seed is not None:
        seed = check_int(seed, "seed", minimum=0)
    if X0 is None:
        if seed is None:
            raise TypeError("seed must be given when X0 is None (X0 is then drawn uniformly)")
        if aux is None:
            raise TypeError("aux must be given when X0 is None: its length sets n")
        X0 = uniform_sphere(len(check_aux(aux, None)), check_int(d, "d", minimum=2), seed)
    X0, interaction = bind(kernel, X0, aux)
    t_max = check_positive_scalar(t_max, "t_max")
    dt = check_positive_scalar(dt, "dt")
    record_every = 1 if record_every is None else check_int(record_every, "record_every", minimum=1)
    if stop_tol is not None:
        stop_tol = check_positive_scalar(stop_tol, "stop_tol")
        if method != "heun":
            raise ValueError("stop_tol is only supported with method='heun'")
        stop_window = check_positive_scalar(stop_window, "stop_window")
    ivp_method, rtol, atol = check_ivp_options(ivp_method, rtol, atol)
    max_bytes = check_int(max_bytes, "max_bytes", minimum=1)
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    n_steps = _check_budget(t_max, dt, record_every, X0.shape, max_bytes, max_steps)
    field = vector_field(interaction, clock)  # refuses β > 709.78 in the raw clock
    if method == "heun" and clock == "raw" and interaction.log_scale > np.log(RAW_STEP_LIMIT / dt):
        warnings.warn(
            f"dt * e^beta = {dt * np.exp(interaction.log_scale):.3g} > {RAW_STEP_LIMIT:g} (dt = {dt:g}, "
            f"beta = {interaction.log_scale:g}): in the raw clock the flow contracts at rate ~e^beta and "
            "this Heun step cannot follow it (position errors of 0.1 and more); use clock='rescaled' "
            f"(MODEL.md §3) or dt <= {RAW_STEP_LIMIT * np.exp(-interaction.log_scale):.2g}",
            RuntimeWarning,
            stacklevel=2,
        )
    aux_array = None if aux is None else np.asarray(aux)

    # Overflow (huge weights near β = 709 in the raw clock) is reported once,
    # after the run, instead of as numpy warnings at every step.
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "solve_ivp":
            steps = np.unique(np.r_[np.arange(0, n_steps, record_every), n_steps])
            t_eval = np.minimum(steps * dt, t_max)
            t, X = solve_ivp_adapter(field, X0, t_eval, ivp_method=ivp_method, rtol=rtol, atol=atol)
            stopped_early = False
        else:
            t, X, stopped_early = _run_heun(
                field, interaction, X0, n_steps, dt, t_max, record_every, stop_tol, stop_window, clock
            )
        energies = np.array([_energy(interaction, frame, clock) for frame in X])
    _check_finite_result(X[-1], "the trajectory", interaction, clock)
    _check_finite_result(energies, "the energy along the trajectory", interaction, clock)
    drift = np.max(np.abs(np.linalg.norm(X, axis=-1) - 1.0), axis=-1)
    return Trajectory(
        t=t, X=X, energy=energies, sphere_drift=drift, stopped_early=stopped_early,
        method=method, clock=clock, dt=dt, seed=seed, aux=aux_array, kernel=kernel,
    )


def _check_budget(t_max, dt, record_every, shape, max_bytes, max_steps) -> int:
    """Number of steps of a run; refuse runs longer than ``max_steps`` or recordings above ``max_bytes``."""
    steps = t_max / dt
    if not steps <= max_steps:
        raise ValueError(
            f"t_max / dt = {steps:.3g} steps (t_max = {t_max:g}, dt = {dt:g}) is more than max_steps = "
            f"{max_steps}; use a larger dt or a shorter t_max, or raise max_steps"
        )
    n_steps = max(1, int(np.ceil(steps - 1e-9)))
    n, d = shape
    frames = 1 + -(-n_steps // record_every)
    needed = frames * (2 * n * d + 3) * 8
    if needed > max_bytes:
        per_frame = (2 * n * d + 3) * 8
        fits = max(1, max_bytes // per_frame - 1)
        raise ValueError(
            f"simulate would record {frames} frames of {n} x {d} points, about {needed / 2**30:.3g} GiB "
            f"> max_bytes = {max_bytes / 2**30:.3g} GiB; record fewer frames with record_every >= "
            f"{-(-n_steps // fits)}, or raise max_bytes"
        )
    return n_steps


def _run_heun(field, interaction, X0, n_steps, dt, t_max, record_every, stop_tol, stop_window, clock):
    window = max(1, int(round(stop_window / dt))) if stop_tol is not None else 0
    times, frames = [0.0], [X0]
    X = X0
    previous_energy = _energy(interaction, X0, clock) if window else None
    stopped_early = False
    for step in range(1, n_steps + 1):
        h = dt if step < n_steps else t_max - (n_steps - 1) * dt
        X = heun_step(field, X, h)
        now = min(step * dt, t_max)
        if window and step % window == 0:
            current = _energy(interaction, X, clock)
            stopped_early = (current - previous_energy) <= stop_tol * abs(current)
            previous_energy = current
        if step % record_every == 0 or step == n_steps or stopped_early:
            times.append(now)
            frames.append(X)
        if stopped_early:
            break
    return np.array(times), np.stack(frames), stopped_early
