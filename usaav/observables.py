r"""Collapse observables (MODEL.md §6).

Each observable takes one configuration ``(n, d)`` and returns a float, or a
stack of frames ``(frames, n, d)`` (for example ``Trajectory.X``) and
returns one value per frame.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from ._validation import as_float_array, check_aux
from .dynamics import _check_kernel, _energy, bind
from .sphere import project_tangent

__all__ = [
    "collapse_gap",
    "conditional_diameter",
    "count_clusters",
    "euler_lagrange_residual",
    "gauge_gap",
    "relative_energy_gap",
    "winding_number",
]


def _frames(X) -> tuple[np.ndarray, bool]:
    X = as_float_array(X, "X")
    if X.ndim == 2:
        return X[None], True
    if X.ndim == 3:
        return X, False
    raise ValueError(f"X must have shape (n, d) or (frames, n, d), got shape {X.shape}")


def _unwrap(values: np.ndarray, single: bool):
    """One value per frame; a float when the input was a single configuration."""
    return float(values[0]) if single else values


def collapse_gap(X):
    r"""Collapse gap :math:`\Gamma(X)=\frac1{2n^2}\sum_{i,j}|x_i-x_j|^2 = 1-|\bar x|^2` (MODEL.md §6).

    Zero iff all points coincide; computed as :math:`\frac1n\sum_i|x_i-\bar x|^2`
    (equal for unit rows), which has no cancellation near collapse.

    Examples
    --------
    >>> collapse_gap(np.array([[1.0, 0.0], [-1.0, 0.0]]))
    1.0
    """
    frames, single = _frames(X)
    centred = frames - frames.mean(axis=1, keepdims=True)
    values = np.mean(np.sum(centred**2, axis=-1), axis=-1)
    return _unwrap(values, single)


def gauge_gap(kernel, X, aux):
    r"""Collapse gap in the gauge frame, :math:`\Gamma(\{G(a_i)x_i\})` (MODEL.md §6).

    For kernels without a gauge this is :func:`collapse_gap`.
    """
    kernel = _check_kernel(kernel)
    frames, single = _frames(X)
    interaction = kernel.bind(aux, *frames.shape[1:])
    return collapse_gap(interaction.gauge_frame(frames[0] if single else frames))


def conditional_diameter(X, aux):
    r"""Largest within-label diameter, :math:`\max_a\max_{i,j:\,a_i=a_j=a}|x_i-x_j|` (MODEL.md §6).

    Zero iff the configuration is Dirac in :math:`x` at each label (the
    conditional Dirac structure of Thm. 3).  Labels that occur once
    contribute 0.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> conditional_diameter(X, [0, 1, 0])
    0.0
    """
    frames, single = _frames(X)
    labels = check_aux(aux, frames.shape[1])
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, len(labels)])
    if int(np.sum(sizes**2)) > 4 * 10**7:
        raise ValueError(
            f"aux has label groups too large for conditional_diameter (largest has {sizes.max()} "
            "particles); it is meant for a few particles per label"
        )
    # All within-label pairs (i, j), generated group by group without a loop
    # over particles: group g contributes sizes[g]**2 pairs.
    group = np.repeat(np.arange(len(starts)), sizes**2)
    offset = np.arange(group.size) - np.repeat(np.cumsum(sizes**2) - sizes**2, sizes**2)
    first = order[starts[group] + offset // sizes[group]]
    second = order[starts[group] + offset % sizes[group]]
    distances = np.linalg.norm(frames[:, first] - frames[:, second], axis=-1)
    values = distances.max(axis=-1) if distances.shape[-1] else np.zeros(len(frames))
    return _unwrap(values, single)


def relative_energy_gap(kernel, X, aux):
    r"""Relative energy gap :math:`(E_{\max}-E_n)/E_{\max}` (MODEL.md §6).

    :math:`E_{\max}=e^\beta/(2\beta)` for the baseline and the gauge kernels
    (MODEL.md §4); for nonnegative separated and distance-bias kernels it is
    the energy of a constant configuration (Prop. 11); for Toeplitz it is
    :math:`\frac12\max_k\hat c(k)` (Prop. 10).  Computed from the rescaled
    energy, so it is accurate for any β.

    Raises
    ------
    ValueError
        For a separated kernel whose weight changes sign (no known maximum).
    """
    kernel = _check_kernel(kernel)
    frames, single = _frames(X)
    _, interaction = bind(kernel, frames[0], aux)
    maximum = interaction.pair_sum_max()
    if maximum is None:
        raise ValueError(
            f"relative_energy_gap needs a kernel with a known maximum energy; "
            f"{type(kernel).__name__} with a sign-changing weight has none"
        )
    values = np.array([1.0 - interaction.pair_sum(frame) / maximum for frame in frames])
    return _unwrap(values, single)


def euler_lagrange_residual(kernel, X, aux):
    r"""Largest projected gradient, :math:`\max_i|P_{x_i}v_i|`, in the rescaled clock (seed Prop. 8).

    Vanishes at every maximiser of the energy.  Measured with the factor
    :math:`e^\beta` removed, so for the exponential kernels it is relative to
    the largest possible force (at most 1 times the largest weight).
    """
    kernel = _check_kernel(kernel)
    frames, single = _frames(X)
    _, interaction = bind(kernel, frames[0], aux)

    values = np.array([
        np.max(np.linalg.norm(project_tangent(frame, interaction.drift(frame)), axis=-1)) for frame in frames
    ])
    return _unwrap(values, single)


def count_clusters(X, threshold: float = 1e-3) -> int:
    """Number of clusters: groups of single-linkage clustering cut at chordal distance ``threshold``.

    Counts the atoms of a (numerically) discrete law, e.g. the clusters of
    Cor. 2 (as many as distinct prompt gauges).

    >>> count_clusters(np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]]), 1e-2)
    2
    """
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got shape {X.shape}")
    if len(X) < 2:
        return len(X)
    return int(fcluster(linkage(X, method="single"), t=threshold, criterion="distance").max())


def winding_number(X, positions=None) -> float:
    r"""How many times the closed curve :math:`s\mapsto x(s)` winds around its mean.

    Points are ordered by ``positions`` (default: the row order), projected
    on the plane of the two largest principal directions of the centred
    cloud, and the wrapped angle increments (closing the loop from the last
    point to the first) are summed and divided by :math:`2\pi`.  A great
    circle run m times gives :math:`\pm m` (Prop. 10); a constant path 0.

    >>> s = np.arange(12) / 12
    >>> X = np.c_[np.cos(4 * np.pi * s), np.sin(4 * np.pi * s), np.zeros(12)]
    >>> round(abs(winding_number(X, s)), 9)
    2.0
    """
    X = as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got shape {X.shape}")
    order = np.arange(len(X)) if positions is None else np.argsort(check_aux(positions, len(X)), kind="stable")
    centred = X[order] - X.mean(axis=0)
    basis = np.linalg.svd(centred, full_matrices=False)[2][:2]
    coords = centred @ basis.T
    angles = np.arctan2(coords[:, 1], coords[:, 0])
    steps = np.diff(np.r_[angles, angles[0]])
    steps = (steps + np.pi) % (2 * np.pi) - np.pi
    return float(steps.sum() / (2 * np.pi))
