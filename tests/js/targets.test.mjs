// targets.js against usaav/targets.py: the same laws give the same quantiles
// and CDFs, the same shapes the same points (the parser: formula.test.mjs;
// the gauges: gauges.test.mjs).
//
// The Python side runs in the repository's virtual environment (or
// $USAAV_PYTHON), fed the JavaScript inputs as JSON on stdin.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  ANGLE_LAWS,
  SHAPES,
  angleLaw,
  ksDistance,
  midpoints,
  realizeLaw,
  sphereTarget,
  targetMap,
  tiltedStart,
  userQuantile,
  wordRegion,
} from "../../usaav/web/targets.js";
import { makeRng } from "../../usaav/web/random.js";
import { python } from "./python.mjs";

function assertClose(actual, expected, tolerance, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    const error = Math.abs(actual[k] - expected[k]);
    assert.ok(error <= tolerance, `${what}[${k}]: ${actual[k]} vs Python ${expected[k]} (|Δ| = ${error} > ${tolerance})`);
  }
}

const S_GRID = Array.from({ length: 101 }, (_, k) => 0.0005 + (0.999 * k) / 100);


test("non-finite values are refused, not returned", () => {
  for (const text of ["9**9**9**9 + s", "sqrt(-1 - s)", "log(s - s)", "exp(exp(exp(9)))*s"]) {
    assert.throws(() => userQuantile(text), /is not finite at s = /, text);
  }
});


test("angle laws: quantile and CDF agree with Python on a grid", async () => {
  const cases = ANGLE_LAWS.flatMap((name) => [[name, 0.4], [name, 0.85]]);
  const angles = Array.from({ length: 73 }, (_, k) => -Math.PI + (2 * Math.PI * k) / 72 + 0.013);
  const expected = await python(`
from usaav.targets import angle_law
out = []
for name, width in data["cases"]:
    law = angle_law(name, width, "tanh(4*(s - 0.5)) * 2.5")
    out.append({"quantile": law.quantile(np.array(data["s"])).tolist(),
                "cdf": law.cdf(np.array(data["angles"])).tolist(),
                "density": law.density_values[::64].tolist()})
print(json.dumps(out))`, { cases, s: S_GRID, angles });
  cases.forEach(([name, width], k) => {
    const law = angleLaw(name, width, "tanh(4*(s - 0.5)) * 2.5");
    const what = `${name}, width ${width}`;
    // Same tabulation (4097 points, trapezoid rule); only the summation order differs.
    assertClose(S_GRID.map(law.quantile), expected[k].quantile, 1e-9, `${what}: quantile`);
    assertClose(angles.map(law.cdf), expected[k].cdf, 1e-9, `${what}: cdf`);
    assertClose(law.densityValues.filter((_, j) => j % 64 === 0), expected[k].density, 1e-8, `${what}: density`);
  });
});

test("realised laws: the same points, angles and KS distance as usaav.targets.realize_law", async () => {
  const expected = await python(`
from usaav.targets import angle_law, realize_law
out = []
for name in data:
    r = realize_law(angle_law(name, 0.4), n=120, polar=1.0)
    out.append({"X": r.X.ravel().tolist(), "angles": r.angles.tolist(), "ks": r.ks_distance})
print(json.dumps(out))`, ANGLE_LAWS);
  ANGLE_LAWS.forEach((name, k) => {
    const result = realizeLaw(angleLaw(name, 0.4), 120, 1.0);
    assertClose(result.X, expected[k].X, 1e-9, `${name}: X`);
    assertClose(result.angles, expected[k].angles, 1e-9, `${name}: angles`);
    // KS is independent code on each side (scipy.stats.kstest here).
    assert.ok(Math.abs(result.ksDistance - expected[k].ks) < 1e-9, `${name}: KS ${result.ksDistance} vs ${expected[k].ks}`);
  });
});

test("KS distance of the midpoints against the uniform CDF is 1/(2n)", () => {
  const n = 50;
  assert.ok(Math.abs(ksDistance(midpoints(n), (x) => x) - 0.5 / n) < 1e-15);
});

test("KS distance equals scipy.stats.kstest on random samples", async () => {
  const rng = makeRng(11);
  const samples = Array.from({ length: 6 }, (_, k) => Array.from({ length: 10 + 7 * k }, () => rng.uniform() ** (0.3 + k / 3)));
  const expected = await python(`
from scipy.stats import kstest
print(json.dumps([kstest(x, "uniform").statistic for x in data]))`, samples);
  samples.forEach((x, k) => assert.ok(Math.abs(ksDistance(x, (a) => a) - expected[k]) < 1e-15, `sample ${k}`));
});

test("tilted start matches Python for every plane", async () => {
  const planes = [[0, 1], [0, 2], [1, 2]];
  const expected = await python(`
from usaav.targets import tilted_start
print(json.dumps([tilted_start(0.7, tuple(p)).tolist() for p in data]))`, planes);
  planes.forEach((plane, k) => assertClose(tiltedStart(0.7, plane), expected[k], 1e-16, `plane ${plane}`));
});

test("target maps of the shapes agree with Python on the same prompts", async () => {
  const rng = makeRng(7);
  const n = 64;
  const prompts = {};
  for (const shape of SHAPES) {
    const k = shape === "word" ? 2 : { uniform: 2, spiral: 1, ring: 2, "two caps": 3 }[shape];
    prompts[shape] = Array.from({ length: n * k }, () => (shape === "word" ? rng.uniform() - 0.5 : rng.uniform()));
  }
  const expected = await python(`
from usaav.targets import target_map, PROMPT_DIMENSION
out = {}
for shape, p in data.items():
    k = 2 if shape == "word" else PROMPT_DIMENSION[shape]
    out[shape] = target_map(shape, np.array(p).reshape(-1, k)).ravel().tolist()
print(json.dumps(out))`, prompts);
  for (const shape of SHAPES) assertClose(targetMap(shape, Float64Array.from(prompts[shape]), n), expected[shape], 1e-14, shape);
});

test("sphere targets are unit vectors, the word included", () => {
  for (const shape of SHAPES) {
    const T = sphereTarget(shape, 100, makeRng(1), "Hi!");
    for (let i = 0; i < 100; i++) {
      assert.ok(Math.abs(Math.hypot(T[3 * i], T[3 * i + 1], T[3 * i + 2]) - 1) < 1e-14, shape);
    }
  }
});

test("without a canvas the word comes from the 5×7 pixel font, uniform on its pixels", (t) => {
  // "-" is one row of five pixels: unit height, so x uniform on [-2.5, 2.5] and y on [-0.5, 0.5].
  const p = wordRegion("-", 4000, makeRng(2));
  let meanX = 0, inside = true;
  for (let i = 0; i < 4000; i++) {
    inside &&= Math.abs(p[2 * i]) <= 2.5 && Math.abs(p[2 * i + 1]) <= 0.5;
    meanX += p[2 * i] / 4000;
  }
  assert.ok(inside);
  assert.ok(Math.abs(meanX) < 0.1);  // s.e. of the mean: 5/sqrt(12·4000) ≈ 0.023
  assert.throws(() => wordRegion("  ", 10, makeRng(0)), /word must contain visible characters/);
  t.diagnostic("pages draw the word with a canvas and the page's font: checked in the browser tests");
});
