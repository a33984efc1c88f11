r"""The general attention block: every idealisation of the paper's §2 a switch (MODEL.md §7).

.. math::
    A_i=\sum_{j\in M(i)}a_{ij}\,\mathcal V_{ij}x_j,\qquad
    a_{ij}=\frac{w_{ij}\exp\big(\beta\langle G_iQx_i,\,G_jKx_j\rangle\big)}{Z_i},

with :math:`Z_i=n` (USA, the paper), :math:`n e^\beta` (USA in the
rescaled clock of MODEL.md §3) or the softmax sum (SA); values rotated with
the gauge (:math:`\mathcal V_{ij}=G_i^\top G_jV`) or not
(:math:`\mathcal V_{ij}=V`); :math:`Q,K,V` the identity or given matrices;
no mask or a causal one (:math:`j\le i`); the gauge :math:`G_i` and the
weight :math:`w_{ij}` those of any kernel of :mod:`usaav.kernels`, or LLM
RoPE (:func:`llm_rope`).  In depth, either the flow
:math:`\dot x_i=P_{x_i}A_i` (projected Heun, MODEL.md §5) or discrete layers
:math:`x^{k+1}=N(x^k+hA(x^k))` with RMSNorm or LayerNorm.  The formulas of
MODEL.md §7 are the book's own reconstruction from the paper's statements;
the choices it marks as the book's are the book's.

The default block is the paper's: its flow is :func:`usaav.velocity`, and a
depth run is :func:`usaav.simulate`, bitwise (the same engine computes
them).  Every other block is computed here, row block by row block, in
``O(B n d)`` memory plus at most :data:`SCORE_ENTRIES` attention weights:
never an ``n × n × d`` array.

Everything is batched like the engine: ``X`` of shape ``(n, d)`` or
``(B, n, d)``, labels ``(n,)`` or ``(B, n)``, one kernel or one per system
(so that a batch may sweep β).  A block is plain options, so that a browser
twin can mirror it: :meth:`AttentionBlock.to_spec`.

Examples
--------
>>> import numpy as np, usaav
>>> from usaav.attention import AttentionBlock, flow_field, update_direction
>>> X = usaav.uniform_sphere(8, 3, rng=0)
>>> block = AttentionBlock(usaav.kernels.USA(1.0))
>>> bool(np.array_equal(flow_field(block, X, None)(X), usaav.velocity(block.kernel, X, None)))
True
>>> A = update_direction(AttentionBlock(usaav.kernels.USA(1.0), normalisation="softmax"), X, None)
>>> bool(np.all(np.linalg.norm(A, axis=1) <= 1 + 1e-12))      # a convex combination of unit vectors
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from ._validation import (
    MAX_ARRAY_BYTES,
    as_float_array,
    check_choice,
    check_int,
    check_positive_scalar,
)
from .dynamics import bind, vector_field
from .integrate import heun_step
from .sphere import normalize, uniform_sphere

__all__ = [
    "DEPTHS",
    "MASKS",
    "NORMALISATIONS",
    "NORMS",
    "SCORE_ENTRIES",
    "VALUES",
    "AttentionBlock",
    "AttentionRun",
    "LLMRoPEGauge",
    "flow_field",
    "initial_tokens",
    "layer",
    "layer_norm",
    "llm_rope",
    "random_projections",
    "rms_norm",
    "run",
    "update_direction",
]

NORMALISATIONS = ("n", "rescaled", "softmax")
VALUES = ("rotated", "unrotated")
MASKS = ("none", "causal")
DEPTHS = ("flow", "layers")
NORMS = ("rms", "layer")

#: Largest number of attention weights held at once (a row block of every
#: system: 2 MiB of float64), so that memory is O(B n d) whatever n.
SCORE_ENTRIES = 1 << 18

#: Tolerance on ⟨x, 1⟩/√d for tokens that LayerNorm layers take: they must
#: lie in the hyperplane ⊥ (1, ..., 1) (centring leaves ~1e-16 there).
HYPERPLANE_TOL = 1e-10

#: Kernels without a gauge (u_i = x_i) and those without a label weight.
_NO_GAUGE = (kernels.USA, kernels.DistanceBias, kernels.Separated)
_GAUGED = (kernels.Gauge, kernels.RoPE, kernels.PhaseField, kernels.Prompts)


# --------------------------------------------------------------------------
# LLM RoPE: d/2 planes, frequencies base^(-2k/d) (MODEL.md §7)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LLMRoPEGauge:
    r"""The gauge of rotary embeddings as language models use them (MODEL.md §7; RoFormer).

    .. math:: G(s)=\prod_{k=0}^{d/2-1}R^{(2k,\,2k+1)}_{\theta_k s},\qquad \theta_k=b^{-2k/d},

    for a token at position :math:`s` (an integer in a language model; any
    real is accepted).  Called with positions ``(n,)`` it returns the
    ``(n, d, d)`` orthogonal matrices :math:`G(s_i)`: the ``gauge`` of a
    :class:`usaav.kernels.Gauge` (see :func:`llm_rope`).

    Parameters
    ----------
    d : int
        Even dimension, >= 2.
    base : float
        The base :math:`b` (10 000 in language models), > 1.

    Examples
    --------
    >>> G = LLMRoPEGauge(4)(np.array([0.0, 1.0]))
    >>> G.shape, bool(np.allclose(G[0], np.eye(4)))
    ((2, 4, 4), True)
    >>> bool(np.isclose(G[1, 1, 0], np.sin(1.0)))       # plane (0, 1) turns by θ_0 s = 1 rad
    True
    """

    d: int
    base: float = 10_000.0

    def __post_init__(self):
        d = check_int(self.d, "d", minimum=2)
        if d % 2:
            raise ValueError(f"d must be even for LLM RoPE (d/2 rotation planes), got d = {d}")
        object.__setattr__(self, "d", d)
        base = check_positive_scalar(self.base, "base")
        if base <= 1.0:
            raise ValueError(f"base must be > 1 (frequencies base^(-2k/d) decrease with k), got {base!r}")
        object.__setattr__(self, "base", base)

    @property
    def frequencies(self) -> np.ndarray:
        r""":math:`\theta_k=b^{-2k/d}`, :math:`k=0,\dots,d/2-1`."""
        return self.base ** (-2.0 * np.arange(self.d // 2) / self.d)

    def __call__(self, positions) -> np.ndarray:
        s = as_float_array(positions, "positions")
        if s.ndim != 1:
            raise ValueError(f"positions must have shape (n,), got shape {s.shape}")
        angles = np.multiply.outer(s, self.frequencies)  # (n, d/2)
        c, w = np.cos(angles), np.sin(angles)
        G = np.zeros((len(s), self.d, self.d))
        even = 2 * np.arange(self.d // 2)
        # R e_{2k} = cos e_{2k} + sin e_{2k+1},  R e_{2k+1} = -sin e_{2k} + cos e_{2k+1}  (MODEL.md §1)
        G[:, even, even] = c
        G[:, even + 1, even] = w
        G[:, even, even + 1] = -w
        G[:, even + 1, even + 1] = c
        return G


def llm_rope(beta: float, d: int, base: float = 10_000.0) -> kernels.Gauge:
    r"""The gauge kernel of LLM RoPE, :math:`\frac1\beta e^{\beta\langle G(s)x,\,G(t)y\rangle}` (MODEL.md §7).

    A :class:`usaav.kernels.Gauge` whose gauge is :class:`LLMRoPEGauge`; its
    labels are the token positions.

    >>> kernel = llm_rope(1.0, 4)
    >>> kernel.gauge.base
    10000.0
    """
    return kernels.Gauge(beta, LLMRoPEGauge(d, base))


def random_projections(d: int, rng, *, symmetric: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Random :math:`Q, K, V` with independent entries :math:`\mathcal N(0, 1/d)` (MODEL.md §7, book).

    With ``symmetric`` the key matrix is the query matrix, so that
    :math:`Q^\top K=Q^\top Q` is symmetric.  ``rng`` is a seed or a
    :class:`numpy.random.Generator`; the draws are Q, then K (unless
    symmetric), then V.

    >>> Q, K, V = random_projections(3, 0, symmetric=True)
    >>> bool(np.array_equal(Q, K)), Q.shape
    (True, (3, 3))
    """
    d = check_int(d, "d", minimum=1)
    if not isinstance(symmetric, (bool, np.bool_)):
        raise TypeError(f"symmetric must be a bool, got {type(symmetric).__name__}")
    rng = np.random.default_rng(rng)
    scale = 1.0 / np.sqrt(d)
    Q = scale * rng.standard_normal((d, d))
    K = Q.copy() if symmetric else scale * rng.standard_normal((d, d))
    V = scale * rng.standard_normal((d, d))
    return Q, K, V


# --------------------------------------------------------------------------
# The normalisations of the discrete layers (rescaled to unit norm)
# --------------------------------------------------------------------------


def rms_norm(Y) -> np.ndarray:
    r"""RMSNorm without affine parameters, rescaled to unit norm: :math:`N(y)=y/|y|` (MODEL.md §7).

    PyTorch's ``rms_norm(y, (d,))`` (ε = 0) is :math:`\sqrt d\,y/|y|`.

    >>> rms_norm(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    return normalize(Y)


def layer_norm(Y) -> np.ndarray:
    r"""LayerNorm without affine parameters, rescaled to unit norm: :math:`N(y)=c/|c|`, :math:`c=y-\bar y\mathbf 1` (MODEL.md §7).

    PyTorch's ``layer_norm(y, (d,))`` (ε = 0, biased variance) is
    :math:`\sqrt d\,c/|c|`.  The result lies on the unit sphere of the
    hyperplane :math:`\mathbf 1^\perp`.  Rows with all entries equal have
    no direction there and are refused.

    >>> layer_norm(np.array([[1.0, 2.0, 3.0]])) * np.sqrt(2)
    array([[-1.,  0.,  1.]])
    """
    Y = as_float_array(Y, "Y")
    if Y.ndim < 1 or Y.shape[-1] < 3:
        raise ValueError(f"Y must have rows of length d >= 3 on its last axis for LayerNorm, got shape {Y.shape}")
    C = Y - np.mean(Y, axis=-1, keepdims=True)
    flat = ~np.any(C != 0.0, axis=-1)
    if flat.any():
        first = tuple(int(i) for i in np.argwhere(flat)[0])
        raise ValueError(f"Y must not have rows with all entries equal (LayerNorm divides by 0); row {first} has")
    return normalize(C)


# --------------------------------------------------------------------------
# The block
# --------------------------------------------------------------------------


def _check_matrix(M, name: str):
    if M is None:
        return None
    M = as_float_array(M, name)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] < 2:
        raise ValueError(f"{name} must be a square (d, d) matrix with d >= 2, got shape {M.shape}")
    M = M.copy()
    M.setflags(write=False)
    return M


@dataclass(frozen=True, eq=False)
class AttentionBlock:
    r"""One attention block with every idealisation of the paper's §2 a switch (MODEL.md §7).

    Validated at construction; the defaults are the paper's block (USA,
    rotated values, :math:`Q=K=V=I`, no mask, the flow), whose numbers are
    those of :func:`usaav.velocity` and :func:`usaav.simulate`, bitwise.

    Parameters
    ----------
    kernel : Kernel, or sequence of Kernel (one per system of a batch)
        Gauge :math:`G_i` and weight :math:`w_{ij}` (MODEL.md §3), and β;
        :func:`llm_rope` for LLM RoPE.  :class:`usaav.kernels.Toeplitz`
        (linear in the content, not an attention weight) takes the default
        options only.  A sequence must hold kernels of one class.
    normalisation : {"n", "rescaled", "softmax"}
        :math:`Z_i=n` (USA, the paper), :math:`ne^\beta` (USA in the
        rescaled clock, MODEL.md §3: time :math:`t'=e^\beta t`) or the
        softmax sum over :math:`M(i)` (SA).
    values : {"rotated", "unrotated"}
        :math:`\mathcal V_{ij}=G_i^\top G_jV` (the paper's gradient flow) or
        :math:`V` (RoPE as in language models).
    query, key, value : (d, d) array_like or None
        :math:`Q, K, V`; ``None`` is the identity (and passing the identity
        explicitly computes the block here rather than with the engine:
        same numbers to rounding).
    mask : {"none", "causal"}
        :math:`M(i)=\{1..n\}` or :math:`\{j\le i\}` (row order = position order).
    depth : {"flow", "layers"}
        The flow :math:`\dot x=P_xA` (projected Heun of step ``step``) or
        discrete layers :math:`x^{k+1}=N(x^k+hA(x^k))`, :math:`h=` ``step``.
    norm : {"rms", "layer"}
        :math:`N` = RMSNorm (the sphere) or LayerNorm (the sphere of
        :math:`\mathbf 1^\perp`; the flow then is :math:`P_x\Pi A`).
    step : float
        Heun step or layer step :math:`h`, in (0, 1].

    Examples
    --------
    >>> block = AttentionBlock(kernels.RoPE(1.0), normalisation="softmax", values="unrotated")
    >>> block.idealised
    False
    >>> AttentionBlock(kernels.USA(1.0), mask="causl")
    Traceback (most recent call last):
    ...
    ValueError: mask must be one of ('none', 'causal'), got str 'causl'
    """

    kernel: object
    normalisation: str = "n"
    values: str = "rotated"
    query: np.ndarray | None = None
    key: np.ndarray | None = None
    value: np.ndarray | None = None
    mask: str = "none"
    depth: str = "flow"
    norm: str = "rms"
    step: float = 0.05

    def __post_init__(self):
        several = not isinstance(self.kernel, kernels.Kernel)
        if several:
            if not isinstance(self.kernel, (list, tuple)) or not self.kernel:
                raise TypeError(
                    f"kernel must be a usaav kernel or a non-empty sequence of them, got {type(self.kernel).__name__}"
                )
            items = tuple(self.kernel)
            for k, item in enumerate(items):
                if not isinstance(item, kernels.Kernel):
                    raise TypeError(f"kernel must hold usaav kernels, got {type(item).__name__} at index {k}")
                if type(item) is not type(items[0]):
                    raise TypeError(
                        f"kernel must hold kernels of one class, got {type(items[0]).__name__} and "
                        f"{type(item).__name__} (index {k})"
                    )
            object.__setattr__(self, "kernel", items)
        check_choice(self.normalisation, "normalisation", NORMALISATIONS)
        check_choice(self.values, "values", VALUES)
        check_choice(self.mask, "mask", MASKS)
        check_choice(self.depth, "depth", DEPTHS)
        check_choice(self.norm, "norm", NORMS)
        step = check_positive_scalar(self.step, "step")
        if step > 1.0:
            raise ValueError(f"step must be in (0, 1] (a residual step h), got {step!r}")
        object.__setattr__(self, "step", step)
        sizes = set()
        for name in ("query", "key", "value"):
            M = _check_matrix(getattr(self, name), name)
            object.__setattr__(self, name, M)
            if M is not None:
                sizes.add(M.shape[0])
        if len(sizes) > 1:
            raise ValueError(f"query, key and value must be of one size d x d, got sizes {sorted(sizes)}")
        first = self.kernels[0]
        if isinstance(first, kernels.Toeplitz) and not self.idealised:
            raise ValueError(
                "kernel Toeplitz is linear in the content, not an attention weight: it takes the default "
                "options only (normalisation='n', values='rotated', identity query/key/value, mask='none'), "
                f"got {self._changed()}"
            )

    @property
    def kernels(self) -> tuple:
        """The kernel of every system (a tuple of one when shared)."""
        return self.kernel if isinstance(self.kernel, tuple) else (self.kernel,)

    @property
    def idealised(self) -> bool:
        """Whether :math:`A_i` is the paper's (USA, rotated values, Q=K=V=I, no mask), computed by the engine."""
        return (self.normalisation == "n" and self.values == "rotated" and self.mask == "none"
                and self.query is None and self.key is None and self.value is None)

    def _changed(self) -> str:
        return (f"normalisation={self.normalisation!r}, values={self.values!r}, mask={self.mask!r}, "
                f"query/key/value {'given' if self.query is not None or self.key is not None or self.value is not None else 'identity'}")

    def to_spec(self) -> dict:
        """The options as a JSON-ready dict (matrices as nested lists; the kernel by class and parameters)."""
        def matrix(M):
            return None if M is None else M.tolist()

        return {
            "kernel": [_kernel_spec(k) for k in self.kernels] if isinstance(self.kernel, tuple)
            else _kernel_spec(self.kernel),
            "normalisation": self.normalisation,
            "values": self.values,
            "query": matrix(self.query),
            "key": matrix(self.key),
            "value": matrix(self.value),
            "mask": self.mask,
            "depth": self.depth,
            "norm": self.norm,
            "step": self.step,
        }


def _kernel_spec(kernel) -> dict:
    """A kernel's class and its plain parameters (callables and tables are named, not evaluated)."""
    if isinstance(kernel, kernels.Gauge) and isinstance(kernel.gauge, LLMRoPEGauge):
        return {"type": "llm_rope", "beta": kernel.beta, "base": kernel.gauge.base, "d": kernel.gauge.d}
    spec = {"type": type(kernel).__name__}
    for name in ("beta", "theta", "length", "profile"):
        if hasattr(kernel, name):
            spec[name] = getattr(kernel, name)
    if hasattr(kernel, "plane"):
        spec["plane"] = list(kernel.plane)
    return spec


# --------------------------------------------------------------------------
# The update direction
# --------------------------------------------------------------------------


def _bind(block: AttentionBlock, X, aux):
    """Validated states ``(B, n, d)``, whether one system was given, labels ``(B or 1, n)`` and the interaction."""
    X, interaction = bind(block.kernel, X, aux)
    single = X.ndim == 2
    Xb = X[None] if single else X
    if isinstance(block.kernel, tuple) and single:
        raise ValueError(f"kernel is a sequence of {len(block.kernel)} kernels, which needs X of shape (B, n, d)")
    d = Xb.shape[-1]
    for name in ("query", "key", "value"):
        M = getattr(block, name)
        if M is not None and M.shape[0] != d:
            raise ValueError(f"{name} must be {d} x {d} for tokens of dimension d = {d}, got {M.shape[0]} x {M.shape[1]}")
    if block.norm == "layer":
        if d < 3:
            raise ValueError(f"norm='layer' needs d >= 3 (tokens on the sphere of the hyperplane ⊥ 1), got d = {d}")
        offset = np.abs(np.sum(Xb, axis=-1)) / np.sqrt(d)
        if np.max(offset) > HYPERPLANE_TOL:
            raise ValueError(
                f"X must lie in the hyperplane ⊥ (1, ..., 1) for norm='layer' (apply layer_norm first): "
                f"max |<x, 1>|/sqrt(d) = {np.max(offset):.3g} > tol {HYPERPLANE_TOL:g}"
            )
    labels = None if aux is None else np.atleast_2d(np.asarray(aux, dtype=np.float64))
    return Xb, single, labels, interaction


def _gauge_matrices(interaction, Xb: np.ndarray):
    r"""The matrices :math:`G_i` of every system, ``(B, n, d, d)``, from the public ``gauge_frame``."""
    B, n, d = Xb.shape
    basis = np.broadcast_to(np.eye(d)[:, None, None, :], (d, B, n, d))
    columns = interaction.gauge_frame(np.ascontiguousarray(basis))  # (d, B, n, d): G_i e_k
    return np.moveaxis(columns, 0, -1)  # (B, n, d, d), [..., a, k] = (G_i)_{ak}


def _apply(G: np.ndarray, Y: np.ndarray, transpose: bool = False) -> np.ndarray:
    r""":math:`G_iy_i` (or :math:`G_i^\top y_i`) for every row, one coordinate at a time (d fused passes)."""
    columns = G if not transpose else np.swapaxes(G, -1, -2)
    out = columns[..., :, 0] * Y[..., 0, None]
    for k in range(1, Y.shape[-1]):
        out += columns[..., :, k] * Y[..., k, None]
    return out


def _log_weights(kernels_, labels, systems, rows: slice, n: int):
    r""":math:`\log w_{ij}` (and the sign-free weight) for rows ``rows`` of every system, or ``(None, None)``."""
    first = kernels_[0]
    if not isinstance(first, (kernels.DistanceBias, kernels.Separated)):
        return None, None
    out = np.empty((systems, rows.stop - rows.start, n))
    for b in range(systems):
        kernel = kernels_[b if len(kernels_) > 1 else 0]
        a = labels[b if len(labels) > 1 else 0]
        if isinstance(kernel, kernels.DistanceBias):
            out[b] = kernel.log_weight(a[rows], a)
        else:
            w = np.asarray(kernel.weight(a[rows], a), dtype=np.float64)
            if np.any(w < 0):
                raise ValueError(
                    "kernel Separated has a negative weight w(a, b) < 0: attention weights w e^(...) / Z must "
                    "be >= 0 outside the paper's block (normalisation='n', rotated values, identity Q/K/V, no mask)"
                )
            with np.errstate(divide="ignore"):
                out[b] = np.log(w)
    return out, True


def update_direction(block: AttentionBlock, X, aux) -> np.ndarray:
    r"""The update direction :math:`A_i` of every token (MODEL.md §7), unprojected.

    .. math:: A_i=\sum_{j\in M(i)}a_{ij}\,\mathcal V_{ij}x_j,\qquad
              a_{ij}=\frac{w_{ij}\exp(\beta\langle G_iQx_i,G_jKx_j\rangle)}{Z_i}.

    Parameters
    ----------
    block : AttentionBlock
    X : (n, d) or (B, n, d) array_like
        Unit rows (in :math:`\mathbf 1^\perp` too for ``norm="layer"``).
    aux : (n,) or (B, n) array_like, or None
        Labels (positions, prompt ids) as for the block's kernel.

    Returns
    -------
    (n, d) or (B, n, d) ndarray
        For the paper's block, :math:`e^{\sigma}` times the engine's drift:
        :math:`\frac1n\sum_j\nabla_xK` of MODEL.md §2.

    Notes
    -----
    Memory ``O(B n d)`` plus at most :data:`SCORE_ENTRIES` weights.  Softmax
    subtracts each row's largest score (no overflow for any β); USA pulls
    out :math:`e^\beta` (MODEL.md §3) and refuses a result that overflows.
    """
    if not isinstance(block, AttentionBlock):
        raise TypeError(f"block must be an AttentionBlock, got {type(block).__name__}")
    Xb, single, labels, interaction = _bind(block, X, aux)
    with np.errstate(over="ignore", invalid="ignore"):
        A = _direction(block, Xb, labels, interaction)
    if not np.all(np.isfinite(A)):
        raise ValueError(
            "the update direction overflows float64: e^beta <Qx, Ky> is too large for normalisation="
            f"{block.normalisation!r}; use normalisation='rescaled' or 'softmax', or a smaller beta"
        )
    return A[0] if single else A


def _direction(block, Xb, labels, interaction, G=None) -> np.ndarray:
    """:math:`A` for validated ``(B, n, d)`` states (``G``: the gauge matrices, when already computed)."""
    if block.idealised:
        scale = np.exp(interaction.log_scale)[:, None, None]
        return interaction.drift(Xb) * scale
    if G is None and isinstance(block.kernels[0], _GAUGED):
        G = _gauge_matrices(interaction, Xb)
    return _general_direction(block, Xb, labels, interaction, G)


def _general_direction(block, Xb, labels, interaction, G) -> np.ndarray:
    """The block of MODEL.md §7 for any options, row block by row block."""
    B, n, d = Xb.shape
    beta = np.broadcast_to(interaction.log_scale, (B,))[:, None, None]  # σ = β for the exponential kernels
    Qx = Xb if block.query is None else Xb @ block.query.T
    Kx = Xb if block.key is None else Xb @ block.key.T
    Vx = Xb if block.value is None else Xb @ block.value.T
    if G is not None:
        Qx, Kx = _apply(G, Qx), _apply(G, Kx)
        if block.values == "rotated":
            Vx = _apply(G, Vx)
    queries = Qx * beta  # β folded into the queries: one pass over (B, n, d) instead of (B, r, n)
    keys_t = np.ascontiguousarray(Kx.transpose(0, 2, 1))  # (B, d, n)
    # The values and a column of ones: one product gives Σ_j e_ij v_j and the softmax sum Σ_j e_ij.
    operand = np.concatenate([Vx, np.ones((B, n, 1))], axis=-1)
    # Shift of the exponent.  USA: β (MODEL.md §3).  Softmax with Q = K = I and no label weight: β as
    # well, which the diagonal attains (⟨G_ix_i, G_ix_i⟩ = 1, j = i is never masked), so it is the
    # row maximum; otherwise the row maximum itself.
    row_max = block.normalisation == "softmax" and not (
        block.query is None and block.key is None and isinstance(block.kernels[0], (kernels.USA,) + _GAUGED))
    rows_per_block = max(1, min(n, SCORE_ENTRIES // max(1, B * n)))
    out = np.empty((B, n, d))
    for i0 in range(0, n, rows_per_block):
        rows = slice(i0, min(n, i0 + rows_per_block))
        scores = np.matmul(queries[:, rows], keys_t)  # β⟨G_iQx_i, G_jKx_j⟩, (B, r, n)
        log_w, _ = _log_weights(block.kernels, labels, B, rows, n)
        if log_w is not None:
            scores += log_w
        if block.mask == "causal":
            i = np.arange(rows.start, rows.stop)[:, None]
            scores[:, np.arange(n)[None, :] > i] = -np.inf
        if row_max:
            shift = np.max(scores, axis=-1, keepdims=True)
            if not np.all(np.isfinite(shift)):
                raise ValueError("every token must attend to at least one token with a positive weight "
                                 "(softmax of an empty row)")
        else:
            shift = beta
        scores -= shift
        weights = np.exp(scores, out=scores)
        sums = np.matmul(weights, operand)  # (B, r, d + 1)
        if block.normalisation == "softmax":
            out[:, rows] = sums[..., :d] / sums[..., d:]
        else:
            # Z = n e^β (rescaled) or n: e^{β(s-1)} first, so that nothing overflows before the end (MODEL.md §3).
            part = sums[..., :d] / n
            out[:, rows] = part if block.normalisation == "rescaled" else part * np.exp(beta)
    if G is not None and block.values == "rotated":
        out = _apply(G, out, transpose=True)  # G_i^T Σ_j a_ij G_j V x_j
    return out


# --------------------------------------------------------------------------
# Depth: the flow and the discrete layers
# --------------------------------------------------------------------------


def _gauges_once(block, interaction, Xb):
    """The gauge matrices of a run, computed once (they depend on the labels only), or ``None``."""
    if block.idealised or not isinstance(block.kernels[0], _GAUGED):
        return None
    return _gauge_matrices(interaction, Xb)


def _hyperplane_projection(V: np.ndarray) -> np.ndarray:
    r""":math:`\Pi v=v-\bar v\mathbf 1`, the projection onto :math:`\mathbf 1^\perp`."""
    return V - np.mean(V, axis=-1, keepdims=True)


def _tangent(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    r""":math:`P_xv=v-\langle x,v\rangle x` row by row."""
    return V - np.sum(X * V, axis=-1, keepdims=True) * X


def flow_field(block: AttentionBlock, X, aux):
    r"""The vector field :math:`X\mapsto(P_{x_i}A_i)_i` of the block's flow (MODEL.md §7), a plain function of ``X``.

    ``X`` (``(n, d)`` or ``(B, n, d)``) fixes the shape and is validated
    with ``aux`` once; the field then takes arrays of that shape.  For the
    paper's block it is :func:`usaav.dynamics.vector_field` (raw clock),
    so that the flow is :func:`usaav.simulate`'s, bitwise.  With
    ``norm="layer"`` the field is :math:`P_x\Pi A` (tangent to the sphere
    of :math:`\mathbf 1^\perp`).
    """
    if not isinstance(block, AttentionBlock):
        raise TypeError(f"block must be an AttentionBlock, got {type(block).__name__}")
    Xb, single, labels, interaction = _bind(block, X, aux)
    if block.idealised and block.norm == "rms":
        return vector_field(interaction, "raw")
    G = _gauges_once(block, interaction, Xb)

    def field(Y: np.ndarray) -> np.ndarray:
        batch = Y[None] if Y.ndim == 2 else Y
        with np.errstate(over="ignore", invalid="ignore"):
            A = _direction(block, batch, labels, interaction, G)
        if block.norm == "layer":
            A = _hyperplane_projection(A)
        V = _tangent(batch, A)
        return V[0] if Y.ndim == 2 else V

    return field


def _normaliser(norm: str):
    return normalize if norm == "rms" else lambda Y: normalize(_hyperplane_projection(Y))


def layer(block: AttentionBlock, X, aux) -> np.ndarray:
    r"""One discrete layer :math:`x_i\mapsto N(x_i+h\,A_i(x))` (MODEL.md §7), ``h = block.step``.

    ``N`` is RMSNorm or LayerNorm rescaled to unit norm (:func:`rms_norm`,
    :func:`layer_norm`).  Shapes as :func:`update_direction`.

    >>> import usaav
    >>> X = usaav.uniform_sphere(5, 3, rng=0)
    >>> Y = layer(AttentionBlock(usaav.kernels.USA(1.0), depth="layers", step=0.5), X, None)
    >>> bool(np.allclose(np.linalg.norm(Y, axis=1), 1.0))
    True
    """
    A = update_direction(block, X, aux)
    X = np.asarray(X, dtype=np.float64)
    Y = X + block.step * A
    return rms_norm(Y) if block.norm == "rms" else layer_norm(Y)


@dataclass(frozen=True, eq=False)
class AttentionRun:
    """Recorded depths of a run of the block (returned by :func:`run`).

    Attributes
    ----------
    t : (frames,) ndarray
        Depths :math:`t` of the frames (``k h`` after ``k`` layers).
    X : (frames, n, d) or (frames, B, n, d) ndarray
    block : AttentionBlock
    """

    t: np.ndarray
    X: np.ndarray
    block: AttentionBlock

    @property
    def final(self) -> np.ndarray:
        return self.X[-1]


def run(block: AttentionBlock, X0, aux, depth: float, *, record_every: int = 1,
        max_bytes: int = MAX_ARRAY_BYTES) -> AttentionRun:
    r"""Run the block to depth ``depth`` (MODEL.md §7): the flow or the discrete layers.

    * ``block.depth == "flow"``: projected Heun of step ``block.step``, the
      last step shortened to land on ``depth`` (as :func:`usaav.simulate`;
      for the paper's block the frames are :func:`usaav.simulate`'s, bitwise);
    * ``"layers"``: :math:`x^{k+1}=N(x^k+hA(x^k))`, ``depth / h`` layers
      (``depth`` must be a multiple of :math:`h`).

    Parameters
    ----------
    block : AttentionBlock
    X0 : (n, d) or (B, n, d) array_like
        Unit rows (in :math:`\mathbf 1^\perp` for ``norm="layer"``).
    aux : (n,) or (B, n) array_like, or None
    depth : float
        Final depth, > 0.
    record_every : int
        Keep every ``record_every``-th step; the initial and final states are always kept.
    max_bytes : int
        Limit on the recorded frames (1 GiB); refused before anything runs.

    Examples
    --------
    >>> import usaav
    >>> X0 = usaav.uniform_sphere(16, 3, rng=0)
    >>> out = run(AttentionBlock(usaav.kernels.USA(1.0), normalisation="softmax", depth="layers", step=0.25),
    ...           X0, None, 10.0, record_every=40)
    >>> out.t.tolist(), out.X.shape
    ([0.0, 10.0], (2, 16, 3))
    """
    if not isinstance(block, AttentionBlock):
        raise TypeError(f"block must be an AttentionBlock, got {type(block).__name__}")
    depth = check_positive_scalar(depth, "depth")
    record_every = check_int(record_every, "record_every", minimum=1)
    max_bytes = check_int(max_bytes, "max_bytes", minimum=1)
    h = block.step
    Xb, single, labels, interaction = _bind(block, X0, aux)
    if block.depth == "layers":
        steps = int(round(depth / h))
        if steps < 1 or abs(steps * h - depth) > 1e-9 * depth:
            raise ValueError(f"depth must be a positive multiple of the layer step h = {h:g}, got depth = {depth:g}")
    else:
        steps = max(1, int(np.ceil(depth / h - 1e-9)))
    frames = 1 + -(-steps // record_every)
    if frames * Xb.size * 8.0 > max_bytes:
        raise ValueError(
            f"run would record {frames} frames of {Xb.size} numbers, {frames * Xb.size * 8 / 2**30:.3g} GiB > "
            f"max_bytes = {max_bytes / 2**30:.3g} GiB; use record_every >= {-(-steps * Xb.size * 8 // max_bytes) + 1}"
        )
    X = Xb[0] if single else Xb
    times, states = [0.0], [X]
    if block.depth == "flow":
        field = flow_field(block, X, aux)
        advance = heun_step if block.norm == "rms" else _layer_norm_heun
    else:
        normaliser = _normaliser(block.norm)
        G = _gauges_once(block, interaction, Xb)
    for step in range(1, steps + 1):
        if block.depth == "flow":
            dt = h if step < steps else depth - (steps - 1) * h
            with np.errstate(over="ignore", invalid="ignore"):
                X = advance(field, X, dt)
            now = min(step * h, depth)
        else:
            batch = X[None] if single else X
            with np.errstate(over="ignore", invalid="ignore"):
                A = _direction(block, batch, labels, interaction, G)
            X = normaliser(X + h * (A[0] if single else A))
            now = step * h
        if step % record_every == 0 or step == steps:
            times.append(now)
            states.append(X)
    out = np.stack(states)
    if not np.all(np.isfinite(out)):
        raise ValueError("the run overflows float64: use normalisation='rescaled' or 'softmax', or a smaller beta")
    return AttentionRun(np.array(times), out, block)


def _layer_norm_heun(field, X, dt):
    """Projected Heun on the sphere of the hyperplane ⊥ 1 (MODEL.md §5 with N = LayerNorm)."""
    N = _normaliser("layer")
    k1 = field(X)
    k2 = field(N(X + dt * k1))
    return N(X + 0.5 * dt * (k1 + k2))


def initial_tokens(n: int, d: int, rng, norm: str = "rms") -> np.ndarray:
    """``n`` tokens uniform on the sphere, centred and renormalised for ``norm="layer"`` (book)."""
    norm = check_choice(norm, "norm", NORMS)
    X = uniform_sphere(n, d, rng)
    return X if norm == "rms" else layer_norm(X)
