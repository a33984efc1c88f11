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

**Batches.**  :func:`velocity`, :func:`energy` and :func:`simulate` also take
``B`` systems of ``n`` points at once, ``X`` of shape ``(B, n, d)``, with
labels shared by all systems ``(n,)`` or one row per system ``(B, n)``, and
one kernel for all or a sequence of ``B`` kernels.  The systems are advanced
together, one tiled pass for all of them per force evaluation
(:mod:`usaav._pairwise`), in ``O(B n d)`` memory plus a bounded tile buffer,
and every system's numbers are bitwise those of a separate run: a single
system *is* the batch ``B = 1``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._validation import (
    MAX_ARRAY_BYTES,
    PROJECT_ABOVE,
    as_float_array,
    check_choice,
    check_int,
    check_points,
    check_positive_scalar,
)
from .integrate import VectorField, check_ivp_options, heun_step, solve_ivp_adapter
from .kernels import USA, DistanceBias, Interaction, Kernel, Prompts, RoPE, Toeplitz, bind_batch
from .kernels import check_finite_result as _check_finite_result
from .kernels import check_kernel as _check_kernel
from .sphere import _project_tangent as project_tangent
from .sphere import _radial_defect
from .sphere import uniform_sphere

__all__ = ["BatchTrajectory", "Trajectory", "bind", "energy", "simulate", "vector_field", "velocity"]

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


def _already_unit_rows(X) -> bool:
    """Whether ``X`` is a float64 ``(n, d)`` or ``(B, n, d)`` array that the full check returns unchanged.

    The fast path of :func:`_check_states` for the common call (small systems
    pay mostly for checks; issue 20): the same row norms as
    :func:`usaav._validation.check_frames`, all within its few-ulps bound
    :data:`~usaav._validation.PROJECT_ABOVE`
    (``usaav._validation._row_norms``), so that the full check would
    neither refuse nor project a row and would return ``X`` itself.  NaN and
    inf give NaN or inf norms, so they fail here and reach the full check,
    which names them.
    """
    if type(X) is not np.ndarray or X.dtype != np.float64 or X.ndim not in (2, 3) or 0 in X.shape:
        return False
    if X.shape[-1] < 2:
        return False
    # _row_norms' own formula; einsum does not warn on overflow (rows of 1e200 give inf).
    norms = np.sqrt(np.einsum("...i,...i->...", X, X))
    return bool(abs(norms - 1.0).max() <= PROJECT_ABOVE)


def _check_states(X, name: str = "X") -> np.ndarray:
    """``X`` as an ``(n, d)`` array of unit rows, or a batch ``(B, n, d)`` of them.

    Rows within the tolerance but more than a few ulps off the sphere are
    projected onto it (:func:`usaav._validation.check_points`).
    """
    if _already_unit_rows(X):
        return X
    array = as_float_array(X, name)  # refuses None, strings, complex, ragged lists ...
    if array.ndim == 2:
        return check_points(array, name, project=True)
    if array.ndim != 3:
        raise ValueError(f"{name} must have shape (n, d), or (B, n, d) for a batch, got shape {array.shape}")
    B, n, d = array.shape
    if B < 1 or n < 1:
        raise ValueError(f"{name} must hold at least one system of at least one point, got shape {array.shape}")
    # unit rows and d >= 2, for every system at once
    return check_points(array.reshape(B * n, d), name, project=True).reshape(B, n, d)


def _clock_factor(interaction: Interaction, clock: str) -> np.ndarray:
    r"""The factor :math:`e^\sigma` (raw clock) or 1 (rescaled) of each system, ``(batch,)``."""
    check_choice(clock, "clock", CLOCKS)
    if clock == "rescaled":
        return np.ones_like(interaction.log_scale)
    largest = float(np.max(interaction.log_scale))
    if largest > MAX_RAW_LOG_SCALE:
        raise ValueError(
            f"beta = {largest:g} is too large for clock='raw': e^beta overflows float64 "
            f"(beta must be <= {MAX_RAW_LOG_SCALE:.2f} in the raw clock); use clock='rescaled', "
            "time t' = e^beta t, in which velocities and energies are divided by e^beta (MODEL.md §3)"
        )
    return np.exp(interaction.log_scale)


def bind(kernel, X, aux) -> tuple[np.ndarray, Interaction]:
    """Validate ``kernel``, ``X`` and ``aux`` once; return ``X`` and the bound interaction.

    ``X`` of shape ``(n, d)`` takes one kernel; a batch ``(B, n, d)`` takes
    one kernel or a sequence of ``B`` (:func:`usaav.kernels.bind_batch`).
    Rows off the sphere by more than a few ulps (within the tolerance) are
    projected onto it.
    """
    X = _check_states(X)
    if X.ndim == 3:
        return X, bind_batch(kernel, aux, *X.shape)
    return X, _bind_single(_check_kernel(kernel), aux, *X.shape)


#: The kernel classes whose fields are numbers, tuples and read-only arrays or mappings: their
#: bound interactions are kept by :func:`_bind_single` (frozen, with value equality and hash).
_PLAIN_VALUE_KERNELS = (USA, DistanceBias, RoPE, Prompts, Toeplitz)

#: Largest ``n`` whose bound interactions are kept by :func:`_bind_single`
#: (an interaction holds O(n d²) numbers: at most ~0.3 MiB each here).
CACHED_BIND_N = 4096


def _bind_single(kernel: Kernel, aux, n: int, d: int) -> Interaction:
    """``kernel.bind(aux, n, d)``, kept for repeated calls with the same kernel and labels.

    What a kernel and its labels determine (validated labels, angles, gauge
    matrices, the weight's symmetry scan) is computed once: small systems
    called again and again (chapters, exercises, phase diagrams) paid more
    for it than for their forces (issue 20).  The key is the kernel itself
    (a frozen dataclass, hashable; kernels holding arrays are not, and other
    kernel classes may change, so both are bound every time) and the labels'
    dtype, shape and bytes.  Only kernels whose fields are plain values are
    kept (:data:`_PLAIN_VALUE_KERNELS`): a kernel holding a callable (a gauge,
    a phase, a weight) hashes by that callable, which may hold state and answer
    differently the next time.
    """
    if n > CACHED_BIND_N or type(kernel) not in _PLAIN_VALUE_KERNELS:
        return kernel.bind(aux, n, d)
    labels = None
    if aux is not None:
        try:
            array = np.asarray(aux)
        except (TypeError, ValueError):  # ragged and other non-arrays: bind() names the problem
            return kernel.bind(aux, n, d)
        if array.dtype.kind not in "iuf":  # strings, objects, booleans, complex: bind() refuses them
            return kernel.bind(aux, n, d)
        labels = (array.dtype.str, array.shape, array.tobytes())
    try:
        return _bind_cached(kernel, n, d, labels)
    except TypeError as error:
        if "unhashable" not in str(error):
            raise
        return kernel.bind(aux, n, d)  # a kernel holding arrays (Prompts, Gauge): no key


@lru_cache(maxsize=64)
def _bind_cached(kernel: Kernel, n: int, d: int, labels) -> Interaction:
    """The bound interaction for labels given as (dtype, shape, bytes), rebuilt read-only."""
    aux = None if labels is None else np.frombuffer(labels[2], dtype=labels[0]).reshape(labels[1])
    return kernel.bind(aux, n, d)


def vector_field(interaction: Interaction, clock: str = "raw") -> VectorField:
    r"""The right-hand side :math:`X\mapsto (P_{x_i}v_i)_i` as a plain function of ``X``.

    ``X`` is ``(n, d)`` or a batch ``(B, n, d)`` (MODEL.md §2); one system is
    computed as the batch of one.
    """
    factor = _clock_factor(interaction, clock)[:, None, None]
    unit = bool(np.all(factor == 1.0))  # rescaled clock, Toeplitz: 1 · v = v exactly, skip the product

    def field(X: np.ndarray) -> np.ndarray:
        batch = X[None] if X.ndim == 2 else X
        V = project_tangent(batch, interaction.drift(batch))
        if not unit:
            V *= factor
        return V[0] if X.ndim == 2 else V

    return field


def velocity(kernel, X, aux, *, clock: str = "raw") -> np.ndarray:
    r"""Velocities :math:`\dot x_i` of the finite-particle system (MODEL.md §2, the paper's eq. (1)).

    .. math::
        \dot x_i = P_{x_i}\Big(\frac1n\sum_{j=1}^n \nabla_x K\big((x_i,a_i),(x_j,a_j)\big)\Big).

    Parameters
    ----------
    kernel : Kernel, or sequence of B Kernel for a batch
        Any kernel of :mod:`usaav.kernels`; a batch takes one kernel for all
        systems or one per system.
    X : (n, d) or (B, n, d) array_like
        Unit rows; a 3-D array is a batch of ``B`` systems.
    aux : (n,) or (B, n) array_like, or None
        Auxiliary labels (positions in [0, 1] or prompt ids; ignored by
        ``USA``): shared by every system of a batch, or one row per system.
    clock : {"raw", "rescaled"}
        ``"rescaled"`` divides by :math:`e^\beta` (MODEL.md §3).  The raw
        clock refuses β > 709.78, where :math:`e^\beta` overflows float64.

    Returns
    -------
    (n, d) or (B, n, d) ndarray of tangent vectors
        For a batch, row ``b`` is bitwise ``velocity(kernel_b, X[b], aux_b)``.

    Notes
    -----
    Memory: ``O(B n d)`` plus at most 512 KiB of tiles (:mod:`usaav._pairwise`),
    never a ``B n²`` array.  Time: ``O(B n² d)`` for the exponential kernels,
    ``O(B n · modes · d)`` for Toeplitz.

    Raises
    ------
    ValueError
        For bad arguments, and when the result would overflow (raw clock).

    Examples
    --------
    >>> import usaav
    >>> X = usaav.uniform_sphere(6, 3, rng=1)
    >>> V = usaav.velocity(usaav.kernels.USA(1.0), X, None)
    >>> bool(np.allclose(np.sum(V * X, axis=1), 0))
    True
    >>> batch = np.stack([X, usaav.uniform_sphere(6, 3, rng=2)])          # B = 2 systems
    >>> W = usaav.velocity(usaav.kernels.USA(1.0), batch, None)
    >>> W.shape, bool(np.array_equal(W[0], V))
    ((2, 6, 3), True)
    """
    X, interaction = bind(kernel, X, aux)
    field = vector_field(interaction, clock)
    with np.errstate(over="ignore", invalid="ignore"):
        V = field(X)
    return _check_finite_result(V, "the velocity", interaction, clock)


def energy(kernel, X, aux, *, clock: str = "raw"):
    r"""Discrete energy :math:`E_n = \frac1{2n^2}\sum_{i,j}K(z_i,z_j)` (MODEL.md §2, the paper's Def. 8).

    With ``clock="rescaled"`` the value is :math:`e^{-\beta}E_n`, finite for
    every β; the raw clock refuses β > 709.78 (:math:`e^\beta` overflows).
    ``kernel``, ``X`` and ``aux`` as in :func:`velocity`; memory as there.

    Returns
    -------
    float, or (B,) ndarray for a batch

    Examples
    --------
    >>> import usaav
    >>> X = np.tile([[0.0, 0.0, 1.0]], (5, 1))          # all tokens equal
    >>> beta = 2.0
    >>> bool(np.isclose(usaav.energy(usaav.kernels.USA(beta), X, None), np.exp(beta) / (2 * beta)))
    True
    >>> usaav.energy(usaav.kernels.USA(beta), np.stack([X, X, X]), None).shape
    (3,)
    """
    X, interaction = bind(kernel, X, aux)
    with np.errstate(over="ignore", invalid="ignore"):
        value = _energy(interaction, X, clock)
    return _check_finite_result(value, "the energy", interaction, clock)


def _energy(interaction: Interaction, X: np.ndarray, clock: str):
    """:math:`E_n` of ``X`` (``(n, d)``: a float; ``(B, n, d)``: one per system)."""
    batch = X[None] if X.ndim == 2 else X
    scale = interaction.prefactor * _clock_factor(interaction, clock)
    # pair_sum / (2n²) first: it is at most 1/2 times the largest weight, so the
    # product with e^β/β stays finite up to β = 709.78 (MODEL.md §3).
    values = scale * (interaction.pair_sum(batch) / (2.0 * interaction.n**2))
    return float(values[0]) if X.ndim == 2 else values


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Recorded frames of a simulation of one system (returned by :func:`simulate`).

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


@dataclass(frozen=True, eq=False)
class BatchTrajectory:
    """Recorded frames of ``B`` systems advanced together (returned by :func:`simulate` for a batch).

    The frames are those of every system's own run, merged: a frame is kept
    whenever a running system records one.  A system that the early-stop
    rule ended keeps its final configuration in later frames.
    ``batch[b]`` is the :class:`Trajectory` of system ``b``, bitwise the one
    a separate :func:`simulate` call returns.

    Attributes
    ----------
    t : (frames,) ndarray
        Times of the frames.
    X : (frames, B, n, d) ndarray
        Configurations of every system at every frame.
    energy, sphere_drift : (frames, B) ndarray
        As in :class:`Trajectory`, per system.
    recorded : (frames, B) ndarray of bool
        Whether frame ``f`` is one of system ``b``'s own frames (all ``True``
        unless the systems stopped early at different times).
    stopped_early : (B,) ndarray of bool
    method, clock : str
    dt : float
    seeds : tuple of B int or None
        The seeds used to draw ``X0`` when it was not given.
    aux : (B, n) ndarray or None
        The labels of every system.
    kernels : tuple of B Kernel
    """

    t: np.ndarray
    X: np.ndarray
    energy: np.ndarray
    sphere_drift: np.ndarray
    recorded: np.ndarray
    stopped_early: np.ndarray
    method: str
    clock: str
    dt: float
    seeds: tuple
    aux: np.ndarray | None
    kernels: tuple

    def __len__(self) -> int:
        return self.X.shape[1]

    def __getitem__(self, b: int) -> Trajectory:
        b = check_int(b, "b")
        if not -len(self) <= b < len(self):
            raise IndexError(f"system index {b} out of range for a batch of {len(self)}")
        b %= len(self)
        rows = self.recorded[:, b]
        return Trajectory(
            t=self.t[rows], X=self.X[rows, b], energy=self.energy[rows, b],
            sphere_drift=self.sphere_drift[rows, b], stopped_early=bool(self.stopped_early[b]),
            method=self.method, clock=self.clock, dt=self.dt, seed=self.seeds[b],
            aux=None if self.aux is None else self.aux[b], kernel=self.kernels[b],
        )

    def __iter__(self):
        return (self[b] for b in range(len(self)))

    @property
    def final(self) -> np.ndarray:
        """The last configuration of every system, ``(B, n, d)``."""
        return self.X[-1]


def simulate(
    kernel,
    X0,
    aux,
    t_max: float,
    dt: float = 0.05,
    method: str = "heun",
    record_every: int | None = None,
    stop_tol: float | None = None,
    seed=None,
    *,
    clock: str = "raw",
    stop_window: float = 1.0,
    d: int = 3,
    ivp_method: str = "DOP853",
    rtol: float = 1e-10,
    atol: float = 1e-12,
    max_bytes: int = MAX_TRAJECTORY_BYTES,
    max_steps: int = MAX_STEPS,
):
    r"""Integrate the USA-AV system from ``X0`` up to ``t_max`` (MODEL.md §2, §5).

    .. math::
        \dot x_i = P_{x_i}\Big(\frac1n\sum_{j} \nabla_x K(z_i, z_j)\Big),

    by the projected Heun scheme of MODEL.md §5 (a Heun step, then every row
    renormalised onto the sphere), or by :func:`scipy.integrate.solve_ivp`.

    Parameters
    ----------
    kernel : Kernel, or sequence of B Kernel for a batch
    X0 : (n, d) or (B, n, d) array_like, or None
        Initial unit rows (a 3-D array is a batch of ``B`` systems advanced
        together); ``None`` draws the points uniformly on
        :math:`\mathbb S^{d-1}` with ``seed``.
    aux : (n,) or (B, n) array_like, or None
        Fixed auxiliary labels (they never move), shared by every system of
        a batch or one row per system.
    t_max : float
        Final time (> 0).  The last step is shortened to land on it.
    dt : float
        Heun step :math:`h` (> 0); for ``solve_ivp``, the spacing of the
        output grid.
    method : {"heun", "solve_ivp"}
        Projected Heun with renormalisation (the paper's App. B.1), or
        :func:`scipy.integrate.solve_ivp` on the flattened system (reference;
        a batch is integrated one system after the other).
    record_every : int, optional
        Keep every ``record_every``-th step (default: every step).  The
        final time is always recorded.
    stop_tol : float, optional
        Stop early (Heun only) once the relative energy increment over a
        window of length ``stop_window``, :math:`(E(t)-E(t-\tau))/|E(t)|`,
        falls below ``stop_tol``; in a batch each system stops on its own.
    seed : int, or sequence of B int for a batch, optional
        Seed for drawing ``X0`` when it is ``None`` (then ``len(aux)`` points,
        or for a batch one system per seed); recorded in the result.
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
    Trajectory, or BatchTrajectory for a batch
        ``result[b]`` of a batch is bitwise the :class:`Trajectory` of a
        separate run of system ``b``.

    Notes
    -----
    Memory: the recorded frames (bounded by ``max_bytes``) plus ``O(B n d)``
    for the state and at most 512 KiB of tiles per force evaluation
    (:mod:`usaav._pairwise`), never a ``B n²`` array.

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

    Examples
    --------
    >>> import usaav
    >>> X0 = usaav.uniform_sphere(32, 3, rng=0)
    >>> run = usaav.simulate(usaav.kernels.USA(1.0), X0, None, t_max=30.0, record_every=100)
    >>> bool(usaav.collapse_gap(run.final) < 1e-8)      # mode collapse
    True
    >>> batch = usaav.simulate(usaav.kernels.USA(1.0), np.stack([X0, -X0]), None, t_max=30.0,
    ...                        record_every=100)
    >>> batch.X.shape, bool(np.array_equal(batch[0].X, run.X))
    ((7, 2, 32, 3), True)
    """
    method = check_choice(method, "method", METHODS)
    check_choice(clock, "clock", CLOCKS)
    X0, seeds = _initial_states(X0, aux, seed, d)
    X0, interaction = bind(kernel, X0, aux)
    batched = X0.ndim == 3
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
    _clock_factor(interaction, clock)  # refuses β > 709.78 in the raw clock
    largest = float(np.max(interaction.log_scale))
    if method == "heun" and clock == "raw" and largest > np.log(RAW_STEP_LIMIT / dt):
        warnings.warn(
            f"dt * e^beta = {dt * np.exp(largest):.3g} > {RAW_STEP_LIMIT:g} (dt = {dt:g}, "
            f"beta = {largest:g}): in the raw clock the flow contracts at rate ~e^beta and "
            "this Heun step cannot follow it (position errors of 0.1 and more); use clock='rescaled' "
            f"(time measured in units of e^-beta) or dt <= {RAW_STEP_LIMIT * np.exp(-largest):.2g}",
            RuntimeWarning,
            stacklevel=2,
        )

    states = X0 if batched else X0[None]
    B = len(states)
    # Overflow (huge weights near β = 709 in the raw clock) is reported once,
    # after the run, instead of as numpy warnings at every step.
    with np.errstate(over="ignore", invalid="ignore"):
        if method == "solve_ivp":
            steps = np.unique(np.r_[np.arange(0, n_steps, record_every), n_steps])
            t_eval = np.minimum(steps * dt, t_max)
            runs = [
                solve_ivp_adapter(vector_field(interaction.take([b]), clock), states[b], t_eval,
                                  ivp_method=ivp_method, rtol=rtol, atol=atol)
                for b in range(B)
            ]
            t = runs[0][0]
            X = np.stack([frames for _, frames in runs], axis=1)
            energies = np.stack([_energy(interaction, frame, clock) for frame in X])
            recorded = np.ones((len(t), B), dtype=bool)
            stopped_early = np.zeros(B, dtype=bool)
        else:
            t, X, energies, recorded, stopped_early = _run_heun(
                interaction, states, n_steps, dt, t_max, record_every, stop_tol, stop_window, clock
            )
    _check_finite_result(X[-1], "the trajectory", interaction, clock)
    _check_finite_result(energies, "the energy along the trajectory", interaction, clock)
    drift = np.max(_radial_defect(X), axis=-1)

    if not batched:
        return Trajectory(
            t=t, X=X[:, 0], energy=energies[:, 0], sphere_drift=drift[:, 0],
            stopped_early=bool(stopped_early[0]), method=method, clock=clock, dt=dt, seed=seeds[0],
            aux=None if aux is None else np.asarray(aux), kernel=kernel,
        )
    kernels = (kernel,) * B if isinstance(kernel, Kernel) else tuple(kernel)
    labels = None if aux is None else np.broadcast_to(np.asarray(aux), (B, X.shape[2])).copy()
    return BatchTrajectory(
        t=t, X=X, energy=energies, sphere_drift=drift, recorded=recorded, stopped_early=stopped_early,
        method=method, clock=clock, dt=dt, seeds=seeds, aux=labels, kernels=kernels,
    )


def _initial_states(X0, aux, seed, d):
    """``X0``, drawn from ``seed`` when it is ``None``; and the seed of every system."""
    several = isinstance(seed, (list, tuple, np.ndarray))
    if seed is not None and not several:
        seed = check_int(seed, "seed", minimum=0)
    if X0 is not None:
        X0 = as_float_array(X0, "X")  # named as bind() names it; refuses strings, complex, ragged ...
        if X0.ndim != 3:
            return X0, (seed,)
        count = len(X0)
        if not several:
            return X0, (seed,) * count
        if len(seed) != count:
            raise ValueError(f"seed must be one seed or a sequence of B = {count} seeds, got {len(seed)}")
        return X0, tuple(seed)
    if seed is None:
        raise TypeError("seed must be given when X0 is None (X0 is then drawn uniformly)")
    if aux is None:
        raise TypeError("aux must be given when X0 is None: its length sets n")
    n = np.shape(aux)[-1]
    d = check_int(d, "d", minimum=2)
    if not several:
        seed = check_int(seed, "seed", minimum=0)
        return uniform_sphere(n, d, seed), (seed,)
    seeds = tuple(check_int(s, "seed", minimum=0) for s in seed)
    if not seeds:
        raise ValueError("seed must hold at least one seed (one system per seed)")
    if np.ndim(aux) == 2 and np.shape(aux)[0] != len(seeds):
        raise ValueError(
            f"aux has {np.shape(aux)[0]} rows (systems) but seed holds {len(seeds)} seeds; give one seed per system"
        )
    return np.stack([uniform_sphere(n, d, s) for s in seeds]), seeds


def _check_budget(t_max, dt, record_every, shape, max_bytes, max_steps) -> int:
    """Number of steps of a run; refuse runs longer than ``max_steps`` or recordings above ``max_bytes``.

    ``shape`` is ``(n, d)`` or ``(B, n, d)``: each recorded frame holds the
    points twice (the list of frames and their stacked copy) and three floats
    per system (time, energy, drift).
    """
    steps = t_max / dt
    if not steps <= max_steps:
        raise ValueError(
            f"t_max / dt = {steps:.3g} steps (t_max = {t_max:g}, dt = {dt:g}) is more than max_steps = "
            f"{max_steps}; use a larger dt or a shorter t_max, or raise max_steps"
        )
    n_steps = max(1, int(np.ceil(steps - 1e-9)))
    systems = int(np.prod(shape[:-2]))
    frames = 1 + -(-n_steps // record_every)
    per_frame = (2 * int(np.prod(shape)) + 3 * systems) * 8
    needed = frames * per_frame
    if needed > max_bytes:
        fits = max(1, max_bytes // per_frame - 1)
        points = " x ".join(str(k) for k in shape)
        raise ValueError(
            f"simulate would record {frames} frames of {points} points, about {needed / 2**30:.3g} GiB "
            f"> max_bytes = {max_bytes / 2**30:.3g} GiB; record fewer frames with record_every >= "
            f"{-(-n_steps // fits)}, or raise max_bytes"
        )
    return n_steps


def _run_heun(interaction, X0, n_steps, dt, t_max, record_every, stop_tol, stop_window, clock):
    """Projected Heun (MODEL.md §5) for the batch ``X0`` ``(B, n, d)``.

    Systems that meet the early-stop rule leave the batch; the others go on
    with exactly the steps they would take alone.  Returns the times, the
    frames ``(frames, B, n, d)``, their energies ``(frames, B)``, which
    frames each system records ``(frames, B)`` and who stopped early ``(B,)``.
    """
    B = len(X0)
    window = max(1, int(round(stop_window / dt))) if stop_tol is not None else 0
    active = np.arange(B)
    part = interaction
    field = vector_field(part, clock)
    X = np.array(X0)  # the running systems (each step makes a new array: frames are never overwritten)
    state = X  # every system's latest configuration
    held_energy = _energy(part, X, clock)
    times, frames, energies, recorded = [0.0], [state], [held_energy], [np.ones(B, dtype=bool)]
    previous = held_energy if window else None
    stopped = np.zeros(B, dtype=bool)
    for step in range(1, n_steps + 1):
        h = dt if step < n_steps else t_max - (n_steps - 1) * dt
        X = heun_step(field, X, h)
        now = min(step * dt, t_max)
        done = np.zeros(len(active), dtype=bool)
        current = None
        if window and step % window == 0:
            current = _energy(part, X, clock)
            done = (current - previous) <= stop_tol * np.abs(current)
            previous = current
        regular = step % record_every == 0 or step == n_steps
        if regular or done.any():
            current = current if current is not None else _energy(part, X, clock)
            if len(active) == B:
                state, held_energy = X, current
            else:  # systems that stopped keep their last configuration and energy
                state, held_energy = state.copy(), held_energy.copy()
                state[active], held_energy[active] = X, current
            times.append(now)
            frames.append(state)
            energies.append(held_energy)
            flags = np.zeros(B, dtype=bool)
            flags[active] = regular | done
            recorded.append(flags)
        if done.any():
            stopped[active[done]] = True
            keep = ~done
            active, X, previous = active[keep], X[keep], previous[keep]
            if not active.size:
                break
            part = interaction.take(active)
            field = vector_field(part, clock)
    return np.array(times), np.stack(frames), np.stack(energies), np.stack(recorded), stopped
