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
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, ClassVar

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
    BLOCK_ENTRIES,
    as_float_array,
    check_array_bytes,
    check_aux,
    check_beta,
    check_callable,
    check_choice,
    check_frames,
    check_int,
    check_orthogonal,
    check_plane,
    check_points,
    check_positive_scalar,
    check_real,
)
from ._validation import check_positions as _check_positions

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
    "mode_turns",
    "bind_batch",
    "check_finite_result",
    "check_kernel",
    "periodic_distance",
]


def periodic_distance(a, b) -> np.ndarray:
    r"""Distance on the torus :math:`\mathbb T=\mathbb R/\mathbb Z`, outer over ``a`` and ``b``.

    :math:`d(a,b)=\min(r, 1-r)` with :math:`r=(a-b)\bmod 1` (MODEL.md §1);
    ``a`` and ``b`` are finite reals of any shape, the result has shape
    ``a.shape + b.shape`` (refused above 1 GiB).

    >>> periodic_distance([0.1], [0.9, 0.4])
    array([[0.2, 0.3]])
    """
    a, b = as_float_array(a, "a"), as_float_array(b, "b")
    check_array_bytes(float(a.size) * b.size, f"the {a.size} x {b.size} distances")
    return np.asarray(_periodic_distance(np.ravel(a), np.ravel(b))).reshape(a.shape + b.shape)


def _periodic_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`periodic_distance` without the checks, for the weight tiles of the dynamics.

    Outer over the last axes; leading axes are batch axes: ``(B, m)`` and
    ``(B, k)`` give ``(B, m, k)``.
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        r = np.mod(np.subtract.outer(a, b), 1.0)
    else:
        r = np.mod(a[..., :, None] - b[..., None, :], 1.0)
    return np.minimum(r, 1.0 - r)


def _distance_log_weight(a: np.ndarray, b: np.ndarray, length, profile: str) -> np.ndarray:
    r"""The distance-bias weight in the exponent, :math:`\log w(a,b)` (MODEL.md §3; the paper's Ex. 2, 4).

    :math:`-\mathrm d(a,b)/\ell` ("exponential") or
    :math:`-\mathrm d(a,b)^2/(2\ell^2)` ("gaussian"), with the periodic
    distance of :func:`periodic_distance` (outer over the last axes; ``length``
    broadcasts against the result).  Unchecked: called tile by tile by the dynamics.
    """
    dist = _periodic_distance(a, b)
    # A tiny length sends d/ℓ to inf: log w = -inf, w = 0, as it should be.
    with np.errstate(over="ignore"):
        if profile == "exponential":
            return -dist / length
        return -0.5 * (dist / length) ** 2


class Kernel(ABC):
    """Base class of the USA-AV kernels (see the module docstring)."""

    #: Whether the kernel reads each particle through a gauge :math:`G(a_i)` (MODEL.md §3); the
    #: others act as if :math:`G=I`, and :meth:`gauge_frame` returns the points themselves.
    has_gauge: ClassVar[bool] = False

    def gauge_frame(self, X, aux) -> np.ndarray:
        r"""The gauge-frame points :math:`u_i=G(a_i)x_i` of ``(n, d)`` or ``(frames, n, d)`` unit rows (:math:`G=I` here)."""
        frames, single = check_frames(X)
        return frames[0] if single else frames

    def from_gauge_frame(self, U, aux) -> np.ndarray:
        r"""The points :math:`x_i=G(a_i)^\top u_i` whose gauge frame is ``U`` (:math:`G=I` here)."""
        frames, single = check_frames(U, "U")
        return frames[0] if single else frames

    @abstractmethod
    def bind(self, aux, n: int, d: int) -> Interaction:
        """Validate ``aux`` for ``n`` points in dimension ``d``; precompute label data."""

    @abstractmethod
    def value(self, X, aux, Y=None, aux_Y=None) -> np.ndarray:
        r"""Dense ``(n, m)`` matrix of :math:`K((x_i,a_i),(y_j,b_j))` for unit rows ``X``, ``Y``.

        For inspection and tests: the matrix is refused above 1 GiB (the
        dynamics never form it), and the formula overflows to inf for
        β ≳ 709 exactly as :math:`e^{\beta\langle x,y\rangle}` does (MODEL.md §3).
        """

    @staticmethod
    def _pair(X, aux, Y, aux_Y):
        """Validate the points of :meth:`value`: unit rows, one ``d``, an ``(n, m)`` result that fits."""
        X = check_points(X, "X")
        if Y is None:
            Y, aux_Y = X, aux
        else:
            Y = check_points(Y, "Y")
            if Y.shape[1] != X.shape[1]:
                raise ValueError(f"Y must have d = {X.shape[1]} columns like X, got shape {Y.shape}")
        # The dense matrix is for inspection and tests; large n goes through bind().
        check_array_bytes(float(len(X)) * len(Y), f"the dense {len(X)} x {len(Y)} kernel matrix")
        return X, aux, Y, aux_Y


# --------------------------------------------------------------------------
# Exponential kernels with a weight on the labels (baseline, separated)
# --------------------------------------------------------------------------


def _exp_interaction(beta, n, frame=IDENTITY_FRAME, labels=None, log_weight=None, weight=None):
    r"""One system of an exponential kernel :math:`w\,e^{\beta\langle u,v\rangle}/\beta` in ``frame``.

    :math:`K = \frac1\beta e^{\beta}\,\tilde K`: prefactor :math:`1/\beta`,
    log-scale :math:`\beta` (MODEL.md §3, large β).
    """
    engine = ExpEngine(np.array([beta]), None if labels is None else labels[None], log_weight, weight)
    return Interaction.single(n, beta, 1.0 / beta, frame, engine)


@dataclass(frozen=True)
class USA(Kernel):
    r"""Baseline unnormalised self-attention kernel (MODEL.md §3, the paper's Ex. 1).

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
        object.__setattr__(self, "beta", check_beta(self.beta))

    def bind(self, aux, n, d):
        if aux is not None:
            check_aux(aux, n)
        return _exp_interaction(self.beta, n)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        return np.exp(self.beta * (X @ Y.T)) / self.beta


@dataclass(frozen=True)
class DistanceBias(Kernel):
    r"""Exponential kernel with a nonnegative positional weight (MODEL.md §3; the paper's Ex. 2, 4; App. C).

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
        object.__setattr__(self, "beta", check_beta(self.beta))
        object.__setattr__(self, "length", check_positive_scalar(self.length, "length"))
        check_choice(self.profile, "profile", ("exponential", "gaussian"))

    def log_weight(self, a, b) -> np.ndarray:
        r""":math:`\log w(a_i, b_j)` as an ``(len(a), len(b))`` matrix, for finite reals ``a``, ``b``."""
        return _distance_log_weight(as_float_array(a, "a").ravel(), as_float_array(b, "b").ravel(),
                                    self.length, self.profile)

    def bind(self, aux, n, d):
        aux = _check_positions(aux, n)
        log_weight = DistanceLogWeight(_distance_log_weight, self.profile, np.array([self.length]))
        return _exp_interaction(self.beta, len(aux), labels=aux, log_weight=log_weight)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        a = _check_positions(aux, len(X))
        b = _check_positions(aux_Y, len(Y), "aux_Y")
        return np.exp(_distance_log_weight(a, b, self.length, self.profile) + self.beta * (X @ Y.T)) / self.beta


@dataclass(frozen=True)
class Separated(Kernel):
    r"""General separated kernel :math:`w(a,b)\,e^{\beta\langle x,y\rangle}/\beta` (MODEL.md §3; the paper's Ex. 2).

    Parameters
    ----------
    beta : float
        Inverse temperature, > 0.
    weight : callable
        ``weight(a, b)`` → ``(len(a), len(b))`` matrix of :math:`w(a_i, b_j)`;
        it must be symmetric (checked on every pair of labels at bind time,
        to :data:`SYMMETRY_RTOL`), real and finite, and may change sign (then
        the relative energy gap is undefined: no closed-form maximum is known).
    """

    beta: float
    weight: Callable[[np.ndarray, np.ndarray], np.ndarray]

    def __post_init__(self):
        object.__setattr__(self, "beta", check_beta(self.beta))
        check_callable(self.weight, "weight", "weight(a, b) -> (len(a), len(b)) matrix")

    def _weights(self, a, b):
        w = as_float_array(self.weight(a, b), "weight(a, b)")
        if w.shape != (len(a), len(b)):
            raise ValueError(f"weight(a, b) must return shape ({len(a)}, {len(b)}), got {w.shape}")
        return w

    def bind(self, aux, n, d):
        aux = check_aux(aux, n).astype(np.float64)
        w_min = _scan_symmetric_weight(self._weights, aux)
        weight = SignedWeight((self._weights,), np.array([w_min >= 0.0]))
        return _exp_interaction(self.beta, len(aux), labels=aux, weight=weight)

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        a = check_aux(aux, len(X)).astype(np.float64)
        b = check_aux(aux_Y, len(Y), "aux_Y").astype(np.float64)
        return self._weights(a, b) * np.exp(self.beta * (X @ Y.T)) / self.beta


#: Largest relative asymmetry :math:`|w(a,b)-w(b,a)|` accepted in a weight,
#: relative to :math:`\max(|w(a,b)|,|w(b,a)|)` (floored at the tile's largest
#: :math:`|w|`, for weights that cancel to ~0).  A symmetric formula evaluated
#: in float64 is symmetric to a few ulps (a-b = -(b-a) exactly; sums and
#: products commute), so 1e-12 (~4500 ulps) accepts any honest formula while
#: refusing a real asymmetry: the tiled sums use only the upper triangle of
#: the pairs and would silently symmetrise it into a wrong energy.
SYMMETRY_RTOL = 1e-12


def _scan_symmetric_weight(weights, aux: np.ndarray) -> float:
    """Check ``weights(a, b) == weights(b, a).T`` on every pair of labels; return the smallest weight.

    Square tiles ``I x J`` (``J >= I``) are compared with their transposed
    partners ``J x I``: every pair once, O(n²) time, O(BLOCK_ENTRIES) memory.
    """
    n = len(aux)
    side = max(1, min(n, int(np.sqrt(BLOCK_ENTRIES // 2))))
    smallest = np.inf
    for i0 in range(0, n, side):
        rows = aux[i0:i0 + side]
        for j0 in range(i0, n, side):
            cols = aux[j0:j0 + side]
            upper = weights(rows, cols)
            lower = upper if j0 == i0 else weights(cols, rows)
            smallest = min(smallest, float(upper.min()))
            if np.array_equal(upper, lower.T):
                # an honest formula is symmetric to the bit (a-b = -(b-a) exactly, products commute):
                # one comparison instead of the eight passes of the tolerance below
                continue
            difference = np.abs(upper - lower.T)
            scale = np.maximum(np.maximum(np.abs(upper), np.abs(lower.T)), np.max(np.abs(upper)))
            excess = difference - SYMMETRY_RTOL * scale
            if np.any(excess > 0):
                i, j = np.unravel_index(int(np.argmax(excess)), excess.shape)
                raise ValueError(
                    f"weight must be symmetric, weight(a, b) == weight(b, a).T: at a = aux[{i0 + i}] = "
                    f"{float(rows[i])!r}, b = aux[{j0 + j}] = {float(cols[j])!r}, w(a, b) = {float(upper[i, j])!r} "
                    f"but w(b, a) = {float(lower[j, i])!r} (relative difference "
                    f"{difference[i, j] / scale[i, j]:.2g} > {SYMMETRY_RTOL:g})"
                )
    return smallest


# --------------------------------------------------------------------------
# Gauge kernels: the baseline seen through label-dependent orthogonal maps
# --------------------------------------------------------------------------


class _GaugeKernel(Kernel):
    r"""Shared machinery of the gauge kernels (MODEL.md §3, the paper's eq. (6)).

    .. math:: K((x,a),(y,b)) = \frac1\beta e^{\beta\langle G(a)x,\,G(b)y\rangle},
              \qquad \nabla_xK = e^{\beta\langle G(a)x,G(b)y\rangle}\,G(a)^\top G(b)\,y .

    Forces are evaluated in the gauge frame :math:`u_i = G(a_i)x_i`, where
    the kernel is the baseline: :math:`\frac1n\sum_j\nabla_xK =
    G(a_i)^\top\big(\frac1n\sum_j e^{\beta\langle u_i,u_j\rangle}u_j\big)`.
    Subclasses provide ``_frame(aux, n, d)`` returning the frame of one
    system (a :class:`usaav._interaction.PlaneFrame` or ``MatrixFrame``).
    """

    beta: float
    has_gauge: ClassVar[bool] = True

    @abstractmethod
    def _frame(self, aux, n: int, d: int):
        ...

    def bind(self, aux, n, d):
        return _exp_interaction(self.beta, n, frame=self._frame(aux, n, d))

    def gauge_frame(self, X, aux) -> np.ndarray:
        r"""The gauge-frame points :math:`u_i = G(a_i)x_i` of ``(n, d)`` or ``(frames, n, d)`` unit rows."""
        frames, single = check_frames(X)
        U = self._frame(aux, *frames.shape[1:]).to_gauge(frames[:, None])[:, 0]
        return U[0] if single else U

    def from_gauge_frame(self, U, aux) -> np.ndarray:
        r"""The points :math:`x_i=G(a_i)^\top u_i` whose gauge frame is ``U`` (``(n, d)`` or ``(frames, n, d)``).

        The inverse of :meth:`gauge_frame`; for a limit point :math:`v` of the gauge frame,
        ``from_gauge_frame(np.tile(v, (n, 1)), aux)`` is the maximiser :math:`G(a_i)^\top v` of
        Thm. 1 and Thm. 4 (i) (MODEL.md §4).
        """
        frames, single = check_frames(U, "U")
        X = self._frame(aux, *frames.shape[1:]).from_gauge(frames[:, None])[:, 0]
        return X[0] if single else X

    def value(self, X, aux, Y=None, aux_Y=None):
        X, aux, Y, aux_Y = self._pair(X, aux, Y, aux_Y)
        U = self.gauge_frame(X, aux)
        V = self.gauge_frame(Y, aux_Y)
        return np.exp(self.beta * (U @ V.T)) / self.beta


@dataclass(frozen=True, eq=False)
class Gauge(_GaugeKernel):
    r"""Gauge kernel with a user-supplied gauge :math:`G:\mathcal A\to O(d)` (the paper's eq. (6), Thm. 4).

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
        object.__setattr__(self, "beta", check_beta(self.beta))
        check_callable(self.gauge, "gauge", "gauge(aux) -> (n, d, d) orthogonal matrices")

    def _frame(self, aux, n, d):
        aux = check_aux(aux, n)
        G = check_orthogonal(self.gauge(aux), "gauge(aux)")
        if G.shape != (len(aux), d, d):
            raise ValueError(f"gauge(aux) must return shape ({len(aux)}, {d}, {d}), got {G.shape}")
        return MatrixFrame(G[None])


@dataclass(frozen=True)
class RoPE(_GaugeKernel):
    r"""Rotary positional encoding, gauge :math:`G(s)=R_{\theta s}` (MODEL.md §3; the paper's Ex. 3, Thm. 1).

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
        object.__setattr__(self, "beta", check_beta(self.beta))
        object.__setattr__(self, "theta", check_real(self.theta, "theta"))
        object.__setattr__(self, "plane", check_plane(self.plane))

    def _frame(self, aux, n, d):
        check_plane(self.plane, d)
        s = _check_positions(aux, n)
        return PlaneFrame((self.theta * s)[None], self.plane)


@dataclass(frozen=True, eq=False)
class PhaseField(_GaugeKernel):
    r"""Phase-field kernel, gauge :math:`G(s)=R_{\phi(s)}` (MODEL.md §3; the paper's Thm. 2).

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
        object.__setattr__(self, "beta", check_beta(self.beta))
        check_callable(self.phase, "phase", "phase(s) -> angles of the shape of s")
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
    r"""Finitely many fixed prompts, one orthogonal gauge each (MODEL.md §3; the paper's §4, Cor. 2).

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
        object.__setattr__(self, "beta", check_beta(self.beta))
        gauges = check_orthogonal(self.gauges, "gauges").copy()
        gauges.setflags(write=False)
        object.__setattr__(self, "gauges", gauges)

    def __reduce__(self):
        # pickle and deepcopy rebuild through __init__: a NumPy array unpickles writeable,
        # and a gauge edited after a copy would no longer be orthogonal
        return (type(self), (self.beta, np.array(self.gauges)))

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.beta == other.beta and self.gauges.shape == other.gauges.shape and \
            bool(np.array_equal(self.gauges, other.gauges))

    def __hash__(self):
        return hash((type(self).__name__, self.beta, self.gauges.shape, self.gauges.tobytes()))

    def _frame(self, aux, n, d):
        ids = check_aux(aux, n)
        m = len(self.gauges)
        if ids.dtype.kind == "f":
            fractional = ids != np.round(ids)
            if fractional.any():
                first = int(np.argmax(fractional))
                raise TypeError(
                    f"aux must hold integer prompt ids for Prompts, got aux[{first}] = {float(ids[first])!r}"
                )
        # Range first, in the given dtype: casting 1e300 to int64 would wrap around.
        outside = (ids < 0) | (ids >= m)
        if outside.any():
            first = int(np.argmax(outside))
            raise ValueError(
                f"aux must hold prompt ids in 0..{m - 1} (there are {m} gauges), "
                f"got aux[{first}] = {ids[first].item()!r}"
            )
        ids = ids.astype(np.int64)
        if self.gauges.shape[1] != d:
            raise ValueError(f"gauges act on d = {self.gauges.shape[1]} but X has d = {d} columns")
        return MatrixFrame(self.gauges[ids][None])


# --------------------------------------------------------------------------
# Toeplitz: linear content kernel with a translation-invariant weight
# --------------------------------------------------------------------------


def mode_turns(s, modes) -> np.ndarray:
    r"""The fractional part :math:`\{ks\}=ks-\lfloor ks\rfloor\in[0,1)` of integer modes times positions, to one rounding.

    The Toeplitz phase is :math:`2\pi ks\equiv2\pi\{ks\}\pmod{2\pi}` (MODEL.md §3, Prop. 10);
    formed as ``2 * pi * k * s`` it carries an absolute error of about
    :math:`2\pi k\,\varepsilon` (1e-8 rad at :math:`k=2^{24}`), and two
    codes that multiply in different orders disagree by that much.  Here
    :math:`s=s_{\rm hi}+s_{\rm lo}` (Veltkamp split: :math:`s_{\rm hi}` has 29
    significant bits, :math:`s_{\rm lo}` 24), so for integer
    :math:`0\le k\le2^{24}` both :math:`ks_{\rm hi}` and :math:`ks_{\rm lo}`
    are exact in float64, the fractional part of the first is exact, and
    its sum with the second (below :math:`2^{-5}` in size) is rounded once:
    the result is within :math:`2^{-53}` of :math:`\{ks\}` on the circle of turns.
    Every Toeplitz phase of the library (forces, energy, the bound
    :math:`\lambda_{\max}(C)`, the maximiser, the profile) is
    :math:`2\pi` times this.  For :math:`k>2^{24}` (refused by
    :class:`Toeplitz`) the products are no longer exact.

    Parameters
    ----------
    s : array_like
        Positions (any shape, finite, :math:`|s|\le1`).
    modes : array_like
        Integer modes :math:`0\le k\le2^{24}` (any shape).

    Returns
    -------
    ndarray
        Shape ``s.shape + modes.shape``.

    >>> float(mode_turns(0.75, 3))
    0.25
    >>> float(mode_turns(0.1, 2**24)) == (2**24 * __import__("fractions").Fraction(0.1)) % 1   # exact here
    True
    """
    s = np.asarray(s, dtype=np.float64)
    k = np.asarray(modes, dtype=np.float64)
    scaled = 16777217.0 * s  # (2**24 + 1) s: Veltkamp's split keeps 53 - 24 = 29 bits in the high part
    high = scaled - (scaled - s)
    low = s - high
    product_high = np.multiply.outer(high, k)  # exact: 29 + 24 bits
    product_low = np.multiply.outer(low, k)  # exact: 24 + 24 bits
    # |k s_lo| < 2**-5: added as it is (its own fractional part would round when it is negative), so the one
    # rounding is of a sum in (-1/32, 33/32), at most 2**-53; taking the floor off is then exact (or below
    # 2**-54 when the sum was negative).
    turns = (product_high - np.floor(product_high)) + product_low
    return turns - np.floor(turns)


@dataclass(frozen=True, eq=False)
class Toeplitz(Kernel):
    r"""Linear content kernel with a Toeplitz positional weight (MODEL.md §3; the paper's Prop. 10, Ex. 6).

    .. math:: K((x,a),(y,b)) = c(a-b)\,\langle x,y\rangle,
              \qquad c(r) = \sum_k c_k\cos(2\pi k r),

    so :math:`\hat c(0)=c_0` and :math:`\hat c(\pm k)=c_k/2` for :math:`k\ge1`.
    Forces cost O(n · modes · d) time and O(n · modes) memory through
    :math:`\cos 2\pi k(a-b) = \cos2\pi ka\cos2\pi kb + \sin2\pi ka\sin2\pi kb`.

    Two bounds on the energy (MODEL.md §4, Prop. 10 row):
    :meth:`energy_bound`, the mean-field maximum :math:`\frac12\max_k\hat c(k)`,
    and :meth:`finite_energy_bound`, :math:`\lambda_{\max}(C)/(2n)` with
    :math:`C_{ij}=c(a_i-a_j)`, a bound on :math:`E_n` for *any* labels.  They
    agree on the uniform grid when :math:`n>2\max k`; the relative energy gap
    uses the second.

    Parameters
    ----------
    coefficients : mapping
        ``{k: c_k}`` with integer ``0 <= k <= MAX_MODE`` and real ``c_k``;
        kept as a read-only mapping, sorted by ``k``.

    Examples
    --------
    >>> Toeplitz({1: 1.0}).energy_bound()  # c(r) = cos 2πr: max ĉ / 2 = 1/4
    0.25
    >>> round(Toeplitz({1: 1.0}).finite_energy_bound([0.0, 0.0, 0.5]), 12)  # off the grid: λ_max(C) = 3
    0.5
    """

    coefficients: Mapping

    #: Highest accepted mode: up to it the phase 2πk·s is reduced mod 2π exactly
    #: (:func:`mode_turns`); beyond, k·s would no longer be formed exactly.
    MAX_MODE = 2**24

    def __post_init__(self):
        if not isinstance(self.coefficients, Mapping) or not self.coefficients:
            raise TypeError(f"coefficients must be a non-empty dict {{k: c_k}}, got {self.coefficients!r}")
        clean = {}
        for k, c in self.coefficients.items():
            k = check_int(k, "coefficients key k", minimum=0, maximum=self.MAX_MODE)
            clean[k] = check_real(c, f"coefficients[{k}]")
        object.__setattr__(self, "coefficients", MappingProxyType(dict(sorted(clean.items()))))

    def __reduce__(self):
        # a mappingproxy does not pickle: rebuild from a plain dict through __init__
        return (type(self), (dict(self.coefficients),))

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return dict(self.coefficients) == dict(other.coefficients)

    def __hash__(self):
        return hash((type(self).__name__, tuple(self.coefficients.items())))

    def __repr__(self):
        return f"{type(self).__name__}(coefficients={dict(self.coefficients)!r})"

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
        r"""Mean-field maximum :math:`\frac12\max_k\hat c(k)` (Prop. 10); at least 0 (:math:`\hat c(k)=0` off the support).

        A bound on :math:`\mathcal E` and, on the uniform grid with
        :math:`n>2\max k`, on :math:`E_n`.  Off the grid :math:`E_n` may exceed
        it: use :meth:`finite_energy_bound`.
        """
        return 0.5 * max(0.0, max(self.fourier().values()))

    def finite_energy_bound(self, positions) -> float:
        r"""Bound :math:`E_n\le\lambda_{\max}(C)/(2n)`, :math:`C_{ij}=c(a_i-a_j)`, valid for any labels (Prop. 10).

        Rayleigh quotient: :math:`E_n=\frac1{2n^2}\sum_{ij}C_{ij}\langle x_i,x_j\rangle
        \le\lambda_{\max}(C)\sum_i|x_i|^2/(2n^2)`.  Computed without forming
        :math:`C`: with :math:`F=[\cos2\pi ka,\ \sin2\pi ka]_k` (``n x p``,
        ``p <= 2 modes``) and :math:`A` the amplitudes, :math:`C=FAF^\top`; if
        :math:`F=QR`, the nonzero eigenvalues of :math:`C` are those of the
        ``p x p`` matrix :math:`RAR^\top`, and 0 is one more when
        :math:`p<n`.  O(n p²) time, O(n p) memory.  Equals
        :meth:`energy_bound` on the uniform grid when :math:`n>2\max k`.

        Parameters
        ----------
        positions : (n,) array_like
            Positions in [0, 1].
        """
        values = check_aux(positions, None, "positions")
        s = _check_positions(values, len(values), "positions")
        if s.size == 0:
            raise ValueError("positions must hold at least one position")
        return self._top_eigenvalue(s) / (2.0 * s.size)

    def _top_eigenvalue(self, s: np.ndarray) -> float:
        r""":math:`\lambda_{\max}(C)` for validated positions ``s`` (see :meth:`finite_energy_bound`)."""
        n = s.size
        columns, weights = [], []
        for k, c in self.coefficients.items():
            if c == 0.0:
                continue
            if k == 0:
                columns.append(np.ones(n))
                weights.append(c)
            else:
                phase = 2 * np.pi * mode_turns(s, k)  # the same phases as bind's (exact reduction)
                columns += [np.cos(phase), np.sin(phase)]
                weights += [c, c]
        if not columns:
            return 0.0
        R = np.linalg.qr(np.stack(columns, axis=1), mode="r")  # (min(n, p), p)
        with np.errstate(over="ignore", invalid="ignore"):
            small = (R * np.array(weights)) @ R.T
        if not np.all(np.isfinite(small)):
            raise ValueError("coefficients are too large: the bound lambda_max(C) overflows float64")
        top = float(np.linalg.eigvalsh(small)[-1])
        if R.shape[0] < n:  # rank C <= p < n: 0 is an eigenvalue of C as well
            top = max(top, 0.0)
        # |C| <= n Σ|c_k|; eigenvalues carry an absolute round-off ~ p eps |C|:
        # a λ_max that small is 0 (and then the relative energy gap is undefined).
        if abs(top) <= 64 * len(weights) * np.finfo(np.float64).eps * n * sum(abs(c) for c in weights):
            top = 0.0
        return top

    def profile(self, r) -> np.ndarray:
        r"""The weight :math:`c(r)=\sum_kc_k\cos 2\pi kr` (any shape; memory ``r.size x modes``)."""
        r = np.mod(as_float_array(r, "r"), 1.0)  # c is 1-periodic; keeps 2πkr finite for huge r
        check_array_bytes(float(r.size) * len(self.coefficients), f"profile of {r.size} values")
        return np.cos(2 * np.pi * mode_turns(r, self.modes)) @ self.amplitudes

    def bind(self, aux, n, d):
        s = _check_positions(aux, n)
        check_array_bytes(3.0 * n * len(self.coefficients), f"the Toeplitz phases of {n} labels")
        phases = 2 * np.pi * mode_turns(s, self.modes)  # (n, modes), reduced exactly mod 2π
        engine = ToeplitzEngine(
            np.cos(phases)[None], np.sin(phases)[None], self.amplitudes[None],
            # pair_sum = Σ_ij C_ij <x_i, x_j> <= λ_max(C) Σ_i |x_i|² = n λ_max(C) for any labels
            # (Prop. 10); ½ max ĉ is the bound on the uniform grid only.
            np.array([n * self._top_eigenvalue(s)]),
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


def check_kernel(kernel) -> Kernel:
    """``kernel`` if it is a usaav kernel, else a ``TypeError`` saying what was given (a list asks for a batch)."""
    if not isinstance(kernel, Kernel):
        if isinstance(kernel, (list, tuple)):
            raise TypeError(
                f"kernel is a sequence of {len(kernel)} kernels, which needs a batch: X of shape (B, n, d)"
            )
        raise TypeError(
            f"kernel must be a usaav kernel (USA, RoPE, Prompts, ...), got {type(kernel).__name__}"
        )
    return kernel


def check_finite_result(values, what: str, interaction: Interaction, clock: str = "rescaled"):
    r"""``values`` if all are finite; else a ``ValueError`` saying that ``what`` overflowed float64.

    A result computed from a bound kernel overflows when its weights or
    coefficients are huge, or in the raw clock (the factor :math:`e^\beta`,
    MODEL.md §3) near :math:`\beta=709`; the message names ``what`` and, in
    the raw clock, the value of :math:`\beta` and the rescaled clock as the way out.
    """
    if not np.all(np.isfinite(values)):
        largest = float(np.max(interaction.log_scale))
        hint = (f", or beta = {largest:g} too large for clock='raw' (use clock='rescaled', "
                "MODEL.md §3)" if clock == "raw" and largest > 0 else "")
        raise ValueError(
            f"{what} overflows float64: the kernel's weights or coefficients are too large for this many "
            f"particles{hint}"
        )
    return values


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
