r"""Tiled evaluation of exponential attention sums.

Every exponential kernel of MODEL.md §3 reduces, possibly after a change of
frame, to the two sums

.. math::

    F_i = \frac1n\sum_{j=1}^n w_{ij}\, e^{\beta(\langle u_i,u_j\rangle-1)}\, u_j,
    \qquad
    S = \sum_{i,j=1}^n w_{ij}\, e^{\beta(\langle u_i,u_j\rangle-1)},

with a symmetric weight :math:`w` (:math:`w\equiv1` for the baseline).  The
factor :math:`e^\beta` is pulled out (MODEL.md §3, large β) so that every
exponential lies in :math:`(0, 1]` and nothing overflows for any β.

Design, rather than tuning, is what makes this fast:

* **Tiles.** The ``n × n`` matrix is never formed.  The upper triangle
  ``j >= i`` is cut into tiles of at most :data:`TILE_ENTRIES` = 2¹⁶ entries
  (512 KiB, well inside a core's L2 cache): ``rows`` rows by at most
  ``width`` columns (:func:`tile_shape`).  For ``n <= 1024`` a tile is a
  whole strip of rows.  Memory is O(``TILE_ENTRIES``) for every n.
* **Symmetry.** The kernel is symmetric, so only tiles on or above the
  diagonal are computed: a tile serves its own rows (``T @ u_J``) and,
  through its transpose, its columns (``T.T @ u_I``); the diagonal square
  of the first tile of a row block serves its rows only.  This halves the
  work on ``exp``, the dominant cost.
* **One product per tile.** The shift :math:`-\beta` is folded into the
  tile's matrix product by augmenting the left factor with a column of ones
  and the right factor (stored transposed and contiguous) with a row of
  :math:`-\beta`; the weight enters as :math:`\log w` before the same
  in-place ``exp``.  Every tile is written into one preallocated buffer.
* **Matrix–vector products for few coordinates.**  For ``d < 4`` the two
  contractions of a tile are ``d`` matrix–vector products each, which read
  the tile where it lies; a matrix product with fewer than four columns
  first copies (packs) the tile and is about 20 % slower overall (measured
  with OpenBLAS 0.3.31 at n = 2048, d = 2, 3).  From ``d = 4`` on, one matrix
  product per contraction wins and is used.
* **One thread, fixed order.**  For ``d <= 3`` a tile's product has at most
  ``(d + 1) · 2¹⁶ <= 2¹⁸`` multiply–adds and its matrix–vector products
  2¹⁶ entries, below the sizes at which OpenBLAS hands a call to its thread
  pool, so every call runs on the calling thread.  These thin products are
  memory-bound: extra threads gain little on an idle machine and lose
  several-fold when the cores are oversubscribed (parallel experiments,
  shared machines).  Measured at n = 2048 on two cores shared with other
  jobs: median 15 ms per call with the former strips of 256 rows, 8 ms with
  these tiles (5.2 and 4.0 ms with BLAS held to one thread).  The tiles are
  visited in a fixed order, so the result is bitwise reproducible, and the
  routine is safe to call from several threads at once.

The loop runs over tiles (about ``n² / 2¹⁷`` of them), never over particles.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Largest number of float64 entries in a tile (512 KiB).
TILE_ENTRIES = 1 << 16
#: Fewest rows in a tile: above n = TILE_ENTRIES / MIN_ROWS = 1024 tiles
#: stop being whole strips and are split into column blocks instead.
MIN_ROWS = 64
#: Below this many coordinates the contractions use matrix–vector products.
MATVEC_BELOW = 4

PairFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def tile_shape(n: int, rows: int | None = None) -> tuple[int, int]:
    """``(rows, width)`` of the tiles for ``n`` particles (module docstring).

    ``rows`` (default ``min(n, max(MIN_ROWS, TILE_ENTRIES // n))``) may be
    imposed; ``width`` then follows from :data:`TILE_ENTRIES` and is never
    less than ``rows``, so a row block's diagonal square fits in its first
    tile.

    Examples
    --------
    >>> tile_shape(256), tile_shape(1024), tile_shape(32768)
    ((256, 256), (64, 1024), (64, 1024))
    """
    if rows is None:
        rows = min(n, max(MIN_ROWS, TILE_ENTRIES // max(n, 1)))
    return rows, max(rows, TILE_ENTRIES // rows)


def exp_attention(
    U: np.ndarray,
    beta: float,
    *,
    labels: np.ndarray | None = None,
    log_weight: PairFunction | None = None,
    weight: PairFunction | None = None,
    want_force: bool = True,
    want_sum: bool = False,
    rows: int | None = None,
) -> tuple[np.ndarray | None, float | None]:
    r"""Tiled :math:`F` and :math:`S` of the module docstring.

    Parameters
    ----------
    U : (n, d) ndarray
        Points (unit rows; in the gauge frame for gauge kernels).
    beta : float
        Inverse temperature.
    labels : (n,) ndarray, optional
        Auxiliary labels handed to ``log_weight`` / ``weight`` tile by tile.
    log_weight : callable, optional
        ``log_weight(a_I, a_J)`` → ``(|I|, |J|)`` array of :math:`\log w_{ij}`,
        added to the exponent (one ``exp`` for weight and kernel together).
    weight : callable, optional
        ``weight(a_I, a_J)`` → ``(|I|, |J|)`` array of :math:`w_{ij}` (any
        sign), multiplied after the ``exp``.  Must be symmetric.
    want_force, want_sum : bool
        Which of :math:`F` and :math:`S` to accumulate.
    rows : int, optional
        Tile height; defaults to ``tile_shape(n)[0]``.

    Returns
    -------
    force : (n, d) ndarray or None
    total : float or None
    """
    n, d = U.shape
    rows, width = tile_shape(n, rows)
    left = np.empty((n, d + 1))
    left[:, :d] = np.sqrt(beta) * U
    left[:, d] = 1.0
    right_t = np.empty((d + 1, n))  # contiguous transpose: tiles read its columns
    right_t[:d] = left[:, :d].T
    right_t[d] = -beta
    U_t = np.ascontiguousarray(U.T)  # coordinate c of every point is the row U_t[c]
    force = np.zeros((n, d)) if want_force else None
    total = 0.0
    buffer = np.empty(rows * width)
    for i0 in range(0, n, rows):
        i1 = min(i0 + rows, n)
        height = i1 - i0
        for j0 in range(i0, n, width):
            j1 = min(j0 + width, n)
            tile = buffer[: height * (j1 - j0)].reshape(height, j1 - j0)
            np.matmul(left[i0:i1], right_t[:, j0:j1], out=tile)
            if log_weight is not None:
                tile += log_weight(labels[i0:i1], labels[j0:j1])
            # β(⟨u,v⟩ - 1) exceeds 0 by rounding only (≈1e-16 β): no overflow.
            np.exp(tile, out=tile)
            on_diagonal = j0 == i0
            if weight is not None:
                w = weight(labels[i0:i1], labels[j0:j1])
                if on_diagonal and not np.allclose(w[:, :height], w[:, :height].T):
                    raise ValueError("weight must be symmetric: weight(a, b) == weight(b, a)")
                tile *= w
            # Entries in columns from `mirror` on also stand for their mirror
            # images (row j, column i); the diagonal square [i0, i1)² already
            # holds both members of each of its pairs.
            mirror = i1 if on_diagonal else j0
            if want_force:
                _contract(tile, U, U_t, force, i0, i1, j0, j1, mirror)
            if want_sum:
                total += 2.0 * float(tile.sum())
                if on_diagonal:
                    total -= float(tile[:, :height].sum())
    if want_force:
        force /= n
    return force, (total if want_sum else None)


def _contract(tile, U, U_t, force, i0, i1, j0, j1, mirror) -> None:
    r"""Add the tile's two contributions to ``force`` (unnormalised).

    ``force[I] += T @ u_J`` and ``force[mirror:j1] += T[:, mirror - j0:].T @ u_I``
    for the tile ``T`` of rows ``I = [i0, i1)`` and columns ``J = [j0, j1)``.
    """
    k = mirror - j0
    if U.shape[1] < MATVEC_BELOW:
        force_t = force.T
        for c in range(U.shape[1]):
            force_t[c, i0:i1] += tile @ U_t[c, j0:j1]
            if mirror < j1:
                force_t[c, mirror:j1] += U_t[c, i0:i1] @ tile[:, k:]
    else:
        force[i0:i1] += tile @ U[j0:j1]
        if mirror < j1:
            force[mirror:j1] += tile[:, k:].T @ U[i0:i1]
