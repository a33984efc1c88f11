r"""Closed-form energy maximisers from the theorems (MODEL.md §4).

Each function returns the configuration (or the gauge, or the phase) that a
theorem says attains the maximal energy; the tests and the book check the
claims numerically against :func:`usaav.energy`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import (
    as_float_array,
    check_array_bytes,
    check_callable,
    check_choice,
    check_int,
    check_orthogonal,
    check_plane,
    check_points,
    check_positions,
    check_real,
)
from .kernels import Toeplitz, mode_turns
from .sphere import _rotate_in_plane as rotate_in_plane

__all__ = [
    "gauge",
    "gauge_for_targets",
    "orbit_angles",
    "phase_field",
    "realize_on_orbit",
    "rope",
    "toeplitz",
]


def _unit_vector(v, name: str = "v") -> np.ndarray:
    v = as_float_array(v, name)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"{name} must be a vector of length d >= 2, got shape {v.shape}")
    # Within 1e-8 of the sphere and projected onto it, so that the maximisers are exactly unit.
    return check_points(v[None], name, project=True)[0]


def _positions(positions) -> np.ndarray:
    s = as_float_array(positions, "positions")
    if s.ndim != 1:
        raise ValueError(f"positions must be a 1-D array, got shape {s.shape}")
    if s.size == 0:
        raise ValueError("positions must hold at least one position, got an empty array")
    return s


def _angles(phase, s: np.ndarray, name: str) -> np.ndarray:
    """Call ``phase(s)`` and check that it returns finite real angles of the shape of ``s``."""
    angles = as_float_array(phase(s), name)
    if angles.shape != s.shape:
        raise ValueError(f"{name} must have shape {s.shape}, got {angles.shape}")
    return angles


def rope(v, theta: float, positions, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""RoPE maximiser :math:`x(s)=R_{-\theta s}v` (the paper's Thm. 1).

    Every gauge-frame point :math:`R_{\theta s}x(s)` equals :math:`v`, so each
    interaction attains :math:`e^\beta/\beta` and :math:`E=e^\beta/(2\beta)`.
    With :math:`\theta=2\pi` and ``d = 3`` the output law is the latitude
    circle through ``v`` (Cor. 1).

    Parameters
    ----------
    v : (d,) array_like
        Unit vector (the common gauge-frame point).
    theta : float
        RoPE frequency.
    positions : (n,) array_like
        Positions :math:`s_i`.
    plane : (int, int)
        Rotation plane.

    Returns
    -------
    (n, d) ndarray (refused above 1 GiB)
    """
    theta = check_real(theta, "theta")
    return phase_field(v, lambda s: theta * s, positions, plane)


def phase_field(v, phase: Callable, positions, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""Phase-field maximiser :math:`x(s)=R_{-\phi(s)}v` (the paper's Thm. 2 (i)).

    Parameters
    ----------
    v : (d,) array_like
        Unit vector (the common gauge-frame point).
    phase : callable
        ``phase(s)`` → finite real angles :math:`\phi(s_i)` of the shape of ``s``.
    positions : (n,) array_like
        Finite positions :math:`s_i` (n >= 1).
    plane : (int, int)

    Returns
    -------
    (n, d) ndarray (refused above 1 GiB)
    """
    v = _unit_vector(v)
    plane = check_plane(plane, v.size)
    check_callable(phase, "phase", "phase(s) -> angles of the shape of s")
    s = _positions(positions)
    check_array_bytes(float(s.size) * v.size, f"a path of {s.size} points in d = {v.size}")
    angles = _angles(phase, s, "phase(positions)")
    return rotate_in_plane(np.broadcast_to(v, (s.size, v.size)), -angles, plane)


def realize_on_orbit(angles_target) -> Callable[[np.ndarray], np.ndarray]:
    r"""A phase whose maximiser realises a target law on the orbit of ``v`` (the paper's Thm. 2 (ii)).

    If :math:`Q` is the quantile function of the target angle law
    :math:`\nu`, the phase :math:`\phi=-Q` gives the maximiser
    :math:`x(s)=R_{Q(s)}v`, and :math:`Q_\#\mathrm{Unif}[0,1]=\nu` exactly.

    Parameters
    ----------
    angles_target : array_like or callable
        Either samples of the target angle law (its empirical law is
        realised, with the step quantile function
        :math:`Q(s)=\alpha_{(\lfloor sm\rfloor+1)}`), or a quantile function
        ``Q(s)`` itself.

    Returns
    -------
    callable
        ``phase(s)`` for :class:`usaav.kernels.PhaseField` and
        :func:`phase_field`; ``s`` must hold levels in [0, 1].  Memory: the
        sorted samples, and O(len(s)) per call.

    Examples
    --------
    >>> phase = realize_on_orbit([0.3, 0.1, 0.2])
    >>> phase(np.array([0.0, 0.4, 0.9]))
    array([-0.1, -0.2, -0.3])
    """
    if callable(angles_target):
        quantile = angles_target

        def phase(s):
            s = _quantile_levels(s)
            return -_angles(quantile, s, "angles_target(s)")

        return phase
    atoms = np.sort(as_float_array(angles_target, "angles_target").ravel())
    if atoms.size == 0:
        raise ValueError("angles_target must hold at least one angle")

    def phase(s):
        # Q(s) = α_(⌊sm⌋+1) (1-based order statistics): the m atoms each get an
        # interval [k/m, (k+1)/m) of levels; s = 1 belongs to the last one.
        index = np.floor(_quantile_levels(s) * atoms.size).astype(np.int64)
        return -atoms[np.minimum(index, atoms.size - 1)]

    return phase


def _quantile_levels(s) -> np.ndarray:
    """Levels of a quantile function: finite reals in [0, 1]."""
    s = as_float_array(s, "s")
    outside = (s < 0.0) | (s > 1.0)
    if outside.any():
        raise ValueError(
            f"s must hold quantile levels (positions) in [0, 1], got {float(s[outside].flat[0])!r}"
        )
    return s


def orbit_angles(X, v, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""Angles :math:`\alpha_i\in(-\pi,\pi]` with :math:`x_i=R_{\alpha_i}v` for points on the orbit of ``v``.

    Read off the polar angle in ``plane``; ``v`` must not be orthogonal to it.
    ``X`` is ``(n, d)`` with unit rows; memory O(n).
    """
    v = _unit_vector(v)
    i, j = check_plane(plane, v.size)
    if np.hypot(v[i], v[j]) < 1e-12:
        raise ValueError("v must have a non-zero component in plane: its orbit is a single point")
    X = check_points(X)
    if X.shape[1] != v.size:
        raise ValueError(f"X must have d = {v.size} columns like v, got shape {X.shape}")
    angles = np.arctan2(X[..., j], X[..., i]) - np.arctan2(v[j], v[i])
    return np.angle(np.exp(1j * angles))


def gauge(v, gauges) -> np.ndarray:
    r"""Prompt maximiser :math:`x_p=G_p^\top v` for each gauge (the paper's Thm. 4 (i), Cor. 2).

    Parameters
    ----------
    v : (d,) array_like
        Unit vector.
    gauges : (m, d, d) array_like
        Orthogonal matrices.

    Returns
    -------
    (m, d) ndarray
        Row ``p`` is the maximiser for prompt ``p``; index it with the prompt
        ids of the particles (``gauge(v, G)[ids]``).  Memory O(m · d).
    """
    v = _unit_vector(v)
    G = check_orthogonal(gauges, "gauges")
    if G.shape[1] != v.size:
        raise ValueError(f"gauges act on d = {G.shape[1]} but v has length {v.size}")
    return np.einsum("pji,j->pi", G, v)


def gauge_for_targets(v, targets, kind: str = "householder") -> np.ndarray:
    r"""Orthogonal gauges with :math:`G_p^\top v = T_p` (the paper's Thm. 4 (ii)).

    ``kind="householder"`` uses the reflection exchanging ``v`` and
    :math:`T_p`, :math:`H = I - 2ww^\top/|w|^2`, :math:`w=v-T_p` (symmetric,
    so :math:`H^\top v = Hv = T_p`); ``kind="rotation"`` uses the rotation
    in :math:`\mathrm{span}(v, T_p)` taking :math:`T_p` to ``v`` (det +1).

    Parameters
    ----------
    v : (d,) array_like
        Unit vector.
    targets : (m, d) array_like
        Unit target points :math:`T_p`.

    Returns
    -------
    (m, d, d) ndarray of orthogonal matrices (refused above 1 GiB).
    """
    v = _unit_vector(v)
    kind = check_choice(kind, "kind", ("householder", "rotation"))
    T = as_float_array(targets, "targets")
    if T.ndim != 2 or T.shape[1] != v.size:
        raise ValueError(f"targets must have shape (m, {v.size}), got {T.shape}")
    T = check_points(T, "targets", project=True)
    check_array_bytes(float(len(T)) * v.size**2, f"{len(T)} gauges in d = {v.size}")
    eye = np.eye(v.size)
    if kind == "householder":
        w = v - T
        norms = np.sum(w * w, axis=1)
        # H v = T needs |v| = |T| exactly; rounding of the norms (~eps) makes
        # |Hv - T| ~ eps/|w|, while the identity is off by |w|.  Switch at
        # |w| = sqrt(eps) ~ 1e-8 so that both errors stay below ~1e-8.
        reflect = norms > np.finfo(np.float64).eps
        safe = np.where(reflect, norms, 1.0)
        H = eye - 2.0 * np.einsum("pi,pj->pij", w, w) / safe[:, None, None]
        return np.where(reflect[:, None, None], H, eye)
    return np.stack([_rotation_taking(t, v) for t in T])


def _rotation_taking(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation in span(a, b) with R a = b, identity on the orthogonal complement."""
    d = a.size
    cos = float(np.clip(a @ b, -1.0, 1.0))
    orthogonal = b - cos * a
    norm = np.linalg.norm(orthogonal)
    # sin of the angle is |b - <a,b> a|; sqrt(1 - cos^2) would lose half the
    # digits near b = ±a (an error ~1e-8 in R a for b = -a).
    sin = norm
    if norm < 1e-12:
        if cos > 0:
            return np.eye(d)
        # b = -a: rotate by π in a plane containing a.
        helper = np.eye(d)[np.argmin(np.abs(a))]
        orthogonal = helper - (helper @ a) * a
        norm = np.linalg.norm(orthogonal)
        cos, sin = -1.0, 0.0
    e = orthogonal / norm
    e = e - (e @ a) * a  # re-orthogonalise: keeps R orthogonal when b - <a,b>a is tiny
    e = e / np.linalg.norm(e)
    return (
        np.eye(d)
        + (cos - 1.0) * (np.outer(a, a) + np.outer(e, e))
        + sin * (np.outer(e, a) - np.outer(a, e))
    )


#: Positions count as the uniform grid when n·(s_i - s_0) is within this of an integer.
GRID_TOL = 1e-9


def toeplitz(coefficients, positions, d: int = 3, *, require_grid: bool = True) -> np.ndarray:
    r"""Maximiser of a Toeplitz kernel on the uniform grid (the paper's Prop. 10, Ex. 6).

    :math:`x(s)=\cos(2\pi k^*s)e_1+\sin(2\pi k^*s)e_2` with
    :math:`k^*=\arg\max_k\hat c(k)`: a great circle run :math:`|k^*|` times
    (a constant path when :math:`k^*=0`), energy :math:`\frac12\hat c(k^*)`.

    It maximises the mean-field energy, and the finite energy :math:`E_n`
    when the positions are the uniform grid :math:`\ell/n` (up to a common
    shift, in any order) with :math:`n>2\max(k^*,\max\{k:c_k\ne0\})`: the
    grid's Fourier modes are then orthogonal and :math:`E_n` reaches
    :math:`\lambda_{\max}(C)/(2n)=\frac12\max\hat c`.  Off the grid the path is
    in general not even critical for :math:`E_n` (its Euler–Lagrange
    residual is O(1)), and the finite maximiser has no closed form (the
    top eigenvectors of :math:`C` do not have unit rows); such positions are
    refused unless ``require_grid=False``, which just evaluates the path.

    Parameters
    ----------
    coefficients : dict or Toeplitz
        ``{k: c_k}`` of :math:`c(r)=\sum_kc_k\cos 2\pi kr`.
    positions : (n,) array_like
        Positions in [0, 1].
    d : int
        Ambient dimension (>= 2).
    require_grid : bool
        Refuse positions that are not the uniform grid (default).

    Returns
    -------
    (n, d) ndarray (refused above 1 GiB)

    Examples
    --------
    >>> X = toeplitz({1: 1.0}, [0.0, 0.25, 0.5, 0.75])
    >>> np.round(X[:, :2], 12) + 0.0
    array([[ 1.,  0.],
           [ 0.,  1.],
           [-1.,  0.],
           [ 0., -1.]])
    """
    kernel = coefficients if isinstance(coefficients, Toeplitz) else Toeplitz(coefficients)
    d = check_int(d, "d", minimum=2)
    s = _positions(positions)
    s = check_positions(s, s.size, "positions")
    if not isinstance(require_grid, (bool, np.bool_)):
        raise TypeError(f"require_grid must be True or False, got {type(require_grid).__name__} {require_grid!r}")
    check_array_bytes(float(s.size) * d, f"a path of {s.size} points in d = {d}")
    spectrum = kernel.fourier()
    # Modes absent from the series have ĉ(k) = 0 and are candidates too: when
    # every listed ĉ(k) is negative, the first absent mode attains the bound 0.
    absent = next(k for k in range(len(spectrum) + 1) if k not in spectrum)
    spectrum.setdefault(absent, 0.0)
    best = max(spectrum, key=lambda k: (spectrum[k], -k))
    if require_grid:
        highest = max([best] + [k for k, c in kernel.coefficients.items() if c != 0.0])
        _check_uniform_grid(s, highest)
    X = np.zeros((s.size, d))
    phase = 2 * np.pi * mode_turns(s, best)  # the kernel's own phases (exact reduction mod 2π)
    X[:, 0] = np.cos(phase)
    X[:, 1] = np.sin(phase)
    return X


def _check_uniform_grid(s: np.ndarray, highest_mode: int) -> None:
    """Refuse positions that are not ℓ/n (up to a shift, any order) or too few for the modes (n > 2 k)."""
    n = s.size
    scaled = (s - s[0]) * n
    nearest = np.rint(scaled)
    on_grid = np.max(np.abs(scaled - nearest)) <= GRID_TOL and np.array_equal(
        np.sort(np.mod(nearest, n)), np.arange(n)
    )
    if not on_grid:
        raise ValueError(
            "positions must be the uniform grid l/n (up to a common shift, in any order) for the great "
            "circle to maximise E_n (Prop. 10); off the grid only lambda_max(C)/(2n) bounds E_n "
            "(Toeplitz.finite_energy_bound) and this path is not critical. Pass require_grid=False "
            "to evaluate the mean-field maximiser's path at these positions anyway"
        )
    if n <= 2 * highest_mode:
        raise ValueError(
            f"positions must number n > 2 k = {2 * highest_mode} on the grid for the great circle to "
            f"maximise E_n (Prop. 10: modes up to k = {highest_mode} alias otherwise), got n = {n}; pass "
            "require_grid=False to evaluate the path anyway"
        )
