r"""Independent reference implementations for the test suite.

Everything here is written from the formulas of MODEL.md (§1 rotations,
§2 dynamics and energy, §3 kernels) with plain loops and small NumPy
expressions.  None of it calls the code under test (``usaav.kernels``'
``value``/``bind``, ``usaav._pairwise``, ``usaav.sphere.rotation``), so a
test comparing the library with these functions compares two independent
computations.

A *case* bundles a kernel of the library with the same kernel written out
by hand: ``pair(x, a, Y, B)`` returns :math:`K((x,a),(y_j,b_j))` for the rows
of ``Y`` and ``grad(x, a, Y, B)`` returns :math:`\nabla_xK((x,a),(y_j,b_j))`
(MODEL.md §3, table), one row per ``j``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from usaav import kernels

# --------------------------------------------------------------------------
# Geometry written from MODEL.md §1
# --------------------------------------------------------------------------


def plane_rotation(angle: float, d: int, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""The matrix :math:`R_\varphi` of MODEL.md §1, entry by entry.

    :math:`R e_i=\cos\varphi\,e_i+\sin\varphi\,e_j`, :math:`R e_j=-\sin\varphi\,e_i+\cos\varphi\,e_j`,
    identity elsewhere (column ``k`` of the matrix is :math:`R e_k`).
    """
    i, j = plane
    R = np.eye(d)
    R[i, i] = np.cos(angle)
    R[j, i] = np.sin(angle)
    R[i, j] = -np.sin(angle)
    R[j, j] = np.cos(angle)
    return R


def random_orthogonal(m: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` orthogonal ``d x d`` matrices: QR of Gaussian matrices, signs fixed (Haar)."""
    out = np.empty((m, d, d))
    for p in range(m):
        Q, R = np.linalg.qr(rng.standard_normal((d, d)))
        out[p] = Q * np.sign(np.diag(R))
    return out


def gram_schmidt_rotations(Z: np.ndarray) -> np.ndarray:
    """Rotations from Gaussian matrices ``Z`` (m, d, d), by classical Gram–Schmidt on the columns.

    Gram–Schmidt gives the QR factorisation whose R has a positive diagonal
    directly (no LAPACK, no sign fix); where the determinant is -1 the
    first column is negated.  The reference for ``usaav.sphere.haar_rotations``.
    """
    m, d, _ = Z.shape
    out = np.empty_like(Z)
    for p in range(m):
        for k in range(d):
            column = Z[p, :, k].copy()
            for j in range(k):
                column -= (out[p, :, j] @ Z[p, :, k]) * out[p, :, j]
            out[p, :, k] = column / np.sqrt(column @ column)
        if np.linalg.det(out[p]) < 0:
            out[p, :, 0] *= -1.0
    return out


def random_sphere(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points on the sphere: normalised Gaussians (not ``usaav.uniform_sphere``)."""
    Z = rng.standard_normal((n, d))
    return Z / np.sqrt(np.sum(Z * Z, axis=1))[:, None]


def torus_distance(a, b):
    """Distance on R/Z: the shorter way round (MODEL.md §1); broadcasts."""
    r = np.abs(np.asarray(a) - np.asarray(b)) % 1.0
    return np.minimum(r, 1.0 - r)


# --------------------------------------------------------------------------
# Kernel cases: library kernel + the formula written by hand
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A library kernel and its hand-written formula (see the module docstring)."""

    name: str
    make_kernel: Callable[[int], kernels.Kernel]  # d -> kernel
    make_aux: Callable[[int, np.random.Generator], np.ndarray]  # (n, rng) -> labels
    pair: Callable  # (x, a, Y, B) -> (m,) kernel values
    grad: Callable  # (x, a, Y, B) -> (m, d) gradients in x
    gauge: Callable | None = None  # (a, d) -> G(a), for gauge kernels


def _positions(n, rng):
    return rng.random(n)


def _exp_pair(beta, weight):
    r""":math:`w(a,b)e^{\beta\langle x,y\rangle}/\beta` and its gradient :math:`w(a,b)e^{\beta\langle x,y\rangle}y`."""

    def pair(x, a, Y, B):
        return weight(a, B) * np.exp(beta * (Y @ x)) / beta

    def grad(x, a, Y, B):
        return (weight(a, B) * np.exp(beta * (Y @ x)))[:, None] * Y

    return pair, grad


def _gauge_pair(beta, G):
    r""":math:`e^{\beta\langle G(a)x,G(b)y\rangle}/\beta` and its gradient :math:`e^{\cdots}G(a)^\top G(b)y`."""

    cache = {}

    def matrix(b, d):
        key = (float(b), d)
        if key not in cache:
            cache[key] = G(b, d)
        return cache[key]

    def frame(Y, B):
        d = Y.shape[1]
        return np.einsum("jab,jb->ja", np.stack([matrix(b, d) for b in B]), Y)

    def pair(x, a, Y, B):
        u = matrix(a, x.size) @ x
        return np.exp(beta * (frame(Y, B) @ u)) / beta

    def grad(x, a, Y, B):
        Ga = matrix(a, x.size)
        V = frame(Y, B)
        return np.exp(beta * (V @ (Ga @ x)))[:, None] * (V @ Ga)

    return pair, grad


# -- baseline ---------------------------------------------------------------
BETA_USA = 1.3
_usa_pair, _usa_grad = _exp_pair(BETA_USA, lambda a, b: 1.0)
USA_CASE = Case("usa", lambda d: kernels.USA(BETA_USA), _positions, _usa_pair, _usa_grad)

# -- distance bias, both profiles (w = e^{-dist/l} or e^{-dist^2/(2 l^2)}) -----
BETA_DB, LENGTH_DB = 1.1, 0.3
_dbe_pair, _dbe_grad = _exp_pair(BETA_DB, lambda a, b: np.exp(-torus_distance(a, b) / LENGTH_DB))
DB_EXP_CASE = Case(
    "distance_bias_exponential",
    lambda d: kernels.DistanceBias(BETA_DB, LENGTH_DB, "exponential"),
    _positions, _dbe_pair, _dbe_grad,
)
_dbg_pair, _dbg_grad = _exp_pair(
    BETA_DB, lambda a, b: np.exp(-torus_distance(a, b) ** 2 / (2 * LENGTH_DB**2))
)
DB_GAUSS_CASE = Case(
    "distance_bias_gaussian",
    lambda d: kernels.DistanceBias(BETA_DB, LENGTH_DB, "gaussian"),
    _positions, _dbg_pair, _dbg_grad,
)

# -- separated with a sign-changing weight w(a,b) = cos 2π(a-b) + 0.2 ----------
BETA_SEP = 0.9


def signed_weight(a, b):
    """Vectorised weight handed to the library: an (len(a), len(b)) matrix."""
    return np.cos(2 * np.pi * np.subtract.outer(a, b)) + 0.2


_sep_pair, _sep_grad = _exp_pair(BETA_SEP, lambda a, b: np.cos(2 * np.pi * (a - b)) + 0.2)
SEPARATED_CASE = Case(
    "separated_signed",
    lambda d: kernels.Separated(BETA_SEP, signed_weight),
    _positions, _sep_pair, _sep_grad,
)

# -- general gauge: a fixed orthogonal matrix times two position rotations ------
BETA_GAUGE = 1.1


@lru_cache(maxsize=None)
def _haar(d: int, seed: int, m: int = 1) -> np.ndarray:
    """Cached Haar matrices (the reference loops ask for them once per pair)."""
    Q = random_orthogonal(m, d, np.random.default_rng(seed))
    Q.setflags(write=False)
    return Q


@lru_cache(maxsize=None)
def _wavy_gauge_cached(a: float, d: int) -> np.ndarray:
    G = _haar(d, 1000 + d)[0] @ plane_rotation(2 * np.pi * a, d, (0, 1)) @ plane_rotation(
        0.5 * np.sin(2 * np.pi * a), d, (0, d - 1)
    )
    G.setflags(write=False)
    return G


def wavy_gauge(a: float, d: int) -> np.ndarray:
    r""":math:`G(a) = Q_d\,R^{(0,1)}_{2\pi a}\,R^{(0,d-1)}_{0.5\sin 2\pi a}` with a fixed Haar :math:`Q_d`."""
    return _wavy_gauge_cached(float(a), int(d))


def wavy_gauge_stack(d: int) -> Callable[[np.ndarray], np.ndarray]:
    """The callable ``gauge(aux) -> (n, d, d)`` handed to :class:`usaav.kernels.Gauge`."""

    def gauge(aux):
        return np.stack([wavy_gauge(float(a), d) for a in aux])

    return gauge


_gauge_case_pair, _gauge_case_grad = _gauge_pair(BETA_GAUGE, wavy_gauge)
GAUGE_CASE = Case(
    "gauge",
    lambda d: kernels.Gauge(BETA_GAUGE, wavy_gauge_stack(d)),
    _positions, _gauge_case_pair, _gauge_case_grad, wavy_gauge,
)

# -- RoPE in the non-default plane (d-1, 0), theta = 3 ---------------------------
BETA_ROPE, THETA_ROPE = 1.2, 3.0


def rope_plane(d: int) -> tuple[int, int]:
    return (d - 1, 0)


def rope_gauge(s: float, d: int) -> np.ndarray:
    return plane_rotation(THETA_ROPE * s, d, rope_plane(d))


_rope_pair, _rope_grad = _gauge_pair(BETA_ROPE, rope_gauge)
ROPE_CASE = Case(
    "rope_plane_last_first",
    lambda d: kernels.RoPE(BETA_ROPE, THETA_ROPE, rope_plane(d)),
    _positions, _rope_pair, _rope_grad, rope_gauge,
)

# -- phase field phi(s) = 2π s + 0.7 sin 4π s in the plane (1, 0) ---------------
BETA_PHASE = 0.8
PHASE_PLANE = (1, 0)


def wavy_phase(s):
    return 2 * np.pi * np.asarray(s) + 0.7 * np.sin(4 * np.pi * np.asarray(s))


def phase_gauge(s: float, d: int) -> np.ndarray:
    return plane_rotation(float(wavy_phase(s)), d, PHASE_PLANE)


_phase_pair, _phase_grad = _gauge_pair(BETA_PHASE, phase_gauge)
PHASE_CASE = Case(
    "phase_field",
    lambda d: kernels.PhaseField(BETA_PHASE, wavy_phase, PHASE_PLANE),
    _positions, _phase_pair, _phase_grad, phase_gauge,
)

# -- three fixed prompts with Haar gauges ----------------------------------------
BETA_PROMPTS, N_PROMPTS = 1.0, 3


def prompt_gauges(d: int) -> np.ndarray:
    return _haar(d, 2000 + d, N_PROMPTS)


def prompt_gauge(p, d: int) -> np.ndarray:
    return prompt_gauges(d)[int(p)]


_prompt_pair, _prompt_grad = _gauge_pair(BETA_PROMPTS, prompt_gauge)
PROMPTS_CASE = Case(
    "prompts",
    lambda d: kernels.Prompts(BETA_PROMPTS, prompt_gauges(d)),
    lambda n, rng: rng.integers(0, N_PROMPTS, n),
    _prompt_pair, _prompt_grad, prompt_gauge,
)

# -- Toeplitz c(r) = 0.3 + cos 2πr - 0.5 cos 6πr ----------------------------------
TOEPLITZ_COEFFICIENTS = {0: 0.3, 1: 1.0, 3: -0.5}


def toeplitz_profile(r):
    r""":math:`c(r)=\sum_k c_k\cos 2\pi kr`; broadcasts."""
    return sum(c * np.cos(2 * np.pi * k * np.asarray(r)) for k, c in TOEPLITZ_COEFFICIENTS.items())


def _toeplitz_pair(x, a, Y, B):
    return toeplitz_profile(a - B) * (Y @ x)


def _toeplitz_grad(x, a, Y, B):
    return toeplitz_profile(a - B)[:, None] * Y


TOEPLITZ_CASE = Case(
    "toeplitz",
    lambda d: kernels.Toeplitz(TOEPLITZ_COEFFICIENTS),
    _positions, _toeplitz_pair, _toeplitz_grad,
)

ALL_CASES = [
    USA_CASE,
    DB_EXP_CASE,
    DB_GAUSS_CASE,
    SEPARATED_CASE,
    GAUGE_CASE,
    ROPE_CASE,
    PHASE_CASE,
    PROMPTS_CASE,
    TOEPLITZ_CASE,
]
GAUGE_CASES = [GAUGE_CASE, ROPE_CASE, PHASE_CASE, PROMPTS_CASE]


# --------------------------------------------------------------------------
# Energy and drift by plain loops (MODEL.md §2)
# --------------------------------------------------------------------------


def loop_energy(case: Case, X: np.ndarray, aux: np.ndarray) -> float:
    r""":math:`E_n=\frac1{2n^2}\sum_{i,j}K(z_i,z_j)` by a double loop over ``case.pair``."""
    n = len(X)
    total = 0.0
    for i in range(n):
        for j in range(n):
            total += case.pair(X[i], aux[i], X[j : j + 1], aux[j : j + 1])[0]
    return total / (2.0 * n * n)


def loop_drift(case: Case, X: np.ndarray, aux: np.ndarray) -> np.ndarray:
    r""":math:`\frac1n\sum_j\nabla_xK(z_i,z_j)` (unprojected) by a double loop."""
    n, d = X.shape
    out = np.zeros((n, d))
    for i in range(n):
        for j in range(n):
            out[i] += case.grad(X[i], aux[i], X[j : j + 1], aux[j : j + 1])[0]
    return out / n


def row_loop_drift(case: Case, X: np.ndarray, aux: np.ndarray) -> np.ndarray:
    r"""Same sum as :func:`loop_drift`, one particle ``i`` at a time, all ``j`` at once.

    For large ``n`` (hundreds) where a Python double loop would be slow; it
    still never groups rows into strips as the library does.
    """
    n, d = X.shape
    return np.stack([case.grad(X[i], aux[i], X, aux).sum(axis=0) / n for i in range(n)])


def project(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    r""":math:`P_xv=v-\langle x,v\rangle x` row by row (MODEL.md §1)."""
    return np.stack([v - (x @ v) * x for x, v in zip(X, V)])


def finite_difference_gradient(function: Callable[[np.ndarray], float], X: np.ndarray, h: float) -> np.ndarray:
    """Central differences of ``function`` in every entry of ``X`` (Euclidean gradient)."""
    G = np.zeros_like(X)
    for index in np.ndindex(*X.shape):
        up, down = X.copy(), X.copy()
        up[index] += h
        down[index] -= h
        G[index] = (function(up) - function(down)) / (2 * h)
    return G


def count_clusters(X: np.ndarray, radius: float) -> int:
    """Number of groups when points closer than ``radius`` are chained together (single linkage)."""
    n = len(X)
    label = -np.ones(n, dtype=int)
    clusters = 0
    for start in range(n):
        if label[start] >= 0:
            continue
        label[start] = clusters
        stack = [start]
        while stack:
            i = stack.pop()
            for j in range(n):
                if label[j] < 0 and np.linalg.norm(X[i] - X[j]) < radius:
                    label[j] = clusters
                    stack.append(j)
        clusters += 1
    return clusters


def row_loop_energy(case: Case, X: np.ndarray, aux: np.ndarray) -> float:
    """Same sum as :func:`loop_energy`, one particle ``i`` at a time (for large ``n``)."""
    n = len(X)
    return float(sum(case.pair(X[i], aux[i], X, aux).sum() for i in range(n))) / (2.0 * n * n)
