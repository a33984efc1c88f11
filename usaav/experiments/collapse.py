r"""Collapse through many layers: baseline, RoPE and fixed prompts (MODEL.md §6.1; the paper's §6.1, App. B.2).

Setup (MODEL.md §6.1; the numbers are the book's own choices): :math:`d=3`, :math:`\beta=1`, :math:`n\in\{64,256,1024\}` particles
with 4 per label (:math:`L=n/4` labels), Heun step :math:`h=0.05` up to
:math:`T=30`, observables recorded every 0.5 time units, 10 seeds.

* baseline USA: labels ignored, :math:`x_i(0)=u_i`;
* RoPE, :math:`\theta=2\pi`, positions :math:`s_\ell=\ell/L`, gauge
  :math:`G(s)=R^{(12)}_{2\pi s}`;
* fixed prompts: one prompt per label, phase :math:`\varphi_\ell\sim
  \mathrm{Unif}[0,2\pi)` from the seed's generator, gauge
  :math:`G_\ell=R^{(12)}_{\varphi_\ell}`.

For each (size, seed) one gauge-frame cloud :math:`u_i` uniform on
:math:`\mathbb S^2` is shared by the three models, and
:math:`x_i(0)=G(a_i)^\top u_i`.  In the gauge frame all three follow the
same baseline flow, so the gauge frame collapses to a point :math:`v` for all
three, while in the original frame RoPE and the prompts converge to
:math:`x_i=G(a_i)^\top v`, whose collapse gap is :math:`1-v_3^2` for RoPE
(the :math:`(1,2)` components average out exactly over the grid) and
:math:`1-v_3^2-|\frac1L\sum_\ell e^{-i\varphi_\ell}(v_1+iv_2)|^2` for the
prompts.  Since :math:`v` is uniform on the sphere, :math:`E[1-v_3^2]=2/3`.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np

from .. import kernels, labels
from .._validation import check_int, check_positive_scalar
from ..dynamics import simulate
from ..observables import collapse_gap, conditional_diameter, gauge_gap, relative_energy_gap
from ..sphere import normalize, rotation, uniform_sphere
from ._pieces import PieceStore, make_piece, run_pieces
from ._results import ExperimentResult, Verdict, mean_sem

__all__ = ["MODELS", "MODEL_TABLE", "OBSERVABLES", "CollapseResult", "LayerModel", "collapse_setup",
           "collapse_through_layers"]


@dataclass(frozen=True)
class LayerModel:
    """How one of the three §6.1 models is named and coloured by the verdicts, the figures and the explorer.

    Attributes
    ----------
    key : str
        Identifier (``"rope"``), as in ``CollapseResult.models``.
    name : str
        Short name of the verdicts and of the chapter 6 explorer (``"RoPE"``).
    label : str
        Legend of the figures (``"RoPE θ=2π"``).
    colour : str
        Its Okabe–Ito colour, by name (``usaav.plotting.PALETTE`` and the twin's ``PALETTE``).
    """

    key: str
    name: str
    label: str
    colour: str


#: The three models of §6.1, in the order of the result arrays (read-only); the chapter 6
#: explorer's ``LAYER_MODELS`` (``usaav/web/explorers/layers.js``) is tested against it.
MODEL_TABLE: Mapping[str, LayerModel] = MappingProxyType({row.key: row for row in (
    LayerModel("baseline", "baseline", "baseline USA", "vermillion"),
    LayerModel("rope", "RoPE", "RoPE θ=2π", "blue"),
    LayerModel("prompts", "prompts", "fixed prompts", "green"),
)})
#: The model keys, in the order of the result arrays.
MODELS = tuple(MODEL_TABLE)
#: The four observables of MODEL.md §6, in the order of the result fields.
OBSERVABLES = ("collapse_gap", "gauge_gap", "conditional_diameter", "relative_energy_gap")

FULL = {"sizes": (64, 256, 1024), "seeds": tuple(range(10))}
#: Pairs of particles (seeds × n²) in one batched piece.  Small systems share
#: the tiles of a force evaluation (MODEL.md §5, usaav._pairwise); from
#: n = 1024 on, one system's tiles already fill a stack, so its seeds are
#: split into pieces of their own, which keeps the workers evenly loaded.
PIECE_PAIRS = 1 << 20
QUICK = {"sizes": (32, 64), "seeds": tuple(range(3))}


def collapse_setup(model: str, n: int, seed: int, *, per_label: int = 4, beta: float = 1.0):
    r"""Kernel, initial configuration and labels of one §6.1 run.

    The generator ``numpy.random.default_rng([seed, n])`` first draws the
    gauge-frame cloud :math:`u_i` (shared by the three models), then the
    prompt phases :math:`\varphi_\ell`.

    Parameters
    ----------
    model : {"baseline", "rope", "prompts"}
    n : int
        Number of particles, a multiple of ``per_label``.
    seed : int
    per_label : int
        Particles per label (4 in MODEL.md §6.1).
    beta : float

    Returns
    -------
    kernel : Kernel
    X0 : (n, 3) ndarray
        :math:`x_i(0)=G(a_i)^\top u_i`.
    aux : (n,) ndarray
        Positions :math:`s_\ell=\ell/L` (baseline, RoPE) or prompt ids (prompts).
    U0 : (n, 3) ndarray
        The shared gauge-frame cloud.

    Examples
    --------
    >>> kernel, X0, aux, U0 = collapse_setup("prompts", 8, seed=0)
    >>> bool(np.allclose(kernel.gauge_frame(X0, aux), U0))
    True
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if n % per_label:
        raise ValueError(f"n must be a multiple of per_label = {per_label}, got n = {n}")
    count = n // per_label
    rng = np.random.default_rng([seed, n])
    U0 = uniform_sphere(n, 3, rng)
    phases = rng.uniform(0.0, 2 * np.pi, count)
    positions = labels.replicate(labels.grid_positions(count), per_label)
    if model == "baseline":
        return kernels.USA(beta), U0, positions, U0
    if model == "rope":
        gauges = rotation(2 * np.pi * positions, 3)
        kernel, aux = kernels.RoPE(beta, theta=2 * np.pi), positions
    else:
        aux = labels.replicate(np.arange(count), per_label)
        kernel = kernels.Prompts(beta, rotation(phases, 3))
        gauges = kernel.gauges[aux]
    X0 = np.einsum("nji,nj->ni", gauges, U0)  # G(a_i)^T u_i
    return kernel, X0, aux, U0


def collapse_piece(model: str, n: int, seeds: tuple, per_label: int, beta: float, dt: float,
                   t_max: float, record_every: int, batch: bool = True) -> dict:
    """The §6.1 runs of one model and size for ``seeds``: the four observables over time and the limit points.

    With ``batch`` the seeds' systems are advanced together by one
    :func:`usaav.simulate` call (bitwise the same numbers), else one call per
    seed.  Every array has a leading seed axis.
    """
    setups = [collapse_setup(model, n, seed, per_label=per_label, beta=beta) for seed in seeds]
    if batch:
        runs = list(simulate([k for k, _, _, _ in setups], np.stack([X0 for _, X0, _, _ in setups]),
                             np.stack([aux for _, _, aux, _ in setups]), t_max, dt=dt, record_every=record_every))
    else:
        runs = [simulate(kernel, X0, aux, t_max, dt=dt, record_every=record_every)
                for kernel, X0, aux, _ in setups]
    observed = [_observe(model, kernel, aux, run) for (kernel, _, aux, _), run in zip(setups, runs)]
    return {key: np.stack([o[key] for o in observed]) for key in observed[0]}


def _observe(model: str, kernel, aux, run) -> dict:
    """The observables of MODEL.md §6 along one run, its limit point and the predicted gaps."""
    U_final = kernel.gauge_frame(run.final, aux)
    v = normalize(U_final.mean(axis=0))
    limit = kernel.from_gauge_frame(np.tile(v, (len(aux), 1)), aux)  # G(a_i)^T v (MODEL.md §4, Thm. 1 and Thm. 4 (i))
    return {
        "t": run.t,
        "collapse_gap": collapse_gap(run.X),
        "gauge_gap": gauge_gap(kernel, run.X, aux),
        "conditional_diameter": conditional_diameter(run.X, aux),
        "relative_energy_gap": relative_energy_gap(kernel, run.X, aux),
        "limit_point": v,
        "predicted_gap": np.float64(collapse_gap(limit)),
        "predicted_gap_v3": np.float64(0.0 if model == "baseline" else 1.0 - v[2] ** 2),
        "sphere_drift": np.float64(run.sphere_drift.max()),
    }


@dataclass(frozen=True, eq=False)
class CollapseResult(ExperimentResult):
    r"""Result of :func:`collapse_through_layers` (MODEL.md §6.1).

    Attributes
    ----------
    times : (F,) ndarray
        Recording times.
    models : (M,) ndarray of str
        ``MODELS``.
    sizes : (S,) ndarray
    seeds : (R,) ndarray
    collapse_gap, gauge_gap, conditional_diameter, relative_energy_gap : (M, S, R, F) ndarray
        The observables of MODEL.md §6 per model, size, seed and time.
    limit_point : (M, S, R, 3) ndarray
        :math:`v`, the normalised mean of the final gauge-frame cloud.
    predicted_gap : (M, S, R) ndarray
        Collapse gap of the predicted limit :math:`G(a_i)^\top v` (0 for the baseline).
    predicted_gap_v3 : (M, S, R) ndarray
        :math:`1-v_3^2` (0 for the baseline).
    sphere_drift : (M, S, R) ndarray
        Largest :math:`|\,|x_i|-1|` over the run (round-off of the renormalised Heun scheme).
    params : dict
    """

    experiment = "collapse"

    times: np.ndarray
    models: np.ndarray
    sizes: np.ndarray
    seeds: np.ndarray
    collapse_gap: np.ndarray
    gauge_gap: np.ndarray
    conditional_diameter: np.ndarray
    relative_energy_gap: np.ndarray
    limit_point: np.ndarray
    predicted_gap: np.ndarray
    predicted_gap_v3: np.ndarray
    sphere_drift: np.ndarray
    params: dict

    def summary(self, observable: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean and one standard error over seeds, each ``(M, S, F)``."""
        if observable not in OBSERVABLES:
            raise ValueError(f"observable must be one of {OBSERVABLES}, got {observable!r}")
        return mean_sem(getattr(self, observable), axis=2)

    def final(self, observable: str) -> np.ndarray:
        """Values at the final time, ``(M, S, R)``."""
        if observable not in OBSERVABLES:
            raise ValueError(f"observable must be one of {OBSERVABLES}, got {observable!r}")
        return getattr(self, observable)[..., -1]

    def table(self, every_time: bool = False) -> list[dict]:
        """Rows of mean ± s.e. over seeds per (model, size) at the final time (or at every time)."""
        rows = []
        stats = {name: self.summary(name) for name in OBSERVABLES}
        pred_mean, pred_se = mean_sem(self.predicted_gap, axis=2)
        v3_mean, _ = mean_sem(self.predicted_gap_v3, axis=2)
        frames = range(len(self.times)) if every_time else [len(self.times) - 1]
        for m, model in enumerate(self.models):
            for s, size in enumerate(self.sizes):
                for f in frames:
                    row = {"model": str(model), "n": int(size), "t": float(self.times[f])}
                    for name in OBSERVABLES:
                        row[name] = float(stats[name][0][m, s, f])
                        row[name + "_se"] = float(stats[name][1][m, s, f])
                    if f == len(self.times) - 1:
                        row["predicted_gap"] = float(pred_mean[m, s])
                        row["predicted_gap_se"] = float(pred_se[m, s])
                        row["predicted_gap_v3"] = float(v3_mean[m, s])
                    rows.append(row)
        return rows

    def verdicts(self) -> list[Verdict]:
        r"""The §6.1 predictions as numbers (the paper's §6.1, App. B.2; MODEL.md §6).

        * the baseline collapses: largest gap at :math:`T` below 1e-8;
        * RoPE and prompts collapse in the gauge frame (the paper's Thm. 1,
          Thm. 3, Thm. 4 (i)): largest gauge-frame gap, conditional diameter
          and relative energy gap at :math:`T` below 1e-6;
        * their gap at :math:`T` is that of the limit :math:`G(a_i)^\top v`,
          :math:`v` the gauge-frame limit point (Thm. 1, Thm. 4 (i)), and for
          RoPE on the grid exactly :math:`1-v_3^2` (Cor. 1);
        * on average over runs, with :math:`v` uniform on the sphere,
          :math:`\mathbb E[1-v_3^2]=2/3` (RoPE) and
          :math:`\mathbb E\,\Gamma=\frac23(1-\frac1L)` for prompts with
          :math:`L` uniform random phases (the factor :math:`1-|\frac1L\sum_\ell
          e^{-i\varphi_\ell}|^2` has mean :math:`1-\frac1L`): within three
          standard errors.  RoPE and the prompts start from the same gauge-frame
          clouds and reach the same :math:`v`, so these two averages are not
          independent evidence; the prompts' verdict says so.
        """
        out = []
        t_end = float(self.times[-1])
        runs = self.collapse_gap[0, ..., -1].size
        sizes = "n = " + ", ".join(str(int(n)) for n in self.sizes)
        b = list(self.models).index("baseline")
        out.append(Verdict.check(
            "collapse", f"baseline: largest collapse gap at T = {t_end:g} ({runs} runs, {sizes})",
            self.final("collapse_gap")[b].max(), "<", 1e-8, "the paper's §6.1"))
        for model in ("rope", "prompts"):
            if model not in self.models:
                continue
            m = list(self.models).index(model)
            name = MODEL_TABLE[model].name
            maximiser = "the paper's Thm. 1" if model == "rope" else "the paper's Thm. 4 (i)"
            for observable, label, reference in (
                    ("gauge_gap", "gauge-frame gap", "the paper's §6.1, App. B.2"),
                    ("conditional_diameter", "conditional diameter", "the paper's Thm. 3"),
                    ("relative_energy_gap", "relative energy gap", maximiser)):
                out.append(Verdict.check(
                    "collapse", f"{name}: largest {label} at T = {t_end:g}",
                    self.final(observable)[m].max(), "<", 1e-6, reference))
            gap = self.final("collapse_gap")[m]
            out.append(Verdict.check(
                "collapse", f"{name}: largest |Γ(T) − Γ(G(a)ᵀv)|, v the gauge-frame limit point",
                np.abs(gap - self.predicted_gap[m]).max(), "<", 1e-6,
                maximiser if model == "rope" else maximiser + ", Cor. 2"))
            if model == "rope":
                out.append(Verdict.check(
                    "collapse", "RoPE: largest |Γ(T) − (1 − v₃²)| (positions on the grid)",
                    np.abs(gap - self.predicted_gap_v3[m]).max(), "<", 1e-6, "the paper's Cor. 1"))
                expected = np.full(gap.shape, 2 / 3)
                note = "E[1 − v₃²] = 2/3"
            else:
                # Γ = (1 - v3^2)(1 - |mean of e^{-i phi_l}|^2) with v independent of the L phases:
                # E Γ = (2/3)(1 - 1/L), averaged here over the runs' sizes.
                count = self.sizes / float(self.params["per_label"])
                expected = np.broadcast_to(((2 / 3) * (1 - 1 / count))[:, None], gap.shape)
                note = "(2/3)(1 − 1/L); same clouds and v as RoPE: not independent evidence"
            # Pooled over sizes, whose clouds are independent.
            mean, se = mean_sem(gap.ravel(), axis=0)
            target = float(np.mean(expected))
            z = abs(float(mean) - target) / float(se) if se > 0 else np.inf
            out.append(Verdict.check(
                "collapse", f"{name}: |mean Γ(T) − {target:.3f}| in standard errors, {gap.size} runs "
                f"(mean {float(mean):.3f} ± {float(se):.3f}; {note})", z, "<", 3.0,
                "the paper's §6.1, App. B.2"))
        return out


def collapse_through_layers(
    sizes=None,
    per_label: int = 4,
    dt: float = 0.05,
    t_max: float = 30.0,
    record_dt: float = 0.5,
    seeds=None,
    beta: float = 1.0,
    executor: concurrent.futures.Executor | None = None,
    quick: bool = False,
    *,
    batch: bool = True,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> CollapseResult:
    r"""Collapse through many layers: baseline vs RoPE vs fixed prompts (MODEL.md §6.1; the paper's §6.1, App. B.2).

    Runs the three models of :func:`collapse_setup` for every size and seed
    and records the four observables of MODEL.md §6,

    .. math::
        \Gamma(X)=1-\Big|\frac1n\sum_i x_i\Big|^2,\quad
        \Gamma(\{G(a_i)x_i\}),\quad
        \max_a\max_{a_i=a_j=a}|x_i-x_j|,\quad
        \frac{E_{\max}-E_n}{E_{\max}},\ E_{\max}=\frac{e^\beta}{2\beta},

    every ``record_dt`` time units.

    Parameters
    ----------
    sizes : sequence of int, optional
        Particle numbers; default (64, 256, 1024), or (32, 64) with ``quick``.
    per_label : int
        Particles per label.
    dt, t_max, record_dt : float
        Heun step, final time, recording interval (a multiple of ``dt``).
    seeds : iterable of int, optional
        Default ``range(10)``, or ``range(3)`` with ``quick``.
    beta : float
    executor : concurrent.futures.Executor, optional
        Runs the pieces; ``None`` runs them here in order.
    quick : bool
        Smaller defaults for ``sizes`` and ``seeds`` (tests, ``--quick``).
    batch : bool
        Advance all seeds of a (model, size) together, one piece per
        (model, size) (default); ``False`` runs one system per call, one
        piece per (model, size, seed).  The results are bitwise the same.
    store : PieceStore, optional
        Resume from / save finished pieces (see :func:`run_pieces`).
    progress : callable, optional
        ``progress(piece_name, cached, total)`` after each piece.

    Returns
    -------
    CollapseResult

    Examples
    --------
    >>> res = collapse_through_layers(sizes=(8,), seeds=range(2), t_max=30.0)
    >>> res.collapse_gap.shape          # (models, sizes, seeds, frames)
    (3, 1, 2, 61)
    >>> bool(res.final("collapse_gap")[0].max() < 1e-8)   # the baseline collapses
    True
    """
    defaults = QUICK if quick else FULL
    per_label = check_int(per_label, "per_label", minimum=1)
    sizes = _check_list(defaults["sizes"] if sizes is None else sizes, "sizes", minimum=1)
    seeds = _check_list(defaults["seeds"] if seeds is None else seeds, "seeds", minimum=0)
    uneven = [n for n in sizes if n % per_label]
    if uneven:
        raise ValueError(f"sizes must be multiples of per_label = {per_label} (whole labels), got {uneven}")
    dt = check_positive_scalar(dt, "dt")
    t_max = check_positive_scalar(t_max, "t_max")
    record_dt = check_positive_scalar(record_dt, "record_dt")
    beta = check_positive_scalar(beta, "beta")
    record_every = int(round(record_dt / dt))
    if record_every < 1 or not np.isclose(record_every * dt, record_dt):
        raise ValueError(f"record_dt must be a positive multiple of dt = {dt}, got {record_dt}")
    params = dict(sizes=sizes, per_label=per_label, dt=dt, t_max=t_max, record_dt=record_dt,
                  seeds=seeds, beta=beta, d=3, theta=2 * np.pi, quick=quick)
    shared = dict(per_label=per_label, beta=beta, dt=dt, t_max=t_max, record_every=record_every)
    # Largest systems first, so that a pool of workers starts on the longest pieces.
    groups = []
    for n in sorted(sizes, reverse=True):
        per_piece = max(1, min(len(seeds), PIECE_PAIRS // n**2)) if batch else 1
        groups += [(model, n, seeds[i:i + per_piece]) for i in range(0, len(seeds), per_piece) for model in MODELS]
    pieces = [
        make_piece("collapse", f"{model}-n{n}-seed{group[0]}" + (f"-{len(group)}seeds" if len(group) > 1 else ""),
                   collapse_piece, model=model, n=n, seeds=group, batch=batch, **shared)
        for model, n, group in groups
    ]
    results = run_pieces(pieces, executor, store, progress)
    grid = np.empty((len(MODELS), len(sizes), len(seeds)), dtype=object)
    for piece in pieces:
        kw = piece.kwargs
        for r, seed in enumerate(kw["seeds"]):
            grid[MODELS.index(kw["model"]), sizes.index(kw["n"]), seeds.index(seed)] = {
                key: values[r] for key, values in results[piece.name].items()
            }

    def stack(key):
        return np.array([[[grid[m, s, r][key] for r in range(len(seeds))] for s in range(len(sizes))]
                         for m in range(len(MODELS))])

    return CollapseResult(
        times=grid[0, 0, 0]["t"],
        models=np.array(MODELS),
        sizes=np.array(sizes),
        seeds=np.array(seeds),
        collapse_gap=stack("collapse_gap"),
        gauge_gap=stack("gauge_gap"),
        conditional_diameter=stack("conditional_diameter"),
        relative_energy_gap=stack("relative_energy_gap"),
        limit_point=stack("limit_point"),
        predicted_gap=stack("predicted_gap"),
        predicted_gap_v3=stack("predicted_gap_v3"),
        sphere_drift=stack("sphere_drift"),
        params=params,
    )


def _check_list(values, name: str, minimum: int) -> tuple:
    """A non-empty tuple of distinct integers >= ``minimum`` (sizes, seeds)."""
    try:
        items = tuple(values)
    except TypeError as error:
        raise TypeError(f"{name} must be a sequence of integers, got {type(values).__name__}") from error
    if not items:
        raise ValueError(f"{name} must be non-empty")
    items = tuple(check_int(v, f"{name} entry", minimum=minimum) for v in items)
    if len(set(items)) != len(items):
        raise ValueError(f"{name} must be distinct, got {items}")
    return items
