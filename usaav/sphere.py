r"""Geometry of the unit sphere :math:`\mathbb S^{d-1}\subset\mathbb R^d`.

Small vectorised pure functions (MODEL.md §1): projection onto the sphere and
onto its tangent spaces, rotations in a coordinate 2-plane, uniform sampling
of points and of rotations.
Every function acts row-wise on arrays whose last axis is the ambient
dimension ``d``.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_array_bytes, check_int, check_plane, check_points

__all__ = [
    "normalize",
    "project_tangent",
    "haar_rotations",
    "rotation",
    "rotate_in_plane",
    "sphere_drift",
    "uniform_sphere",
]


def normalize(X) -> np.ndarray:
    r"""Radially project rows onto the sphere, :math:`x\mapsto x/|x|`.

    Acts on the last axis of ``X`` (any number of leading axes).  Rows must
    be finite and non-zero: a zero row has no direction to project.  Memory:
    one array of the size of ``X``.

    Examples
    --------
    >>> normalize(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    X = as_float_array(X, "X")
    if X.ndim < 1 or X.shape[-1] < 2:
        raise ValueError(f"X must have rows of length d >= 2 on its last axis, got shape {X.shape}")
    zero = ~np.any(X != 0.0, axis=-1)
    if zero.any():
        first = tuple(int(i) for i in np.argwhere(zero)[0])
        raise ValueError(
            f"X must have non-zero rows (a zero row has no direction on the sphere); "
            f"row {first[0] if len(first) == 1 else first} is zero"
        )
    return _normalize(X)


def _normalize(X: np.ndarray) -> np.ndarray:
    """:func:`normalize` without the checks, for the integrators' inner loop."""
    # Divide by the largest entry first so that |x|^2 cannot overflow, even
    # for the huge raw-clock steps of large β (MODEL.md §3).
    X = _divide_rows(X, _row_max_abs(X))
    return _divide_rows(X, np.sqrt(_row_dot(X, X)))


# Row-wise reductions over the last axis.  For many short rows, a NumPy
# reduction along the last axis pays a per-row overhead that dwarfs its
# arithmetic: normalising 8192 rows of d = 3 takes 6x longer than combining the
# columns one at a time, while for fewer than about 256 rows the fewer calls of
# the reduction win (measured with NumPy 2.4).  Below 8 terms NumPy sums left to
# right (its pairwise summation starts at 8), so for d < 8 both ways give the
# same bits, and a system gives the same bits alone or in a batch.
def _by_columns(X: np.ndarray) -> bool:
    """Whether to combine the columns of ``X`` one at a time (bitwise the same, faster for many short rows)."""
    d = X.shape[-1]
    return d < 8 and X.size >= 256 * d


def _row_dot(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    r""":math:`\langle x_i, y_i\rangle` of every row, bitwise ``np.sum(X * Y, axis=-1)``."""
    if not _by_columns(X):
        return np.sum(X * Y, axis=-1)
    out = X[..., 0] * Y[..., 0]
    for k in range(1, X.shape[-1]):
        out += X[..., k] * Y[..., k]
    return out


def _row_max_abs(X: np.ndarray) -> np.ndarray:
    r""":math:`\max_k |x_{ik}|` of every row (NaN where a row has a NaN, as ``np.max``)."""
    if not _by_columns(X):
        return np.max(np.abs(X), axis=-1)
    A = np.abs(X)
    out = A[..., 0].copy()
    for k in range(1, X.shape[-1]):
        np.maximum(out, A[..., k], out=out)
    return out


def _divide_rows(X: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Row ``i`` of ``X`` divided by ``r[i]`` (bitwise ``X / r[..., None]``), in a new array."""
    if not _by_columns(X):
        return X / r[..., None]
    out = np.empty(X.shape)
    for k in range(X.shape[-1]):
        np.divide(X[..., k], r, out=out[..., k])
    return out


def project_tangent(X, V) -> np.ndarray:
    r"""Project ``V`` onto the tangent spaces at ``X``: :math:`P_x v = v - \langle x, v\rangle x`.

    MODEL.md §1 (:math:`P_x = I - xx^\top`).  ``X`` must be an ``(n, d)``
    array of unit rows and ``V`` finite of the same shape.  Memory O(n · d).

    >>> project_tangent(np.array([[1.0, 0.0]]), np.array([[2.0, 3.0]]))
    array([[0., 3.]])
    """
    X = check_points(X)
    V = as_float_array(V, "V")
    if V.shape != X.shape:
        raise ValueError(f"V must have the shape of X, {X.shape}, got shape {V.shape}")
    return _project_tangent(X, V)


def _project_tangent(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """:func:`project_tangent` without the checks, for the dynamics' inner loop."""
    radial = _row_dot(X, V)
    if not _by_columns(X):
        return V - radial[..., None] * X
    out = np.empty(X.shape)
    for k in range(X.shape[-1]):  # bitwise V - radial[..., None] * X, one column at a time
        np.subtract(V[..., k], radial * X[..., k], out=out[..., k])
    return out


def sphere_drift(X) -> float:
    r"""Largest deviation from the sphere, :math:`\max_i |\,|x_i| - 1\,|` (MODEL.md §5).

    ``X`` is any finite array of rows (last axis ``d``); its points need not
    be on the sphere, that is what is measured.  Memory O(number of rows).
    """
    X = as_float_array(X, "X")
    if X.ndim < 1 or X.size == 0:
        raise ValueError(f"X must hold at least one row, got shape {X.shape}")
    with np.errstate(over="ignore"):
        return float(np.max(_radial_defect(X)))


def _radial_defect(X: np.ndarray) -> np.ndarray:
    r""":math:`\big|\,|x_i| - 1\big|` of every row: how far each point is from the sphere (MODEL.md §5)."""
    return np.abs(np.sqrt(_row_dot(X, X)) - 1.0)


def uniform_sphere(n: int, d: int, rng: np.random.Generator | int | None) -> np.ndarray:
    r"""Draw ``n`` independent points uniformly on :math:`\mathbb S^{d-1}`.

    Normalised standard Gaussian vectors are uniform on the sphere because the
    Gaussian law is rotation invariant.

    Parameters
    ----------
    n, d : int
        Number of points and ambient dimension (``d >= 2``).
    rng : numpy.random.Generator or int
        Source of randomness (an int is used as a seed).  Passing ``None``
        is refused: reproducibility needs an explicit seed or generator.

    Returns
    -------
    (n, d) ndarray with unit rows.  Memory 2 n d floats, refused above 1 GiB.

    Examples
    --------
    >>> X = uniform_sphere(5, 3, rng=0)
    >>> np.allclose(np.linalg.norm(X, axis=1), 1)
    True
    """
    n = check_int(n, "n", minimum=1)
    d = check_int(d, "d", minimum=2)
    check_array_bytes(2.0 * n * d, f"uniform_sphere(n={n}, d={d})")
    return _normalize(_generator(rng).standard_normal((n, d)))


def _generator(rng) -> np.random.Generator:
    """``rng`` itself if it is a Generator, a Generator seeded by it if it is a non-negative int."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, (int, np.integer)):
        raise TypeError(
            f"rng must be a numpy.random.Generator or a non-negative int seed, got {type(rng).__name__} {rng!r}"
        )
    return np.random.default_rng(check_int(rng, "rng", minimum=0))


def haar_rotations(m: int, d: int, rng: np.random.Generator | int | None) -> np.ndarray:
    r"""Draw ``m`` independent rotations uniformly (Haar) on :math:`SO(d)`.

    The construction uses only the Generator's standard normals and a QR
    factorisation, so a seed gives the same rotations with every NumPy and
    SciPy version (unlike :data:`scipy.stats.special_ortho_group`, whose
    draws for a given seed changed between SciPy releases):

    1. :math:`Z` is a :math:`d\times d` matrix of independent standard
       normals; its law is invariant under :math:`Z\mapsto UZ` for every
       orthogonal :math:`U`.
    2. :math:`Z = QR` with the signs fixed so that :math:`R` has a positive
       diagonal (:math:`Q \leftarrow Q\,\mathrm{diag}(\mathrm{sign}\,R_{jj})`).
       This factorisation is unique, so :math:`UZ = (UQ)R` and :math:`Q` has
       the law of :math:`UQ`: :math:`Q` is Haar on :math:`O(d)` (Mezzadri,
       *How to generate random matrices from the classical compact groups*,
       Notices AMS 54, 2007).  Without the sign fix, :math:`Q` depends on
       the sign convention of the QR routine and is not Haar.
    3. Where :math:`\det Q = -1`, the first column is negated
       (:math:`Q \leftarrow Q\,\mathrm{diag}(-1, 1, \dots, 1)`).  Right
       multiplication by a fixed reflection maps the Haar law on the
       :math:`\det = -1` half of :math:`O(d)` onto the Haar law on
       :math:`SO(d)`, so the result is Haar on :math:`SO(d)`.

    Parameters
    ----------
    m : int
        Number of rotations, ``m >= 1``.
    d : int
        Dimension, ``d >= 2``.
    rng : numpy.random.Generator or int
        Source of randomness (an int is used as a seed).  Passing ``None``
        is refused: reproducibility needs an explicit seed or generator.

    Returns
    -------
    (m, d, d) ndarray
        Orthogonal matrices with determinant +1.  Memory about 3 m d² floats,
        refused above 1 GiB.

    Examples
    --------
    >>> Q = haar_rotations(4, 3, rng=0)
    >>> Q.shape
    (4, 3, 3)
    >>> np.allclose(Q @ Q.transpose(0, 2, 1), np.eye(3)), np.allclose(np.linalg.det(Q), 1)
    (True, True)
    """
    m = check_int(m, "m", minimum=1)
    d = check_int(d, "d", minimum=2)
    check_array_bytes(3.0 * m * d * d, f"haar_rotations(m={m}, d={d})")
    Z = _generator(rng).standard_normal((m, d, d))
    Q, R = np.linalg.qr(Z)
    # A Gaussian matrix is invertible with probability one; a zero diagonal
    # entry of R would need an exactly singular draw, so sign(0) is not a concern.
    Q = Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[:, np.newaxis, :]
    Q[np.linalg.det(Q) < 0, :, 0] *= -1.0
    return Q


def rotation(angle, d: int, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""Rotation :math:`R_\varphi` by ``angle`` in the coordinate plane ``plane``.

    MODEL.md §1: for ``plane = (i, j)``,
    :math:`R_\varphi e_i = \cos\varphi\,e_i + \sin\varphi\,e_j`,
    :math:`R_\varphi e_j = -\sin\varphi\,e_i + \cos\varphi\,e_j`, identity on the
    orthogonal complement.

    Parameters
    ----------
    angle : float or array_like
        Angle(s) in radians; an array of shape ``s`` gives ``s + (d, d)``.
    d : int
        Ambient dimension, ``d >= 2``.
    plane : (int, int)
        The two axes spanning the rotation plane.

    Returns
    -------
    ``angle.shape + (d, d)`` ndarray (refused above 1 GiB; use
    :func:`rotate_in_plane` to rotate many rows without the matrices).

    Examples
    --------
    >>> np.round(rotation(np.pi / 2, 2) @ [1.0, 0.0], 12)
    array([0., 1.])
    """
    d = check_int(d, "d", minimum=2)
    i, j = check_plane(plane, d)
    angle = as_float_array(angle, "angle")
    check_array_bytes(float(angle.size) * d * d, f"rotation matrices for {angle.size} angles in d = {d}")
    R = np.broadcast_to(np.eye(d), angle.shape + (d, d)).copy()
    cos, sin = np.cos(angle), np.sin(angle)
    R[..., i, i] = cos
    R[..., j, j] = cos
    R[..., j, i] = sin
    R[..., i, j] = -sin
    return R


def rotate_in_plane(X, angles, plane: tuple[int, int] = (0, 1)) -> np.ndarray:
    r"""Apply :math:`R_{\varphi_k}` to row ``k`` of ``X`` without forming matrices.

    Equivalent to ``einsum("kab,kb->ka", rotation(angles, d, plane), X)`` at
    O(n) cost and memory; used by the RoPE and phase-field gauges (MODEL.md
    §1 convention for :math:`R_\varphi`).

    Parameters
    ----------
    X : (..., d) array_like
        Rows to rotate (any finite rows; rotations preserve norms).
    angles : array_like
        Angles broadcastable against ``X.shape[:-1]``.
    plane : (int, int)

    >>> np.round(rotate_in_plane([[1.0, 0.0]], [np.pi / 2], (0, 1)), 12)
    array([[0., 1.]])
    """
    X = as_float_array(X, "X")
    if X.ndim < 1:
        raise ValueError(f"X must have rows on its last axis, got shape {X.shape}")
    plane = check_plane(plane, X.shape[-1])
    angles = as_float_array(angles, "angles")
    try:
        np.broadcast_shapes(angles.shape, X.shape[:-1])
    except ValueError as error:
        raise ValueError(f"angles of shape {angles.shape} do not broadcast against the rows of X, {X.shape[:-1]}") from error
    return _rotate_in_plane(X, angles, plane)


def _rotate_in_plane(X: np.ndarray, angles: np.ndarray, plane: tuple[int, int]) -> np.ndarray:
    """:func:`rotate_in_plane` without the checks, for the gauge frames of the kernels."""
    i, j = plane
    cos, sin = np.cos(angles), np.sin(angles)
    out = np.array(X, dtype=np.float64, copy=True)
    out[..., i] = cos * X[..., i] - sin * X[..., j]
    out[..., j] = sin * X[..., i] + cos * X[..., j]
    return out
