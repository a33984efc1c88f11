// kernels.js against independent computations in JavaScript: a naive loop
// over all ordered pairs written straight from the table of MODEL.md §3
// (matrices G(a), no gauge frame, no shift, no symmetry), finite differences
// of the energy, and the checks of bad specs. The comparison with the Python
// library is in twin_vs_library.test.mjs.

import { test } from "node:test";
import assert from "node:assert/strict";

import { generalizedRopeGauges } from "../../usaav/web/gauges.js";
import {
  bindKernel,
  energy,
  plainSpec,
  ropeSpec,
} from "../../usaav/web/kernels.js";
import { haarRotations, makeRng } from "../../usaav/web/random.js";
import { rotationMatrix, uniformSphere } from "../../usaav/web/sphere.js";

const n = 9;
const positions = Array.from({ length: n }, (_, i) => (i * 0.37) % 1);

function periodicDistance(a, b) {
  const r = Math.abs(a - b) % 1;
  return Math.min(r, 1 - r);
}

function identity(d) {
  return rotationMatrix(0, d);
}

/** K, ∇_x K as plain functions of (x, a, y, b) for each spec (MODEL.md §3). */
function formula(spec, d) {
  const beta = spec.beta;
  const dot = (x, y) => x.reduce((s, v, c) => s + v * y[c], 0);
  const apply = (G, x, transpose = false) =>
    x.map((_, r) => x.reduce((s, v, c) => s + (transpose ? G[c * d + r] : G[r * d + c]) * v, 0));
  const exponential = (gauge, weight) => ({
    value: (x, i, y, j) => (weight(i, j) * Math.exp(beta * dot(apply(gauge(i), x), apply(gauge(j), y)))) / beta,
    gradient: (x, i, y, j) => {
      const e = weight(i, j) * Math.exp(beta * dot(apply(gauge(i), x), apply(gauge(j), y)));
      return apply(gauge(i), apply(gauge(j), y), true).map((v) => e * v); // e · G(a)ᵀ G(b) y
    },
    scale: Math.exp(beta),
  });
  const one = () => 1;
  const none = () => identity(d);
  switch (spec.type) {
    case "usa":
      return exponential(none, one);
    case "distance_bias":
      return exponential(none, (i, j) => {
        const r = periodicDistance(spec.aux[i], spec.aux[j]) / spec.length;
        return spec.profile === "gaussian" ? Math.exp(-0.5 * r * r) : Math.exp(-r);
      });
    case "separated":
      return exponential(none, (i, j) => spec.weights[i][j]);
    case "rope":
      return exponential((i) => rotationMatrix(spec.theta * spec.aux[i], d, spec.plane), one);
    case "phase_field":
      return exponential((i) => rotationMatrix(spec.phases[i], d, spec.plane), one);
    case "gauge":
      return exponential((i) => Float64Array.from(spec.gauges.slice(i * d * d, (i + 1) * d * d)), one);
    case "prompts":
      return exponential((i) => Float64Array.from(spec.gauges.slice(spec.aux[i] * d * d, (spec.aux[i] + 1) * d * d)), one);
    case "toeplitz": {
      const c = (r) => Object.entries(spec.coefficients).reduce((s, [k, ck]) => s + ck * Math.cos(2 * Math.PI * k * r), 0);
      return {
        value: (x, i, y, j) => c(spec.aux[i] - spec.aux[j]) * dot(x, y),
        gradient: (x, i, y, j) => y.map((v) => c(spec.aux[i] - spec.aux[j]) * v),
        scale: 1,
      };
    }
    default:
      throw new Error(spec.type);
  }
}

function specs(d) {
  const rng = makeRng(100 + d);
  const weights = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => Math.cos(2 * Math.PI * (positions[i] - positions[j])) + 0.2));
  return [
    { type: "usa", beta: 1.3, aux: positions },
    { type: "distance_bias", beta: 2, length: 0.2, profile: "exponential", aux: positions },
    { type: "distance_bias", beta: 0.7, length: 0.3, profile: "gaussian", aux: positions },
    { type: "separated", beta: 1.1, weights, aux: positions },
    ropeSpec(1.7, 2 * Math.PI, positions, [d - 1, 0]),
    { type: "phase_field", beta: 2.5, phases: positions.map((s) => 4 * s * s - 1), plane: d === 2 ? [1, 0] : [1, d - 1], aux: positions },
    { type: "gauge", beta: 0.9, gauges: Array.from(haarRotations(n, d, rng)), aux: positions },
    { type: "prompts", beta: 1.4, gauges: Array.from(haarRotations(4, d, rng)), aux: positions.map((_, i) => (i * 3) % 4) },
    { type: "toeplitz", coefficients: { 0: 0.3, 1: 1, 4: -0.5 }, aux: positions },
  ];
}

for (const d of [2, 3, 4]) {
  for (const spec of specs(d)) {
    const label = `${spec.type}${spec.profile ? ` (${spec.profile})` : ""}, d = ${d}`;
    const X = uniformSphere(n, d, makeRng(7 * d));
    const rows = Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * d, (i + 1) * d)));
    const K = formula(spec, d);

    test(`${label}: drift and energy equal the naive sums over all pairs of MODEL.md §3`, () => {
      const interaction = bindKernel(spec, n, d);
      const drift = interaction.drift(X);
      let energySum = 0;
      for (let i = 0; i < n; i++) {
        const sum = new Array(d).fill(0);
        for (let j = 0; j < n; j++) {
          K.gradient(rows[i], i, rows[j], j).forEach((v, c) => (sum[c] += v));
          energySum += K.value(rows[i], i, rows[j], j);
        }
        for (let c = 0; c < d; c++) {
          const expected = sum[c] / n / K.scale; // drift is e^{−σ} (1/n) Σ_j ∇_x K
          assert.ok(Math.abs(drift[i * d + c] - expected) <= 1e-14 * (1 + Math.abs(expected)), `drift[${i}][${c}]`);
        }
      }
      const expectedEnergy = energySum / (2 * n * n);
      assert.ok(Math.abs(energy(interaction, X) / expectedEnergy - 1) <= 1e-13, `${energy(interaction, X)} vs ${expectedEnergy}`);
      assert.ok(Math.abs(energy(interaction, X, "rescaled") * K.scale / expectedEnergy - 1) <= 1e-13, "rescaled energy");
    });

    test(`${label}: the drift is e^{−σ} n times the gradient of the energy (finite differences)`, () => {
      const interaction = bindKernel(spec, n, d);
      const drift = interaction.drift(X);
      const h = 1e-6;
      for (const k of [0, d + 1, n * d - 1]) {
        const plus = Float64Array.from(X);
        const minus = Float64Array.from(X);
        plus[k] += h;
        minus[k] -= h;
        const derivative = (energy(interaction, plus, "rescaled") - energy(interaction, minus, "rescaled")) / (2 * h);
        // Central differences: error O(h²) ≈ 1e-12 plus rounding 1e-16/h ≈ 1e-10.
        assert.ok(Math.abs(n * derivative - drift[k]) <= 1e-8, `coordinate ${k}: ${n * derivative} vs ${drift[k]}`);
      }
    });

    test(`${label}: plainSpec survives JSON and binds to the same interaction`, () => {
      const again = bindKernel(JSON.parse(JSON.stringify(plainSpec(spec, d))), n, d);
      assert.deepEqual(again.drift(X), bindKernel(spec, n, d).drift(X));
    });
  }
}

test("a RoPE spec and the gauge spec of its matrices R_{θ s} give the same forces (evaluation in the gauge frame)", () => {
  const d = 3;
  const X = uniformSphere(n, d, makeRng(8));
  const rope = bindKernel(ropeSpec(2, 5, positions, [0, 2]), n, d);
  const gauges = positions.flatMap((s) => Array.from(rotationMatrix(5 * s, d, [0, 2])));
  const gauge = bindKernel({ type: "gauge", beta: 2, gauges, aux: positions }, n, d);
  rope.drift(X).forEach((v, k) => assert.ok(Math.abs(v - gauge.drift(X)[k]) < 1e-15));
  rope.gaugeFrame(X).forEach((v, k) => assert.ok(Math.abs(v - gauge.gaugeFrame(X)[k]) < 1e-15));
});

test("generalizedRopeGauges is R^(12)_{2πs} R^(13)_{α sin 2πms}: orthogonal, identity at s = 0", () => {
  const G = generalizedRopeGauges([0, 0.25], 0.6, 3);
  G.subarray(0, 9).forEach((v, k) => assert.equal(v, k % 4 === 0 ? 1 : 0)); // −0 == 0 here
  // At s = 1/4: R^(12)_{π/2} R^(13)_{0.6 sin(3π/2)} = R^(12)_{π/2} R^(13)_{−0.6}.
  const A = rotationMatrix(Math.PI / 2, 3, [0, 1]);
  const B = rotationMatrix(-0.6, 3, [0, 2]);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      const expected = [0, 1, 2].reduce((s, k) => s + A[r * 3 + k] * B[k * 3 + c], 0);
      assert.ok(Math.abs(G[9 + r * 3 + c] - expected) < 1e-16);
    }
  }
  assert.throws(() => generalizedRopeGauges([0.5], 0.6, 3, 2), /d must be an integer >= 3/);
});

test("nothing overflows at β = 500: drift, rescaled energy and pair sums are finite", () => {
  const d = 3;
  const X = uniformSphere(40, d, makeRng(9));
  const aux = Array.from({ length: 40 }, (_, i) => i / 40);
  for (const spec of [{ type: "usa", beta: 500, aux }, ropeSpec(500, 2 * Math.PI, aux), { type: "distance_bias", beta: 500, length: 0.1, aux }]) {
    const interaction = bindKernel(spec, 40, d);
    assert.ok(interaction.drift(X).every(Number.isFinite), spec.type);
    const e = energy(interaction, X, "rescaled");
    assert.ok(Number.isFinite(e) && e > 0 && e <= 1 / 1000, `${spec.type}: e^{−β} E = ${e} <= 1/(2β)`);
  }
});

test("bad specs are refused with a message naming the field, what was expected and what was given", () => {
  const aux = [0, 0.5, 0.25];
  const cases = [
    [null, TypeError, /spec must be a kernel spec object/],
    [{ type: "usaa", beta: 1, aux }, RangeError, /spec.type must be one of usa, .*; got "usaa"/],
    [{ type: "usa", beta: 0, aux }, RangeError, /spec.beta must be a finite number > 0, got 0/],
    [{ type: "usa", beta: "1", aux }, TypeError, /spec.beta must be a number, got "1"/],
    [{ type: "usa", beta: Infinity, aux }, RangeError, /spec.beta must be a finite number > 0/],
    [{ type: "usa", beta: 1, aux: [0, 1] }, RangeError, /spec.aux must have length 3/],
    [{ type: "usa", beta: 1 }, TypeError, /spec.aux must be an array of 3 labels, got undefined/],
    [{ type: "usa", beta: 1, aux: [0, NaN, 1] }, RangeError, /spec.aux must hold finite numbers/],
    [{ type: "rope", beta: 1, theta: 1, aux: [0, 2, 0.5] }, RangeError, /positions in \[0, 1\] for "rope", got aux\[1\] = 2/],
    [{ type: "rope", beta: 1, theta: 1, plane: [0, 3], aux }, RangeError, /spec.plane must be two distinct axes below d = 3, got \[0, 3\]/],
    [{ type: "rope", beta: 1, theta: 1, plane: [1, 1], aux }, RangeError, /two distinct axes/],
    [{ type: "distance_bias", beta: 1, length: 0.1, profile: "cauchy", aux }, RangeError, /spec.profile must be "exponential" or "gaussian"/],
    [{ type: "distance_bias", beta: 1, length: -1, aux }, RangeError, /spec.length must be a finite number > 0/],
    [{ type: "separated", beta: 1, weights: [[1, 2, 3], [0, 1, 0], [3, 0, 1]], aux }, RangeError, /spec.weights must be symmetric; weights\[0\]\[1\] = 2 but weights\[1\]\[0\] = 0/],
    [{ type: "gauge", beta: 1, gauges: [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]], aux }, RangeError, /spec.gauges must have length 3/],
    [{ type: "gauge", beta: 1, gauges: Array(3).fill([[1, 0, 0], [0, 2, 0], [0, 0, 1]]), aux }, RangeError, /orthogonal matrices; max \|GᵀG − I\| = 3.0e\+0 > tol 1e-8/],
    [{ type: "prompts", beta: 1, gauges: [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]], aux: [0, 1, 0] }, RangeError, /prompt ids in 0..0 \(there are 1 gauges\), got aux\[1\] = 1/],
    [{ type: "prompts", beta: 1, gauges: [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]], aux: [0, 0.5, 0] }, RangeError, /prompt ids/],
    [{ type: "toeplitz", coefficients: { "-1": 1 }, aux }, RangeError, /keys must be integers k >= 0, got "-1"/],
    [{ type: "toeplitz", coefficients: {}, aux }, RangeError, /at least one mode/],
    [{ type: "toeplitz", coefficients: [1, 2], aux }, TypeError, /spec.coefficients must be an object/],
  ];
  for (const [spec, kind, message] of cases) {
    assert.throws(() => bindKernel(spec, 3, 3), (error) => error instanceof kind && message.test(error.message), JSON.stringify(spec));
  }
  assert.throws(() => bindKernel({ type: "usa", beta: 1, aux }, 3, 1), /d must be an integer >= 2, got 1/);
  assert.throws(() => bindKernel({ type: "usa", beta: 1, aux }, 0, 3), /n must be an integer >= 1, got 0/);
  assert.throws(() => energy(bindKernel({ type: "usa", beta: 1, aux }, 3, 3), new Float64Array(9), "fast"), /clock must be "raw" or "rescaled", got "fast"/);
});
