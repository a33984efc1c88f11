// The chapter 6 explorer's three §6.1 models (explorers/layers.js) against
// the library: the model table against usaav.experiments.collapse.MODEL_TABLE
// (keys, names, colours, in order), and the systems layerSystems builds
// against the set-up of MODEL.md §6.1 as usaav writes it: labels from
// usaav.labels, kernels read back by usaav.specs.from_spec, and one
// gauge-frame cloud u shared by the three (x_i(0) = G(a_i)ᵀ u_i).

import { test } from "node:test";
import assert from "node:assert/strict";

import { LAYER_MODELS, layerSystems } from "../../usaav/web/explorers/layers.js";
import { plainSpec } from "../../usaav/web/kernels.js";
import { PALETTE } from "../../usaav/web/view.js";
import { python } from "./python.mjs";

test("LAYER_MODELS is usaav.experiments.collapse.MODEL_TABLE: keys, names and colours in its order", async () => {
  const table = await python(`
from usaav.experiments.collapse import MODEL_TABLE
from usaav.plotting import PALETTE
print(json.dumps([{"key": r.key, "name": r.name, "colour": r.colour, "hex": PALETTE[r.colour]} for r in MODEL_TABLE.values()]))`);
  assert.deepEqual(LAYER_MODELS.map(({ key, name, colour }) => ({ key, name, colour, hex: PALETTE[colour] })), table);
});

test("layerSystems: the §6.1 labels and kernels of usaav, and one gauge-frame cloud for the three models", async () => {
  const [beta, n, seed] = [1.5, 24, 3];
  const systems = layerSystems(beta, n, seed);
  const answer = await python(`
from usaav import kernels, labels, specs
L = data["n"] // 4
positions = labels.replicate(labels.grid_positions(L), 4)
ids = labels.replicate(np.arange(L), 4)
out = {}
for system in data["systems"]:
    kernel, aux = specs.from_spec(system["spec"])
    X0 = np.array(system["X0"]).reshape(-1, 3)
    expected_aux = ids if system["key"] == "prompts" else positions
    out[system["key"]] = {
        "kind": type(kernel).__name__,
        "same_kernel": system["key"] != "rope" or kernel == kernels.RoPE(data["beta"], 2 * np.pi, (0, 1)),
        "labels": bool(np.array_equal(aux, expected_aux)),
        "U": kernel.gauge_frame(X0, aux).ravel().tolist(),
    }
print(json.dumps(out))`, {
    beta, n,
    systems: systems.map((s) => ({ key: s.key, spec: plainSpec(s.spec, 3), X0: Array.from(s.X0) })),
  });
  assert.deepEqual(systems.map((s) => s.key), LAYER_MODELS.map((m) => m.key));
  assert.deepEqual(systems.map((s) => s.title), LAYER_MODELS.map((m) => m.name));
  assert.deepEqual(Object.fromEntries(Object.entries(answer).map(([key, a]) => [key, a.kind])),
    { baseline: "USA", rope: "RoPE", prompts: "Prompts" });
  const U0 = Array.from(systems[0].X0);
  for (const [key, a] of Object.entries(answer)) {
    assert.ok(a.same_kernel, `${key}: RoPE(β, 2π) in the plane (x1, x2), as collapse_setup builds it`);
    assert.ok(a.labels, `${key}: labels of MODEL.md §6.1 (4 tokens per label)`);
    // u = G x with x = Gᵀ u computed in JS: a few roundings of cos/sin and two products.
    a.U.forEach((u, k) => assert.ok(Math.abs(u - U0[k]) <= 1e-14, `${key}: gauge frame [${k}] ${u} vs u ${U0[k]}`));
  }
});
