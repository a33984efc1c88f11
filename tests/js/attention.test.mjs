// The browser twin of the attention block (usaav/web/attention.js) against the
// Python library (usaav.attention, MODEL.md §7), option by option, at β = 1.
//
// Both sides get the same tokens, labels and Q, K, V (drawn by numpy and sent
// as JSON); the library computes the update direction A, the flow field P_x A
// (P_x Π A for LayerNorm), one discrete layer N(x + hA), and five projected
// Heun steps of the flow. Tolerance 1e-10: two float64 implementations of
// the same sums differ by rounding, about 1e-15 per entry at β = 1 for n = 12
// (measured below 1e-14); any error in a formula (a sign, a missing gauge, a
// wrong normalisation) moves entries by 1e-2 or more.

import { test } from "node:test";
import assert from "node:assert/strict";

import { createBlock, llmRopeSpec } from "../../usaav/web/attention.js";
import { ropeSpec } from "../../usaav/web/kernels.js";
import { python } from "./python.mjs";

const n = 12;
const TOL = 1e-10;

const LIBRARY = `
from usaav import kernels, specs
from usaav.attention import AttentionBlock, flow_field, layer, llm_rope, run, update_direction
d = data["d"]
X = np.array(data["X"]).reshape(-1, d)
spec = data["kernel"]
if spec["type"] == "llm_rope":
    kernel, aux = llm_rope(spec["beta"], d, spec["base"]), np.array(spec["aux"], dtype=float)
else:
    kernel, aux = specs.from_spec(spec)
if spec["type"] == "usa":
    aux = None
options = {k: data[k] for k in ("normalisation", "values", "mask", "norm")}
matrices = {k: (None if data[k] is None else np.array(data[k])) for k in ("query", "key", "value")}
block = AttentionBlock(kernel, **options, **matrices, step=data["step"])
layers = AttentionBlock(kernel, **options, **matrices, step=data["step"], depth="layers")
out = {
    "direction": update_direction(block, X, aux).ravel().tolist(),
    "field": flow_field(block, X, aux)(X).ravel().tolist(),
    "layer": layer(layers, X, aux).ravel().tolist(),
    "heun": run(block, X, aux, 5 * data["step"]).final.ravel().tolist(),
}
print(json.dumps(out))
`;

const SETUP = `
rng = np.random.default_rng(data["seed"])
d, n = data["d"], data["n"]
import usaav
from usaav.attention import initial_tokens, random_projections
X = initial_tokens(n, d, rng, data["norm"])
Q, K, V = random_projections(d, rng)
gauges = usaav.sphere.haar_rotations(3, d, rng)
print(json.dumps({"X": X.ravel().tolist(), "Q": Q.tolist(), "K": K.tolist(), "V": V.tolist(),
                  "gauges": gauges.tolist(), "ids": rng.integers(0, 3, n).tolist()}))
`;

function kernelSpec(type, d, drawn) {
  const positions = Array.from({ length: n }, (_, i) => i / n);
  switch (type) {
    case "usa": return { type: "usa", beta: 1, aux: positions };
    case "rope": return ropeSpec(1, 2 * Math.PI, positions);
    case "prompts": return { type: "prompts", beta: 1, gauges: drawn.gauges, aux: drawn.ids };
    case "llm_rope": return llmRopeSpec(1, Array.from({ length: n }, (_, i) => i));
    default: throw new Error(type);
  }
}

const CASES = [];
for (const type of ["usa", "rope", "prompts", "llm_rope"]) {
  for (const normalisation of ["n", "rescaled", "softmax"]) {
    for (const values of ["rotated", "unrotated"]) {
      CASES.push({ type, normalisation, values, mask: "none", qkv: false, norm: "rms" });
    }
  }
  CASES.push({ type, normalisation: "softmax", values: "unrotated", mask: "causal", qkv: true, norm: "rms" });
  CASES.push({ type, normalisation: "softmax", values: "rotated", mask: "causal", qkv: false, norm: "layer" });
  CASES.push({ type, normalisation: "n", values: "rotated", mask: "none", qkv: true, norm: "layer" });
}

function maxDifference(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

for (const [index, c] of CASES.entries()) {
  const name = `${c.type}, ${c.normalisation}, values ${c.values}, mask ${c.mask}, ` +
    `${c.qkv ? "random Q, K, V" : "Q = K = V = I"}, ${c.norm === "rms" ? "RMSNorm" : "LayerNorm"}`;
  test(`the twin's block matches usaav.attention to 1e-10 at β = 1: ${name}`, async () => {
    const d = 4;
    const drawn = await python(SETUP, { seed: index, d, n, norm: c.norm });
    const kernel = kernelSpec(c.type, d, drawn);
    const options = {
      normalisation: c.normalisation, values: c.values, mask: c.mask, norm: c.norm, step: 0.125,
      query: c.qkv ? drawn.Q : null, key: c.qkv ? drawn.K : null, value: c.qkv ? drawn.V : null,
    };
    const library = await python(LIBRARY, { ...options, kernel, d, X: drawn.X });
    const block = createBlock({ kernel, ...options }, n, d);
    const X = Float64Array.from(drawn.X);
    assert.ok(maxDifference(block.direction(X), library.direction) < TOL, "update direction");
    assert.ok(maxDifference(block.flowField(X), library.field) < TOL, "flow field");
    assert.ok(maxDifference(block.layer(X), library.layer) < TOL, "one layer");
    const Y = Float64Array.from(X);
    for (let k = 0; k < 5; k++) block.advance(Y);
    assert.ok(maxDifference(Y, library.heun) < TOL, "five Heun steps of the flow");
  });
}

test("the twin's block refuses bad options with a message naming them", () => {
  const kernel = ropeSpec(1, 2 * Math.PI, Array.from({ length: n }, (_, i) => i / n));
  assert.throws(() => createBlock({ kernel, mask: "causl" }, n, 3), /options\.mask must be one of/);
  assert.throws(() => createBlock({ kernel, step: 2 }, n, 3), /options\.step must be in \(0, 1\]/);
  assert.throws(() => createBlock({ kernel, query: [[1, 0], [0, 1]] }, n, 3), /options\.query must be a finite d × d/);
  assert.throws(() => createBlock({ kernel: { type: "distance_bias", beta: 1, length: 1, aux: [] } }, n, 3),
    /options\.kernel\.type must be one of/);
  assert.throws(() => createBlock({ kernel: llmRopeSpec(1, [0, 1, 2]) }, 3, 3), /d must be even/);
});
