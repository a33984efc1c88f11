// random.js: the generator against the reference implementation's outputs,
// and the statistics of its variates. Tolerances are 5 standard errors of
// the sample statistic (a false alarm about once in 3 million runs; the
// seeds are fixed, so the tests are deterministic anyway).

import { test } from "node:test";
import assert from "node:assert/strict";

import { haarRotations, makeRng, xoshiro128StarStar } from "../../usaav/web/random.js";
import { uniformSphere } from "../../usaav/web/sphere.js";

const SAMPLES = 20000;

function moments(values) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return { mean, variance };
}

test("xoshiro128** reproduces the reference implementation's first outputs", () => {
  // State and outputs from the test data of edorfaus/xoshiro-6502, generated
  // with the C reference implementation of Blackman and Vigna.
  const next = xoshiro128StarStar([0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0]);
  assert.deepEqual([next(), next(), next(), next()], [0xf1391922, 0x6fe53806, 0xa5be2840, 0xf510ee70]);
});

test("makeRng is deterministic: one seed, one sequence; other seeds, other sequences", () => {
  const draw = (seed) => {
    const rng = makeRng(seed);
    return [rng.uniform(), rng.normal(), rng.int(1000), rng.uniform()];
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  assert.notDeepEqual(draw(1), draw(2 ** 32 + 1), "the high word of the seed matters");
});

test("makeRng refuses seeds that are not non-negative safe integers", () => {
  for (const seed of [-1, 1.5, Number.NaN, 2 ** 53, "7", undefined]) {
    assert.throws(() => makeRng(seed), /seed must be an integer between 0 and 2\^53 - 1/);
  }
});

test("uniform() lies in [0, 1) with mean 1/2 and variance 1/12", () => {
  const rng = makeRng(1);
  const values = Array.from({ length: SAMPLES }, () => rng.uniform());
  assert.ok(values.every((u) => u >= 0 && u < 1));
  const { mean, variance } = moments(values);
  assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / SAMPLES), `mean ${mean}`);
  // Var of (U − 1/2)² is 1/80 − 1/144 = 1/180.
  assert.ok(Math.abs(variance - 1 / 12) < 5 * Math.sqrt(1 / 180 / SAMPLES), `variance ${variance}`);
});

test("normal() has mean 0, variance 1 and fourth moment 3", () => {
  const rng = makeRng(2);
  const values = Array.from({ length: SAMPLES }, () => rng.normal());
  const { mean, variance } = moments(values);
  const fourth = values.reduce((a, z) => a + z ** 4, 0) / SAMPLES;
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(SAMPLES), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 5 * Math.sqrt(2 / SAMPLES), `variance ${variance}`);
  assert.ok(Math.abs(fourth - 3) < 5 * Math.sqrt(96 / SAMPLES), `fourth moment ${fourth}`); // Var Z⁴ = 105 − 9
});

test("int(k) is uniform on {0, ..., k-1} (chi-square) and refuses bad k", () => {
  const rng = makeRng(3);
  const k = 7;
  const counts = new Array(k).fill(0);
  for (let s = 0; s < SAMPLES; s++) counts[rng.int(k)]++;
  const expected = SAMPLES / k;
  const chiSquare = counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
  assert.ok(chiSquare < 22.5, `chi-square ${chiSquare} with 6 degrees of freedom (p < 0.001 above 22.5)`);
  for (const bad of [0, -2, 2.5, 2 ** 33]) assert.throws(() => rng.int(bad), /k must be an integer between 1 and 2\^32/);
});

/**
 * E x_0⁴ = 3/(d(d+2)) on the uniform sphere, Var x_0⁴ = 105/(d(d+2)(d+4)(d+6)) − (E x_0⁴)².
 * The mean and covariance of any exchangeable law on the sphere are 0 and I/d,
 * so only a higher moment tells e.g. normalised cube-uniform vectors
 * (E x_0⁴ = 0.180 instead of 0.2 in d = 3) from the uniform law.
 */
function assertUniformFourthMoment(X, n, d) {
  const expected = 3 / (d * (d + 2));
  const spread = Math.sqrt(105 / (d * (d + 2) * (d + 4) * (d + 6)) - expected ** 2);
  let fourth = 0;
  for (let i = 0; i < n; i++) fourth += X[i * d] ** 4 / n;
  assert.ok(Math.abs(fourth - expected) < 5 * spread / Math.sqrt(n), `E x_0⁴ = ${fourth}, uniform: ${expected}`);
}

for (const d of [2, 3, 5]) {
  test(`uniformSphere on S^${d - 1}: unit rows, mean 0, covariance I/${d}, fourth moment`, () => {
    const n = SAMPLES;
    const X = uniformSphere(n, d, makeRng(10 + d));
    for (let i = 0; i < n; i++) {
      let squares = 0;
      for (let c = 0; c < d; c++) squares += X[i * d + c] ** 2;
      assert.ok(Math.abs(Math.sqrt(squares) - 1) < 1e-15);
    }
    assertUniformFourthMoment(X, n, d);
    // Each coordinate has variance 1/d; a product x_a x_b (a ≠ b) has variance 1/(d(d+2)).
    for (let a = 0; a < d; a++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += X[i * d + a] / n;
      assert.ok(Math.abs(mean) < 5 * Math.sqrt(1 / d / n), `mean of coordinate ${a}: ${mean}`);
      for (let b = a; b < d; b++) {
        let second = 0;
        for (let i = 0; i < n; i++) second += (X[i * d + a] * X[i * d + b]) / n;
        const expected = a === b ? 1 / d : 0;
        const spread = a === b ? Math.sqrt(3 / (d * (d + 2)) - 1 / d ** 2) : Math.sqrt(1 / (d * (d + 2)));
        assert.ok(Math.abs(second - expected) < 5 * spread / Math.sqrt(n), `E x_${a} x_${b} = ${second}`);
      }
    }
  });
}

/** det by cofactor expansion along the first row: independent of random.js's elimination. */
function determinant(M, d) {
  if (d === 1) return M[0];
  let total = 0;
  for (let c = 0; c < d; c++) {
    const minor = [];
    for (let r = 1; r < d; r++) for (let k = 0; k < d; k++) if (k !== c) minor.push(M[r * d + k]);
    total += (c % 2 === 0 ? 1 : -1) * M[c] * determinant(minor, d - 1);
  }
  return total;
}

for (const d of [2, 3, 4]) {
  test(`haarRotations in d = ${d}: orthogonal to rounding, det +1, first column uniform on the sphere (moments 1, 2, 4)`, () => {
    const m = 20000;
    const Q = haarRotations(m, d, makeRng(20 + d));
    assert.equal(Q.length, m * d * d);
    const column = new Float64Array(m * d);
    for (let k = 0; k < m; k++) {
      const G = Q.subarray(k * d * d, (k + 1) * d * d);
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          let inner = 0;
          for (let r = 0; r < d; r++) inner += G[r * d + a] * G[r * d + b];
          assert.ok(Math.abs(inner - (a === b ? 1 : 0)) < 1e-14, `matrix ${k}: (QᵀQ)_${a}${b} = ${inner}`);
        }
      }
      assert.ok(Math.abs(determinant(G, d) - 1) < 1e-13, `matrix ${k}: det ${determinant(G, d)}`);
      for (let r = 0; r < d; r++) column[k * d + r] = G[r * d];
    }
    assertUniformFourthMoment(column, m, d);
    for (let a = 0; a < d; a++) {
      let mean = 0;
      let second = 0;
      for (let k = 0; k < m; k++) {
        mean += column[k * d + a] / m;
        second += column[k * d + a] ** 2 / m;
      }
      assert.ok(Math.abs(mean) < 5 * Math.sqrt(1 / d / m), `mean of entry ${a}: ${mean}`);
      const spread = Math.sqrt(3 / (d * (d + 2)) - 1 / d ** 2);
      assert.ok(Math.abs(second - 1 / d) < 5 * spread / Math.sqrt(m), `E q_${a}² = ${second}`);
    }
  });
}

test("haarRotations in d = 3: the trace has the Haar moments E tr = 0 and E tr² = 1", () => {
  // For Haar Q on SO(3), tr Q = 1 + 2 cos ω with density (1 − cos ω)/π on [0, π]:
  // E tr = 0, E tr² = 1, Var tr² = E tr⁴ − 1 = 2. A rotation drawn without the
  // sign correction (or uniform angle ω) has other moments.
  const m = 20000;
  const Q = haarRotations(m, 3, makeRng(30));
  const traces = Array.from({ length: m }, (_, k) => Q[9 * k] + Q[9 * k + 4] + Q[9 * k + 8]);
  const mean = traces.reduce((a, b) => a + b, 0) / m;
  const square = traces.reduce((a, b) => a + b * b, 0) / m;
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(m), `E tr = ${mean}`);
  assert.ok(Math.abs(square - 1) < 5 * Math.sqrt(2 / m), `E tr² = ${square}`);
});
