// The explorers of chapters 3, 4, 5 and 7 (latitude, orbit_law, prompt_law,
// prompts, toeplitz, metastability) run without a page and are checked
// against the Python library: the constructions against usaav.maximizers and
// usaav.targets, the flows against usaav.simulate / the library's Heun step
// from the same initial cloud, the readouts against usaav.observables.

import { test } from "node:test";
import assert from "node:assert/strict";

import { advanceRun, initialValues, readoutValues, runHeadless, startRun } from "../../usaav/web/explorer.js";
import { heightSpread, latitudeExplorer, ropeMaximizer } from "../../usaav/web/explorers/latitude.js";
import { angleHistogram, lawDistance, orbitLawExplorer } from "../../usaav/web/explorers/orbit_law.js";
import { promptLawExplorer, promptLawRealization } from "../../usaav/web/explorers/prompt_law.js";
import { promptsExplorer } from "../../usaav/web/explorers/prompts.js";
import { finiteBound, toeplitzExplorer, toeplitzSpectrum, winningMode } from "../../usaav/web/explorers/toeplitz.js";
import {
  capSample,
  clusterCentres,
  metastabilityExplorer,
  metastabilityStart,
  reducedMergerTime,
} from "../../usaav/web/explorers/metastability.js";
import { plainSpec } from "../../usaav/web/kernels.js";
import { makeRng } from "../../usaav/web/random.js";
import { tiltedStart } from "../../usaav/web/targets.js";
import { python } from "./python.mjs";

function maxDifference(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

/** Step a run to time `t` (Heun steps of the run's dt). */
function runTo(definition, options, t) {
  const run = startRun(definition, initialValues(definition, options), options);
  advanceRun(run, Math.round(t / run.dt));
  return run;
}

// Python: simulate the spec a system ran, from its initial cloud, to time t (usaav.specs + usaav.simulate).
const SIMULATE = `
from usaav import simulate, specs
kernel, aux = specs.from_spec(data["spec"])
X0 = np.array(data["X0"]).reshape(-1, 3)
run = simulate(kernel, X0, aux, data["t"], dt=data["dt"], record_every=10**6)
`;

// --------------------------------------------------------------------------
// Chapter 3: latitude
// --------------------------------------------------------------------------

test("latitude: the maximiser is usaav.maximizers.rope for every plane", async () => {
  const cases = [[60, 2, "x1x2", [0, 1]], [30, 0.75, "x1x3", [0, 2]], [120, 3.5, "x2x3", [1, 2]]];
  const expected = await python(`
from usaav import maximizers, targets
s = np.arange(240) / 240
print(json.dumps([maximizers.rope(targets.tilted_start(np.radians(p), tuple(pl)), np.pi * th, s, tuple(pl)).ravel().tolist()
                  for p, th, _, pl in data]))`, cases);
  cases.forEach(([polar, theta, plane], k) => {
    const run = startRun(latitudeExplorer, initialValues(latitudeExplorer, { polar, theta, plane, flow: false }), {});
    assert.ok(maxDifference(run.byKey.maximiser.X, expected[k]) < 1e-14, `case ${k}`);
    const readouts = readoutValues(run);
    assert.ok(Math.abs(readouts.gap) < 1e-14 && readouts.spread < 1e-14, JSON.stringify(readouts));
    assert.equal(readouts.height.toFixed(12), Math.cos((polar * Math.PI) / 180).toFixed(12));
  });
});

test("latitude: the flow is the library's RoPE flow and settles on a latitude circle", async () => {
  const run = runTo(latitudeExplorer, { flow: true, theta: 2 }, 2);
  const flow = run.byKey.flow;
  const expected = await python(`${SIMULATE}
print(json.dumps(run.final.ravel().tolist()))`, { spec: plainSpec(flow.spec, 3), X0: Array.from(flow.X0), t: 2, dt: run.dt });
  assert.ok(maxDifference(flow.X, expected) < 1e-9, "flow after t = 2 against usaav.simulate");
  const settled = runTo(latitudeExplorer, { flow: true, theta: 2, copies: 4 }, 30);
  assert.ok(heightSpread(settled.byKey.flow.X, settled.byKey.flow.n, 2) < 1e-6, "height spread at t = 30");
  // Four tokens per position meet (Thm. 3): the conditional diameter falls to round-off.
  assert.ok(readoutValues(settled).flowDiameter < 1e-9, "conditional diameter at t = 30");
});

test("latitude: ropeMaximizer at θ = 0 is a Dirac mass at v", () => {
  const v = tiltedStart(1, [0, 1]);
  const X = ropeMaximizer(v, 0, [0, 0.3, 0.7], [0, 1]);
  assert.deepEqual(Array.from(X), [...v, ...v, ...v]);
});

// --------------------------------------------------------------------------
// Chapter 3: orbit law
// --------------------------------------------------------------------------

test("orbit law: the realisation and its readouts equal usaav.targets.realize_law", async () => {
  const laws = [["bimodal mixture", 0.4, 400], ["uniform arc", 0.7, 150], ["your quantile", 0.4, 200]];
  const expected = await python(`
from usaav import targets
out = []
for name, width, n in data:
    r = targets.realize_law(targets.angle_law(name, width, "pi * (2*s - 1)**3"), n=n)
    out.append({"X": r.X.ravel().tolist(), "ks": r.ks_distance, "gap": r.energy_gap})
print(json.dumps(out))`, laws);
  laws.forEach(([law, width, n], k) => {
    const run = startRun(orbitLawExplorer, initialValues(orbitLawExplorer, { law, width, n }), {});
    const readouts = readoutValues(run);
    assert.ok(maxDifference(run.systems[0].X, expected[k].X) < 1e-9, law);
    assert.ok(Math.abs(readouts.ks - expected[k].ks) < 1e-9, `${law}: KS`);
    assert.ok(Math.abs(readouts.gap) < 1e-14 && Math.abs(expected[k].gap) < 1e-14, `${law}: energy gap`);
    assert.equal(readouts.best, 0.5 / n);
  });
});

test("orbit law: a broken quantile formula stops its realisation with the parser's message", () => {
  assert.throws(() => runHeadless(orbitLawExplorer, { law: "your quantile", quantile: "__import__('os')" }),
    /formula '__import__\(\\'os\\'\)', character 1: unknown name '__import__'/);
});

test("orbit law: beside a preset, the typed law is drawn for comparison, or its error is printed", () => {
  const good = startRun(orbitLawExplorer, initialValues(orbitLawExplorer, { law: "von Mises" }), {});
  assert.ok(good.systems[0].extra.typed !== null);
  const bad = startRun(orbitLawExplorer, initialValues(orbitLawExplorer, { law: "von Mises", quantile: "pi*(2*s" }), {});
  assert.equal(bad.systems[0].extra.typedError,
    "formula 'pi*(2*s', character 8: unbalanced parenthesis: the '(' at character 4 is never closed");
  assert.equal(readoutValues(bad).typed, "invalid (see the legend)");
});

test("orbit law: the typed law's KS distance to a uniform target is the closed form 3^(-3/2)", () => {
  // Q(s) = π(2s − 1)³ has F(α) = ((α/π)^(1/3) + 1)/2; against F_unif(α) = (α/π + 1)/2 the largest gap,
  // (u^(1/3) − u)/2 at u = 3^(-3/2), is 3^(-3/2) ≈ 0.19245.  Tolerance: the typed law's CDF is
  // tabulated from 20 000 quantile samples on a grid of 4097 angles.
  const run = startRun(orbitLawExplorer, initialValues(orbitLawExplorer, { law: "uniform arc", width: 1 }), {});
  assert.ok(Math.abs(readoutValues(run).typed - 3 ** -1.5) < 1e-3, String(readoutValues(run).typed));
  const { law } = run.systems[0].extra;
  assert.equal(lawDistance(law, law), 0);
});

test("orbit law: the histogram is a density (it integrates to 1)", () => {
  const angles = Array.from({ length: 500 }, (_, k) => -Math.PI + (2 * Math.PI * (k + 0.5)) / 500);
  const heights = angleHistogram(angles, 36);
  const total = heights.reduce((a, h) => a + h * (2 * Math.PI / 36), 0);
  assert.ok(Math.abs(total - 1) < 1e-12);
});

// --------------------------------------------------------------------------
// Chapter 4: prompt law and prompts
// --------------------------------------------------------------------------

test("prompt law: x_p = G_pᵀ v equals the library's gauge_for_targets / gauge and hits the targets", async () => {
  for (const shape of ["spiral", "ring", "two caps", "uniform"]) {
    const built = promptLawRealization(shape, "", 300, 4);
    const expected = await python(`
from usaav import kernels, maximizers, relative_energy_gap
T = np.array(data).reshape(-1, 3)
v = np.array([0.0, 0.0, 1.0])
G = maximizers.gauge_for_targets(v, T)
X = maximizers.gauge(v, G)
print(json.dumps({"X": X.ravel().tolist(), "gap": relative_energy_gap(kernels.Prompts(1.0, G), X, np.arange(len(T)))}))`,
    Array.from(built.T));
    assert.ok(maxDifference(built.X, expected.X) < 1e-14, shape);
    assert.ok(built.error < 1e-14 && Math.abs(built.gap) < 1e-13 && Math.abs(expected.gap) < 1e-13, shape);
  }
});

test("prompt law: the word (pixel font in node) is realised exactly", () => {
  const { readouts } = runHeadless(promptLawExplorer, { shape: "word", word: "USA-AV", n: 400 });
  assert.ok(Math.abs(readouts.gap) < 1e-13 && readouts.error < 1e-14, JSON.stringify(readouts));
});

test("prompts: the flow is the library's and ends with one cluster per distinct point G_pᵀ u", async () => {
  for (const [m, layout, seed] of [[4, "random rotations", 0], [6, "only two distinct gauges", 1], [5, "phases in one plane", 2]]) {
    const run = runTo(promptsExplorer, { m, layout, seed }, 30);
    const system = run.systems[0];
    const readouts = readoutValues(run);
    const expected = await python(`${SIMULATE}
from usaav import count_clusters, gauge_gap, relative_energy_gap
print(json.dumps({"X": run.final.ravel().tolist(), "clusters": count_clusters(run.final),
                  "gauge": gauge_gap(kernel, run.final, aux), "energy": relative_energy_gap(kernel, run.final, aux)}))`,
    { spec: plainSpec(system.spec, 3), X0: Array.from(system.X0), t: 30, dt: run.dt });
    assert.ok(maxDifference(system.X, expected.X) < 1e-8, `${layout}: final state`);
    assert.equal(Number(readouts.clusters), expected.clusters, `${layout}: clusters`);
    assert.equal(readouts.clusters, readouts.predicted, `${layout}: clusters = distinct points G_pᵀu`);
    assert.equal(Number(readouts.gauges), layout === "only two distinct gauges" ? 2 : m);
    assert.ok(readouts.gauge < 1e-20 && Math.abs(readouts.energy) < 1e-12, `${layout}: converged`);
  }
});

// --------------------------------------------------------------------------
// Chapter 5: Toeplitz
// --------------------------------------------------------------------------

test("toeplitz: spectrum, winner and the finite-n bound agree with the library and numpy's eigenvalues", async () => {
  const cases = [[0.2, 0, 1, 0], [0.6, 0, 1, 0], [0, 0.3, 0.3, 0.9], [0, 0, 0, 0], [0.5, 1, 0, 0]];
  const expected = await python(`
from usaav import kernels, maximizers
out = []
s = np.arange(200) / 200
for c in data:
    coefficients = {k: ck for k, ck in enumerate(c) if ck != 0} or {0: 0.0}
    kernel = kernels.Toeplitz(coefficients)
    X = maximizers.toeplitz(kernel, s)
    k_star = int(round(abs(np.sum(np.diff(np.unwrap(np.arctan2(X[:, 1], X[:, 0])))) / (2 * np.pi))))
    C = kernel.profile(s[:, None] - s[None, :])
    out.append({"bound": kernel.energy_bound(), "lmax": float(np.linalg.eigvalsh(C).max() / (2 * 200)), "k": k_star})
print(json.dumps(out))`, cases);
  cases.forEach((c, k) => {
    const spectrum = toeplitzSpectrum(c);
    const winner = winningMode(spectrum);
    assert.ok(Math.abs(spectrum[winner] / 2 - expected[k].bound) < 1e-15, `case ${k}: ½ max ĉ`);
    assert.ok(Math.abs(finiteBound(c, 200) - expected[k].lmax) < 1e-12, `case ${k}: λ_max(C)/(2n)`);
    if (spectrum[winner] > 0) assert.equal(winner, expected[k].k, `case ${k}: k*`);
  });
});

test("toeplitz: the flow is the library's, stays below λ_max(C)/(2n) and winds k* times", async () => {
  const run = runTo(toeplitzExplorer, {}, 3);
  const system = run.systems[0];
  const expected = await python(`${SIMULATE}
print(json.dumps(run.final.ravel().tolist()))`, { spec: plainSpec(system.spec, 3), X0: Array.from(system.X0), t: 3, dt: run.dt });
  assert.ok(maxDifference(system.X, expected) < 1e-9);
  const settled = readoutValues(runTo(toeplitzExplorer, {}, 60));
  assert.equal(settled.kStar, "2");
  assert.equal(settled.winding, "2");
  assert.ok(settled.energy <= settled.finite + 1e-12 && settled.bound - settled.energy < 1e-6, JSON.stringify(settled));
});

// --------------------------------------------------------------------------
// Chapter 7: metastability
// --------------------------------------------------------------------------

test("metastability: centres and the reduced merger time equal the library's", async () => {
  const expected = await python(`
from usaav.experiments import cluster_centres, reduced_merger_time
print(json.dumps({"centres": [cluster_centres(k, 0.9).ravel().tolist() for k in (2, 3)],
                  "T1": [reduced_merger_time(b, d, 0.1) for b, d in data]}))`, [[2, 1], [6, 1], [10, 1.2], [4, 0.6]]);
  [2, 3].forEach((k, j) => assert.ok(maxDifference(clusterCentres(k, 0.9), expected.centres[j]) < 1e-15));
  [[2, 1], [6, 1], [10, 1.2], [4, 0.6]].forEach(([b, d], j) => {
    // Simpson's rule on 2000 intervals against scipy's adaptive quadrature (rtol 1e-10).
    assert.ok(Math.abs(reducedMergerTime(b, d) - expected.T1[j]) < 1e-8 * expected.T1[j], `β = ${b}, Δ = ${d}`);
  });
});

test("metastability: cap samples lie in the cap, with heights uniform on [cos r, 1]", () => {
  const centre = [Math.sin(0.4), 0, Math.cos(0.4)];
  const X = capSample(centre, 0.05, 4000, makeRng(1));
  let inside = true, mean = 0;
  for (let i = 0; i < 4000; i++) {
    const cos = X[3 * i] * centre[0] + X[3 * i + 1] * centre[1] + X[3 * i + 2] * centre[2];
    inside &&= Math.acos(Math.min(1, cos)) <= 0.05 + 1e-12;
    mean += cos / 4000;
  }
  assert.ok(inside);
  // Mean of Unif[cos 0.05, 1] is (1 + cos 0.05)/2; its s.e. over 4000 draws is ~1.1e-5.
  assert.ok(Math.abs(mean - (1 + Math.cos(0.05)) / 2) < 6e-5);
});

test("metastability: the particles are the library's rescaled-clock flow and merge when the reduced flow says", async () => {
  const options = { beta: 4, gap: 1, clusters: 2 };
  const run = startRun(metastabilityExplorer, initialValues(metastabilityExplorer, options), options);
  const system = run.systems[0];
  const X0 = Array.from(system.X0);
  const recorder = system.extra.recorder;
  recorder.observe(0, system.X);
  while (run.t < run.tMax - 1e-9) {
    advanceRun(run, 1);
    recorder.observe(run.t, system.X);
  }
  const expected = await python(`
from usaav import kernels
from usaav.dynamics import bind, vector_field
from usaav.integrate import heun_step
X, interaction = bind(kernels.USA(data["beta"]), np.array(data["X0"]).reshape(-1, 3), None)
field = vector_field(interaction, "rescaled")
for _ in range(data["steps"]):
    X = heun_step(field, X, data["dt"])
print(json.dumps(X.ravel().tolist()))`, { beta: 4, X0, steps: run.steps, dt: run.dt });
  assert.ok(maxDifference(system.X, expected) < 1e-9, "final state against the library's Heun steps");
  const start = metastabilityStart(4, 1, 2, 0);
  // The particles follow the reduced 2-point flow closely (MODEL.md §4 Thm. 5 (3)): well within 1 %.
  assert.ok(Math.abs(recorder.T1 - start.reduced) < 0.01 * start.reduced, `T1 = ${recorder.T1}, reduced ${start.reduced}`);
  const readouts = readoutValues(run);
  assert.ok(Math.abs(readouts.c - (1 - Math.cos(start.delta0))) < 1e-15);
  assert.match(metastabilityExplorer.readouts.find((r) => r.key === "c").label, /reconstruction/);
});
