r"""Mean-field limit: :math:`W_2` between n-particle laws and a large-n reference (seed Prop. 4, MODEL.md §2).

Seed Prop. 4 (Dobrushin): two solutions of the mean-field equation satisfy
:math:`W_1(\mu_t,\nu_t)\le e^{Ct}W_1(\mu_0,\nu_0)`; empirical laws of the
n-particle system are solutions, so if the initial empirical laws converge,
so do the laws at every fixed time.  Here the n-particle system and a
reference system of ``reference_size`` particles start from independent
draws of the same law and are compared at fixed times for growing n:

* ``kernel="usa"``: tokens i.i.d. uniform on :math:`\mathbb S^2`, labels
  ignored; the laws compared are the content laws, cost :math:`|x-y|^2`;
* ``kernel="rope"``: positions on the grid :math:`s_i=i/n` (reference
  :math:`i/m`), gauge-frame tokens uniform, :math:`x_i=R_{-2\pi s_i}u_i`; the
  laws compared are the joint laws of :math:`(x,a)`, cost
  :math:`|x-y|^2+\mathrm d(a,b)^2` with the periodic distance on the torus.

Method (exact assignments between equal-size uniform laws).  The reference
(:math:`m=kn` points) is split into the :math:`k` strided subsets
:math:`\{j, j+k, j+2k,\dots\}` — for RoPE each is itself a shifted position
grid — and :math:`W_2` between the n-particle law and each subset is computed
exactly by :func:`usaav.transport.wasserstein` (an optimal assignment,
:func:`scipy.optimize.linear_sum_assignment`).  The reported value is
:math:`\big(\frac1k\sum_j W_2(\mu^n,\nu^{(j)})^2\big)^{1/2}`, an upper bound
on :math:`W_2(\mu^n,\nu^m)` (joint convexity of :math:`W_2^2`,
:math:`\nu^m=\frac1k\sum_j\nu^{(j)}`) that is far cheaper than the exact
:math:`m\times m` assignment with repeated atoms.

For the uniform initial law the exact mean-field solution is stationary (by
rotation invariance the drift is radial), but it is unstable: finite-n
fluctuations of size :math:`n^{-1/2}` grow like :math:`e^{\lambda t}` — the
:math:`e^{Ct}` of the Dobrushin estimate.  The reference itself leaves the
mean-field solution once :math:`e^{\lambda t}m^{-1/2}` is of order one, so the
comparison is meaningful only while the reference's collapse gap stays near
1 (reported as ``reference_gap``).  Default times (0, 0.5, 1, 2) keep to that
regime for :math:`m=2048`.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import kernels
from ..dynamics import simulate
from ..labels import grid_positions
from ..observables import collapse_gap
from ..sphere import rotation, uniform_sphere
from ..transport import wasserstein
from ._pieces import PieceStore, make_piece, run_pieces
from ._results import ExperimentResult, Verdict, linear_fit, mean_sem

__all__ = ["KERNELS", "MeanFieldResult", "mean_field_convergence", "mean_field_setup", "partition_w2"]

KERNELS = ("usa", "rope")


def mean_field_setup(kernel: str, n: int, seed: int, *, beta: float = 1.0, role: int = 0):
    r"""Kernel, initial tokens and labels of one mean-field run (``role`` 0: n-particle run, 1: reference).

    ``numpy.random.default_rng([seed, n, role])`` draws the gauge-frame
    tokens, so runs and reference are independent.

    >>> k, X0, aux = mean_field_setup("rope", 4, 0)
    >>> aux
    array([0.  , 0.25, 0.5 , 0.75])
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    U = uniform_sphere(n, 3, np.random.default_rng([seed, n, role]))
    s = grid_positions(n)
    if kernel == "usa":
        return kernels.USA(beta), U, s
    return kernels.RoPE(beta, theta=2 * np.pi), np.einsum("nji,nj->ni", rotation(2 * np.pi * s, 3), U), s


def mean_field_piece(kernel: str, n: int, seed: int, role: int, beta: float, dt: float, times: tuple) -> dict:
    """Configurations of one run at the requested ``times`` (multiples of ``dt``)."""
    k, X0, aux = mean_field_setup(kernel, n, seed, beta=beta, role=role)
    steps = [int(round(t / dt)) for t in times]
    frames = [X0] if steps[0] == 0 else []
    if steps[-1] > 0:
        run = simulate(k, X0, aux, steps[-1] * dt, dt=dt, record_every=1)
        frames = [run.X[s] for s in steps]
    return {"X": np.array(frames), "aux": aux}


def partition_w2(X, aux, R, aux_R, *, joint: bool) -> float:
    r"""The strided-partition :math:`W_2` of the module docstring between ``X`` (n points) and ``R`` (kn points).

    >>> X = np.eye(3)[:2]
    >>> partition_w2(X, None, np.repeat(X, 2, axis=0), None, joint=False)  # subsets {x0, x1}, {x0, x1}
    0.0
    """
    n, m = len(X), len(R)
    if m % n:
        raise ValueError(f"the reference size {m} must be a multiple of the run size {n}")
    k = m // n
    total = 0.0
    for j in range(k):
        if joint:
            total += wasserstein(X, R[j::k], aux, aux_R[j::k], periodic=True) ** 2
        else:
            total += wasserstein(X, R[j::k]) ** 2
    return float(np.sqrt(total / k))


@dataclass(frozen=True, eq=False)
class MeanFieldResult(ExperimentResult):
    r"""Result of :func:`mean_field_convergence` (seed Prop. 4).

    Attributes
    ----------
    sizes : (S,) ndarray
    times : (T,) ndarray
    seeds : (R,) ndarray
    w2 : (S, R, T) ndarray
        :math:`W_2` between the n-particle law and the reference at each time.
    reference_gap : (R, T) ndarray
        Collapse gap of the reference (1 for the exact mean-field solution).
    slope, intercept, r2 : (T,) ndarray
        Least-squares line of :math:`\log\overline{W_2}` against :math:`\log n` per time.
    params : dict
    """

    experiment = "mean_field"

    sizes: np.ndarray
    times: np.ndarray
    seeds: np.ndarray
    w2: np.ndarray
    reference_gap: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray
    r2: np.ndarray
    params: dict

    def summary(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard error of :math:`W_2` over seeds, each ``(S, T)``."""
        return mean_sem(self.w2, axis=1)

    def table(self) -> list[dict]:
        """One row per (n, t): W2 mean ± s.e.; the fitted rate per time is repeated on each row."""
        mean, se = self.summary()
        ref_mean = self.reference_gap.mean(axis=0)
        rows = []
        for s, n in enumerate(self.sizes):
            for j, t in enumerate(self.times):
                rows.append({"n": int(n), "t": float(t), "w2": float(mean[s, j]), "w2_se": float(se[s, j]),
                             "rate": float(self.slope[j]), "rate_r2": float(self.r2[j]),
                             "reference_gap": float(ref_mean[j])})
        return rows

    def verdicts(self) -> list[Verdict]:
        """W2 decreases with n at every time (fitted slope of log W2 against log n < 0)."""
        out = []
        mean = self.summary()[0]
        for j, t in enumerate(self.times):
            out.append(Verdict.check("mean_field", f"t={float(t):g}: slope of log W2 against log n",
                                     self.slope[j], "<", 0.0, "seed Prop. 4"))
            out.append(Verdict.check("mean_field", f"t={float(t):g}: largest W2(2n)/W2(n) (decreasing in n)",
                                     np.max(mean[1:, j] / mean[:-1, j]), "<", 1.0, "seed Prop. 4"))
        return out


def mean_field_convergence(
    sizes=None,
    reference_size: int | None = None,
    times=(0.0, 0.5, 1.0, 2.0),
    kernel: str = "usa",
    seeds=None,
    beta: float = 1.0,
    dt: float = 0.05,
    executor: concurrent.futures.Executor | None = None,
    quick: bool = False,
    *,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> MeanFieldResult:
    r"""Convergence of n-particle laws to a large-n reference at fixed times (seed Prop. 4).

    See the module docstring for the setup and the :math:`W_2` method.

    Parameters
    ----------
    sizes : sequence of int, optional
        Run sizes, each dividing ``reference_size``; default (32, 64, 128, 256),
        or (16, 32, 64) with ``quick``.
    reference_size : int, optional
        Default 2048, or 512 with ``quick``.
    times : sequence of float
        Comparison times (multiples of ``dt``).
    kernel : {"usa", "rope"}
        Content laws (USA) or joint (x, a) laws (RoPE, θ = 2π).
    seeds : iterable of int, optional
        Default ``range(10)``, or ``range(3)`` with ``quick``; one reference per seed.
    beta, dt : float
    executor, quick, store, progress
        As in :func:`collapse_through_layers`.

    Returns
    -------
    MeanFieldResult

    Examples
    --------
    >>> res = mean_field_convergence(sizes=(8, 32), reference_size=128, times=(0.0,), seeds=range(2))
    >>> bool(res.slope[0] < 0)
    True
    """
    sizes = tuple(int(n) for n in (((16, 32, 64) if quick else (32, 64, 128, 256)) if sizes is None else sizes))
    reference_size = int((512 if quick else 2048) if reference_size is None else reference_size)
    seeds = tuple(int(s) for s in ((range(3) if quick else range(10)) if seeds is None else seeds))
    times = tuple(float(t) for t in times)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if any(reference_size % n for n in sizes):
        raise ValueError(f"every size must divide reference_size = {reference_size}, got sizes {sizes}")
    if list(times) != sorted(times) or times[0] < 0:
        raise ValueError(f"times must be nonnegative and increasing, got {times}")
    if not np.allclose(np.round(np.array(times) / dt) * dt, times):
        raise ValueError(f"times must be multiples of dt = {dt}, got {times}")
    params = dict(sizes=sizes, reference_size=reference_size, times=times, kernel=kernel, seeds=seeds, beta=beta,
                  dt=dt, method="strided-partition exact W2 (linear_sum_assignment)",
                  cost="|x-y|^2" if kernel == "usa" else "|x-y|^2 + d_T(a,b)^2", quick=quick)
    common = dict(kernel=kernel, beta=beta, dt=dt, times=times)
    pieces = []
    for seed in seeds:
        pieces.append(make_piece("mean_field", f"{kernel}-reference-n{reference_size}-seed{seed}",
                                 mean_field_piece, n=reference_size, seed=seed, role=1, **common))
        for n in sizes:
            pieces.append(make_piece("mean_field", f"{kernel}-n{n}-seed{seed}", mean_field_piece,
                                     n=n, seed=seed, role=0, **common))
    results = run_pieces(pieces, executor, store, progress)
    joint = kernel == "rope"
    w2 = np.empty((len(sizes), len(seeds), len(times)))
    reference_gap = np.empty((len(seeds), len(times)))
    stride = len(sizes) + 1
    for r in range(len(seeds)):
        ref = results[pieces[r * stride].name]
        reference_gap[r] = collapse_gap(ref["X"])
        for s in range(len(sizes)):
            run = results[pieces[r * stride + 1 + s].name]
            for j in range(len(times)):
                w2[s, r, j] = partition_w2(run["X"][j], run["aux"], ref["X"][j], ref["aux"], joint=joint)
    mean = w2.mean(axis=1)
    fits = np.array([linear_fit(np.log(sizes), np.log(mean[:, j])) for j in range(len(times))])
    return MeanFieldResult(
        sizes=np.array(sizes), times=np.array(times), seeds=np.array(seeds), w2=w2,
        reference_gap=reference_gap, slope=fits[:, 0], intercept=fits[:, 1], r2=fits[:, 2], params=params,
    )
