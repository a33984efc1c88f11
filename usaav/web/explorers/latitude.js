// Chapter 3: the RoPE maximiser x(s) = R_{−θs} v (Thm. 1, Cor. 1).  The
// reader picks the polar angle ϑ of v, the frequency θ and the rotation
// plane; the maximiser is drawn with the orbit of v and the rotation axis,
// and checked: its relative energy gap is 0 up to round-off and its height
// along the axis is cos ϑ for every token.  With "flow" on, the RoPE
// dynamics run from a uniform cloud next to it (one or four tokens per
// position): the tokens of a position meet (conditional Dirac, Thm. 3) and
// the positions settle on a latitude circle (an arc when θ is not a multiple
// of 2π) at a height of their own.

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl, toggleControl } from "../controls.js";
import { bindKernel, ropeSpec } from "../kernels.js";
import { collapseGap, conditionalDiameter, gaugeGap, relativeEnergyGap } from "../observables.js";
import { makeRng } from "../random.js";
import { rotateInPlane, uniformSphere } from "../sphere.js";
import { tiltedStart } from "../targets.js";
import { PALETTE } from "../view.js";
import { gridPositions } from "../scenarios.js";
import { SERIES_COLOURS, positionColour, replicateLabels } from "./common.js";

/** Rotation planes offered, value → [i, j] (axes 0, 1, 2 are x₁, x₂, x₃). */
export const LATITUDE_PLANES = Object.freeze({ "x1x2": [0, 1], "x1x3": [0, 2], "x2x3": [1, 2] });

/**
 * The maximiser x(s_i) = R_{−θ s_i} v at the grid positions (usaav.maximizers.rope).
 *
 * @returns {Float64Array} n*3
 */
export function ropeMaximizer(v, theta, positions, plane) {
  const n = positions.length;
  const start = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) start.set(v, 3 * i);
  return rotateInPlane(start, Array.from(positions, (s) => -theta * s), plane, n, 3);
}

/** The full orbit {R_α v : α ∈ [0, 2π]} of v in `plane`, as a closed path of `count` points. */
export function orbitPath(v, plane, count = 121) {
  const start = new Float64Array(3 * count);
  for (let k = 0; k < count; k++) start.set(v, 3 * k);
  return rotateInPlane(start, Array.from({ length: count }, (_, k) => (2 * Math.PI * k) / (count - 1)), plane, count, 3);
}

/** max − min of coordinate `axis` over the rows of X: 0 on a latitude circle about that axis. */
export function heightSpread(X, n, axis) {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, X[3 * i + axis]);
    hi = Math.max(hi, X[3 * i + axis]);
  }
  return hi - lo;
}

const LATITUDE_N = 240;
/** Tokens of the flow: 256, as 256 positions or 64 positions with four tokens each (MODEL.md §6.1). */
const LATITUDE_FLOW_N = 256;
const LATITUDE_BETA = 1;
const latitudeSystem = (run, key) => run.byKey[key];
const flowDiameter = (run) => conditionalDiameter(run.byKey.flow.X, run.byKey.flow.aux, run.byKey.flow.n, 3);

export const latitudeExplorer = defineExplorer({
  name: "latitude",
  title: "The RoPE maximiser x(s) = R(−θs) v and its latitude circle",
  controls: [
    sliderControl("polar", "polar angle ϑ of v", { min: 0, max: 180, step: 5, value: 60, integer: true, format: (v) => `${v}°` }),
    sliderControl("theta", "frequency θ / π", { min: 0.25, max: 4, step: 0.25, value: 2, format: (v) => v.toFixed(2) }),
    choiceControl("plane", "rotation plane", [["x1x2", "(x₁, x₂)"], ["x1x3", "(x₁, x₃)"], ["x2x3", "(x₂, x₃)"]], "x1x2"),
    toggleControl("flow", "flow from a uniform cloud", true),
  ],
  // options.copies (1 or 4, from Python) sets the tokens per position of the flow.
  setup({ polar, theta, plane, flow }, options) {
    const copies = options.copies ?? 4;
    if (copies !== 1 && copies !== 4) throw new RangeError(`copies must be 1 or 4 tokens per position, got ${copies}`);
    const n = options.n ?? LATITUDE_N;
    const beta = options.beta ?? LATITUDE_BETA;
    const angle = Math.PI * theta;
    const axes = LATITUDE_PLANES[plane];
    const axis = 3 - axes[0] - axes[1];
    const positions = gridPositions(n);
    const v = tiltedStart((polar * Math.PI) / 180, axes);
    const X = ropeMaximizer(v, angle, positions, axes);
    const spec = ropeSpec(beta, angle, positions, axes);
    const interaction = bindKernel(spec, n, 3);
    // Sampled finely: the view draws the part in front of the sphere and the part behind it apart.
    const axisPath = new Float64Array(3 * 51);
    for (let k = 0; k <= 50; k++) axisPath[3 * k + axis] = -1.25 + (2.5 * k) / 50;
    const systems = [{
      key: "maximiser",
      title: "maximiser x(s) = R(−θs) v",
      X0: X,
      aux: positions,
      colour: positionColour(positions),
      extra: { v, axis, orbit: orbitPath(v, axes), axisPath, gap: relativeEnergyGap(interaction, X), spread: heightSpread(X, n, axis) },
    }];
    if (flow) {
      const labels = replicateLabels(gridPositions(LATITUDE_FLOW_N / copies), copies);
      systems.push({
        key: "flow",
        title: copies > 1 ? `RoPE flow, ${copies} tokens per position` : "RoPE flow from a uniform cloud",
        spec: ropeSpec(beta, angle, labels, axes),
        X0: uniformSphere(LATITUDE_FLOW_N, 3, makeRng(options.seed ?? 0)),
        colour: positionColour(labels),
        extra: { axis, axisPath },
      });
    }
    return { systems, dt: 0.05, clock: "raw", tMax: 30, speed: 4 };
  },
  readouts: [
    { key: "gap", label: "relative energy gap of the maximiser", value: (run) => latitudeSystem(run, "maximiser").extra.gap },
    { key: "height", label: "height along the axis, cos ϑ", digits: 3, value: (run) => latitudeSystem(run, "maximiser").extra.v[latitudeSystem(run, "maximiser").extra.axis] },
    { key: "spread", label: "spread of that height", value: (run) => latitudeSystem(run, "maximiser").extra.spread },
    { key: "axis", label: "rotation axis", value: (run) => `x${"₁₂₃"[latitudeSystem(run, "maximiser").extra.axis]}` },
    {
      key: "collapse",
      label: "collapse gap Γ of the maximiser",
      value: (run) => collapseGap(latitudeSystem(run, "maximiser").X, latitudeSystem(run, "maximiser").n, 3),
    },
    {
      key: "flowSpread",
      label: "flow: spread of the height",
      value: (run) => (run.byKey.flow ? heightSpread(run.byKey.flow.X, run.byKey.flow.n, run.byKey.flow.extra.axis) : "flow off"),
    },
    {
      key: "flowGauge",
      label: "flow: gauge-frame gap",
      value: (run) => (run.byKey.flow ? gaugeGap(run.byKey.flow.interaction, run.byKey.flow.X) : "flow off"),
    },
    {
      key: "flowDiameter",
      label: "flow: conditional diameter",
      value: (run) => (run.byKey.flow ? flowDiameter(run) : "flow off"),
    },
  ],
  charts: [{
    key: "flow",
    label: "the flow: spread of the height along the axis, gauge-frame gap and conditional diameter against time, logarithmic axis",
    yLabel: "flow",
    xLabel: "t",
    log: true,
    yMin: 1e-16,
    yMax: 2,
    series: [
      {
        label: "spread of the height", colour: SERIES_COLOURS[0], width: 2.4,
        value: (run) => (run.byKey.flow ? heightSpread(run.byKey.flow.X, run.byKey.flow.n, run.byKey.flow.extra.axis) : NaN),
      },
      {
        label: "gauge-frame gap", colour: SERIES_COLOURS[1], width: 1.5,
        value: (run) => (run.byKey.flow ? gaugeGap(run.byKey.flow.interaction, run.byKey.flow.X) : NaN),
      },
      {
        label: "conditional diameter", colour: SERIES_COLOURS[2], width: 1.5,
        value: (run) => (run.byKey.flow ? flowDiameter(run) : NaN),
      },
    ],
  }],
  overlays(run, system) {
    const axisLine = { kind: "path", points: system.extra.axisPath, colour: "rgba(90,90,90,0.9)", width: 1.1 };
    if (system.key !== "maximiser") return [axisLine];
    return [
      { kind: "path", points: system.extra.orbit, colour: "rgba(120,120,120,0.8)", width: 1 },
      axisLine,
      { kind: "marker", at: Array.from(system.extra.v), colour: PALETTE.vermillion, size: 7 },
    ];
  },
});
