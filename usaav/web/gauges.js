// Gauges, the browser twin of usaav/gauges.py and of the gauge constructions
// of usaav/maximizers.py: Householder gauges for targets (Thm. 4 (ii)), the
// prompt gauge layouts (Cor. 2), the points G_pᵀ v they give, and the wavy
// generalised-RoPE gauge of MODEL.md §6.2 (v).  tests/js/gauges.test.mjs and
// tests/js/kernels.test.mjs check them against the Python library.
//
// Pure functions on Float64Arrays (row-major, like NumPy (n, d, d) arrays);
// the only randomness is the seeded generator of random.js.

import { haarRotations } from "./random.js";
import { rotationMatrix } from "./sphere.js";

// ---------------------------------------------------------------------------
// Gauges for targets (Thm. 4 (ii))
// ---------------------------------------------------------------------------

/** Below this |w|² = |v − T|² the Householder gauge is the identity (as usaav.maximizers.gauge_for_targets). */
export const HOUSEHOLDER_MIN_SQUARED = 2.220446049250313e-16;

/**
 * Householder gauges G_p = I − 2wwᵀ/|w|², w = v − T_p, so that G_pᵀ v = T_p
 * (Thm. 4 (ii); the identity where |w|² ≤ machine epsilon).
 *
 * @param {ArrayLike<number>} v  unit d-vector
 * @param {Float64Array} T  m*d unit targets
 * @returns {Float64Array} m*d*d symmetric orthogonal matrices
 */
export function householderGauges(v, T, m, d = v.length) {
  const G = new Float64Array(m * d * d);
  const w = new Float64Array(d);
  for (let p = 0; p < m; p++) {
    let norm2 = 0;
    for (let c = 0; c < d; c++) {
      w[c] = v[c] - T[p * d + c];
      norm2 += w[c] * w[c];
    }
    const offset = p * d * d;
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) {
        const identity = r === c ? 1 : 0;
        G[offset + r * d + c] = norm2 > HOUSEHOLDER_MIN_SQUARED ? identity - (2 * w[r] * w[c]) / norm2 : identity;
      }
    }
  }
  return G;
}

// ---------------------------------------------------------------------------
// Finitely many prompts (Cor. 2)
// ---------------------------------------------------------------------------

export const PROMPT_LAYOUTS = Object.freeze(["random rotations", "phases in one plane", "random phases", "only two distinct gauges"]);

/**
 * m gauges in SO(3) for a layout of PROMPT_LAYOUTS (usaav.gauges.prompt_gauges;
 * the random ones come from random.js, not from NumPy's generator).
 *
 * @returns {Float64Array} m*9
 */
export function promptGauges(m, layout, rng) {
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`m must be an integer >= 1, got ${m}`);
  if (!PROMPT_LAYOUTS.includes(layout)) throw new Error(`layout must be one of ${PROMPT_LAYOUTS.join(", ")}, got ${layout}`);
  const G = new Float64Array(9 * m);
  if (layout === "phases in one plane" || layout === "random phases") {
    for (let p = 0; p < m; p++) {
      const phase = layout === "random phases" ? 2 * Math.PI * rng.uniform() : (2 * Math.PI * p) / m;
      G.set(rotationMatrix(phase, 3, [0, 1]), 9 * p);
    }
    return G;
  }
  if (layout === "random rotations") return haarRotations(m, 3, rng);
  const pair = haarRotations(2, 3, rng);
  for (let p = 0; p < m; p++) G.set(pair.subarray(9 * (p % 2), 9 * (p % 2) + 9), 9 * p);
  return G;
}

/** Points G_pᵀ v, one row per gauge (usaav.maximizers.gauge; Thm. 4 (i), Cor. 2). */
export function gaugeImages(v, G, m, d = v.length) {
  const out = new Float64Array(m * d);
  for (let p = 0; p < m; p++) {
    for (let c = 0; c < d; c++) {
      let sum = 0;
      for (let r = 0; r < d; r++) sum += G[p * d * d + r * d + c] * v[r];
      out[p * d + c] = sum;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The generalised RoPE gauge (MODEL.md §6.2 (v))
// ---------------------------------------------------------------------------

/**
 * Gauges of the generalised RoPE G(s) = R^{(12)}_{2πs} R^{(13)}_{α sin 2πms}
 * (MODEL.md §3, §6.2 (v)): the maximiser traces a wavy closed curve. Axes 1,
 * 2, 3 of the paper are 0, 1, 2 here, as in usaav.gauges.WavyGauge.
 *
 * @param {ArrayLike<number>} positions  n labels s_i
 * @param {number} alpha  amplitude α
 * @param {number} m  frequency
 * @param {number} [d=3]  dimension, at least 3
 * @returns {Float64Array} n*d*d, matrix i row-major at offset i*d*d (spec.gauges of a "gauge" spec)
 */
export function generalizedRopeGauges(positions, alpha, m, d = 3) {
  if (!Number.isInteger(d) || d < 3) throw new RangeError(`d must be an integer >= 3, got ${d}`);
  const n = positions.length;
  const out = new Float64Array(n * d * d);
  for (let i = 0; i < n; i++) {
    const s = positions[i];
    const first = rotationMatrix(2 * Math.PI * s, d, [0, 1]);
    const second = rotationMatrix(alpha * Math.sin(2 * Math.PI * m * s), d, [0, 2]);
    const base = i * d * d;
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) {
        let sum = 0;
        for (let k = 0; k < d; k++) sum += first[r * d + k] * second[k * d + c];
        out[base + r * d + c] = sum;
      }
    }
  }
  return out;
}
