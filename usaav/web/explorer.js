// The explorer framework: one loop that runs any explorer definition.
//
// An explorer is data plus a few pure functions (see README.md, "Writing an
// explorer"):
//
//   defineExplorer({
//     name, title,
//     controls: [sliderControl(...), choiceControl(...), ...],
//     setup(values, options) -> {systems: [{key, title, spec, X0, d, colour}],
//                                dt, clock, speed, tMax, sampleDt},
//     readouts: [{key, label, value(run), digits}],
//     charts:   [{key, yLabel, log, yMin, yMax, series: [{label, colour, value(run)}], lines(run)}],
//     panels:   [{key, kind: "histogram" | "bars" | "lines", label, xLabel, yLabel, data(run)}],
//     overlays(run, system) -> [{kind: "path" | "marker", ...}],
//   })
//
// `spec` is a kernel spec of WEB_CONTRACT.md (the same JSON the Python
// library reads with usaav.specs.from_spec); a system without a spec is a
// still picture (a configuration computed elsewhere).  The loop binds each
// spec with kernels.bindKernel, steps every system with the projected Heun
// simulation of integrate.js, draws the points with view.js, samples the
// chart series, redraws the panels (panels.js) and prints the readouts.  It
// never looks inside a kernel.

import { bindKernel, plainSpec } from "./kernels.js";
import { createSimulation } from "./integrate.js";
import { watchPixelRatio } from "./canvas.js";
import { createLineChart } from "./chart.js";
import {
  buildChartLegend,
  buildColourLegend,
  buildControl,
  buildReadouts,
  buildTransport,
  coerceControlValue,
  formatNumber,
  htmlElement,
} from "./controls.js";
import { PANEL_KINDS, mountPanels } from "./panels.js";
import { createCamera, createSphereView, pointColours } from "./view.js";

/** Milliseconds of stepping per animation frame: leaves room for drawing within one 60 Hz frame. */
export const FRAME_BUDGET_MS = 10;
/** The same when the reader asks to run to the end: still above 30 frames per second. */
export const FAST_FORWARD_BUDGET_MS = 20;
/** Milliseconds between two readout updates while playing (observables like the energy cost O(n²)). */
export const READOUT_INTERVAL_MS = 100;
/** Seconds between two state messages to Python while the animation runs (never per frame). */
export const STATE_INTERVAL_S = 0.5;

// ---------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------

/** Check an explorer definition once and freeze it. */
export function defineExplorer(definition) {
  const { name, controls = [], setup } = definition;
  if (typeof name !== "string" || !/^[a-z][a-z0-9_]*$/.test(name)) {
    throw new Error(`explorer name must be snake_case, got ${JSON.stringify(name)}`);
  }
  if (typeof setup !== "function") throw new Error(`explorer ${name}: setup(values, options) is required`);
  const keys = new Set();
  for (const control of controls) {
    if (keys.has(control.key)) throw new Error(`explorer ${name}: duplicate control ${control.key}`);
    keys.add(control.key);
  }
  for (const panel of definition.panels || []) {
    if (!PANEL_KINDS.includes(panel.kind)) {
      throw new Error(`explorer ${name}: panel ${panel.key} has kind ${JSON.stringify(panel.kind)}; panel kinds are ${PANEL_KINDS.join(", ")}`);
    }
    if (typeof panel.data !== "function") throw new Error(`explorer ${name}: panel ${panel.key} needs data(run)`);
  }
  return Object.freeze({
    title: "",
    readouts: [],
    charts: [],
    panels: [],
    redrawOnly: [],
    ...definition,
    controls: Object.freeze([...controls]),
  });
}

/** Name → definition, with a clear error for unknown names. */
export function explorerRegistry(definitions) {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  if (byName.size !== definitions.length) throw new Error("explorer names must be unique");
  return Object.freeze({
    names: () => [...byName.keys()],
    get(name) {
      const definition = byName.get(name);
      if (!definition) throw new Error(`unknown explorer ${JSON.stringify(name)}; known: ${[...byName.keys()].join(", ")}`);
      return definition;
    },
  });
}

/** Control values from the defaults, overridden by `options` (unknown keys are left for setup). */
export function initialValues(definition, options = {}) {
  const values = {};
  for (const control of definition.controls) values[control.key] = coerceControlValue(control, options[control.key]);
  return values;
}

// ---------------------------------------------------------------------------
// A run: the systems of one setup, stepped together (no DOM: node can run it)
// ---------------------------------------------------------------------------

/**
 * Build the systems of `definition` for control `values`.
 * @returns run {values, options, t, dt, clock, speed, tMax, sampleDt, systems, byKey, steps}
 */
export function startRun(definition, values, options = {}) {
  const plan = definition.setup(values, options);
  const dt = plan.dt ?? 0.05;
  const clock = plan.clock ?? "raw";
  const systems = plan.systems.map((system) => {
    const d = system.d ?? 3;
    const X0 = Float64Array.from(system.X0);
    const n = X0.length / d;
    if (!Number.isInteger(n)) throw new Error(`system ${system.key}: X0 length ${X0.length} is not a multiple of d = ${d}`);
    let interaction = null, simulation = null;
    if (system.spec) {
      interaction = bindKernel(system.spec, n, d);
      simulation = createSimulation({ interaction, X0, dt, clock });
    }
    return {
      key: system.key,
      title: system.title ?? system.key,
      n, d,
      spec: system.spec ?? null,
      aux: Float64Array.from(system.spec ? system.spec.aux : system.aux ?? new Float64Array(n)),
      colour: system.colour ?? { kind: "uniform" },
      interaction,
      simulation,
      X0,
      get X() { return simulation ? simulation.X : X0; },
      extra: system.extra ?? {},
    };
  });
  const animated = systems.some((s) => s.simulation);
  const tMax = animated ? plan.tMax ?? 30 : 0;
  return {
    definition,
    values,
    options,
    t: 0,
    steps: 0,
    dt,
    clock,
    speed: plan.speed ?? 5,
    tMax,
    sampleDt: plan.sampleDt ?? (tMax > 0 ? tMax / 200 : 1),
    animated,
    systems,
    byKey: Object.fromEntries(systems.map((s) => [s.key, s])),
    extra: plan.extra ?? {},
  };
}

/** Advance every animated system of `run` by `k` Heun steps. */
export function advanceRun(run, k = 1) {
  for (const system of run.systems) if (system.simulation) system.simulation.step(k);
  run.steps += k;
  run.t = run.steps * run.dt;
  return run;
}

/** The state handed to Python: per system X, aux, kernel spec; and t. Plain JSON. */
export function runSnapshot(run) {
  return {
    explorer: run.definition.name,
    t: run.t,
    values: run.values,
    systems: run.systems.map((s) => ({
      key: s.key,
      title: s.title,
      n: s.n,
      d: s.d,
      X: Array.from(s.X),
      aux: Array.from(s.aux),
      spec: s.spec ? plainSpec(s.spec, s.d) : null,
    })),
  };
}

/** Evaluate the readouts of a definition on a run: key → number or string. */
export function readoutValues(run) {
  const out = { t: run.t };
  for (const r of run.definition.readouts) out[r.key] = r.value(run);
  return out;
}

/**
 * Run an explorer without a page: `options` as from Python, to time `tEnd`.
 * Used by the tests (node) and by anyone checking a state against the library.
 */
export function runHeadless(definition, options = {}, tEnd = 0) {
  const run = startRun(definition, initialValues(definition, options), options);
  const steps = Math.round(Math.min(tEnd, run.tMax || tEnd) / run.dt);
  if (run.animated && steps > 0) advanceRun(run, steps);
  return { snapshot: runSnapshot(run), readouts: readoutValues(run) };
}

// ---------------------------------------------------------------------------
// Chart samples
// ---------------------------------------------------------------------------

function emptySamples(definition) {
  return definition.charts.map((chart) => chart.series.map(() => ({ t: [], y: [] })));
}

function recordSamples(run, samples) {
  run.definition.charts.forEach((chart, c) => {
    chart.series.forEach((series, k) => {
      samples[c][k].t.push(run.t);
      samples[c][k].y.push(series.value(run));
    });
  });
}

// ---------------------------------------------------------------------------
// Mounting on a page
// ---------------------------------------------------------------------------

const EXPLORER_STYLE = `
.usaav-x { --usaav-x-line: rgba(128,128,128,0.45); font-size: 0.92rem; line-height: 1.35; margin: 0.6em 0 1.2em; }
.usaav-x * { box-sizing: border-box; }
.usaav-x-title { font-weight: 600; margin: 0 0 0.4em; }
.usaav-x-body { display: flex; flex-wrap: wrap; gap: 0.8em 1.2em; align-items: flex-start; }
.usaav-x-figure { flex: 1 1 300px; min-width: 0; }
.usaav-x-panel { flex: 1 1 230px; max-width: 100%; display: flex; flex-direction: column; gap: 0.45em; }
.usaav-x-spheres { display: grid; gap: 0.3em; grid-template-columns: repeat(var(--usaav-x-columns, 1), minmax(0, 1fr)); }
.usaav-x > .usaav-x-colourbars { margin-bottom: 0.6em; }
@media (max-width: 520px) { .usaav-x > .usaav-x-spheres { grid-template-columns: repeat(var(--usaav-x-narrow-columns, 2), minmax(0, 1fr)); } }
.usaav-x-sphere { margin: 0; min-width: 0; text-align: center; }
.usaav-x-sphere canvas { display: block; width: 100%; max-width: 440px; margin: 0 auto; cursor: grab; border-radius: 4px; }
.usaav-x-sphere canvas:focus-visible, .usaav-x button:focus-visible, .usaav-x input:focus-visible, .usaav-x select:focus-visible { outline: 2px solid #0072B2; outline-offset: 2px; }
.usaav-x-sphere figcaption { font-size: 0.85em; margin-top: 0.1em; }
.usaav-x-chart { margin-top: 0.5em; }
.usaav-x-chart canvas { display: block; width: 100%; }
.usaav-x-control { display: grid; grid-template-columns: minmax(4.5em, auto) 1fr 3.6em; align-items: center; gap: 0.5em; }
.usaav-x-control input[type=range] { width: 100%; min-width: 0; margin: 0; accent-color: #0072B2; }
.usaav-x-choice, .usaav-x-text { grid-template-columns: minmax(4.5em, auto) 1fr; }
.usaav-x-toggle { grid-template-columns: auto 1fr; }
.usaav-x-control select, .usaav-x-control input[type=text] { width: 100%; min-width: 0; font: inherit; padding: 0.15em 0.3em; color: inherit; background: transparent; border: 1px solid var(--usaav-x-line); border-radius: 4px; }
.usaav-x-control select option { color: #222; background: #fff; }
.usaav-x-value { font-variant-numeric: tabular-nums; text-align: right; }
.usaav-x-inactive { opacity: 0.45; }
.usaav-x-control [aria-invalid=true] { border-color: #b00020; outline: 1px solid #b00020; }
.usaav-x-transport { display: flex; flex-wrap: wrap; gap: 0.4em; }
.usaav-x-button { font: inherit; font-size: 0.9em; padding: 0.2em 0.7em; color: inherit; background: transparent; border: 1px solid var(--usaav-x-line); border-radius: 4px; cursor: pointer; min-height: 2em; }
.usaav-x-button:hover { background: rgba(128,128,128,0.12); }
.usaav-x-button:disabled { opacity: 0.45; cursor: default; }
.usaav-x .usaav-x-panel dl.usaav-x-readouts { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 0.1em 0.8em; margin: 0.3em 0 0; font-variant-numeric: tabular-nums; }
/* Above the theme's dl[class]:not(...) rules for API docs. */
.usaav-x .usaav-x-panel .usaav-x-readouts dd { text-align: right; white-space: nowrap; margin: 0; padding: 0; }
.usaav-x .usaav-x-panel .usaav-x-readouts dt { margin: 0; padding: 0; }
.usaav-x p { margin: 0; }
.usaav-x-readouts dt { font-weight: normal; opacity: 0.85; }
.usaav-x-readouts dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
.usaav-x-legend { list-style: none; padding: 0; margin: 0.2em 0 0; display: flex; flex-wrap: wrap; gap: 0.2em 0.9em; font-size: 0.85em; }
.usaav-x-legend li { display: flex; align-items: center; gap: 0.35em; }
.usaav-x-swatch { display: inline-block; width: 1.6em; height: 0; }
.usaav-x-dot { display: inline-block; width: 0.7em; height: 0.7em; border-radius: 50%; }
.usaav-x-colourbar { display: flex; align-items: center; flex-wrap: wrap; gap: 0.3em 0.5em; font-size: 0.85em; margin-top: 0.2em; justify-content: center; }
.usaav-x-gradient { display: inline-block; width: 9em; height: 0.7em; border-radius: 2px; }
.usaav-x-error { color: #b00020; font-size: 0.9em; }
.usaav-x-hint { font-size: 0.8em; opacity: 0.75; margin: 0.2em 0 0; }
.usaav-x-error:empty { display: none; }
`;

function readoutText(readout, value) {
  if (typeof value === "string") return value;
  return readout.format ? readout.format(value) : formatNumber(value, readout.digits ?? 3);
}

/**
 * Mount `definition` into the element `el`.
 *
 * @param {HTMLElement} el
 * @param {object} definition  from defineExplorer
 * @param {object} [host]  {options: values/data from Python, onState(snapshot): state sink,
 *                          autoplay: start playing when visible (default true unless reduced motion)}
 * @returns {{destroy(), controller}}  controller is the testing/benchmark handle
 */
export function mountExplorer(el, definition, host = {}) {
  const options = host.options || {};
  const values = initialValues(definition, options);
  const reducedMotion = typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
  const autoplay = host.autoplay ?? !reducedMotion;

  const root = htmlElement("div", "usaav-x");
  root.dataset.explorer = definition.name;
  const style = htmlElement("style");
  style.textContent = EXPLORER_STYLE;
  root.append(style);
  if (definition.title) root.append(htmlElement("div", "usaav-x-title", definition.title));
  const body = htmlElement("div", "usaav-x-body");
  const figure = htmlElement("div", "usaav-x-figure");
  const panel = htmlElement("div", "usaav-x-panel");
  body.append(figure, panel);
  root.append(body);
  el.replaceChildren(root);

  const camera = createCamera(options.camera || undefined);
  const stats = { frames: 0, draws: 0, drawMs: 0, lastInputAt: 0, lastLatencyMs: NaN, stepsPerFrame: 0, fps: NaN };

  // --- transport, controls, readouts -------------------------------------
  let run = null;
  let samples = [];
  let nextSample = 0;
  let playing = false;
  let fastForward = false;
  let visible = true;
  let lastFrame = 0;
  let lastState = 0;
  let frameHandle = 0;
  let frameTimes = [];

  const transport = buildTransport({
    onPlay: () => (playing ? pause() : play()),
    onRestart: () => { rebuild(); if (autoplay || playing) play(); },
    onSkip: () => { fastForward = true; if (run.t >= run.tMax) return; play(); },
  });
  const controlHandles = {};
  const controlsBox = htmlElement("div", "usaav-x-controls");
  for (const control of definition.controls) {
    const handle = buildControl(control, values[control.key], (key, value) => onInput(key, value));
    controlHandles[control.key] = handle;
    controlsBox.append(handle.node);
  }
  const readoutList = [{ key: "t", label: "time t", digits: 2 }, ...definition.readouts];
  const readouts = buildReadouts(readoutList);
  const error = htmlElement("p", "usaav-x-error");
  error.setAttribute("role", "alert");
  const hint = htmlElement("p", "usaav-x-hint", "Drag a sphere, or focus it and use the arrow keys, to turn it; Home resets the view.");
  panel.append(transport.node, controlsBox, readouts.node, error, hint);

  // --- figure: spheres, colour legend, charts -----------------------------
  let views = [];
  let colours = [];
  const spheres = htmlElement("div", "usaav-x-spheres");
  const legendBox = htmlElement("div", "usaav-x-colourbars");
  if (definition.wide) {
    // Small multiples: the spheres take the whole width, chart and controls share the row below.
    root.insertBefore(legendBox, body);
    root.insertBefore(spheres, legendBox);
  } else {
    figure.append(spheres, legendBox);
  }
  const charts = definition.charts.map((chart) => {
    const box = htmlElement("div", "usaav-x-chart");
    const canvas = htmlElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", chart.label || chart.yLabel || "chart");
    const legendEntries = [...chart.series, ...(chart.legendLines || [])];
    box.append(canvas, buildChartLegend(legendEntries));
    figure.append(box);
    return { spec: chart, canvas, plot: createLineChart(canvas, chart) };
  });
  const panels = mountPanels(figure, definition.panels);

  function layoutSpheres() {
    const shown = run.systems.filter((s) => s.colour !== null);
    const key = shown.map((s) => `${s.key}:${s.title}:${JSON.stringify([s.colour.kind, s.colour.label, s.colour.min, s.colour.max, s.colour.names])}`).join("|");
    if (spheres.dataset.layout === key) return;
    spheres.dataset.layout = key;
    views.forEach((v) => v.view.destroy());
    spheres.replaceChildren();
    const columns = definition.columns ?? Math.min(shown.length, 3);
    spheres.style.setProperty("--usaav-x-columns", String(columns));
    // On a phone: three small spheres stay in one row, six go in three rows of two.
    spheres.style.setProperty("--usaav-x-narrow-columns", String(shown.length === 3 ? 3 : Math.min(2, columns)));
    views = shown.map((system) => {
      const fig = htmlElement("figure", "usaav-x-sphere");
      const canvas = htmlElement("canvas");
      fig.append(canvas);
      if (shown.length > 1 || system.title) fig.append(htmlElement("figcaption", null, system.title));
      spheres.append(fig);
      const view = createSphereView(canvas, camera, { label: `${system.title}: ${system.n} points on the sphere` });
      return { key: system.key, view };
    });
    // One colour legend per distinct colour meaning.
    legendBox.replaceChildren();
    const seen = new Set();
    for (const system of shown) {
      const c = system.colour;
      const id = JSON.stringify([c.kind, c.label, c.min, c.max, c.names]);
      if (c.kind === "uniform" || seen.has(id)) continue;
      seen.add(id);
      legendBox.append(buildColourLegend(c));
    }
    resize();
  }

  /** Fit every canvas to its laid-out size at the current pixel ratio, then redraw. */
  function resize() {
    views.forEach((v) => v.view.resize());
    charts.forEach((c) => c.plot.resize());
    panels.resize();
    draw();
  }

  // --- drawing ------------------------------------------------------------
  let lastReadout = 0;

  function draw(throttleReadouts = false) {
    if (!run) return;
    const t0 = performance.now();
    for (const { key, view } of views) {
      const system = run.byKey[key];
      view.draw(system.X, system.n, system.d, colours[key], definition.overlays ? definition.overlays(run, system) : []);
    }
    charts.forEach((chart, c) => {
      const series = chart.spec.series.map((s, k) => ({ ...s, ...samples[c][k] }));
      chart.plot.draw(series, chart.spec.lines ? chart.spec.lines(run) : [], Math.max(run.tMax, run.t));
    });
    panels.draw(run);
    if (!throttleReadouts || t0 - lastReadout >= READOUT_INTERVAL_MS) {
      lastReadout = t0;
      const current = readoutValues(run);
      for (const r of readoutList) {
        const text = r.key === "t" && run.animated
          ? `${formatNumber(run.t, 2)} of ${formatNumber(run.tMax, 0)}`
          : readoutText(r, current[r.key]);
        readouts.set(r.key, text);
      }
    }
    stats.draws += 1;
    stats.drawMs = performance.now() - t0;
    root.dataset.draws = String(stats.draws);
  }

  // --- the loop -------------------------------------------------------------
  function sendState(force) {
    if (!host.onState || !run) return;
    const now = performance.now();
    if (!force && now - lastState < STATE_INTERVAL_S * 1000) return;
    lastState = now;
    host.onState(runSnapshot(run));
  }

  function sample() {
    while (run.t + 1e-12 >= nextSample) {
      recordSamples(run, samples);
      nextSample += run.sampleDt;
    }
  }

  function frame(now) {
    frameHandle = 0;
    if (!playing || !visible) return;
    const wall = lastFrame ? Math.min(0.1, (now - lastFrame) / 1000) : 1 / 60;
    lastFrame = now;
    const target = fastForward ? run.tMax : Math.min(run.tMax, run.t + run.speed * wall);
    const start = performance.now();
    let steps = 0;
    // Stepping and drawing together should fit a 60 Hz frame: the budget shrinks when drawing is slow.
    const budget = fastForward ? FAST_FORWARD_BUDGET_MS : Math.max(3, Math.min(FRAME_BUDGET_MS, 14 - (stats.drawMs || 0)));
    while (run.t + 0.5 * run.dt < target && performance.now() - start < budget) {
      advanceRun(run, 1);
      steps += 1;
      if (run.t + 1e-12 >= nextSample) sample();
    }
    stats.stepsPerFrame = steps;
    stats.frames += 1;
    frameTimes.push(now);
    if (frameTimes.length > 30) frameTimes.shift();
    if (frameTimes.length > 1) stats.fps = (1000 * (frameTimes.length - 1)) / (frameTimes[frameTimes.length - 1] - frameTimes[0]);
    draw(true);
    if (run.t + 0.5 * run.dt >= run.tMax) {
      finish();
      return;
    }
    sendState(false);
    frameHandle = requestAnimationFrame(frame);
  }

  function play() {
    if (!run || !run.animated) return;
    if (run.t + 0.5 * run.dt >= run.tMax) { rebuild(); }
    playing = true;
    transport.setPlaying(true);
    lastFrame = 0;
    frameTimes = [];
    if (!frameHandle && visible) frameHandle = requestAnimationFrame(frame);
  }

  function pause() {
    playing = false;
    fastForward = false;
    transport.setPlaying(false);
    if (frameHandle) cancelAnimationFrame(frameHandle);
    frameHandle = 0;
    draw(); // the readouts at the paused state, unthrottled
    sendState(true);
  }

  function finish() {
    pause();
    transport.setFinished(true);
    root.dataset.finished = "true";
  }

  /**
   * A new run from the current values.  A setting the explorer cannot run (a
   * formula that does not parse, an empty word) leaves the last run on
   * screen and says why next to the controls; `key` is the control that
   * caused it, marked invalid for assistive technology.
   */
  function rebuild(key = null) {
    let next;
    try {
      next = startRun(definition, { ...values }, options);
    } catch (err) {
      const message = err && err.message ? err.message : String(err);
      error.textContent = run ? `${message} (the picture shows the last setting that worked)` : message;
      if (key) controlHandles[key].setInvalid(true);
      return false;
    }
    error.textContent = "";
    Object.values(controlHandles).forEach((handle) => handle.setInvalid(false));
    run = next;
    updateEnabled();
    colours = Object.fromEntries(run.systems.map((s) => [s.key, pointColours(s.colour, s.n)]));
    samples = emptySamples(definition);
    nextSample = 0;
    fastForward = false;
    sample();
    transport.setFinished(!run.animated);
    transport.node.hidden = !run.animated;
    readouts.show("t", run.animated);
    root.dataset.finished = "false";
    layoutSpheres();
    draw();
    sendState(true);
    return true;
  }

  /** Controls that do nothing in the current setting (β of a Toeplitz kernel) are disabled, with the reason. */
  function updateEnabled() {
    for (const control of definition.controls) {
      if (control.appliesTo) controlHandles[control.key].setEnabled(control.appliesTo(values, options), control.inactiveNote);
    }
  }

  function onInput(key, value) {
    const t0 = performance.now();
    stats.lastInputAt = t0;
    values[key] = value;
    if (definition.redrawOnly.includes(key) && run) {
      run.values = { ...values };
      draw();
    } else if (rebuild(key)) {
      // A new run starts at t = 0 and plays: the reader sees the new dynamics unfold.
      if (playing) lastFrame = 0;
      else if (autoplay && run.animated) play();
    }
    stats.lastLatencyMs = performance.now() - t0;
  }

  // --- life cycle -----------------------------------------------------------
  // Only a change of width re-lays the canvases out: their heights follow from
  // their widths, so reacting to height would feed the observer its own changes.
  let laidOutWidth = -1;
  const resizeObserver = typeof ResizeObserver === "function"
    ? new ResizeObserver(() => {
      if (root.clientWidth === laidOutWidth) return;
      laidOutWidth = root.clientWidth;
      resize();
    })
    : null;
  resizeObserver?.observe(root);
  // Browser zoom or another screen: same layout, another pixel ratio.
  const stopWatchingRatio = watchPixelRatio(() => resize());
  const visibility = typeof IntersectionObserver === "function"
    ? new IntersectionObserver((entries) => {
      visible = entries.some((e) => e.isIntersecting);
      if (visible && playing && !frameHandle) { lastFrame = 0; frameHandle = requestAnimationFrame(frame); }
    })
    : null;
  visibility?.observe(root);
  // The page's light/dark switch changes the text colour the canvases use.
  const themeObserver = typeof MutationObserver === "function" && typeof document !== "undefined"
    ? new MutationObserver(() => resize())
    : null;
  themeObserver?.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme", "class"] });

  rebuild();
  if (autoplay) play();

  const controller = {
    get run() { return run; },
    get playing() { return playing; },
    stats,
    camera,
    values: () => ({ ...values }),
    play,
    pause,
    restart: () => { rebuild(); play(); },
    set(key, value) { controlHandles[key].set(value); onInput(key, controlHandles[key].get()); },
    /** Pause, then step synchronously to time `t` (or the end) and draw: for tests and benchmarks. */
    advanceTo(t) {
      pause();
      const target = Math.min(t, run.tMax);
      while (run.animated && run.t + 0.5 * run.dt < target) {
        advanceRun(run, 1);
        if (run.t + 1e-12 >= nextSample) sample();
      }
      draw();
      return run.t;
    },
    snapshot: () => runSnapshot(run),
  };
  root.usaavExplorer = controller;
  return {
    controller,
    destroy() {
      pause();
      resizeObserver?.disconnect();
      stopWatchingRatio();
      panels.destroy();
      visibility?.disconnect();
      themeObserver?.disconnect();
      views.forEach((v) => v.view.destroy());
      root.remove();
    },
  };
}
