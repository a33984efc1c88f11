r"""Exact Wasserstein distances between empirical laws (MODEL.md §2, mean-field limit).

The mean-field statement of the paper (Prop. 4, Dobrushin estimate
:math:`W_1(\mu_t,\nu_t)\le e^{Ct}W_1(\mu_0,\nu_0)`) compares laws of
particles :math:`z=(x,a)` on :math:`\mathbb S^{d-1}\times\mathcal A`.  For
two empirical laws with uniform weights,

.. math::
    \mu = \frac1n\sum_{i=1}^n\delta_{z_i},\qquad \nu = \frac1m\sum_{j=1}^m\delta_{w_j},\qquad
    W_p(\mu,\nu)^p = \min_{\pi\in\Pi(\mu,\nu)}\sum_{i,j}\pi_{ij}\,c(z_i,w_j)^p,

with ground distance
:math:`c((x,a),(y,b))^2 = |x-y|^2 + \kappa^2\,\mathrm d(a,b)^2`
(:math:`\mathrm d` the periodic distance on the torus for positions,
:math:`\kappa\ge0` a weight; :math:`\kappa=0` or no labels compares the
content marginals only).

The minimum is a linear program over the couplings :math:`\Pi(\mu,\nu)`
(:math:`n\times m` matrices with row sums :math:`1/n`, column sums :math:`1/m`)
and is computed exactly, for any sizes:

* :math:`n=m`: the extreme points of :math:`\Pi(\mu,\nu)` are permutation
  matrices divided by :math:`n` (Birkhoff–von Neumann), so an optimal
  assignment (:func:`scipy.optimize.linear_sum_assignment`) attains it;
* :math:`n\ne m`: the network simplex of POT, :func:`ot.emd2` (Bonneel,
  van de Panne, Paris & Heidrich, "Displacement interpolation using
  Lagrangian mass transport", ACM Trans. Graph. 30 (2011) 158), which solves
  the same linear program exactly and is far faster than replicating the
  atoms to an :math:`\mathrm{lcm}(n,m)`-point assignment.

Both need the :math:`n\times m` cost matrix: ``MAX_COST_ENTRIES`` bounds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._validation import as_float_array, check_aux, check_positive_scalar
from .kernels import periodic_distance

__all__ = ["MAX_COST_ENTRIES", "NestedLawDistances", "nested_law_distances", "wasserstein"]

#: Largest cost matrix handled (entries n·m): 2**26 float64 entries are 512 MiB.
MAX_COST_ENTRIES = 1 << 26


def _check_cloud(X, name: str) -> np.ndarray:
    X = as_float_array(X, name)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"{name} must have shape (n, d) with n >= 1, got shape {X.shape}")
    return X


def _exact_transport_cost(cost: np.ndarray) -> float:
    r""":math:`\min_{\pi\in\Pi}\sum_{ij}\pi_{ij}C_{ij}` for uniform marginals (module docstring)."""
    n, m = cost.shape
    if n == m:
        rows, cols = linear_sum_assignment(cost)
        return float(cost[rows, cols].mean())
    try:
        from ot import emd2
    except ImportError as error:  # pragma: no cover - POT comes with usaav[experiments]
        raise ImportError('wasserstein between laws of different sizes needs POT: pip install "usaav[experiments]"'
                          ) from error
    value, log = emd2(np.full(n, 1.0 / n), np.full(m, 1.0 / m), np.ascontiguousarray(cost),
                      numItermax=1_000_000_000, log=True)
    if log.get("warning") is not None:
        raise RuntimeError(f"the network simplex did not reach the optimum: {log['warning']}")
    return float(value)


def wasserstein(X, Y, aux_X=None, aux_Y=None, *, p: int = 2, aux_weight: float = 1.0,
                periodic: bool = True) -> float:
    r"""Exact :math:`W_p` distance between two empirical laws with uniform weights, any sizes.

    Parameters
    ----------
    X : (n, d) array_like
        Points of the first law (content variables; rows need not be unit).
    Y : (m, d) array_like
        Points of the second law.
    aux_X, aux_Y : (n,), (m,) array_like, optional
        Labels of the points; give both or neither.  With labels the ground
        distance is :math:`\sqrt{|x-y|^2+\kappa^2\mathrm d(a,b)^2}`.
    p : {1, 2}
        Order of the distance.
    aux_weight : float
        The weight :math:`\kappa\ge0` of the labels.
    periodic : bool
        Labels live on the torus :math:`\mathbb R/\mathbb Z` (positions of
        periodic kernels) when ``True``, on the line otherwise.

    Returns
    -------
    float
        :math:`W_p(\mu,\nu)` (module docstring: an optimal assignment for
        :math:`n=m`, POT's network simplex otherwise).

    Raises
    ------
    ValueError
        Shapes disagree, or :math:`nm` exceeds ``MAX_COST_ENTRIES``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> wasserstein(X, X[::-1])                      # same law, reordered
    0.0
    >>> round(wasserstein(X, np.array([[1.0, 0.0]])), 12)   # half the mass moves by sqrt(2)
    1.0
    """
    X = _check_cloud(X, "X")
    Y = _check_cloud(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must have the same number of columns, got {X.shape[1]} and {Y.shape[1]}")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    if (aux_X is None) != (aux_Y is None):
        raise TypeError("aux_X and aux_Y must be given together (or both omitted)")
    n, m = len(X), len(Y)
    if n * m > MAX_COST_ENTRIES:
        raise ValueError(
            f"len(X) * len(Y) = {n} * {m} = {n * m} exceeds MAX_COST_ENTRIES = {MAX_COST_ENTRIES} "
            "(the exact solvers need the full cost matrix); compare smaller samples"
        )
    # Sum of squared coordinate differences, one coordinate at a time: n*m memory,
    # and exactly 0 between equal points (the expanded |x|^2 + |y|^2 - 2<x, y> is not).
    cost = np.zeros((n, m))
    for k in range(X.shape[1]):
        cost += np.subtract.outer(X[:, k], Y[:, k]) ** 2
    if aux_X is not None:
        a = check_aux(aux_X, n, "aux_X").astype(np.float64)
        b = check_aux(aux_Y, m, "aux_Y").astype(np.float64)
        kappa = check_positive_scalar(aux_weight, "aux_weight", allow_zero=True)
        gap = periodic_distance(a, b) if periodic else np.abs(np.subtract.outer(a, b))
        cost = cost + (kappa * gap) ** 2
    if p == 1:
        cost = np.sqrt(cost)
    value = _exact_transport_cost(cost)
    return value if p == 1 else float(np.sqrt(max(value, 0.0)))


@dataclass(frozen=True, eq=False)
class NestedLawDistances:
    r"""Result of :func:`nested_law_distances`.

    Attributes
    ----------
    t : (frames,) ndarray
        Times of the compared frames.
    sizes : (k,) ndarray of int
        System sizes :math:`n` compared with the reference.
    reference_size : int
        Size :math:`N` of the reference system (the stand-in for the mean field).
    distances : (k, frames) ndarray
        :math:`W_p(\mu^n_t, \mu^N_t)` for each size and frame.
    p : int
    """

    t: np.ndarray
    sizes: np.ndarray
    reference_size: int
    distances: np.ndarray
    p: int

    def slopes(self) -> np.ndarray:
        r"""Least-squares slope of :math:`\log W_p` against :math:`\log n`, one per frame."""
        log_n = np.log(self.sizes)
        return np.array([np.polyfit(log_n, np.log(column), 1)[0] for column in self.distances.T])


def nested_law_distances(kernel, X, aux, sizes, t_max: float, *, dt: float = 0.05,
                         record_every: int | None = None, p: int = 2,
                         aux_weight: float = 1.0) -> NestedLawDistances:
    r"""How far the first-:math:`n` subsystems stay from the full system (mean-field limit, the paper's Prop. 4).

    The particles :math:`(x_j, a_j)_{j\le N}` (``X``, ``aux``) define the
    reference system; for each :math:`n` in ``sizes`` the system made of the
    first :math:`n` particles is simulated with the same kernel, and the
    empirical laws are compared frame by frame with :func:`wasserstein`:
    :math:`W_p(\mu^n_t,\mu^N_t)`.  With i.i.d. particles, the initial
    distances shrink as :math:`n` grows; the Dobrushin estimate bounds their
    growth in time by :math:`e^{Ct}`.

    Parameters
    ----------
    kernel : Kernel
    X : (N, d) array_like
        Initial contents of the reference system (unit rows).
    aux : (N,) array_like or None
        Labels (passed to the kernel and to the ground distance).
    sizes : sequence of int
        Subsystem sizes, at most :math:`N`.
    t_max, dt, record_every
        As in :func:`usaav.simulate`.
    p, aux_weight
        As in :func:`wasserstein`.

    Returns
    -------
    NestedLawDistances
    """
    from .dynamics import simulate

    X = _check_cloud(X, "X")
    N = len(X)
    sizes = np.array([int(m) for m in sizes])
    if sizes.size == 0 or sizes.min() < 1 or sizes.max() > N:
        raise ValueError(f"sizes must lie in 1..{N} (the reference size), got {sizes.tolist()}")
    labels = None if aux is None else np.asarray(aux)
    reference = simulate(kernel, X, labels, t_max, dt=dt, record_every=record_every)
    table = np.empty((len(sizes), len(reference.t)))
    for row, m in enumerate(sizes):
        sub_labels = None if labels is None else labels[:m]
        run = simulate(kernel, X[:m], sub_labels, t_max, dt=dt, record_every=record_every)
        for k in range(len(reference.t)):
            table[row, k] = wasserstein(run.X[k], reference.X[k], sub_labels, labels,
                                        p=p, aux_weight=aux_weight)
    return NestedLawDistances(t=reference.t, sizes=sizes, reference_size=N, distances=table, p=p)
