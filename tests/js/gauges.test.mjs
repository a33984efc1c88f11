// gauges.js against usaav/gauges.py and usaav.maximizers: the same Householder
// gauges, the same prompt layouts.
//
// The Python side runs in the repository's virtual environment (or
// $USAAV_PYTHON), fed the JavaScript inputs as JSON on stdin.

import { test } from "node:test";
import assert from "node:assert/strict";

import { HOUSEHOLDER_MIN_SQUARED, PROMPT_LAYOUTS, gaugeImages, householderGauges, promptGauges } from "../../usaav/web/gauges.js";
import { makeRng } from "../../usaav/web/random.js";
import { sphereTarget } from "../../usaav/web/targets.js";
import { python } from "./python.mjs";

function assertClose(actual, expected, tolerance, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    const error = Math.abs(actual[k] - expected[k]);
    assert.ok(error <= tolerance, `${what}[${k}]: ${actual[k]} vs Python ${expected[k]} (|Δ| = ${error} > ${tolerance})`);
  }
}

test("Householder gauges equal usaav.maximizers.gauge_for_targets, identity fallback included", async () => {
  const v = [0, 0, 1];
  const T = Array.from(sphereTarget("spiral", 20, makeRng(3)));
  // Two targets at (nearly) v: |w|² below and above the switch to the identity.
  T.splice(0, 3, 0, 0, 1);
  // |w|² ≈ 1e-16 (identity on both sides) and ≈ 1e-14 (a reflection on both sides).
  for (const [k, tiny] of [[1, 1e-8], [2, 1e-7]]) T.splice(3 * k, 3, tiny, 0, Math.sqrt(1 - tiny * tiny));
  const expected = await python(`
from usaav.maximizers import gauge_for_targets
print(json.dumps(gauge_for_targets(np.array(data["v"]), np.array(data["T"]).reshape(-1, 3)).ravel().tolist()))`,
  { v, T });
  const m = T.length / 3;
  const G = householderGauges(v, Float64Array.from(T), m);
  assertClose(G, expected, 1e-15, "gauges");
  assertClose(gaugeImages(v, G, m), T, 1e-7, "G_pᵀ v = T_p");  // 1e-8 switch: both errors stay below ~1e-8
  assert.equal(HOUSEHOLDER_MIN_SQUARED, 2 ** -52);
});

test("prompt gauge layouts are rotations with the expected number of distinct matrices", async () => {
  for (const layout of PROMPT_LAYOUTS) {
    const G = promptGauges(6, layout, makeRng(2));
    const distinct = new Set();
    for (let p = 0; p < 6; p++) {
      const M = G.subarray(9 * p, 9 * p + 9);
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) {
          let dot = 0;
          for (let k = 0; k < 3; k++) dot += M[3 * k + r] * M[3 * k + c];
          assert.ok(Math.abs(dot - (r === c ? 1 : 0)) < 1e-13, `${layout}: GᵀG = I`);
        }
      }
      distinct.add(Array.from(M, (x) => x.toFixed(9)).join());
    }
    assert.equal(distinct.size, layout === "only two distinct gauges" ? 2 : 6, layout);
  }
});

test("phases in one plane equal Python's prompt_gauges", async () => {
  const expected = await python(`
from usaav.gauges import prompt_gauges
print(json.dumps(prompt_gauges(5, "phases in one plane", None).ravel().tolist()))`);
  assertClose(promptGauges(5, "phases in one plane", makeRng(0)), expected, 1e-15, "phases");
});
