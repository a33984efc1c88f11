// Chapter 3: any law on the orbit, realised exactly (Thm. 2 (ii)).  The
// reader picks a target law for the angle (or types its quantile function);
// the phase φ = −Q gives the maximiser x(s_i) = R_{Q(s_i)} v at the
// midpoints s_i = (i + ½)/n.  The picture shows the points on the orbit of v
// and the histogram of their angles against the target density; the
// readouts check the energy (the phase-field kernel at its ceiling) and the
// Kolmogorov–Smirnov distance, whose best value for n points is 1/(2n).
// While a preset law is shown, the law of the typed quantile is drawn
// dashed in the histogram for comparison (or its formula's error is printed),
// and "your quantile" realises it.

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl, textControl } from "../controls.js";
import { bindKernel } from "../kernels.js";
import { collapseGap, relativeEnergyGap } from "../observables.js";
import { ANGLE_LAWS, angleLaw, realizeLaw } from "../targets.js";
import { PALETTE } from "../view.js";
import { positionColour, tokensControl } from "./common.js";
import { orbitPath } from "./latitude.js";

const ORBIT_POLAR = Math.PI / 3;
const ORBIT_BETA = 1;
const ORBIT_BINS = 36;

/** Histogram heights (density) of angles in [−π, π] with `bins` equal bins. */
export function angleHistogram(angles, bins = ORBIT_BINS) {
  const heights = new Float64Array(bins);
  const width = (2 * Math.PI) / bins;
  for (const a of angles) heights[Math.min(bins - 1, Math.max(0, Math.floor((a + Math.PI) / width)))] += 1;
  return heights.map((count) => count / (angles.length * width));
}

/**
 * Law, realisation and its checks for one setting of the controls, and the
 * law of the typed quantile beside a preset (or the parser's message).
 *
 * @returns {{law, result, spec, gap: number, histogram: Float64Array, typed: ?object, typedError: ?string}}
 */
export function orbitRealization(law, width, quantile, n) {
  const target = angleLaw(law, width, quantile);  // "your quantile": a bad formula throws, the page shows why
  const result = realizeLaw(target, n, ORBIT_POLAR, [0, 1]);
  const spec = { type: "phase_field", beta: ORBIT_BETA, phases: result.phases, plane: [0, 1], aux: Array.from(result.positions) };
  const gap = relativeEnergyGap(bindKernel(spec, n, 3), result.X);
  let typed = null, typedError = null;
  if (law !== "your quantile") {
    try {
      typed = angleLaw("your quantile", width, quantile);
    } catch (err) {
      typedError = err.message;
    }
  }
  return { law: target, result, spec, gap, histogram: angleHistogram(result.angles), typed, typedError };
}

const orbitRealised = (run) => run.systems[0].extra;

/** sup |F − G| of two laws tabulated on the same grid of angles: how far the typed law is from the target. */
export function lawDistance(a, b) {
  let worst = 0;
  for (let k = 0; k < a.cdfValues.length; k++) worst = Math.max(worst, Math.abs(a.cdfValues[k] - b.cdfValues[k]));
  return worst;
}

export const orbitLawExplorer = defineExplorer({
  name: "orbit_law",
  title: "Any law on the orbit: x(s) = R(Q(s)) v for the quantile Q of the target",
  controls: [
    choiceControl("law", "target law", ANGLE_LAWS, "bimodal mixture"),
    sliderControl("width", "width w", {
      min: 0.1, max: 1, step: 0.05, value: 0.4, format: (v) => v.toFixed(2),
      appliesTo: ({ law }) => law !== "your quantile", inactiveNote: "your quantile sets the law by itself",
    }),
    textControl("quantile", "your quantile Q(s) =", "pi * (2*s - 1)**3", { help: "numbers, s, pi, + − * / **, parentheses, sin, cos, exp, log, sqrt, …" }),
    tokensControl({ min: 50, max: 800, step: 50, value: 400 }),
  ],
  setup({ law, width, quantile, n }) {
    const realization = orbitRealization(law, width, quantile, n);
    const { result } = realization;
    return {
      systems: [{
        key: "orbit",
        title: realization.law.name,
        X0: result.X,
        aux: result.positions,
        spec: null,
        colour: positionColour(result.positions),
        extra: { ...realization, orbit: orbitPath(result.v, [0, 1]) },
      }],
    };
  },
  readouts: [
    { key: "gap", label: "relative energy gap (phase field)", value: (run) => orbitRealised(run).gap },
    { key: "ks", label: "KS distance to the target", digits: 5, value: (run) => orbitRealised(run).result.ksDistance },
    { key: "best", label: "best possible, 1/(2n)", digits: 5, value: (run) => 0.5 / orbitRealised(run).result.positions.length },
    {
      key: "spread",
      label: "collapse gap Γ of the tokens",
      digits: 4,
      value: (run) => collapseGap(run.systems[0].X, run.systems[0].n, 3),
    },
    {
      key: "typed",
      label: "your quantile's law: KS distance to the target (dashed)",
      digits: 4,
      value: (run) => {
        if (run.values.law === "your quantile") return "— (your quantile is the target)";
        const { law, typed, typedError } = orbitRealised(run);
        return typedError ? "invalid (see the legend)" : lawDistance(typed, law);
      },
    },
  ],
  panels: [{
    key: "histogram",
    kind: "histogram",
    label: "histogram of the realised angles against the target density",
    xLabel: "angle α on the orbit, x = R_α v",
    yLabel: "density",
    data(run) {
      const { law, histogram, typed, typedError } = orbitRealised(run);
      const curves = [{ x: law.grid, y: law.densityValues, colour: PALETTE.vermillion }];
      const legend = [["realised angles", PALETTE.sky], ["target density", PALETTE.vermillion]];
      if (typed) {
        // For comparison only: drawn on the target's scale, clipped where it is taller.
        curves.push({ x: typed.grid, y: typed.densityValues, colour: PALETTE.purple, dash: [5, 4], compare: true });
        legend.push(["your quantile's law (dashed)", PALETTE.purple]);
      } else if (typedError) {
        legend.push([`your quantile: ${typedError}`, PALETTE.purple]);
      }
      return {
        bars: histogram, lo: -Math.PI, hi: Math.PI, barColour: PALETTE.sky, curves,
        ticks: [[-Math.PI, "−π"], [-Math.PI / 2, "−π/2"], [0, "0"], [Math.PI / 2, "π/2"], [Math.PI, "π"]],
        legend,
      };
    },
  }],
  overlays(run, system) {
    return [
      { kind: "path", points: system.extra.orbit, colour: "rgba(120,120,120,0.8)", width: 1 },
      { kind: "marker", at: Array.from(system.extra.result.v), colour: PALETTE.vermillion, size: 7 },
    ];
  },
});
