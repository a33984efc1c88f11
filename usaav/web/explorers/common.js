// Small pieces shared by the explorer definitions: labels, colours, the
// raw-clock step, the standard kernel specs of the book's set-ups.  Pure
// functions; every formula cites MODEL.md.

import { ropeSpec } from "../kernels.js";
import { rotationMatrix } from "../sphere.js";
import { PALETTE } from "../view.js";

/** Positions s_i = i/n, i = 0..n-1 (usaav.labels.grid_positions; MODEL.md §6.1). */
export function gridPositions(n) {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = i / n;
  return s;
}

/** Each of `labels` repeated `copies` times in blocks (usaav.labels.replicate). */
export function replicateLabels(labels, copies) {
  const out = new Float64Array(labels.length * copies);
  for (let i = 0; i < out.length; i++) out[i] = labels[Math.floor(i / copies)];
  return out;
}

/**
 * Heun step of the raw clock for inverse temperature β.  The velocity grows
 * like e^β (MODEL.md §3, "Large β"), so the step shrinks with it: h = 0.05
 * (MODEL.md §6.1) while 0.2 e^{-β} is larger, i.e. for β ≤ 1.4, and
 * h = 0.2 e^{-β} beyond, which keeps the step in the rescaled clock
 * t' = e^β t at 0.2.
 */
export function rawClockStep(beta) {
  return Math.min(0.05, 0.2 * Math.exp(-beta));
}

/** Colour by position s in [0, 1): viridis, with its colour bar. */
export function positionColour(positions) {
  return { kind: "continuous", values: positions, min: 0, max: 1, label: "position s", minLabel: "0", maxLabel: "1" };
}

/** Colour by prompt id: categorical for at most 10 prompts, viridis beyond. */
export function promptColour(ids, count) {
  if (count <= 10) {
    return { kind: "categorical", values: ids, label: "prompt", names: Array.from({ length: count }, (_, p) => String(p + 1)) };
  }
  return { kind: "continuous", values: ids, min: 0, max: count - 1, label: "prompt id", minLabel: "1", maxLabel: String(count) };
}

/** Rotations R^{(12)}_{φ_p} of the (x1, x2)-plane, one per angle, flat m*9 (MODEL.md §1). */
export function planeRotations(angles) {
  const out = new Float64Array(angles.length * 9);
  angles.forEach((phi, p) => out.set(rotationMatrix(phi, 3, [0, 1]), 9 * p));
  return out;
}

/** A baseline USA spec (labels carried along, ignored by the kernel; MODEL.md §3). */
export function baselineSpec(beta, positions) {
  return { type: "usa", beta, aux: Array.from(positions) };
}

/** RoPE with θ = 2π on positions (MODEL.md §3, Thm. 1). */
export function fullTurnRopeSpec(beta, positions) {
  return ropeSpec(beta, 2 * Math.PI, positions);
}

/** Exponential distance bias w(a, b) = e^{-d(a,b)/ℓ} on the torus (MODEL.md §3, Ex. 4). */
export function distanceBiasSpec(beta, positions, length) {
  return { type: "distance_bias", beta, length, profile: "exponential", aux: Array.from(positions) };
}

/** Series colours of the charts (usaav.plotting.PALETTE order). */
export const SERIES_COLOURS = Object.freeze([PALETTE.vermillion, PALETTE.blue, PALETTE.green, PALETTE.orange, PALETTE.purple, PALETTE.sky]);

/**
 * A chart of gaps against time on a log axis from 10⁻³² (round-off of a
 * squared distance) to 1: the collapse gap Γ and its kin (MODEL.md §6).
 */
export function gapChart(key, label, yLabel, series, extra = {}) {
  return { key, label, yLabel, xLabel: "t", log: true, yMin: 1e-32, yMax: 1, series, ...extra };
}
