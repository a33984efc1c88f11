r"""Closed-form energy maximisers from the theorems (MODEL.md §4).

Each function returns the configuration (or the gauge, or the phase) that a
theorem says attains the maximal energy; the tests and the book check the
claims numerically against :func:`usaav.energy`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import UNIT_TOL, as_float_array, check_int, check_orthogonal, check_plane
from .kernels import Toeplitz
from .sphere import rotate_in_plane

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
    defect = abs(float(np.linalg.norm(v)) - 1.0)
    if defect > UNIT_TOL:
        raise ValueError(f"{name} must be a unit vector; | |{name}| - 1 | = {defect:.1e} > tol {UNIT_TOL:.0e}")
    return v


def _positions(positions) -> np.ndarray:
    s = as_float_array(positions, "positions")
    if s.ndim != 1:
        raise ValueError(f"positions must be a 1-D array, got shape {s.shape}")
    return s


def rope(v, theta: float, positions, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""RoPE maximiser :math:`x(s)=R_{-\theta s}v` (seed Thm. 1).

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
    (n, d) ndarray
    """
    theta = float(as_float_array(theta, "theta"))
    return phase_field(v, lambda s: theta * s, positions, plane)


def phase_field(v, phase: Callable, positions, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""Phase-field maximiser :math:`x(s)=R_{-\phi(s)}v` (seed Thm. 2 (i))."""
    v = _unit_vector(v)
    plane = check_plane(plane, v.size)
    s = _positions(positions)
    angles = as_float_array(phase(s), "phase(positions)")
    if angles.shape != s.shape:
        raise ValueError(f"phase(positions) must have shape {s.shape}, got {angles.shape}")
    return rotate_in_plane(np.broadcast_to(v, (s.size, v.size)), -angles, plane)


def realize_on_orbit(angles_target) -> Callable[[np.ndarray], np.ndarray]:
    r"""A phase whose maximiser realises a target law on the orbit of ``v`` (seed Thm. 2 (ii)).

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
        :func:`phase_field`.

    Examples
    --------
    >>> phase = realize_on_orbit([0.3, 0.1, 0.2])
    >>> phase(np.array([0.0, 0.4, 0.9]))
    array([-0.1, -0.2, -0.3])
    """
    if callable(angles_target):
        quantile = angles_target

        def phase(s):
            return -np.asarray(quantile(np.asarray(s, dtype=np.float64)), dtype=np.float64)

        return phase
    atoms = np.sort(as_float_array(angles_target, "angles_target").ravel())
    if atoms.size == 0:
        raise ValueError("angles_target must hold at least one angle")

    def phase(s):
        index = np.floor(np.asarray(s, dtype=np.float64) * atoms.size).astype(np.int64)
        return -atoms[np.clip(index, 0, atoms.size - 1)]

    return phase


def orbit_angles(X, v, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""Angles :math:`\alpha_i\in(-\pi,\pi]` with :math:`x_i=R_{\alpha_i}v` for points on the orbit of ``v``.

    Read off the polar angle in ``plane``; ``v`` must not be orthogonal to it.
    """
    v = _unit_vector(v)
    i, j = check_plane(plane, v.size)
    if np.hypot(v[i], v[j]) < 1e-12:
        raise ValueError("v must have a non-zero component in plane: its orbit is a single point")
    X = as_float_array(X, "X")
    angles = np.arctan2(X[..., j], X[..., i]) - np.arctan2(v[j], v[i])
    return np.angle(np.exp(1j * angles))


def gauge(v, gauges) -> np.ndarray:
    r"""Prompt maximiser :math:`x_p=G_p^\top v` for each gauge (seed Thm. 4 (i), Cor. 2).

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
        ids of the particles (``gauge(v, G)[ids]``).
    """
    v = _unit_vector(v)
    G = check_orthogonal(gauges, "gauges")
    if G.shape[1] != v.size:
        raise ValueError(f"gauges act on d = {G.shape[1]} but v has length {v.size}")
    return np.einsum("pji,j->pi", G, v)


def gauge_for_targets(v, targets, kind: str = "householder") -> np.ndarray:
    r"""Orthogonal gauges with :math:`G_p^\top v = T_p` (seed Thm. 4 (ii)).

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
    (m, d, d) ndarray of orthogonal matrices.
    """
    v = _unit_vector(v)
    T = as_float_array(targets, "targets")
    if T.ndim != 2 or T.shape[1] != v.size:
        raise ValueError(f"targets must have shape (m, {v.size}), got {T.shape}")
    defect = float(np.max(np.abs(np.linalg.norm(T, axis=1) - 1.0))) if len(T) else 0.0
    if defect > UNIT_TOL:
        raise ValueError(f"targets must have unit rows; max |‖T‖-1| = {defect:.1e} > tol {UNIT_TOL:.0e}")
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
    if kind == "rotation":
        return np.stack([_rotation_taking(t, v) for t in T]) if len(T) else np.zeros((0, v.size, v.size))
    raise ValueError(f"kind must be 'householder' or 'rotation', got {kind!r}")


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


def toeplitz(coefficients, positions, d: int = 3) -> np.ndarray:
    r"""Maximiser of a Toeplitz kernel (seed Prop. 10, Ex. 6).

    :math:`x(s)=\cos(2\pi k^*s)e_1+\sin(2\pi k^*s)e_2` with
    :math:`k^*=\arg\max_k\hat c(k)`: a great circle run :math:`|k^*|` times
    (a constant path when :math:`k^*=0`), energy :math:`\frac12\hat c(k^*)`.

    Parameters
    ----------
    coefficients : dict or Toeplitz
        ``{k: c_k}`` of :math:`c(r)=\sum_kc_k\cos 2\pi kr`.
    positions : (n,) array_like
    d : int
        Ambient dimension (>= 2).
    """
    kernel = coefficients if isinstance(coefficients, Toeplitz) else Toeplitz(coefficients)
    d = check_int(d, "d", minimum=2)
    s = _positions(positions)
    spectrum = kernel.fourier()
    # Modes absent from the series have ĉ(k) = 0 and are candidates too: when
    # every listed ĉ(k) is negative, the first absent mode attains the bound 0.
    absent = next(k for k in range(len(spectrum) + 1) if k not in spectrum)
    spectrum.setdefault(absent, 0.0)
    best = max(spectrum, key=lambda k: (spectrum[k], -k))
    X = np.zeros((s.size, d))
    X[:, 0] = np.cos(2 * np.pi * best * s)
    X[:, 1] = np.sin(2 * np.pi * best * s)
    return X
