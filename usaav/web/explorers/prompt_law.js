// Chapter 4: any law on the sphere, realised by prompts (Thm. 4 (ii)–(iii)).
// The reader picks a target shape (or types a word); n prompts drawn from a
// nonatomic law are mapped to targets T_p, the Householder reflection
// exchanging v and T_p is the gauge G_p, and the maximiser x_p = G_pᵀ v
// lands exactly on the targets.  The readouts check it: the prompt kernel's
// relative energy gap is 0 up to round-off and max_p |G_pᵀ v − T_p| too.

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl, textControl } from "../controls.js";
import { bindKernel } from "../kernels.js";
import { collapseGap, relativeEnergyGap } from "../observables.js";
import { makeRng } from "../random.js";
import { gaugeImages, householderGauges } from "../gauges.js";
import { SHAPES, sphereTarget } from "../targets.js";
import { PALETTE } from "../view.js";

const PROMPT_LAW_V = Object.freeze([0, 0, 1]);
const PROMPT_LAW_BETA = 1;

/**
 * Targets, Householder gauges and the maximiser for n prompts of a shape.
 *
 * @returns {{T, G, X, spec, gap: number, error: number}}
 */
export function promptLawRealization(shape, word, n, seed = 0) {
  const T = sphereTarget(shape, n, makeRng(seed), word);
  const G = householderGauges(PROMPT_LAW_V, T, n);
  const X = gaugeImages(PROMPT_LAW_V, G, n);
  const ids = Array.from({ length: n }, (_, p) => p);
  const spec = { type: "prompts", beta: PROMPT_LAW_BETA, gauges: G, aux: ids };
  const gap = relativeEnergyGap(bindKernel(spec, n, 3), X);
  let error = 0;
  for (let k = 0; k < 3 * n; k++) error = Math.max(error, Math.abs(X[k] - T[k]));
  return { T, G, X, spec, gap, error };
}

const promptLawBuilt = (run) => run.systems[0].extra;

export const promptLawExplorer = defineExplorer({
  name: "prompt_law",
  title: "Any law on the sphere: prompts with Householder gauges, x_p = G_pᵀ v = T_p",
  controls: [
    textControl("word", "your word", "USA-AV", {
      maxLength: 24, help: "the target law \"word\" writes it on the sphere",
      appliesTo: ({ shape }) => shape === "word", inactiveNote: "only the target law \"word\" uses it",
    }),
    choiceControl("shape", "target law", SHAPES, "word"),
    sliderControl("n", "prompts n", { min: 100, max: 1600, step: 100, value: 800, integer: true }),
  ],
  setup({ shape, word, n }, options) {
    const realization = promptLawRealization(shape, word, n, options.seed ?? 0);
    return {
      systems: [{
        key: "prompts",
        title: shape === "word" ? `the word “${word}”` : shape,
        X0: realization.X,
        aux: realization.spec.aux,
        spec: null,
        colour: { kind: "uniform", colour: PALETTE.blue },
        extra: realization,
      }],
    };
  },
  readouts: [
    { key: "gap", label: "relative energy gap (prompt kernel)", value: (run) => promptLawBuilt(run).gap },
    { key: "error", label: "max |G_pᵀ v − T_p|", value: (run) => promptLawBuilt(run).error },
    { key: "spread", label: "collapse gap Γ of the tokens", digits: 4, value: (run) => collapseGap(run.systems[0].X, run.systems[0].n, 3) },
  ],
  overlays() {
    return [{ kind: "marker", at: [...PROMPT_LAW_V], colour: PALETTE.vermillion, size: 7 }];
  },
});
