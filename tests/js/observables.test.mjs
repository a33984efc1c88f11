// observables.js on configurations whose values are known in closed form:
// the maximisers of the paper's theorems (MODEL.md §4) and small examples.

import { test } from "node:test";
import assert from "node:assert/strict";

import { bindKernel } from "../../usaav/web/kernels.js";
import {
  collapseGap,
  conditionalDiameter,
  countClusters,
  eulerLagrangeResidual,
  gaugeGap,
  relativeEnergyGap,
  symmetricEigen,
  windingNumber,
} from "../../usaav/web/observables.js";
import { haarRotations, makeRng } from "../../usaav/web/random.js";
import { normalizeRows, rotateInPlane, uniformSphere } from "../../usaav/web/sphere.js";

const near = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("collapseGap: 1 for two antipodal points, 0 for equal points, 1 − |mean|² in general", () => {
  near(collapseGap(Float64Array.from([1, 0, -1, 0]), 2, 2), 1, 0, "antipodal");
  near(collapseGap(Float64Array.from([0.6, 0.8, 0.6, 0.8, 0.6, 0.8]), 3, 2), 0, 1e-30, "equal (rounding of the mean only)");
  const n = 50;
  const d = 4;
  const X = uniformSphere(n, d, makeRng(1));
  const mean = new Array(d).fill(0);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += X[i * d + c] / n;
  near(collapseGap(X, n, d), 1 - mean.reduce((s, m) => s + m * m, 0), 1e-15, "1 − |x̄|²");
});

test("Thm. 1: on the RoPE maximiser x(s) = R_{−θs} v the energy, gauge and Euler–Lagrange gaps vanish, the collapse gap does not", () => {
  const n = 24;
  const d = 3;
  const theta = 2 * Math.PI;
  const positions = Array.from({ length: n }, (_, i) => i / n);
  const v = normalizeRows(Float64Array.from([0.3, -0.5, 0.8]), 1, 3);
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) X.set(v, i * d);
  rotateInPlane(X, positions.map((s) => -theta * s), [0, 1], n, d, X);
  const interaction = bindKernel({ type: "rope", beta: 3, theta, plane: [0, 1], aux: positions }, n, d);
  near(relativeEnergyGap(interaction, X), 0, 1e-15, "relative energy gap");
  near(gaugeGap(interaction, X), 0, 1e-30, "gauge gap");
  near(eulerLagrangeResidual(interaction, X), 0, 1e-15, "Euler–Lagrange residual");
  // Cor. 1: a latitude circle at height v_3, collapse gap 1 − v_3².
  near(collapseGap(X, n, d), 1 - v[2] ** 2, 1e-15, "collapse gap");
  near(Math.abs(windingNumber(X, positions, n, d)), 1, 1e-12, "the circle is run once");
});

test("Cor. 2: x_i = G_{p_i}ᵀ v maximises the prompts energy, one cluster per prompt", () => {
  const m = 4;
  const d = 3;
  const n = 22;
  const gauges = haarRotations(m, d, makeRng(2));
  const ids = Array.from({ length: n }, (_, i) => i % m);
  const v = [0, 0, 1];
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < d; c++) {
      for (let r = 0; r < d; r++) X[i * d + c] += gauges[ids[i] * d * d + r * d + c] * v[r];
    }
  }
  const interaction = bindKernel({ type: "prompts", beta: 2, gauges, aux: ids }, n, d);
  near(relativeEnergyGap(interaction, X), 0, 1e-15, "relative energy gap");
  near(eulerLagrangeResidual(interaction, X), 0, 1e-15, "Euler–Lagrange residual");
  assert.equal(countClusters(X, n, d, 1e-6), m);
  near(conditionalDiameter(X, ids, n, d), 0, 1e-15, "Dirac at each prompt");
});

test("Prop. 10: the great circle run k* times maximises the Toeplitz energy on the grid and winds k* times", () => {
  const n = 30;
  const d = 3;
  const positions = Array.from({ length: n }, (_, i) => i / n);
  const X = new Float64Array(n * d);
  positions.forEach((s, i) => X.set([Math.cos(6 * Math.PI * s), Math.sin(6 * Math.PI * s), 0], i * d));
  const interaction = bindKernel({ type: "toeplitz", coefficients: { 0: 0.2, 3: 1 }, aux: positions }, n, d);
  near(relativeEnergyGap(interaction, X), 0, 1e-14, "relative energy gap");
  near(windingNumber(X, positions, n, d), 3, 1e-12, "winding number");
  near(windingNumber(X, positions.map((s) => 1 - s), n, d), -3, 1e-12, "reversed order winds the other way");
});

test("relativeEnergyGap refuses kernels without a known maximum", () => {
  const interaction = bindKernel({ type: "separated", beta: 1, weights: [[1, -1], [-1, 1]], aux: [0, 1] }, 2, 2);
  assert.throws(() => relativeEnergyGap(interaction, Float64Array.from([1, 0, 0, 1])), /known positive maximum energy; "separated"/);
});

test("conditionalDiameter is the largest distance between two points with the same label", () => {
  const X = Float64Array.from([1, 0, 0, 1, 1, 0, -1, 0]);
  assert.equal(conditionalDiameter(X, [0, 1, 0, 2], 4, 2), 0);
  near(conditionalDiameter(X, [0, 0, 1, 2], 4, 2), Math.SQRT2, 1e-15, "one pair at right angles");
  near(conditionalDiameter(X, [5, 3, 3, 5], 4, 2), 2, 0, "antipodal pair in one group");
  assert.throws(() => conditionalDiameter(X, [0, 0], 4, 2), /aux must hold n = 4 labels, got 2/);
});

test("countClusters joins points at distance <= threshold, transitively (single linkage)", () => {
  const X = Float64Array.from([0, 0, 0.1, 0, 0.2, 0, 1, 0]); // a chain with steps 0.1, then a gap of 0.8
  assert.equal(countClusters(X, 4, 2, 0.1), 2);
  assert.equal(countClusters(X, 4, 2, 0.05), 4);
  assert.equal(countClusters(X, 4, 2, 0.8), 1);
  assert.throws(() => countClusters(X, 4, 2, -1), /threshold must be a number >= 0/);
});

test("symmetricEigen: A V = V Λ and Vᵀ V = I", () => {
  const d = 5;
  const rng = makeRng(3);
  const B = Float64Array.from({ length: d * d }, () => rng.normal());
  const A = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) A[r * d + c] = B[r * d + c] + B[c * d + r];
  const { values, vectors } = symmetricEigen(A, d);
  for (let r = 0; r < d; r++) {
    for (let c = 0; c < d; c++) {
      let av = 0;
      let vv = 0;
      for (let k = 0; k < d; k++) {
        av += A[r * d + k] * vectors[k * d + c];
        vv += vectors[k * d + r] * vectors[k * d + c];
      }
      near(av, vectors[r * d + c] * values[c], 1e-13, `(AV)_${r}${c}`);
      near(vv, r === c ? 1 : 0, 1e-14, `(VᵀV)_${r}${c}`);
    }
  }
});
