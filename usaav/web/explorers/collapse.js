// Chapter 1: mode collapse and what prevents it.  One cloud of n tokens,
// uniform on S^2, runs under the kernel the reader picks (MODEL.md §2–§3):
// the baseline collapses to a point; RoPE (θ = 2π) and fixed prompts keep the
// tokens apart in the original frame while they collapse in the gauge frame
// u_i = G(a_i) x_i; a distance bias only slows the collapse down (Prop. 11).

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl } from "../controls.js";
import { collapseGap, gaugeGap, relativeEnergyGap } from "../observables.js";
import { makeRng } from "../random.js";
import { uniformSphere } from "../sphere.js";
import { SERIES_COLOURS, gapChart, rawClockStep } from "./common.js";
import { bookScenario } from "./scenarios.js";

/** The kernels of the chapter-1 explorer, in the order of the drop-down (chapter 2's set-ups). */
export const COLLAPSE_KERNELS = Object.freeze(["baseline", "RoPE", "prompts", "distance bias"]);

/**
 * Initial cloud, kernel spec and colours for one choice of the chapter-1
 * explorer: the seed's generator draws the cloud first, then (for the
 * prompts) the phases φ_p of the gauges R^{(12)}_{φ_p} (scenarios.bookScenario).
 */
export function collapseSystem(kernel, beta, n, seed) {
  if (!COLLAPSE_KERNELS.includes(kernel)) throw new Error(`kernel must be one of ${COLLAPSE_KERNELS.join(", ")}, got ${kernel}`);
  const rng = makeRng(seed);
  const X0 = uniformSphere(n, 3, rng);
  return { X0, ...bookScenario(kernel, beta, n, rng) };
}

const only = (run) => run.systems[0];

export const collapseExplorer = defineExplorer({
  name: "collapse",
  title: "Mode collapse, and what the auxiliary variables change",
  controls: [
    choiceControl("kernel", "kernel", COLLAPSE_KERNELS, "baseline"),
    sliderControl("beta", "β", { min: 0.25, max: 4, step: 0.25, value: 1, format: (v) => v.toFixed(2) }),
    sliderControl("n", "tokens n", { min: 16, max: 256, step: 16, value: 128, integer: true }),
    sliderControl("seed", "seed", { min: 0, max: 20, step: 1, value: 0, integer: true }),
  ],
  setup({ kernel, beta, n, seed }) {
    const system = collapseSystem(kernel, beta, n, seed);
    return {
      systems: [{ key: "tokens", title: `${kernel}, β = ${beta}`, d: 3, ...system }],
      dt: rawClockStep(beta),
      clock: "raw",
      tMax: 30,
      speed: 5,
    };
  },
  readouts: [
    { key: "gap", label: "collapse gap Γ", value: (run) => collapseGap(only(run).X, only(run).n, 3) },
    { key: "gauge", label: "gauge-frame gap", value: (run) => gaugeGap(only(run).interaction, only(run).X) },
    { key: "energy", label: "relative energy gap", value: (run) => relativeEnergyGap(only(run).interaction, only(run).X) },
  ],
  charts: [gapChart("gaps", "collapse gap and gauge-frame gap against time, logarithmic axis", "gap", [
      { label: "collapse gap Γ", colour: SERIES_COLOURS[0], width: 3.2, value: (run) => collapseGap(only(run).X, only(run).n, 3) },
      { label: "gauge-frame gap", colour: SERIES_COLOURS[1], width: 1.5, value: (run) => gaugeGap(only(run).interaction, only(run).X) },
    ])],
});
