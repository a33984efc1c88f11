// The explorer framework and the explorer definitions, without a browser
// (the module rules of the bundle are tests/js/bundling.test.mjs's): the
// camera and colour maths of view.js, chart axes, control coercion, and every
// explorer run headless (the same loop the page runs, minus drawing) with the
// options its Python constructor passes: against observables computed here
// independently (plain loops, not observables.js), and its kernels against
// the Python scenarios (usaav.scenarios, usaav.specs.to_spec).

import { test } from "node:test";
import assert from "node:assert/strict";

import { axisPosition, axisTicks, powerOfTenLabel } from "../../usaav/web/chart.js";
import { formatNumber, sliderControl, choiceControl } from "../../usaav/web/controls.js";
import {
  PANEL_KINDS, advanceRun, coerceControlValue, createExplorerLoop, defineExplorer, initialValues, readoutValues, runHeadless, startRun,
} from "../../usaav/web/explorer.js";
import { remainingSeconds, slowRunNote, timeReadout } from "../../usaav/web/mount.js";
import { PANEL_DRAWERS } from "../../usaav/web/panels.js";
import { EXPLORERS } from "../../usaav/web/explorers/index.js";
import { KNOB_PARAMETERS } from "../../usaav/web/explorers/knob.js";
import { plainSpec } from "../../usaav/web/kernels.js";
import { vectorField } from "../../usaav/web/integrate.js";
import { DEFAULT_CAMERA, cameraFrame, pointColours, projectPoints, viridis } from "../../usaav/web/view.js";
import { constructorOptions, defaultOptions } from "./explorer_options.mjs";
import { python } from "./python.mjs";

test("the camera frame is orthonormal and right-handed, eye towards the viewer", () => {
  for (const [elev, azim] of [[DEFAULT_CAMERA.elev, DEFAULT_CAMERA.azim], [0, 0], [-75, 130], [90, 10]]) {
    const { eye, right, up } = cameraFrame(elev, azim);
    const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    for (const [a, b, v] of [[eye, eye, 1], [right, right, 1], [up, up, 1], [eye, right, 0], [eye, up, 0], [right, up, 0]]) {
      assert.ok(Math.abs(dot(a, b) - v) < 1e-12);
    }
    // right × up = eye
    const cross = [right[1] * up[2] - right[2] * up[1], right[2] * up[0] - right[0] * up[2], right[0] * up[1] - right[1] * up[0]];
    assert.ok(Math.abs(dot(cross, eye) - 1) < 1e-12);
  }
});

test("matplotlib's camera: azim -58, elev 22 puts the eye at (cos e cos a, cos e sin a, sin e) and x3 up", () => {
  const e = (22 * Math.PI) / 180, a = (-58 * Math.PI) / 180;
  const out = projectPoints(Float64Array.from([Math.cos(e) * Math.cos(a), Math.cos(e) * Math.sin(a), Math.sin(e), 0, 0, 1]), 2, 3,
    cameraFrame(22, -58), new Float64Array(6));
  assert.ok(Math.abs(out[0]) < 1e-12 && Math.abs(out[1]) < 1e-12 && Math.abs(out[2] - 1) < 1e-12, "the eye projects to the centre, in front");
  assert.ok(out[3] === 0 && out[4] > 0.9, "x3 points up on screen");
});

test("viridis matches matplotlib at its ends and middle", () => {
  assert.equal(viridis(0), "rgb(68,1,84)"); // #440154
  assert.equal(viridis(1), "rgb(253,231,37)"); // #fde725
  assert.equal(viridis(0.5), "rgb(33,145,140)"); // #21918c
  assert.equal(viridis(-3), viridis(0));
  const colours = pointColours({ kind: "categorical", values: [0, 1, 11] }, 3);
  assert.equal(colours[0], "#0072B2");
  assert.equal(colours[2], colours[1]);
});

test("axis positions: linear and logarithmic maps onto [0, 1], values outside drawn at the ends", () => {
  const lin = axisPosition(-1, 3, false), log = axisPosition(1e-8, 1, true);
  assert.deepEqual([lin(-1), lin(1), lin(3), lin(7), lin(-5)], [0, 0.5, 1, 1, 0]);
  assert.ok(Math.abs(log(1e-4) - 0.5) < 1e-15);
  assert.equal(log(0), 0); // a gap of exactly 0 sits on the round-off floor
  assert.equal(log(10), 1);
  assert.ok(Number.isNaN(lin(NaN)), "a missing value stays missing (the pen lifts)");
});

test("log-axis ticks are decades labelled with superscripts", () => {
  assert.equal(powerOfTenLabel(-16), "10⁻¹⁶");
  const ticks = axisTicks(1e-32, 1, true);
  assert.ok(ticks.length <= 7 && ticks.length >= 4);
  assert.equal(ticks.at(-1).value, 1);
  assert.deepEqual(axisTicks(0, 30, false).map((t) => t.value), [0, 10, 20, 30]);
  assert.deepEqual(axisTicks(0, 1, false).map((t) => t.value), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test("control values from options are clamped, snapped and checked", () => {
  const beta = sliderControl("beta", "β", { min: 0.25, max: 4, step: 0.25, value: 1 });
  const n = sliderControl("n", "n", { min: 16, max: 256, step: 16, value: 128, integer: true });
  const kernel = choiceControl("kernel", "kernel", ["a", "b"], "a");
  assert.equal(coerceControlValue(beta, 9), 4);
  assert.equal(coerceControlValue(beta, "oops"), 1);
  assert.equal(coerceControlValue(n, 100.4), 100);
  assert.equal(coerceControlValue(kernel, "c"), "a");
  assert.equal(coerceControlValue(kernel, undefined), "a");
  assert.equal(formatNumber(3.2e-31), "3.20×10⁻³¹");
  assert.equal(formatNumber(-0.5, 2), "−0.50");
});

// ---------------------------------------------------------------------------
// Explorers, headless, with the options of their Python constructors
// ---------------------------------------------------------------------------

const OPTIONS = defaultOptions(EXPLORERS.names());

function loopCollapseGap(X, n, d) {
  // (1/2n²) Σ_{i,j} |x_i − x_j|², the definition (MODEL.md §6), by a double loop.
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    for (let c = 0; c < d; c++) total += (X[i * d + c] - X[j * d + c]) ** 2;
  }
  return total / (2 * n * n);
}

/** Every combination of the values of the explorer's drop-downs and checkboxes (the settings a reader can reach). */
function settingCombinations(definition) {
  let combinations = [{}];
  for (const control of definition.controls) {
    const options = control.type === "choice" ? control.options.map(([v]) => v) : control.type === "toggle" ? [false, true] : null;
    if (options) combinations = combinations.flatMap((c) => options.map((v) => ({ ...c, [control.key]: v })));
  }
  return combinations;
}

/** What a run shows before it moves: kernels, initial clouds, labels, titles, clock. */
function fingerprint(run) {
  return JSON.stringify({
    tMax: run.tMax, dt: run.dt,
    systems: run.systems.map((s) => ({ title: s.title, spec: s.spec && plainSpec(s.spec, s.d), X0: Array.from(s.X0), aux: Array.from(s.aux) })),
    readouts: readoutValues(run),
  });
}

test("every explorer runs in every combination of its drop-downs and checkboxes, at both ends of every slider", () => {
  for (const name of EXPLORERS.names()) {
    const definition = EXPLORERS.get(name);
    const defaults = initialValues(definition, OPTIONS[name]);
    for (const setting of settingCombinations(definition)) {
      const values = { ...defaults, ...setting };
      const run = startRun(definition, values, OPTIONS[name]);
      assert.ok(run.systems.length >= 1, name);
      for (const control of definition.controls.filter((c) => c.type === "slider")) {
        for (const value of [control.min, control.max]) startRun(definition, { ...values, [control.key]: value }, OPTIONS[name]);
      }
    }
  }
});

test("a slider or checkbox is disabled exactly where it changes nothing: every enabled one changes the run", () => {
  for (const name of EXPLORERS.names()) {
    const definition = EXPLORERS.get(name);
    const options = OPTIONS[name];
    const defaults = initialValues(definition, options);
    for (const setting of settingCombinations(definition)) {
      const values = { ...defaults, ...setting };
      const base = fingerprint(startRun(definition, values, options));
      for (const control of definition.controls.filter((c) => c.type === "slider" || c.type === "toggle")) {
        const other = control.type === "toggle" ? !values[control.key]
          : values[control.key] + control.step <= control.max ? values[control.key] + control.step : values[control.key] - control.step;
        const moved = fingerprint(startRun(definition, { ...values, [control.key]: other }, options));
        const applies = control.appliesTo ? control.appliesTo(values, options) : true;
        assert.equal(moved !== base, applies,
          `${name} ${JSON.stringify(setting)}: ${control.key} ${applies ? "is enabled but changes nothing" : "is disabled but changes the run"}`);
      }
    }
  }
});

test("the explorers built on usaav.scenarios get the table from Python and fail clearly without it", () => {
  for (const name of ["collapse", "kernel_gallery", "scenario_knob"]) {
    const definition = EXPLORERS.get(name);
    assert.throws(() => startRun(definition, initialValues(definition, {}), {}), /usaav\.scenarios\.as_json\(\).*options\.scenarios/);
  }
});

// The spec of a system against usaav.specs.to_spec of the Python scenario it
// stands for (scenario key and parameters named here, from the chapters'
// text), and its forces against usaav.velocity.  Random prompt gauges are the
// one thing the two sides draw differently (their own generators): Python
// rebuilds that kernel from the browser's gauges, and everything else of the
// spec must agree.
const COLLAPSE_SCENARIOS = { baseline: ["baseline", {}], RoPE: ["rope", {}],
  prompts: ["prompts", { n_prompts: 4, layout: "random phases" }], "distance bias": ["distance_bias", { length: 0.1 }] };

function scenarioCases() {
  const cases = [];
  for (const [kernel, [key, parameters]] of Object.entries(COLLAPSE_SCENARIOS)) {
    cases.push({ explorer: "collapse", kwargs: { kernel, beta: 1.5, n: 48 }, key, system: 0, parameters: { ...parameters, beta: 1.5 } });
  }
  const gallery = ["baseline", "distance_bias", "toeplitz", "rope", "generalized_rope", "prompts"];
  gallery.forEach((key, system) => cases.push({ explorer: "kernel_gallery", kwargs: { beta: 2.5, n: 48 }, key, system,
    parameters: key === "toeplitz" ? {} : { beta: 2.5 } }));
  for (const key of gallery) {
    for (const m of [1, 4]) {
      const knob = { toeplitz: { m }, generalized_rope: { m }, prompts: { n_prompts: m } }[key] ?? {};
      cases.push({ explorer: "scenario_knob", kwargs: { scenario: key, m, beta: 1.5 }, key, system: 0,
        parameters: { ...knob, ...(key === "toeplitz" ? {} : { beta: 1.5 }) } });
    }
  }
  return cases;
}

test("explorer kernels built from usaav.scenarios.as_json() are the Python scenarios' (usaav.specs.to_spec)", () => {
  const cases = scenarioCases();
  const options = constructorOptions(cases.map((c) => [c.explorer, c.kwargs]));
  const built = cases.map((c, k) => {
    const definition = EXPLORERS.get(c.explorer);
    const run = startRun(definition, initialValues(definition, options[k]), options[k]);
    const system = run.systems[c.system];
    const V = vectorField(system.interaction, "raw")(system.X0, new Float64Array(system.X0.length));
    return { key: c.key, parameters: c.parameters, n: system.n, spec: plainSpec(system.spec, 3), X: Array.from(system.X0), V: Array.from(V) };
  });
  const expected = python(`
from usaav import kernels, scenarios, specs, velocity
out = []
for case in data:
    built = scenarios.setup(case["key"], case["n"], rng=0, **case["parameters"])
    kernel = built.kernel
    if isinstance(kernel, kernels.Prompts):  # random gauges: the browser's own draw
        kernel = kernels.Prompts(kernel.beta, np.array(case["spec"]["gauges"]))
    X = np.array(case["X"]).reshape(-1, 3)
    out.append({"spec": specs.to_spec(kernel, built.aux, 3),
                "velocity": velocity(kernel, X, built.aux).ravel().tolist()})
print(json.dumps(out))`, built);
  built.forEach((mine, k) => {
    const where = `${cases[k].explorer} ${JSON.stringify(cases[k].kwargs)}`;
    const reference = expected[k].spec;
    assert.deepEqual(Object.keys(mine.spec).sort(), Object.keys(reference).sort(), `${where}: fields`);
    for (const field of Object.keys(reference)) {
      const a = JSON.stringify(mine.spec[field]), b = JSON.stringify(reference[field]);
      if (a === b) continue;
      // Numbers computed by two libraries (rotation matrices) may differ in the last bits.
      const flat = (v) => (Array.isArray(v) ? v.flatMap(flat) : typeof v === "object" ? Object.entries(v).sort().flatMap(flat) : [v]);
      const x = flat(mine.spec[field]), y = flat(reference[field]);
      assert.equal(x.length, y.length, `${where}: ${field}`);
      x.forEach((v, j) => assert.ok(typeof v === "number" ? Math.abs(v - y[j]) < 1e-15 : String(v) === String(y[j]), `${where}: ${field}[${j}]`));
    }
    mine.V.forEach((v, j) => assert.ok(Math.abs(v - expected[k].velocity[j]) < 1e-12, `${where}: velocity[${j}]`));
  });
});

test("the knob sets the scenario's parameter: m prompts give m prompt ids, the Toeplitz mode m is its coefficient", () => {
  const [prompts, toeplitz] = constructorOptions([["scenario_knob", { scenario: "prompts", m: 3 }], ["scenario_knob", { scenario: "toeplitz", m: 5 }]]);
  const definition = EXPLORERS.get("scenario_knob");
  const ids = startRun(definition, initialValues(definition, prompts), prompts).systems[0].aux;
  assert.deepEqual([...new Set(ids)].sort(), [0, 1, 2]);
  const spec = startRun(definition, initialValues(definition, toeplitz), toeplitz).systems[0].spec;
  assert.deepEqual(Object.keys(spec.coefficients).sort(), ["0", "5"]);
  assert.deepEqual(Object.keys(KNOB_PARAMETERS).sort(), ["generalized_rope", "prompts", "toeplitz"]);
});

test("collapse explorer: the printed readouts are the observables of the state it reports", () => {
  const [options] = constructorOptions([["collapse", { kernel: "prompts", n: 32, beta: 1 }]]);
  const { snapshot, readouts } = runHeadless(EXPLORERS.get("collapse"), options, 3);
  const [system] = snapshot.systems;
  assert.ok(Math.abs(snapshot.t - 3) < 1e-9);
  assert.ok(Math.abs(readouts.gap - loopCollapseGap(system.X, system.n, system.d)) < 1e-12);
});

test("collapse explorer: baseline collapses; RoPE and prompts stay apart while their gauge frame collapses (Thm. 1, Cor. 2)", () => {
  const kernels = ["baseline", "RoPE", "prompts"];
  const options = constructorOptions(kernels.map((kernel) => ["collapse", { kernel, n: 64, beta: 1, seed: 3 }]));
  const outcome = (k) => runHeadless(EXPLORERS.get("collapse"), options[k], 30).readouts;
  assert.ok(outcome(0).gap < 1e-20);
  for (const k of [1, 2]) {
    const r = outcome(k);
    assert.ok(r.gap > 0.05, `${kernels[k]}: Γ = ${r.gap}`);
    assert.ok(r.gauge < 1e-20, `${kernels[k]}: gauge-frame gap ${r.gauge}`);
    assert.ok(r.energy < 1e-12, `${kernels[k]}: relative energy gap ${r.energy}`);
  }
});

test("a run is deterministic in its seed and changes with it", () => {
  const definition = EXPLORERS.get("collapse");
  const x = (seed) => startRun(definition, initialValues(definition, { ...OPTIONS.collapse, seed, n: 16 }), OPTIONS.collapse).systems[0].X0;
  assert.deepEqual(x(4), x(4));
  assert.notDeepEqual(x(4), x(5));
});

test("advanceRun keeps every system on the sphere and time in step", () => {
  const definition = EXPLORERS.get("collapse");
  const options = { ...OPTIONS.collapse, kernel: "distance bias", n: 32, beta: 3 };
  const run = startRun(definition, initialValues(definition, options), options);
  advanceRun(run, 25);
  assert.ok(Math.abs(run.t - 25 * run.dt) < 1e-12);
  const X = run.systems[0].X;
  for (let i = 0; i < 32; i++) {
    const norm = Math.hypot(X[3 * i], X[3 * i + 1], X[3 * i + 2]);
    assert.ok(Math.abs(norm - 1) < 1e-12);
  }
});

test("a played run ends on tMax exactly, its last step shortened as usaav.simulate shortens it (MODEL.md §5)", () => {
  // β = 1.5: the raw-clock step 0.2 e^{-1.5} = 0.0446 does not divide t = 2 (44 steps and a remainder).
  const [options] = constructorOptions([["collapse", { kernel: "RoPE", n: 32, beta: 1.5, seed: 1 }]]);
  const definition = EXPLORERS.get("collapse");
  const { snapshot } = runHeadless(definition, options, 2);
  assert.equal(snapshot.t, 2);
  const run = startRun(definition, initialValues(definition, options), options);
  assert.ok(Math.abs(2 / run.dt - Math.round(2 / run.dt)) > 0.1, "the step must not divide t here");
  const expected = python(`
from usaav import simulate, specs
kernel, aux = specs.from_spec(data["spec"])
run = simulate(kernel, np.array(data["X0"]).reshape(-1, 3), aux, 2.0, dt=data["dt"], record_every=10**6)
print(json.dumps([float(run.t[-1]), run.final.ravel().tolist()]))`, { spec: plainSpec(run.systems[0].spec, 3), X0: Array.from(run.systems[0].X0), dt: run.dt });
  assert.equal(expected[0], 2);
  const worst = snapshot.systems[0].X.reduce((m, x, k) => Math.max(m, Math.abs(x - expected[1][k])), 0);
  // The same Heun steps in another order of summation: round-off of order 1e-15 per step.
  assert.ok(worst < 1e-12, `max |X_js - X_py| = ${worst}`);
  // The loop the page plays ends there too, and its readout says so.
  const loop = createExplorerLoop(definition, initialValues(definition, options), options);
  loop.advanceTo(Infinity);
  assert.equal(loop.run.t, loop.run.tMax);
  assert.ok(loop.finished);
  assert.equal(timeReadout(loop.run), `${loop.run.tMax} of ${loop.run.tMax}`);
  assert.equal(timeReadout({ t: 2.5, tMax: 10 }), "2.50 of 10");
});

test("a loop stepped within a budget stops between steps and samples its charts up to the end", () => {
  const [options] = constructorOptions([["collapse", { n: 16 }]]);
  const definition = EXPLORERS.get("collapse");
  let clock = 0;
  const loop = createExplorerLoop(definition, initialValues(definition, options), options, () => clock);
  const budgeted = loop.tick(loop.run.tMax, 0); // a zero budget still takes one step
  assert.equal(budgeted, 1);
  clock = 0;
  loop.tick(5);
  assert.ok(Math.abs(loop.run.t - 5) < 1e-9 * loop.run.dt, `t = ${loop.run.t}`);
  loop.advanceTo(Infinity);
  const times = loop.samples[0][0].t;
  assert.equal(times[0], 0);
  assert.equal(times.at(-1), loop.run.tMax);
});

test("a slow setting is detected from the cost of its steps and says why in one sentence", () => {
  const [options] = constructorOptions([["kernel_gallery", { beta: 6 }]]);
  const definition = EXPLORERS.get("kernel_gallery");
  const run = startRun(definition, initialValues(definition, options), options);
  // Steps of 0.2 e^{-6} (raw clock) to T = 10: about 20 000 steps; at 1 ms a step that is 20 s of stepping.
  assert.ok(Math.abs(remainingSeconds(run, 1) - run.tMax / run.dt / 1000) < 1e-9);
  assert.ok(remainingSeconds(run, 1) > 5);
  const note = slowRunNote(run);
  assert.match(note, /^At β = 6 .*metastability\)\.$/);
  assert.equal(note.split(". ").length, 1, "one sentence");
});

test("panels.js draws exactly the panel kinds an explorer may declare", () => {
  assert.deepEqual(Object.keys(PANEL_DRAWERS), [...PANEL_KINDS]);
});

test("a definition's panels are checked when it is defined", () => {
  const base = { name: "x", setup: () => ({ systems: [] }) };
  assert.throws(() => defineExplorer({ ...base, panels: [{ key: "p", kind: "pie", data: () => ({}) }] }),
    /panel p has kind "pie"; panel kinds are histogram, bars, lines/);
  assert.throws(() => defineExplorer({ ...base, panels: [{ key: "p", kind: "bars" }] }), /panel p needs data\(run\)/);
  assert.deepEqual(defineExplorer(base).panels, []);
});

test("typed input the explorer cannot use is refused with a message that says why", () => {
  const orbit = EXPLORERS.get("orbit_law"), prompt = EXPLORERS.get("prompt_law");
  const quantile = (q) => () => startRun(orbit, { ...initialValues(orbit, OPTIONS.orbit_law), law: "your quantile", quantile: q }, OPTIONS.orbit_law);
  assert.throws(quantile("pi*(2*s"), /character 8: unbalanced parenthesis/);
  assert.throws(quantile(""), /formula/);
  assert.throws(quantile("s +* 2"), /formula 's \+\* 2', character/);
  for (const word of ["", "   "]) {
    assert.throws(() => startRun(prompt, { ...initialValues(prompt, OPTIONS.prompt_law), shape: "word", word }, OPTIONS.prompt_law),
      /word must contain visible characters/, JSON.stringify(word));
  }
});
