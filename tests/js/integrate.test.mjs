// integrate.js: the projected Heun step converges at order 2 against an
// independent reference (classical RK4 with tiny steps, written here, no
// renormalisation), keeps the sphere, increases the energy (paper Prop. 6);
// the simulation loop's bookkeeping and its argument checks.

import { test } from "node:test";
import assert from "node:assert/strict";

import { createSimulation, heunStep, heunWorkspace, vectorField } from "../../usaav/web/integrate.js";
import { bindKernel, energy, ropeSpec } from "../../usaav/web/kernels.js";
import { makeRng } from "../../usaav/web/random.js";
import { sphereDrift, uniformSphere } from "../../usaav/web/sphere.js";

const n = 8;
const d = 3;
const positions = Array.from({ length: n }, (_, i) => i / n);

function rk4Reference(field, X0, tMax, steps) {
  const size = X0.length;
  const X = Float64Array.from(X0);
  const h = tMax / steps;
  const stage = (base, k, factor) => Float64Array.from(base, (x, i) => x + factor * k[i]);
  for (let s = 0; s < steps; s++) {
    const k1 = field(X, new Float64Array(size));
    const k2 = field(stage(X, k1, h / 2), new Float64Array(size));
    const k3 = field(stage(X, k2, h / 2), new Float64Array(size));
    const k4 = field(stage(X, k3, h), new Float64Array(size));
    for (let i = 0; i < size; i++) X[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  }
  return X;
}

for (const spec of [{ type: "usa", beta: 1, aux: positions }, ropeSpec(2, 2 * Math.PI, positions, [1, 2])]) {
  test(`Heun converges at order 2 against RK4 (${spec.type}; MODEL.md §5)`, () => {
    const interaction = bindKernel(spec, n, d);
    const field = vectorField(interaction);
    const X0 = uniformSphere(n, d, makeRng(11));
    const tMax = 1;
    const reference = rk4Reference(field, X0, tMax, 2000);
    const errors = [16, 32, 64].map((steps) => {
      const X = Float64Array.from(X0);
      const work = heunWorkspace(n, d);
      for (let s = 0; s < steps; s++) heunStep(field, X, tMax / steps, n, d, work);
      return X.reduce((m, x, i) => Math.max(m, Math.abs(x - reference[i])), 0);
    });
    for (let k = 1; k < errors.length; k++) {
      const order = Math.log2(errors[k - 1] / errors[k]);
      assert.ok(order > 1.8 && order < 2.3, `observed order ${order} (errors ${errors})`);
    }
  });
}

test("vectorField gives tangent vectors; the raw clock is e^β times the rescaled one (MODEL.md §3)", () => {
  const interaction = bindKernel({ type: "usa", beta: 3, aux: positions }, n, d);
  const X = uniformSphere(n, d, makeRng(12));
  const raw = vectorField(interaction, "raw")(X, new Float64Array(n * d));
  const rescaled = vectorField(interaction, "rescaled")(X, new Float64Array(n * d));
  for (let i = 0; i < n; i++) {
    let inner = 0;
    for (let c = 0; c < d; c++) inner += X[i * d + c] * raw[i * d + c];
    assert.ok(Math.abs(inner) < 1e-14);
  }
  raw.forEach((v, k) => assert.ok(Math.abs(v - Math.exp(3) * rescaled[k]) <= 1e-14 * Math.abs(v) + 1e-300));
  assert.throws(() => vectorField(interaction, "slow"), /clock must be "raw" or "rescaled", got "slow"/);
});

test("the raw clock refuses β whose e^β overflows, the rescaled clock runs (never NaN)", () => {
  const interaction = bindKernel({ type: "usa", beta: 800, aux: positions }, n, d);
  assert.throws(() => vectorField(interaction, "raw"), /e\^β overflows in the raw clock \(β = 800 > 709\); use clock "rescaled"/);
  const simulation = createSimulation({ interaction, X0: uniformSphere(n, d, makeRng(16)), dt: 0.1, clock: "rescaled" });
  assert.ok(simulation.step(20).X.every(Number.isFinite));
});

test("Heun keeps every row on the sphere and the energy never decreases (paper Prop. 6)", () => {
  for (const spec of [{ type: "usa", beta: 2, aux: positions }, ropeSpec(1, 2 * Math.PI, positions)]) {
    const interaction = bindKernel(spec, n, d);
    const simulation = createSimulation({ interaction, X0: uniformSphere(n, d, makeRng(13)), dt: 0.02 });
    let previous = energy(interaction, simulation.X);
    for (let s = 0; s < 300; s++) {
      simulation.step();
      const current = energy(interaction, simulation.X);
      assert.ok(current >= previous - 1e-14, `${spec.type}, step ${s}: ${current} < ${previous}`);
      assert.ok(sphereDrift(simulation.X, n, d) < 1e-15);
      previous = current;
    }
  }
});

test("createSimulation: step(k) advances k steps and t by k·dt, reset restores X0 and t = 0", () => {
  const interaction = bindKernel({ type: "usa", beta: 1, aux: positions }, n, d);
  const X0 = uniformSphere(n, d, makeRng(14));
  const simulation = createSimulation({ interaction, X0, dt: 0.125, clock: "rescaled" });
  assert.notEqual(simulation.X, X0, "X0 is copied");
  simulation.step(3).step();
  assert.equal(simulation.t, 0.5);
  const manual = Float64Array.from(X0);
  const field = vectorField(interaction, "rescaled");
  for (let s = 0; s < 4; s++) heunStep(field, manual, 0.125, n, d);
  assert.deepEqual(simulation.X, manual);
  simulation.dt = 0.25;
  simulation.step(2);
  assert.equal(simulation.t, 1);
  simulation.reset(X0);
  assert.equal(simulation.t, 0);
  assert.deepEqual(simulation.X, Float64Array.from(X0));
  assert.equal(simulation.n, n);
  assert.equal(simulation.clock, "rescaled");
});

test("createSimulation refuses a bad state, step, clock or interaction with a clear message", () => {
  const interaction = bindKernel({ type: "usa", beta: 1, aux: positions }, n, d);
  const X0 = uniformSphere(n, d, makeRng(15));
  const offSphere = Float64Array.from(X0);
  offSphere[0] += 1e-3;
  assert.throws(() => createSimulation({ interaction, X0: offSphere }), /X0 must have unit rows; max \| \|x\| − 1 \| = \d\.\de-\d > tol 1e-8/);
  assert.throws(() => createSimulation({ interaction, X0: X0.subarray(3) }), /X0 must hold n\*d = 24 numbers/);
  const withNaN = Float64Array.from(X0);
  withNaN[4] = NaN;
  assert.throws(() => createSimulation({ interaction, X0: withNaN }), /X0 must be finite/);
  assert.throws(() => createSimulation({ interaction, X0, dt: 0 }), /dt must be a finite number > 0, got 0/);
  assert.throws(() => createSimulation({ interaction, X0, clock: "wall" }), /clock must be "raw" or "rescaled"/);
  assert.throws(() => createSimulation({ interaction: {}, X0 }), /interaction must be a bound interaction/);
  const simulation = createSimulation({ interaction, X0 });
  assert.throws(() => (simulation.dt = -1), /dt must be a finite number > 0/);
  assert.throws(() => simulation.step(1.5), /k must be an integer >= 0/);
});
