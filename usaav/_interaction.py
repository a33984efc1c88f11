r"""Kernels bound to their labels, for one system or a batch of systems (MODEL.md §2, §3).

An :class:`Interaction` is what the dynamics see of a kernel once its labels
are fixed: the sums of MODEL.md §2 as functions of the points alone.  It is
assembled from two kinds of small frozen pieces:

* a **frame** :math:`u_i = G(a_i)x_i` (identity, a rotation in a coordinate
  plane, or one orthogonal matrix per particle), in which every gauge
  kernel is the baseline (MODEL.md §3);
* a **pair engine** computing, in that frame, the forces and the pair sum:
  :class:`ExpEngine` (exponential kernels with an optional label weight,
  through :mod:`usaav._pairwise`) or :class:`ToeplitzEngine` (the linear
  content kernel, through its Fourier modes).

Every array of a piece has a leading *batch* axis, one entry per system.  A
piece whose batch axis has length 1 is shared: it applies to any number of
systems (one kernel and one set of labels for a whole batch costs nothing
extra).  Interactions of single systems are *stacked* into the interaction
of a batch: systems whose frames (or engines) are of the same kind share one
stacked piece, so that, for instance, the baseline, RoPE and prompt systems
of a batch are all computed by one tiled pass of the exponential engine.
Each operation on a stack does for each system exactly what it would do on
its own, so a batch gives bitwise the results of separate runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from ._pairwise import exp_attention
from .sphere import _rotate_in_plane as rotate_in_plane

__all__ = ["ExpEngine", "Interaction", "MatrixFrame", "PlaneFrame", "ToeplitzEngine", "IDENTITY_FRAME"]


def _take(array: np.ndarray | None, systems: np.ndarray) -> np.ndarray | None:
    """Rows ``systems`` of a per-system array; a shared (length-1) array is kept as it is."""
    if array is None or len(array) == 1:
        return array
    return array[systems]


def _concatenate(arrays: Sequence[np.ndarray | None]) -> np.ndarray | None:
    if arrays[0] is None:
        return None
    return np.concatenate(arrays)


# --------------------------------------------------------------------------
# Frames: u_i = G(a_i) x_i, acting on arrays (..., B, n, d)
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IdentityFrame:
    """No gauge: :math:`u_i = x_i` (baseline, separated and Toeplitz kernels)."""

    @property
    def key(self):
        return ("identity",)

    def to_gauge(self, X):
        return X

    def from_gauge(self, U):
        return U

    def take(self, systems):
        return self

    @staticmethod
    def stack(frames):
        return frames[0]


IDENTITY_FRAME = IdentityFrame()


@dataclass(frozen=True, eq=False)
class PlaneFrame:
    r"""Rotation of each particle by its own angle in one coordinate plane, :math:`G(a_i)=R_{\varphi_i}`.

    ``angles`` has shape ``(B, n)`` (RoPE: :math:`\varphi_i=\theta s_i`; phase
    field: :math:`\varphi_i=\phi(s_i)`).
    """

    angles: np.ndarray
    plane: tuple[int, int]

    @property
    def key(self):
        return ("plane", self.plane)

    def to_gauge(self, X):
        return rotate_in_plane(X, self.angles, self.plane)

    def from_gauge(self, U):
        return rotate_in_plane(U, -self.angles, self.plane)

    def take(self, systems):
        return replace(self, angles=_take(self.angles, systems))

    @staticmethod
    def stack(frames):
        return replace(frames[0], angles=_concatenate([f.angles for f in frames]))


@dataclass(frozen=True, eq=False)
class MatrixFrame:
    r"""One orthogonal matrix per particle, ``G`` of shape ``(B, n, d, d)`` (general gauge, prompts).

    :math:`u_a=\sum_b G_{ab}x_b` and back :math:`x_b=\sum_a G_{ab}u_a`, summed
    one coordinate at a time so that the order of the additions (hence
    every bit of the result) does not depend on the shape of the batch.
    """

    G: np.ndarray

    @property
    def key(self):
        return ("matrix",)

    def to_gauge(self, X):
        G = self.G
        U = G[..., :, 0] * X[..., 0, None]
        for b in range(1, X.shape[-1]):
            U += G[..., :, b] * X[..., b, None]
        return U

    def from_gauge(self, U):
        G = self.G
        X = G[..., 0, :] * U[..., 0, None]
        for a in range(1, U.shape[-1]):
            X += G[..., a, :] * U[..., a, None]
        return X

    def take(self, systems):
        return replace(self, G=_take(self.G, systems))

    @staticmethod
    def stack(frames):
        return MatrixFrame(_concatenate([f.G for f in frames]))


# --------------------------------------------------------------------------
# Pair engines: forces and pair sums in the frame, for U of shape (B, n, d)
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DistanceLogWeight:
    r""":math:`\log w(a,b)` of the distance-bias kernels, one correlation length per system.

    ``formula(a, b, length, profile)`` is the kernel's own weight
    (``usaav.kernels._distance_log_weight``); ``lengths`` has shape ``(B,)``.
    """

    formula: Callable
    profile: str
    lengths: np.ndarray

    def __call__(self, systems, a_I, a_J):
        return self.formula(a_I, a_J, _take(self.lengths, systems)[:, None, None], self.profile)

    def take(self, systems):
        return replace(self, lengths=_take(self.lengths, systems))

    @staticmethod
    def stack(parts):
        return replace(parts[0], lengths=_concatenate([p.lengths for p in parts]))


@dataclass(frozen=True, eq=False)
class SignedWeight:
    """A user weight ``w(a, b)`` (any sign) per system, called tile by tile on one system."""

    weights: tuple
    bounded: np.ndarray  # (B,) bool: w >= 0 everywhere, so that the maximum energy is known

    def __call__(self, system, a_I, a_J):
        return self.weights[system if len(self.weights) > 1 else 0](a_I, a_J)

    def take(self, systems):
        if len(self.weights) == 1:
            return self
        return SignedWeight(tuple(self.weights[s] for s in systems), self.bounded[systems])

    @staticmethod
    def stack(parts):
        return SignedWeight(sum((p.weights for p in parts), ()), np.concatenate([p.bounded for p in parts]))


@dataclass(frozen=True, eq=False)
class ExpEngine:
    r"""Exponential kernels :math:`w(a,b)e^{\beta(\langle u,v\rangle-1)}` in the frame (MODEL.md §3).

    ``beta`` has shape ``(B,)``; ``labels`` ``(B, n)`` (or ``None`` without a
    weight); at most one of ``log_weight`` (:class:`DistanceLogWeight`) and
    ``weight`` (:class:`SignedWeight`).
    """

    beta: np.ndarray
    labels: np.ndarray | None = None
    log_weight: DistanceLogWeight | None = None
    weight: SignedWeight | None = None

    @property
    def key(self):
        if self.log_weight is not None:
            return ("exp", "log_weight", self.log_weight.formula, self.log_weight.profile)
        return ("exp", "weight" if self.weight is not None else "plain")

    def _run(self, U, want_force, want_sum):
        return exp_attention(U, self.beta, labels=self.labels, log_weight=self.log_weight,
                             weight=self.weight, want_force=want_force, want_sum=want_sum)

    def forces(self, U):
        return self._run(U, True, False)[0]

    def pair_sums(self, U):
        return self._run(U, False, True)[1]

    def pair_sum_max(self, B: int, n: int) -> np.ndarray:
        """Largest pair sum of each system, NaN where no closed form is known (MODEL.md §4, Prop. 11)."""
        if self.log_weight is None and self.weight is None:
            # K <= e^β/β pointwise, attained by any constant configuration (MODEL.md §4).
            return np.full(B, float(n) ** 2)
        # Prop. 11: with w >= 0 every term is largest when all u_i coincide, so the
        # maximum of the pair sum is its value at a constant configuration.
        constant = np.zeros((B, n, 2))
        constant[..., 0] = 1.0
        totals = self.pair_sums(constant)
        if self.weight is not None:
            totals = np.where(np.broadcast_to(self.weight.bounded, (B,)), totals, np.nan)
        return totals

    def take(self, systems):
        return ExpEngine(
            _take(self.beta, systems), _take(self.labels, systems),
            None if self.log_weight is None else self.log_weight.take(systems),
            None if self.weight is None else self.weight.take(systems),
        )

    @staticmethod
    def stack(engines):
        first = engines[0]
        return ExpEngine(
            _concatenate([e.beta for e in engines]),
            _concatenate([e.labels for e in engines]),
            None if first.log_weight is None else type(first.log_weight).stack([e.log_weight for e in engines]),
            None if first.weight is None else SignedWeight.stack([e.weight for e in engines]),
        )


@dataclass(frozen=True, eq=False)
class ToeplitzEngine:
    r"""Linear content kernel :math:`c(a-b)\langle x,y\rangle` through its Fourier modes (MODEL.md §3, Prop. 10).

    With :math:`c(r)=\sum_k c_k\cos 2\pi kr` and
    :math:`\cos2\pi k(a-b)=\cos2\pi ka\cos2\pi kb+\sin2\pi ka\sin2\pi kb`, the
    forces cost O(n · modes · d).  ``cos`` and ``sin`` have shape
    ``(B, n, modes)``, ``amplitudes`` ``(B, modes)``, ``bound`` ``(B,)``.
    """

    cos: np.ndarray
    sin: np.ndarray
    amplitudes: np.ndarray
    bound: np.ndarray

    @property
    def key(self):
        return ("toeplitz", self.amplitudes.shape[-1])

    def _moments(self, U):
        return (np.matmul(self.cos.transpose(0, 2, 1), U),
                np.matmul(self.sin.transpose(0, 2, 1), U))  # (B, modes, d) each

    def forces(self, U):
        C, S = self._moments(U)
        weights = self.amplitudes[..., None]
        return (np.matmul(self.cos, weights * C) + np.matmul(self.sin, weights * S)) / U.shape[-2]

    def pair_sums(self, U):
        C, S = self._moments(U)
        power = np.sum(C * C, axis=-1) + np.sum(S * S, axis=-1)  # (B, modes)
        amplitudes = np.broadcast_to(self.amplitudes, power.shape)
        return np.matmul(amplitudes[:, None, :], power[:, :, None])[:, 0, 0]

    def pair_sum_max(self, B: int, n: int) -> np.ndarray:
        return np.broadcast_to(self.bound, (B,)).copy()

    def take(self, systems):
        return ToeplitzEngine(_take(self.cos, systems), _take(self.sin, systems),
                              _take(self.amplitudes, systems), _take(self.bound, systems))

    @staticmethod
    def stack(engines):
        return ToeplitzEngine(*(np.concatenate([getattr(e, f) for e in engines])
                                for f in ("cos", "sin", "amplitudes", "bound")))


# --------------------------------------------------------------------------
# The interaction: frames and engines over (subsets of) the systems
# --------------------------------------------------------------------------

#: ``((systems, piece), ...)``: ``systems`` is ``None`` (every system) or an index array.
Parts = tuple


def _group(pieces: list) -> Parts:
    """Stack pieces of the same kind; one part per kind, in order of first appearance."""
    kinds: dict = {}
    for index, piece in enumerate(pieces):
        kinds.setdefault(piece.key, []).append(index)
    if len(kinds) == 1:
        return ((None, type(pieces[0]).stack(pieces)),)
    return tuple((np.array(indices), type(pieces[indices[0]]).stack([pieces[i] for i in indices]))
                 for indices in kinds.values())


def _apply(parts: Parts, method: str, X: np.ndarray) -> np.ndarray:
    """Call ``piece.method`` on the systems of each part and reassemble the results.

    The systems are axis ``-3`` of ``X`` (``(..., B, n, d)``); the results
    keep that axis where ``X`` has it (``(..., B, n, d)`` or ``(B,)``).
    """
    if len(parts) == 1 and parts[0][0] is None:
        return getattr(parts[0][1], method)(X)
    axis = X.ndim - 3
    out = None
    for systems, piece in parts:
        index = (slice(None),) * axis + (systems,)
        value = getattr(piece, method)(X[index])
        if out is None:
            out = np.empty(value.shape[:axis] + (X.shape[axis],) + value.shape[axis + 1:], dtype=value.dtype)
        out[index] = value
    return out


@dataclass(frozen=True, eq=False)
class Interaction:
    r"""A kernel bound to fixed labels, for one system or a batch: the sums the dynamics need.

    With :math:`K = c\,e^\sigma\tilde K` (``prefactor`` :math:`c`,
    ``log_scale`` :math:`\sigma`, one per system), for points ``X`` of shape
    ``(B, n, d)`` (or ``(n, d)`` for one system):

    * ``drift(X)`` returns :math:`\frac1n\sum_j e^{-\sigma}\nabla_xK(z_i,z_j)`
      (unprojected; MODEL.md §2), same shape as ``X``;
    * ``pair_sum(X)`` returns :math:`S=\sum_{i,j}\tilde K(z_i,z_j)`, so that
      :math:`E_n = c\,e^\sigma S/(2n^2)` (MODEL.md §2): a float for one
      system, ``(B,)`` for a batch;
    * ``gauge_frame(X)`` returns :math:`u_i=G(a_i)x_i` (identity for
      kernels without a gauge); ``X`` may carry leading axes (frames);
    * ``pair_sum_max()`` is the largest possible ``pair_sum`` where a theorem
      gives it (MODEL.md §4): a float or ``None`` for one system, ``(B,)``
      with NaN where unknown for a batch.

    ``batch`` is the number of systems the labels describe; an interaction
    with ``batch == 1`` is shared by any number of systems.

    Attributes
    ----------
    n : int
    log_scale, prefactor : (batch,) ndarray
    frames, engines : tuple of (systems, piece)
        Which frame and which pair engine act on which systems
        (``systems`` is ``None`` for all of them).
    """

    n: int
    log_scale: np.ndarray
    prefactor: np.ndarray
    frames: Parts
    engines: Parts

    @classmethod
    def single(cls, n: int, log_scale: float, prefactor: float, frame, engine) -> "Interaction":
        """The interaction of one system (batch axis of length 1 everywhere)."""
        return cls(n, np.array([float(log_scale)]), np.array([float(prefactor)]),
                   ((None, frame),), ((None, engine),))

    @property
    def batch(self) -> int:
        return len(self.log_scale)

    # -- the sums -----------------------------------------------------------

    def _batched(self, X: np.ndarray) -> tuple[np.ndarray, bool]:
        if X.ndim == 2:
            return X[None], True
        return X, False

    def drift(self, X: np.ndarray) -> np.ndarray:
        Xb, single = self._batched(X)
        U = _apply(self.frames, "to_gauge", Xb)
        F = _apply(self.engines, "forces", U)
        V = _apply(self.frames, "from_gauge", F)
        return V[0] if single else V

    def pair_sum(self, X: np.ndarray):
        Xb, single = self._batched(X)
        totals = _apply(self.engines, "pair_sums", _apply(self.frames, "to_gauge", Xb))
        return float(totals[0]) if single else totals

    def gauge_frame(self, X: np.ndarray) -> np.ndarray:
        Xb, single = self._batched(X)
        U = _apply(self.frames, "to_gauge", Xb)
        return U[0] if single else U

    def pair_sum_max(self):
        B = self.batch
        out = np.empty(B)
        for systems, engine in self.engines:
            count = B if systems is None else len(systems)
            values = engine.pair_sum_max(count, self.n)
            if systems is None:
                out[:] = values
            else:
                out[systems] = values
        if B == 1:
            return None if np.isnan(out[0]) else float(out[0])
        return out

    # -- batches ------------------------------------------------------------

    def take(self, systems) -> "Interaction":
        """The interaction of the systems ``systems`` (an index array) of this batch."""
        if self.batch == 1:
            return self
        systems = np.asarray(systems, dtype=np.int64)
        return Interaction(self.n, self.log_scale[systems], self.prefactor[systems],
                           _take_parts(self.frames, systems), _take_parts(self.engines, systems))

    @classmethod
    def stack(cls, interactions: Sequence["Interaction"]) -> "Interaction":
        """The interaction of a batch whose systems are those of ``interactions`` (each of batch 1)."""
        n = interactions[0].n
        return cls(
            n,
            np.concatenate([i.log_scale for i in interactions]),
            np.concatenate([i.prefactor for i in interactions]),
            _group([i.frames[0][1] for i in interactions]),
            _group([i.engines[0][1] for i in interactions]),
        )


def _take_parts(parts: Parts, systems: np.ndarray) -> Parts:
    """Restrict parts to ``systems`` (sorted indices into the batch), renumbering them."""
    if len(parts) == 1 and parts[0][0] is None:
        return ((None, parts[0][1].take(systems)),)
    out = []
    for own, piece in parts:
        inside = np.flatnonzero(np.isin(own, systems))
        if inside.size:
            out.append((np.searchsorted(systems, own[inside]), piece.take(inside)))
    if len(out) == 1 and len(out[0][0]) == len(systems):
        return ((None, out[0][1]),)
    return tuple(out)
