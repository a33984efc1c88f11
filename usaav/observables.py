r"""Collapse observables (MODEL.md §6).

Each observable takes one configuration ``(n, d)`` and returns a float, or a
stack of frames ``(frames, n, d)`` (for example ``Trajectory.X``) and
returns one value per frame.  Every frame is validated once, at entry
(shape, finite entries, unit rows).

Memory: besides the input, every observable works in tiles of at most
:data:`usaav._validation.BLOCK_ENTRIES` (2²⁰) float64 entries, i.e.
O(n · block) whatever ``n`` and however the labels are grouped; no
``n × n`` matrix is ever formed.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ._validation import BLOCK_ENTRIES, check_aux, check_frames, check_points, check_positive_scalar
from .kernels import check_finite_result, check_kernel
from .sphere import _project_tangent

__all__ = [
    "collapse_gap",
    "conditional_diameter",
    "count_clusters",
    "euler_lagrange_residual",
    "gauge_gap",
    "relative_energy_gap",
    "winding_number",
]

_EPS = float(np.finfo(np.float64).eps)

#: Side of the square tiles of pairwise quantities: 256² = 2¹⁶ entries (512 KiB).
#: Their thin matrix products stay below the sizes at which OpenBLAS starts
#: threads; with 1024² tiles a product took 6.7 ns per entry on two cores
#: shared with other jobs, against 1.0 ns at 256² (0.4 single-threaded).
_TILE_SIDE = 256


def _unwrap(values: np.ndarray, single: bool):
    """One value per frame; a float when the input was a single configuration."""
    return float(values[0]) if single else values


def _frame_chunks(frames: np.ndarray):
    """Consecutive slices of the frame axis holding at most BLOCK_ENTRIES numbers (at least one frame)."""
    per_frame = frames.shape[1] * frames.shape[2]
    step = max(1, BLOCK_ENTRIES // per_frame)
    for f0 in range(0, len(frames), step):
        yield slice(f0, f0 + step)


def _gap(frames: np.ndarray) -> np.ndarray:
    r""":math:`\frac1n\sum_i|x_i-\bar x|^2` per frame, in chunks of frames."""
    values = np.empty(len(frames))
    for chunk in _frame_chunks(frames):
        part = frames[chunk]
        centred = part - part.mean(axis=1, keepdims=True)
        values[chunk] = np.mean(np.sum(centred**2, axis=-1), axis=-1)
    return values


def collapse_gap(X):
    r"""Collapse gap :math:`\Gamma(X)=\frac1{2n^2}\sum_{i,j}|x_i-x_j|^2 = 1-|\bar x|^2` (MODEL.md §6).

    Zero iff all points coincide; computed as :math:`\frac1n\sum_i|x_i-\bar x|^2`
    (equal for unit rows), which has no cancellation near collapse.
    O(frames · n · d) time; extra memory one block of frames.

    Examples
    --------
    >>> collapse_gap(np.array([[1.0, 0.0], [-1.0, 0.0]]))
    1.0
    """
    frames, single = check_frames(X)
    return _unwrap(_gap(frames), single)


def gauge_gap(kernel, X, aux):
    r"""Collapse gap in the gauge frame, :math:`\Gamma(\{G(a_i)x_i\})` (MODEL.md §6).

    For kernels without a gauge this is :func:`collapse_gap`.  Extra memory:
    one block of frames.
    """
    kernel = check_kernel(kernel)
    frames, single = check_frames(X)
    interaction = kernel.bind(aux, *frames.shape[1:])
    values = np.empty(len(frames))
    for chunk in _frame_chunks(frames):
        values[chunk] = _gap(interaction.gauge_frame(frames[chunk]))
    return _unwrap(values, single)


#: Label groups up to this size are handled together, pair by pair; larger
#: ones one at a time by tiles of centred inner products.
_SMALL_GROUP = 64


def conditional_diameter(X, aux):
    r"""Largest within-label diameter, :math:`\max_a\max_{i,j:\,a_i=a_j=a}|x_i-x_j|` (MODEL.md §6).

    Zero iff the configuration is Dirac in :math:`x` at each label (the
    conditional Dirac structure of Thm. 3).  Labels that occur once
    contribute 0.

    Cost O(frames · Σ_a n_a² · d) for groups of sizes :math:`n_a`, memory
    O(n + BLOCK_ENTRIES) whatever the group sizes: small groups are
    processed together pair by pair, large ones in tiles of
    :math:`|y_i|^2+|y_j|^2-2\langle y_i,y_j\rangle` with :math:`y=x-x_{\text{first}}`
    (centred on a member, so that there is no cancellation near collapse:
    the error is a few eps times the diameter squared).

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> conditional_diameter(X, [0, 1, 0])
    0.0
    """
    frames, single = check_frames(X)
    labels = check_aux(aux, frames.shape[1])
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, len(labels)])
    squared = np.zeros(len(frames))
    small = (sizes > 1) & (sizes <= _SMALL_GROUP)
    if small.any():
        squared = np.maximum(squared, _small_groups_diameter2(frames, order, starts[small], sizes[small]))
    for start, size in zip(starts[sizes > _SMALL_GROUP], sizes[sizes > _SMALL_GROUP]):
        squared = np.maximum(squared, _large_group_diameter2(frames, order[start:start + size]))
    return _unwrap(np.sqrt(squared), single)


def _small_groups_diameter2(frames, order, starts, sizes) -> np.ndarray:
    """Largest squared distance within the given groups, per frame, by direct differences."""
    F, _, d = frames.shape
    best = np.zeros(F)
    pairs = sizes * (sizes - 1) // 2
    budget = max(1, BLOCK_ENTRIES // (4 * d))  # pairs per batch of groups
    cumulative = np.cumsum(pairs)
    g0 = 0
    while g0 < len(sizes):
        done = cumulative[g0 - 1] if g0 else 0
        g1 = max(g0 + 1, int(np.searchsorted(cumulative, done + budget, side="right")))
        first, second = _pairs_within(order, starts[g0:g1], sizes[g0:g1])
        frame_step = max(1, BLOCK_ENTRIES // (len(first) * d))
        for f0 in range(0, F, frame_step):
            part = frames[f0:f0 + frame_step]
            difference = part[:, first] - part[:, second]
            best[f0:f0 + frame_step] = np.maximum(
                best[f0:f0 + frame_step], np.einsum("fpk,fpk->fp", difference, difference).max(axis=1)
            )
        g0 = g1
    return best


def _pairs_within(order, starts, sizes) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j), i < j in sorted order, of all pairs inside each group (no loop over particles)."""
    count = sizes**2
    group = np.repeat(np.arange(len(starts)), count)
    offset = np.arange(group.size) - np.repeat(np.cumsum(count) - count, count)
    row, col = offset // sizes[group], offset % sizes[group]
    keep = row < col
    base = starts[group[keep]]
    return order[base + row[keep]], order[base + col[keep]]


def _large_group_diameter2(frames, members) -> np.ndarray:
    """Largest squared distance within one group, per frame, by tiles of centred inner products."""
    size = len(members)
    best = np.zeros(len(frames))
    buffer = np.empty(_TILE_SIDE * _TILE_SIDE)
    for f, frame in enumerate(frames):
        Y = frame[members]
        Y = Y - Y[0]
        norms = np.einsum("ij,ij->i", Y, Y)
        # |y_i - y_j|² = [y_i, |y_i|², 1] · [-2 y_j, 1, |y_j|²], tiles on and above the diagonal.
        left = np.c_[Y, norms, np.ones(size)]
        right_t = np.ascontiguousarray(np.c_[-2.0 * Y, np.ones(size), norms].T)
        for i0 in range(0, size, _TILE_SIDE):
            i1 = min(i0 + _TILE_SIDE, size)
            for j0 in range(i0, size, _TILE_SIDE):
                j1 = min(j0 + _TILE_SIDE, size)
                tile = buffer[: (i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
                np.matmul(left[i0:i1], right_t[:, j0:j1], out=tile)
                best[f] = max(best[f], float(tile.max()))
    return best


def _gap_round_off(interaction, d: int) -> float:
    r"""How negative a relative gap may be from rounding alone (then it is reported as 0).

    The exponent β(⟨u,v⟩-1) carries an absolute error ~(d+1) β eps, i.e. a
    relative error of each term; the tiled sum of n² terms adds ~n eps
    (sequential accumulation of at most n tile sums, each summed pairwise);
    1e-12 covers the eigenvalue of the Toeplitz bound and the rest.
    """
    return 1e-12 + (8.0 * (d + 1) * interaction.log_scale + 4.0 * interaction.n) * _EPS


def relative_energy_gap(kernel, X, aux):
    r"""Relative energy gap :math:`(E_{\max}-E_n)/E_{\max}` (MODEL.md §6), in [0, 1] for :math:`E_n\ge0`.

    :math:`E_{\max}` is a maximum of :math:`E_n` valid for the given labels
    (MODEL.md §4):

    * :math:`e^\beta/(2\beta)` for the baseline and the gauge kernels;
    * :math:`\frac1{2n^2}\sum_{ij}w(a_i,a_j)e^\beta/\beta`, the energy of a
      constant configuration, for separated and distance-bias kernels with
      :math:`w\ge0` (Prop. 11);
    * :math:`\lambda_{\max}(C)/(2n)`, :math:`C_{ij}=c(a_i-a_j)`, for Toeplitz
      (Prop. 10, the Rayleigh bound valid for *any* labels; it equals
      :math:`\frac12\max_k\hat c(k)` on the uniform grid when
      :math:`n>2\max k`).

    Computed from the rescaled energy, so it is accurate for any β.  A value
    below 0 by no more than the round-off of the sums (about 1e-12, see
    ``_gap_round_off``) is reported as 0; a more negative one would be a bug.
    Memory: O(n · block) per frame.

    Raises
    ------
    ValueError
        For a separated kernel whose weight changes sign (no known maximum),
        and when the maximum is 0 (an all-zero weight, a Toeplitz kernel with
        :math:`\lambda_{\max}(C)\le0`): the relative gap is then undefined.
    """
    kernel = check_kernel(kernel)
    frames, single = check_frames(X, project=True)
    interaction = kernel.bind(aux, *frames.shape[1:])
    with np.errstate(over="ignore", invalid="ignore"):
        maximum = interaction.pair_sum_max()
    if maximum is None:
        raise ValueError(
            f"relative_energy_gap needs a kernel with a known maximum energy; "
            f"{type(kernel).__name__} with a negative or sign-changing weight has none"
        )
    check_finite_result(maximum, "the maximum energy", interaction, "rescaled")
    if not maximum > 0.0:
        raise ValueError(
            f"relative_energy_gap is undefined for this {type(kernel).__name__} kernel and these labels: "
            f"the largest possible energy is {maximum / (2.0 * interaction.n**2):.3g} <= 0 "
            "(an all-zero weight, or a Toeplitz profile with no positive eigenvalue of C_ij = c(a_i - a_j))"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.array([1.0 - interaction.pair_sum(frame) / maximum for frame in frames])
    check_finite_result(values, "the relative energy gap", interaction, "rescaled")
    tolerance = _gap_round_off(interaction, frames.shape[2])
    values[(values < 0.0) & (values >= -tolerance)] = 0.0
    return _unwrap(values, single)


def euler_lagrange_residual(kernel, X, aux):
    r"""Largest projected gradient, :math:`\max_i|P_{x_i}v_i|`, in the rescaled clock (the paper's Prop. 8).

    Vanishes at every maximiser of the energy.  Measured with the factor
    :math:`e^\beta` removed, so for the exponential kernels it is relative to
    the largest possible force (at most 1 times the largest weight).
    Memory: O(n · block) per frame.
    """
    kernel = check_kernel(kernel)
    frames, single = check_frames(X, project=True)
    interaction = kernel.bind(aux, *frames.shape[1:])
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.array([
            np.max(np.linalg.norm(_project_tangent(frame, interaction.drift(frame)), axis=-1)) for frame in frames
        ])
    return _unwrap(check_finite_result(values, "the Euler-Lagrange residual", interaction, "rescaled"), single)


def count_clusters(X, threshold: float = 1e-3) -> int:
    r"""Number of clusters: single-linkage clustering of the points cut at chordal distance ``threshold``.

    Two points are in one cluster iff a chain of points joins them with
    every step :math:`|x_i-x_j|\le` ``threshold`` (ties included): exactly
    ``scipy.cluster.hierarchy.fcluster(linkage(X, "single"), threshold,
    "distance")``.  Counts the atoms of a (numerically) discrete law, e.g.
    the clusters of Cor. 2 (as many as distinct prompt gauges).

    Computed without the :math:`n^2/2` condensed distance matrix: the pairs
    are screened in tiles by :math:`|x|^2+|y|^2-2\langle x,y\rangle`, the few
    within round-off of the threshold are recomputed exactly as scipy's
    ``pdist`` does, and the edges are merged by connected components.  Tiles
    whose points are already one cluster, or are further apart than the
    threshold in the first coordinate (points sorted by it), are skipped.
    O(n² d) time at worst, O(n + tile) memory.

    >>> count_clusters(np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]), 1e-2)
    2
    """
    X = check_points(X)
    threshold = check_positive_scalar(threshold, "threshold", allow_zero=True)
    n, d = X.shape
    if threshold >= 3.0:  # points within 1e-8 of the sphere are at most ~2 apart
        return 1
    limit = threshold * threshold
    # Sorted along the first axis, a tile whose columns lie further than the
    # threshold beyond its rows in that coordinate has no pair to join, nor
    # have the tiles right of it (|x - y| >= |x_1 - y_1|): they are skipped.
    X = X[np.argsort(X[:, 0], kind="stable")]
    first_coordinate = X[:, 0]
    norms = np.einsum("ij,ij->i", X, X)
    # |x_i - x_j|² = [x_i, |x_i|², 1] · [-2 x_j, 1, |x_j|²]: one matrix product per tile.
    left = np.c_[X, norms, np.ones(n)]
    right_t = np.ascontiguousarray(np.c_[-2.0 * X, np.ones(n), norms].T)
    # Rounding of that product (d + 2 terms of size <= 2) and of pdist's own
    # value (d + 2 operations, relative to the squared distance): both are
    # below 16 (d + 3) eps (2 max|x|² + threshold²).
    band = 16.0 * (d + 3) * _EPS * (2.0 * float(norms.max()) + limit)
    side = min(n, _TILE_SIDE)
    buffer = np.empty(side * side)
    labels = np.arange(n)  # cluster label of every (sorted) point, as of the last merge
    pending: list[np.ndarray] = []  # (2, k) label pairs to join, found since
    waiting = 0
    for i0 in range(0, n, side):
        i1 = min(i0 + side, n)
        for j0 in range(i0, n, side):
            j1 = min(j0 + side, n)
            # 1e-12 covers the rounding of the coordinates' difference in pdist.
            if first_coordinate[j0] - first_coordinate[i1 - 1] > threshold + 1e-12:
                break
            first = labels[i0]
            if np.all(labels[i0:i1] == first) and np.all(labels[j0:j1] == first):
                continue  # already one cluster
            squared = buffer[: (i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
            np.matmul(left[i0:i1], right_t[:, j0:j1], out=squared)
            near = squared <= limit + band
            if not near.any():
                continue
            borderline = near & (squared >= limit - band)
            if borderline.any():
                bi, bj = np.nonzero(borderline)
                near[bi, bj] = _pdist_pairs(X, bi + i0, bj + j0) <= threshold
            forest = _tile_forest(near, labels[i0:i1], labels[j0:j1])
            if forest.shape[1]:
                pending.append(forest)
                waiting += forest.shape[1]
                if waiting > n:
                    labels = _merge(labels, pending, n)
                    pending, waiting = [], 0
    labels = _merge(labels, pending, n)
    return int(len(np.unique(labels)))


def _tile_forest(near: np.ndarray, row_labels: np.ndarray, col_labels: np.ndarray) -> np.ndarray:
    """Label pairs (2, k), k < 2 · tile side, joining the same clusters as the near pairs of one tile.

    A tile may hold 2¹⁶ near pairs (a collapsed cloud); they are reduced to
    a spanning forest over the labels of the tile's points: first from each
    row's first near column and each column's first near row (enough for
    dense tiles), then from whatever pairs that guess left in different groups.
    """
    count = int(np.count_nonzero(near))
    if count <= 2 * _TILE_SIDE:  # few pairs: keep them as they are
        i, j = np.nonzero(near)
        a, b = row_labels[i], col_labels[j]
        return np.stack([a[a != b], b[a != b]])
    near = near & (row_labels[:, None] != col_labels[None, :])  # pairs not joined yet
    if not near.any():
        return np.empty((2, 0), dtype=np.int64)
    ids, inverse = np.unique(np.r_[row_labels, col_labels], return_inverse=True)
    at_row, at_col = inverse[: len(row_labels)], inverse[len(row_labels):]
    rows = np.flatnonzero(near.any(axis=1))
    cols = np.flatnonzero(near.any(axis=0))
    a = np.r_[at_row[rows], at_row[near[:, cols].argmax(axis=0)]]
    b = np.r_[at_col[near[rows].argmax(axis=1)], at_col[cols]]
    group = _components(a, b, len(ids))
    missed = near & (group[at_row][:, None] != group[at_col][None, :])
    if missed.any():
        i, j = np.nonzero(missed)
        group = _components(np.r_[a, at_row[i]], np.r_[b, at_col[j]], len(ids))
    _, first = np.unique(group, return_index=True)
    root = ids[first[group]]  # every label joined to the first label of its group
    keep = root != ids
    return np.stack([root[keep], ids[keep]])


def _components(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """Connected component of each of ``size`` nodes of the undirected graph with edges a - b."""
    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(size, size))
    return connected_components(graph, directed=False)[1]


def _pdist_pairs(X: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """|x_i - x_j| summed coordinate by coordinate, in the order of scipy's pdist (bitwise equal to it)."""
    total = np.zeros(len(i))
    for k in range(X.shape[1]):
        difference = X[i, k] - X[j, k]
        total += difference * difference
    return np.sqrt(total)


def _merge(labels: np.ndarray, pending: list, n: int) -> np.ndarray:
    """Relabel the points after joining the label pairs in ``pending`` (connected components)."""
    if not pending:
        return labels
    a, b = np.concatenate(pending, axis=1)
    return _components(a, b, n)[labels]


def winding_number(X, positions=None) -> float:
    r"""How many times the closed curve :math:`s\mapsto x(s)` winds around its mean.

    Points are ordered by ``positions`` (default: the row order), projected
    on the plane of the two largest principal directions of the centred
    cloud, and the wrapped angle increments (closing the loop from the last
    point to the first) are summed and divided by :math:`2\pi`.  A great
    circle run m times gives :math:`\pm m` (Prop. 10); a constant path 0.
    Needs ``n >= 3`` points (a closed curve through fewer has no winding).
    O(n d²) time, O(n d) memory.

    >>> s = np.arange(12) / 12
    >>> X = np.c_[np.cos(4 * np.pi * s), np.sin(4 * np.pi * s), np.zeros(12)]
    >>> round(abs(winding_number(X, s)), 9)
    2.0
    """
    X = check_points(X)
    if len(X) < 3:
        raise ValueError(f"X must hold at least 3 points to wind around their mean, got {len(X)}")
    order = np.arange(len(X)) if positions is None else np.argsort(check_aux(positions, len(X), "positions"), kind="stable")
    centred = X[order] - X.mean(axis=0)
    basis = np.linalg.svd(centred, full_matrices=False)[2][:2]
    coords = centred @ basis.T
    angles = np.arctan2(coords[:, 1], coords[:, 0])
    steps = np.diff(np.r_[angles, angles[0]])
    steps = (steps + np.pi) % (2 * np.pi) - np.pi
    return float(steps.sum() / (2 * np.pi))
