"""The general attention block (usaav.attention, MODEL.md §7).

Each test states one fact.  Independent references: the library's own
velocity and simulate for the paper's block (bitwise); a double loop over
tokens written from the formula of MODEL.md §7; PyTorch's
scaled_dot_product_attention, rms_norm and layer_norm (code no one here
wrote) for one discrete layer.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import usaav
from usaav import kernels
from usaav.attention import (
    AttentionBlock,
    LLMRoPEGauge,
    flow_field,
    initial_tokens,
    layer,
    layer_norm,
    llm_rope,
    random_projections,
    rms_norm,
    run,
    update_direction,
)

PROMPT_GAUGES = usaav.rotation(np.array([0.3, 1.7, 4.0]), 3)


def _kernel(name: str, beta: float = 1.3, d: int = 3):
    return {
        "usa": lambda: kernels.USA(beta),
        "rope": lambda: kernels.RoPE(beta, theta=2 * np.pi),
        "phase": lambda: kernels.PhaseField(beta, np.sin),
        "prompts": lambda: kernels.Prompts(beta, PROMPT_GAUGES),
        "distance": lambda: kernels.DistanceBias(beta, 0.3),
        "toeplitz": lambda: kernels.Toeplitz({0: 0.5, 1: 1.0}),
        "llm_rope": lambda: llm_rope(beta, d),
    }[name]()


def _labels(name: str, n: int):
    if name == "prompts":
        return np.arange(n) % 3
    if name == "llm_rope":
        return np.arange(n, dtype=np.float64)
    return np.arange(n) / n


# --------------------------------------------------------------------------
# The paper's block is today's USA-AV system, bitwise
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["usa", "rope", "phase", "prompts", "distance", "toeplitz"])
def test_default_flow_field_is_velocity_bitwise(name):
    n = 24
    kernel, aux = _kernel(name), _labels(name, n)
    X = usaav.uniform_sphere(n, 3, rng=5)
    batch = np.stack([X, usaav.uniform_sphere(n, 3, rng=6)])
    block = AttentionBlock(kernel)
    assert np.array_equal(flow_field(block, X, aux)(X), usaav.velocity(kernel, X, aux))
    assert np.array_equal(flow_field(block, batch, aux)(batch), usaav.velocity(kernel, batch, aux))


@pytest.mark.parametrize("name", ["usa", "rope", "prompts", "toeplitz"])
def test_default_run_is_simulate_bitwise(name):
    n = 16
    kernel, aux = _kernel(name), _labels(name, n)
    X0 = np.stack([usaav.uniform_sphere(n, 3, rng=s) for s in (1, 2, 3)])
    # depth 1.23 is not a multiple of the step: the last step is shortened, as in simulate
    ours = run(AttentionBlock(kernel, step=0.05), X0, aux, 1.23, record_every=5)
    theirs = usaav.simulate(kernel, X0, aux, 1.23, dt=0.05, record_every=5)
    assert np.array_equal(ours.t, theirs.t)
    assert np.array_equal(ours.X, theirs.X)


@pytest.mark.parametrize("name", ["usa", "rope", "prompts", "distance", "toeplitz"])
def test_default_update_direction_is_the_mean_kernel_gradient(name):
    """A_i = (1/n) Σ_j ∇_x K(z_i, z_j) (MODEL.md §2), against finite differences of the kernel's value."""
    n = 7
    kernel, aux = _kernel(name), _labels(name, n)
    X = usaav.uniform_sphere(n, 3, rng=11)
    A = update_direction(AttentionBlock(kernel), X, aux)
    step = 1e-6
    expected = np.zeros_like(X)
    for i in range(n):
        for k in range(3):
            plus, minus = X[i:i + 1].copy(), X[i:i + 1].copy()
            plus[0, k] += step
            minus[0, k] -= step
            # value() needs unit rows: K is extended off the sphere by its formula, so use it through
            # the gauge frame directly: the kernel rows are e^{β<G x, G y>}/β (or c(a-b)<x,y>).
            expected[i, k] = (_row_value(kernel, plus, aux[i:i + 1], X, aux)
                              - _row_value(kernel, minus, aux[i:i + 1], X, aux)).sum() / (2 * step) / n
    # central differences: truncation ~ step² |K'''| ≈ 1e-12 e^{2β} ≈ 1e-11, rounding ~ n eps e^β / step
    # ≈ 6e-9 at worst (measured max 9e-11 over the five kernels)
    np.testing.assert_allclose(A, expected, atol=1e-8, rtol=0)


def _row_value(kernel, x, a, Y, b):
    """K((x, a), (y_j, b_j)) from the kernel's formula, for x slightly off the sphere."""
    if isinstance(kernel, kernels.Toeplitz):
        return kernel.profile(np.subtract.outer(a, b)) * (x @ Y.T)
    if isinstance(kernel, kernels.DistanceBias):
        return np.exp(kernel.log_weight(a, b) + kernel.beta * (x @ Y.T)) / kernel.beta
    if isinstance(kernel, kernels.USA):
        return np.exp(kernel.beta * (x @ Y.T)) / kernel.beta
    G = _gauges(kernel, np.r_[a, b], 3)
    u = np.einsum("ab,nb->na", G[0], x)
    V = np.einsum("nab,nb->na", G[1:], Y)
    return np.exp(kernel.beta * (u @ V.T)) / kernel.beta


def _gauges(kernel, aux, d):
    """G(a_i) of a gauge kernel, from its documented formula (not the library's frames)."""
    aux = np.asarray(aux, dtype=np.float64)
    if isinstance(kernel, kernels.RoPE):
        return usaav.rotation(kernel.theta * aux, d, kernel.plane)
    if isinstance(kernel, kernels.PhaseField):
        return usaav.rotation(kernel.phase(aux), d, kernel.plane)
    if isinstance(kernel, kernels.Prompts):
        return kernel.gauges[aux.astype(int)]
    if isinstance(kernel, kernels.Gauge):
        return kernel.gauge(aux)
    return np.broadcast_to(np.eye(d), (len(aux), d, d))


# --------------------------------------------------------------------------
# Every option against a loop over tokens written from MODEL.md §7
# --------------------------------------------------------------------------


def _loop_direction(kernel, X, aux, normalisation, values, mask, Q, K, V):
    """A_i = Σ_{j∈M(i)} a_ij 𝒱_ij x_j token by token (MODEL.md §7)."""
    n, d = X.shape
    Q = np.eye(d) if Q is None else Q
    K = np.eye(d) if K is None else K
    V = np.eye(d) if V is None else V
    G = _gauges(kernel, aux if aux is not None else np.zeros(n), d)
    beta = kernel.beta
    A = np.zeros((n, d))
    for i in range(n):
        q = G[i] @ Q @ X[i]
        raw, vectors = [], []
        for j in range(n):
            if mask == "causal" and j > i:
                continue
            w = 1.0
            if isinstance(kernel, kernels.DistanceBias):
                w = float(np.exp(kernel.log_weight(aux[i:i + 1], aux[j:j + 1])[0, 0]))
            raw.append(w * np.exp(beta * q @ (G[j] @ K @ X[j])))
            vectors.append(G[i].T @ G[j] @ V @ X[j] if values == "rotated" else V @ X[j])
        Z = {"n": n, "rescaled": n * np.exp(beta), "softmax": sum(raw)}[normalisation]
        for a, v in zip(raw, vectors):
            A[i] += a / Z * v
    return A


OPTION_CASES = [
    # (kernel, normalisation, values, mask, projections)
    ("usa", "softmax", "rotated", "none", None),
    ("usa", "n", "rotated", "causal", None),
    ("usa", "rescaled", "rotated", "none", "random"),
    ("rope", "softmax", "rotated", "none", None),
    ("rope", "softmax", "unrotated", "causal", "random"),
    ("rope", "n", "unrotated", "none", None),
    ("phase", "softmax", "rotated", "causal", "symmetric"),
    ("prompts", "rescaled", "unrotated", "none", "random"),
    ("distance", "softmax", "rotated", "causal", None),
    ("distance", "n", "rotated", "none", "random"),
    ("llm_rope", "softmax", "unrotated", "causal", "random"),
    ("llm_rope", "n", "rotated", "none", None),
]


@pytest.mark.parametrize("name, normalisation, values, mask, projections", OPTION_CASES)
def test_update_direction_matches_a_loop_over_tokens(name, normalisation, values, mask, projections):
    n, d = 9, (4 if name == "llm_rope" else 3)
    kernel, aux = _kernel(name, d=d), _labels(name, n)
    Q = K = V = None
    if projections is not None:
        Q, K, V = random_projections(d, 3, symmetric=projections == "symmetric")
    block = AttentionBlock(kernel, normalisation=normalisation, values=values, mask=mask, query=Q, key=K, value=V)
    X = usaav.uniform_sphere(n, d, rng=4)
    expected = _loop_direction(kernel, X, aux, normalisation, values, mask, Q, K, V)
    # same sums in another order: rounding ~ n eps max|term| (measured max 1.6e-15 over the cases)
    np.testing.assert_allclose(update_direction(block, X, aux), expected, rtol=1e-12, atol=1e-12)


def test_softmax_is_finite_at_large_beta_with_random_projections():
    """β = 300 with Q, K three times random ones: the row maximum is subtracted, so nothing overflows.

    Scores reach β|Qx||Kx| ≈ 300 · 9: a shift by β alone would leave e^{2000} (overflow).
    """
    n, d = 12, 3
    Q, K, V = random_projections(d, 5)
    Q, K = 3 * Q, 3 * K
    X = usaav.uniform_sphere(n, d, rng=1)
    kernel = kernels.RoPE(300.0)
    aux = _labels("rope", n)
    A = update_direction(AttentionBlock(kernel, normalisation="softmax", query=Q, key=K, value=V), X, aux)
    # reference: the same softmax in the loop's order, each row shifted by its own maximum
    G = _gauges(kernel, aux, d)
    q = np.einsum("nab,nb->na", G, X @ Q.T)
    k = np.einsum("nab,nb->na", G, X @ K.T)
    scores = kernel.beta * q @ k.T
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected = np.einsum("ij,ijb->ib", weights / weights.sum(axis=1, keepdims=True),
                         np.einsum("iab,jb->ija", G.transpose(0, 2, 1), np.einsum("nab,nb->na", G, X @ V.T)))
    # scores of size ~3e3 carry absolute rounding ~3e3 eps ≈ 7e-13 into the exponent
    np.testing.assert_allclose(A, expected, rtol=0, atol=1e-11)


def test_explicit_identity_projections_give_the_engine_numbers():
    """The paper's block computed here (Q = K = V = I given) and by the engine agree to rounding."""
    kernel, aux = _kernel("prompts"), _labels("prompts", 20)
    X = usaav.uniform_sphere(20, 3, rng=8)
    I = np.eye(3)
    ours = update_direction(AttentionBlock(kernel, query=I, key=I, value=I), X, aux)
    engine = update_direction(AttentionBlock(kernel), X, aux)
    # the engine sums e^{β(<u,v>-1)} in tiles, here in one product: rounding ~ 20 · 1e-16 · e^β
    np.testing.assert_allclose(ours, engine, rtol=1e-13, atol=1e-13)


def test_batch_rows_are_the_separate_systems():
    kernel, aux = _kernel("rope"), _labels("rope", 12)
    Q, K, V = random_projections(3, 1)
    block = AttentionBlock(kernel, normalisation="softmax", values="unrotated", mask="causal", query=Q, key=K, value=V)
    X = np.stack([usaav.uniform_sphere(12, 3, rng=s) for s in range(4)])
    together = update_direction(block, X, aux)
    for b in range(4):
        np.testing.assert_allclose(together[b], update_direction(block, X[b], aux), rtol=0, atol=1e-15)


def test_a_batch_may_sweep_beta_with_one_kernel_per_system():
    X = np.stack([usaav.uniform_sphere(10, 3, rng=s) for s in range(3)])
    betas = (0.5, 2.0, 7.0)
    swept = update_direction(AttentionBlock(tuple(kernels.USA(b) for b in betas), normalisation="softmax"), X, None)
    for b, beta in enumerate(betas):
        alone = update_direction(AttentionBlock(kernels.USA(beta), normalisation="softmax"), X[b], None)
        np.testing.assert_allclose(swept[b], alone, rtol=0, atol=1e-15)


def test_memory_is_row_blocks_not_n_by_n_by_d(monkeypatch):
    """The direction is computed in row blocks of at most SCORE_ENTRIES weights, the same numbers as in one block."""
    import usaav.attention as attention

    kernel = _kernel("rope")
    X = usaav.uniform_sphere(40, 3, rng=2)
    block = AttentionBlock(kernel, normalisation="softmax", mask="causal")
    whole = update_direction(block, X, _labels("rope", 40))
    monkeypatch.setattr(attention, "SCORE_ENTRIES", 3 * 40)  # three rows at a time
    # BLAS may sum a (3, 40) product in another order than a (40, 40) one: a few ulps
    np.testing.assert_allclose(update_direction(block, X, _labels("rope", 40)), whole, rtol=0, atol=1e-15)


# --------------------------------------------------------------------------
# Facts of MODEL.md §7
# --------------------------------------------------------------------------


def test_llm_rope_scores_depend_on_relative_position_only():
    r"""⟨G(s)q, G(t)k⟩ = ⟨q, G(t - s)k⟩ (RoFormer's property, MODEL.md §7)."""
    gauge = LLMRoPEGauge(6)
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal(6), rng.standard_normal(6)
    G = gauge(np.array([3.0, 10.0, 7.0]))
    assert np.isclose((G[0] @ q) @ (G[1] @ k), q @ (G[2] @ k), rtol=0, atol=1e-13)
    np.testing.assert_allclose(G @ G.transpose(0, 2, 1), np.broadcast_to(np.eye(6), G.shape), atol=1e-15)


def test_llm_rope_frequencies_are_base_to_the_minus_2k_over_d():
    np.testing.assert_allclose(LLMRoPEGauge(8).frequencies, [1.0, 0.1, 0.01, 0.001], rtol=1e-15)


@pytest.mark.parametrize("normalisation, mask", [("softmax", "none"), ("softmax", "causal"), ("n", "causal")])
def test_gauge_frame_sees_the_label_free_block(normalisation, mask):
    """Rotated values, Q = K = V = I: G_i A_i(x) is the label-free block at u = G x (MODEL.md §7)."""
    kernel, aux = _kernel("phase"), _labels("phase", 15)
    X = usaav.uniform_sphere(15, 3, rng=9)
    A = update_direction(AttentionBlock(kernel, normalisation=normalisation, mask=mask), X, aux)
    G = _gauges(kernel, aux, 3)
    U = np.einsum("nab,nb->na", G, X)
    plain = update_direction(AttentionBlock(kernels.USA(kernel.beta), normalisation=normalisation, mask=mask), U, None)
    np.testing.assert_allclose(np.einsum("nab,nb->na", G, A), plain, atol=1e-14)


def test_unrotated_values_break_the_gauge_frame_reduction():
    """The same identity fails when values are not rotated (the reduction needs them rotated)."""
    kernel, aux = _kernel("phase"), _labels("phase", 15)
    X = usaav.uniform_sphere(15, 3, rng=9)
    A = update_direction(AttentionBlock(kernel, normalisation="softmax", values="unrotated"), X, aux)
    G = _gauges(kernel, aux, 3)
    plain = update_direction(AttentionBlock(kernels.USA(kernel.beta), normalisation="softmax"),
                             np.einsum("nab,nb->na", G, X), None)
    assert np.max(np.abs(np.einsum("nab,nb->na", G, A) - plain)) > 1e-2


def test_rms_layers_stay_on_the_sphere_and_layer_norm_in_the_hyperplane():
    X = initial_tokens(20, 4, 0, "layer")
    for norm in ("rms", "layer"):
        block = AttentionBlock(kernels.RoPE(2.0), normalisation="softmax", depth="layers", norm=norm, step=0.5)
        out = run(block, X, _labels("rope", 20), 5.0).final
        assert np.max(np.abs(np.linalg.norm(out, axis=-1) - 1)) < 1e-14
        if norm == "layer":
            assert np.max(np.abs(out.sum(axis=-1))) < 1e-14


def test_norms_are_rms_and_layer_norm_divided_by_sqrt_d():
    """N = RMSNorm / √d = y / sqrt(mean y²) / √d, and LayerNorm / √d = (y − ȳ) / std(y) / √d (biased std, ε = 0)."""
    Y = np.random.default_rng(0).standard_normal((5, 6))
    d = Y.shape[1]
    np.testing.assert_allclose(rms_norm(Y), Y / np.sqrt(np.mean(Y**2, axis=1, keepdims=True)) / np.sqrt(d),
                               rtol=1e-15, atol=1e-15)
    centred = Y - Y.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(layer_norm(Y), centred / Y.std(axis=1, keepdims=True) / np.sqrt(d),
                               rtol=1e-15, atol=1e-15)


def test_layer_is_one_step_of_the_run():
    kernel, aux = _kernel("rope"), _labels("rope", 10)
    block = AttentionBlock(kernel, normalisation="softmax", values="unrotated", depth="layers", step=0.25)
    X = usaav.uniform_sphere(10, 3, rng=3)
    np.testing.assert_array_equal(run(block, X, aux, 0.25).final, layer(block, X, aux))


def test_discrete_layer_is_the_flow_to_first_order():
    """N(x + hA) = x + h P_x A + O(h²): one layer against one Euler step of the flow, ratio of errors ~ 4 at h/2."""
    kernel, aux = _kernel("rope"), _labels("rope", 10)
    X = usaav.uniform_sphere(10, 3, rng=3)
    errors = []
    for h in (1e-2, 5e-3):
        block = AttentionBlock(kernel, normalisation="softmax", depth="layers", step=h)
        euler = X + h * flow_field(block, X, aux)(X)
        errors.append(np.max(np.abs(layer(block, X, aux) - euler)))
    assert 3.6 < errors[0] / errors[1] < 4.4  # local error O(h²): halving h divides it by 4


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    ({"normalisation": "max"}, "normalisation must be one of"),
    ({"values": "turned"}, "values must be one of"),
    ({"mask": "future"}, "mask must be one of"),
    ({"depth": "deep"}, "depth must be one of"),
    ({"norm": "batch"}, "norm must be one of"),
    ({"step": 1.5}, r"step must be in \(0, 1\]"),
    ({"step": 0.0}, "step must be"),
    ({"query": np.ones((3, 2))}, r"query must be a square \(d, d\) matrix"),
    ({"query": np.eye(3), "key": np.eye(4)}, "query, key and value must be of one size"),
    ({"value": np.array([[np.nan, 0], [0, 1]])}, "value"),
])
def test_bad_options_are_refused_by_name(options, message):
    with pytest.raises((ValueError, TypeError), match=message):
        AttentionBlock(kernels.USA(1.0), **options)


def test_bad_kernels_are_refused_by_name():
    with pytest.raises(TypeError, match="kernel must be a usaav kernel"):
        AttentionBlock("usa")
    with pytest.raises(TypeError, match="kernels of one class"):
        AttentionBlock((kernels.USA(1.0), kernels.RoPE(1.0)))
    with pytest.raises(ValueError, match="Toeplitz is linear in the content"):
        AttentionBlock(kernels.Toeplitz({1: 1.0}), normalisation="softmax")
    with pytest.raises(ValueError, match="d must be even for LLM RoPE"):
        LLMRoPEGauge(3)
    with pytest.raises(ValueError, match="base must be > 1"):
        LLMRoPEGauge(4, base=0.5)


def test_bad_states_are_refused_by_name():
    block = AttentionBlock(kernels.USA(1.0), query=np.eye(4))
    with pytest.raises(ValueError, match="query must be 3 x 3"):
        update_direction(block, usaav.uniform_sphere(5, 3, rng=0), None)
    with pytest.raises(ValueError, match="hyperplane"):
        update_direction(AttentionBlock(kernels.USA(1.0), norm="layer"), usaav.uniform_sphere(5, 3, rng=0), None)
    with pytest.raises(ValueError, match="unit rows"):
        update_direction(AttentionBlock(kernels.USA(1.0)), 2 * usaav.uniform_sphere(5, 3, rng=0), None)
    with pytest.raises(ValueError, match="multiple of the layer step"):
        run(AttentionBlock(kernels.USA(1.0), depth="layers", step=0.3), usaav.uniform_sphere(5, 3, rng=0), None, 1.0)
    with pytest.raises(ValueError, match="overflows"):
        update_direction(AttentionBlock(kernels.USA(700.0), query=5 * np.eye(3)), usaav.uniform_sphere(5, 3, rng=0), None)
    with pytest.raises(ValueError, match="all entries equal"):
        layer_norm(np.ones((2, 3)))


def test_to_spec_is_plain_json():
    import json

    Q, K, V = random_projections(4, 0)
    block = AttentionBlock(llm_rope(2.0, 4), normalisation="softmax", values="unrotated", query=Q, mask="causal",
                           depth="layers", norm="layer", step=0.5)
    spec = json.loads(json.dumps(block.to_spec()))
    assert spec["kernel"] == {"type": "llm_rope", "beta": 2.0, "base": 10000.0, "d": 4}
    assert spec["query"] == Q.tolist() and spec["key"] is None and spec["mask"] == "causal"


# --------------------------------------------------------------------------
# Against PyTorch (code no one here wrote): one discrete layer
# --------------------------------------------------------------------------

try:
    import torch
except ImportError:  # pragma: no cover - the CI job that sets USAAV_REQUIRE_TORCH installs it
    torch = None
    if os.environ.get("USAAV_REQUIRE_TORCH") == "1":
        raise

needs_torch = pytest.mark.skipif(torch is None, reason="torch is a test-only reference: pip install -r requirements-reference.txt")


def _torch_rope(Y, positions, base):
    """RoPE by hand, as in language models: pairs (2k, 2k+1) turned by s·base^(-2k/d)."""
    d = Y.shape[-1]
    freqs = base ** (-2.0 * torch.arange(d // 2, dtype=torch.float64) / d)
    angles = positions[:, None] * freqs[None, :]  # (n, d/2)
    c, s = torch.cos(angles), torch.sin(angles)
    even, odd = Y[..., 0::2], Y[..., 1::2]
    out = torch.empty_like(Y)
    out[..., 0::2] = c * even - s * odd
    out[..., 1::2] = s * even + c * odd
    return out


@needs_torch
@pytest.mark.parametrize("seed, B, n, d", [(0, 1, 5, 4), (1, 3, 16, 6), (2, 2, 33, 8), (3, 4, 9, 2)])
@pytest.mark.parametrize("norm", ["rms", "layer"])
@pytest.mark.parametrize("mask", ["causal", "none"])
def test_one_layer_matches_pytorch(seed, B, n, d, norm, mask):
    """Softmax, random Q/K/V, LLM RoPE, unrotated values: N(x + h SDPA(q, k, v)) in float64."""
    if norm == "layer" and d < 3:
        pytest.skip("LayerNorm needs d >= 3")
    rng = np.random.default_rng(seed)
    beta, h, base = 1.7, 0.6, 10_000.0
    Q, K, V = random_projections(d, rng)
    X = np.stack([initial_tokens(n, d, rng, norm) for _ in range(B)])
    positions = np.arange(n, dtype=np.float64)
    block = AttentionBlock(llm_rope(beta, d, base), normalisation="softmax", values="unrotated", query=Q, key=K,
                           value=V, mask=mask, depth="layers", norm=norm, step=h)
    ours = layer(block, X, positions)

    x = torch.tensor(X)
    pos = torch.tensor(positions)
    q = _torch_rope(x @ torch.tensor(Q).T, pos, base)
    k = _torch_rope(x @ torch.tensor(K).T, pos, base)
    v = x @ torch.tensor(V).T
    attended = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=mask == "causal", scale=beta)
    y = x + h * attended
    if norm == "rms":
        theirs = torch.nn.functional.rms_norm(y, (d,), eps=0.0) / np.sqrt(d)
    else:
        theirs = torch.nn.functional.layer_norm(y, (d,), eps=0.0) / np.sqrt(d)
    # both in float64, same sums in other orders: measured max difference 3.3e-16 over these cases
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=1e-12)
