// scenarios.js against usaav.scenarios: the table Python exports, turned
// into specs in JavaScript, gives the specs of usaav.specs.to_spec and the
// forces of usaav.velocity.

import { test } from "node:test";
import assert from "node:assert/strict";

import { scenarioPrediction, scenarioSpec } from "../../usaav/web/scenarios.js";
import { bindKernel, plainSpec } from "../../usaav/web/kernels.js";
import { vectorField } from "../../usaav/web/integrate.js";
import { makeRng } from "../../usaav/web/random.js";
import { uniformSphere } from "../../usaav/web/sphere.js";
import { python } from "./python.mjs";

const TABLE = await python("from usaav import scenarios\nprint(json.dumps(scenarios.as_json()))");
const N = 14;
// Deterministic prompt gauges, so that both sides build the same kernel.
const OVERRIDES = { prompts: { layout: "phases in one plane", n_prompts: 4 } };

function flatten(value) {
  return Array.isArray(value) || ArrayBuffer.isView(value) ? Array.from(value).flatMap(flatten) : [value];
}

test("the exported table holds the six scenarios of MODEL.md §6.2", () => {
  assert.deepEqual(TABLE.scenarios.map((s) => s.key),
    ["baseline", "distance_bias", "toeplitz", "rope", "generalized_rope", "prompts"]);
});

test("specs built in JavaScript equal usaav.specs.to_spec of the Python scenario", async () => {
  const X = uniformSphere(N, 3, makeRng(5));
  const expected = await python(`
from usaav import scenarios, specs, velocity
out = {}
for key in scenarios.KEYS:
    built = scenarios.setup(key, ${N}, rng=0, **data["overrides"].get(key, {}))
    X = np.array(data["X"]).reshape(-1, 3)
    out[key] = {"spec": specs.to_spec(built.kernel, built.aux, 3),
                "velocity": velocity(built.kernel, X, built.aux).ravel().tolist(),
                "values": built.values.tolist()}
print(json.dumps(out))`, { overrides: OVERRIDES, X: Array.from(X) });
  for (const scenario of TABLE.scenarios) {
    const { spec, values } = scenarioSpec(scenario, N, OVERRIDES[scenario.key] ?? {}, makeRng(0));
    const reference = expected[scenario.key];
    const mine = plainSpec(spec, 3);
    assert.deepEqual(Object.keys(mine).sort(), Object.keys(reference.spec).sort(), `${scenario.key}: fields`);
    for (const field of Object.keys(mine)) {
      const a = flatten(field === "coefficients" ? Object.entries(mine[field]).sort() : mine[field]);
      const b = flatten(field === "coefficients" ? Object.entries(reference.spec[field]).sort() : reference.spec[field]);
      assert.equal(a.length, b.length, `${scenario.key}.${field}: length`);
      a.forEach((value, k) => {
        if (typeof value === "number") assert.ok(Math.abs(value - b[k]) < 1e-15, `${scenario.key}.${field}[${k}]: ${value} vs ${b[k]}`);
        else assert.equal(String(value), String(b[k]), `${scenario.key}.${field}[${k}]`);
      });
    }
    assert.deepEqual(values, reference.values, `${scenario.key}: colour values`);
    // The same forces: the JavaScript kernel from the JavaScript spec against usaav.velocity.
    const V = vectorField(bindKernel(spec, N, 3), "raw")(X, new Float64Array(3 * N));
    V.forEach((v, k) => assert.ok(Math.abs(v - reference.velocity[k]) < 1e-12, `${scenario.key}: velocity[${k}]`));
  }
});

test("unknown parameters are refused with the allowed names", () => {
  assert.throws(() => scenarioSpec(TABLE.scenarios[0], 10, { length: 0.1 }), /has no parameter\(s\) length; its parameters are beta/);
});

test("random prompt gauges need an explicit generator", () => {
  const prompts = TABLE.scenarios.find((s) => s.key === "prompts");
  assert.throws(() => scenarioSpec(prompts, 10), /needs an rng/);
  const { spec } = scenarioSpec(prompts, 10, {}, makeRng(3));
  assert.equal(spec.gauges.length, 9 * 5);
});

test("predictions are filled in from the parameters as in Python", async () => {
  const expected = await python(`
from usaav import scenarios
print(json.dumps([row.predicted_law(**data.get(row.key, {})) for row in scenarios.TABLE.values()]))`,
  { toeplitz: { m: 3 }, prompts: { n_prompts: 7 } });
  const overrides = { toeplitz: { m: 3 }, prompts: { n_prompts: 7 } };
  TABLE.scenarios.forEach((s, k) => assert.equal(scenarioPrediction(s, overrides[s.key] ?? {}), expected[k]));
});

test("the shared Python process answers snippets in order, gives each its own data and reports a failing one", async () => {
  // tests/js/python.mjs: one process per file; answers must not be swapped, and an error must
  // reach the test that sent the snippet, with Python's traceback, not hang the file.
  const [first, second] = await Promise.all([python("print(json.dumps(data))", [1, 2]), python("print(json.dumps(data))", "b")]);
  assert.deepEqual([first, second], [[1, 2], "b"]);
  await assert.rejects(python("raise ValueError('broken snippet')"), /ValueError: broken snippet/);
  assert.equal(await python("print(json.dumps('data' in globals() and data is None))"), true);
});
