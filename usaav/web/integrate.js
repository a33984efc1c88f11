// The projected Heun step and a kernel-agnostic simulation loop: the browser
// twin of usaav/integrate.py and usaav.simulate (MODEL.md §5).
//
// The loop only ever sees a vector field f(X, out); it never knows which
// kernel produced it (STYLE.md principles 1 and 11, like d3-force's
// simulation, which knows nothing of its forces).

import { clockFactor } from "./kernels.js";
import { normalizeRows, sphereDrift } from "./sphere.js";

/**
 * The right-hand side X ↦ (e^σ P_{x_i} v_i)_i of the finite-particle system
 * (MODEL.md §2), with v the interaction's drift; the factor e^σ is dropped
 * in the rescaled clock t' = e^σ t (MODEL.md §3). Throws a RangeError when
 * e^σ overflows (β > 709 in the raw clock) instead of producing NaN.
 *
 * @param {object} interaction  from bindKernel
 * @param {"raw"|"rescaled"} [clock="raw"]
 * @returns {(X: Float64Array, out: Float64Array) => Float64Array}
 */
export function vectorField(interaction, clock = "raw") {
  const factor = clockFactor(interaction, clock);
  if (!Number.isFinite(factor)) {
    throw new RangeError(
      `e^β overflows in the raw clock (β = ${interaction.logScale} > 709); use clock "rescaled" (MODEL.md §3)`,
    );
  }
  const { n, d } = interaction;
  const drift = new Float64Array(n * d);
  return function field(X, out = new Float64Array(n * d)) {
    interaction.drift(X, drift);
    for (let i = 0, row = 0; i < n; i++, row += d) {
      let inner = 0;
      for (let c = 0; c < d; c++) inner += X[row + c] * drift[row + c];
      for (let c = 0; c < d; c++) out[row + c] = factor * (drift[row + c] - inner * X[row + c]);
    }
    return out;
  };
}

/**
 * Scratch arrays for heunStep (three n*d arrays), allocated once per simulation.
 *
 * @param {number} n
 * @param {number} d
 * @returns {{k1: Float64Array, k2: Float64Array, trial: Float64Array}}
 */
export function heunWorkspace(n, d) {
  return { k1: new Float64Array(n * d), k2: new Float64Array(n * d), trial: new Float64Array(n * d) };
}

/**
 * One projected Heun step (MODEL.md §5; paper App. B.1):
 * k₁ = f(X), X̃ = normalize(X + h k₁), k₂ = f(X̃), X⁺ = normalize(X + (h/2)(k₁ + k₂)).
 *
 * X is overwritten with X⁺ and returned (no allocation when `work` is given).
 *
 * @param {(X: Float64Array, out: Float64Array) => Float64Array} field
 * @param {Float64Array} X  n*d unit rows, overwritten
 * @param {number} dt  step h
 * @param {number} n
 * @param {number} d
 * @param {{k1, k2, trial}} [work]  from heunWorkspace(n, d)
 * @returns {Float64Array} X, now X⁺
 */
export function heunStep(field, X, dt, n, d, work = heunWorkspace(n, d)) {
  const { k1, k2, trial } = work;
  field(X, k1);
  for (let k = 0; k < n * d; k++) trial[k] = X[k] + dt * k1[k];
  field(normalizeRows(trial, n, d), k2);
  const half = 0.5 * dt;
  for (let k = 0; k < n * d; k++) X[k] += half * (k1[k] + k2[k]);
  return normalizeRows(X, n, d);
}

/** Largest | |x_i| − 1 | accepted for an initial state (usaav._validation.UNIT_TOL). */
export const UNIT_ROW_TOL = 1e-8;

function checkedState(X0, n, d) {
  if (X0 === null || typeof X0 !== "object" || X0.length !== n * d) {
    throw new RangeError(`X0 must hold n*d = ${n * d} numbers (n = ${n}, d = ${d}), got ${X0?.length ?? X0}`);
  }
  const X = Float64Array.from(X0);
  if (!X.every(Number.isFinite)) throw new RangeError("X0 must be finite; it has NaN or infinite entries");
  const drift = sphereDrift(X, n, d);
  if (drift > UNIT_ROW_TOL) {
    throw new RangeError(`X0 must have unit rows; max | |x| − 1 | = ${drift.toExponential(1)} > tol ${UNIT_ROW_TOL} (normalizeRows projects onto the sphere)`);
  }
  return X;
}

/**
 * A simulation: the state X and time t of the projected Heun scheme for one
 * interaction (like usaav.simulate, one step at a time).
 *
 * @param {object} options
 * @param {object} options.interaction  from bindKernel
 * @param {ArrayLike<number>} options.X0  n*d unit rows (copied)
 * @param {number} [options.dt=0.05]  Heun step h (> 0); may be changed later through `sim.dt`
 * @param {"raw"|"rescaled"} [options.clock="raw"]
 * @returns {{X: Float64Array, t: number, dt: number, n: number, d: number, clock: string,
 *   interaction: object, step: (k?: number) => object, reset: (X0: ArrayLike<number>) => object}}
 *   step(k) advances k Heun steps; reset(X0) sets X ← X0, t ← 0. Both return the simulation.
 */
export function createSimulation({ interaction, X0, dt = 0.05, clock = "raw" }) {
  if (interaction === null || typeof interaction !== "object" || typeof interaction.drift !== "function") {
    throw new TypeError("interaction must be a bound interaction (bindKernel(spec, n, d))");
  }
  const { n, d } = interaction;
  const checkStep = (h) => {
    if (typeof h !== "number" || !Number.isFinite(h) || !(h > 0)) {
      throw new RangeError(`dt must be a finite number > 0, got ${h}`);
    }
    return h;
  };
  const field = vectorField(interaction, clock);
  const work = heunWorkspace(n, d);
  let X = checkedState(X0, n, d);
  let t = 0;
  let step = checkStep(dt);

  const simulation = {
    get X() {
      return X;
    },
    get t() {
      return t;
    },
    get dt() {
      return step;
    },
    set dt(h) {
      step = checkStep(h);
    },
    n,
    d,
    clock,
    interaction,
    field,
    step(k = 1) {
      if (!Number.isInteger(k) || k < 0) throw new RangeError(`k must be an integer >= 0, got ${k}`);
      for (let s = 0; s < k; s++) {
        heunStep(field, X, step, n, d, work);
        t += step;
      }
      return simulation;
    },
    reset(X0Next) {
      X = checkedState(X0Next, n, d);
      t = 0;
      return simulation;
    },
  };
  return simulation;
}
