r"""Tiled evaluation of exponential attention sums for a batch of systems.

Every exponential kernel of MODEL.md §3 reduces, possibly after a change of
frame, to the two sums

.. math::

    F_i = \frac1n\sum_{j=1}^n w_{ij}\, e^{\beta(\langle u_i,u_j\rangle-1)}\, u_j,
    \qquad
    S = \sum_{i,j=1}^n w_{ij}\, e^{\beta(\langle u_i,u_j\rangle-1)},

with a symmetric weight :math:`w` (:math:`w\equiv1` for the baseline).  The
factor :math:`e^\beta` is pulled out (MODEL.md §3, large β) so that every
exponential lies in :math:`(0, 1]` and nothing overflows for any β.
:func:`exp_attention` evaluates them for ``B`` independent systems of ``n``
points at once (``U`` of shape ``(B, n, d)``); a single system is the batch
``B = 1``: there is one code path.

Design, rather than tuning, is what makes this fast:

* **Tiles that depend on n only.**  The ``n × n`` matrix is never formed.
  Its upper triangle is cut by :func:`tile_plan` into the *diagonal
  squares* of row blocks of ``block`` rows and, right of each square, a
  *strip* of the remaining columns, split into tiles of at most
  :data:`TILE_ENTRIES` = 2¹⁶ entries.  Only the diagonal squares
  exponentiate entries below the diagonal (a fraction of about
  ``block / n`` of the work, 3 % at n = 2048; smaller squares cost more in
  calls than they save, see :data:`BLOCK`).
* **Systems side by side.**  The same tile of several systems is computed
  by one call per operation on a stack ``(systems, rows, columns)`` of at
  most :data:`BATCH_ENTRIES` entries (as many systems as fit, at least one):
  the Python and call overheads are paid once per stack rather than once
  per system, which is what makes many small systems cheap.  All diagonal
  squares of all systems form one such stack.  Small systems share stacks;
  from n ≈ 1000 on, a system's widest strips fill a stack alone, and a
  batch saves only the costs outside the tiles.
* **Bitwise the same as separate runs.**  A tile's shape never depends on
  ``B``, every per-system operation on a stack is the one a single system
  would do (a BLAS product per stacked item with the same shapes and
  strides, elementwise ``exp``/``+``/``*``), and contributions are added in
  the same order (diagonal squares, then strips in plan order).  Nothing is
  reduced across a stack with NumPy's shape-dependent pairwise summation:
  the pair sum comes out of the same products as the forces, through an
  extra coordinate of ones (with ``d = 3`` it is always there: OpenBLAS
  contracts a tile with four columns faster than with three).
* **Symmetry.**  A strip tile ``T`` of rows ``I`` and columns ``J`` serves
  its rows (``T @ u_J``) and, through its transpose, its columns
  (``Tᵀ @ u_I``), so every exponential off the diagonal squares is computed
  once for two pairs; this halves the work on ``exp``, the dominant cost
  (about 45 % of the time; the tile's product and its two contractions
  take most of the rest).
* **One product per tile.**  The shift :math:`-\beta` is folded into the
  tile's matrix product by augmenting the left factor with a column of ones
  and the right factor (stored transposed and contiguous) with a row of
  :math:`-\beta`; the weight enters as :math:`\log w` before the same
  in-place ``exp``.  Every tile is written into one preallocated buffer.
* **One thread, fixed order.**  The products of a tile have at most
  ``(d + 1) · 2¹⁶`` multiply–adds, below the sizes at which OpenBLAS hands a
  call to its thread pool, so every call runs on the calling thread: the
  result is bitwise reproducible, the routine is safe to call from several
  threads at once, and it does not lose several-fold when the cores are
  oversubscribed (parallel experiments, shared machines).

* **One block of scratch memory per call.**  The factors, the operand, the
  accumulator and the tile buffer are views into a single allocation
  (:func:`_carve`).  Allocated one by one, each was a fresh ``mmap`` that
  glibc returned to the system on release, so every call of a batch of 32
  systems of n = 256 faulted in about 460 new pages, about a third of its
  time (measured on Linux).  A single freed block raises glibc's ``mmap``
  threshold to its size (up to 32 MiB), so later calls take it from the
  heap, already mapped: no page faults.

Memory: ``O(B · n · d)`` for the points and the results plus at most
:data:`BATCH_ENTRIES` float64 numbers (512 KiB) of tiles, whatever ``B`` and
``n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

#: Largest number of entries of one system's tile (512 KiB of float64).
TILE_ENTRIES = 1 << 16
#: Largest number of entries of a stack of tiles of several systems (512 KiB,
#: inside a core's L2 cache).  Stacks of 2¹⁷ and 2¹⁸ entries were measured no
#: faster for small systems and slower for n >= 1024 (they spill out of L2).
BATCH_ENTRIES = 1 << 16
#: Rows of a row block (all n <= BLOCK are one diagonal square).  Smaller
#: blocks would exponentiate fewer entries below the diagonal, but cost more
#: calls: measured at n = 64..2048, blocks of 16 and 32 rows are slower, and
#: so is cutting each diagonal square into two half squares and the rectangle
#: between them (30-80 % slower for one system with n <= 256, at most 11 %
#: faster per system in batches of 32).
BLOCK = 64

#: ``log_weight(systems, a_I, a_J)`` → :math:`\log w` for a stack of tiles,
#: ``systems`` indexing the systems of the stack.
LogWeight = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
#: ``weight(system, a_I, a_J)`` → :math:`w` for the tile of one system.
Weight = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class TilePlan:
    """How the upper triangle of an ``n × n`` matrix is cut (module docstring).

    Attributes
    ----------
    n : int
    block : int
        Rows of a row block; the diagonal squares are ``block × block``.
    blocks : int
        Number of full row blocks, ``n // block``.
    tail : int
        Rows of the last, shorter row block (``n - blocks * block``, may be 0).
    strips : tuple of (i0, i1, j0, j1)
        Off-diagonal tiles, rows ``[i0, i1)`` by columns ``[j0, j1)``, in
        the order their contributions are added.
    per_system : int
        Largest number of entries one system puts in a stack (all its
        diagonal squares, or its largest strip tile).
    """

    n: int
    block: int
    blocks: int
    tail: int
    strips: tuple
    per_system: int


@lru_cache(maxsize=64)
def tile_plan(n: int) -> TilePlan:
    """The tiles for ``n`` points (a function of ``n`` alone).

    Row blocks have ``block = min(n, BLOCK)`` rows; a strip tile is at most
    :data:`TILE_ENTRIES` entries, so at most ``TILE_ENTRIES // block``
    columns wide.

    Examples
    --------
    >>> plan = tile_plan(100)
    >>> plan.block, plan.blocks, plan.tail, plan.strips
    (64, 1, 36, ((0, 64, 64, 100),))
    >>> len(tile_plan(2048).strips)         # 32 row blocks, strips up to 1024 columns wide
    46
    """
    block = min(n, BLOCK)
    blocks, tail = divmod(n, block)
    width = TILE_ENTRIES // block
    strips = []
    for i0 in range(0, blocks * block, block):
        i1 = i0 + block
        for j0 in range(i1, n, width):
            strips.append((i0, i1, j0, min(j0 + width, n)))
    sizes = [blocks * block**2, tail**2] + [(i1 - i0) * (j1 - j0) for i0, i1, j0, j1 in strips]
    return TilePlan(n, block, blocks, tail, tuple(strips), max(sizes))


def _carve(*shapes: tuple | None) -> list:
    """Views of the given shapes (``None`` for none), side by side in one new block of memory."""
    total, places = _layout(shapes)
    block = np.empty(total)
    return [None if shape is None else block[start:stop].reshape(shape) for start, stop, shape in places]


@lru_cache(maxsize=256)
def _layout(shapes: tuple) -> tuple[int, tuple]:
    """Total size and ``(start, stop, shape)`` of each view of :func:`_carve` (a function of the shapes alone)."""
    places, start = [], 0
    for shape in shapes:
        size = 0 if shape is None else math.prod(shape)
        places.append((start, start + size, shape))
        start += size
    return start, tuple(places)


def exp_attention(
    U: np.ndarray,
    beta: np.ndarray,
    *,
    labels: np.ndarray | None = None,
    log_weight: LogWeight | None = None,
    weight: Weight | None = None,
    want_force: bool = True,
    want_sum: bool = False,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    r"""Tiled :math:`F` and :math:`S` of the module docstring for ``B`` systems.

    Parameters
    ----------
    U : (B, n, d) ndarray
        Points (unit rows; in the gauge frame for gauge kernels).
    beta : (B,) or (1,) ndarray
        Inverse temperature of each system (one value is shared).
    labels : (B, n) or (1, n) ndarray, optional
        Auxiliary labels handed to ``log_weight`` / ``weight`` tile by tile.
    log_weight : callable, optional
        ``log_weight(systems, a_I, a_J)`` → ``(len(systems), |I|, |J|)``
        array (or one broadcasting to it) of :math:`\log w_{ij}` for a stack
        of tiles, ``systems`` the indices of their systems; added to the
        exponent (one ``exp`` for weight and kernel together).
    weight : callable, optional
        ``weight(system, a_I, a_J)`` → ``(|I|, |J|)`` array of :math:`w_{ij}`
        (any sign) of one system, multiplied after the ``exp``.  Must be
        symmetric (checked on the diagonal squares).
    want_force, want_sum : bool
        Which of :math:`F` and :math:`S` to accumulate.

    Returns
    -------
    force : (B, n, d) ndarray or None
    total : (B,) ndarray or None
    """
    # One memory layout for every caller, so that each product sees the same strides.
    U = np.ascontiguousarray(U, dtype=np.float64)
    B, n, d = U.shape
    plan = tile_plan(n)
    beta = np.asarray(beta, dtype=np.float64)  # (B,) or (1,): broadcasts below
    if labels is not None and len(labels) != B:
        labels = np.broadcast_to(labels, (B, n))

    ones = want_sum or (want_force and d % 4 == 3 and bool(plan.strips))
    columns = (d if want_force else 0) + (1 if ones else 0)
    # Room for the largest stack: BATCH_ENTRIES, or less when the whole batch needs less.
    largest_tile = max(plan.block, plan.tail) ** 2 if not plan.strips else TILE_ENTRIES
    buffer_size = min(max(BATCH_ENTRIES, largest_tile), B * plan.per_system)
    # All scratch memory of the call in one block (the module docstring says why).
    grouped = plan.blocks > 1  # the diagonal squares' right factors are regrouped block by block
    left, right_t, acc, buffer, operand, right_blocks, squares_copy = _carve(
        (B, n, d + 1), (B, d + 1, n), (B, n, columns), (buffer_size,),
        (B, n, columns) if ones else None,
        (B, plan.blocks, d + 1, plan.block) if grouped else None,
        (B * plan.blocks, plan.block, columns) if grouped and plan.tail else None,
    )

    # Left factor [√β u, 1] and right factor [√β u, -β]ᵀ (stored transposed, so that
    # tiles read contiguous columns): their product is β(⟨u_i,u_j⟩ - 1).
    np.multiply(np.sqrt(beta)[:, None, None], U, out=left[..., :d])
    left[..., d] = 1.0
    right_t[:, :d] = left[..., :d].transpose(0, 2, 1)
    right_t[:, d] = -beta[:, None]
    # What the tiles are contracted with: the points (forces) and/or ones (row sums).
    # With d = 3 and strips to contract, the column of ones comes free: OpenBLAS
    # contracts a tile with 4 columns about 25 % faster than with 3 (measured,
    # 64-row tiles; n = 2048 is 1.3x faster overall).
    if ones:
        operand[...] = 1.0
        if want_force:
            operand[..., :d] = U
    else:
        operand = U

    def stack(count: int, rows: int, cols: int) -> tuple[int, np.ndarray]:
        """How many of ``count`` tiles of ``rows × cols`` go in one stack, and the stack's buffer."""
        per_stack = max(1, min(count, BATCH_ENTRIES // (rows * cols)))
        return per_stack, buffer[: per_stack * rows * cols].reshape(per_stack, rows, cols)

    def exponentiate(tile, first, step, a_I, a_J, diagonal):
        """exp of the tile, with the weight of the systems ``(first + arange(len(tile))) // step``."""
        systems = None if log_weight is None and weight is None else (first + np.arange(len(tile))) // step
        if log_weight is not None:
            tile += log_weight(systems, a_I, a_J)
        # β(⟨u,v⟩ - 1) exceeds 0 by rounding only (≈1e-16 β): no overflow.
        np.exp(tile, out=tile)
        if weight is not None:
            for k in range(len(tile)):
                w = weight(int(systems[k]), a_I[k], a_J[k])
                if diagonal and not np.allclose(w, w.T):
                    raise ValueError("weight must be symmetric: weight(a, b) == weight(b, a)")
                tile[k] *= w

    # Diagonal squares first: every full row block of every system in one list of items
    # (views when a system has one block or the blocks fill it, else copies).
    for start, size, count in ((0, plan.block, plan.blocks), (plan.blocks * plan.block, plan.tail, 1)):
        if size == 0 or count == 0:
            continue
        stop = start + size * count
        items = B * count
        L = left[:, start:stop].reshape(items, size, d + 1)
        if count == 1:
            R = right_t[:, :, start:stop]
        else:
            right_blocks[...] = right_t[:, :, start:stop].reshape(B, d + 1, count, size).transpose(0, 2, 1, 3)
            R = right_blocks.reshape(items, d + 1, size)
        O = operand[:, start:stop].reshape(items, size, columns)
        A = None if labels is None else labels[:, start:stop].reshape(items, size)
        in_place = count == 1 or stop - start == n
        squares = acc[:, start:stop].reshape(items, size, columns) if in_place else squares_copy
        per_stack, full = stack(items, size, size)
        for p0 in range(0, items, per_stack):
            p1 = min(p0 + per_stack, items)
            tile = full[: p1 - p0]
            np.matmul(L[p0:p1], R[p0:p1], out=tile)
            a = None if A is None else A[p0:p1]
            exponentiate(tile, p0, count, a, a, True)
            np.matmul(tile, O[p0:p1], out=squares[p0:p1])
        if not in_place:
            acc[:, start:stop] = squares.reshape(B, stop - start, columns)

    # Then the strips, each tile for a stack of systems at a time.
    for i0, i1, j0, j1 in plan.strips:
        per_stack, full = stack(B, i1 - i0, j1 - j0)
        for b0 in range(0, B, per_stack):
            b1 = min(b0 + per_stack, B)
            tile = full[: b1 - b0]
            np.matmul(left[b0:b1, i0:i1], right_t[b0:b1, :, j0:j1], out=tile)
            a_I = None if labels is None else labels[b0:b1, i0:i1]
            a_J = None if labels is None else labels[b0:b1, j0:j1]
            exponentiate(tile, b0, 1, a_I, a_J, False)
            acc[b0:b1, i0:i1] += tile @ operand[b0:b1, j0:j1]
            # Tᵀ @ u_I as a product with a transposed operand: measured 3-7 % faster
            # than (u_Iᵀ @ T)ᵀ and than d matrix-vector products.
            acc[b0:b1, j0:j1] += tile.transpose(0, 2, 1) @ operand[b0:b1, i0:i1]

    force = None
    if want_force:
        force = acc[..., :d] / n if ones else np.divide(acc, n, out=acc)
    # Σ_i (row sums): each system's row sums are summed on their own, in one fixed order.
    total = np.ascontiguousarray(acc[..., -1]).sum(axis=1) if want_sum else None
    return force, total
