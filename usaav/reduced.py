r"""The reduced :math:`k`-point flow of metastable clusters: closed-form theory (the paper's Thm. 5, App. H; MODEL.md §4).

Once every cluster has contracted to a point, cluster :math:`a` is its
centre :math:`m_a` carrying the coarse-grained weights :math:`W_{ab}` of
Thm. 5 (3), and the centres follow the *reduced flow* (rescaled clock
:math:`t'=e^\beta t`)

.. math:: \dot m_a = P_{m_a}\sum_b W_{ab}\,e^{\beta(\langle m_a,m_b\rangle-1)}m_b

(:func:`reduced_velocity`).  For two clusters at angle :math:`\Delta`,
:math:`\dot\Delta=-(W_{AB}+W_{BA})\,e^{-\beta(1-\cos\Delta)}\sin\Delta`, so the
first merger (centres within :math:`\delta`) happens at the quadrature

.. math:: T_1^{\rm red}=\frac1{W_{AB}+W_{BA}}\int_{\delta}^{\Delta_0}
          \frac{e^{\beta(1-\cos\Delta)}}{\sin\Delta}\,d\Delta

(:func:`reduced_merger_time`; its large-β expansion is
:func:`laplace_merger_time`), and for :math:`k` clusters the flow is
integrated (:func:`reduced_first_merger`).
Before that, each cluster contracts at the rate of the linearised flow
around its centre (:func:`linear_contraction_rate`), and the large-β growth
:math:`T_1\approx e^{c\beta}` with :math:`c=1-\cos\Delta_0` is this
project's reconstruction of the paper's exponent (:func:`reduced_rate_table`,
:func:`fit_exponent`).  The experiment that tests all of this is
:mod:`usaav.experiments.metastability`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from ._validation import check_positive_scalar
from .integrate import heun_step
from .sphere import normalize, project_tangent

__all__ = ["angle_between", "fit_exponent", "index_pairs", "laplace_merger_time", "linear_contraction_rate",
           "linearised_modes",
           "reduced_first_merger",
           "reduced_merger_time", "reduced_rate_table", "reduced_velocity", "weight_matrix"]


def angle_between(a, b) -> np.ndarray:
    r"""Angle between unit vectors (last axis), accurate for small angles: :math:`2\arcsin(|a-b|/2)`.

    >>> round(float(angle_between(np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))), 12) == round(math.pi / 2, 12)
    True
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return 2.0 * np.arcsin(np.clip(np.linalg.norm(a - b, axis=-1) / 2.0, 0.0, 1.0))


def index_pairs(k: int) -> list[tuple[int, int]]:
    """The pairs ``(a, b)``, ``a < b``, of ``k`` clusters in lexicographic order.

    >>> index_pairs(3)
    [(0, 1), (0, 2), (1, 2)]
    """
    return [(a, b) for a in range(k) for b in range(a + 1, k)]


def weight_matrix(weights, k: int) -> np.ndarray:
    r"""The coarse-grained weights :math:`W_{ab}` of ``k`` clusters from the three accepted forms.

    ``None`` → equal masses (:math:`W_{ab}=1/k`); ``(k,)`` → mass fractions
    :math:`f` (:math:`W_{ab}=f_b`); ``(k, k)`` → :math:`W` itself.

    >>> weight_matrix([0.25, 0.75], 2)
    array([[0.25, 0.75],
           [0.25, 0.75]])
    """
    if weights is None:
        return np.full((k, k), 1.0 / k)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape == (k,):
        return np.tile(w, (k, 1))
    if w.shape == (k, k):
        return w
    raise ValueError(f"weights must have shape ({k},) (mass fractions) or ({k}, {k}) (W_ab), got {w.shape}")


def reduced_velocity(beta: float, centres, W) -> np.ndarray:
    r"""Velocity of the reduced :math:`k`-point flow (Thm. 5 (3); module docstring), rescaled clock.

    .. math:: \dot m_a = P_{m_a}\sum_b W_{ab}\,e^{\beta(\langle m_a,m_b\rangle-1)}m_b .

    Parameters
    ----------
    beta : float
    centres : (k, d) ndarray
        Unit centres :math:`m_a`.
    W : (k, k) ndarray
        Coarse-grained weights :math:`W_{ab}`.

    >>> V = reduced_velocity(2.0, np.array([[1.0, 0.0], [0.0, 1.0]]), np.full((2, 2), 0.5))
    >>> bool(np.allclose(V, 0.5 * np.exp(-2.0) * np.array([[0.0, 1.0], [1.0, 0.0]])))
    True
    """
    M = centres
    return project_tangent(M, (W * np.exp(beta * (M @ M.T - 1.0))) @ M)


def reduced_first_merger(beta: float, centres, W, dt: float, merge_angle: float, t_max: float) -> float:
    r"""First merger time of the reduced :math:`k`-point flow (:func:`reduced_velocity`) from ``centres``.

    Projected Heun steps ``dt`` (rescaled clock) until two centres come within
    ``merge_angle``; the crossing is interpolated linearly inside the step.
    NaN if no merger happens before ``t_max``.
    """
    k = len(centres)
    W = np.asarray(W, dtype=np.float64)

    def field(M):
        return reduced_velocity(beta, M, W)

    X = normalize(np.asarray(centres, dtype=np.float64))
    pairs = index_pairs(k)
    previous = min(angle_between(X[a], X[b]) for a, b in pairs)
    step = 0
    while step * dt < t_max:
        X = heun_step(field, X, dt)
        step += 1
        current = min(angle_between(X[a], X[b]) for a, b in pairs)
        if current < merge_angle:
            return dt * (step - 1 + (previous - merge_angle) / (previous - current))
        previous = current
    return math.nan


def linear_contraction_rate(beta: float, centres, weights=None) -> float:
    r"""Slowest linearised contraction rate of point clusters at ``centres`` (Thm. 5 (1); rescaled clock).

    Linearising the flow for the deviations :math:`\delta` of cluster :math:`A`
    (centre :math:`m_A`) from its centre, with the other clusters as point
    masses at angle :math:`\Delta_{AB}`, gives :math:`\dot\delta=M_A\delta` on the
    tangent plane with

    .. math:: M_A = -W_{AA} P_A + \sum_{B\ne A} W_{AB}\, e^{-\beta(1-\cos\Delta_{AB})}
              \big(-\cos\Delta_{AB}\,P_A + \beta\,(P_Am_B)(P_Am_B)^\top\big),

    :math:`P_A=I-m_Am_A^\top`.  Returns :math:`\min_A\,(-\lambda_{\max}(M_A))`:
    the rate at which the largest cluster diameter decays once the caps are
    small; it is :math:`W_{AA}` up to tidal terms that vanish like
    :math:`\beta e^{-\beta(1-\cos\Delta)}`.

    Parameters
    ----------
    beta : float
    centres : (k, d) array_like
        Unit cluster centres.
    weights : (k,) or (k, k) array_like, optional
        Mass fractions :math:`f` (then :math:`W_{ab}=f_b`), or the coarse-grained
        weights :math:`W_{ab}` themselves; default equal masses (:func:`weight_matrix`).

    >>> round(linear_contraction_rate(1e3, [[1.0, 0, 0], [0, 0, 1.0]]), 6)   # far apart: 1/k
    0.5
    """
    C = normalize(np.asarray(centres, dtype=np.float64))
    k, d = C.shape
    W = weight_matrix(weights, k)
    rates = []
    for a in range(k):
        rates.append(-np.linalg.eigvalsh(_tangent_matrix(beta, C, W, a)).max())
    return float(min(rates))


def _tangent_matrix(beta: float, C: np.ndarray, W: np.ndarray, a: int, basis: np.ndarray | None = None) -> np.ndarray:
    """:math:`M_A` of :func:`linear_contraction_rate` in an orthonormal basis of the tangent plane at ``C[a]``."""
    d = C.shape[1]
    P = np.eye(d) - np.outer(C[a], C[a])
    M = -W[a, a] * P
    for b in range(len(C)):
        if b == a:
            continue
        cos = float(np.clip(C[a] @ C[b], -1.0, 1.0))
        tangent = P @ C[b]
        M += W[a, b] * math.exp(-beta * (1.0 - cos)) * (-cos * P + beta * np.outer(tangent, tangent))
    if basis is None:
        basis = _tangent_basis(P)
    return basis.T @ M @ basis


def _tangent_basis(P: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the range of the projection ``P`` (the tangent plane)."""
    return np.linalg.svd(P)[0][:, : P.shape[0] - 1]


def linearised_modes(beta: float, centres: np.ndarray, W: np.ndarray, a: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues and eigenvectors of :math:`M_A` on the tangent plane at centre ``a`` (:func:`linear_contraction_rate`).

    Parameters
    ----------
    beta : float
    centres : (k, d) ndarray
        Unit centres.
    W : (k, k) ndarray
        Coarse-grained weights (:func:`weight_matrix`).
    a : int
        The cluster.

    Returns
    -------
    values : (d - 1,) ndarray
        Ascending eigenvalues (the deviations along each eigenvector decay at rate ``-value``).
    vectors : (d, d - 1) ndarray
        Unit eigenvectors, in the ambient coordinates, tangent at ``centres[a]``.
    """
    basis = _tangent_basis(np.eye(centres.shape[1]) - np.outer(centres[a], centres[a]))
    values, vectors = np.linalg.eigh(_tangent_matrix(beta, centres, W, a, basis))
    return values, basis @ vectors


def _log_reduced_integral(beta: float, angle: float, merge_angle: float) -> float:
    r""":math:`\log\int_\delta^{\Delta_0}e^{\beta(1-\cos\Delta)}/\sin\Delta\,d\Delta`, with :math:`e^{\beta(1-\cos\Delta_0)}` factored out (no overflow)."""
    top = 1.0 - math.cos(angle)
    value, _ = quad(lambda a: math.exp(beta * (1.0 - math.cos(a) - top)) / math.sin(a), merge_angle, angle,
                    epsabs=0.0, epsrel=1e-12, limit=400)
    return beta * top + math.log(value)


def reduced_merger_time(beta: float, angle: float, merge_angle: float, coupling: float = 1.0) -> float:
    r"""First merger time of two point clusters under the reduced flow (Thm. 5 (3); module docstring).

    .. math:: T_1^{\rm red}=\frac1{W_{AB}+W_{BA}}\int_{\delta}^{\Delta_0}\frac{e^{\beta(1-\cos\Delta)}}{\sin\Delta}\,d\Delta,

    from :math:`\dot\Delta=-(W_{AB}+W_{BA})e^{-\beta(1-\cos\Delta)}\sin\Delta`
    (rescaled clock).  ``coupling`` is :math:`W_{AB}+W_{BA}`: 1 for two equal
    clusters with :math:`w\equiv1`.

    >>> round(reduced_merger_time(2.0, 1.0, 0.1), 3)
    3.064
    >>> round(reduced_merger_time(2.0, 1.0, 0.1, coupling=0.5), 3)   # half the weight, twice the time
    6.129
    """
    coupling = check_positive_scalar(coupling, "coupling")
    if angle <= merge_angle:
        return 0.0
    return math.exp(_log_reduced_integral(beta, angle, merge_angle)) / coupling


def laplace_merger_time(beta: float, angle: float, coupling: float = 1.0) -> float:
    r"""Large-β asymptotics of :func:`reduced_merger_time`: Laplace's method, two terms (chapter 7 derives it).

    With :math:`u=1-\cos\Delta` the merger integral is exactly
    :math:`\int_{u_\delta}^{u_0}e^{\beta u}\,du/(u(2-u))` (:math:`\sin^2\Delta=u(2-u)`);
    the endpoint :math:`u_0=1-\cos\Delta_0` dominates, and integrating by parts twice gives

    .. math:: T_1^{\rm red}=\frac{e^{\beta(1-\cos\Delta_0)}}{(W_{AB}+W_{BA})\,\beta\sin^2\Delta_0}
              \Big(1+\frac{2\cos\Delta_0}{\beta\sin^2\Delta_0}+O(\beta^{-2})\Big),

    the :math:`O(\beta^{-2})` term being
    :math:`\big(2/\sin^2\Delta_0+8\cos^2\Delta_0/\sin^4\Delta_0\big)/\beta^2`; the
    lower end contributes :math:`e^{-\beta(\cos\delta-\cos\Delta_0)}` relatively.
    The exponent is :math:`c=1-\cos\Delta_0`, as reconstructed; the merger
    angle :math:`\delta` drops out.

    >>> round(laplace_merger_time(80.0, 1.0) / reduced_merger_time(80.0, 1.0, 0.1), 3)
    0.999
    """
    beta = check_positive_scalar(beta, "beta")
    coupling = check_positive_scalar(coupling, "coupling")
    angle = check_positive_scalar(angle, "angle")
    if angle >= math.pi:
        raise ValueError(f"angle must be an initial gap in (0, pi), got {angle}")
    sin2 = math.sin(angle) ** 2
    return math.exp(beta * (1.0 - math.cos(angle))) / (coupling * beta * sin2) * (
        1.0 + 2.0 * math.cos(angle) / (beta * sin2))


def reduced_rate_table(gaps=(0.7, 1.0, 1.3), betas=(10.0, 20.0, 40.0, 80.0), merge_angle: float = 0.1,
                       step: float = 1e-3) -> list[dict]:
    r"""How the local slopes of the reduced merger time approach the reconstructed exponent :math:`1-\cos\Delta_0`.

    For each gap and β, the central differences (step ``step`` in β) of
    :math:`\log T_1^{\rm red}` and of :math:`\log(\beta T_1^{\rm red})`: the
    first tends to :math:`c=1-\cos\Delta_0` like :math:`-1/\beta`, the second
    like :math:`\beta^{-2}`.  Pure quadrature: the reduced flow only, no
    particles.  The exponent :math:`c` is this project's reconstruction from
    the paper's statements.

    Returns
    -------
    list of dict
        Rows ``{"gap", "beta", "c", "slope_log_T1", "slope_log_beta_T1"}``.

    >>> row = reduced_rate_table(gaps=(1.0,), betas=(80.0,))[0]
    >>> abs(row["slope_log_beta_T1"] / row["c"] - 1) < 1e-3
    True
    """
    rows = []
    for gap in gaps:
        c = 1.0 - math.cos(gap)
        for beta in betas:
            up = _log_reduced_integral(beta + step, gap, merge_angle)
            down = _log_reduced_integral(beta - step, gap, merge_angle)
            slope = (up - down) / (2 * step)
            rows.append({"gap": float(gap), "beta": float(beta), "c": c, "slope_log_T1": slope,
                         "slope_log_beta_T1": slope + (math.log(beta + step) - math.log(beta - step)) / (2 * step)})
    return rows


def fit_exponent(betas, T1) -> tuple[float, float, float]:
    r"""Least-squares fit :math:`\log(\beta T_1)=a+c\beta+e/\beta` (the large-β form of :func:`reduced_merger_time`); returns ``(a, c, e)``.

    >>> b = np.array([4.0, 6.0, 8.0, 10.0])
    >>> a, c, e = fit_exponent(b, np.exp(1.0 + 0.5 * b - 2.0 / b) / b)
    >>> round(a, 9), round(c, 9), round(e, 9)
    (1.0, 0.5, -2.0)
    """
    b = np.asarray(betas, dtype=np.float64)
    y = np.log(b * np.asarray(T1, dtype=np.float64))
    keep = np.isfinite(y)
    if keep.sum() < 4:
        return math.nan, math.nan, math.nan
    A = np.c_[np.ones(keep.sum()), b[keep], 1.0 / b[keep]]
    a, c, e = np.linalg.lstsq(A, y[keep], rcond=None)[0]
    return float(a), float(c), float(e)
