// The explorer framework and the explorer definitions, without a browser
// (the module rules of the bundle are tests/js/bundling.test.mjs's): the
// camera and colour maths of view.js, chart axes, control coercion, and every explorer run headless
// (the same loop the page runs, minus drawing) against observables computed
// here independently (plain loops, not observables.js).

import { test } from "node:test";
import assert from "node:assert/strict";

import { axisTicks, powerOfTenLabel } from "../../usaav/web/chart.js";
import { coerceControlValue, formatNumber, sliderControl, choiceControl } from "../../usaav/web/controls.js";
import { advanceRun, initialValues, runHeadless, startRun } from "../../usaav/web/explorer.js";
import { EXPLORERS } from "../../usaav/web/explorers/index.js";
import { DEFAULT_CAMERA, cameraFrame, pointColours, projectPoints, viridis } from "../../usaav/web/view.js";

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
// Explorers, headless
// ---------------------------------------------------------------------------

function loopCollapseGap(X, n, d) {
  // (1/2n²) Σ_{i,j} |x_i − x_j|², the definition (MODEL.md §6), by a double loop.
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    for (let c = 0; c < d; c++) total += (X[i * d + c] - X[j * d + c]) ** 2;
  }
  return total / (2 * n * n);
}

test("every registered explorer builds its default run and every control value it offers", () => {
  for (const name of EXPLORERS.names()) {
    const definition = EXPLORERS.get(name);
    const values = initialValues(definition, {});
    const run = startRun(definition, values, {});
    assert.ok(run.systems.length >= 1, name);
    for (const control of definition.controls) {
      const choices = control.type === "choice" ? control.options.map(([v]) => v)
        : control.type === "slider" ? [control.min, control.max] : [];
      for (const value of choices) startRun(definition, { ...values, [control.key]: value }, {});
    }
  }
});

test("collapse explorer: the printed readouts are the observables of the state it reports", () => {
  const { snapshot, readouts } = runHeadless(EXPLORERS.get("collapse"), { kernel: "prompts", n: 32, beta: 1 }, 3);
  const [system] = snapshot.systems;
  assert.ok(Math.abs(snapshot.t - 3) < 1e-9);
  assert.ok(Math.abs(readouts.gap - loopCollapseGap(system.X, system.n, system.d)) < 1e-12);
});

test("collapse explorer: baseline collapses; RoPE and prompts stay apart while their gauge frame collapses (Thm. 1, Cor. 2)", () => {
  const outcome = (kernel) => runHeadless(EXPLORERS.get("collapse"), { kernel, n: 64, beta: 1, seed: 3 }, 30).readouts;
  assert.ok(outcome("baseline").gap < 1e-20);
  for (const kernel of ["RoPE", "prompts"]) {
    const r = outcome(kernel);
    assert.ok(r.gap > 0.05, `${kernel}: Γ = ${r.gap}`);
    assert.ok(r.gauge < 1e-20, `${kernel}: gauge-frame gap ${r.gauge}`);
    assert.ok(r.energy < 1e-12, `${kernel}: relative energy gap ${r.energy}`);
  }
});

test("a run is deterministic in its seed and changes with it", () => {
  const definition = EXPLORERS.get("collapse");
  const x = (seed) => startRun(definition, initialValues(definition, { seed, n: 16 }), {}).systems[0].X0;
  assert.deepEqual(x(4), x(4));
  assert.notDeepEqual(x(4), x(5));
});

test("advanceRun keeps every system on the sphere and time in step", () => {
  const definition = EXPLORERS.get("collapse");
  const run = startRun(definition, initialValues(definition, { kernel: "distance bias", n: 32, beta: 3 }), {});
  advanceRun(run, 25);
  assert.ok(Math.abs(run.t - 25 * run.dt) < 1e-12);
  const X = run.systems[0].X;
  for (let i = 0; i < 32; i++) {
    const norm = Math.hypot(X[3 * i], X[3 * i + 1], X[3 * i + 2]);
    assert.ok(Math.abs(norm - 1) < 1e-12);
  }
});
