r"""Cache-blocked evaluation of exponential attention sums.

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

* the ``n × n`` matrix is never formed: rows are taken in strips of
  ``b`` rows, and strip ``I`` holds only the columns ``j >= min I``, so
  memory is O(n · b) (a few megabytes even for n = 32768);
* the kernel is symmetric, so only the upper triangle of exponentials is
  computed: strip ``I`` serves its own rows (``S @ u_{j>=I}``) and, through
  its transpose, the later rows (``S[:, b:].T @ u_I``), halving the work on
  ``exp``, which dominates;
* the shift by :math:`-\beta` is folded into the strip's matrix product by
  augmenting the left factor with a column of ones and the right factor
  (stored transposed and contiguous) with a row of :math:`-\beta`, so each
  strip costs one product, one in-place ``exp`` and two thin products;
* every strip is written into one preallocated buffer.

The loop runs over strips (n / b of them), never over particles.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

#: Strip buffers hold about this many float64 entries (4 MiB): large enough
#: that the Python overhead per strip is negligible, small enough to stay in
#: the last-level cache.  The strip height follows from it (``strip_rows``).
STRIP_ENTRIES = 1 << 19

PairFunction = Callable[[np.ndarray, np.ndarray], np.ndarray]


def strip_rows(n: int) -> int:
    """Rows per strip for ``n`` particles: 256 for small n, down to 16 for huge n."""
    return int(np.clip(STRIP_ENTRIES // max(n, 1), 16, 256))


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
    r"""Blocked :math:`F` and :math:`S` of the module docstring.

    Parameters
    ----------
    U : (n, d) ndarray
        Points (unit rows; in the gauge frame for gauge kernels).
    beta : float
        Inverse temperature.
    labels : (n,) ndarray, optional
        Auxiliary labels handed to ``log_weight`` / ``weight`` strip by strip.
    log_weight : callable, optional
        ``log_weight(a_I, a_J)`` → ``(|I|, |J|)`` array of :math:`\log w_{ij}`,
        added to the exponent (one ``exp`` for weight and kernel together).
    weight : callable, optional
        ``weight(a_I, a_J)`` → ``(|I|, |J|)`` array of :math:`w_{ij}` (any
        sign), multiplied after the ``exp``.  Must be symmetric.
    want_force, want_sum : bool
        Which of :math:`F` and :math:`S` to accumulate.
    rows : int, optional
        Strip height; defaults to ``strip_rows(n)``.

    Returns
    -------
    force : (n, d) ndarray or None
    total : float or None
    """
    n, d = U.shape
    rows = strip_rows(n) if rows is None else rows
    left = np.empty((n, d + 1))
    left[:, :d] = np.sqrt(beta) * U
    left[:, d] = 1.0
    right_t = np.empty((d + 1, n))  # contiguous transpose: strips read its columns
    right_t[:d] = left[:, :d].T
    right_t[d] = -beta
    force = np.zeros((n, d)) if want_force else None
    total = 0.0
    buffer = np.empty(rows * n)
    for i0 in range(0, n, rows):
        i1 = min(i0 + rows, n)
        height = i1 - i0
        strip = buffer[: height * (n - i0)].reshape(height, n - i0)
        np.matmul(left[i0:i1], right_t[:, i0:], out=strip)
        if log_weight is not None:
            strip += log_weight(labels[i0:i1], labels[i0:])
        # β(⟨u,v⟩ - 1) exceeds 0 by rounding only (≈1e-16 β): no overflow.
        np.exp(strip, out=strip)
        if weight is not None:
            w = weight(labels[i0:i1], labels[i0:])
            if not np.allclose(w[:, :height], w[:, :height].T):
                raise ValueError("weight must be symmetric: weight(a, b) == weight(b, a)")
            strip *= w
        if want_force:
            force[i0:i1] += strip @ U[i0:]
            if i1 < n:
                force[i1:] += strip[:, height:].T @ U[i0:i1]
        if want_sum:
            # The strip's leading square is the diagonal block (counted once);
            # the rest stands for itself and its mirror image.
            total += 2.0 * float(strip.sum()) - float(strip[:, :height].sum())
    if want_force:
        force /= n
    return force, (total if want_sum else None)
