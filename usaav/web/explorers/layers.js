// Chapter 6, §6.1: collapse through many layers, three models from one
// gauge-frame cloud (MODEL.md §6.1; usaav.experiments.collapse_setup).  With
// 4 tokens per label (L = n/4 labels), the cloud u_1..u_n is shared:
// x_i(0) = G(a_i)^T u_i with G(s) = R_{2πs} (RoPE, positions s_ℓ = ℓ/L) or
// G_ℓ = R_{φ_ℓ} (prompts, φ_ℓ uniform).  In the gauge frame all three follow
// the baseline flow, so they share one gauge-frame gap; in the original frame
// RoPE and the prompts settle near 1 − v_3², v the gauge-frame limit point.

import { defineExplorer } from "../explorer.js";
import { collapseGap, gaugeGap } from "../observables.js";
import { makeRng } from "../random.js";
import { rotateInPlane, uniformSphere } from "../sphere.js";
import { gridPositions } from "../scenarios.js";
import { PALETTE } from "../view.js";
import {
  baselineSpec,
  betaControl,
  fullTurnRopeSpec,
  gapChart,
  planeRotations,
  positionColour,
  promptColour,
  rawClockStep,
  replicateLabels,
  seedControl,
  tokensControl,
} from "./common.js";

const PER_LABEL = 4;

/**
 * The three §6.1 models in the order of usaav.experiments.collapse.MODEL_TABLE,
 * with its names and colours (tests/js/layers.test.mjs checks them against it)
 * and this chart's line widths: the curves coincide in the gauge frame, so the
 * narrower runs on top.
 */
export const LAYER_MODELS = Object.freeze([
  Object.freeze({ key: "baseline", name: "baseline", colour: "vermillion", width: 3.2 }),
  Object.freeze({ key: "rope", name: "RoPE", colour: "blue", width: 2 }),
  Object.freeze({ key: "prompts", name: "prompts", colour: "green", width: 1.2 }),
]);

/** The three §6.1 systems for (β, n, seed): the generator draws u first, then the phases φ_ℓ. */
export function layerSystems(beta, n, seed) {
  const rng = makeRng(seed);
  const U0 = uniformSphere(n, 3, rng);
  const count = n / PER_LABEL;
  const phases = Array.from({ length: count }, () => 2 * Math.PI * rng.uniform());
  const positions = replicateLabels(gridPositions(count), PER_LABEL);
  const ids = replicateLabels(Float64Array.from({ length: count }, (_, l) => l), PER_LABEL);
  // G^T u = R_{-φ} u for a rotation in the (x1, x2)-plane.
  const ropeStart = rotateInPlane(U0, positions.map((s) => -2 * Math.PI * s), [0, 1], n, 3);
  const promptStart = rotateInPlane(U0, ids.map((l) => -phases[l]), [0, 1], n, 3);
  const built = {
    baseline: { X0: U0, spec: baselineSpec(beta, positions), colour: positionColour(positions) },
    rope: { X0: ropeStart, spec: fullTurnRopeSpec(beta, positions), colour: positionColour(positions) },
    prompts: { X0: promptStart, spec: { type: "prompts", beta, gauges: planeRotations(phases), aux: Array.from(ids) },
      colour: promptColour(ids, count) },
  };
  return LAYER_MODELS.map(({ key, name }) => ({ key, title: name, d: 3, ...built[key] }));
}

const gapOf = (key) => (run) => collapseGap(run.byKey[key].X, run.byKey[key].n, 3);

/** 1 − v_3², v the normalised mean of the gauge-frame points (the current estimate of the limit point). */
export function predictedLayerGap(run) {
  const system = run.byKey.rope;
  const U = system.interaction.gaugeFrame(system.X, new Float64Array(system.n * 3));
  const mean = [0, 0, 0];
  for (let i = 0; i < system.n; i++) for (let c = 0; c < 3; c++) mean[c] += U[3 * i + c];
  const norm = Math.hypot(...mean);
  return norm > 0 ? 1 - (mean[2] / norm) ** 2 : NaN;
}

function largestGaugeGap(run) {
  return Math.max(...run.systems.map((s) => gaugeGap(s.interaction, s.X)));
}

export const collapseLayersExplorer = defineExplorer({
  name: "collapse_layers",
  title: "Baseline, RoPE and prompts from one gauge-frame cloud",
  columns: 3,
  wide: true,
  controls: [
    betaControl({ min: 0.25, max: 4, step: 0.25, value: 1 }),
    tokensControl({ min: 16, max: 128, step: 16, value: 64 }),
    seedControl(9),
  ],
  setup({ beta, n, seed }) {
    return { systems: layerSystems(beta, n, seed), dt: rawClockStep(beta), clock: "raw", tMax: 20, speed: 4 };
  },
  readouts: [
    ...LAYER_MODELS.map(({ key, name }) => ({ key, label: `Γ ${name}`, value: gapOf(key) })),
    { key: "gauge", label: "gauge-frame gap", help: "the largest of the three models' gauge-frame gaps", value: largestGaugeGap },
    { key: "prediction", label: "1 − v₃²", value: predictedLayerGap },
  ],
  charts: [gapChart("gaps", "collapse gaps of the three models and their common gauge-frame gap against time, logarithmic axis", "gap", [
      { label: "gauge frame (all three)", colour: "rgba(150,150,150,0.75)", width: 6, value: (run) => gaugeGap(run.byKey.rope.interaction, run.byKey.rope.X) },
      ...LAYER_MODELS.map(({ key, name, colour, width }) => ({ label: name, colour: PALETTE[colour], width, value: gapOf(key) })),
    ], {
      lines: (run) => [{ y: predictedLayerGap(run), colour: "rgba(90,90,90,0.9)", dash: [2, 3] }],
      legendLines: [{ label: "1 − v₃² (v: gauge-frame mean)", colour: "rgba(90,90,90,0.9)", dash: true, width: 2 }],
    })],
});
