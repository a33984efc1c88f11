// Kernel specs → bound interactions: the browser twin of usaav/kernels.py and
// usaav/_pairwise.py (MODEL.md §3).
//
// A spec is the JSON dict of usaav.specs.to_spec ({type, aux, ...}); an
// interaction is what the dynamics need, with the same meaning as Python's
// `Interaction`. Every kernel is written K = c·e^σ·K̃ with a `prefactor` c and
// a `logScale` σ (1/β and β for the exponential kernels, 1 and 0 for
// Toeplitz), so that K̃ never overflows (MODEL.md §3, large β):
//
//   drift(X, out)  out_i = (1/n) Σ_j e^{−σ} ∇_x K(z_i, z_j)   (unprojected, MODEL.md §2)
//   pairSum(X)     Σ_{i,j} K̃(z_i, z_j), so E_n = c e^σ pairSum / (2n²)  (paper Def. 8)
//   gaugeFrame(X, out)  u_i = G(a_i) x_i (a copy of X for kernels without a gauge)
//   pairSumMax()   the largest possible pairSum where a theorem gives it (MODEL.md §4), else null
//
// Gauge kernels are evaluated in the gauge frame, as in the library: with
// u_i = G(a_i) x_i the kernel is the baseline, so one exponential sum in the
// u's followed by G(a_i)ᵀ gives every force (MODEL.md §3; paper eq. (6)).
// Each pair's exponential is computed once (the kernel is symmetric) with the
// shift −β and the distance bias's log-weight (tabulated at bind time) folded
// into its exponent:
//
//   F_i = (1/n) Σ_j w_ij exp(β(⟨u_i, u_j⟩ − 1) + log b_ij) u_j,
//
// b the distance bias (or 1), w a tabulated separated weight (or 1).

import { rotateInPlane } from "./sphere.js";

/** The spec types bindKernel understands (the table of usaav.specs). */
export const KERNEL_TYPES = Object.freeze([
  "usa", "distance_bias", "separated", "rope", "phase_field", "gauge", "prompts", "toeplitz",
]);

/** Largest |GᵀG − I| entry accepted for a gauge (usaav._validation.ORTHOGONAL_TOL). */
export const GAUGE_ORTHOGONALITY_TOL = 1e-8;

// ---------------------------------------------------------------------------
// Reading and checking specs (once, at bind time; the loops trust their input)
// ---------------------------------------------------------------------------

function describeValue(value) {
  if (value === null || value === undefined) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.length})`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}

function specNumber(spec, field, { positive = false } = {}) {
  const value = spec[field];
  if (typeof value !== "number") {
    throw new TypeError(`spec.${field} must be a number, got ${describeValue(value)}`);
  }
  if (!Number.isFinite(value) || (positive && !(value > 0))) {
    throw new RangeError(`spec.${field} must be a finite number${positive ? " > 0" : ""}, got ${value}`);
  }
  return value;
}

/** A flat Float64Array from nested arrays of the given shape, or from a flat array-like. */
function specTable(value, shape, field) {
  const size = shape.reduce((a, b) => a * b, 1);
  const flat = new Float64Array(size);
  const shapeText = `(${shape.join(", ")})`;
  if (value === null || typeof value !== "object") {
    throw new TypeError(`spec.${field} must be nested arrays of shape ${shapeText}, got ${describeValue(value)}`);
  }
  if (value.length === size && (ArrayBuffer.isView(value) || typeof value[0] === "number")) {
    flat.set(value);
  } else {
    let k = 0;
    const walk = (node, depth, path) => {
      if (node === null || typeof node !== "object" || node.length !== shape[depth]) {
        throw new RangeError(
          `spec.${field}${path} must have length ${shape[depth]} (shape ${shapeText}), got ${describeValue(node)}`,
        );
      }
      for (let i = 0; i < shape[depth]; i++) {
        if (depth + 1 < shape.length) walk(node[i], depth + 1, `${path}[${i}]`);
        else flat[k++] = node[i];
      }
    };
    walk(value, 0, "");
  }
  for (let k = 0; k < size; k++) {
    if (!Number.isFinite(flat[k])) {
      throw new RangeError(`spec.${field} must hold finite numbers; entry ${k} (flat order) is ${flat[k]}`);
    }
  }
  return flat;
}

function specAux(spec, n) {
  if (spec.aux === undefined || spec.aux === null) {
    throw new TypeError(`spec.aux must be an array of ${n} labels, got ${describeValue(spec.aux)}`);
  }
  return specTable(spec.aux, [n], "aux");
}

function checkPositions(aux, type) {
  for (let i = 0; i < aux.length; i++) {
    if (!(aux[i] >= 0 && aux[i] <= 1)) {
      throw new RangeError(`spec.aux must hold positions in [0, 1] for "${type}", got aux[${i}] = ${aux[i]}`);
    }
  }
  return aux;
}

function specPlane(spec, d) {
  const plane = spec.plane === undefined ? [0, 1] : spec.plane;
  if (plane === null || typeof plane !== "object" || plane.length !== 2) {
    throw new TypeError(`spec.plane must be a pair of axes [p, q], got ${describeValue(plane)}`);
  }
  const [p, q] = plane;
  if (!Number.isInteger(p) || !Number.isInteger(q) || p < 0 || q < 0 || p === q || Math.max(p, q) >= d) {
    throw new RangeError(`spec.plane must be two distinct axes below d = ${d}, got [${p}, ${q}]`);
  }
  return [p, q];
}

function checkOrthogonal(matrices, count, d, field) {
  let worst = 0;
  let offender = -1;
  for (let k = 0; k < count; k++) {
    const base = k * d * d;
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        let inner = 0;
        for (let r = 0; r < d; r++) inner += matrices[base + r * d + a] * matrices[base + r * d + b];
        const defect = Math.abs(inner - (a === b ? 1 : 0));
        if (defect > worst) {
          worst = defect;
          offender = k;
        }
      }
    }
  }
  if (worst > GAUGE_ORTHOGONALITY_TOL) {
    throw new RangeError(
      `spec.${field} must be orthogonal matrices; max |GᵀG − I| = ${worst.toExponential(1)} > tol ` +
        `${GAUGE_ORTHOGONALITY_TOL} (first offender at index ${offender})`,
    );
  }
  return matrices;
}

// ---------------------------------------------------------------------------
// The exponential pair sums (the twin of usaav._pairwise.exp_attention)
// ---------------------------------------------------------------------------

/**
 * The n×n table of log b(a_i, a_j) of the distance bias (MODEL.md §3; paper
 * Ex. 2, 4): −dist/ℓ ("exponential") or −dist²/(2ℓ²) ("gaussian"), dist the
 * periodic distance on the torus R/Z (usaav.kernels.periodic_distance).
 * Tabulated once at bind time: the pair loops then add one entry to the
 * exponent (measured 15% faster than computing the distance in the loop,
 * 30% faster than calling a helper there).
 */
function distanceBiasLogWeights(positions, length, gaussian) {
  const n = positions.length;
  const table = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let r = positions[i] - positions[j];
      r -= Math.floor(r);
      const scaled = Math.min(r, 1 - r) / length;
      table[i * n + j] = gaussian ? -0.5 * scaled * scaled : -scaled;
    }
  }
  return table;
}

/**
 * Accumulate F_i = (1/n) Σ_j w_ij exp(⟨s_i, s_j⟩ − β + log b_ij) u_j into
 * `force` and return S = Σ_{i,j} w_ij exp(...), visiting each unordered pair
 * once (module header). s = √β u, as in the library, so the exponent is
 * β(⟨u_i, u_j⟩ − 1) ≤ 0 up to rounding: nothing overflows for any β.
 *
 * @param {Float64Array} S  n*d scaled points √β u
 * @param {Float64Array} U  n*d points u (gauge frame)
 * @param {number} n
 * @param {number} d
 * @param {number} beta
 * @param {?Float64Array} logWeights  n*n table of the distance bias's log b (symmetric), or null
 * @param {?Float64Array} weights  n*n separated weights (symmetric), or null
 * @param {Float64Array} force  n*d output
 * @returns {number} S
 */
function exponentialPairSums(S, U, n, d, beta, logWeights, weights, force) {
  force.fill(0);
  if (d === 3) return pairSums3(S, U, n, beta, logWeights, weights, force);
  let total = 0;
  for (let i = 0, ri = 0; i < n; i++, ri += d) {
    for (let j = i, rj = ri; j < n; j++, rj += d) {
      let exponent = 0;
      for (let c = 0; c < d; c++) exponent += S[ri + c] * S[rj + c];
      exponent -= beta;
      if (logWeights !== null) exponent += logWeights[i * n + j];
      let e = Math.exp(exponent);
      if (weights !== null) e *= weights[i * n + j];
      if (j === i) {
        total += e;
        for (let c = 0; c < d; c++) force[ri + c] += e * U[ri + c];
      } else {
        total += 2 * e;
        for (let c = 0; c < d; c++) {
          force[ri + c] += e * U[rj + c];
          force[rj + c] += e * U[ri + c];
        }
      }
    }
  }
  for (let k = 0; k < n * d; k++) force[k] /= n;
  return total;
}

/** exponentialPairSums for d = 3, unrolled: the common case, about 1.5–2× faster than the loop over d. */
function pairSums3(S, U, n, beta, logWeights, weights, force) {
  let total = 0;
  for (let i = 0, ri = 0; i < n; i++, ri += 3) {
    const s0 = S[ri];
    const s1 = S[ri + 1];
    const s2 = S[ri + 2];
    const u0 = U[ri];
    const u1 = U[ri + 1];
    const u2 = U[ri + 2];
    let diagonal = Math.exp(s0 * s0 + s1 * s1 + s2 * s2 - beta + (logWeights === null ? 0 : logWeights[i * n + i]));
    if (weights !== null) diagonal *= weights[i * n + i];
    total += diagonal;
    let f0 = diagonal * u0;
    let f1 = diagonal * u1;
    let f2 = diagonal * u2;
    for (let j = i + 1, rj = ri + 3; j < n; j++, rj += 3) {
      let exponent = s0 * S[rj] + s1 * S[rj + 1] + s2 * S[rj + 2] - beta;
      if (logWeights !== null) exponent += logWeights[i * n + j];
      let e = Math.exp(exponent);
      if (weights !== null) e *= weights[i * n + j];
      total += 2 * e;
      f0 += e * U[rj];
      f1 += e * U[rj + 1];
      f2 += e * U[rj + 2];
      force[rj] += e * u0;
      force[rj + 1] += e * u1;
      force[rj + 2] += e * u2;
    }
    force[ri] += f0;
    force[ri + 1] += f1;
    force[ri + 2] += f2;
  }
  for (let k = 0; k < 3 * n; k++) force[k] /= n;
  return total;
}

// ---------------------------------------------------------------------------
// Gauge frames: u = G(a) x and back, F ↦ G(a)ᵀ F
// ---------------------------------------------------------------------------

/** Row i ↦ G_{index[i]} x_i (or its transpose), G row-major d×d matrices. */
function applyGauges(matrices, index, transpose, X, n, d, out) {
  const row = new Float64Array(d);
  for (let i = 0, ri = 0; i < n; i++, ri += d) {
    const base = (index === null ? i : index[i]) * d * d;
    for (let r = 0; r < d; r++) {
      let sum = 0;
      if (transpose) for (let c = 0; c < d; c++) sum += matrices[base + c * d + r] * X[ri + c];
      else for (let c = 0; c < d; c++) sum += matrices[base + r * d + c] * X[ri + c];
      row[r] = sum;
    }
    for (let r = 0; r < d; r++) out[ri + r] = row[r];
  }
  return out;
}

function matrixFrame(matrices, index, n, d) {
  return {
    toGauge: (X, out) => applyGauges(matrices, index, false, X, n, d, out),
    fromGauge: (F, out) => applyGauges(matrices, index, true, F, n, d, out),
  };
}

function planeFrame(angles, plane, n, d) {
  const inverse = angles.map((angle) => -angle);
  return {
    toGauge: (X, out) => rotateInPlane(X, angles, plane, n, d, out),
    fromGauge: (F, out) => rotateInPlane(F, inverse, plane, n, d, out),
  };
}

// ---------------------------------------------------------------------------
// Interactions
// ---------------------------------------------------------------------------

/** The interaction of an exponential kernel (baseline, weighted or gauge). */
function exponentialInteraction({ spec, n, d, beta, aux, frame = null, logWeights = null, weights = null, maximum }) {
  const sqrtBeta = Math.sqrt(beta);
  const U = new Float64Array(n * d);
  const S = new Float64Array(n * d);
  const F = new Float64Array(n * d);

  function sums(X) {
    const u = frame === null ? X : frame.toGauge(X, U);
    for (let k = 0; k < n * d; k++) S[k] = sqrtBeta * u[k];
    return exponentialPairSums(S, u, n, d, beta, logWeights, weights, F);
  }

  return Object.freeze({
    type: spec.type,
    spec,
    aux,
    n,
    d,
    logScale: beta,
    prefactor: 1 / beta,
    drift(X, out = new Float64Array(n * d)) {
      sums(X);
      return frame === null ? copyInto(F, out) : frame.fromGauge(F, out);
    },
    pairSum: sums,
    gaugeFrame(X, out = new Float64Array(n * d)) {
      return frame === null ? copyInto(X, out) : frame.toGauge(X, out);
    },
    pairSumMax: () => maximum,
  });
}

function copyInto(source, out) {
  if (out !== source) out.set(source);
  return out;
}

/** Σ_{i,j} b_ij for the distance bias: the pair sum of a constant configuration (Prop. 11). */
function biasWeightTotal(logWeights) {
  return logWeights.reduce((total, logWeight) => total + Math.exp(logWeight), 0);
}

/**
 * The fractional part {k·s} in [0, 1) of an integer mode times a position, to one rounding: the Toeplitz
 * phase is 2π{k·s} (MODEL.md §3, Prop. 10), the library's `usaav.kernels.mode_turns` step for step.
 * Veltkamp's split s = high + low (29 and 24 significant bits) makes k·high and k·low exact for
 * integer 0 ≤ k ≤ 2^24; the fractional part of the first is exact and its sum with the second is
 * rounded once (within 2^-53 of {k·s} on the circle of turns).  For larger
 * k (the library refuses them) the products are rounded and the phase carries an error ~2π·k·2^-53.
 * @param {number} s  position
 * @param {number} k  integer mode
 * @returns {number}
 */
export function modeTurns(s, k) {
  const scaled = 16777217 * s; // (2^24 + 1) s
  const high = scaled - (scaled - s);
  const low = s - high;
  const productHigh = high * k;
  const productLow = low * k;
  // |k·low| < 2^-5 is added as it is: its own fractional part would round when it is negative.
  const turns = (productHigh - Math.floor(productHigh)) + productLow;
  return turns - Math.floor(turns);
}

// Largest relative asymmetry of separated weights, as usaav.kernels.SYMMETRY_RTOL (the tiled
// sums use one triangle of the pairs: an asymmetric table would be silently symmetrised).
const SYMMETRY_RTOL = 1e-12;
// Highest Toeplitz mode, as usaav.kernels.Toeplitz.MAX_MODE: up to it the phase 2π{k·s} is
// reduced exactly (modeTurns); beyond, k·s would no longer be formed exactly.
const MAX_MODE = 2 ** 24;
// A Toeplitz key in canonical decimal, one key per mode (the library reads the same pattern).
const CANONICAL_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * Refuse a per-particle table whose rows differ between particles with the same label.
 *
 * Row i of `table` (width entries) belongs to particle i; the library looks
 * the values up by label, so particles with one label must carry one row
 * (and, for the n × n weights, `square`, one column) — else the two would
 * compute different forces from the same spec.
 */
function checkFunctionOfLabels(table, aux, n, width, field, square = false) {
  const firstOf = new Map();
  const representative = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!firstOf.has(aux[i])) firstOf.set(aux[i], i);
    representative[i] = firstOf.get(aux[i]);
  }
  const refuse = (i, j) => {
    throw new RangeError(
      `spec.${field} must be a function of the labels: aux[${j}] = aux[${i}] = ${aux[i]} but ${field}[${j}] and ${field}[${i}] differ`,
    );
  };
  for (let i = 0; i < n; i++) {
    const j = representative[i];
    for (let c = 0; c < width && j !== i; c++) if (table[i * width + c] !== table[j * width + c]) refuse(i, j);
  }
  if (!square) return;
  for (let i = 0; i < n; i++) {
    const j = representative[i];
    for (let r = 0; r < n && j !== i; r++) if (table[r * n + i] !== table[r * n + j]) refuse(i, j);
  }
}

function toeplitzInteraction(spec, n, d, aux) {
  const coefficients = spec.coefficients;
  if (coefficients === null || typeof coefficients !== "object" || Array.isArray(coefficients)) {
    throw new TypeError(`spec.coefficients must be an object {"k": c_k}, got ${describeValue(coefficients)}`);
  }
  const entries = Object.entries(coefficients)
    .map(([key, value]) => {
      const k = Number(key);
      if (!CANONICAL_KEY.test(key)) {
        throw new RangeError(
          `spec.coefficients keys must be integers k >= 0, got "${key}" (canonical decimal: "0", "12"; not "01", " 1", "+1" or "1_0")`,
        );
      }
      if (k > MAX_MODE) throw new RangeError(`spec.coefficients keys must be integers k <= ${MAX_MODE}, got ${key}`);
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new TypeError(`spec.coefficients["${key}"] must be a finite number, got ${describeValue(value)}`);
      }
      return [k, value];
    })
    .sort((a, b) => a[0] - b[0]);
  if (entries.length === 0) throw new RangeError("spec.coefficients must hold at least one mode");
  const modes = entries.length;
  const amplitudes = Float64Array.from(entries, ([, c]) => c);
  // cos 2πk(a−b) = cos 2πka cos 2πkb + sin 2πka sin 2πkb (paper Prop. 10): O(n·modes·d).
  const cosTable = new Float64Array(n * modes);
  const sinTable = new Float64Array(n * modes);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < modes; m++) {
      const phase = 2 * Math.PI * modeTurns(aux[i], entries[m][0]); // reduced exactly, as in the library
      cosTable[i * modes + m] = Math.cos(phase);
      sinTable[i * modes + m] = Math.sin(phase);
    }
  }
  // ĉ(0) = c_0, ĉ(±k) = c_k/2; mean-field maximum ½ max(0, max ĉ), pair sum n² max(0, max ĉ).
  const bestFourier = Math.max(0, ...entries.map(([k, c]) => (k === 0 ? c : c / 2)));
  const cosMoments = new Float64Array(modes * d);
  const sinMoments = new Float64Array(modes * d);

  function moments(X) {
    cosMoments.fill(0);
    sinMoments.fill(0);
    for (let j = 0; j < n; j++) {
      for (let m = 0; m < modes; m++) {
        const cj = cosTable[j * modes + m];
        const sj = sinTable[j * modes + m];
        for (let c = 0; c < d; c++) {
          cosMoments[m * d + c] += cj * X[j * d + c];
          sinMoments[m * d + c] += sj * X[j * d + c];
        }
      }
    }
  }

  return Object.freeze({
    type: spec.type,
    spec,
    aux,
    n,
    d,
    logScale: 0,
    prefactor: 1,
    drift(X, out = new Float64Array(n * d)) {
      moments(X);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < d; c++) {
          let sum = 0;
          for (let m = 0; m < modes; m++) {
            sum += amplitudes[m] * (cosTable[i * modes + m] * cosMoments[m * d + c] +
              sinTable[i * modes + m] * sinMoments[m * d + c]);
          }
          out[i * d + c] = sum / n;
        }
      }
      return out;
    },
    pairSum(X) {
      moments(X);
      let total = 0;
      for (let m = 0; m < modes; m++) {
        let squares = 0;
        for (let c = 0; c < d; c++) {
          squares += cosMoments[m * d + c] ** 2 + sinMoments[m * d + c] ** 2;
        }
        total += amplitudes[m] * squares;
      }
      return total;
    },
    gaugeFrame: (X, out = new Float64Array(n * d)) => copyInto(X, out),
    pairSumMax: () => n * n * bestFourier,
  });
}

/**
 * Bind a kernel spec (usaav.specs.to_spec) to n particles in dimension d.
 *
 * Spec types and fields (as usaav.specs): "usa" {beta}; "distance_bias"
 * {beta, length, profile}; "separated" {beta, weights n×n}; "rope" {beta,
 * theta, plane}; "phase_field" {beta, phases (n angles), plane}; "gauge"
 * {beta, gauges (n matrices d×d)}; "prompts" {beta, gauges (m matrices d×d)},
 * aux = prompt ids; "toeplitz" {coefficients {"k": c_k}}. Every spec has
 * `aux`, n labels. Matrices may be nested arrays (JSON) or flat row-major
 * arrays (e.g. from haarRotations).
 *
 * @param {object} spec
 * @param {number} n  number of particles
 * @param {number} d  dimension of the ambient space (points on S^{d−1})
 * @returns {object} interaction {type, spec, aux, n, d, logScale, prefactor,
 *   drift(X, out), pairSum(X), gaugeFrame(X, out), pairSumMax()} (module header)
 */
export function bindKernel(spec, n, d) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`);
  if (!Number.isInteger(d) || d < 2) throw new RangeError(`d must be an integer >= 2, got ${d}`);
  if (spec === null || typeof spec !== "object") {
    throw new TypeError(`spec must be a kernel spec object {type, aux, ...}, got ${describeValue(spec)}`);
  }
  if (!KERNEL_TYPES.includes(spec.type)) {
    throw new RangeError(`spec.type must be one of ${KERNEL_TYPES.join(", ")}; got ${describeValue(spec.type)}`);
  }
  const aux = specAux(spec, n);
  if (spec.type === "toeplitz") return toeplitzInteraction(spec, n, d, checkPositions(aux, spec.type));
  const beta = specNumber(spec, "beta", { positive: true });
  const common = { spec, n, d, beta, aux };
  switch (spec.type) {
    case "usa":
      return exponentialInteraction({ ...common, maximum: n * n });
    case "distance_bias": {
      const length = specNumber(spec, "length", { positive: true });
      const profile = spec.profile === undefined ? "exponential" : spec.profile;
      if (profile !== "exponential" && profile !== "gaussian") {
        throw new RangeError(`spec.profile must be "exponential" or "gaussian", got ${describeValue(profile)}`);
      }
      const logWeights = distanceBiasLogWeights(checkPositions(aux, spec.type), length, profile === "gaussian");
      return exponentialInteraction({ ...common, logWeights, maximum: biasWeightTotal(logWeights) });
    }
    case "separated": {
      const weights = specTable(spec.weights, [n, n], "weights");
      checkFunctionOfLabels(weights, aux, n, n, "weights", true);
      let smallest = Infinity;
      let total = 0;
      let largest = 0;
      for (let k = 0; k < n * n; k++) largest = Math.max(largest, Math.abs(weights[k]));
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const w = weights[i * n + j];
          const mirror = weights[j * n + i];
          // The library's rule (usaav.kernels.SYMMETRY_RTOL): relative 1e-12, floored at the largest |w|.
          if (Math.abs(w - mirror) > SYMMETRY_RTOL * Math.max(Math.abs(w), Math.abs(mirror), largest)) {
            throw new RangeError(`spec.weights must be symmetric; weights[${i}][${j}] = ${w} but weights[${j}][${i}] = ${mirror}`);
          }
          smallest = Math.min(smallest, w);
          total += w;
        }
      }
      // w ≥ 0: a constant configuration maximises the energy (Prop. 11); otherwise no known maximum.
      return exponentialInteraction({ ...common, weights, maximum: smallest >= 0 ? total : null });
    }
    case "rope": {
      const theta = specNumber(spec, "theta");
      const angles = checkPositions(aux, spec.type).map((s) => theta * s);
      return exponentialInteraction({ ...common, frame: planeFrame(angles, specPlane(spec, d), n, d), maximum: n * n });
    }
    case "phase_field": {
      checkPositions(aux, spec.type);
      const phases = specTable(spec.phases, [n], "phases");
      checkFunctionOfLabels(phases, aux, n, 1, "phases");
      return exponentialInteraction({ ...common, frame: planeFrame(phases, specPlane(spec, d), n, d), maximum: n * n });
    }
    case "gauge": {
      const gauges = checkOrthogonal(specTable(spec.gauges, [n, d, d], "gauges"), n, d, "gauges");
      checkFunctionOfLabels(gauges, aux, n, d * d, "gauges");
      return exponentialInteraction({ ...common, frame: matrixFrame(gauges, null, n, d), maximum: n * n });
    }
    case "prompts": {
      const gauges = spec.gauges;
      const count = gauges !== null && typeof gauges === "object" && !ArrayBuffer.isView(gauges) &&
        typeof gauges[0] === "object" ? gauges.length : Math.floor((gauges?.length ?? 0) / (d * d));
      const matrices = checkOrthogonal(specTable(gauges, [count, d, d], "gauges"), count, d, "gauges");
      const ids = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (!Number.isInteger(aux[i]) || aux[i] < 0 || aux[i] >= count) {
          throw new RangeError(`spec.aux must hold prompt ids in 0..${count - 1} (there are ${count} gauges), got aux[${i}] = ${aux[i]}`);
        }
        ids[i] = aux[i];
      }
      return exponentialInteraction({ ...common, frame: matrixFrame(matrices, ids, n, d), maximum: n * n });
    }
    default:
      throw new Error(`unreachable: ${spec.type}`);
  }
}

/**
 * The energy E_n = (1/2n²) Σ_{i,j} K(z_i, z_j) (MODEL.md §2, paper Def. 8).
 *
 * @param {object} interaction  from bindKernel
 * @param {Float64Array} X  n*d unit rows
 * @param {"raw"|"rescaled"} [clock="raw"]  "rescaled" divides by e^σ (MODEL.md §3), finite for any β
 * @returns {number}
 */
export function energy(interaction, X, clock = "raw") {
  const scale = interaction.prefactor * clockFactor(interaction, clock);
  return (scale * interaction.pairSum(X)) / (2 * interaction.n * interaction.n);
}

/**
 * The factor e^σ of the raw clock, 1 in the rescaled clock t' = e^σ t (MODEL.md §3).
 *
 * @param {object} interaction
 * @param {"raw"|"rescaled"} clock
 * @returns {number}
 */
export function clockFactor(interaction, clock) {
  if (clock === "raw") return Math.exp(interaction.logScale);
  if (clock === "rescaled") return 1;
  throw new RangeError(`clock must be "raw" or "rescaled", got ${describeValue(clock)}`);
}

// ---------------------------------------------------------------------------
// Specs built in the browser (no Python needed)
// ---------------------------------------------------------------------------

/**
 * The RoPE spec, gauge G(s) = R_{θs} in `plane` (MODEL.md §3; paper Ex. 3, Thm. 1).
 *
 * @param {number} beta
 * @param {number} theta  2π closes the orbit (Cor. 1)
 * @param {ArrayLike<number>} positions  n labels in [0, 1]
 * @param {number[]} [plane=[0, 1]]
 * @returns {object} spec
 */
export function ropeSpec(beta, theta, positions, plane = [0, 1]) {
  return { type: "rope", beta, theta, plane: [...plane], aux: Array.from(positions) };
}

/**
 * A JSON-ready copy of a spec: typed arrays become plain (nested) arrays, so
 * JSON.stringify gives what usaav.specs.from_spec reads (matrices as nested
 * d×d lists, separated weights as n lists of n).
 *
 * @param {object} spec
 * @param {number} d
 * @returns {object}
 */
export function plainSpec(spec, d) {
  const nest = (flat, rows, cols) =>
    Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * cols, (r + 1) * cols)));
  const plain = {};
  for (const [field, value] of Object.entries(spec)) {
    if (!ArrayBuffer.isView(value) && !(Array.isArray(value) && typeof value[0] === "number")) {
      plain[field] = value;
    } else if (field === "gauges") {
      const flat = Float64Array.from(value);
      const count = flat.length / (d * d);
      plain[field] = Array.from({ length: count }, (_, k) => nest(flat.subarray(k * d * d, (k + 1) * d * d), d, d));
    } else if (field === "weights") {
      const flat = Float64Array.from(value);
      const rows = Math.round(Math.sqrt(flat.length));
      plain[field] = nest(flat, rows, rows);
    } else {
      plain[field] = Array.from(value);
    }
  }
  return plain;
}
