r"""Back to transformers: undo the paper's idealisations one at a time (MODEL.md §7; issue 19).

Three parts, each with predictions written in MODEL.md §7 before measuring
(the numbers are the book's choices):

* **anti-collapse under softmax**: RoPE, a phase field and prompts with
  rotated values and :math:`Q=K=V=I` follow, in the gauge frame, the
  label-free SA flow; so the gauge-frame gap tends to 0 and the collapse gap
  to that of :math:`G_i^\top v`, :math:`v` the gauge-frame limit point
  (for RoPE on the grid :math:`1-v_3^2`);
* **layers converge at first order**: RMSNorm layers
  :math:`x^{k+1}=N(x^k+hA(x^k))` against the flow at a fixed depth, fitted
  order of the error in :math:`h`;
* **phase diagrams**: for each variant of the block, the fraction of
  clustered runs over β × depth; every β and seed of a variant is one batch
  and one run to the largest depth gives every depth.

The numerics import NumPy and SciPy only (:mod:`usaav.attention`); figures
live in :mod:`usaav.plotting.transformer`.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import kernels
from .._validation import check_choice, check_int, check_positive_scalar
from ..attention import AttentionBlock, initial_tokens, llm_rope, random_projections, run
from ..observables import collapse_gap
from ..sphere import normalize, uniform_sphere
from ._pieces import PieceStore, make_piece, run_pieces
from ._results import ExperimentResult, Verdict, linear_fit
from .collapse import collapse_setup

__all__ = [
    "ANTI_COLLAPSE_MODELS",
    "CLUSTERED_GAP",
    "PHASE_VARIANTS",
    "TransformerResult",
    "anti_collapse_setup",
    "phase_block",
    "transformer_experiment",
    "transformer_pieces",
]

#: The gauge kernels of part (i), in the order of the result arrays.
ANTI_COLLAPSE_MODELS = ("rope", "phase", "prompts")
#: The variants of the phase diagrams (MODEL.md §7 (iii)).
PHASE_VARIANTS = ("usa", "sa", "sa_unrotated", "sa_llm_rope", "sa_causal", "sa_qkv", "sa_layernorm", "sa_plain")
#: Variants that the gauge-frame argument predicts never to cluster (MODEL.md §7).
PREDICTED_UNCLUSTERED = ("usa", "sa", "sa_causal")
#: A run is clustered when the collapse gap of its tokens is below this (a
#: definition fixed before measuring, MODEL.md §7 (iii)).
CLUSTERED_GAP = 1e-3
#: Largest clustered fraction of the variants predicted never to cluster: the
#: chance rate P(v₁²+v₂² < 1e-3) = 1e-3 plus three binomial standard errors
#: over 192 runs, 3·sqrt(1e-3/192) ≈ 0.007 (MODEL.md §7 (iii)).
UNCLUSTERED_FRACTION = 0.01
#: Smallest clustered fraction of plain SA at the smallest β and the largest depth: 7 of 8 seeds.
PLAIN_CLUSTERED_FRACTION = 0.875

FULL = {"anti_n": 64, "anti_seeds": tuple(range(5)), "betas": 24, "depths": 24, "phase_seeds": tuple(range(8)),
        "phase_n": 32, "order_steps": (3, 4, 5, 6, 7)}
QUICK = {"anti_n": 32, "anti_seeds": (0, 1), "betas": 6, "depths": 6, "phase_seeds": (0, 1),
         "phase_n": 16, "order_steps": (3, 4, 5, 6)}
BETA_RANGE = (0.5, 12.0)
MAX_DEPTH = 30.0
PHASE_STEP = 0.125
PHASE_D = 4


# --------------------------------------------------------------------------
# (i) anti-collapse under softmax
# --------------------------------------------------------------------------


def phase_of_position(s):
    r"""The phase field of part (i), :math:`\phi(s)=3\sin 2\pi s` (MODEL.md §7 (i); book)."""
    return 3.0 * np.sin(2 * np.pi * np.asarray(s, dtype=np.float64))


def anti_collapse_setup(model: str, n: int, seed: int):
    r"""Kernel, initial tokens and labels of one run of part (i): :math:`x_i(0)=G_i^\top u_i` (MODEL.md §6.1, §7).

    RoPE and prompts are those of :func:`usaav.experiments.collapse_setup`
    (same gauge-frame cloud); the phase field uses the same cloud with
    :math:`G(s)=R_{\phi(s)}`, :func:`phase_of_position`.

    >>> kernel, X0, aux = anti_collapse_setup("phase", 8, 0)
    >>> X0.shape, aux.shape
    ((8, 3), (8,))
    """
    check_choice(model, "model", ANTI_COLLAPSE_MODELS)
    if model in ("rope", "prompts"):
        kernel, X0, aux, _ = collapse_setup(model, n, seed)
        return kernel, X0, aux
    _, _, positions, U0 = collapse_setup("baseline", n, seed)
    kernel = kernels.PhaseField(1.0, phase_of_position)
    return kernel, kernel.from_gauge_frame(U0, positions), positions


def anti_collapse_piece(model: str, n: int, seeds: tuple, values: str, dt: float, t_max: float) -> dict:
    """Part (i) for ``seeds``, one batch: final gaps and the predicted ones (MODEL.md §7 (i))."""
    setups = [anti_collapse_setup(model, n, seed) for seed in seeds]
    block = AttentionBlock(tuple(k for k, _, _ in setups), normalisation="softmax", values=values, step=dt)
    X0 = np.stack([X for _, X, _ in setups])
    aux = np.stack([a for _, _, a in setups])
    steps = int(np.ceil(t_max / dt - 1e-9))
    final = run(block, X0, aux, t_max, record_every=steps).final
    out = {key: np.empty(len(seeds)) for key in ("gauge_gap", "collapse_gap", "predicted_gap", "predicted_gap_v3")}
    for r, (kernel, _, a) in enumerate(setups):
        U = kernel.gauge_frame(final[r], a)
        v = normalize(U.mean(axis=0))
        limit = kernel.from_gauge_frame(np.tile(v, (len(a), 1)), a)  # G_i^T v, the gauge-frame limit
        out["gauge_gap"][r] = collapse_gap(U)
        out["collapse_gap"][r] = collapse_gap(final[r])
        out["predicted_gap"][r] = collapse_gap(limit)
        out["predicted_gap_v3"][r] = 1.0 - v[2] ** 2 if model == "rope" else np.nan
    return out


# --------------------------------------------------------------------------
# (ii) layers against the flow
# --------------------------------------------------------------------------

ORDER_N, ORDER_D, ORDER_BETA, ORDER_DEPTH, ORDER_FLOW_STEPS = 16, 4, 1.0, 1.0, 11


def order_block(beta: float, depth: str, step: float) -> AttentionBlock:
    """The most general block of part (ii): SA, LLM RoPE, unrotated values, random Q/K/V (seed 0), causal."""
    Q, K, V = random_projections(ORDER_D, 0)
    return AttentionBlock(llm_rope(beta, ORDER_D), normalisation="softmax", values="unrotated", query=Q, key=K,
                          value=V, mask="causal", depth=depth, step=step)


def order_piece(exponents: tuple, flow_beta: float) -> dict:
    """Largest token distance at depth 1 between RMSNorm layers of step 2^-k and the flow (MODEL.md §7 (ii))."""
    X0 = uniform_sphere(ORDER_N, ORDER_D, 0)
    positions = np.arange(ORDER_N, dtype=np.float64)
    reference = run(order_block(flow_beta, "flow", 2.0**-ORDER_FLOW_STEPS), X0, positions, ORDER_DEPTH,
                    record_every=2**ORDER_FLOW_STEPS).final
    steps = np.array([2.0**-k for k in exponents])
    errors = np.array([
        np.max(np.linalg.norm(run(order_block(ORDER_BETA, "layers", h), X0, positions, ORDER_DEPTH,
                                  record_every=2**k).final - reference, axis=-1))
        for k, h in zip(exponents, steps)
    ])
    return {"steps": steps, "errors": errors}


# --------------------------------------------------------------------------
# (iii) phase diagrams
# --------------------------------------------------------------------------


def phase_block(variant: str, betas) -> tuple[AttentionBlock, str]:
    """The block of a phase-diagram variant for a sequence of β (one kernel per system), and its positions' kind.

    Returns the block and ``"grid"`` (:math:`s_i=i/n`), ``"index"``
    (:math:`s_i=i`, LLM RoPE) or ``"none"`` (MODEL.md §7 (iii)).

    >>> block, positions = phase_block("sa_llm_rope", [1.0, 2.0])
    >>> block.values, positions
    ('unrotated', 'index')
    """
    check_choice(variant, "variant", PHASE_VARIANTS)
    betas = [check_positive_scalar(b, "beta") for b in betas]
    rope = tuple(kernels.RoPE(b, theta=2 * np.pi) for b in betas)
    options = dict(normalisation="softmax", depth="layers", step=PHASE_STEP)
    if variant == "usa":
        return AttentionBlock(rope, normalisation="rescaled", depth="layers", step=PHASE_STEP), "grid"
    if variant == "sa":
        return AttentionBlock(rope, **options), "grid"
    if variant == "sa_unrotated":
        return AttentionBlock(rope, values="unrotated", **options), "grid"
    if variant == "sa_llm_rope":
        return AttentionBlock(tuple(llm_rope(b, PHASE_D) for b in betas), values="unrotated", **options), "index"
    if variant == "sa_causal":
        return AttentionBlock(rope, mask="causal", **options), "grid"
    if variant == "sa_qkv":
        Q, K, V = random_projections(PHASE_D, 0)
        return AttentionBlock(rope, query=Q, key=K, value=V, **options), "grid"
    if variant == "sa_layernorm":
        return AttentionBlock(rope, norm="layer", **options), "grid"
    return AttentionBlock(tuple(kernels.USA(b) for b in betas), **options), "none"


def phase_piece(variant: str, recipe: str, betas: tuple, seeds: tuple, n: int, depths: int,
                batch: bool = True) -> dict:
    """Collapse gaps ``(betas, seeds, depths)`` of one variant (computed with ``recipe``'s block), MODEL.md §7 (iii).

    With ``batch`` every β and seed is one system of one run; else one run per system (same numbers to rounding).
    """
    block, kind = phase_block(recipe, [b for b in betas for _ in seeds])
    clouds = np.stack([initial_tokens(n, PHASE_D, np.random.default_rng([seed, n]), block.norm) for seed in seeds])
    X0 = np.tile(clouds, (len(betas), 1, 1))  # system (β index, seed index), seed fastest
    aux = {"grid": np.arange(n) / n, "index": np.arange(n, dtype=np.float64), "none": None}[kind]
    every = int(round(MAX_DEPTH / depths / PHASE_STEP))
    if batch:
        frames = run(block, X0, aux, MAX_DEPTH, record_every=every).X[1:]  # (depths, systems, n, d)
    else:
        frames = np.stack([
            run(AttentionBlock(**{**_options(block), "kernel": block.kernels[b]}), X0[b], aux, MAX_DEPTH,
                record_every=every).X[1:]
            for b in range(len(X0))
        ], axis=1)
    gaps = collapse_gap(frames.reshape(-1, n, PHASE_D)).reshape(depths, len(betas), len(seeds))
    return {"gap": np.moveaxis(gaps, 0, -1)}


def _options(block: AttentionBlock) -> dict:
    return {name: getattr(block, name) for name in
            ("normalisation", "values", "query", "key", "value", "mask", "depth", "norm", "step")}


# --------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TransformerResult(ExperimentResult):
    r"""Result of :func:`transformer_experiment` (MODEL.md §7).

    Attributes
    ----------
    anti_models : (M,) ndarray of str
        ``ANTI_COLLAPSE_MODELS``.
    anti_seeds : (R,) ndarray
    gauge_gap, collapse_gap, predicted_gap, predicted_gap_v3 : (M, R) ndarray
        Part (i) at :math:`T`: gauge-frame gap, collapse gap, the collapse gap
        of :math:`G_i^\top v`, and :math:`1-v_3^2` (RoPE; NaN otherwise).
    order_steps, order_errors : (K,) ndarray
        Part (ii): layer steps :math:`h` and the largest token distance to the flow at depth 1.
    variants : (V,) ndarray of str
    betas : (Bβ,) ndarray
    depths : (D,) ndarray
    phase_seeds : (S,) ndarray
    phase_gap : (V, Bβ, S, D) ndarray
        Part (iii): collapse gap of the tokens.
    params : dict
    """

    experiment = "transformer"

    anti_models: np.ndarray
    anti_seeds: np.ndarray
    gauge_gap: np.ndarray
    collapse_gap: np.ndarray
    predicted_gap: np.ndarray
    predicted_gap_v3: np.ndarray
    order_steps: np.ndarray
    order_errors: np.ndarray
    variants: np.ndarray
    betas: np.ndarray
    depths: np.ndarray
    phase_seeds: np.ndarray
    phase_gap: np.ndarray
    params: dict

    @property
    def clustered_fraction(self) -> np.ndarray:
        """Fraction of seeds with a collapse gap below :data:`CLUSTERED_GAP`, ``(V, Bβ, D)``."""
        return np.mean(self.phase_gap < CLUSTERED_GAP, axis=2)

    @property
    def boundary(self) -> np.ndarray:
        """For each variant and β, the smallest depth where at least half the seeds are clustered (inf: none), ``(V, Bβ)``."""
        half = self.clustered_fraction >= 0.5
        first = np.argmax(half, axis=-1)
        return np.where(half.any(axis=-1), self.depths[first], np.inf)

    def order(self) -> tuple[float, float]:
        """Fitted slope of log error against log h, and its R²."""
        slope, _, r2 = linear_fit(np.log(self.order_steps), np.log(self.order_errors))
        return slope, r2

    def table(self) -> list[dict]:
        """One row per variant and β: the boundary depth and the clustered fraction at the largest depth."""
        rows = []
        fraction, boundary = self.clustered_fraction, self.boundary
        for v, variant in enumerate(self.variants):
            for b, beta in enumerate(self.betas):
                rows.append({"variant": str(variant), "beta": float(beta),
                             "boundary_depth": float(boundary[v, b]),
                             "clustered_at_largest_depth": float(fraction[v, b, -1])})
        return rows

    def verdicts(self) -> list[Verdict]:
        """The predictions of MODEL.md §7 (i)–(iii) as numbers (each written before measuring)."""
        out = []
        t_end = self.params["t_max"]
        for m, model in enumerate(self.anti_models):
            name = {"rope": "RoPE", "phase": "phase field", "prompts": "prompts"}[str(model)]
            out.append(Verdict.check(
                "transformer", f"SA, {name}: largest gauge-frame gap at T = {t_end:g}",
                self.gauge_gap[m].max(), "<", 1e-6, "MODEL.md §7 (i)"))
            out.append(Verdict.check(
                "transformer", f"SA, {name}: largest |Γ(T) − Γ(G(a)ᵀv)|, v the gauge-frame limit point",
                np.abs(self.collapse_gap[m] - self.predicted_gap[m]).max(), "<", 1e-6, "MODEL.md §7 (i)"))
            if model == "rope":
                out.append(Verdict.check(
                    "transformer", "SA, RoPE: largest |Γ(T) − (1 − v₃²)|",
                    np.abs(self.collapse_gap[m] - self.predicted_gap_v3[m]).max(), "<", 1e-6,
                    "MODEL.md §7 (i), the paper's Cor. 1"))
        slope, r2 = self.order()
        out.append(Verdict.check(
            "transformer", f"RMSNorm layers → flow: |fitted order − 1| (order {slope:.3f}, R² {r2:.4f})",
            abs(slope - 1.0), "<=", 0.1, "MODEL.md §7 (ii)"))
        fraction = self.clustered_fraction
        for variant in PREDICTED_UNCLUSTERED:
            if variant in self.variants:
                v = list(self.variants).index(variant)
                out.append(Verdict.check(
                    "transformer", f"phase diagram, {variant}: clustered fraction over β × depth",
                    fraction[v].mean(), "<=", UNCLUSTERED_FRACTION, "MODEL.md §7 (iii)"))
        if "sa_plain" in self.variants:
            v = list(self.variants).index("sa_plain")
            out.append(Verdict.check(
                "transformer", f"phase diagram, sa_plain: clustered fraction at β = {self.betas[0]:g}, "
                f"depth {self.depths[-1]:g}", fraction[v, 0, -1], ">=", PLAIN_CLUSTERED_FRACTION,
                "MODEL.md §7 (iii)"))
        return out


# --------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------


_ANTI_DT, _ANTI_T_MAX = 0.05, 30.0


def transformer_pieces(seeds=None, quick: bool = False, *, values: str = "rotated", flow_beta: float = ORDER_BETA,
                       substitute: dict | None = None, batch: bool = True) -> list:
    r"""The independent pieces of :func:`transformer_experiment`, same arguments (MODEL.md §7).

    One piece per variant of (iii), per model of (i), and one for (ii), in
    that order.  Computing some of them into a :class:`PieceStore` with
    :func:`usaav.experiments.run_pieces` lets the experiment be run in
    parts; :func:`transformer_experiment` with the same arguments and store
    then reuses them.

    >>> [piece.name.rsplit("-", 1)[0] for piece in transformer_pieces(quick=True)][-4:]
    ['transformer-softmax-rope', 'transformer-softmax-phase', 'transformer-softmax-prompts', 'transformer-order']
    """
    sizes = QUICK if quick else FULL
    check_choice(values, "values", ("rotated", "unrotated"))
    flow_beta = check_positive_scalar(flow_beta, "flow_beta")
    substitute = dict(substitute or {})
    for variant, recipe in substitute.items():
        check_choice(variant, "substitute key", PHASE_VARIANTS)
        check_choice(recipe, f"substitute[{variant!r}]", PHASE_VARIANTS)
    if seeds is not None:
        seeds = tuple(check_int(s, "seeds entry", minimum=0) for s in seeds)
        if not seeds:
            raise ValueError("seeds must be non-empty")
    anti_seeds = seeds if seeds is not None else sizes["anti_seeds"]
    phase_seeds = seeds if seeds is not None else sizes["phase_seeds"]
    n_anti, n_phase = sizes["anti_n"], sizes["phase_n"]
    betas = tuple(float(b) for b in np.linspace(*BETA_RANGE, sizes["betas"]))
    dt, t_max = _ANTI_DT, _ANTI_T_MAX

    pieces = [make_piece("transformer", f"phase-{variant}", phase_piece, variant=variant,
                         recipe=substitute.get(variant, variant), betas=betas, seeds=phase_seeds, n=n_phase,
                         depths=sizes["depths"], batch=batch)
              for variant in PHASE_VARIANTS]
    pieces += [make_piece("transformer", f"softmax-{model}", anti_collapse_piece, model=model, n=n_anti,
                          seeds=anti_seeds, values=values, dt=dt, t_max=t_max)
               for model in ANTI_COLLAPSE_MODELS]
    pieces.append(make_piece("transformer", "order", order_piece, exponents=sizes["order_steps"],
                             flow_beta=flow_beta))
    return pieces


def transformer_experiment(
    seeds=None,
    executor: concurrent.futures.Executor | None = None,
    quick: bool = False,
    *,
    values: str = "rotated",
    flow_beta: float = ORDER_BETA,
    substitute: dict | None = None,
    batch: bool = True,
    store: PieceStore | None = None,
    progress: Callable[[str, bool, int], None] | None = None,
) -> TransformerResult:
    r"""Back to transformers (MODEL.md §7): anti-collapse under softmax, layers → flow, phase diagrams.

    Parameters
    ----------
    seeds : iterable of int, optional
        Seeds of part (i) and of the phase diagrams (default 0–4 and 0–7;
        0–1 with ``quick``).
    executor : concurrent.futures.Executor, optional
        Runs the pieces (one per model of (i), one for (ii), one per variant of (iii)).
    quick : bool
        Small sizes (tests, ``--quick``): n = 32 in (i), 6 × 6 cells of n = 16 in (iii).
    values : {"rotated", "unrotated"}
        Values of part (i); ``"unrotated"`` is a planted wrong variant (tests).
    flow_beta : float
        β of the reference flow of part (ii); another value than 1 is a
        planted wrong variant (tests).
    substitute : dict, optional
        ``{variant: recipe}``: compute a variant with another variant's
        block (a planted wrong variant, tests).
    batch : bool
        One batch per variant (default) or one run per system (``--no-batch``).
    store, progress
        As in :func:`usaav.experiments.run_pieces`.

    Returns
    -------
    TransformerResult
    """
    pieces = transformer_pieces(seeds, quick, values=values, flow_beta=flow_beta, substitute=substitute,
                                batch=batch)
    sizes = QUICK if quick else FULL
    flow_beta, substitute = float(flow_beta), dict(substitute or {})
    if seeds is not None:
        seeds = tuple(int(s) for s in seeds)
    anti_seeds = seeds if seeds is not None else sizes["anti_seeds"]
    phase_seeds = seeds if seeds is not None else sizes["phase_seeds"]
    n_anti, n_phase = sizes["anti_n"], sizes["phase_n"]
    betas = tuple(float(b) for b in np.linspace(*BETA_RANGE, sizes["betas"]))
    depths = MAX_DEPTH / sizes["depths"] * np.arange(1, sizes["depths"] + 1)
    dt, t_max = _ANTI_DT, _ANTI_T_MAX
    results = run_pieces(pieces, executor, store, progress)
    by_name = {piece.name.rsplit("-", 1)[0]: results[piece.name] for piece in pieces}
    anti = [by_name[f"transformer-softmax-{m}"] for m in ANTI_COLLAPSE_MODELS]
    order = by_name["transformer-order"]
    return TransformerResult(
        anti_models=np.array(ANTI_COLLAPSE_MODELS),
        anti_seeds=np.array(anti_seeds),
        gauge_gap=np.array([a["gauge_gap"] for a in anti]),
        collapse_gap=np.array([a["collapse_gap"] for a in anti]),
        predicted_gap=np.array([a["predicted_gap"] for a in anti]),
        predicted_gap_v3=np.array([a["predicted_gap_v3"] for a in anti]),
        order_steps=order["steps"],
        order_errors=order["errors"],
        variants=np.array(PHASE_VARIANTS),
        betas=np.array(betas),
        depths=depths,
        phase_seeds=np.array(phase_seeds),
        phase_gap=np.array([by_name[f"transformer-phase-{v}"]["gap"] for v in PHASE_VARIANTS]),
        params=dict(quick=quick, values=values, flow_beta=flow_beta, substitute=substitute, t_max=t_max, dt=dt,
                    anti_n=n_anti, phase_n=n_phase, d=PHASE_D, phase_step=PHASE_STEP, max_depth=MAX_DEPTH,
                    clustered_gap=CLUSTERED_GAP, order_depth=ORDER_DEPTH, order_n=ORDER_N),
    )
