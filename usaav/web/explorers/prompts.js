// Chapter 4: finitely many prompts (Cor. 2).  m prompts with 24 tokens each
// start from a uniform cloud; the flow makes the tokens of a prompt agree in
// the gauge frame, u_i = G_{p_i} x_i → u, so the tokens end at the points
// G_pᵀ u: as many clusters as *distinct points* G_pᵀ u, which is the number
// of distinct gauges unless two gauges agree on u (MODEL.md §4, Cor. 2 row).
// The clusters are counted live, next to that prediction.

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl } from "../controls.js";
import { collapseGap, countClusters, gaugeGap, relativeEnergyGap } from "../observables.js";
import { makeRng } from "../random.js";
import { normalizeRows, uniformSphere } from "../sphere.js";
import { PROMPT_LAYOUTS, gaugeImages, promptGauges } from "../gauges.js";
import { SERIES_COLOURS, promptColour, seedControl } from "./common.js";

const PROMPTS_PER_PROMPT = 24;
const PROMPTS_BETA = 1;
/** Points closer than this (chordal) are one cluster, as in the chapter's table. */
export const CLUSTER_THRESHOLD = 1e-3;

/** Tokens' gauge-frame mean direction u = normalise(Σ_i G_{p_i} x_i). */
export function gaugeFrameDirection(interaction, X) {
  const { n, d } = interaction;
  const U = interaction.gaugeFrame(X, new Float64Array(n * d));
  const u = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) u[c] += U[i * d + c];
  return normalizeRows(u, 1, d);
}

/** The number of distinct points G_pᵀ u (Cor. 2): the clusters the flow is heading for. */
export function predictedClusters(interaction, gauges, m, X) {
  return countClusters(gaugeImages(gaugeFrameDirection(interaction, X), gauges, m), m, 3, CLUSTER_THRESHOLD);
}

const promptFlow = (run) => run.systems[0];

export const promptsExplorer = defineExplorer({
  name: "prompts",
  title: "Finitely many prompts: one cluster per distinct point G_pᵀ u",
  controls: [
    sliderControl("m", "prompts m", { min: 1, max: 10, step: 1, value: 4, integer: true }),
    choiceControl("layout", "gauges", PROMPT_LAYOUTS, "random rotations"),
    seedControl(20),
  ],
  setup({ m, layout, seed }) {
    const rng = makeRng(seed);
    const n = m * PROMPTS_PER_PROMPT;
    const X0 = uniformSphere(n, 3, rng);
    const gauges = promptGauges(m, layout, rng);
    const ids = Float64Array.from({ length: n }, (_, i) => Math.floor(i / PROMPTS_PER_PROMPT));
    const distinctGauges = countClusters(gauges, m, 9, 1e-9);
    return {
      systems: [{
        key: "tokens",
        title: `${m} prompt${m > 1 ? "s" : ""}, ${layout}`,
        spec: { type: "prompts", beta: PROMPTS_BETA, gauges, aux: Array.from(ids) },
        X0,
        colour: promptColour(ids, m),
        extra: { gauges, m, distinctGauges },
      }],
      dt: 0.05,
      clock: "raw",
      tMax: 30,
      speed: 4,
    };
  },
  readouts: [
    { key: "clusters", label: "clusters now", value: (run) => String(countClusters(promptFlow(run).X, promptFlow(run).n, 3, CLUSTER_THRESHOLD)) },
    {
      key: "predicted",
      label: "distinct points G_pᵀ u",
      value: (run) => String(predictedClusters(promptFlow(run).interaction, promptFlow(run).extra.gauges, promptFlow(run).extra.m, promptFlow(run).X)),
    },
    { key: "gauges", label: "distinct gauges", value: (run) => String(promptFlow(run).extra.distinctGauges) },
    { key: "gauge", label: "gauge-frame gap", value: (run) => gaugeGap(promptFlow(run).interaction, promptFlow(run).X) },
    { key: "gap", label: "collapse gap Γ (original frame)", value: (run) => collapseGap(promptFlow(run).X, promptFlow(run).n, 3) },
    { key: "energy", label: "relative energy gap", value: (run) => relativeEnergyGap(promptFlow(run).interaction, promptFlow(run).X) },
  ],
  charts: [{
    key: "gaps",
    label: "collapse gap in the original frame and in the gauge frame against time, logarithmic axis",
    yLabel: "gap",
    xLabel: "t",
    log: true,
    yMin: 1e-17,
    yMax: 1,
    series: [
      { label: "collapse gap Γ", colour: SERIES_COLOURS[0], width: 2.4, value: (run) => collapseGap(promptFlow(run).X, promptFlow(run).n, 3) },
      { label: "gauge-frame gap", colour: SERIES_COLOURS[1], width: 1.5, value: (run) => gaugeGap(promptFlow(run).interaction, promptFlow(run).X) },
    ],
  }],
});
