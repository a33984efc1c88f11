// The kernels of the book's galleries as specs (MODEL.md §3, §6.2), built in
// the browser: the set-ups of chapter 2 (usaav.widgets.scenario) and of the
// paper's §6.2 (usaav.experiments.gallery_setup).  Each returns the spec and
// the colour description of its labels; the initial cloud is the caller's.

import { generalizedRopeGauges } from "../kernels.js";
import { haarRotations } from "../random.js";
import {
  baselineSpec,
  distanceBiasSpec,
  fullTurnRopeSpec,
  gridPositions,
  planeRotations,
  positionColour,
  promptColour,
} from "./common.js";

/** Toeplitz c(r) = a0 + a1 cos(2π m r) as a spec (MODEL.md §3, Prop. 10). */
export function toeplitzSpec(a0, a1, m, positions) {
  return { type: "toeplitz", coefficients: { 0: a0, [m]: a1 }, aux: Array.from(positions) };
}

/** Generalised RoPE G(s) = R^{(12)}_{2πs} R^{(13)}_{α sin 2πms} (MODEL.md §3, §6.2 (v)). */
export function wavyRopeSpec(beta, alpha, m, positions) {
  return { type: "gauge", beta, gauges: generalizedRopeGauges(positions, alpha, m), aux: Array.from(positions) };
}

function promptsSystem(beta, gauges, count, n) {
  const ids = Float64Array.from({ length: n }, (_, i) => i % count);
  return { spec: { type: "prompts", beta, gauges, aux: Array.from(ids) }, colour: promptColour(ids, count) };
}

/** The six kernels of chapter 2's gallery, in its order. */
export const BOOK_GALLERY = Object.freeze(["baseline", "distance bias", "Toeplitz", "RoPE", "generalized RoPE", "prompts"]);

/**
 * Chapter 2's scenarios (as usaav.widgets.scenario): distance bias of length
 * 0.1, Toeplitz c(r) = 0.2 + cos 4πr, RoPE θ = 2π, generalised RoPE α = 0.6,
 * m = 3, four prompts with gauges R^{(12)}_{φ_p}, φ_p uniform from `rng`.
 */
export function bookScenario(name, beta, n, rng) {
  const positions = gridPositions(n);
  const byPosition = (spec) => ({ spec, colour: positionColour(positions) });
  switch (name) {
    case "baseline": return byPosition(baselineSpec(beta, positions));
    case "distance bias": return byPosition(distanceBiasSpec(beta, positions, 0.1));
    case "Toeplitz": return byPosition(toeplitzSpec(0.2, 1.0, 2, positions));
    case "RoPE": return byPosition(fullTurnRopeSpec(beta, positions));
    case "generalized RoPE": return byPosition(wavyRopeSpec(beta, 0.6, 3, positions));
    case "prompts": {
      const phases = Array.from({ length: 4 }, () => 2 * Math.PI * rng.uniform());
      return promptsSystem(beta, planeRotations(phases), 4, n);
    }
    default: throw new Error(`scenario must be one of ${BOOK_GALLERY.join(", ")}, got ${name}`);
  }
}

/** Scenario keys and titles of the paper's §6.2, cases (i)–(vi) (usaav.experiments.gallery.TITLES). */
export const PAPER_SCENARIOS = Object.freeze([
  ["baseline", "(i) baseline USA"],
  ["distance_bias", "(ii) distance bias"],
  ["toeplitz", "(iii) Toeplitz"],
  ["rope", "(iv) RoPE"],
  ["generalized_rope", "(v) generalised RoPE"],
  ["prompts", "(vi) fixed prompts"],
]);

/**
 * One §6.2 scenario with its knob m (usaav.experiments.gallery_setup with
 * toeplitz = (0.2, 1, m), wavy = (0.5, m), n_prompts = m): distance bias of
 * length 0.25, m Haar-random prompt rotations drawn from `rng`.
 */
export function paperScenario(scenario, { beta, m, n, rng }) {
  const positions = gridPositions(n);
  const byPosition = (spec) => ({ spec, colour: positionColour(positions) });
  switch (scenario) {
    case "baseline": return byPosition(baselineSpec(beta, positions));
    case "distance_bias": return byPosition(distanceBiasSpec(beta, positions, 0.25));
    case "toeplitz": return byPosition(toeplitzSpec(0.2, 1.0, m, positions));
    case "rope": return byPosition(fullTurnRopeSpec(beta, positions));
    case "generalized_rope": return byPosition(wavyRopeSpec(beta, 0.5, m, positions));
    case "prompts": return promptsSystem(beta, haarRotations(m, 3, rng), m, n);
    default: throw new Error(`scenario must be one of ${PAPER_SCENARIOS.map(([k]) => k).join(", ")}, got ${scenario}`);
  }
}
