// Chapter 6, §6.2: one scenario and its integer knob m (MODEL.md §6.2;
// usaav.experiments.gallery_setup): the Toeplitz mode (a great circle run m
// times, Prop. 10), the number of waves of the generalised RoPE, the number
// of prompts (m clusters, Cor. 2).  The other scenarios have no knob, and the
// Toeplitz kernel has no β: those sliders are disabled there.  Every other
// parameter is the table's (usaav.scenarios, passed in from Python).

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl } from "../controls.js";
import { collapseGap, countClusters, relativeEnergyGap } from "../observables.js";
import { makeRng } from "../random.js";
import { uniformSphere } from "../sphere.js";
import { PALETTE } from "../view.js";
import { SCENARIO_LABELS, betaControl, rawClockStep, scenarioRow, scenarioSystem } from "./common.js";

const KNOB_TOKENS = 150;
/** The parameter the knob m sets, per scenario that has one (usaav.experiments.gallery_setup). */
export const KNOB_PARAMETERS = Object.freeze({ toeplitz: "m", generalized_rope: "m", prompts: "n_prompts" });
const knobSystem = (run) => run.systems[0];

export const scenarioKnobExplorer = defineExplorer({
  name: "scenario_knob",
  title: "One scenario, one knob",
  controls: [
    choiceControl("scenario", "scenario", SCENARIO_LABELS.map(({ key, title }) => [key, title]), "toeplitz"),
    sliderControl("m", "knob m", {
      min: 1, max: 6, step: 1, value: 3, integer: true,
      appliesTo: ({ scenario }) => scenario in KNOB_PARAMETERS,
      inactiveNote: "only the Toeplitz, generalised RoPE and prompts scenarios have a knob",
    }),
    betaControl({
      min: 0.5, max: 3, step: 0.5, value: 1,
      appliesTo: ({ scenario }, options) => "beta" in scenarioRow(options, scenario).parameters,
      inactiveNote: "the Toeplitz kernel has no β",
    }),
  ],
  setup({ scenario, m, beta }, options) {
    const rng = makeRng(0);
    const X0 = uniformSphere(KNOB_TOKENS, 3, rng);
    const knob = KNOB_PARAMETERS[scenario];
    const { spec, colour, row } = scenarioSystem(options, scenario, KNOB_TOKENS, { beta, parameters: knob ? { [knob]: m } : {}, rng });
    const hasBeta = "beta" in row.parameters;
    const settings = [knob ? `m = ${m}` : null, hasBeta ? `β = ${beta}` : null].filter(Boolean).join(", ");
    return {
      systems: [{ key: scenario, title: settings ? `${row.title}, ${settings}` : row.title, d: 3, X0, spec, colour }],
      dt: hasBeta ? rawClockStep(beta) : 0.05,
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
