// The browser twin against the Python library, in the same test run.
//
// library_fixture.py draws X0 with usaav.uniform_sphere, writes every kernel
// as a spec with usaav.specs.to_spec and integrates 200 projected Heun steps
// with usaav.simulate; here the twin binds the same spec, integrates from the
// same X0 with the same step sizes, and must land on the same frames.
//
// Tolerances. Two float64 implementations of the same scheme differ by
// rounding (summation order, exp to within an ulp) at every step, and the
// flow amplifies such differences: near a saddle (two clusters about to
// merge) the library itself turns a 1e-15 change of X0 into 3e-9 or 3e-4
// after 200 steps at β = 4. So the fixture measures that *envelope* (two
// library runs, from X0 and from X0 moved by 1e-15 and renormalised) and the
// twin must stay within ENVELOPE_MULTIPLE = 10 times it. Why 10: the twin's
// differences are injected at every step, about 1e-16 each, rather than
// once; if they add like a random walk over 200 steps their amplified sum is
// about √200 · 1e-16 / 1e-15 ≈ 1.4 envelopes (measured: at most 2.4 over all
// cases), and 10 leaves room for an unlucky state while any real error in a
// force (relative 1e-12 or more) exceeds the envelope by orders of magnitude.
// Where β ≤ 1 (and for Toeplitz) the flow contracts and an absolute
// rule holds as well: positions to 1e-10, energies to 1e-10 relative.

import { test } from "node:test";
import assert from "node:assert/strict";

import { generalizedRopeGauges } from "../../usaav/web/gauges.js";
import { bindKernel, energy, plainSpec, ropeSpec } from "../../usaav/web/kernels.js";
import { heunStep, heunWorkspace, vectorField } from "../../usaav/web/integrate.js";
import {
  collapseGap,
  conditionalDiameter,
  countClusters,
  eulerLagrangeResidual,
  gaugeGap,
  relativeEnergyGap,
  windingNumber,
} from "../../usaav/web/observables.js";
import { haarRotations, makeRng } from "../../usaav/web/random.js";
import { uniformSphere } from "../../usaav/web/sphere.js";
import { runLibraryFixture } from "./library.mjs";

const ENVELOPE_MULTIPLE = 10;
// Floors of the envelope rule: the size of the perturbation itself, and the
// rounding of an O(n²) pair sum relative to its value.
const POSITION_FLOOR = 1e-15;
const ENERGY_FLOOR = 1e-14;
const ABSOLUTE_POSITIONS = 1e-10;
const RELATIVE_ENERGY = 1e-10;

function maxAbsDifference(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

function maxAbs(a) {
  return a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

// Specs built by the twin itself, checked by the library (browser → Python).
function twinBuiltSpecs() {
  const rng = makeRng(2024);
  const positions = Array.from({ length: 10 }, (_, i) => i / 10);
  const separatedWeights = new Float64Array(100);
  for (let i = 0; i < 10; i++) {
    for (let j = 0; j < 10; j++) separatedWeights[i * 10 + j] = Math.exp(-Math.abs(positions[i] - positions[j]));
  }
  const specs = [
    { name: "ropeSpec, plane [0, 2]", d: 3, spec: ropeSpec(1.5, 2 * Math.PI, positions, [0, 2]) },
    {
      name: "generalizedRopeGauges in d = 4",
      d: 4,
      spec: { type: "gauge", beta: 2, gauges: generalizedRopeGauges(positions, 0.7, 2, 4), aux: positions },
    },
    {
      name: "haarRotations prompts",
      d: 3,
      spec: { type: "prompts", beta: 1, gauges: haarRotations(3, 3, rng), aux: positions.map((_, i) => i % 3) },
    },
    { name: "separated, typed weights", d: 3, spec: { type: "separated", beta: 0.5, weights: separatedWeights, aux: positions } },
    {
      name: "phase_field, typed phases",
      d: 2,
      spec: { type: "phase_field", beta: 3, phases: Float64Array.from(positions, (s) => 5 * s * s), plane: [1, 0], aux: positions },
    },
    { name: "toeplitz", d: 3, spec: { type: "toeplitz", coefficients: { 0: 0.5, 1: 1 }, aux: positions } },
    { name: "distance_bias gaussian", d: 3, spec: { type: "distance_bias", beta: 2, length: 0.3, profile: "gaussian", aux: positions } },
  ];
  return specs.map(({ name, d, spec }) => ({
    name,
    d,
    spec: plainSpec(spec, d),
    X: Array.from(uniformSphere(positions.length, d, rng)),
  }));
}

const jsSpecs = twinBuiltSpecs();
const library = runLibraryFixture({ jsSpecs });

/** Heun steps as usaav.simulate takes them: dt, the last one shortened to land on tMax. */
function libraryStepSizes(dt, tMax) {
  const count = Math.max(1, Math.ceil(tMax / dt - 1e-9));
  return Array.from({ length: count }, (_, k) => (k + 1 < count ? dt : tMax - (count - 1) * dt));
}

function twinFrames(c) {
  const interaction = bindKernel(c.spec, c.n, c.d);
  const field = vectorField(interaction, c.clock);
  const work = heunWorkspace(c.n, c.d);
  const X = Float64Array.from(c.X0);
  const frames = [Float64Array.from(X)];
  const energies = [energy(interaction, X, c.clock)];
  const steps = libraryStepSizes(c.dt, c.tMax);
  steps.forEach((h, k) => {
    heunStep(field, X, h, c.n, c.d, work);
    if ((k + 1) % c.recordEvery === 0 || k + 1 === steps.length) {
      frames.push(Float64Array.from(X));
      energies.push(energy(interaction, X, c.clock));
    }
  });
  return { interaction, frames, energies };
}

const contracting = (spec) => spec.type === "toeplitz" || spec.beta <= 1;

for (const c of library.cases) {
  const label = `${c.name} (n = ${c.n}, d = ${c.d}, ${c.clock} clock)`;

  test(`${label}: the velocity at X0 equals usaav.velocity`, () => {
    const interaction = bindKernel(c.spec, c.n, c.d);
    const velocity = vectorField(interaction, c.clock)(Float64Array.from(c.X0), new Float64Array(c.n * c.d));
    const error = maxAbsDifference(velocity, c.velocity0);
    assert.ok(error <= 1e-13 * maxAbs(c.velocity0), `max |Δv| = ${error.toExponential(2)}, |v| = ${maxAbs(c.velocity0)}`);
  });

  test(`${label}: 200 Heun steps stay within ${ENVELOPE_MULTIPLE}× the library's rounding envelope`, () => {
    const { frames, energies } = twinFrames(c);
    assert.equal(frames.length, c.frames.length, "number of recorded frames");
    frames.forEach((X, k) => {
      const error = maxAbsDifference(X, c.frames[k]);
      const allowed = ENVELOPE_MULTIPLE * Math.max(c.envelope[k], POSITION_FLOOR);
      assert.ok(error <= allowed, `frame ${k} (t = ${c.t[k]}): max |ΔX| = ${error.toExponential(2)} > ${allowed.toExponential(2)} (envelope ${c.envelope[k].toExponential(2)})`);
      const energyError = Math.abs(energies[k] / c.energy[k] - 1);
      const energyAllowed = ENVELOPE_MULTIPLE * Math.max(c.energyEnvelope[k], ENERGY_FLOOR);
      assert.ok(energyError <= energyAllowed, `frame ${k}: relative ΔE = ${energyError.toExponential(2)} > ${energyAllowed.toExponential(2)}`);
    });
  });

  if (contracting(c.spec)) {
    test(`${label}: positions agree to ${ABSOLUTE_POSITIONS}, energies to ${RELATIVE_ENERGY} relative`, () => {
      const { frames, energies } = twinFrames(c);
      frames.forEach((X, k) => {
        assert.ok(maxAbsDifference(X, c.frames[k]) <= ABSOLUTE_POSITIONS, `frame ${k}`);
        assert.ok(Math.abs(energies[k] / c.energy[k] - 1) <= RELATIVE_ENERGY, `energy at frame ${k}`);
      });
    });
  }

  for (const [when, X] of [["X0", c.X0], ["the final frame", c.frames.at(-1)]]) {
    test(`${label}: observables at ${when} equal the library's`, () => {
      const expected = c.observables[when === "X0" ? "initial" : "final"];
      const interaction = bindKernel(c.spec, c.n, c.d);
      const state = Float64Array.from(X);
      const close = (name, value, reference, tol) =>
        assert.ok(Math.abs(value - reference) <= tol, `${name}: twin ${value}, library ${reference}`);
      close("collapseGap", collapseGap(state, c.n, c.d), expected.collapseGap, 1e-14);
      close("gaugeGap", gaugeGap(interaction, state), expected.gaugeGap, 1e-14);
      close("conditionalDiameter", conditionalDiameter(state, c.spec.aux, c.n, c.d), expected.conditionalDiameter, 1e-14);
      close("eulerLagrangeResidual", eulerLagrangeResidual(interaction, state), expected.eulerLagrangeResidual, 1e-13);
      if (expected.relativeEnergyGap === null) {
        assert.throws(() => relativeEnergyGap(interaction, state), /known positive maximum/);
      } else {
        close("relativeEnergyGap", relativeEnergyGap(interaction, state), expected.relativeEnergyGap, 1e-13);
      }
      for (const [threshold, count] of Object.entries(expected.clusters)) {
        assert.equal(countClusters(state, c.n, c.d, Number(threshold)), count, `clusters at threshold ${threshold}`);
      }
      // The winding number's sign follows the orientation chosen for the
      // principal plane (the library's follows LAPACK's SVD): compare |w|,
      // and only where that plane is well defined.
      const s = expected.singularValues;
      if (s[1] > 1e-6 * s[0] && (c.d === 2 || s[1] > 1.01 * s[2])) {
        close("|windingNumber|", Math.abs(windingNumber(state, c.spec.aux, c.n, c.d)), Math.abs(expected.windingNumber), 1e-9);
      }
    });
  }

  if (c.wavy) {
    test(`${label}: generalizedRopeGauges equals the gauge built with usaav.rotation`, () => {
      const gauges = generalizedRopeGauges(c.spec.aux, c.wavy.alpha, c.wavy.m, c.d);
      assert.ok(maxAbsDifference(gauges, c.spec.gauges.flat(2)) <= 1e-15);
    });
  }
}

test("the fixture covers every kernel type, both clocks, d = 2, 3 and d >= 4, odd n and planes other than (0, 1)", () => {
  const cases = library.cases;
  const types = new Set(cases.map((c) => c.spec.type));
  for (const type of ["usa", "distance_bias", "separated", "rope", "phase_field", "gauge", "prompts", "toeplitz"]) {
    assert.ok(types.has(type), type);
  }
  assert.deepEqual(new Set(cases.map((c) => c.clock)), new Set(["raw", "rescaled"]));
  for (const d of [2, 3]) assert.ok(cases.some((c) => c.d === d), `d = ${d}`);
  assert.ok(cases.some((c) => c.d >= 4), "d >= 4");
  assert.ok(cases.some((c) => c.n % 2 === 1), "odd n");
  assert.ok(cases.some((c) => c.spec.plane && String(c.spec.plane) !== "0,1"), "another plane");
  assert.ok(cases.some((c) => Math.max(...c.envelope) > 1e-6), "a case where rounding is amplified");
});

for (const [k, reference] of library.jsSpecs.entries()) {
  const { name, d, spec, X } = jsSpecs[k];
  test(`spec built by the twin (${name}): usaav.specs.from_spec gives the twin's velocity and energy`, () => {
    const n = spec.aux.length;
    const interaction = bindKernel(spec, n, d);
    const velocity = vectorField(interaction, "raw")(Float64Array.from(X), new Float64Array(n * d));
    const error = maxAbsDifference(velocity, reference.velocity);
    assert.ok(error <= 1e-13 * maxAbs(reference.velocity), `max |Δv| = ${error}`);
    assert.ok(Math.abs(energy(interaction, Float64Array.from(X)) / reference.energy - 1) <= 1e-13);
  });
}
