// Chapter 6, §6.2: one scenario and its integer knob m (MODEL.md §6.2;
// usaav.experiments.gallery_setup): the Toeplitz mode (a great circle run m
// times, Prop. 10), the number of waves of the generalised RoPE, the number
// of prompts (m clusters, Cor. 2); the other scenarios ignore m.

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl } from "../controls.js";
import { collapseGap, countClusters, relativeEnergyGap } from "../observables.js";
import { makeRng } from "../random.js";
import { uniformSphere } from "../sphere.js";
import { PALETTE } from "../view.js";
import { rawClockStep } from "./common.js";
import { PAPER_SCENARIOS, paperScenario } from "./scenarios.js";

const KNOB_TOKENS = 150;
const knobSystem = (run) => run.systems[0];

export const scenarioKnobExplorer = defineExplorer({
  name: "scenario_knob",
  title: "One scenario, one knob",
  controls: [
    choiceControl("scenario", "scenario", PAPER_SCENARIOS, "toeplitz"),
    sliderControl("m", "knob m", { min: 1, max: 6, step: 1, value: 3, integer: true }),
    sliderControl("beta", "β", { min: 0.5, max: 3, step: 0.5, value: 1, format: (v) => v.toFixed(1) }),
  ],
  setup({ scenario, m, beta }) {
    const rng = makeRng(0);
    const X0 = uniformSphere(KNOB_TOKENS, 3, rng);
    const title = PAPER_SCENARIOS.find(([key]) => key === scenario)[1];
    const system = paperScenario(scenario, { beta, m, n: KNOB_TOKENS, rng });
    return {
      systems: [{ key: scenario, title: `${title}, m = ${m}`, d: 3, X0, ...system }],
      dt: scenario === "toeplitz" ? 0.05 : rawClockStep(beta),
      clock: "raw",
      tMax: 40,
      speed: 8,
    };
  },
  readouts: [
    { key: "gap", label: "collapse gap Γ", value: (run) => collapseGap(knobSystem(run).X, KNOB_TOKENS, 3) },
    { key: "energy", label: "relative energy gap", value: (run) => relativeEnergyGap(knobSystem(run).interaction, knobSystem(run).X) },
    { key: "points", label: "distinct points (10⁻² apart)", value: (run) => String(countClusters(knobSystem(run).X, KNOB_TOKENS, 3, 1e-2)) },
  ],
  charts: [{
    key: "energy",
    label: "relative energy gap against time, logarithmic axis",
    yLabel: "rel. energy gap",
    xLabel: "t",
    log: true,
    yMin: 1e-16,
    yMax: 1,
    series: [{ label: "relative energy gap (E_max − E)/E_max", colour: PALETTE.blue, width: 2,
      value: (run) => relativeEnergyGap(knobSystem(run).interaction, knobSystem(run).X) }],
  }],
});
