// The standard scenarios of MODEL.md §6.2 as kernel specs, built in the
// browser from the table that Python exports (usaav.scenarios.as_json()):
// the Python constructors of the explorers pass that JSON in their options
// (so the static page's placeholder carries it too), and this module turns
// one row into a spec for bindKernel.  The parameters live in Python only.
// tests/js/scenarios.test.mjs checks the specs against usaav.specs.to_spec
// and the forces against usaav.velocity; tests/js/explorers.test.mjs the
// explorers' kernels against the Python scenarios.

import { generalizedRopeGauges, promptGauges } from "./gauges.js";

/** Positions s_i = i/n, i = 0..n-1 (usaav.labels.grid_positions; MODEL.md §6.1): the labels of every scenario but the prompts. */
export function gridPositions(n) {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = i / n;
  return s;
}

/**
 * Kernel spec, labels and colour values of one scenario for n particles
 * (usaav.scenarios.setup).
 *
 * @param {object} scenario  a row of usaav.scenarios.as_json().scenarios
 * @param {number} n
 * @param {object} [overrides]  parameters replacing the row's defaults (unknown names throw)
 * @param {?{uniform(): number, normal(): number}} [rng]  draws random prompt gauges (makeRng(seed))
 * @returns {{spec: object, values: number[], parameters: object}}
 */
export function scenarioSpec(scenario, n, overrides = {}, rng = null) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`);
  const unknown = Object.keys(overrides).filter((name) => !(name in scenario.parameters));
  if (unknown.length) {
    throw new TypeError(`scenario ${scenario.key} has no parameter(s) ${unknown.join(", ")}; `
      + `its parameters are ${Object.keys(scenario.parameters).sort().join(", ")}`);
  }
  const p = { ...scenario.parameters, ...overrides };
  const positions = Array.from(gridPositions(n));
  let spec;
  switch (scenario.spec_type) {
    case "usa":
      spec = { type: "usa", beta: p.beta, aux: positions };
      break;
    case "distance_bias":
      spec = { type: "distance_bias", beta: p.beta, length: p.length, profile: p.profile, aux: positions };
      break;
    case "toeplitz":
      if (!Number.isInteger(p.m) || p.m < 1) throw new RangeError(`m must be an integer >= 1, got ${p.m}`);
      spec = { type: "toeplitz", coefficients: { 0: p.a0, [p.m]: p.a1 }, aux: positions };
      break;
    case "rope":
      spec = { type: "rope", beta: p.beta, theta: p.theta, plane: [...p.plane], aux: positions };
      break;
    case "gauge":
      spec = { type: "gauge", beta: p.beta, gauges: generalizedRopeGauges(positions, p.alpha, p.m), aux: positions };
      break;
    case "prompts": {
      if (rng === null && p.layout !== "phases in one plane") {
        throw new TypeError(`the prompts scenario with layout "${p.layout}" needs an rng (makeRng(seed))`);
      }
      const ids = positions.map((_, i) => i % p.n_prompts);
      spec = { type: "prompts", beta: p.beta, gauges: promptGauges(p.n_prompts, p.layout, rng), aux: ids };
      break;
    }
    default:
      throw new RangeError(`unknown spec_type ${scenario.spec_type} in scenario ${scenario.key}`);
  }
  return { spec, values: spec.aux.slice(), parameters: p };
}

/** The predicted final law of a scenario, its {name} fields filled in (Scenario.predicted_law). */
export function scenarioPrediction(scenario, overrides = {}) {
  const p = { ...scenario.parameters, ...overrides };
  return scenario.prediction.replace(/\{(\w+)\}/g, (_, name) => String(p[name]));
}
