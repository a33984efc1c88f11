// The explorer on a page: draws a loop of explorer.js and listens to the
// reader.  The loop (createExplorerLoop) knows no DOM; this module builds the
// spheres (view.js), charts (chart.js), panels (panels.js), controls and
// readouts (controls.js), and drives the loop from requestAnimationFrame
// within a per-frame budget.  mountExplorer wires four small parts: the
// frame of the page, the sphere stage, the charts, and the playback.

import { watchPixelRatio } from "./canvas.js";
import { createLineChart } from "./chart.js";
import {
  buildChartLegend,
  buildColourLegend,
  buildControl,
  buildReadouts,
  buildTransport,
  formatNumber,
  htmlElement,
} from "./controls.js";
import { createExplorerLoop, initialValues, readoutValues, runSnapshot } from "./explorer.js";
import { mountPanels } from "./panels.js";
import { createCamera, createSphereView, pointColours } from "./view.js";

/** Milliseconds of stepping per animation frame: leaves room for drawing within one 60 Hz frame. */
export const FRAME_BUDGET_MS = 10;
/** The same when the reader asks to run to the end: still above 30 frames per second. */
export const FAST_FORWARD_BUDGET_MS = 20;
/** Milliseconds between two readout updates while playing (observables like the energy cost O(n²)). */
export const READOUT_INTERVAL_MS = 100;
/** Seconds between two state messages to Python while the animation runs (never per frame). */
export const STATE_INTERVAL_S = 0.5;
/** A run whose remaining steps would take longer than this (stepping alone) shows its progress and says why. */
export const SLOW_RUN_S = 5;

/**
 * Why a setting is slow, in one sentence: the definition's own `slowNote(run)`,
 * else the metastability of the raw clock (MODEL.md §3 "Large β"; Thm. 5): the
 * step shrinks like e^{−β} to follow the fast merging inside a cluster, while
 * the clusters themselves wait a time growing exponentially in β to merge.
 */
export function slowRunNote(run) {
  if (run.definition.slowNote) return run.definition.slowNote(run);
  const beta = run.values.beta;
  const where = Number.isFinite(beta) ? `At β = ${beta}` : "In this setting";
  return `${where} the run is slow: the step shrinks like e^(−β) to follow tokens merging within a cluster, `
    + "while the clusters wait a time growing exponentially in β before they merge (metastability).";
}

/**
 * Seconds of stepping still needed to reach tMax, from the cost of the steps
 * measured so far (`stepMs` milliseconds per step of length dt).
 */
export function remainingSeconds(run, stepMs) {
  return (Math.max(0, run.tMax - run.t) / run.dt) * stepMs / 1000;
}

const EXPLORER_STYLE = `
.usaav-x { --usaav-x-line: rgba(128,128,128,0.45); font-size: 0.92rem; line-height: 1.35; margin: 0.6em 0 1.2em; }
.usaav-x * { box-sizing: border-box; }
.usaav-x-title { font-weight: 600; margin: 0 0 0.4em; }
.usaav-x-body { display: flex; flex-wrap: wrap; gap: 0.8em 1.2em; align-items: flex-start; }
.usaav-x-figure { flex: 1 1 300px; min-width: 0; }
.usaav-x-panel { flex: 1 1 230px; max-width: 100%; display: flex; flex-direction: column; gap: 0.45em; }
.usaav-x-spheres { display: grid; gap: 0.3em; grid-template-columns: repeat(var(--usaav-x-columns, 1), minmax(0, 1fr)); }
.usaav-x > .usaav-x-colourbars { margin-bottom: 0.6em; }
/* On a phone one sphere per row: each as wide as the column (two columns of small multiples would be ~170 px at 400 px). */
@media (max-width: 520px) { .usaav-x .usaav-x-spheres { grid-template-columns: minmax(0, 1fr); } }
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
.usaav-x-slow { font-size: 0.85em; margin: 0.2em 0 0; }
.usaav-x-slow[hidden] { display: none; }
.usaav-x-slow progress { width: 100%; height: 0.6em; accent-color: #0072B2; }
`;

function readoutText(readout, value) {
  if (typeof value === "string") return value;
  return readout.format ? readout.format(value) : formatNumber(value, readout.digits ?? 3);
}

/** The time readout: "t of tMax", the end printed as the end ("10 of 10"). */
export function timeReadout(run) {
  const digits = Number.isInteger(run.tMax) ? 0 : 2;
  const t = run.t >= run.tMax ? run.tMax : run.t;
  return `${formatNumber(t, t === run.tMax ? digits : 2)} of ${formatNumber(run.tMax, digits)}`;
}

/** The page frame: root (with its style), title, figure column and control panel. */
function buildFrame(el, definition) {
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
  return { root, body, figure, panel };
}

/**
 * The spheres of a run and their colour legends.  `layout(run)` rebuilds the
 * canvases only when the set of shown systems or their colour meanings change.
 */
function createSphereStage(frame, definition, camera) {
  let views = [];
  let colours = {};
  const spheres = htmlElement("div", "usaav-x-spheres");
  const legendBox = htmlElement("div", "usaav-x-colourbars");
  if (definition.wide) {
    // Small multiples: the spheres take the whole width, chart and controls share the row below.
    frame.root.insertBefore(legendBox, frame.body);
    frame.root.insertBefore(spheres, legendBox);
  } else {
    frame.figure.append(spheres, legendBox);
  }
  const colourId = (c) => JSON.stringify([c.kind, c.label, c.min, c.max, c.names]);

  function layout(run) {
    colours = Object.fromEntries(run.systems.map((s) => [s.key, pointColours(s.colour, s.n)]));
    const shown = run.systems.filter((s) => s.colour !== null);
    const key = shown.map((s) => `${s.key}:${s.title}:${colourId(s.colour)}`).join("|");
    if (spheres.dataset.layout === key) return false;
    spheres.dataset.layout = key;
    views.forEach((v) => v.view.destroy());
    spheres.replaceChildren();
    const columns = definition.columns ?? Math.min(shown.length, 3);
    spheres.style.setProperty("--usaav-x-columns", String(columns));
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
      const id = colourId(system.colour);
      if (system.colour.kind === "uniform" || seen.has(id)) continue;
      seen.add(id);
      legendBox.append(buildColourLegend(system.colour));
    }
    return true;
  }

  return {
    layout,
    resize: () => views.forEach((v) => v.view.resize()),
    draw(run) {
      for (const { key, view } of views) {
        const system = run.byKey[key];
        view.draw(system.X, system.n, system.d, colours[key], definition.overlays ? definition.overlays(run, system) : []);
      }
    },
    destroy: () => views.forEach((v) => v.view.destroy()),
  };
}

/**
 * The note of a slow setting: hidden until the measured cost of the steps
 * says that the rest of the run needs more than SLOW_RUN_S seconds of
 * stepping; then a progress bar to tMax and one sentence saying why.
 */
function createSlowNote() {
  const node = htmlElement("div", "usaav-x-slow");
  node.setAttribute("role", "status");
  const bar = htmlElement("progress");
  bar.max = 1;
  const text = htmlElement("p");
  node.append(bar, text);
  node.hidden = true;
  return {
    node,
    update(run, stepMs) {
      if (node.hidden && remainingSeconds(run, stepMs) <= SLOW_RUN_S) return;
      node.hidden = false;
      bar.value = run.t / run.tMax;
      bar.setAttribute("aria-label", `${Math.floor((100 * run.t) / run.tMax)} % of the run`);
      const note = slowRunNote(run);
      if (text.textContent !== note) text.textContent = note;
    },
    reset() { node.hidden = true; },
  };
}

/** The line charts of a definition under the figure; `draw(loop)` plots the samples so far. */
function createCharts(figure, definition) {
  const charts = definition.charts.map((chart) => {
    const box = htmlElement("div", "usaav-x-chart");
    const canvas = htmlElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", chart.label || chart.yLabel || "chart");
    box.append(canvas, buildChartLegend([...chart.series, ...(chart.legendLines || [])]));
    figure.append(box);
    return { spec: chart, plot: createLineChart(canvas, chart) };
  });
  return {
    resize: () => charts.forEach((c) => c.plot.resize()),
    draw(loop) {
      const { run, samples } = loop;
      charts.forEach((chart, c) => {
        const series = chart.spec.series.map((s, k) => ({ ...s, ...samples[c][k] }));
        chart.plot.draw(series, chart.spec.lines ? chart.spec.lines(run) : [], Math.max(run.tMax, run.t));
      });
    },
  };
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

  const frame = buildFrame(el, definition);
  const { root } = frame;
  const camera = createCamera(options.camera || undefined);
  const stats = { frames: 0, draws: 0, drawMs: 0, lastInputAt: 0, lastLatencyMs: NaN, stepsPerFrame: 0, fps: NaN, stepMs: NaN };

  // --- state of the playback ---------------------------------------------
  let loop = null;
  let playing = false;
  let fastForward = false;
  let visible = true;
  let lastFrame = 0;
  let lastState = 0;
  let lastReadout = 0;
  let frameHandle = 0;
  let frameTimes = [];

  // --- panel: transport, controls, readouts --------------------------------
  const transport = buildTransport({
    onPlay: () => (playing ? pause() : play()),
    onRestart: () => { rebuild(); if (autoplay || playing) play(); },
    onSkip: () => { fastForward = true; if (loop.finished) return; play(); },
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
  const slow = createSlowNote();
  frame.panel.append(transport.node, controlsBox, readouts.node, slow.node, error, hint);

  // --- figure ----------------------------------------------------------------
  const stage = createSphereStage(frame, definition, camera);
  const charts = createCharts(frame.figure, definition);
  const panels = mountPanels(frame.figure, definition.panels);

  /** Fit every canvas to its laid-out size at the current pixel ratio, then redraw. */
  function resize() {
    stage.resize();
    charts.resize();
    panels.resize();
    draw();
  }

  function draw(throttleReadouts = false) {
    if (!loop) return;
    const { run } = loop;
    const t0 = performance.now();
    stage.draw(run);
    charts.draw(loop);
    panels.draw(run);
    if (!throttleReadouts || t0 - lastReadout >= READOUT_INTERVAL_MS) {
      lastReadout = t0;
      const current = readoutValues(run);
      for (const r of readoutList) {
        readouts.set(r.key, r.key === "t" && run.animated ? timeReadout(run) : readoutText(r, current[r.key]));
      }
    }
    stats.draws += 1;
    stats.drawMs = performance.now() - t0;
    root.dataset.draws = String(stats.draws);
  }

  // --- the playback ------------------------------------------------------------
  function sendState(force) {
    if (!host.onState || !loop) return;
    const now = performance.now();
    if (!force && now - lastState < STATE_INTERVAL_S * 1000) return;
    lastState = now;
    host.onState(runSnapshot(loop.run));
  }

  function onFrame(now) {
    frameHandle = 0;
    if (!playing || !visible) return;
    const { run } = loop;
    const wall = lastFrame ? Math.min(0.1, (now - lastFrame) / 1000) : 1 / 60;
    lastFrame = now;
    const target = fastForward ? run.tMax : Math.min(run.tMax, run.t + run.speed * wall);
    // Stepping and drawing together should fit a 60 Hz frame: the budget shrinks when drawing is slow.
    const budget = fastForward ? FAST_FORWARD_BUDGET_MS : Math.max(3, Math.min(FRAME_BUDGET_MS, 14 - (stats.drawMs || 0)));
    const stepStart = performance.now();
    stats.stepsPerFrame = loop.tick(target, budget);
    if (stats.stepsPerFrame > 0) {
      const perStep = (performance.now() - stepStart) / stats.stepsPerFrame;
      stats.stepMs = Number.isFinite(stats.stepMs) ? 0.8 * stats.stepMs + 0.2 * perStep : perStep;
      slow.update(run, stats.stepMs);
    }
    stats.frames += 1;
    frameTimes.push(now);
    if (frameTimes.length > 30) frameTimes.shift();
    if (frameTimes.length > 1) stats.fps = (1000 * (frameTimes.length - 1)) / (frameTimes[frameTimes.length - 1] - frameTimes[0]);
    draw(true);
    if (loop.finished) {
      finish();
      return;
    }
    sendState(false);
    frameHandle = requestAnimationFrame(onFrame);
  }

  function play() {
    if (!loop || !loop.run.animated) return;
    if (loop.finished) rebuild();
    playing = true;
    transport.setPlaying(true);
    lastFrame = 0;
    frameTimes = [];
    if (!frameHandle && visible) frameHandle = requestAnimationFrame(onFrame);
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
    slow.reset();
    pause();
    transport.setFinished(true);
    root.dataset.finished = "true";
  }

  /**
   * A new loop from the current values.  A setting the explorer cannot run (a
   * formula that does not parse, an empty word) leaves the last run on
   * screen and says why next to the controls; `key` is the control that
   * caused it, marked invalid for assistive technology.
   */
  function rebuild(key = null) {
    let next;
    try {
      next = createExplorerLoop(definition, { ...values }, options);
    } catch (err) {
      const message = err && err.message ? err.message : String(err);
      error.textContent = loop ? `${message} (the picture shows the last setting that worked)` : message;
      if (key) controlHandles[key].setInvalid(true);
      return false;
    }
    error.textContent = "";
    Object.values(controlHandles).forEach((handle) => handle.setInvalid(false));
    loop = next;
    stats.stepMs = NaN;
    slow.reset();
    updateEnabled();
    fastForward = false;
    transport.setFinished(!loop.run.animated);
    transport.node.hidden = !loop.run.animated;
    readouts.show("t", loop.run.animated);
    root.dataset.finished = "false";
    if (stage.layout(loop.run)) resize();
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
    if (definition.redrawOnly.includes(key) && loop) {
      loop.run.values = { ...values };
      draw();
    } else if (rebuild(key)) {
      // A new run starts at t = 0 and plays: the reader sees the new dynamics unfold.
      if (playing) lastFrame = 0;
      else if (autoplay && loop.run.animated) play();
    }
    stats.lastLatencyMs = performance.now() - t0;
  }

  // --- life cycle -------------------------------------------------------------
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
      if (visible && playing && !frameHandle) { lastFrame = 0; frameHandle = requestAnimationFrame(onFrame); }
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
    get run() { return loop.run; },
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
      loop.advanceTo(t);
      draw();
      return loop.run.t;
    },
    snapshot: () => loop.snapshot(),
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
      stage.destroy();
      root.remove();
    },
  };
}
