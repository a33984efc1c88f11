r"""Metastability: fast contraction, long plateaus, first merger exponentially late in β (seed App. C, H; MODEL.md §6).

Setup (MODEL.md §6, App. C; the project's choices): ``n_clusters`` clusters
of ``cluster_size`` particles, each started uniformly in a spherical cap of
geodesic radius ``cap_radius`` around centres placed along the great circle
of the :math:`(x_1,x_3)`-plane, consecutive centres ``separation`` radians
apart.  The kernel is the baseline :math:`e^{\beta\langle x,y\rangle}/\beta`
(the distance-bias kernel with intra- and inter-cluster weight 1, i.e.
:math:`W\equiv1` in seed eq. (34)), integrated in the rescaled clock
:math:`t'=e^\beta t`, where

.. math:: \dot x_i = P_{x_i}\Big(\frac1n\sum_j e^{\beta(\langle x_i,x_j\rangle-1)}x_j\Big):

particles of one cluster attract each other with weight ≈ 1, two clusters at
angle :math:`\Delta` with weight :math:`e^{-\beta(1-\cos\Delta)}`.

Predictions (seed Thm. 5):

1. each cluster's diameter contracts exponentially.  Linearising the flow
   for the deviations :math:`\delta_i` of a cluster :math:`A` (mass fraction
   :math:`w_A`, centre :math:`m_A`) from its mean, with the other clusters as
   point masses :math:`w_B` at angle :math:`\Delta_{AB}`, gives
   :math:`\dot\delta = M_A\delta` on the tangent plane with

   .. math:: M_A = -w_A P_A + \sum_{B\ne A} w_B e^{-\beta(1-\cos\Delta_{AB})}
             \big(-\cos\Delta_{AB}\,P_A + \beta\,(P_Am_B)(P_Am_B)^\top\big),

   :math:`P_A=I-m_Am_A^\top`: the rate is :math:`1/k` up to tidal terms that
   vanish like :math:`\beta e^{-\beta(1-\cos\Delta)}` (:func:`linear_contraction_rate`);
2. the clusters then sit on a plateau (the energy is flat) for a time
   exponentially long in β;
3. the centres follow the reduced :math:`k`-point flow
   :math:`\dot m_a = P_{m_a}\sum_b \tfrac1k e^{\beta(\langle m_a,m_b\rangle-1)}m_b`;
   for two clusters at angle :math:`\Delta`,
   :math:`\dot\Delta = -e^{-\beta(1-\cos\Delta)}\sin\Delta`, so the first merger
   (centres within ``merge_angle``) happens at
   :math:`T_1^{\rm red}=\int_{\delta}^{\Delta_0}\frac{e^{\beta(1-\cos\Delta)}}{\sin\Delta}\,d\Delta`;
4. hence :math:`\log T_1` is close to linear in β, with local slope rising
   towards :math:`1-\cos\Delta_0` (:math:`\approx0.46` for :math:`\Delta_0=1`).

MODEL.md §6 records, for two clusters of 20, caps of radius 0.05, centres
1 rad apart, :math:`h=0.05`, merger at 0.1 rad:
:math:`T_1\approx3.2, 4.2, 6.1, 10.5, 19.2` for β = 2, 4, 6, 8, 10.
"""

from __future__ import annotations

import concurrent.futures
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.integrate import quad

from .. import kernels
from ..dynamics import bind, vector_field
from ..integrate import heun_step
from ..observables import relative_energy_gap
from ..sphere import normalize
from ._pieces import PieceStore, make_piece, run_pieces
from ._results import ExperimentResult, Verdict, linear_fit, mean_sem

__all__ = ["MODEL_CHECK", "MetastabilityResult", "cap_sample", "cluster_centres", "linear_contraction_rate",
           "metastability", "reduced_merger_time"]

#: First merger times recorded in MODEL.md §6 for the default setup.
MODEL_CHECK = {2.0: 3.2, 4.0: 4.2, 6.0: 6.1, 8.0: 10.5, 10.0: 19.2}
_MODEL_SETUP = dict(n_clusters=2, cluster_size=20, cap_radius=0.05, separation=1.0, dt=0.05, merge_angle=0.1)


def cap_sample(center, radius: float, m: int, rng: np.random.Generator) -> np.ndarray:
    r"""``m`` points uniform in the spherical cap :math:`\{x:\angle(x,c)\le r\}` of :math:`\mathbb S^2`.

    The height :math:`\cos\angle(x,c)` is uniform on :math:`[\cos r,1]`
    (Archimedes) and the azimuth uniform; the cap around :math:`e_3` is then
    moved to ``center`` by the reflection exchanging :math:`e_3` and ``center``.

    >>> X = cap_sample([1.0, 0.0, 0.0], 0.05, 100, np.random.default_rng(0))
    >>> bool(np.all(np.arccos(np.clip(X[:, 0], -1, 1)) <= 0.05 + 1e-12))
    True
    """
    center = normalize(np.asarray(center, dtype=np.float64))
    height = rng.uniform(np.cos(radius), 1.0, m)
    azimuth = rng.uniform(0.0, 2 * np.pi, m)
    ring = np.sqrt(np.maximum(1.0 - height**2, 0.0))
    local = np.c_[ring * np.cos(azimuth), ring * np.sin(azimuth), height]
    w = np.array([0.0, 0.0, 1.0]) - center
    if np.linalg.norm(w) < 1e-12:
        return local
    w /= np.linalg.norm(w)
    return local - 2.0 * np.outer(local @ w, w)


def cluster_centres(n_clusters: int, separation) -> np.ndarray:
    r"""Centres on the great circle of the :math:`(x_1,x_3)`-plane, symmetric about :math:`e_3`.

    ``separation`` is one angle (equal gaps) or ``n_clusters - 1`` consecutive gaps.

    >>> C = cluster_centres(2, 1.0)
    >>> round(float(np.arccos(C[0] @ C[1])), 12)
    1.0
    """
    gaps = np.broadcast_to(np.asarray(separation, dtype=np.float64), (n_clusters - 1,))
    angles = np.r_[0.0, np.cumsum(gaps)]
    angles -= angles.mean()
    return np.c_[np.sin(angles), np.zeros(n_clusters), np.cos(angles)]


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between unit vectors, accurate for small angles: :math:`2\\arcsin(|a-b|/2)`."""
    return 2.0 * np.arcsin(np.clip(np.linalg.norm(a - b, axis=-1) / 2.0, 0.0, 1.0))


def _centres(X: np.ndarray, k: int) -> np.ndarray:
    return normalize(X.reshape(k, -1, X.shape[-1]).mean(axis=1))


def _diameters(X: np.ndarray, k: int) -> np.ndarray:
    C = X.reshape(k, -1, X.shape[-1])
    return np.array([np.max(np.linalg.norm(c[:, None] - c[None], axis=-1)) for c in C])


def linear_contraction_rate(beta: float, centres, weights=None) -> float:
    r"""Slowest linearised contraction rate of point clusters at ``centres`` (rescaled clock; module docstring, item 1).

    Returns :math:`\min_A\,(-\lambda_{\max}(M_A))` over the tangent plane at
    each centre: the rate at which the largest cluster diameter decays once
    the caps are small.

    Parameters
    ----------
    beta : float
    centres : (k, d) array_like
        Unit cluster centres.
    weights : (k,) array_like, optional
        Mass fractions (default equal, :math:`1/k`).

    >>> round(linear_contraction_rate(1e3, [[1.0, 0, 0], [0, 0, 1.0]]), 6)   # far apart: 1/k
    0.5
    """
    C = normalize(np.asarray(centres, dtype=np.float64))
    k, d = C.shape
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
    rates = []
    for a in range(k):
        P = np.eye(d) - np.outer(C[a], C[a])
        M = -w[a] * P
        for b in range(k):
            if b == a:
                continue
            cos = float(np.clip(C[a] @ C[b], -1.0, 1.0))
            tangent = P @ C[b]
            M += w[b] * math.exp(-beta * (1.0 - cos)) * (-cos * P + beta * np.outer(tangent, tangent))
        basis = np.linalg.svd(P)[0][:, : d - 1]  # orthonormal basis of the tangent plane
        rates.append(-np.linalg.eigvalsh(basis.T @ M @ basis).max())
    return float(min(rates))


def reduced_merger_time(beta: float, angle: float, merge_angle: float) -> float:
    r"""First merger time of two equal point clusters under the reduced flow (seed Thm. 5 (3)-(4)).

    .. math:: T_1^{\rm red}=\int_{\delta}^{\Delta_0}\frac{e^{\beta(1-\cos\Delta)}}{\sin\Delta}\,d\Delta,

    from :math:`\dot\Delta=-e^{-\beta(1-\cos\Delta)}\sin\Delta` (rescaled clock,
    mass 1/2 each).

    >>> round(reduced_merger_time(2.0, 1.0, 0.1), 3)
    3.064
    """
    if angle <= merge_angle:
        return 0.0
    value, _ = quad(lambda a: math.exp(beta * (1.0 - math.cos(a))) / math.sin(a), merge_angle, angle,
                    epsabs=0.0, epsrel=1e-10, limit=200)
    return float(value)


def _pairs(k):
    return [(a, b) for a in range(k) for b in range(a + 1, k)]


def _groups(angles: np.ndarray, k: int, merge_angle: float) -> int:
    """Connected components of the graph joining centres closer than ``merge_angle``."""
    parent = list(range(k))

    def root(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for (a, b), angle in zip(_pairs(k), angles):
        if angle < merge_angle:
            parent[root(a)] = root(b)
    return len({root(a) for a in range(k)})


def _reduced_first_merger(beta, centres, dt, merge_angle, t_max):
    """First merger of the reduced k-point flow (k equal masses: a k-particle USA system), rescaled clock."""
    k = len(centres)
    X, interaction = bind(kernels.USA(beta), centres, None)
    field = vector_field(interaction, "rescaled")
    pairs = _pairs(k)
    previous = min(_angle(X[a], X[b]) for a, b in pairs)
    step = 0
    while step * dt < t_max:
        X = heun_step(field, X, dt)
        step += 1
        current = min(_angle(X[a], X[b]) for a, b in pairs)
        if current < merge_angle:
            return dt * (step - 1 + (previous - merge_angle) / (previous - current))
        previous = current
    return math.nan


def metastability_piece(beta: float, seed: int, n_clusters: int, cluster_size: int, cap_radius: float,
                        separation, dt: float, merge_angle: float, record_every: int, t_max: float,
                        until: str) -> dict:
    """One (β, seed) run: clustered start, integrate in the rescaled clock until (soon after) the merger."""
    k = n_clusters
    rng = np.random.default_rng([seed, k, cluster_size])
    centres = cluster_centres(k, separation)
    X = np.concatenate([cap_sample(c, cap_radius, cluster_size, rng) for c in centres])
    kernel = kernels.USA(beta)
    X, interaction = bind(kernel, X, None)
    field = vector_field(interaction, "rescaled")
    pairs = _pairs(k)

    def centre_angles(X):
        C = _centres(X, k)
        return np.array([_angle(C[a], C[b]) for a, b in pairs])

    angles = centre_angles(X)
    initial_angles = angles.copy()
    frames = {"t": [0.0], "diameters": [_diameters(X, k)], "centre_angles": [angles],
              "groups": [_groups(angles, k, merge_angle)], "X": [X]}
    merger_times = np.full(k - 1, np.nan)
    groups_now = frames["groups"][0]
    step, stop_at = 0, t_max
    while step * dt < stop_at - 1e-12:
        X_new = heun_step(field, X, dt)
        step += 1
        new_angles = centre_angles(X_new)
        new_groups = _groups(new_angles, k, merge_angle)
        while new_groups < groups_now:  # a merger during this step
            crossing = (angles - merge_angle) / np.where(angles > new_angles, angles - new_angles, np.inf)
            crossing = np.where((new_angles < merge_angle) & (angles >= merge_angle), crossing, np.inf)
            fraction = float(np.clip(np.min(crossing), 0.0, 1.0)) if np.isfinite(np.min(crossing)) else 1.0
            merger_times[k - groups_now] = dt * (step - 1 + fraction)
            groups_now -= 1
            if (until == "first" and groups_now == k - 1) or groups_now == 1:
                # Run on a while to show the plateau after the step (a quarter of the time so far, at least 2).
                stop_at = min(t_max, step * dt + max(2.0, 0.25 * step * dt))
        X, angles = X_new, new_angles
        if step % record_every == 0 or step * dt >= stop_at - 1e-12:
            frames["t"].append(step * dt)
            frames["diameters"].append(_diameters(X, k))
            frames["centre_angles"].append(angles)
            frames["groups"].append(groups_now)
            frames["X"].append(X)
    t = np.array(frames["t"])
    diameters = np.array(frames["diameters"]).T  # (k, F)
    X_frames = np.array(frames["X"])
    first = merger_times[0]
    # Fast contraction: fit log(max diameter) over the first half of the plateau, above round-off.
    largest = diameters.max(axis=0)
    window = (t <= (0.5 * first if np.isfinite(first) else t[-1])) & (largest > 1e-9)
    rate = -linear_fit(t[window], np.log(largest[window]))[0] if window.sum() >= 3 else math.nan
    reduced = (reduced_merger_time(beta, float(initial_angles[0]), merge_angle) if k == 2
               else _reduced_first_merger(beta, _centres(X_frames[0], k), dt, merge_angle, t_max))
    return {
        "t": t,
        "diameters": diameters,
        "centre_angles": np.array(frames["centre_angles"]).T,  # (pairs, F)
        "groups": np.array(frames["groups"]),
        "relative_energy_gap": relative_energy_gap(kernel, X_frames, None),
        "merger_times": merger_times,
        "initial_angle": np.float64(initial_angles.min()),
        "T1_reduced": np.float64(reduced),
        "contraction_rate": np.float64(rate),
        "contraction_rate_predicted": np.float64(linear_contraction_rate(beta, centres)),
        "X_first": X_frames[0],
        "X_last": X_frames[-1],
    }


@dataclass(frozen=True, eq=False)
class MetastabilityResult(ExperimentResult):
    r"""Result of :func:`metastability` (seed App. C, Thm. 5).

    Attributes
    ----------
    betas : (B,) ndarray
    seeds : (R,) ndarray
    t : (F,) ndarray
        Common time grid (rescaled clock); series are NaN after a run stopped.
    diameters : (B, R, k, F) ndarray
        Cluster diameters :math:`\max_{i,j\in C_a}|x_i-x_j|`.
    centre_angles : (B, R, P, F) ndarray
        Angles between cluster centres, for the :math:`P=k(k-1)/2` pairs.
    groups : (B, R, F) ndarray
        Number of groups of centres closer than ``merge_angle`` (NaN after the end).
    relative_energy_gap : (B, R, F) ndarray
        :math:`1-E_n/E_{\max}`: the energy staircase.
    merger_times : (B, R, k-1) ndarray
        Successive merger times (NaN if not reached); ``T1 = merger_times[..., 0]``.
    T1_reduced : (B, R) ndarray
        First merger time of the reduced k-point flow from the same initial centres.
    initial_angle : (B, R) ndarray
        Smallest initial centre angle :math:`\Delta_0`.
    contraction_rate : (B, R) ndarray
        Fitted exponential rate of the largest cluster diameter (over the
        first half of the plateau, above round-off).
    contraction_rate_predicted : (B, R) ndarray
        :func:`linear_contraction_rate` at the initial centres.
    fit_slope, fit_intercept, fit_r2 : float
        Least-squares line of the seed-mean of :math:`\log T_1` against β.
    X_first, X_last : (B, R, n, 3) ndarray
        Initial and final configurations.
    params : dict
    """

    experiment = "metastability"

    betas: np.ndarray
    seeds: np.ndarray
    t: np.ndarray
    diameters: np.ndarray
    centre_angles: np.ndarray
    groups: np.ndarray
    relative_energy_gap: np.ndarray
    merger_times: np.ndarray
    T1_reduced: np.ndarray
    initial_angle: np.ndarray
    contraction_rate: np.ndarray
    contraction_rate_predicted: np.ndarray
    fit_slope: float
    fit_intercept: float
    fit_r2: float
    X_first: np.ndarray
    X_last: np.ndarray
    params: dict

    @property
    def T1(self) -> np.ndarray:
        """First merger times, ``(B, R)``."""
        return self.merger_times[..., 0]

    def log_T1(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard error over seeds of :math:`\\log T_1`, each ``(B,)``."""
        return mean_sem(np.log(self.T1), axis=1)

    def local_slopes(self) -> np.ndarray:
        r"""Finite differences :math:`\Delta\log T_1/\Delta\beta` between consecutive βs."""
        return np.diff(self.log_T1()[0]) / np.diff(self.betas)

    def table(self) -> list[dict]:
        """One row per β: merger time (mean ± s.e.), reduced prediction, contraction rate."""
        rows = []
        log_mean, log_se = self.log_T1()
        t1_mean, t1_se = mean_sem(self.T1, axis=1)
        red_mean, _ = mean_sem(self.T1_reduced, axis=1)
        rate_mean, rate_se = mean_sem(self.contraction_rate, axis=1)
        for b, beta in enumerate(self.betas):
            rows.append({
                "beta": float(beta), "T1": float(t1_mean[b]), "T1_se": float(t1_se[b]),
                "log_T1": float(log_mean[b]), "log_T1_se": float(log_se[b]),
                "T1_reduced": float(red_mean[b]),
                "T1_MODEL_md": MODEL_CHECK.get(float(beta), math.nan) if self._model_setup() else math.nan,
                "contraction_rate": float(rate_mean[b]), "contraction_rate_se": float(rate_se[b]),
                "contraction_rate_predicted": float(np.mean(self.contraction_rate_predicted[b])),
                "initial_angle": float(np.mean(self.initial_angle[b])),
            })
        return rows

    def _model_setup(self) -> bool:
        p = self.params
        return all(np.allclose(p[key], value) for key, value in _MODEL_SETUP.items())

    def verdicts(self) -> list[Verdict]:
        """Thm. 5 as numbers: log T1 linear in β, slope vs 1 − cos Δ0, reduced flow, fast contraction."""
        ref = "seed Thm. 5, App. H"
        k = int(self.params["n_clusters"])
        delta0 = float(np.mean(self.initial_angle))
        out = [
            Verdict.check("metastability", "R^2 of the linear fit of log T1 against beta",
                          self.fit_r2, ">", 0.95, ref + " (4)"),
            Verdict.check("metastability", "slope of log T1 against beta", self.fit_slope, ">", 0.0, ref + " (4)"),
        ]
        slopes = self.local_slopes()
        if len(slopes) >= 1:
            out.append(Verdict.check(
                "metastability", "largest local slope d log T1 / d beta (below 1 - cos Delta0)",
                slopes.max(), "<", 1 - math.cos(delta0), ref + " (4)"))
        if len(slopes) >= 2:
            out.append(Verdict.check(
                "metastability", "smallest increase of the local slope (slope rises towards 1 - cos Delta0)",
                np.diff(slopes).min(), ">", 0.0, ref + " (4)"))
        deviation = np.abs(self.T1 / self.T1_reduced - 1.0)
        out.append(Verdict.check("metastability", "largest |T1 / T1(reduced k-point flow) - 1|",
                                 np.nanmax(deviation) if np.isfinite(deviation).any() else math.nan,
                                 "<", 0.1, ref + " (3)"))
        # The linearisation holds once the time scales separate: check it at the largest β.
        top = int(np.argmax(self.betas))
        out.append(Verdict.check(
            "metastability", f"|contraction rate / linearised rate - 1| at beta={float(self.betas[top]):g} "
            f"(1/k = {1 / k:.3g})",
            abs(float(np.mean(self.contraction_rate[top] / self.contraction_rate_predicted[top])) - 1.0),
            "<", 0.1, ref + " (1)"))
        if self._model_setup():
            t1 = mean_sem(self.T1, axis=1)[0]
            devs = [abs(t1[b] / MODEL_CHECK[float(beta)] - 1) for b, beta in enumerate(self.betas)
                    if float(beta) in MODEL_CHECK]
            if devs:
                out.append(Verdict.check("metastability", "largest |T1 / T1(MODEL.md §6 check) - 1|",
                                         max(devs), "<", 0.1, "MODEL.md §6"))
        return out


def metastability(
    betas=(2.0, 4.0, 6.0, 8.0, 10.0),
    cluster_size: int = 20,
    cap_radius: float = 0.05,
    separation=1.0,
    dt: float = 0.05,
    merge_angle: float = 0.1,
    seeds=None,
    n_clusters: int = 2,
    until: str = "first",
    record_every: int = 1,
    t_max: float = 5000.0,
    executor: concurrent.futures.Executor | None = None,
    quick: bool = False,
    *,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> MetastabilityResult:
    r"""Metastable clusters and the first merger time against β (seed App. C, Thm. 5; MODEL.md §6).

    For every β and seed, ``n_clusters`` clusters start in caps (see the
    module docstring) and follow the baseline flow in the rescaled clock
    :math:`t'=e^\beta t` with projected Heun steps ``dt``.  The first merger
    time :math:`T_1` is the first time two cluster centres come within
    ``merge_angle`` (linearly interpolated within the step); runs stop a
    little after the first merger (``until="first"``) or after the last
    (``until="all"``), or at ``t_max``.  Then :math:`\log T_1` (mean over
    seeds) is fitted linearly in β.

    Parameters
    ----------
    betas : sequence of float
    cluster_size : int
        Particles per cluster.
    cap_radius : float
        Geodesic radius of the initial caps.
    separation : float or sequence
        Angle between consecutive centres.
    dt : float
        Heun step in the rescaled clock.
    merge_angle : float
        Centres closer than this have merged.
    seeds : iterable of int, optional
        Default ``range(10)``, or ``range(2)`` with ``quick``.
    n_clusters : int
    until : {"first", "all"}
    record_every : int
        Record every this many steps.
    t_max : float
        Safety limit on the rescaled time.
    executor, quick, store, progress
        As in :func:`collapse_through_layers`.

    Returns
    -------
    MetastabilityResult

    Examples
    --------
    >>> res = metastability(betas=(2.0, 4.0), seeds=range(1))
    >>> [round(float(t), 1) for t in res.T1[:, 0]]
    [3.1, 4.2]
    """
    betas = tuple(float(b) for b in betas)
    seeds = tuple(int(s) for s in ((range(2) if quick else range(10)) if seeds is None else seeds))
    if until not in ("first", "all"):
        raise ValueError(f"until must be 'first' or 'all', got {until!r}")
    if n_clusters < 2:
        raise ValueError(f"n_clusters must be at least 2, got {n_clusters}")
    if not betas or not seeds:
        raise ValueError("betas and seeds must be non-empty")
    separation = float(separation) if np.ndim(separation) == 0 else tuple(float(s) for s in separation)
    params = dict(betas=betas, seeds=seeds, n_clusters=n_clusters, cluster_size=cluster_size,
                  cap_radius=cap_radius, separation=separation, dt=dt, merge_angle=merge_angle, until=until,
                  record_every=record_every, t_max=t_max, kernel="USA (W = 1), rescaled clock", quick=quick)
    pieces = [
        make_piece("metastability", f"beta{beta:g}-seed{seed}", metastability_piece, beta=beta, seed=seed,
                   n_clusters=n_clusters, cluster_size=cluster_size, cap_radius=cap_radius,
                   separation=separation, dt=dt, merge_angle=merge_angle, record_every=record_every,
                   t_max=t_max, until=until)
        for beta in betas for seed in seeds
    ]
    results = run_pieces(pieces, executor, store, progress)
    runs = [[results[pieces[b * len(seeds) + r].name] for r in range(len(seeds))] for b in range(len(betas))]
    longest = max((run["t"] for row in runs for run in row), key=len)

    def padded(key, leading=()):
        out = np.full((len(betas), len(seeds)) + leading + (len(longest),), np.nan)
        for b, row in enumerate(runs):
            for r, run in enumerate(row):
                value = np.asarray(run[key], dtype=np.float64)
                out[b, r, ..., : value.shape[-1]] = value
        return out

    def stack(key):
        return np.array([[run[key] for run in row] for row in runs])

    merger_times = stack("merger_times")
    log_mean = mean_sem(np.log(merger_times[..., 0]), axis=1)[0]
    slope, intercept, r2 = linear_fit(betas, log_mean)
    k = n_clusters
    return MetastabilityResult(
        betas=np.array(betas), seeds=np.array(seeds), t=longest,
        diameters=padded("diameters", (k,)), centre_angles=padded("centre_angles", (k * (k - 1) // 2,)),
        groups=padded("groups"), relative_energy_gap=padded("relative_energy_gap"),
        merger_times=merger_times, T1_reduced=stack("T1_reduced"), initial_angle=stack("initial_angle"),
        contraction_rate=stack("contraction_rate"),
        contraction_rate_predicted=stack("contraction_rate_predicted"), fit_slope=slope, fit_intercept=intercept, fit_r2=r2,
        X_first=stack("X_first"), X_last=stack("X_last"), params=params,
    )
