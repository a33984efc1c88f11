r"""Metastability: fast contraction, long plateaus, first merger exponentially late in β (the paper's Thm. 5, App. C, H; MODEL.md §4, §6).

Setup (MODEL.md §6, App. C; the project's choices): ``n_clusters`` clusters
of ``cluster_size`` particles, each started uniformly in a spherical cap of
geodesic radius ``cap_radius`` around centres placed along the great circle
of the :math:`(x_1,x_3)`-plane, consecutive centres ``separation`` radians
apart.  Thm. 5 is about a *nonnegative positional weight* :math:`w`: the
particles of cluster :math:`a` carry the position :math:`p_a=a/k` and the
kernel is the distance bias :math:`w(p,q)\,e^{\beta\langle x,y\rangle}/\beta`,
:math:`w=e^{-\mathrm d(p,q)/\ell}` (``length`` :math:`\ell`; ``None``: :math:`w\equiv1`,
the baseline), integrated in the rescaled clock :math:`t'=e^\beta t`:

.. math:: \dot x_i = P_{x_i}\Big(\frac1n\sum_j w(p_{a_i},p_{a_j})\,e^{\beta(\langle x_i,x_j\rangle-1)}x_j\Big).

The coarse-grained weights of Thm. 5 (3) are
:math:`W_{ab}=f_b\,\bar w_{ab}` (mass fraction :math:`f_b=1/k` times the mean
weight between the clusters; here :math:`\bar w_{ab}=w(p_a,p_b)`, and
:math:`W_{aa}=1/k`), see :func:`coarse_weights`.

Predictions (Thm. 5):

1. each cluster's diameter contracts exponentially.  Linearising the flow
   for the deviations of a cluster :math:`A` (centre :math:`m_A`) from its
   mean, with the other clusters as point masses at angle :math:`\Delta_{AB}`,
   gives :math:`\dot\delta = M_A\delta` on the tangent plane with

   .. math:: M_A = -W_{AA} P_A + \sum_{B\ne A} W_{AB}\, e^{-\beta(1-\cos\Delta_{AB})}
             \big(-\cos\Delta_{AB}\,P_A + \beta\,(P_Am_B)(P_Am_B)^\top\big),

   :math:`P_A=I-m_Am_A^\top`: the rate is :math:`W_{AA}=1/k` up to tidal
   terms that vanish like :math:`\beta e^{-\beta(1-\cos\Delta)}`
   (:func:`linear_contraction_rate`);
2. the clusters then sit on a plateau (the energy is flat) for a time
   exponentially long in β;
3. the centres follow the reduced :math:`k`-point flow
   :math:`\dot m_a = P_{m_a}\sum_b W_{ab} e^{\beta(\langle m_a,m_b\rangle-1)}m_b`;
   for two clusters at angle :math:`\Delta`,
   :math:`\dot\Delta = -(W_{AB}+W_{BA})\,e^{-\beta(1-\cos\Delta)}\sin\Delta`, so
   the first merger (centres within ``merge_angle`` :math:`\delta`) happens at

   .. math:: T_1^{\rm red}=\frac1{W_{AB}+W_{BA}}\int_{\delta}^{\Delta_0}
             \frac{e^{\beta(1-\cos\Delta)}}{\sin\Delta}\,d\Delta

   (:func:`reduced_merger_time`): at fixed β, :math:`T_1\propto1/W_{AB}`;
4. hence :math:`T_1` grows like :math:`e^{c\beta}`.  The paper's statements
   give no formula for the exponent; :math:`c=1-\cos\Delta_0` is *this
   project's reconstruction* from the reduced flow: Laplace's method at the
   upper end of the integral gives
   :math:`T_1^{\rm red}= e^{\beta(1-\cos\Delta_0)}/\big((W_{AB}+W_{BA})\beta\sin^2\Delta_0\big)\,
   \big(1+2\cos\Delta_0/(\beta\sin^2\Delta_0)+O(\beta^{-2})\big)`
   (:func:`usaav.reduced.laplace_merger_time`; chapter 7 derives it), so
   :math:`\log(\beta T_1)=a+c\beta+e/\beta+O(\beta^{-2})` with
   :math:`e=2\cos\Delta_0/\sin^2\Delta_0`.  The verdict that needs no fit
   compares :math:`T_1` with the two-term formula at every β of a gap and
   asks its error to decrease.  The local
   slope of :math:`\log T_1` is :math:`c-1/\beta+\dots`: far below :math:`c` at
   moderate β (32 % below at β = 10 for :math:`\Delta_0=1`; that of
   :math:`\log(\beta T_1)` is 10 % below), which is why the fits use
   :math:`\log(\beta T_1)` with an :math:`e/\beta` term, and why each gap
   needs its own β range (:func:`reduced_rate_table` shows the approach to
   :math:`c` up to β = 80: at β = 80 the local slope of :math:`\log(\beta T_1)`
   is within 0.3 % of :math:`c` for :math:`\Delta_0` = 0.7, 1, 1.3).

The closed-form theory (the reduced flow, its merger time, the linearised
contraction rate, the exponent fit) lives in :mod:`usaav.reduced`; its
functions are re-exported here.

:func:`metastability` runs a β sweep of one set-up (the main sweep), and by
default two studies in their own settings: a *rate study* (two clusters,
:math:`w\equiv1`, gaps 0.7, 1.0, 1.3 rad, each over a β range where the fit
reaches :math:`c` within a few per cent) and a *weight study* (β = 6, gap 1,
distance bias with several :math:`\ell`, so :math:`W_{AB}` ranges over a
factor of 7).

The first merger times recorded in MODEL.md §6 for the default set-up
(:math:`T_1\approx3.2, 4.2, 6.1, 10.5, 19.2` for β = 2, …, 10) are regression
values of this project, not predictions of the paper: their verdict says so.
"""

from __future__ import annotations

import concurrent.futures
import math
import numbers
from dataclasses import dataclass, fields
from typing import Callable

import numpy as np

from .. import kernels
from .._validation import check_int, check_positive_scalar
from ..dynamics import bind, vector_field
from ..integrate import heun_step
from ..observables import count_clusters, relative_energy_gap
from ..reduced import (angle_between, fit_exponent, index_pairs, laplace_merger_time, linear_contraction_rate,
                       linearised_modes,
                       reduced_first_merger, reduced_merger_time, reduced_rate_table, reduced_velocity)
from ..sphere import normalize
from ._pieces import PieceStore, make_piece, run_pieces
from ._results import ExperimentResult, Verdict, jsonable, linear_fit, mean_sem

__all__ = ["MODEL_CHECK", "RATE_STUDY", "WEIGHT_STUDY", "MetastabilityResult", "RateStudy", "WeightStudy",
           "cap_sample", "cluster_centres", "cluster_positions", "coarse_weights", "fit_exponent", "laplace_merger_time",
           "linear_contraction_rate", "metastability", "reduced_first_merger", "reduced_merger_time",
           "reduced_rate_table", "reduced_velocity"]

#: First merger times recorded in MODEL.md §6 for the default set-up: regression values, not predictions.
MODEL_CHECK = {2.0: 3.2, 4.0: 4.2, 6.0: 6.1, 8.0: 10.5, 10.0: 19.2}
_MODEL_SETUP = dict(n_clusters=2, cluster_size=20, cap_radius=0.05, separation=1.0, dt=0.05, merge_angle=0.1)

#: Rate study: initial gap Δ0 → β range.  Chosen with :func:`reduced_rate_table`: over these ranges the
#: fit of log(β T1_red) = a + cβ + e/β reaches 1 - cos Δ0 within 4 %, 2 % and 1 % (the reduced flow alone).
RATE_STUDY = ((0.7, (12.0, 16.0, 20.0, 24.0, 28.0)),
              (1.0, (6.0, 8.0, 10.0, 12.0, 14.0, 16.0)),
              (1.3, (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0)))
#: Weight study: (β, gap, correlation lengths ℓ of the distance bias; None is w ≡ 1).
WEIGHT_STUDY = (6.0, 1.0, (None, 1.0, 0.5, 0.25))
#: Relative tolerances of the verdicts, each from a measured error (``reproduce --quick`` and the tests' small set-up).
#: T1 against the reduced flow: largest measured |T1 / T1_red - 1| 0.0019 (rate study), 0.0017 (main sweep),
#: 0.0015 (weight study) -- the finite caps; the Heun step adds < 1e-4 (step halving) -- so 0.008, 4.3x.
REDUCED_FLOW_TOLERANCE = 0.008
#: The contraction rate of a cluster's diameter, fitted over a window, is reported (``contraction_rate``) but
#: is no verdict: the centres drift inside the window, a bias measured at 7.1 % at full size (beta = 8, 10;
#: 0.6-1.3 % at the quick sizes), as large as the effect a contraction check must see (the sign of the -cos
#: term moves the rate by 2-97 %). The eigen-direction verdicts below measure it without that bias.
#: Contraction along each eigen-direction of M_A, linearised along the measured path of the centres (no window
#: bias): largest measured |rate / linearised - 1| 0.018 over 20 runs (beta 2-16, gaps 0.7-1.3, dt 0.05 and 0.2,
#: the caps' nonlinearity), so 0.05, 2.8x.
MODE_TOLERANCE = 0.05
#: The sign of the tidal -cos term: |measured - linearised| / |linearised with +cos - linearised| at most 0.14 over
#: the same runs (the two signs differ by 2 % to 97 %); the measured rates must lie nearer the right sign by more
#: than a factor 2: 0.5, 3.5x.
SIGN_RESOLUTION = 0.5
#: ... over the directions where the two signs differ by more than 4 % (twice the largest measured error 1.8 %; at
#: large beta the tidal term, and the difference, vanish like exp(-beta (1 - cos Delta))).
SIGN_TESTABLE = 0.04
#: Fitted exponent against 1 - cos Delta0: the fit's own window bias on the reduced flow alone is 4 %, 2 %, 1 %
#: (RATE_STUDY) and the measured deviations 3.8 %, 2.4 %, 1.2 % (5.7 % and 5.0 % on the tests' shorter ranges):
#: 0.1 is 1.8-4x them.  A descriptive check; the verdict without a fit is the Laplace one below.
EXPONENT_TOLERANCE = 0.1
#: Regression check against the recorded T1: measured 0.044 (2 seeds), 0.047 (1 seed) -- the recorded values (two
#: or three digits) sit 4.4 % from today's T1 at beta = 2 and 6, the seeds spread by 1 % -- so 0.1, 2.3x.
REGRESSION_TOLERANCE = 0.1
#: Local slope of log(beta T1_red) at beta = 80 against 1 - cos Delta0 (quadrature): measured 0.0030; 0.01, 3.3x.
QUADRATURE_SLOPE_TOLERANCE = 0.01
#: The error of the two-term Laplace formula must shrink at least like 1/beta over each gap's range: predicted
#: beta^-2 (the next term of the expansion); measured decay exponents 1.7 (gap 0.7), 1.9 (1.0), 2.1 (1.3)
#: (1.6 and 1.7 on the tests' shorter ranges), against 0.5 and 0.55 for a flow twice too slow (the error then
#: tends to 1).
LAPLACE_DECAY = 1.0


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


def cluster_positions(n_clusters: int) -> np.ndarray:
    r"""The position label :math:`p_a=a/k` of cluster :math:`a` (one label per cluster, module docstring).

    >>> cluster_positions(2)
    array([0. , 0.5])
    """
    return np.arange(n_clusters) / n_clusters


def coarse_weights(n_clusters: int, length: float | None) -> np.ndarray:
    r"""Coarse-grained weights :math:`W_{ab}=f_b\,w(p_a,p_b)` of Thm. 5 (3) for equal clusters (module docstring).

    ``length`` is the correlation length :math:`\ell` of :math:`w=e^{-\mathrm d(p,q)/\ell}`
    (:class:`usaav.kernels.DistanceBias`); ``None`` means :math:`w\equiv1`.

    >>> coarse_weights(2, None)
    array([[0.5, 0.5],
           [0.5, 0.5]])
    >>> round(float(coarse_weights(2, 0.5)[0, 1]), 6)   # (1/2) e^{-0.5/0.5}
    0.18394
    """
    k = n_clusters
    if length is None:
        return np.full((k, k), 1.0 / k)
    p = cluster_positions(k)
    return np.exp(kernels.DistanceBias(1.0, length).log_weight(p, p)) / k


def _centres(X: np.ndarray, k: int) -> np.ndarray:
    return normalize(X.reshape(k, -1, X.shape[-1]).mean(axis=1))


def _diameters(X: np.ndarray, k: int) -> np.ndarray:
    C = X.reshape(k, -1, X.shape[-1])
    return np.array([np.max(np.linalg.norm(c[:, None] - c[None], axis=-1)) for c in C])


def _kernel(beta: float, length: float | None):
    return kernels.USA(beta) if length is None else kernels.DistanceBias(beta, length)


def metastability_piece(beta: float, seed: int, n_clusters: int, cluster_size: int, cap_radius: float,
                        separation, dt: float, merge_angle: float, record_every: int, t_max: float,
                        until: str, length: float | None = None) -> dict:
    """One (β, seed) run: clustered start, integrate in the rescaled clock until (soon after) the merger."""
    k = n_clusters
    rng = np.random.default_rng([seed, k, cluster_size])
    centres = cluster_centres(k, separation)
    X = np.concatenate([cap_sample(c, cap_radius, cluster_size, rng) for c in centres])
    labels = np.repeat(cluster_positions(k), cluster_size)
    W = coarse_weights(k, length)
    kernel = _kernel(beta, length)
    X, interaction = bind(kernel, X, labels)
    field = vector_field(interaction, "rescaled")
    pairs = index_pairs(k)
    chord = 2.0 * math.sin(merge_angle / 2.0)  # centres closer than merge_angle: chordal distance below this

    def centre_angles(X):
        C = _centres(X, k)
        return np.array([angle_between(C[a], C[b]) for a, b in pairs])

    angles = centre_angles(X)
    initial_angles = angles.copy()
    frames = {"t": [0.0], "diameters": [_diameters(X, k)], "centre_angles": [angles],
              "groups": [count_clusters(_centres(X, k), chord)], "X": [X]}
    merger_times = np.full(k - 1, np.nan)
    groups_now = frames["groups"][0]
    step, stop_at = 0, t_max
    while step * dt < stop_at - 1e-12:
        X_new = heun_step(field, X, dt)
        step += 1
        new_angles = centre_angles(X_new)
        new_groups = count_clusters(_centres(X_new, k), chord)
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
    until = 0.5 * first if np.isfinite(first) else t[-1]
    early = t <= until  # the fit window's frames only: the spreads cost an eigen-decomposition per cluster and frame
    mode_rates = _mode_rates(t[early], np.array([_mode_spreads(beta, Y, k, W) for Y in X_frames[early]]), until)
    C0 = _centres(X_frames[0], k)
    if k == 2:
        reduced = reduced_merger_time(beta, float(initial_angles[0]), merge_angle, coupling=W[0, 1] + W[1, 0])
    else:
        reduced = reduced_first_merger(beta, C0, W, dt, merge_angle, t_max)
    return {
        "t": t,
        "diameters": diameters,
        "centre_angles": np.array(frames["centre_angles"]).T,  # (pairs, F)
        "groups": np.array(frames["groups"]),
        "relative_energy_gap": relative_energy_gap(kernel, X_frames, labels),
        "merger_times": merger_times,
        "initial_angle": np.float64(initial_angles.min()),
        "T1_reduced": np.float64(reduced),
        "contraction_rate": np.float64(rate),
        "contraction_rate_predicted": np.float64(linear_contraction_rate(beta, C0, W)),
        "mode_rate": mode_rates[0],
        "mode_rate_predicted": mode_rates[1],
        "mode_rate_flipped": mode_rates[2],
        "X_first": X_frames[0],
        "X_last": X_frames[-1],
    }


def _mode_spreads(beta: float, X: np.ndarray, k: int, W: np.ndarray) -> np.ndarray:
    r"""Per cluster and eigen-direction of :math:`M_A` at the current centres: RMS deviation, rate, tidal shift.

    Returns ``(k, d - 1, 3)``: the root-mean-square component of :math:`x_i-m_A`
    along each eigenvector of :math:`M_A` (ascending eigenvalues), the
    linearised rate :math:`-\lambda` of that direction, and the shift
    :math:`2\sum_{B\ne A}W_{AB}e^{-\beta(1-\cos\Delta_{AB})}\cos\Delta_{AB}` the rate would
    lose were the :math:`-\cos\Delta_{AB}P_A` term of :math:`M_A` of the other sign.
    """
    C = _centres(X, k)
    groups = X.reshape(k, -1, X.shape[-1])
    out = np.empty((k, X.shape[-1] - 1, 3))
    for a in range(k):
        values, vectors = linearised_modes(beta, C, W, a)
        out[a, :, 0] = np.sqrt(np.mean(((groups[a] - C[a]) @ vectors) ** 2, axis=0))
        out[a, :, 1] = -values
        cos = np.clip(C @ C[a], -1.0, 1.0)
        others = np.arange(k) != a
        out[a, :, 2] = 2.0 * np.sum(W[a, others] * np.exp(-beta * (1.0 - cos[others])) * cos[others])
    return out


def _mode_rates(t: np.ndarray, modes: np.ndarray, until: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Contraction rates along the eigen-directions, measured and linearised along the measured path, ``(k, d - 1)`` each.

    Over the frames with :math:`t\le` ``until`` and the spread above round-off,
    the measured rate is minus the least-squares slope of the log RMS spread;
    the linearised one is the same slope of :math:`-\int_0^t\mathrm{rate}(s)\,ds`
    with the rate of :math:`M_A` at each frame's own centres (trapezoid rule),
    so the drift of the gap during the window is in both; the flipped one uses
    the rate with the other sign of the tidal :math:`\cos` term.
    """
    F, k, m = modes.shape[0], modes.shape[1], modes.shape[2]
    measured, predicted, flipped = (np.full((k, m), math.nan) for _ in range(3))
    steps = np.diff(t)
    for a in range(k):
        for j in range(m):
            spread, rate, shift = modes[:, a, j, 0], modes[:, a, j, 1], modes[:, a, j, 2]
            window = (t <= until) & (spread > 1e-9)
            if window.sum() < 3:
                continue
            for out, r in ((predicted, rate), (flipped, rate - shift)):
                decay = np.r_[0.0, np.cumsum(0.5 * (r[1:] + r[:-1]) * steps)]
                out[a, j] = linear_fit(t[window], decay[window])[0]
            measured[a, j] = -linear_fit(t[window], np.log(spread[window]))[0]
    return measured, predicted, flipped


def _mode_verdicts(label: str, measured, predicted, flipped, ref: str) -> list[Verdict]:
    """Contraction along every eigen-direction against the path linearisation, and the sign of its cos term."""
    runs = int(np.isfinite(measured).all(axis=(-2, -1)).sum())
    finite = np.isfinite(predicted).all()
    error = np.abs(measured / predicted - 1.0)
    testable = np.abs(flipped / predicted - 1.0) > SIGN_TESTABLE
    resolution = (np.abs(measured - predicted) / np.abs(flipped - predicted))[testable]
    return [
        Verdict.check(
            "metastability", f"(1) {label}contraction along each eigen-direction of M_A (every cluster, {runs} runs), "
            "linearised along the measured path of the centres: largest |rate / linearised - 1|",
            float(np.max(error)) if finite and np.isfinite(error).all() else math.nan, "<", MODE_TOLERANCE, ref + " (1)"),
        Verdict.check(
            "metastability", f"(1) {label}sign of the tidal -cos(Delta) term of M_A: largest |measured - linearised| / "
            f"|linearised with +cos - linearised| over the {resolution.size} directions where the signs differ by more "
            f"than {SIGN_TESTABLE:.0%} (below 1: the rates tell the signs apart)",
            float(np.max(resolution)) if finite and resolution.size and np.isfinite(resolution).all() else math.nan,
            "<", SIGN_RESOLUTION,
            ref + " (1)"),
    ]


@dataclass(frozen=True, eq=False)
class RateStudy:
    r"""First merger times against β for several initial gaps (two clusters, :math:`w\equiv1`; module docstring, item 4).

    Attributes
    ----------
    gaps : (G,) ndarray
        Nominal initial gaps :math:`\Delta_0` (rad).
    betas : (G, B) ndarray
        β range of each gap (NaN-padded).
    T1, T1_reduced, initial_angle, contraction_rate, contraction_rate_predicted : (G, B, R) ndarray
        As in :class:`MetastabilityResult`, per gap, β and seed.
    mode_rate, mode_rate_predicted, mode_rate_flipped : (G, B, R, 2, 2) ndarray
        As in :class:`MetastabilityResult` (two clusters on :math:`\mathbb S^2`).
    exponent : (G,) ndarray
        :math:`c` of :func:`fit_exponent` on the seed-mean of :math:`\log(\beta T_1)`.
    exponent_se : (G,) ndarray
        Standard error of :math:`c` over per-seed fits.
    """

    gaps: np.ndarray
    betas: np.ndarray
    T1: np.ndarray
    T1_reduced: np.ndarray
    initial_angle: np.ndarray
    contraction_rate: np.ndarray
    contraction_rate_predicted: np.ndarray
    mode_rate: np.ndarray
    mode_rate_predicted: np.ndarray
    mode_rate_flipped: np.ndarray
    exponent: np.ndarray
    exponent_se: np.ndarray

    def laplace_error(self) -> np.ndarray:
        r"""Seed mean of :math:`|T_1/T_1^{\rm Laplace}-1|` per gap and β, ``(G, B)`` (:func:`usaav.reduced.laplace_merger_time` at each run's own :math:`\Delta_0`)."""
        laplace = np.vectorize(lambda beta, angle: laplace_merger_time(beta, angle) if np.isfinite(beta) else math.nan)
        predicted = laplace(np.broadcast_to(self.betas[:, :, None], self.T1.shape), self.initial_angle)
        return np.abs(np.mean(self.T1 / predicted, axis=2) - 1.0)

    def reconstructed_exponent(self) -> np.ndarray:
        r""":math:`1-\cos\Delta_0` with :math:`\Delta_0` the mean measured initial gap, per gap (this project's reconstruction)."""
        return 1.0 - np.cos(np.nanmean(self.initial_angle, axis=(1, 2)))

    def to_dict(self) -> dict:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class WeightStudy:
    r"""First merger times at fixed β for several distance-bias weights (module docstring, item 3).

    Attributes
    ----------
    beta, gap : float
    lengths : (L,) ndarray
        Correlation lengths :math:`\ell` (NaN: :math:`w\equiv1`).
    W_AB : (L,) ndarray
        Coarse-grained inter-cluster weight :math:`W_{AB}` (:func:`coarse_weights`).
    T1, T1_reduced : (L, R) ndarray
    """

    beta: float
    gap: float
    lengths: np.ndarray
    W_AB: np.ndarray
    T1: np.ndarray
    T1_reduced: np.ndarray

    def scaled(self) -> np.ndarray:
        r""":math:`T_1 W_{AB}` per weight and seed (constant if :math:`T_1\propto1/W_{AB}`)."""
        return self.T1 * self.W_AB[:, None]

    def to_dict(self) -> dict:
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class MetastabilityResult(ExperimentResult):
    r"""Result of :func:`metastability` (the paper's App. C, Thm. 5).

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
        First merger time of the reduced k-point flow (same :math:`W_{ab}`) from the same initial centres.
    initial_angle : (B, R) ndarray
        Smallest initial centre angle :math:`\Delta_0`.
    contraction_rate : (B, R) ndarray
        Fitted exponential rate of the largest cluster diameter (over the
        first half of the plateau, above round-off).
    contraction_rate_predicted : (B, R) ndarray
        :func:`linear_contraction_rate` at the initial centres.
    mode_rate, mode_rate_predicted, mode_rate_flipped : (B, R, k, d - 1) ndarray
        Contraction rate along each eigen-direction of :math:`M_A` (ascending
        eigenvalues: the slowest last) of each cluster: measured (RMS spread),
        linearised along the measured path of the centres, and the same with
        the other sign of the tidal :math:`\cos` term (module docstring, item 1).
    coarse_weights : (k, k) ndarray
        :math:`W_{ab}` of the main sweep.
    fit_slope, fit_intercept, fit_r2 : float
        Least-squares line of the seed-mean of :math:`\log T_1` against β (descriptive only).
    X_first, X_last : (B, R, n, 3) ndarray
        Initial and final configurations.
    rate_study : RateStudy or None
    weight_study : WeightStudy or None
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
    mode_rate: np.ndarray
    mode_rate_predicted: np.ndarray
    mode_rate_flipped: np.ndarray
    coarse_weights: np.ndarray
    fit_slope: float
    fit_intercept: float
    fit_r2: float
    X_first: np.ndarray
    X_last: np.ndarray
    rate_study: RateStudy | None
    weight_study: WeightStudy | None
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

    def to_dict(self) -> dict:
        out = super().to_dict()
        for name in ("rate_study", "weight_study"):
            study = getattr(self, name)
            out[name] = None if study is None else study.to_dict()
        return out

    def table(self) -> list[dict]:
        """One row per β of the main sweep: merger time (mean ± s.e.), reduced prediction, contraction rate."""
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
                "T1_recorded": MODEL_CHECK.get(float(beta), math.nan) if self._model_setup() else math.nan,
                "contraction_rate": float(rate_mean[b]), "contraction_rate_se": float(rate_se[b]),
                "contraction_rate_predicted": float(np.mean(self.contraction_rate_predicted[b])),
                "initial_angle": float(np.mean(self.initial_angle[b])),
            })
        return rows

    def rate_table(self) -> list[dict]:
        """One row per gap of the rate study: fitted exponent, its s.e., and the reconstruction 1 − cos Δ0."""
        study = self.rate_study
        if study is None:
            return []
        target = study.reconstructed_exponent()
        return [{"gap": float(g), "betas": [float(b) for b in study.betas[i] if np.isfinite(b)],
                 "exponent": float(study.exponent[i]), "exponent_se": float(study.exponent_se[i]),
                 "one_minus_cos_gap": float(target[i]),
                 "relative_error": float(study.exponent[i] / target[i] - 1.0)}
                for i, g in enumerate(study.gaps)]

    def _model_setup(self) -> bool:
        p = self.params
        return p.get("length") is None and all(np.allclose(p[key], value) for key, value in _MODEL_SETUP.items())

    def verdicts(self) -> list[Verdict]:
        """Thm. 5 as numbers: reduced flow, contraction, the exponent per gap, T1 ∝ 1/W_AB (module docstring)."""
        ref = "the paper's Thm. 5, App. H"
        betas = ", ".join(f"{b:g}" for b in self.betas)
        out = []
        deviation = np.abs(self.T1 / self.T1_reduced - 1.0)
        out.append(Verdict.check(
            "metastability", f"(3) largest |T1 / T1(reduced 2-point flow, same W_ab) - 1| over beta = {betas}"
            if int(self.params["n_clusters"]) == 2 else
            f"(3) largest |T1 / T1(reduced k-point flow, same W_ab) - 1| over beta = {betas}",
            np.nanmax(deviation) if np.isfinite(deviation).all() else math.nan,
            "<", REDUCED_FLOW_TOLERANCE, ref + " (3)"))
        out += _mode_verdicts("", self.mode_rate, self.mode_rate_predicted, self.mode_rate_flipped, ref)
        if self._model_setup():
            t1 = mean_sem(self.T1, axis=1)[0]
            devs = [abs(t1[b] / MODEL_CHECK[float(beta)] - 1) for b, beta in enumerate(self.betas)
                    if float(beta) in MODEL_CHECK]
            if devs:
                out.append(Verdict.check(
                    "metastability", "regression check, not a prediction: largest |T1 / T1 recorded by this "
                    "project - 1|", max(devs), "<", REGRESSION_TOLERANCE, "the book's model appendix, §6"))
        out += self._rate_verdicts(ref)
        out += self._weight_verdicts(ref)
        return out

    def _rate_verdicts(self, ref: str) -> list[Verdict]:
        study = self.rate_study
        if study is None:
            return []
        out = []
        target = study.reconstructed_exponent()
        seeds = study.T1.shape[-1]
        for i, gap in enumerate(study.gaps):
            b = study.betas[i][np.isfinite(study.betas[i])]
            spread = f"± {study.exponent_se[i]:.3f} (s.e. over {seeds} seeds)" if seeds > 1 else "(1 seed)"
            out.append(Verdict.check(
                "metastability",
                f"(4) Delta0 = {gap:g}: exponent c of log(beta T1) = a + c beta + e/beta over beta = {b.min():g}…"
                f"{b.max():g}: {study.exponent[i]:.3f} {spread}, vs 1 - cos Delta0 = "
                f"{target[i]:.3f} (this project's reconstruction, derived by Laplace's method): |c / (1 - cos Delta0) - 1|",
                abs(study.exponent[i] / target[i] - 1.0), "<", EXPONENT_TOLERANCE, ref + " (4)"))
        laplace = study.laplace_error()
        for i, gap in enumerate(study.gaps):
            keep = np.isfinite(study.betas[i])
            b, err = study.betas[i][keep], laplace[i][keep]
            decreasing = bool(np.all(np.diff(err) < 0.0)) and len(err) >= 3
            decay = -math.log(err[-1] / err[0]) / math.log(b[-1] / b[0]) if decreasing else math.nan
            out.append(Verdict.check(
                "metastability",
                f"(4) Delta0 = {gap:g}, no fit: |T1 / T1(Laplace: exp(beta(1 - cos Delta0)) / (beta sin^2 Delta0) "
                f"(1 + 2 cos Delta0 / (beta sin^2 Delta0))) - 1| at beta = {', '.join(f'{x:g}' for x in b)}: "
                f"{', '.join(f'{x:.3f}' for x in err)}, decreasing in beta (else NaN); decay exponent p of "
                f"error ~ beta^-p between the ends (predicted 2: the remainder is O(beta^-2))",
                decay, ">", LAPLACE_DECAY, ref + " (4)"))
        if len(study.gaps) >= 2:
            order = np.argsort(study.gaps)
            out.append(Verdict.check(
                "metastability", "(4) smallest increase of the fitted exponent c between consecutive gaps "
                f"Delta0 = {', '.join(f'{g:g}' for g in study.gaps[order])} (c grows with the gap)",
                np.min(np.diff(study.exponent[order])), ">", 0.0, ref + " (4)"))
        deviation = np.abs(study.T1 / study.T1_reduced - 1.0)
        finite = np.isfinite(study.betas)[:, :, None] & np.ones_like(deviation, dtype=bool)
        out.append(Verdict.check(
            "metastability", "(3) rate study: largest |T1 / T1(reduced 2-point flow) - 1| over every gap, beta, seed",
            np.nanmax(deviation) if np.isfinite(deviation[finite]).all() else math.nan,
            "<", REDUCED_FLOW_TOLERANCE, ref + " (3)"))
        listed = np.isfinite(study.betas)
        out += _mode_verdicts("rate study: ", study.mode_rate[listed], study.mode_rate_predicted[listed],
                              study.mode_rate_flipped[listed], ref)
        quadrature = reduced_rate_table(gaps=tuple(float(g) for g in study.gaps), betas=(80.0,),
                                        merge_angle=float(self.params["merge_angle"]))
        out.append(Verdict.check(
            "metastability", "(4) reduced flow alone (quadrature): largest |local slope of log(beta T1) at beta = 80 "
            "/ (1 - cos Delta0) - 1| over the gaps (the reconstruction is the limit)",
            max(abs(row["slope_log_beta_T1"] / row["c"] - 1.0) for row in quadrature), "<", QUADRATURE_SLOPE_TOLERANCE,
            ref + " (4)"))
        return out

    def _weight_verdicts(self, ref: str) -> list[Verdict]:
        study = self.weight_study
        if study is None:
            return []
        scaled = np.nanmean(study.scaled(), axis=1)
        weights = ", ".join(f"{w:.3g}" for w in study.W_AB)
        deviation = np.abs(study.T1 / study.T1_reduced - 1.0)
        return [
            Verdict.check(
                "metastability", f"(3) T1 * W_AB constant across W_AB = {weights} at beta = {study.beta:g} "
                f"(distance bias): max / min - 1", np.max(scaled) / np.min(scaled) - 1.0
                if np.isfinite(study.T1).all() else math.nan, "<", REDUCED_FLOW_TOLERANCE, ref + " (3)"),
            Verdict.check(
                "metastability", f"(3) weight study: largest |T1 / T1(reduced flow with the same W_ab) - 1| "
                f"over W_AB = {weights}", np.nanmax(deviation) if np.isfinite(deviation).all() else math.nan,
                "<", REDUCED_FLOW_TOLERANCE, ref + " (3)"),
        ]


def _check_seeds(seeds) -> tuple:
    seeds = tuple(seeds)
    if not seeds:
        raise ValueError("seeds must be a nonempty sequence of nonnegative integers, got an empty one")
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
            raise ValueError(f"seeds must be nonnegative integers, got {s!r} in {seeds!r}")
    return tuple(int(s) for s in seeds)


def _check_betas(betas, name: str) -> tuple:
    betas = tuple(betas)
    if not betas:
        raise ValueError(f"{name} must be a nonempty sequence of inverse temperatures")
    return tuple(check_positive_scalar(b, f"{name} entry") for b in betas)


def _check_length(length):
    return None if length is None else check_positive_scalar(length, "length")


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
    length: float | None = None,
    rate_study=RATE_STUDY,
    weight_study=WEIGHT_STUDY,
    study_seeds=None,
    study_dt: float = 0.2,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> MetastabilityResult:
    r"""Metastable clusters and the first merger time (the paper's App. C, Thm. 5; MODEL.md §4, §6).

    **Main sweep.**  For every β and seed, ``n_clusters`` clusters start in
    caps (module docstring) and follow the flow of the distance bias with
    correlation length ``length`` (``None``: :math:`w\equiv1`) in the rescaled
    clock :math:`t'=e^\beta t` with projected Heun steps ``dt``.  The first
    merger time :math:`T_1` is the first time two cluster centres come
    within ``merge_angle`` (linearly interpolated within the step); runs stop
    a little after the first merger (``until="first"``) or after the last
    (``until="all"``), or at ``t_max``.

    **Rate study** (``rate_study``: pairs (gap, βs); ``()`` skips it): two
    clusters of the same size and caps, :math:`w\equiv1`, each gap over its β
    range, fitted by :func:`fit_exponent`.  **Weight study**
    (``weight_study``: (β, gap, lengths); ``None`` skips it): two clusters,
    the distance bias with each length.  Both use ``study_seeds``.

    Parameters
    ----------
    betas : sequence of float
    cluster_size : int
        Particles per cluster, at least 2.
    cap_radius : float
        Geodesic radius of the initial caps, in (0, π/2).
    separation : float or sequence
        Angle between consecutive centres.
    dt : float
        Heun step in the rescaled clock.
    merge_angle : float
        Centres closer than this have merged; below every gap.
    seeds : iterable of int, optional
        Default ``range(10)``, or ``range(2)`` with ``quick``.
    n_clusters : int
    until : {"first", "all"}
    record_every : int
        Record every this many steps (the studies record every 2).
    t_max : float
        Safety limit on the rescaled time.
    executor, quick, store, progress
        As in :func:`collapse_through_layers`.
    length : float, optional
        Correlation length :math:`\ell` of the distance bias of the main sweep.
    rate_study, weight_study
        The studies (default ``RATE_STUDY``, ``WEIGHT_STUDY``).
    study_seeds : iterable of int, optional
        Default ``range(4)``, or ``range(1)`` with ``quick``.
    study_dt : float
        Heun step of the studies.  0.2 changes :math:`T_1` by less than
        :math:`10^{-4}` (relative) against 0.05 (measured for the gaps 0.7,
        1, 1.3 at their largest β) and costs a quarter.

    Returns
    -------
    MetastabilityResult

    Examples
    --------
    >>> res = metastability(betas=(2.0, 4.0), seeds=range(1), rate_study=(), weight_study=None)
    >>> [round(float(t), 1) for t in res.T1[:, 0]]
    [3.1, 4.2]
    """
    betas = _check_betas(betas, "betas")
    seeds = _check_seeds((range(2) if quick else range(10)) if seeds is None else seeds)
    study_seeds = _check_seeds((range(1) if quick else range(4)) if study_seeds is None else study_seeds)
    n_clusters = check_int(n_clusters, "n_clusters", minimum=2)
    cluster_size = check_int(cluster_size, "cluster_size", minimum=2)
    record_every = check_int(record_every, "record_every", minimum=1)
    cap_radius = check_positive_scalar(cap_radius, "cap_radius")
    if cap_radius >= math.pi / 2:
        raise ValueError(f"cap_radius must be below pi/2 (a cap within a hemisphere), got {cap_radius}")
    dt = check_positive_scalar(dt, "dt")
    study_dt = check_positive_scalar(study_dt, "study_dt")
    merge_angle = check_positive_scalar(merge_angle, "merge_angle")
    t_max = check_positive_scalar(t_max, "t_max")
    length = _check_length(length)
    if until not in ("first", "all"):
        raise ValueError(f"until must be 'first' or 'all', got {until!r}")
    gaps = np.atleast_1d(np.asarray(separation, dtype=np.float64))
    if gaps.ndim != 1 or len(gaps) not in (1, n_clusters - 1) or not np.all(np.isfinite(gaps)):
        raise ValueError(f"separation must be one angle or {n_clusters - 1} angles, got {separation!r}")
    if np.any(gaps <= merge_angle) or np.sum(np.broadcast_to(gaps, (n_clusters - 1,))) >= 2 * math.pi:
        raise ValueError(f"separation must exceed merge_angle = {merge_angle} and the centres must fit on a "
                         f"great circle, got {separation!r}")
    separation = float(gaps[0]) if np.ndim(separation) == 0 else tuple(float(s) for s in gaps)
    rate_study = tuple((check_positive_scalar(g, "rate_study gap"), _check_betas(b, "rate_study betas"))
                       for g, b in rate_study)
    if weight_study is not None:
        w_beta, w_gap, w_lengths = weight_study
        weight_study = (check_positive_scalar(w_beta, "weight_study beta"),
                        check_positive_scalar(w_gap, "weight_study gap"),
                        tuple(_check_length(ell) for ell in w_lengths))
        if not weight_study[2]:
            raise ValueError("weight_study needs at least one length")
    for gap in [g for g, _ in rate_study] + ([weight_study[1]] if weight_study is not None else []):
        if gap <= merge_angle:
            raise ValueError(f"every study gap must exceed merge_angle = {merge_angle}, got {gap}")
    params = dict(betas=betas, seeds=seeds, n_clusters=n_clusters, cluster_size=cluster_size,
                  cap_radius=cap_radius, separation=separation, dt=dt, merge_angle=merge_angle, until=until,
                  record_every=record_every, t_max=t_max, length=length,
                  kernel=("USA (w = 1)" if length is None else f"distance bias, exponential, length {length:g}")
                  + ", cluster a at position a/k, rescaled clock",
                  rate_study=rate_study, weight_study=weight_study, study_seeds=study_seeds, study_dt=study_dt,
                  quick=quick)
    common = dict(cluster_size=cluster_size, cap_radius=cap_radius, dt=dt, merge_angle=merge_angle, t_max=t_max)
    main = [make_piece("metastability", f"beta{beta:g}-seed{seed}", metastability_piece, beta=beta, seed=seed,
                       n_clusters=n_clusters, separation=separation, record_every=record_every, until=until,
                       length=length, **common)
            for beta in betas for seed in seeds]
    study_common = dict(n_clusters=2, record_every=2, until="first", **{**common, "dt": study_dt})
    rate_pieces = {(g, b, s): make_piece("metastability", f"rate-gap{g:g}-beta{b:g}-seed{s}", metastability_piece,
                                         beta=b, seed=s, separation=g, length=None, **study_common)
                   for g, bs in rate_study for b in bs for s in study_seeds}
    weight_pieces = {}
    if weight_study is not None:
        w_beta, w_gap, w_lengths = weight_study
        weight_pieces = {(ell, s): make_piece("metastability", f"weight-length{ell if ell is not None else 'inf'}"
                                              f"-beta{w_beta:g}-gap{w_gap:g}-seed{s}", metastability_piece,
                                              beta=w_beta, seed=s, separation=w_gap, length=ell, **study_common)
                         for ell in w_lengths for s in study_seeds}
    results = run_pieces(main + list(rate_pieces.values()) + list(weight_pieces.values()), executor, store, progress)
    runs = [[results[main[b * len(seeds) + r].name] for r in range(len(seeds))] for b in range(len(betas))]
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
        contraction_rate_predicted=stack("contraction_rate_predicted"),
        mode_rate=stack("mode_rate"), mode_rate_predicted=stack("mode_rate_predicted"),
        mode_rate_flipped=stack("mode_rate_flipped"),
        coarse_weights=coarse_weights(k, length), fit_slope=slope, fit_intercept=intercept, fit_r2=r2,
        X_first=stack("X_first"), X_last=stack("X_last"),
        rate_study=_rate_study(rate_study, study_seeds, rate_pieces, results) if rate_study else None,
        weight_study=_weight_study(weight_study, study_seeds, weight_pieces, results),
        params=params,
    )


def _rate_study(rate_study, seeds, pieces, results) -> RateStudy:
    width = max(len(b) for _, b in rate_study)
    shape = (len(rate_study), width, len(seeds))
    arrays = {key: np.full(shape, np.nan) for key in
              ("T1", "T1_reduced", "initial_angle", "contraction_rate", "contraction_rate_predicted")}
    betas = np.full((len(rate_study), width), np.nan)
    modes = ("mode_rate", "mode_rate_predicted", "mode_rate_flipped")
    arrays.update({key: np.full(shape + (2, 2), np.nan) for key in modes})
    for i, (gap, bs) in enumerate(rate_study):
        betas[i, : len(bs)] = bs
        for j, beta in enumerate(bs):
            for r, seed in enumerate(seeds):
                run = results[pieces[(gap, beta, seed)].name]
                arrays["T1"][i, j, r] = run["merger_times"][0]
                for key in ("T1_reduced", "initial_angle", "contraction_rate", "contraction_rate_predicted") + modes:
                    arrays[key][i, j, r] = run[key]
    exponent, exponent_se = [], []
    for i, (_, bs) in enumerate(rate_study):
        T1 = arrays["T1"][i, : len(bs)]
        exponent.append(fit_exponent(bs, np.exp(np.mean(np.log(T1), axis=1)))[1])  # geometric mean over seeds
        per_seed = [fit_exponent(bs, T1[:, r])[1] for r in range(len(seeds))]
        exponent_se.append(float(mean_sem(np.array(per_seed), axis=0)[1]))
    return RateStudy(gaps=np.array([g for g, _ in rate_study]), betas=betas, exponent=np.array(exponent),
                     exponent_se=np.array(exponent_se), **arrays)


def _weight_study(weight_study, seeds, pieces, results) -> WeightStudy | None:
    if weight_study is None:
        return None
    beta, gap, lengths = weight_study
    T1 = np.array([[results[pieces[(ell, s)].name]["merger_times"][0] for s in seeds] for ell in lengths])
    T1_reduced = np.array([[results[pieces[(ell, s)].name]["T1_reduced"] for s in seeds] for ell in lengths])
    return WeightStudy(beta=float(beta), gap=float(gap),
                       lengths=np.array([math.nan if ell is None else ell for ell in lengths]),
                       W_AB=np.array([coarse_weights(2, ell)[0, 1] for ell in lengths]), T1=T1, T1_reduced=T1_reduced)
