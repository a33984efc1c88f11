// Chapter 1: mode collapse and what prevents it.  The chapter's first
// explorer (baseline_collapse) shows only what the chapter has defined by
// then: the baseline flow, β, n and the collapse gap Γ.  The second one
// (collapse) adds the kernels with auxiliary variables.  One cloud of n tokens,
// uniform on S^2, runs under the kernel the reader picks (MODEL.md §2–§3):
// the baseline collapses to a point; RoPE (θ = 2π) and fixed prompts keep the
// tokens apart in the original frame while they collapse in the gauge frame
// u_i = G(a_i) x_i; a distance bias only slows the collapse down (Prop. 11).

import { defineExplorer } from "../explorer.js";
import { choiceControl } from "../controls.js";
import { collapseGap, gaugeGap, relativeEnergyGap } from "../observables.js";
import { makeRng } from "../random.js";
import { uniformSphere } from "../sphere.js";
import { SERIES_COLOURS, betaControl, gapChart, rawClockStep, scenarioSystem, seedControl, tokensControl } from "./common.js";

/**
 * The kernels of the chapter-1 explorer, in the order of its drop-down, and
 * their scenarios of MODEL.md §6.2; the explorer's departures from the
 * table's defaults (four prompts with random phases in one plane, a shorter
 * distance bias) come from Python with the table (usaav.explorers).
 */
export const COLLAPSE_KERNELS = Object.freeze({ baseline: "baseline", RoPE: "rope", prompts: "prompts", "distance bias": "distance_bias" });

/**
 * Initial cloud, kernel spec and colours for one choice of the chapter-1
 * explorer: the seed's generator draws the cloud first, then (for the
 * prompts) their gauges.
 */
export function collapseSystem(options, kernel, beta, n, seed) {
  if (!(kernel in COLLAPSE_KERNELS)) throw new RangeError(`kernel must be one of ${Object.keys(COLLAPSE_KERNELS).join(", ")}, got ${kernel}`);
  const rng = makeRng(seed);
  const X0 = uniformSphere(n, 3, rng);
  const { spec, colour } = scenarioSystem(options, COLLAPSE_KERNELS[kernel], n, { beta, rng });
  return { X0, spec, colour };
}

const only = (run) => run.systems[0];

export const collapseExplorer = defineExplorer({
  name: "collapse",
  title: "Mode collapse, and what the auxiliary variables change",
  controls: [
    choiceControl("kernel", "kernel", Object.keys(COLLAPSE_KERNELS), "baseline"),
    betaControl({ min: 0.25, max: 4, step: 0.25, value: 1 }),
    tokensControl({ min: 16, max: 256, step: 16, value: 128 }),
    seedControl(20),
  ],
  setup({ kernel, beta, n, seed }, options) {
    const system = collapseSystem(options, kernel, beta, n, seed);
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

/** Chapter 1's first explorer: the baseline flow alone, read through the collapse gap Γ (MODEL.md §2, §6). */
export const baselineCollapseExplorer = defineExplorer({
  name: "baseline_collapse",
  title: "Mode collapse: tokens under the baseline flow",
  controls: [
    betaControl({ min: 0.25, max: 4, step: 0.25, value: 1 }),
    tokensControl({ min: 16, max: 256, step: 16, value: 256 }),
    seedControl(20),
  ],
  setup({ beta, n, seed }, options) {
    const system = collapseSystem(options, "baseline", beta, n, seed);
    return {
      systems: [{ key: "tokens", title: `baseline, β = ${beta}`, d: 3, ...system }],
      dt: rawClockStep(beta),
      clock: "raw",
      tMax: 30,
      speed: 5,
    };
  },
  readouts: [
    { key: "gap", label: "collapse gap Γ", value: (run) => collapseGap(only(run).X, only(run).n, 3) },
  ],
  charts: [gapChart("gaps", "collapse gap against time, logarithmic axis", "gap", [
    { label: "collapse gap Γ", colour: SERIES_COLOURS[0], width: 3.2, value: (run) => collapseGap(only(run).X, only(run).n, 3) },
  ])],
});
