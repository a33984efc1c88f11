r"""Representation of distributions: six kernels, six final clouds (MODEL.md §6.2; the paper's §6.2, App. B.3).

All six scenarios start from the same ``n`` tokens drawn uniformly on
:math:`\mathbb S^2` and (where labels are positions) the uniform grid
:math:`s_i=i/n`, use one β, and run the projected Heun scheme until the
relative energy increment over one time unit falls below ``stop_tol``
(the paper's App. B.1).  The kernels, their default parameters (the book's
choices) and the predicted final laws are the table of
:mod:`usaav.scenarios` (:data:`usaav.scenarios.TABLE`); the keyword
defaults of :func:`gallery_setup` and :func:`representation_gallery` are
read from it (:data:`DEFAULTS`).  Prop. 10 needs
:math:`\hat c(m)=a_1/2>a_0=\hat c(0)` for the Toeplitz circle, which the
defaults satisfy.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable

import numpy as np

from .. import scenarios
from .._validation import check_int, check_positive_scalar
from ..dynamics import simulate
from ..observables import (
    collapse_gap,
    count_clusters,
    euler_lagrange_residual,
    gauge_gap,
    relative_energy_gap,
    winding_number,
)
from ..gauges import WavyGauge  # reachable here as before (usaav.experiments.gallery.WavyGauge)
from ..sphere import uniform_sphere
from ._pieces import PieceStore, make_piece, run_pieces
from ._results import ExperimentResult, Verdict

__all__ = ["DEFAULTS", "SCENARIOS", "GalleryResult", "gallery_setup", "representation_gallery"]

#: Scenario keys in the order (i)–(vi) of MODEL.md §6.2 (the shared table :data:`usaav.scenarios.TABLE`).
SCENARIOS = scenarios.KEYS
TITLES = {key: row.title for key, row in scenarios.TABLE.items()}
_PARAMETERS = {key: row.parameters for key, row in scenarios.TABLE.items()}
#: The gallery's keyword defaults, read from the §6.2 table (one β for every exponential kernel: the
#: baseline's; ``toeplitz`` is (a0, a1, m), ``wavy`` the generalised RoPE's (alpha, m)).
DEFAULTS = MappingProxyType({
    "beta": _PARAMETERS["baseline"]["beta"],
    "length": _PARAMETERS["distance_bias"]["length"],
    "toeplitz": tuple(_PARAMETERS["toeplitz"][name] for name in ("a0", "a1", "m")),
    "wavy": tuple(_PARAMETERS["generalized_rope"][name] for name in ("alpha", "m")),
    "n_prompts": _PARAMETERS["prompts"]["n_prompts"],
})
#: The batched pieces (``batch=True``): scenarios whose kernels share one force
#: evaluation (plain exponential attention in a gauge frame) are advanced
#: together; the distance-bias and Toeplitz kernels have pair engines of their
#: own, so a batch with the others would share nothing but the Python of a step,
#: while as pieces of their own they run beside the rest on a second worker (the
#: distance bias, slowest to converge, takes most of the experiment's time).
BATCHES = (("baseline", "rope", "generalized_rope", "prompts"), ("distance_bias",), ("toeplitz",))
#: The scenarios whose predicted final law is a closed curve s ↦ x(s): a winding number is meaningful there.
CURVES = ("toeplitz", "rope", "generalized_rope")


def gallery_setup(scenario: str, n: int = 400, seed: int = 0, *, beta: float = DEFAULTS["beta"],
                  length: float = DEFAULTS["length"], toeplitz: tuple = DEFAULTS["toeplitz"],
                  wavy: tuple = DEFAULTS["wavy"], n_prompts: int = DEFAULTS["n_prompts"]):
    r"""Kernel, initial tokens and labels of one §6.2 scenario (:data:`usaav.scenarios.TABLE`).

    ``numpy.random.default_rng(seed)`` draws the ``n`` uniform tokens (the
    same for every scenario), then the ``n_prompts`` Haar-random rotations.

    Parameters
    ----------
    scenario : str
        One of ``SCENARIOS``.
    n, seed : int
    beta : float
        Inverse temperature of the exponential kernels.
    length : float
        Correlation length :math:`\ell` of the distance bias.
    toeplitz : (a0, a1, m)
        :math:`c(r)=a_0+a_1\cos(2\pi m r)`; the great circle needs :math:`a_1/2>a_0`.
    wavy : (alpha, m)
        Amplitude and frequency of the generalised RoPE gauge.
    n_prompts : int

    Returns
    -------
    kernel, X0 (n, 3) ndarray, aux (n,) ndarray

    Examples
    --------
    >>> kernel, X0, aux = gallery_setup("toeplitz", n=40)
    >>> kernel.fourier()
    {0: 0.2, 2: 0.5}
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}, got {scenario!r}")
    rng = np.random.default_rng(seed)
    X0 = uniform_sphere(n, 3, rng)
    a0, a1, m = toeplitz
    alpha, wave = wavy
    # The gallery's own parameters; the rest (profile, θ, plane, layout) are the table's defaults.
    overrides = {
        "baseline": dict(beta=beta),
        "distance_bias": dict(beta=beta, length=length),
        "toeplitz": dict(a0=a0, a1=a1, m=m),
        "rope": dict(beta=beta),
        "generalized_rope": dict(beta=beta, alpha=alpha, m=wave),
        "prompts": dict(beta=beta, n_prompts=n_prompts),  # Haar-random rotations, drawn after X0
    }[scenario]
    built = scenarios.setup(scenario, n, rng, **overrides)
    return built.kernel, X0, built.aux


def gallery_piece(scenarios: tuple, n: int, seed: int, beta: float, length: float, toeplitz: tuple,
                  wavy: tuple, n_prompts: int, dt: float, t_max: float, stop_tol: float,
                  cluster_threshold: float, batch: bool = True) -> dict:
    """§6.2 scenarios run to convergence, with their final clouds and diagnostics.

    With ``batch`` the scenarios' systems are advanced together by one
    :func:`usaav.simulate` call (each stops on its own; bitwise the same
    numbers), else one call per scenario.  Every array has a leading
    scenario axis.
    """
    setups = [gallery_setup(name, n, seed, beta=beta, length=length, toeplitz=toeplitz, wavy=wavy,
                            n_prompts=n_prompts) for name in scenarios]
    options = dict(dt=dt, record_every=int(round(1.0 / dt)), stop_tol=stop_tol)
    if batch:
        runs = list(simulate([k for k, _, _ in setups], np.stack([X0 for _, X0, _ in setups]),
                             np.stack([aux for _, _, aux in setups]).astype(np.float64), t_max, **options))
    else:
        runs = [simulate(kernel, X0, aux, t_max, **options) for kernel, X0, aux in setups]
    observed = [_diagnose(name, kernel, aux, run, cluster_threshold)
                for name, (kernel, _, aux), run in zip(scenarios, setups, runs)]
    return {key: np.stack([o[key] for o in observed]) for key in observed[0]}


def _diagnose(scenario: str, kernel, aux, run, cluster_threshold: float) -> dict:
    """The final cloud of one scenario and its diagnostics."""
    X = run.final
    positional = scenario != "prompts"
    # v: the direction of the mean gauge-frame point G(a_i) x_i (Thm. 1, Thm. 4 (i)); kernels without a gauge have none.
    mean = kernel.gauge_frame(X, aux).mean(axis=0) if kernel.has_gauge else np.zeros(3)
    norm = np.linalg.norm(mean)
    return {
        "X": X,
        "aux": np.asarray(aux, dtype=np.float64),
        "t_final": np.float64(run.t[-1]),
        "stopped_early": np.bool_(run.stopped_early),
        "collapse_gap": np.float64(collapse_gap(X)),
        "gauge_gap": np.float64(gauge_gap(kernel, X, aux)),
        "singular_values": np.linalg.svd(X, compute_uv=False) / np.sqrt(len(X)),
        "x3_spread": np.float64(np.ptp(X[:, 2])),
        "relative_energy_gap": np.float64(relative_energy_gap(kernel, X, aux)),
        "euler_lagrange_residual": np.float64(euler_lagrange_residual(kernel, X, aux)),
        "n_clusters": np.int64(count_clusters(X, cluster_threshold)),
        "winding": np.float64(winding_number(X, aux) if positional else np.nan),
        "limit_point": mean / norm if norm > 0 else np.full(3, np.nan),
    }


@dataclass(frozen=True, eq=False)
class GalleryResult(ExperimentResult):
    r"""Result of :func:`representation_gallery` (MODEL.md §6.2).

    Attributes
    ----------
    scenarios, titles : (6,) ndarray of str
    X : (6, n, 3) ndarray
        Final clouds.
    aux : (6, n) ndarray
        Labels (positions, or prompt ids as floats).
    t_final : (6,) ndarray
        Time at which each run stopped.
    stopped_early : (6,) ndarray of bool
        Whether the energy-increment rule (rather than ``t_max``) stopped it.
    collapse_gap, gauge_gap, x3_spread, relative_energy_gap, euler_lagrange_residual, winding : (6,) ndarray
        Diagnostics of the final cloud (``x3_spread`` is max − min of :math:`x_3`;
        ``winding`` is NaN for the prompts).
    singular_values : (6, 3) ndarray
        Singular values of :math:`X/\sqrt n` (a great circle has the third ≈ 0).
    n_clusters : (6,) ndarray of int
        Single-linkage groups at distance ``params["cluster_threshold"]``.
    limit_point : (6, 3) ndarray
        :math:`v`, the normalised mean of the final gauge-frame points
        :math:`G(a_i)x_i` (RoPE, generalised RoPE, prompts); NaN for the
        kernels without a gauge (baseline, distance bias, Toeplitz).
    params : dict
    """

    experiment = "gallery"

    scenarios: np.ndarray
    titles: np.ndarray
    X: np.ndarray
    aux: np.ndarray
    t_final: np.ndarray
    stopped_early: np.ndarray
    collapse_gap: np.ndarray
    gauge_gap: np.ndarray
    singular_values: np.ndarray
    x3_spread: np.ndarray
    relative_energy_gap: np.ndarray
    euler_lagrange_residual: np.ndarray
    n_clusters: np.ndarray
    winding: np.ndarray
    limit_point: np.ndarray
    params: dict

    def index(self, scenario: str) -> int:
        return list(self.scenarios).index(scenario)

    def table(self) -> list[dict]:
        """One row of diagnostics per scenario.

        ``winding`` is given for the scenarios whose final law is a closed
        curve (``CURVES``) and is NaN for the others: the points of a Dirac
        mass differ by round-off only, so the angles the winding number sums
        are noise, and prompt ids have no order to wind in.
        """
        rows = []
        for k, name in enumerate(self.scenarios):
            sv = self.singular_values[k]
            rows.append({
                "scenario": str(name), "title": str(self.titles[k]), "t_final": float(self.t_final[k]),
                "collapse_gap": float(self.collapse_gap[k]), "gauge_gap": float(self.gauge_gap[k]),
                "sigma1": float(sv[0]), "sigma2": float(sv[1]), "sigma3": float(sv[2]),
                "x3_spread": float(self.x3_spread[k]),
                "relative_energy_gap": float(self.relative_energy_gap[k]),
                "euler_lagrange_residual": float(self.euler_lagrange_residual[k]),
                "n_clusters": int(self.n_clusters[k]),
                "winding": float(self.winding[k]) if name in CURVES else float("nan"),
            })
        return rows

    def verdicts(self) -> list[Verdict]:
        r"""The §6.2 predictions (i)–(vi) as numbers (the paper's §6.2, App. B.3; MODEL.md §6).

        Each final law is checked by what defines it, together with what
        tells it apart from a Dirac mass where it is not one: (iii) a great
        circle run evenly has singular values :math:`(1/\sqrt2, 1/\sqrt2, 0)`
        (a Dirac mass :math:`(1, 0, 0)`); (iv) the RoPE limit
        :math:`x(s)=R_{-2\pi s}v` has its gauge frame collapsed to :math:`v` and,
        on the grid, gap exactly :math:`1-v_3^2` (a Dirac mass at a point
        :math:`w` off the poles has gap 0 but gauge-frame gap :math:`1-w_3^2`).
        """
        out = []
        i = self.index
        m = int(self.params["toeplitz"][2])
        out.append(Verdict.check("gallery", "(i) baseline: collapse gap (a Dirac mass)",
                                 self.collapse_gap[i("baseline")], "<", 1e-8, "the paper's Ex. 1"))
        out.append(Verdict.check("gallery", "(i) baseline: clusters",
                                 self.n_clusters[i("baseline")], "==", 1, "the paper's Ex. 1"))
        out.append(Verdict.check("gallery", "(ii) distance bias: collapse gap (a Dirac mass)",
                                 self.collapse_gap[i("distance_bias")], "<", 1e-8, "the paper's Prop. 11, Ex. 4"))
        toeplitz = i("toeplitz")
        out.append(Verdict.check("gallery", "(iii) Toeplitz: third singular value σ₃ (in a plane through 0)",
                                 self.singular_values[toeplitz, 2], "<", 1e-6, "the paper's Prop. 10, Ex. 6"))
        out.append(Verdict.check("gallery", "(iii) Toeplitz: largest |σ₁ − 1/√2|, |σ₂ − 1/√2| (a circle run evenly, "
                                 "not a Dirac mass: σ₁ = 1, σ₂ = 0)",
                                 np.abs(self.singular_values[toeplitz, :2] - np.sqrt(0.5)).max(), "<", 1e-6,
                                 "the paper's Prop. 10"))
        out.append(Verdict.check("gallery", f"(iii) Toeplitz: |winding| (run m = {m} times)",
                                 round(abs(self.winding[toeplitz]), 6), "==", m, "the paper's Prop. 10"))
        out.append(Verdict.check("gallery", "(iii) Toeplitz: |relative energy gap| to max_k ĉ(k)/2",
                                 abs(self.relative_energy_gap[toeplitz]), "<", 1e-8, "the paper's Prop. 10"))
        rope = i("rope")
        v3 = self.limit_point[rope, 2]
        out.append(Verdict.check("gallery", "(iv) RoPE: spread of x₃ (a latitude circle)",
                                 self.x3_spread[rope], "<", 1e-6, "the paper's Thm. 1, Cor. 1"))
        out.append(Verdict.check("gallery", "(iv) RoPE: gauge-frame gap (every G(s)x(s) at one point v)",
                                 self.gauge_gap[rope], "<", 1e-8, "the paper's Thm. 1"))
        out.append(Verdict.check("gallery", f"(iv) RoPE: |Γ − (1 − v₃²)|, v the gauge-frame limit (v₃ = {v3:.3f})",
                                 abs(self.collapse_gap[rope] - (1 - v3**2)), "<", 1e-6, "the paper's Cor. 1"))
        out.append(Verdict.check("gallery", "(v) generalised RoPE: relative energy gap",
                                 self.relative_energy_gap[i("generalized_rope")], "<", 1e-8, "the paper's Thm. 4 (i)"))
        out.append(Verdict.check("gallery", "(v) generalised RoPE: |winding| (a closed curve)",
                                 round(abs(self.winding[i("generalized_rope")]), 6), "==", 1, "the paper's §6.2"))
        out.append(Verdict.check("gallery", "(v) generalised RoPE: spread of x₃ (not a latitude circle)",
                                 self.x3_spread[i("generalized_rope")], ">", 1e-2, "the paper's §6.2"))
        out.append(Verdict.check("gallery", "(vi) prompts: clusters",
                                 self.n_clusters[i("prompts")], "==", self.params["n_prompts"], "the paper's Cor. 2"))
        return out


def representation_gallery(
    n: int | None = None,
    beta: float = DEFAULTS["beta"],
    seed: int = 0,
    t_max: float = 300.0,
    quick: bool = False,
    *,
    dt: float = 0.05,
    stop_tol: float = 1e-15,
    length: float = DEFAULTS["length"],
    toeplitz: tuple = DEFAULTS["toeplitz"],
    wavy: tuple = DEFAULTS["wavy"],
    n_prompts: int = DEFAULTS["n_prompts"],
    cluster_threshold: float = 1e-2,
    batch: bool = True,
    executor: concurrent.futures.Executor | None = None,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> GalleryResult:
    r"""Six kernels, six final clouds on :math:`\mathbb S^2` (MODEL.md §6.2; the paper's §6.2, App. B.3).

    See the module docstring for the scenarios and the predicted laws.
    Each run stops when the relative energy increment over one time unit is
    below ``stop_tol`` (the paper's App. B.1), or at ``t_max``.

    Parameters
    ----------
    n : int, optional
        Particles; default 400, or 100 with ``quick``.
    beta : float
        One inverse temperature for the exponential kernels.
    seed : int
    t_max, dt, stop_tol : float
        Time limit, Heun step, early-stop tolerance.
    quick : bool
        Smaller default ``n``.
    length, toeplitz, wavy, n_prompts
        Scenario parameters (see :func:`gallery_setup`).
    cluster_threshold : float
        Chordal distance below which points join one cluster.
    batch : bool
        Advance the scenarios in the batched pieces of :data:`BATCHES`
        (default: systems whose kernels are of the same kind share each
        force evaluation, each stops on its own); ``False`` runs one system
        per call, one piece per scenario.  The results are bitwise the same.
    executor, store, progress
        As in :func:`collapse_through_layers`.

    Returns
    -------
    GalleryResult

    Examples
    --------
    >>> res = representation_gallery(n=40)
    >>> int(res.n_clusters[res.index("prompts")])
    5
    """
    n = check_int((100 if quick else 400) if n is None else n, "n", minimum=1)
    beta = check_positive_scalar(beta, "beta")
    seed = check_int(seed, "seed", minimum=0)
    t_max = check_positive_scalar(t_max, "t_max")
    dt = check_positive_scalar(dt, "dt")
    stop_tol = check_positive_scalar(stop_tol, "stop_tol")
    length = check_positive_scalar(length, "length")
    n_prompts = check_int(n_prompts, "n_prompts", minimum=1)
    cluster_threshold = check_positive_scalar(cluster_threshold, "cluster_threshold")
    if len(tuple(toeplitz)) != 3:
        raise ValueError(f"toeplitz must be (a0, a1, m), got {toeplitz!r}")
    if len(tuple(wavy)) != 2:
        raise ValueError(f"wavy must be (alpha, m), got {wavy!r}")
    a0, a1, m = toeplitz
    a0, a1 = check_positive_scalar(a0, "toeplitz a0", allow_zero=True), check_positive_scalar(a1, "toeplitz a1")
    m = check_int(m, "toeplitz m", minimum=1)
    check_int(wavy[1], "wavy m", minimum=0)
    if not a1 / 2 > a0:
        raise ValueError(f"toeplitz = (a0, a1, m) must have a1 / 2 > a0 so that mode m dominates, got {toeplitz}")
    if n <= 2 * m:
        raise ValueError(f"n must exceed 2 m = {2 * m} to resolve the Toeplitz mode, got {n}")
    if n < n_prompts:
        raise ValueError(f"n must be at least n_prompts = {n_prompts} (one token per prompt), got {n}")
    params = dict(n=n, beta=beta, seed=seed, t_max=t_max, dt=dt, stop_tol=stop_tol, length=length,
                  toeplitz=tuple(toeplitz), wavy=tuple(wavy), n_prompts=n_prompts,
                  cluster_threshold=cluster_threshold, positions="grid s_i = i/n", quick=quick)
    shared = {k: params[k] for k in ("n", "seed", "beta", "length", "toeplitz", "wavy", "n_prompts", "dt",
                                     "t_max", "stop_tol", "cluster_threshold")}
    groups = BATCHES if batch else tuple((name,) for name in SCENARIOS)
    pieces = [make_piece("gallery", f"{'+'.join(group)}-n{n}-seed{seed}", gallery_piece, scenarios=group,
                         batch=batch, **shared) for group in groups]
    by_name = run_pieces(pieces, executor, store, progress)
    # Where each scenario's row is: (piece name, row in that piece).
    rows = {name: (piece.name, k) for piece, group in zip(pieces, groups) for k, name in enumerate(group)}

    def stack(key):
        return np.stack([by_name[rows[name][0]][key][rows[name][1]] for name in SCENARIOS])

    return GalleryResult(
        scenarios=np.array(SCENARIOS), titles=np.array([TITLES[s] for s in SCENARIOS]),
        X=stack("X"), aux=stack("aux"), t_final=stack("t_final"), stopped_early=stack("stopped_early"),
        collapse_gap=stack("collapse_gap"), gauge_gap=stack("gauge_gap"),
        singular_values=stack("singular_values"), x3_spread=stack("x3_spread"),
        relative_energy_gap=stack("relative_energy_gap"),
        euler_lagrange_residual=stack("euler_lagrange_residual"), n_clusters=stack("n_clusters"),
        winding=stack("winding"), limit_point=stack("limit_point"), params=params,
    )
