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
never which kernel produced it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ._pairwise import exp_attention
from ._validation import (
    as_float_array,
    check_aux,
    check_int,
    check_orthogonal,
    check_plane,
    check_positive_scalar,
)
from .sphere import rotate_in_plane

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
    "periodic_distance",
]


def periodic_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""Distance on the torus :math:`\mathbb T=\mathbb R/\mathbb Z`, outer over ``a`` and ``b``.

    :math:`d(a,b)=\min(r, 1-r)` with :math:`r=(a-b)\bmod 1` (MODEL.md §1).
    """
    r = np.mod(np.subtract.outer(a, b), 1.0)
    return np.minimum(r, 1.0 - r)


@dataclass(frozen=True, eq=False)
class Interaction:
    r"""A kernel bound to fixed labels: the sums the dynamics need.

    With :math:`K = c\,e^\sigma\tilde K` (``prefactor`` :math:`c`,
    ``log_scale`` :math:`\sigma`):

    * ``drift(X)`` returns :math:`\frac1n\sum_j e^{-\sigma}\nabla_xK(z_i,z_j)`
      (unprojected; MODEL.md §2);
    * ``pair_sum(X)`` returns :math:`\sum_{i,j}\tilde K(z_i,z_j)`, so that
      :math:`E_n = c\,e^\sigma\,\text{pair\_sum}/(2n^2)` (seed Def. 8);
    * ``gauge_frame(X)`` returns :math:`u_i=G(a_i)x_i` (identity for
      kernels without a gauge);
    * ``pair_sum_max`` is the largest possible ``pair_sum`` where a theorem
      gives it (MODEL.md §4), else ``None``.
    """

    n: int
    log_scale: float
    prefactor: float
    drift: Callable[[np.ndarray], np.ndarray]
    pair_sum: Callable[[np.ndarray], float]
    gauge_frame: Callable[[np.ndarray], np.ndarray]
    pair_sum_max: Callable[[], float | None]


def _identity(X: np.ndarray) -> np.ndarray:
    return X


def _no_bound() -> None:
    return None


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


def _weighted_interaction(beta, n, aux, log_weight=None, weight=None, bounded=True):
    def drift(X):
        return exp_attention(X, beta, labels=aux, log_weight=log_weight, weight=weight)[0]

    def pair_sum(X):
        return exp_attention(
            X, beta, labels=aux, log_weight=log_weight, weight=weight,
            want_force=False, want_sum=True,
        )[1]

    def pair_sum_max():
        # Prop. 11: with w >= 0 every term is largest when all x_i coincide,
        # so the maximum of the pair sum is its value at a constant configuration.
        if not bounded:
            return None
        constant = np.zeros((n, 2))
        constant[:, 0] = 1.0
        return pair_sum(constant)

    return Interaction(n, beta, 1.0 / beta, drift, pair_sum, _identity, pair_sum_max)


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
        return _weighted_interaction(self.beta, n, None)

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
        r""":math:`\log w(a_i, b_j)` as an ``(len(a), len(b))`` matrix."""
        dist = periodic_distance(a, b)
        if self.profile == "exponential":
            return -dist / self.length
        return -0.5 * (dist / self.length) ** 2

    def bind(self, aux, n, d):
        aux = _check_positions(aux, n)
        return _weighted_interaction(self.beta, len(aux), aux, log_weight=self.log_weight)

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
        return _weighted_interaction(
            self.beta, len(aux), aux, weight=self._weights, bounded=w_min >= 0.0
        )

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
    Subclasses provide ``_frame(aux, n, d)`` returning the pair of maps
    ``(to_gauge, from_gauge)`` acting row-wise on ``(n, d)`` arrays.
    """

    beta: float

    @abstractmethod
    def _frame(self, aux, n: int, d: int) -> tuple[Callable, Callable]:
        ...

    def bind(self, aux, n, d):
        to_gauge, from_gauge = self._frame(aux, n, d)
        beta = self.beta

        def drift(X):
            return from_gauge(exp_attention(to_gauge(X), beta)[0])

        def pair_sum(X):
            return exp_attention(to_gauge(X), beta, want_force=False, want_sum=True)[1]

        def pair_sum_max():
            # K <= e^β/β pointwise (MODEL.md §4), so the scaled sum is at most n².
            return float(n) ** 2

        return Interaction(n, beta, 1.0 / beta, drift, pair_sum, to_gauge, pair_sum_max)

    def gauge_frame(self, X, aux) -> np.ndarray:
        r"""The gauge-frame points :math:`u_i = G(a_i)x_i`."""
        X = as_float_array(X, "X")
        return self._frame(aux, X.shape[-2], X.shape[-1])[0](X)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        U = self._frame(aux, *X.shape)[0](X)
        V = self._frame(aux_Y, *Y.shape)[0](Y)
        return np.exp(self.beta * (U @ V.T)) / self.beta


def _matrix_frame(G):
    def to_gauge(X):
        return np.einsum("nij,...nj->...ni", G, X)

    def from_gauge(U):
        return np.einsum("nji,...nj->...ni", G, U)

    return to_gauge, from_gauge


def _plane_frame(angles, plane):
    def to_gauge(X):
        return rotate_in_plane(X, angles, plane)

    def from_gauge(U):
        return rotate_in_plane(U, -angles, plane)

    return to_gauge, from_gauge


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
        return _matrix_frame(G)


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
        return _plane_frame(self.theta * s, self.plane)


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
        return _plane_frame(angles, self.plane)


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
        return _matrix_frame(self.gauges[ids])


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
        n = len(s)
        phases = 2 * np.pi * np.outer(s, self.modes)  # (n, modes)
        cos, sin = np.cos(phases), np.sin(phases)
        amplitudes = self.amplitudes

        def moments(X):
            return cos.T @ X, sin.T @ X  # (modes, d) each

        def drift(X):
            C, S = moments(X)
            return (cos @ (amplitudes[:, None] * C) + sin @ (amplitudes[:, None] * S)) / n

        def pair_sum(X):
            C, S = moments(X)
            return float(amplitudes @ (np.sum(C * C, axis=1) + np.sum(S * S, axis=1)))

        def pair_sum_max():
            return 2.0 * n**2 * self.energy_bound()

        return Interaction(n, 0.0, 1.0, drift, pair_sum, _identity, pair_sum_max)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        a = _check_positions(aux, len(X))
        b = _check_positions(aux_Y, len(Y), "aux_Y")
        return self.profile(np.subtract.outer(a, b)) * (X @ Y.T)
