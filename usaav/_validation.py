"""Argument checks shared by the public entry points.

Every check raises ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, wrong value) with a message naming the argument, what was
expected and what was given (STYLE.md, principle 4).  They run once, at the
entry points; the inner numerical routines trust their inputs.

The classes of bad input refused here, whatever the argument:

* wrong types: ``None``, strings (even ``"1.0"``), bytes, booleans,
  complex numbers, arrays of Python objects, ragged nestings;
* non-finite values: NaN and ±inf anywhere;
* wrong shapes and degenerate sizes: empty clouds, ``d < 2``, rows that are
  not unit vectors (in every frame of a stack), labels that do not match;
* sizes that cannot fit: outputs larger than :data:`MAX_ARRAY_BYTES`.
"""

from __future__ import annotations

import numbers
from typing import Iterable

import numpy as np

#: Rows of ``X`` may deviate from unit length by this much.  Heun's
#: renormalisation keeps rows at 1 to ~1e-15; 1e-8 leaves room for points
#: that users build themselves in float64 arithmetic.
UNIT_TOL = 1e-8

#: ``G^T G`` may deviate from the identity by this much (max-abs entry).
ORTHOGONAL_TOL = 1e-8

#: Smallest accepted β: 1/β (the prefactor of every exponential kernel)
#: must be a finite float64.
MIN_BETA = float(np.finfo(np.float64).tiny)

#: Largest accepted β.  The exponent β(⟨u,v⟩ - 1) is formed with an absolute
#: rounding error of about (d + 1) β eps, which becomes the relative error of
#: every kernel value: at β = 1e6 that is ~1e-10 (d + 1), far beyond any β
#: of the paper (β <= 500) yet still meaningful.  Above, the results would
#: be dominated by rounding.
MAX_BETA = 1e6

#: Largest array a public function allocates for its result (1 GiB).  Working
#: memory is bounded separately, by :data:`BLOCK_ENTRIES` per tile.
MAX_ARRAY_BYTES = 1 << 30

#: Working-array budget of the tiled observables: 2**20 float64 entries (8 MiB)
#: per tile, so their memory is O(n · block) whatever n.
BLOCK_ENTRIES = 1 << 20


def _shown(value) -> str:
    """A short description of ``value`` for an error message: its type and a clipped repr."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _is_real_scalar(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (numbers.Real, np.integer, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


def check_real(value, name: str) -> float:
    """Return ``value`` as a finite float; refuse bool, str, complex, None and arrays."""
    if not _is_real_scalar(value):
        raise TypeError(f"{name} must be a real number, got {_shown(value)}")
    try:
        value = float(value)
    except OverflowError:  # a Python integer beyond float64 (10**400)
        digits = int(value).bit_length() * 0.30103
        raise ValueError(f"{name} must be finite, got an integer of about 10**{digits:.0f}, "
                         "beyond the largest float (1.8e308)") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive_scalar(value, name: str, *, allow_zero: bool = False, maximum: float | None = None) -> float:
    """Return ``value`` as a float, requiring a finite real number > 0 (or >= 0), at most ``maximum``."""
    value = check_real(value, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum:g}, got {value!r}")
    return value


def check_beta(value, name: str = "beta") -> float:
    """Inverse temperature: a real number in [:data:`MIN_BETA`, :data:`MAX_BETA`]."""
    beta = check_positive_scalar(value, name, maximum=MAX_BETA)
    if beta < MIN_BETA:
        raise ValueError(f"{name} must be >= {MIN_BETA:.3g} (1/{name} must be finite), got {beta!r}")
    return beta


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, requiring an integer in [``minimum``, ``maximum``].

    Floats are refused even when integral (``2.0``): a float where a count or
    a seed is expected is usually a computed value that was meant to be
    rounded deliberately.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {_shown(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}, got {value}")
    return value


def check_int_sequence(values, name: str, *, minimum: int | None = None, allow_empty: bool = False,
                       max_length: int = 10**6) -> tuple[int, ...]:
    """Return ``values`` as a tuple of ints (e.g. a list of seeds); each entry as :func:`check_int`.

    Accepts lists, tuples, ranges and integer arrays; refuses strings,
    scalars, ``None``, non-integers (``[1.5]``, ``[2.0]``, ``[True]``) and
    more than ``max_length`` entries.

    >>> check_int_sequence(range(3), "seeds", minimum=0)
    (0, 1, 2)
    """
    if values is None or isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of integers, got {_shown(values)}")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of integers, got an array of shape {values.shape}")
    length = len(values) if hasattr(values, "__len__") else None
    if length is not None and length > max_length:
        raise ValueError(f"{name} may hold at most {max_length} integers, got {length}")
    out = []
    for index, value in enumerate(values):
        if index >= max_length:
            raise ValueError(f"{name} may hold at most {max_length} integers")
        out.append(check_int(value, f"{name}[{index}]", minimum=minimum))
    if not out and not allow_empty:
        raise ValueError(f"{name} must hold at least one integer, got an empty sequence")
    return tuple(out)


def check_choice(value, name: str, choices: tuple) -> str:
    """Return ``value`` if it is one of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {_shown(value)}")
    return value


def check_callable(value, name: str, signature: str):
    """Return ``value`` if it is callable; ``signature`` says how it is called."""
    if not callable(value):
        raise TypeError(f"{name} must be callable {signature}, got {_shown(value)}")
    return value


def check_array_bytes(entries: float, what: str, *, limit: int = MAX_ARRAY_BYTES) -> None:
    """Refuse to allocate ``entries`` float64 numbers for ``what`` when they exceed ``limit`` bytes."""
    size = 8.0 * float(entries)
    if size > limit:
        raise ValueError(f"{what} would need {size / 2**30:.3g} GiB, more than the limit of {limit / 2**30:.3g} GiB")


def _real_array(value, name: str, expected: str) -> np.ndarray:
    """``np.asarray(value)`` if it holds real numbers (integers or floats), else a TypeError saying what it holds."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be {expected}, got {_shown(value)}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be {expected} ({error})") from error
    if array.dtype.kind not in "iuf":
        what = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes",
                "O": "Python objects (None, strings, ragged rows or integers too large for int64?)"}
        raise TypeError(
            f"{name} must hold real numbers, got {what.get(array.dtype.kind, 'values')} (dtype {array.dtype})"
        )
    return array


def as_float_array(value, name: str) -> np.ndarray:
    """Convert to a float64 array, refusing non-real input and NaN/inf.

    Integers and floats of any width are accepted; ``None``, strings (also
    numeric ones such as ``"1.0"``), booleans, complex numbers, Python
    objects and ragged nestings are refused with a ``TypeError``, NaN and
    ±inf with a ``ValueError`` that counts them and names the first.
    """
    array = _real_array(value, name, "a rectangular numeric array of real numbers").astype(np.float64, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        nan = int(np.count_nonzero(np.isnan(array)))
        inf = int(array.size - np.count_nonzero(finite) - nan)
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = f" (first at index {first[0] if len(first) == 1 else first})" if first else ""
        raise ValueError(f"{name} must be finite; it has {nan} NaN and {inf} inf entries{where}")
    return array


#: Rows within :data:`UNIT_TOL` of the sphere but further than this from it
#: are projected onto it when ``check_points(..., project=True)``: a few ulps
#: is what renormalisation leaves, and such rows are kept bit for bit.
PROJECT_ABOVE = 8 * float(np.finfo(np.float64).eps)


def _row_norms(frames: np.ndarray) -> np.ndarray:
    """|x| of every row (the last axis); rows of ~1e200 give inf, which is then a defect, not a warning."""
    with np.errstate(over="ignore"):
        return np.sqrt(np.einsum("...i,...i->...", frames, frames))


def check_frames(X, name: str = "X", *, tol: float = UNIT_TOL, project: bool = False) -> tuple[np.ndarray, bool]:
    """``X`` as a ``(frames, n, d)`` stack of configurations of unit rows, and whether it was one ``(n, d)``.

    Every frame is checked (shape, finiteness, unit rows within ``tol``),
    vectorised, at O(frames · n) extra memory.  ``project`` as in
    :func:`check_points`.
    """
    X = as_float_array(X, name)
    if X.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (n, d) or (frames, n, d), got shape {X.shape}")
    single = X.ndim == 2
    frames = X[None] if single else X
    count, n, d = frames.shape
    if count < 1:
        raise ValueError(f"{name} must hold at least one frame, got shape {X.shape}")
    if n < 1:
        raise ValueError(f"{name} must hold at least one point, got shape {X.shape}")
    if d < 2:
        raise ValueError(f"{name} must have d >= 2 columns (points on S^(d-1)), got d = {d}")
    norms = _row_norms(frames)
    defect = np.abs(norms - 1.0)
    worst = float(defect.max())
    if worst > tol:
        index = np.unravel_index(int(np.argmax(defect)), defect.shape)
        where = f"row {index[1]}" if single else f"frame {index[0]}, row {index[1]}"
        raise ValueError(
            f"{name} must have unit rows (points on the sphere); max |‖x‖-1| = {worst:.3g} at {where} "
            f"> tol {tol:.0e} (use usaav.normalize to project onto the sphere)"
        )
    if project and worst > PROJECT_ABOVE:
        off = defect > PROJECT_ABOVE
        frames = frames.copy()
        frames[off] /= norms[off][:, None]
    return frames, single


def check_points(X, name: str = "X", *, tol: float = UNIT_TOL, project: bool = False) -> np.ndarray:
    r"""Return ``X`` as an ``(n, d)`` float64 array of unit rows, ``n >= 1``, ``d >= 2``.

    With ``project=True`` the rows accepted within ``tol`` but more than a
    few ulps off the sphere are divided by their norm (a copy), so that
    kernels can rely on :math:`\langle x, y\rangle \le 1`: at β = 1e6 a row
    of norm 1 + 1e-8 would otherwise make :math:`e^{\beta(|x|^2-1)}` 2 % larger
    than the bound of MODEL.md §4.
    """
    X = as_float_array(X, name)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of shape (n, d), got shape {X.shape}")
    return check_frames(X, name, tol=tol, project=project)[0][0]


def check_aux(aux, n: int | None, name: str = "aux") -> np.ndarray:
    """Return ``aux`` as a 1-D array of finite real labels (its integer dtype is kept).

    With ``n`` given the array must have ``n`` entries (one label per row of
    ``X``); with ``n=None`` any length is accepted.
    """
    count = "" if n is None else f"{n} "
    values = _real_array(aux, name, f"a 1-D array of {count}auxiliary labels (positions or prompt ids)")
    if n is None and values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of labels, got shape {values.shape}")
    if n is not None and (values.ndim != 1 or values.shape[0] != n):
        raise ValueError(
            f"{name} must have shape ({n},) to match X with {n} rows, got shape {values.shape}"
        )
    if values.dtype.kind == "f":
        as_float_array(values, name)  # NaN / inf, with the count and the first index
    return values


def check_positions(aux, n: int, name: str = "aux") -> np.ndarray:
    r"""Return ``aux`` as ``n`` float64 positions in :math:`[0, 1]` (MODEL.md §1, :math:`\mathcal A=[0,1]`).

    The message prints the first offending value in full (``repr``), so that
    ``1.0000000000000002`` is not shown as ``1``.
    """
    positions = check_aux(aux, n, name).astype(np.float64)
    outside = (positions < 0.0) | (positions > 1.0)
    if outside.any():
        first = int(np.argmax(outside))
        raise ValueError(
            f"{name} must hold positions in [0, 1]; {name}[{first}] = {float(positions[first])!r} is outside "
            f"({int(outside.sum())} of {n} are)"
        )
    return positions


def check_orthogonal(G, name: str, *, tol: float = ORTHOGONAL_TOL) -> np.ndarray:
    """Return ``G`` as a ``(m, d, d)`` float64 array of ``m >= 1`` orthogonal matrices."""
    G = as_float_array(G, name)
    if G.ndim != 3 or G.shape[1] != G.shape[2]:
        raise ValueError(f"{name} must have shape (m, d, d), got shape {G.shape}")
    if G.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one matrix, got shape {G.shape}")
    if G.shape[1] < 2:
        raise ValueError(f"{name} must act on d >= 2 dimensions, got d = {G.shape[1]}")
    defect = np.abs(np.einsum("mki,mkj->mij", G, G) - np.eye(G.shape[1]))
    worst = float(defect.max())
    if worst > tol:
        index = int(np.argmax(defect.reshape(len(G), -1).max(axis=1)))
        raise ValueError(
            f"{name} must be orthogonal matrices; max |G^T G - I| = {worst:.3g} > tol {tol:.0e} "
            f"(first offender at index {index})"
        )
    return G


def check_plane(plane, d: int | None = None, name: str = "plane") -> tuple[int, int]:
    """Return ``plane`` as a pair of distinct non-negative axis indices (below ``d``)."""
    if plane is None or isinstance(plane, (str, bytes)):
        raise TypeError(f"{name} must be a pair of axis indices (i, j), got {_shown(plane)}")
    try:
        i, j = plane
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a pair of axis indices (i, j), got {_shown(plane)}") from error
    i = check_int(i, f"{name}[0]", minimum=0)
    j = check_int(j, f"{name}[1]", minimum=0)
    if i == j:
        raise ValueError(f"{name} must name two distinct axes, got ({i}, {j})")
    if d is not None and max(i, j) >= d:
        raise ValueError(f"{name} = ({i}, {j}) needs dimension d > {max(i, j)}, got d = {d}")
    return i, j
