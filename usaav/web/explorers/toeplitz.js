// Chapter 5: Toeplitz kernels, the strongest Fourier mode wins (Prop. 10).
// The reader sets c(r) = c₀ + c₁ cos 2πr + c₂ cos 4πr + c₃ cos 6πr; the flow
// runs from a uniform cloud on the grid s_i = i/n.  The spectrum ĉ(0) = c₀,
// ĉ(±k) = c_k/2 is drawn with its largest mode k* highlighted; the energy
// approaches ½ max_k ĉ(k) and never exceeds the finite-n bound λ_max(C)/(2n),
// C_ij = c(s_i − s_j) (MODEL.md §4, Prop. 10 row); the curve winds |k*| times.

import { defineExplorer } from "../explorer.js";
import { sliderControl } from "../controls.js";
import { energy } from "../kernels.js";
import { collapseGap, windingNumber } from "../observables.js";
import { makeRng } from "../random.js";
import { uniformSphere } from "../sphere.js";
import { PALETTE } from "../view.js";
import { gridPositions } from "../scenarios.js";
import { SERIES_COLOURS, positionColour } from "./common.js";

const TOEPLITZ_N = 200;
const TOEPLITZ_MODES = 4;

/** ĉ(k) for k = 0..K−1 of c(r) = Σ_k c_k cos 2πkr: ĉ(0) = c₀, ĉ(k) = c_k/2 (MODEL.md §3). */
export function toeplitzSpectrum(coefficients) {
  return coefficients.map((c, k) => (k === 0 ? c : c / 2));
}

/** The winning mode k* = argmax_k ĉ(k), the smallest k on a tie (usaav.maximizers.toeplitz). */
export function winningMode(spectrum) {
  let best = 0;
  spectrum.forEach((value, k) => { if (value > spectrum[best]) best = k; });
  return best;
}

/**
 * λ_max(C)/(2n) for C_ij = c(s_i − s_j) on the grid s_i = i/n: C is circulant,
 * its eigenvalues are λ_k = Σ_j c(j/n) cos(2πjk/n) (c is even), so the bound
 * costs O(n²) and needs no eigen-solver (MODEL.md §4, Prop. 10 row).
 */
export function finiteBound(coefficients, n) {
  const profile = Array.from({ length: n }, (_, j) =>
    coefficients.reduce((sum, c, k) => sum + c * Math.cos((2 * Math.PI * k * j) / n), 0));
  let largest = -Infinity;
  for (let k = 0; k < n; k++) {
    let lambda = 0;
    for (let j = 0; j < n; j++) lambda += profile[j] * Math.cos((2 * Math.PI * j * k) / n);
    largest = Math.max(largest, lambda);
  }
  return largest / (2 * n);
}

const toeplitzFlow = (run) => run.systems[0];
const toeplitzEnergy = (run) => energy(toeplitzFlow(run).interaction, toeplitzFlow(run).X);

export const toeplitzExplorer = defineExplorer({
  name: "toeplitz",
  title: "Toeplitz kernels: the strongest Fourier mode k* wins",
  controls: [0, 1, 2, 3].map((k) => sliderControl(`c${k}`, `c${"₀₁₂₃"[k]}`, {
    min: 0, max: 1, step: 0.05, value: [0.2, 0, 1, 0][k], format: (v) => v.toFixed(2),
  })),
  setup(values, options) {
    const n = options.n ?? TOEPLITZ_N;
    const coefficients = Array.from({ length: TOEPLITZ_MODES }, (_, k) => values[`c${k}`]);
    const spectrum = toeplitzSpectrum(coefficients);
    const kStar = winningMode(spectrum);
    const positions = gridPositions(n);
    const listed = Object.fromEntries(coefficients.map((c, k) => [k, c]).filter(([, c]) => c !== 0));
    const spec = { type: "toeplitz", coefficients: Object.keys(listed).length ? listed : { 0: 0 }, aux: Array.from(positions) };
    return {
      systems: [{
        key: "curve",
        title: `c(r) = ${coefficients.map((c, k) => (k === 0 ? c.toFixed(2) : `${c.toFixed(2)} cos ${2 * k}πr`)).join(" + ")}`,
        spec,
        X0: uniformSphere(n, 3, makeRng(options.seed ?? 0)),
        colour: positionColour(positions),
        extra: { positions, spectrum, kStar, bound: spectrum[kStar] / 2, finite: finiteBound(coefficients, n) },
      }],
      dt: 0.05,
      clock: "raw",
      tMax: 60,
      speed: 8,
    };
  },
  readouts: [
    { key: "kStar", label: "winning mode k*", value: (run) => String(toeplitzFlow(run).extra.kStar) },
    { key: "energy", label: "energy E_n", digits: 5, value: toeplitzEnergy },
    { key: "bound", label: "bound ½ max ĉ(k)", digits: 5, value: (run) => toeplitzFlow(run).extra.bound },
    { key: "finite", label: "finite-n bound λ_max(C)/(2n)", digits: 5, value: (run) => toeplitzFlow(run).extra.finite },
    {
      key: "winding",
      label: "winding number |w|",
      value: (run) => {
        const system = toeplitzFlow(run);
        // A (nearly) collapsed cloud has no loop worth counting.
        if (collapseGap(system.X, system.n, 3) < 1e-2) return "– (collapsed)";
        return String(Math.round(Math.abs(windingNumber(system.X, system.extra.positions, system.n, 3))));
      },
    },
  ],
  charts: [{
    key: "energy",
    label: "energy against time, with the bounds ½ max ĉ(k) and λ_max(C)/(2n)",
    yLabel: "E_n",
    xLabel: "t",
    log: false,
    yMin: -0.05,
    yMax: 0.55,
    series: [{ label: "energy E_n(t)", colour: SERIES_COLOURS[1], width: 2, value: toeplitzEnergy }],
    legendLines: [
      { label: "½ max ĉ(k)", colour: SERIES_COLOURS[0], dash: [5, 3] },
      { label: "λ_max(C)/(2n)", colour: SERIES_COLOURS[2], dash: [2, 3] },
    ],
    lines: (run) => [
      { y: toeplitzFlow(run).extra.bound, colour: SERIES_COLOURS[0], dash: [5, 3] },
      { y: toeplitzFlow(run).extra.finite, colour: SERIES_COLOURS[2], dash: [2, 3] },
    ],
  }],
  panels: [{
    key: "spectrum",
    kind: "bars",
    label: "the spectrum ĉ(k), the winning mode k* highlighted",
    xLabel: "frequency k",
    yLabel: "ĉ(k)",
    data(run) {
      const { spectrum, kStar } = toeplitzFlow(run).extra;
      return {
        labels: spectrum.map((_, k) => String(k)),
        values: spectrum,
        colours: spectrum.map((_, k) => (k === kStar ? PALETTE.vermillion : PALETTE.sky)),
        yMax: 1,
        legend: [[`k* = ${kStar}`, PALETTE.vermillion], ["other modes", PALETTE.sky]],
      };
    },
  }],
});
