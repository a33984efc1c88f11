"""Argument checks shared by the public entry points.

Every check raises ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, wrong value) with a message naming the argument, what was
expected and what was given (STYLE.md, principle 4).  They run once, at the
entry points; the inner numerical routines trust their inputs.
"""

from __future__ import annotations

import numbers

import numpy as np

#: Rows of ``X`` may deviate from unit length by this much.  Heun's
#: renormalisation keeps rows at 1 to ~1e-15; 1e-8 leaves room for points
#: that users build themselves in float64 arithmetic.
UNIT_TOL = 1e-8

#: ``G^T G`` may deviate from the identity by this much (max-abs entry).
ORTHOGONAL_TOL = 1e-8


def check_positive_scalar(value, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float, requiring a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    return value


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, requiring an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def as_float_array(value, name: str) -> np.ndarray:
    """Convert to a float64 array, refusing non-numeric input and NaN/inf."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}") from error
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite; it has {bad} NaN or inf entries")
    return array


def check_points(X, name: str = "X", *, tol: float = UNIT_TOL) -> np.ndarray:
    """Return ``X`` as an ``(n, d)`` float64 array of unit rows, ``n >= 1``, ``d >= 2``."""
    X = as_float_array(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d), got shape {X.shape}")
    n, d = X.shape
    if n < 1:
        raise ValueError(f"{name} must hold at least one point, got shape {X.shape}")
    if d < 2:
        raise ValueError(f"{name} must have d >= 2 columns (points on S^(d-1)), got d = {d}")
    drift = float(np.max(np.abs(np.linalg.norm(X, axis=1) - 1.0)))
    if drift > tol:
        raise ValueError(
            f"{name} must have unit rows; max |‖x‖-1| = {drift:.1e} > tol {tol:.0e} "
            "(use usaav.sphere.normalize to project onto the sphere)"
        )
    return X


def check_aux(aux, n: int, name: str = "aux") -> np.ndarray:
    """Return ``aux`` as a 1-D array with ``n`` finite entries."""
    if aux is None:
        raise TypeError(f"{name} must be an array of {n} auxiliary labels, got None")
    values = np.asarray(aux)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric (positions or prompt ids), got dtype {values.dtype}")
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(
            f"{name} must have shape ({n},) to match X with {n} rows, got shape {values.shape}"
        )
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite; it has NaN or inf entries")
    return values


def check_orthogonal(G, name: str, *, tol: float = ORTHOGONAL_TOL) -> np.ndarray:
    """Return ``G`` as a ``(m, d, d)`` float64 array of orthogonal matrices."""
    G = as_float_array(G, name)
    if G.ndim != 3 or G.shape[1] != G.shape[2]:
        raise ValueError(f"{name} must have shape (m, d, d), got shape {G.shape}")
    if G.shape[1] < 2:
        raise ValueError(f"{name} must act on d >= 2 dimensions, got d = {G.shape[1]}")
    defect = np.abs(np.einsum("mki,mkj->mij", G, G) - np.eye(G.shape[1]))
    worst = float(defect.max()) if defect.size else 0.0
    if worst > tol:
        index = int(np.argmax(defect.reshape(len(G), -1).max(axis=1)))
        raise ValueError(
            f"{name} must be orthogonal matrices; max |G^T G - I| = {worst:.1e} > tol {tol:.0e} "
            f"(first offender at index {index})"
        )
    return G


def check_plane(plane, d: int | None = None, name: str = "plane") -> tuple[int, int]:
    """Return ``plane`` as a pair of distinct non-negative axis indices (below ``d``)."""
    try:
        i, j = plane
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a pair of axis indices (i, j), got {plane!r}") from error
    i = check_int(i, f"{name}[0]", minimum=0)
    j = check_int(j, f"{name}[1]", minimum=0)
    if i == j:
        raise ValueError(f"{name} must name two distinct axes, got ({i}, {j})")
    if d is not None and max(i, j) >= d:
        raise ValueError(f"{name} = ({i}, {j}) needs dimension d > {max(i, j)}, got d = {d}")
    return i, j
