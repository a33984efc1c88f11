// sphere.js: identities of the sphere's geometry (MODEL.md §1).

import { test } from "node:test";
import assert from "node:assert/strict";

import { makeRng } from "../../usaav/web/random.js";
import {
  normalizeRows,
  projectTangent,
  rotateInPlane,
  rotationMatrix,
  sphereDrift,
  uniformSphere,
} from "../../usaav/web/sphere.js";

const near = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("normalizeRows puts rows on the sphere without changing their direction", () => {
  const X = Float64Array.from([3, 4, 0, -1e300, 1e300, 1e300, 1e-300, 0, 0]);
  normalizeRows(X, 3, 3);
  assert.deepEqual(Array.from(X.subarray(0, 3)), [0.6, 0.8, 0]);
  near(X[3], -1 / Math.sqrt(3), 1e-16, "huge entries do not overflow");
  assert.deepEqual(Array.from(X.subarray(6)), [1, 0, 0], "tiny entries do not underflow");
  assert.ok(sphereDrift(X, 3, 3) < 2e-16);
});

test("projectTangent gives tangent vectors and is a projection (P P v = P v)", () => {
  const rng = makeRng(5);
  const n = 6;
  const d = 4;
  const X = uniformSphere(n, d, rng);
  const V = Float64Array.from({ length: n * d }, () => rng.normal());
  const P = projectTangent(X, V, n, d);
  const PP = projectTangent(X, P, n, d);
  for (let i = 0; i < n; i++) {
    let inner = 0;
    for (let c = 0; c < d; c++) inner += X[i * d + c] * P[i * d + c];
    near(inner, 0, 1e-15, `<x_${i}, P v_${i}>`);
  }
  P.forEach((value, k) => near(PP[k], value, 1e-15, "idempotent"));
  const inPlace = Float64Array.from(V);
  projectTangent(X, inPlace, n, d, inPlace);
  assert.deepEqual(inPlace, P, "out may alias V");
});

test("rotationMatrix follows MODEL.md §1: R e_p = cos φ e_p + sin φ e_q, R e_q = −sin φ e_p + cos φ e_q", () => {
  const d = 4;
  const phi = 0.7;
  const R = rotationMatrix(phi, d, [3, 1]);
  // Column p of R is R e_p.
  const column = (c) => Array.from({ length: d }, (_, r) => R[r * d + c]);
  assert.deepEqual(column(3), [0, Math.sin(phi), 0, Math.cos(phi)]);
  assert.deepEqual(column(1), [0, Math.cos(phi), 0, -Math.sin(phi)]);
  assert.deepEqual(column(0), [1, 0, 0, 0]);
  assert.deepEqual(column(2), [0, 0, 1, 0]);
});

test("rotateInPlane equals multiplying each row by its rotationMatrix, also in place", () => {
  const rng = makeRng(6);
  const n = 5;
  const d = 3;
  const X = uniformSphere(n, d, rng);
  const angles = Array.from({ length: n }, () => 2 * Math.PI * rng.uniform());
  const out = rotateInPlane(X, angles, [2, 0], n, d);
  for (let i = 0; i < n; i++) {
    const R = rotationMatrix(angles[i], d, [2, 0]);
    for (let r = 0; r < d; r++) {
      let sum = 0;
      for (let c = 0; c < d; c++) sum += R[r * d + c] * X[i * d + c];
      near(out[i * d + r], sum, 1e-15, `row ${i}, coordinate ${r}`);
    }
  }
  const inPlace = Float64Array.from(X);
  rotateInPlane(inPlace, angles, [2, 0], n, d, inPlace);
  assert.deepEqual(inPlace, out);
});

test("uniformSphere refuses bad sizes and a missing generator", () => {
  assert.throws(() => uniformSphere(0, 3, makeRng(0)), /n must be an integer >= 1/);
  assert.throws(() => uniformSphere(4, 1, makeRng(0)), /d must be an integer >= 2/);
  assert.throws(() => uniformSphere(4, 3), /rng must be a generator/);
});
