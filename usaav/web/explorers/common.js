// Small pieces shared by the explorer definitions: labels, colours, the
// raw-clock step, the scenarios of MODEL.md §6.2 from the table Python passes
// in the options.  Pure functions; every formula cites MODEL.md.

import { sliderControl } from "../controls.js";
import { ropeSpec } from "../kernels.js";
import { scenarioSpec } from "../scenarios.js";
import { rotationMatrix } from "../sphere.js";
import { PALETTE } from "../view.js";

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

/**
 * The row `key` of the scenario table (usaav.scenarios.as_json()) that the
 * explorer's Python constructor passes as `options.scenarios`.
 */
export function scenarioRow(options, key) {
  const rows = options.scenarios;
  if (!Array.isArray(rows)) {
    throw new TypeError("this explorer builds its kernels from the scenario table of usaav.scenarios.as_json(), "
      + "which its Python constructor (usaav.explorers) passes as options.scenarios; the options have none");
  }
  const row = rows.find((r) => r.key === key);
  if (!row) throw new RangeError(`scenario must be one of ${rows.map((r) => r.key).join(", ")}, got ${key}`);
  return row;
}

/**
 * Kernel spec and colours of scenario `key` for n particles
 * (usaav.scenarios.setup): the row's parameters, updated by the explorer's
 * overrides from Python (`options.overrides[key]`), then by `parameters`
 * (the explorer's controls); β only where the scenario has one (Toeplitz has
 * none).  `rng` draws random prompt gauges.
 *
 * @returns {{spec, colour, row, parameters}}
 */
export function scenarioSystem(options, key, n, { beta, parameters = {}, rng = null } = {}) {
  const row = scenarioRow(options, key);
  const updates = { ...(options.overrides?.[key] ?? {}), ...parameters };
  if (beta !== undefined && "beta" in row.parameters) updates.beta = beta;
  const built = scenarioSpec(row, n, updates, rng);
  const colour = row.labels === "prompt ids"
    ? promptColour(built.values, built.parameters.n_prompts)
    : positionColour(built.values);
  return { spec: built.spec, colour, row, parameters: built.parameters };
}

/**
 * Keys, short names and titles of the scenarios of MODEL.md §6.2, in the
 * order (i)–(vi) of usaav.scenarios.TABLE: the labels of drop-downs, readouts
 * and chart legends, which exist before any options arrive.  Their parameters
 * come from Python (scenarioSystem); tests/test_explorers.py checks that
 * these labels are the table's.
 */
export const SCENARIO_LABELS = Object.freeze([
  ["baseline", "baseline", "(i) baseline USA"],
  ["distance_bias", "distance bias", "(ii) distance bias"],
  ["toeplitz", "Toeplitz", "(iii) Toeplitz"],
  ["rope", "RoPE", "(iv) RoPE"],
  ["generalized_rope", "generalized RoPE", "(v) generalised RoPE"],
  ["prompts", "prompts", "(vi) fixed prompts"],
].map(([key, name, title]) => Object.freeze({ key, name, title })));

/** The β slider; its value is printed with as many decimals as its step has. */
export function betaControl({ min, max, step, value, ...rest }) {
  const digits = Number.isInteger(step) ? 0 : String(step).split(".")[1].length;
  return sliderControl("beta", "β", { min, max, step, value, format: (v) => v.toFixed(digits), ...rest });
}

/** The slider of the number of tokens n. */
export function tokensControl({ min, max, step, value }) {
  return sliderControl("n", "tokens n", { min, max, step, value, integer: true });
}

/** The seed slider, 0 to `max`: the generator of the initial cloud (and of random gauges). */
export function seedControl(max) {
  return sliderControl("seed", "seed", { min: 0, max, step: 1, value: 0, integer: true });
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
