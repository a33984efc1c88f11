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
from .dynamics import _check_kernel, bind
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
    kernel = _check_kernel(kernel)
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
    rows = max(1, BLOCK_ENTRIES // size)
    best = np.zeros(len(frames))
    for f, frame in enumerate(frames):
        Y = frame[members]
        Y = Y - Y[0]
        norms = np.einsum("ij,ij->i", Y, Y)
        for i0 in range(0, size, rows):
            tile = Y[i0:i0 + rows] @ Y.T
            tile *= -2.0
            tile += norms[i0:i0 + rows, None]
            tile += norms[None, :]
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
    kernel = _check_kernel(kernel)
    frames, single = check_frames(X)
    _, interaction = bind(kernel, frames[0], aux)
    maximum = interaction.pair_sum_max()
    if maximum is None:
        raise ValueError(
            f"relative_energy_gap needs a kernel with a known maximum energy; "
            f"{type(kernel).__name__} with a sign-changing weight has none"
        )
    if not maximum > 0.0:
        raise ValueError(
            f"relative_energy_gap is undefined for this {type(kernel).__name__} kernel and these labels: "
            f"the largest possible energy is {maximum / (2.0 * interaction.n**2):.3g} <= 0 "
            "(an all-zero weight, or a Toeplitz profile with no positive eigenvalue of C_ij = c(a_i - a_j))"
        )
    values = np.array([1.0 - interaction.pair_sum(frame) / maximum for frame in frames])
    tolerance = _gap_round_off(interaction, frames.shape[2])
    values[(values < 0.0) & (values >= -tolerance)] = 0.0
    return _unwrap(values, single)


def euler_lagrange_residual(kernel, X, aux):
    r"""Largest projected gradient, :math:`\max_i|P_{x_i}v_i|`, in the rescaled clock (seed Prop. 8).

    Vanishes at every maximiser of the energy.  Measured with the factor
    :math:`e^\beta` removed, so for the exponential kernels it is relative to
    the largest possible force (at most 1 times the largest weight).
    Memory: O(n · block) per frame.
    """
    kernel = _check_kernel(kernel)
    frames, single = check_frames(X)
    _, interaction = bind(kernel, frames[0], aux)
    values = np.array([
        np.max(np.linalg.norm(_project_tangent(frame, interaction.drift(frame)), axis=-1)) for frame in frames
    ])
    return _unwrap(values, single)


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
    ``pdist`` does, and the edges are merged by connected components (tiles
    whose points are already one cluster are skipped).  O(n² d) time at
    worst, O(n + BLOCK_ENTRIES) memory.

    >>> count_clusters(np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]), 1e-2)
    2
    """
    X = check_points(X)
    threshold = check_positive_scalar(threshold, "threshold", allow_zero=True)
    n, d = X.shape
    if threshold >= 3.0:  # points within 1e-8 of the sphere are at most ~2 apart
        return 1
    limit = threshold * threshold
    norms = np.einsum("ij,ij->i", X, X)
    # Rounding of the screened squared distance: a dot product of d terms and
    # three additions of O(1) numbers, and that of pdist's own value (d + 2
    # operations relative to the squared distance); 16 (d + 3) eps of both.
    band = 16.0 * (d + 3) * _EPS * (2.0 * float(norms.max()) + limit)
    side = min(n, int(np.sqrt(BLOCK_ENTRIES)))
    labels = np.arange(n)  # cluster label of every point, as of the last merge
    pending: list[np.ndarray] = []  # label pairs found since, as a * n + b
    waiting = 0
    for i0 in range(0, n, side):
        rows = slice(i0, min(i0 + side, n))
        for j0 in range(i0, n, side):
            cols = slice(j0, min(j0 + side, n))
            first = labels[i0]
            if np.all(labels[rows] == first) and np.all(labels[cols] == first):
                continue  # already one cluster
            squared = X[rows] @ X[cols].T
            squared *= -2.0
            squared += norms[rows, None]
            squared += norms[None, cols]
            i, j = np.nonzero(squared <= limit + band)
            if i.size == 0:
                continue
            borderline = squared[i, j] >= limit - band
            if borderline.any():
                exact = _pdist_pairs(X, i[borderline] + i0, j[borderline] + j0) <= threshold
                keep = ~borderline
                keep[borderline] = exact
                i, j = i[keep], j[keep]
            a, b = labels[i + i0], labels[j + j0]
            joined = np.unique(a[a != b] * n + b[a != b])
            if joined.size:
                pending.append(joined)
                waiting += joined.size
                if waiting > n:
                    labels = _merge(labels, pending, n)
                    pending, waiting = [], 0
    labels = _merge(labels, pending, n)
    return int(len(np.unique(labels)))


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
    pairs = np.concatenate(pending)
    graph = coo_matrix((np.ones(pairs.size, dtype=np.int8), (pairs // n, pairs % n)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    return component[labels]


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
