// The attention block with every idealisation of the paper's §2 a switch: the
// browser twin of usaav/attention.py (MODEL.md §7).
//
//   A_i = Σ_{j∈M(i)} a_ij 𝒱_ij x_j,   a_ij = w_ij exp(β⟨G_i Q x_i, G_j K x_j⟩) / Z_i,
//
// with Z_i = n (USA, the paper), n e^β (USA in the rescaled clock) or the
// softmax sum over M(i); values rotated with the gauge (𝒱_ij = G_iᵀ G_j V) or
// not (𝒱_ij = V); Q, K, V the identity or given matrices; no mask or a causal
// one (j ≤ i); in depth the flow ẋ_i = P_{x_i} A_i (projected Heun) or discrete
// layers x ← N(x + h A(x)) with N = RMSNorm (y/|y|) or LayerNorm (c/|c|,
// c = y − ȳ1; the flow then is P_x Π A). The gauges G_i are those of any
// kernel spec without a label weight (usa, rope, phase_field, gauge, prompts)
// read through the kernel's public gauge frame, or LLM RoPE (d/2 planes turned
// by θ_k s, θ_k = base^(−2k/d)). Softmax subtracts the row maximum, USA pulls
// e^β out (MODEL.md §3), so no β overflows before the end.

import { bindKernel } from "./kernels.js";

export const NORMALISATIONS = Object.freeze(["n", "rescaled", "softmax"]);
export const VALUES = Object.freeze(["rotated", "unrotated"]);
export const MASKS = Object.freeze(["none", "causal"]);
export const DEPTHS = Object.freeze(["flow", "layers"]);
export const NORMS = Object.freeze(["rms", "layer"]);

/** Kernel specs the block takes: those whose attention weight is 1 (no distance bias or separated weight). */
export const BLOCK_KERNEL_TYPES = Object.freeze(["usa", "rope", "phase_field", "gauge", "prompts", "llm_rope"]);

/**
 * The LLM RoPE spec (MODEL.md §7; RoFormer): G(s) = Π_k R^{(2k,2k+1)}_{θ_k s}, θ_k = base^(−2k/d).
 *
 * @param {number} beta
 * @param {ArrayLike<number>} positions  n token positions (integers in a language model)
 * @param {number} [base=10000]
 * @returns {object} spec {type: "llm_rope", beta, base, aux}
 */
export function llmRopeSpec(beta, positions, base = 10_000) {
  return { type: "llm_rope", beta, base, aux: Array.from(positions) };
}

/**
 * The n gauge matrices of LLM RoPE, flat row-major n*d*d: R e_{2k} = cos e_{2k} + sin e_{2k+1} (MODEL.md §1, §7).
 *
 * @param {ArrayLike<number>} positions
 * @param {number} d  even
 * @param {number} [base=10000]  > 1
 * @returns {Float64Array}
 */
export function llmRopeGauges(positions, d, base = 10_000) {
  if (!Number.isInteger(d) || d < 2 || d % 2) throw new RangeError(`d must be even and >= 2 for LLM RoPE, got ${d}`);
  if (!(Number.isFinite(base) && base > 1)) throw new RangeError(`base must be a number > 1, got ${base}`);
  const n = positions.length;
  const G = new Float64Array(n * d * d);
  for (let i = 0; i < n; i++) {
    const s = positions[i];
    if (!Number.isFinite(s)) throw new RangeError(`positions must be finite numbers, got positions[${i}] = ${s}`);
    const at = i * d * d;
    for (let k = 0; k < d / 2; k++) {
      const angle = s * base ** ((-2 * k) / d);
      const c = Math.cos(angle);
      const w = Math.sin(angle);
      const e = 2 * k;
      G[at + e * d + e] = c;
      G[at + (e + 1) * d + e] = w;
      G[at + e * d + e + 1] = -w;
      G[at + (e + 1) * d + e + 1] = c;
    }
  }
  return G;
}

/** The gauge matrices of a spec (flat n*d*d), or null without a gauge; columns read through gaugeFrame. */
function gaugeMatrices(spec, n, d) {
  if (spec.type === "llm_rope") {
    if (!Array.isArray(spec.aux) && !ArrayBuffer.isView(spec.aux)) {
      throw new TypeError("spec.aux must hold the n token positions");
    }
    if (spec.aux.length !== n) throw new RangeError(`spec.aux must hold n = ${n} positions, got ${spec.aux.length}`);
    return llmRopeGauges(spec.aux, d, spec.base ?? 10_000);
  }
  const interaction = bindKernel(spec, n, d);
  if (spec.type === "usa") return null;
  const G = new Float64Array(n * d * d);
  const basis = new Float64Array(n * d);
  const column = new Float64Array(n * d);
  for (let c = 0; c < d; c++) {
    basis.fill(0);
    for (let i = 0; i < n; i++) basis[i * d + c] = 1;
    interaction.gaugeFrame(basis, column); // G_i e_c: column c of G_i
    for (let i = 0; i < n; i++) for (let r = 0; r < d; r++) G[i * d * d + r * d + c] = column[i * d + r];
  }
  return G;
}

function checkChoice(value, name, choices) {
  if (!choices.includes(value)) {
    throw new RangeError(`${name} must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function matrixOrNull(M, name, d) {
  if (M === null || M === undefined) return null;
  const flat = Float64Array.from(Array.isArray(M) && Array.isArray(M[0]) ? M.flat() : M);
  if (flat.length !== d * d || !flat.every(Number.isFinite)) {
    throw new RangeError(`${name} must be a finite d × d matrix with d = ${d}, got ${flat.length} entries`);
  }
  return flat;
}

/** out_i = M x_i (or Mᵀ x_i) for one matrix M, or a copy when M is null. */
function applyMatrix(M, X, n, d, out) {
  if (M === null) {
    out.set(X);
    return out;
  }
  for (let i = 0, row = 0; i < n; i++, row += d) {
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += M[r * d + c] * X[row + c];
      out[row + r] = s;
    }
  }
  return out;
}

/** out_i = G_i y_i (or G_iᵀ y_i) for per-token matrices G (flat n*d*d), in place safe. */
function applyTokenGauges(G, Y, n, d, transpose, out, scratch) {
  for (let i = 0, row = 0; i < n; i++, row += d) {
    const at = i * d * d;
    for (let r = 0; r < d; r++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (transpose ? G[at + c * d + r] : G[at + r * d + c]) * Y[row + c];
      scratch[r] = s;
    }
    for (let r = 0; r < d; r++) out[row + r] = scratch[r];
  }
  return out;
}

/**
 * A block (MODEL.md §7): options, validated once, and its maps on n*d arrays of tokens.
 *
 * @param {object} options
 * @param {object} options.kernel  a spec of BLOCK_KERNEL_TYPES (with beta and n labels in aux)
 * @param {"n"|"rescaled"|"softmax"} [options.normalisation="n"]
 * @param {"rotated"|"unrotated"} [options.values="rotated"]
 * @param {?Array} [options.query=null]  Q (d × d, nested or flat row-major); null = identity
 * @param {?Array} [options.key=null]  K
 * @param {?Array} [options.value=null]  V
 * @param {"none"|"causal"} [options.mask="none"]
 * @param {"flow"|"layers"} [options.depth="flow"]
 * @param {"rms"|"layer"} [options.norm="rms"]
 * @param {number} [options.step=0.05]  Heun step or layer step h, in (0, 1]
 * @param {number} n
 * @param {number} d
 * @returns {object} {n, d, beta, options, direction(X, out), flowField(X, out), layer(X, out), advance(X, dt)}
 */
export function createBlock(options, n, d) {
  if (options === null || typeof options !== "object") throw new TypeError("options must be an object {kernel, ...}");
  const {
    kernel, normalisation = "n", values = "rotated", query = null, key = null, value = null,
    mask = "none", depth = "flow", norm = "rms", step = 0.05,
  } = options;
  if (kernel === null || typeof kernel !== "object") throw new TypeError("options.kernel must be a kernel spec object");
  checkChoice(kernel.type, "options.kernel.type", BLOCK_KERNEL_TYPES);
  checkChoice(normalisation, "options.normalisation", NORMALISATIONS);
  checkChoice(values, "options.values", VALUES);
  checkChoice(mask, "options.mask", MASKS);
  checkChoice(depth, "options.depth", DEPTHS);
  checkChoice(norm, "options.norm", NORMS);
  if (!(Number.isFinite(step) && step > 0 && step <= 1)) throw new RangeError(`options.step must be in (0, 1], got ${step}`);
  if (norm === "layer" && d < 3) throw new RangeError(`LayerNorm needs d >= 3, got d = ${d}`);
  const beta = kernel.beta;
  if (!(Number.isFinite(beta) && beta > 0)) throw new RangeError(`options.kernel.beta must be a number > 0, got ${beta}`);
  const G = gaugeMatrices(kernel, n, d);
  const Q = matrixOrNull(query, "options.query", d);
  const K = matrixOrNull(key, "options.key", d);
  const V = matrixOrNull(value, "options.value", d);
  const rotated = G !== null && values === "rotated";

  const queries = new Float64Array(n * d);
  const keys = new Float64Array(n * d);
  const vals = new Float64Array(n * d);
  const weights = new Float64Array(n);
  const scratch = new Float64Array(d);

  function direction(X, out = new Float64Array(n * d)) {
    applyMatrix(Q, X, n, d, queries);
    applyMatrix(K, X, n, d, keys);
    applyMatrix(V, X, n, d, vals);
    if (G !== null) {
      applyTokenGauges(G, queries, n, d, false, queries, scratch);
      applyTokenGauges(G, keys, n, d, false, keys, scratch);
      if (rotated) applyTokenGauges(G, vals, n, d, false, vals, scratch);
    }
    for (let i = 0, row = 0; i < n; i++, row += d) {
      const last = mask === "causal" ? i : n - 1;
      let shift = beta;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += queries[row + c] * keys[j * d + c];
        weights[j] = beta * s;
      }
      if (normalisation === "softmax") {
        shift = -Infinity;
        for (let j = 0; j <= last; j++) shift = Math.max(shift, weights[j]);
      }
      let total = 0;
      for (let c = 0; c < d; c++) out[row + c] = 0;
      for (let j = 0; j <= last; j++) {
        const e = Math.exp(weights[j] - shift);
        total += e;
        for (let c = 0; c < d; c++) out[row + c] += e * vals[j * d + c];
      }
      const scale = normalisation === "softmax" ? 1 / total
        : normalisation === "rescaled" ? 1 / n : Math.exp(beta) / n;
      for (let c = 0; c < d; c++) out[row + c] *= scale;
    }
    if (rotated) applyTokenGauges(G, out, n, d, true, out, scratch); // G_iᵀ Σ_j a_ij G_j V x_j
    return out;
  }

  const A = new Float64Array(n * d);

  /** ẋ_i = P_{x_i} A_i (RMSNorm), P_{x_i} Π A_i (LayerNorm). */
  function flowField(X, out = new Float64Array(n * d)) {
    direction(X, A);
    for (let i = 0, row = 0; i < n; i++, row += d) {
      if (norm === "layer") centreRow(A, row, d);
      let inner = 0;
      for (let c = 0; c < d; c++) inner += X[row + c] * A[row + c];
      for (let c = 0; c < d; c++) out[row + c] = A[row + c] - inner * X[row + c];
    }
    return out;
  }

  function normaliseRows(Y) {
    for (let row = 0; row < n * d; row += d) {
      if (norm === "layer") centreRow(Y, row, d);
      let s = 0;
      for (let c = 0; c < d; c++) s += Y[row + c] * Y[row + c];
      const inv = 1 / Math.sqrt(s);
      for (let c = 0; c < d; c++) Y[row + c] *= inv;
    }
    return Y;
  }

  /** One layer N(x + h A(x)), h = step. */
  function layer(X, out = new Float64Array(n * d)) {
    direction(X, A);
    for (let k = 0; k < n * d; k++) out[k] = X[k] + step * A[k];
    return normaliseRows(out);
  }

  const k1 = new Float64Array(n * d);
  const k2 = new Float64Array(n * d);
  const trial = new Float64Array(n * d);

  /** X in place: one layer, or one projected Heun step of size dt (≤ step) normalised by N. */
  function advance(X, dt = step) {
    if (depth === "layers") {
      layer(X, trial);
      X.set(trial);
      return X;
    }
    flowField(X, k1);
    for (let k = 0; k < n * d; k++) trial[k] = X[k] + dt * k1[k];
    flowField(normaliseRows(trial), k2);
    for (let k = 0; k < n * d; k++) X[k] += 0.5 * dt * (k1[k] + k2[k]);
    return normaliseRows(X);
  }

  return Object.freeze({
    n, d, beta, options: Object.freeze({ ...options, normalisation, values, mask, depth, norm, step }),
    direction, flowField, layer, advance,
  });
}

function centreRow(Y, row, d) {
  let mean = 0;
  for (let c = 0; c < d; c++) mean += Y[row + c];
  mean /= d;
  for (let c = 0; c < d; c++) Y[row + c] -= mean;
}
