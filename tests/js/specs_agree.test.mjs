// The same hostile specs fed to usaav.specs.from_spec (then usaav.velocity)
// and to the twin's bindKernel (then vectorField): both accept and give the
// same velocities, or both refuse.
//
// The specs target the places where the two readers once differed: per-particle
// tables (separated weights, phase_field phases, gauge gauges) with repeated
// labels — a table is read row per particle, and one that is not a function
// of the labels is refused; Toeplitz keys — canonical decimal only ("01",
// " 1", "+1", "1_0" refused, so "1" and "01" cannot both name mode 1);
// weights asymmetric beyond the library's 1e-12 rule; a plane that is a
// number; prompt ids far outside the gauges.
//
// Tolerance: both sides sum n = 5 terms of size ≤ e^β (β ≤ 1.5) in float64
// in different orders, so the velocities differ by a few ulps of 5 e^1.5 ≈ 22,
// about 1e-14; 1e-12 leaves a margin while the disagreement this test was
// written for (per-particle vs per-label lookup) was 0.53–0.81.

import { test } from "node:test";
import assert from "node:assert/strict";

import { bindKernel } from "../../usaav/web/kernels.js";
import { vectorField } from "../../usaav/web/integrate.js";
import { python } from "./python.mjs";

const TOLERANCE = 1e-12;
const n = 5;
const d = 3;

function rotationZ(angle) {
  return [[Math.cos(angle), -Math.sin(angle), 0], [Math.sin(angle), Math.cos(angle), 0], [0, 0, 1]];
}

function unitRows() {
  const X = [];
  for (let i = 0; i < n; i++) {
    const row = [Math.cos(1.3 * i + 0.2), Math.sin(0.7 * i + 0.4), Math.cos(2.1 * i)];
    const norm = Math.hypot(...row);
    X.push(...row.map((x) => x / norm));
  }
  return X;
}

const repeated = [0, 0.5, 0, 0.25, 0.5]; // labels 0 and 0.5 each carried by two particles
const consistentWeights = repeated.map((a) => repeated.map((b) => Math.exp(-Math.abs(a - b))));
const inconsistentWeights = consistentWeights.map((row) => [...row]);
inconsistentWeights[2][3] = inconsistentWeights[3][2] = 0.123; // particle 2 shares label 0 with particle 0
const asymmetricWeights = consistentWeights.map((row) => [...row]);
asymmetricWeights[1][3] *= 1 + 1e-10;

const HOSTILE = [
  ["separated, repeated labels, one row per label", { type: "separated", beta: 1, weights: consistentWeights, aux: repeated }],
  ["separated, repeated labels, rows that differ", { type: "separated", beta: 1, weights: inconsistentWeights, aux: repeated }],
  ["separated, asymmetric by 1e-10", { type: "separated", beta: 1, weights: asymmetricWeights, aux: repeated }],
  ["phase_field, repeated labels, one phase per label", { type: "phase_field", beta: 1.5, phases: repeated.map((s) => 3 * s), aux: repeated }],
  ["phase_field, repeated labels, phases that differ", { type: "phase_field", beta: 1.5, phases: [0, 1.5, 0.7, 0.75, 1.5], aux: repeated }],
  ["gauge, repeated labels, one gauge per label", { type: "gauge", beta: 1, gauges: repeated.map((s) => rotationZ(2 * s)), aux: repeated }],
  ["gauge, repeated labels, gauges that differ", { type: "gauge", beta: 1, gauges: [0, 1, 2, 0.5, 1].map(rotationZ), aux: repeated }],
  ["toeplitz, canonical keys", { type: "toeplitz", coefficients: { 0: 0.5, 1: 1, 3: -0.25 }, aux: repeated }],
  ["toeplitz, \"1\" and \"01\"", { type: "toeplitz", coefficients: { 1: 1, "01": 2 }, aux: repeated }],
  ["toeplitz, \"01\" alone", { type: "toeplitz", coefficients: { "01": 2 }, aux: repeated }],
  ["toeplitz, \"1_0\"", { type: "toeplitz", coefficients: { "1_0": 1 }, aux: repeated }],
  ["toeplitz, \" 1\"", { type: "toeplitz", coefficients: { " 1": 1 }, aux: repeated }],
  ["toeplitz, \"+1\"", { type: "toeplitz", coefficients: { "+1": 1 }, aux: repeated }],
  ["toeplitz, mode 2**24 + 1", { type: "toeplitz", coefficients: { 16777217: 1 }, aux: repeated }],
  ["rope, plane a number", { type: "rope", beta: 1, theta: 1, plane: 3, aux: repeated }],
  ["prompts, id 1e300", { type: "prompts", beta: 1, gauges: [rotationZ(0), rotationZ(1)], aux: [0, 1, 1e300, 0, 1] }],
  ["prompts, id 1.5", { type: "prompts", beta: 1, gauges: [rotationZ(0), rotationZ(1)], aux: [0, 1, 1.5, 0, 1] }],
  ["prompts, ids in range", { type: "prompts", beta: 1, gauges: [rotationZ(0), rotationZ(1)], aux: [0, 1, 1, 0, 1] }],
];

const X = unitRows();

const LIBRARY = `
from usaav import specs, velocity
answers = []
for spec in data["specs"]:
    try:
        kernel, aux = specs.from_spec(spec)
        answers.append({"velocity": velocity(kernel, np.array(data["X"]).reshape(-1, 3), aux).ravel().tolist()})
    except (TypeError, ValueError) as error:
        answers.append({"error": f"{type(error).__name__}: {error}"})
print(json.dumps(answers))
`;

const library = await python(LIBRARY, { specs: HOSTILE.map(([, spec]) => spec), X });

function twin(spec) {
  try {
    return { velocity: Array.from(vectorField(bindKernel(spec, n, d))(Float64Array.from(X))) };
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    return { error: `${error.name}: ${error.message}` };
  }
}

HOSTILE.forEach(([name, spec], k) => {
  test(`${name}: the library and the twin agree`, async () => {
    const mine = twin(spec);
    const theirs = library[k];
    assert.equal("error" in mine, "error" in theirs, `twin: ${JSON.stringify(mine.error ?? "accepted")}, library: ${JSON.stringify(theirs.error ?? "accepted")}`);
    if ("velocity" in mine) {
      const worst = Math.max(...mine.velocity.map((v, i) => Math.abs(v - theirs.velocity[i])));
      assert.ok(worst <= TOLERANCE, `velocities differ by ${worst}`);
    }
  });
});

test("a table that is not a function of the labels is refused by both, naming the two particles", async () => {
  const k = HOSTILE.findIndex(([name]) => name === "separated, repeated labels, rows that differ");
  assert.match(twin(HOSTILE[k][1]).error, /spec\.weights must be a function of the labels: aux\[0\] = aux\[2\] = 0 /);
  assert.match(library[k].error, /spec\['weights'\] must be a function of the labels: aux\[0\] = aux\[2\] = 0\.0 /);
});
