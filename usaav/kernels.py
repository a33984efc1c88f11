r"""Interaction kernels of the USA-AV model (MODEL.md §3).

A kernel is a small frozen dataclass holding its parameters and its
equation.  It knows three things:

* ``value(X, aux, Y, aux_Y)``: the matrix :math:`K((x_i,a_i),(y_j,b_j))`,
  computed densely from the formula (for inspection and for tests);
* ``bind(aux, d)``: check the labels once and precompute what depends on
  them only (gauge matrices, phases), returning an :class:`Interaction`;
* its scale: every kernel is written :math:`K = c\,e^{\sigma}\,\tilde K`
  with a ``prefactor`` :math:`c` and ``log_scale`` :math:`\sigma`
  (:math:`1/\beta` and :math:`\beta` for the exponential kernels, 1 and 0
  for Toeplitz), so that :math:`\tilde K` never overflows (MODEL.md §3,
  large β).

The dynamics (:mod:`usaav.dynamics`) only ever see an :class:`Interaction`,
never which kernel produced it.  :func:`bind_batch` binds one kernel, or one
kernel per system, to the labels of a batch of systems
(:mod:`usaav._interaction`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._interaction import (
    IDENTITY_FRAME,
    DistanceLogWeight,
    ExpEngine,
    Interaction,
    MatrixFrame,
    PlaneFrame,
    SignedWeight,
    ToeplitzEngine,
)
from ._validation import (
    as_float_array,
    check_aux,
    check_int,
    check_orthogonal,
    check_plane,
    check_positive_scalar,
)

__all__ = [
    "Kernel",
    "Interaction",
    "USA",
    "DistanceBias",
    "Separated",
    "Gauge",
    "RoPE",
    "PhaseField",
    "Prompts",
    "Toeplitz",
    "bind_batch",
    "distance_log_weight",
    "periodic_distance",
]


def periodic_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""Distance on the torus :math:`\mathbb T=\mathbb R/\mathbb Z`, outer over the last axes of ``a`` and ``b``.

    :math:`d(a,b)=\min(r, 1-r)` with :math:`r=(a-b)\bmod 1` (MODEL.md §1).
    For 1-D ``a`` (m,) and ``b`` (k,) the result is ``(m, k)``; leading axes
    are batch axes: ``(B, m)`` and ``(B, k)`` give ``(B, m, k)``.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        r = np.mod(np.subtract.outer(a, b), 1.0)
    else:
        r = np.mod(a[..., :, None] - b[..., None, :], 1.0)
    return np.minimum(r, 1.0 - r)


def distance_log_weight(a: np.ndarray, b: np.ndarray, length, profile: str) -> np.ndarray:
    r"""The distance-bias weight in the exponent, :math:`\log w(a,b)` (MODEL.md §3; seed Ex. 2, 4).

    :math:`-\mathrm d(a,b)/\ell` ("exponential") or
    :math:`-\mathrm d(a,b)^2/(2\ell^2)` ("gaussian"), with the periodic
    distance of :func:`periodic_distance` (outer over the last axes; ``length``
    broadcasts against the result).
    """
    dist = periodic_distance(a, b)
    if profile == "exponential":
        return -dist / length
    return -0.5 * (dist / length) ** 2


class Kernel(ABC):
    """Base class of the USA-AV kernels (see the module docstring)."""

    @abstractmethod
    def bind(self, aux, n: int, d: int) -> Interaction:
        """Validate ``aux`` for ``n`` points in dimension ``d``; precompute label data."""

    @abstractmethod
    def value(self, X, aux, Y=None, aux_Y=None) -> np.ndarray:
        """Dense ``(n, m)`` matrix of :math:`K((x_i,a_i),(y_j,b_j))`."""

    @staticmethod
    def _pair(X, aux, Y, aux_Y):
        X = as_float_array(X, "X")
        if Y is None:
            return X, aux, X, aux
        if aux_Y is None:
            raise TypeError("aux_Y must be given together with Y")
        return X, aux, as_float_array(Y, "Y"), aux_Y


# --------------------------------------------------------------------------
# Exponential kernels with a weight on the labels (baseline, separated)
# --------------------------------------------------------------------------


def _check_positions(aux, n: int, name: str = "aux") -> np.ndarray:
    aux = check_aux(aux, n, name).astype(np.float64)
    if aux.size and (aux.min() < 0.0 or aux.max() > 1.0):
        raise ValueError(
            f"{name} must hold positions in [0, 1], got values in [{aux.min():.3g}, {aux.max():.3g}]"
        )
    return aux


def _exp_interaction(beta, n, frame=IDENTITY_FRAME, labels=None, log_weight=None, weight=None):
    r"""One system of an exponential kernel :math:`w\,e^{\beta\langle u,v\rangle}/\beta` in ``frame``.

    :math:`K = \frac1\beta e^{\beta}\,\tilde K`: prefactor :math:`1/\beta`,
    log-scale :math:`\beta` (MODEL.md §3, large β).
    """
    engine = ExpEngine(np.array([beta]), None if labels is None else labels[None], log_weight, weight)
    return Interaction.single(n, beta, 1.0 / beta, frame, engine)


@dataclass(frozen=True)
class USA(Kernel):
    r"""Baseline unnormalised self-attention kernel (MODEL.md §3, seed Ex. 1).

    .. math:: K((x,a),(y,b)) = \frac1\beta e^{\beta\langle x,y\rangle},
              \qquad \nabla_xK = e^{\beta\langle x,y\rangle}\,y .

    Labels are ignored (any numeric ``aux`` of length n is accepted).

    Examples
    --------
    >>> import usaav
    >>> X = usaav.uniform_sphere(4, 3, rng=0)
    >>> USA(beta=1.0).value(X, None).shape
    (4, 4)
    """

    beta: float

    def __post_init__(self):
        object.__setattr__(self, "beta", check_positive_scalar(self.beta, "beta"))

    def bind(self, aux, n, d):
        if aux is not None:
            check_aux(aux, n)
        return _exp_interaction(self.beta, n)

    def value(self, X, aux, Y=None, aux_Y=None):
        X = as_float_array(X, "X")
        Y = X if Y is None else as_float_array(Y, "Y")
        return np.exp(self.beta * (X @ Y.T)) / self.beta


@dataclass(frozen=True)
class DistanceBias(Kernel):
    r"""Exponential kernel with a nonnegative positional weight (MODEL.md §3; seed Ex. 2, 4; App. C).

    .. math:: K((x,a),(y,b)) = w(a,b)\,\frac1\beta e^{\beta\langle x,y\rangle},
              \quad w(a,b) = e^{-\mathrm{d}(a,b)/\ell}\ \text{("exponential")}
              \ \text{or}\ e^{-\mathrm{d}(a,b)^2/(2\ell^2)}\ \text{("gaussian")},

    with :math:`\mathrm d` the periodic distance on the torus.  Since
    :math:`w\ge0`, every maximiser is constant (Prop. 11): positions alone do
    not prevent collapse.  The weight is folded into the exponent,
    :math:`w e^{\beta s} = e^{\beta s + \log w}`, so one ``exp`` serves both.

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    length : float
        Correlation length :math:`\ell > 0`.
    profile : {"exponential", "gaussian"}
    """

    beta: float
    length: float
    profile: str = "exponential"

    def __post_init__(self):
        object.__setattr__(self, "beta", check_positive_scalar(self.beta, "beta"))
        object.__setattr__(self, "length", check_positive_scalar(self.length, "length"))
        if self.profile not in ("exponential", "gaussian"):
            raise ValueError(f"profile must be 'exponential' or 'gaussian', got {self.profile!r}")

    def log_weight(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        r""":math:`\log w(a_i, b_j)` as an ``(len(a), len(b))`` matrix (:func:`distance_log_weight`)."""
        return distance_log_weight(a, b, self.length, self.profile)

    def bind(self, aux, n, d):
        aux = _check_positions(aux, n)
        log_weight = DistanceLogWeight(distance_log_weight, self.profile, np.array([self.length]))
        return _exp_interaction(self.beta, len(aux), labels=aux, log_weight=log_weight)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        a = _check_positions(aux, len(X))
        b = _check_positions(aux_Y, len(Y), "aux_Y")
        return np.exp(self.log_weight(a, b)) * np.exp(self.beta * (X @ Y.T)) / self.beta


@dataclass(frozen=True)
class Separated(Kernel):
    r"""General separated kernel :math:`w(a,b)\,e^{\beta\langle x,y\rangle}/\beta` (MODEL.md §3; seed Ex. 2).

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    weight : callable
        ``weight(a, b)`` → ``(len(a), len(b))`` matrix of :math:`w(a_i, b_j)`;
        it must be symmetric, and may change sign (then the relative energy
        gap is undefined: no closed-form maximum is known).
    """

    beta: float
    weight: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def __post_init__(self):
        object.__setattr__(self, "beta", check_positive_scalar(self.beta, "beta"))
        if not callable(self.weight):
            raise TypeError(f"weight must be callable weight(a, b) -> matrix, got {type(self.weight).__name__}")

    def _weights(self, a, b):
        w = as_float_array(self.weight(a, b), "weight(a, b)")
        if w.shape != (len(a), len(b)):
            raise ValueError(f"weight(a, b) must return shape ({len(a)}, {len(b)}), got {w.shape}")
        return w

    def bind(self, aux, n, d):
        aux = check_aux(aux, n).astype(np.float64)
        w_min = min(float(self._weights(aux[i:i + 512], aux).min()) for i in range(0, len(aux), 512))
        weight = SignedWeight((self._weights,), np.array([w_min >= 0.0]))
        return _exp_interaction(self.beta, len(aux), labels=aux, weight=weight)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        a = check_aux(aux, len(X)).astype(np.float64)
        b = check_aux(aux_Y, len(Y), "aux_Y").astype(np.float64)
        return self._weights(a, b) * np.exp(self.beta * (X @ Y.T)) / self.beta


# --------------------------------------------------------------------------
# Gauge kernels: the baseline seen through label-dependent orthogonal maps
# --------------------------------------------------------------------------


class _GaugeKernel(Kernel):
    r"""Shared machinery of the gauge kernels (MODEL.md §3, seed eq. (6)).

    .. math:: K((x,a),(y,b)) = \frac1\beta e^{\beta\langle G(a)x,\,G(b)y\rangle},
              \qquad \nabla_xK = e^{\beta\langle G(a)x,G(b)y\rangle}\,G(a)^\top G(b)\,y .

    Forces are evaluated in the gauge frame :math:`u_i = G(a_i)x_i`, where
    the kernel is the baseline: :math:`\frac1n\sum_j\nabla_xK =
    G(a_i)^\top\big(\frac1n\sum_j e^{\beta\langle u_i,u_j\rangle}u_j\big)`.
    Subclasses provide ``_frame(aux, n, d)`` returning the frame of one
    system (a :class:`usaav._interaction.PlaneFrame` or ``MatrixFrame``).
    """

    beta: float

    @abstractmethod
    def _frame(self, aux, n: int, d: int):
        ...

    def bind(self, aux, n, d):
        return _exp_interaction(self.beta, n, frame=self._frame(aux, n, d))

    def gauge_frame(self, X, aux) -> np.ndarray:
        r"""The gauge-frame points :math:`u_i = G(a_i)x_i` of ``X`` (``(n, d)``, or frames ``(..., n, d)``)."""
        X = as_float_array(X, "X")
        return self._frame(aux, X.shape[-2], X.shape[-1]).to_gauge(X[..., None, :, :])[..., 0, :, :]

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        U = self.gauge_frame(X, aux)
        V = self.gauge_frame(Y, aux_Y)
        return np.exp(self.beta * (U @ V.T)) / self.beta


@dataclass(frozen=True, eq=False)
class Gauge(_GaugeKernel):
    r"""Gauge kernel with a user-supplied gauge :math:`G:\mathcal A\to O(d)` (seed eq. (6), Thm. 4).

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    gauge : callable
        ``gauge(aux)`` → ``(n, d, d)`` orthogonal matrices :math:`G(a_i)`.
    """

    beta: float
    gauge: Callable[[np.ndarray], np.ndarray]

    def __post_init__(self):
        object.__setattr__(self, "beta", check_positive_scalar(self.beta, "beta"))
        if not callable(self.gauge):
            raise TypeError(f"gauge must be callable gauge(aux) -> (n, d, d), got {type(self.gauge).__name__}")

    def _frame(self, aux, n, d):
        aux = check_aux(aux, n)
        G = check_orthogonal(self.gauge(aux), "gauge(aux)")
        if G.shape != (len(aux), d, d):
            raise ValueError(f"gauge(aux) must return shape ({len(aux)}, {d}, {d}), got {G.shape}")
        return MatrixFrame(G[None])


@dataclass(frozen=True)
class RoPE(_GaugeKernel):
    r"""Rotary positional encoding, gauge :math:`G(s)=R_{\theta s}` (MODEL.md §3; seed Ex. 3, Thm. 1).

    .. math:: K((x,s),(y,t)) = \frac1\beta e^{\beta\langle R_{\theta s}x,\,R_{\theta t}y\rangle}
              = \frac1\beta e^{\beta\langle x,\,R_{\theta(t-s)}y\rangle}.

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    theta : float
        Frequency :math:`\theta`; :math:`2\pi` closes the orbit (Cor. 1).
    plane : (int, int)
        Rotation plane, default :math:`\mathrm{span}(e_1,e_2)`.

    Examples
    --------
    >>> import usaav
    >>> from usaav import maximizers
    >>> s = np.arange(8) / 8
    >>> X = maximizers.rope([0.0, 0.6, 0.8], 2 * np.pi, s)
    >>> float(usaav.relative_energy_gap(RoPE(1.0), X, s)) < 1e-15
    True
    """

    beta: float
    theta: float = 2 * np.pi
    plane: tuple[int, int] = (0, 1)

    def __post_init__(self):
        object.__setattr__(self, "beta", check_positive_scalar(self.beta, "beta"))
        theta = as_float_array(self.theta, "theta")
        if theta.ndim != 0:
            raise TypeError(f"theta must be a real number, got shape {theta.shape}")
        object.__setattr__(self, "theta", float(theta))
        object.__setattr__(self, "plane", check_plane(self.plane))

    def _frame(self, aux, n, d):
        check_plane(self.plane, d)
        s = _check_positions(aux, n)
        return PlaneFrame((self.theta * s)[None], self.plane)


@dataclass(frozen=True, eq=False)
class PhaseField(_GaugeKernel):
    r"""Phase-field kernel, gauge :math:`G(s)=R_{\phi(s)}` (MODEL.md §3; seed Thm. 2).

    .. math:: K((x,s),(y,t)) = \frac1\beta e^{\beta\langle x,\,R_{\psi(s,t)}y\rangle},
              \qquad \psi(s,t)=\phi(t)-\phi(s).

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    phase : callable
        ``phase(s)`` → array of angles :math:`\phi(s_i)`, same shape as ``s``.
    plane : (int, int)
        Rotation plane.
    """

    beta: float
    phase: Callable[[np.ndarray], np.ndarray]
    plane: tuple[int, int] = (0, 1)

    def __post_init__(self):
        object.__setattr__(self, "beta", check_positive_scalar(self.beta, "beta"))
        if not callable(self.phase):
            raise TypeError(f"phase must be callable phase(s) -> angles, got {type(self.phase).__name__}")
        object.__setattr__(self, "plane", check_plane(self.plane))

    def _frame(self, aux, n, d):
        check_plane(self.plane, d)
        s = _check_positions(aux, n)
        angles = as_float_array(self.phase(s), "phase(s)")
        if angles.shape != s.shape:
            raise ValueError(f"phase(s) must return shape {s.shape}, got {angles.shape}")
        return PlaneFrame(angles[None], self.plane)


@dataclass(frozen=True, eq=False)
class Prompts(_GaugeKernel):
    r"""Finitely many fixed prompts, one orthogonal gauge each (MODEL.md §3; seed §4, Cor. 2).

    Particle ``i`` carries the prompt id ``aux[i]`` in ``0..m-1`` and sees the
    others through :math:`G_{a_i}`:
    :math:`K((x,p),(y,q)) = \frac1\beta e^{\beta\langle G_px,\,G_qy\rangle}`.

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    gauges : (m, d, d) array_like
        Orthogonal matrices :math:`G_0,\dots,G_{m-1}`.
    """

    beta: float
    gauges: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "beta", check_positive_scalar(self.beta, "beta"))
        gauges = check_orthogonal(self.gauges, "gauges").copy()
        gauges.setflags(write=False)
        object.__setattr__(self, "gauges", gauges)

    def _frame(self, aux, n, d):
        ids = check_aux(aux, n)
        m = len(self.gauges)
        if ids.dtype.kind == "f":
            if not np.all(ids == np.round(ids)):
                raise TypeError("aux must hold integer prompt ids for Prompts, got non-integer floats")
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= m):
            raise ValueError(
                f"aux must hold prompt ids in 0..{m - 1} (there are {m} gauges), "
                f"got values in [{ids.min()}, {ids.max()}]"
            )
        if self.gauges.shape[1] != d:
            raise ValueError(f"gauges act on d = {self.gauges.shape[1]} but X has d = {d} columns")
        return MatrixFrame(self.gauges[ids][None])


# --------------------------------------------------------------------------
# Toeplitz: linear content kernel with a translation-invariant weight
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Toeplitz(Kernel):
    r"""Linear content kernel with a Toeplitz positional weight (MODEL.md §3; seed Prop. 10, Ex. 6).

    .. math:: K((x,a),(y,b)) = c(a-b)\,\langle x,y\rangle,
              \qquad c(r) = \sum_k c_k\cos(2\pi k r),

    so :math:`\hat c(0)=c_0` and :math:`\hat c(\pm k)=c_k/2` for :math:`k\ge1`.
    Forces cost O(n · modes · d) through
    :math:`\cos 2\pi k(a-b) = \cos2\pi ka\cos2\pi kb + \sin2\pi ka\sin2\pi kb`.

    Parameters
    ----------
    coefficients : dict
        ``{k: c_k}`` with integer ``k >= 0`` and real ``c_k``.

    Examples
    --------
    >>> Toeplitz({1: 1.0}).energy_bound()  # c(r) = cos 2πr: max ĉ / 2 = 1/4
    0.25
    """

    coefficients: dict

    def __post_init__(self):
        if not isinstance(self.coefficients, dict) or not self.coefficients:
            raise TypeError(f"coefficients must be a non-empty dict {{k: c_k}}, got {self.coefficients!r}")
        clean = {}
        for k, c in self.coefficients.items():
            k = check_int(k, "coefficients key k", minimum=0)
            c = as_float_array(c, f"coefficients[{k}]")
            if c.ndim != 0:
                raise TypeError(f"coefficients[{k}] must be a real number, got shape {c.shape}")
            clean[k] = float(c)
        object.__setattr__(self, "coefficients", dict(sorted(clean.items())))

    @property
    def modes(self) -> np.ndarray:
        return np.array(list(self.coefficients), dtype=np.float64)

    @property
    def amplitudes(self) -> np.ndarray:
        return np.array(list(self.coefficients.values()))

    def fourier(self) -> dict:
        r"""Fourier coefficients :math:`\hat c(k)` for :math:`k\ge0` (:math:`\hat c(-k)=\hat c(k)`)."""
        return {k: (c if k == 0 else c / 2) for k, c in self.coefficients.items()}

    def energy_bound(self) -> float:
        r"""Mean-field maximum :math:`\frac12\max_k\hat c(k)` (Prop. 10); at least 0 (:math:`\hat c(k)=0` off the support)."""
        return 0.5 * max(0.0, max(self.fourier().values()))

    def profile(self, r) -> np.ndarray:
        r"""The weight :math:`c(r)`."""
        r = np.asarray(r, dtype=np.float64)
        return np.cos(2 * np.pi * np.multiply.outer(r, self.modes)) @ self.amplitudes

    def bind(self, aux, n, d):
        s = _check_positions(aux, n)
        phases = 2 * np.pi * np.outer(s, self.modes)  # (n, modes)
        engine = ToeplitzEngine(
            np.cos(phases)[None], np.sin(phases)[None], self.amplitudes[None],
            # Prop. 10: E_n <= max_k ĉ(k) / 2, i.e. pair sum <= 2 n² · energy_bound.
            np.array([2.0 * n**2 * self.energy_bound()]),
        )
        return Interaction.single(n, 0.0, 1.0, IDENTITY_FRAME, engine)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        a = _check_positions(aux, len(X))
        b = _check_positions(aux_Y, len(Y), "aux_Y")
        return self.profile(np.subtract.outer(a, b)) * (X @ Y.T)


# --------------------------------------------------------------------------
# Batches: one kernel, or one kernel per system, bound to the labels of B systems
# --------------------------------------------------------------------------


def bind_batch(kernel, aux, batch: int, n: int, d: int) -> Interaction:
    r"""Bind kernels to the labels of ``batch`` systems of ``n`` points in dimension ``d``.

    Parameters
    ----------
    kernel : Kernel or sequence of Kernel
        One kernel shared by every system, or one kernel per system (any
        classes: systems of the same kind are computed together, see
        :mod:`usaav._interaction`).
    aux : None, (n,) or (batch, n) array_like
        No labels, labels shared by every system, or one row per system.
    batch, n, d : int

    Returns
    -------
    Interaction
        Of batch 1 (shared by all systems) when one kernel and one set of
        labels serve every system, else of batch ``batch``.

    Examples
    --------
    >>> s = np.arange(4) / 4
    >>> bind_batch(RoPE(1.0), s, 3, 4, 3).batch            # one kernel, shared labels
    1
    >>> bind_batch([RoPE(1.0), USA(2.0), RoPE(1.0)], s, 3, 4, 3).batch
    3
    """
    kernels = (kernel,) if isinstance(kernel, Kernel) else tuple(kernel)
    for k, item in enumerate(kernels):
        if not isinstance(item, Kernel):
            raise TypeError(
                f"kernel must be a usaav kernel or a sequence of them, got {type(item).__name__} at index {k}"
            )
    if len(kernels) not in (1, batch):
        raise ValueError(
            f"kernel must be one kernel or a sequence of B = {batch} kernels (one per system), "
            f"got {len(kernels)}"
        )
    rows = [None]
    if aux is not None:
        labels = np.asarray(aux)
        if labels.ndim == 2:
            if labels.shape != (batch, n):
                raise ValueError(
                    f"aux must have shape (n,) = ({n},) (shared by the systems) or (B, n) = ({batch}, {n}) "
                    f"(one row per system), got shape {labels.shape}"
                )
            rows = list(labels)
        elif labels.ndim == 1:
            rows = [labels]
        else:
            raise ValueError(
                f"aux must have shape (n,) = ({n},) or (B, n) = ({batch}, {n}), got shape {labels.shape}"
            )
    # Equal kernels and equal label rows are bound once and shared by every system.
    if all(_same_kernel(k, kernels[0]) for k in kernels[1:]):
        kernels = kernels[:1]
    if all(np.array_equal(row, rows[0]) for row in rows[1:]):
        rows = rows[:1]
    if len(kernels) == 1 and len(rows) == 1:
        return kernels[0].bind(rows[0], n, d)
    return Interaction.stack([
        kernels[b if len(kernels) > 1 else 0].bind(rows[b if len(rows) > 1 else 0], n, d)
        for b in range(batch)
    ])


def _same_kernel(a: Kernel, b: Kernel) -> bool:
    """Whether two kernels are equal (dataclass equality; identity for the ``eq=False`` kernels)."""
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):  # fields that compare elementwise
        return False
