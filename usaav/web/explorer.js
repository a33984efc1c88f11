// The explorer framework, headless: definitions and the simulation loop that
// runs any of them (state, step, time), with no DOM.  mount.js draws a loop
// and listens to the reader, as d3-force keeps simulation.js apart from
// whatever renders its nodes (STYLE.md principle 12).
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
// simulation of integrate.js, shortening the last step so that it ends on
// tMax exactly (as usaav.simulate does), and samples the chart series.  It
// never looks inside a kernel.

import { bindKernel, plainSpec } from "./kernels.js";
import { createSimulation } from "./integrate.js";

/** The panel kinds an explorer may declare (panels.js draws each). */
export const PANEL_KINDS = Object.freeze(["histogram", "bars", "lines"]);

/** Relative slack of `t + h ≤ target`: a step that would end within it of the target ends on it. */
export const END_SLACK = 1e-9;

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

/** The value a control takes from an option given from Python (or a page): clamped, snapped, checked. */
export function coerceControlValue(control, raw) {
  if (raw === undefined || raw === null) return control.value;
  switch (control.type) {
    case "slider": {
      let v = Number(raw);
      if (!Number.isFinite(v)) return control.value;
      v = Math.min(control.max, Math.max(control.min, v));
      return control.integer ? Math.round(v) : v;
    }
    case "choice":
      return control.options.some(([v]) => v === raw) ? raw : control.value;
    case "text":
      return String(raw).slice(0, control.maxLength);
    case "toggle":
      return !!raw;
    default:
      return raw;
  }
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
 *   (`steps` counts the Heun steps of length dt; t is steps × dt until a
 *   shortened last step ends a run exactly on its target, see advanceRunTo)
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

/** Advance every animated system of `run` by `k` Heun steps of length run.dt. */
export function advanceRun(run, k = 1) {
  for (const system of run.systems) if (system.simulation) system.simulation.step(k);
  run.steps += k;
  run.t = run.steps * run.dt;
  return run;
}

/**
 * Advance `run` to time `target` (at most tMax): Heun steps of length dt,
 * the last one shortened to end on `target` exactly, as usaav.simulate does
 * (MODEL.md §5), so that a run played to its end reads "10 of 10".  A step
 * that would end within END_SLACK·dt of the target is a whole step.  Stops
 * early, between two steps, once `deadline()` returns true; returns the
 * number of steps taken.
 */
export function advanceRunTo(run, target, deadline = () => false) {
  const end = Math.min(target, run.tMax);
  const slack = END_SLACK * run.dt;
  let taken = 0;
  while (run.animated && run.t < end - slack) {
    if (taken > 0 && deadline()) break;
    if (run.t + run.dt <= end + slack) {
      advanceRun(run, 1);
      if (run.t > end) run.t = end;
    } else {
      const h = end - run.t;
      for (const system of run.systems) {
        if (!system.simulation) continue;
        system.simulation.dt = h;
        system.simulation.step(1);
        system.simulation.dt = run.dt;
      }
      run.t = end;
    }
    taken += 1;
  }
  return taken;
}

/** Has `run` reached its end time (a still picture always has)? */
export function runFinished(run) {
  return !run.animated || run.t >= run.tMax - END_SLACK * run.dt;
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
  if (run.animated && tEnd > 0) advanceRunTo(run, tEnd);
  return { snapshot: runSnapshot(run), readouts: readoutValues(run) };
}

// ---------------------------------------------------------------------------
// The loop: a run, its chart samples, stepping within a time budget
// ---------------------------------------------------------------------------

function emptySamples(definition) {
  return definition.charts.map((chart) => chart.series.map(() => ({ t: [], y: [] })));
}

/**
 * The simulation loop of one explorer setting, with no DOM (d3-force's
 * simulation.js is the model): its run, the chart samples taken every
 * sampleDt, and `tick(target, budgetMs)` that steps towards a time within a
 * wall-clock budget.  mount.js calls tick once per animation frame; a test or
 * a benchmark calls advanceTo.
 *
 * @param {object} definition  from defineExplorer
 * @param {object} values  control values
 * @param {object} [options]  options from Python
 * @param {() => number} [now]  milliseconds (performance.now)
 */
export function createExplorerLoop(definition, values, options = {}, now = () => performance.now()) {
  const run = startRun(definition, values, options);
  const samples = emptySamples(definition);
  let nextSample = 0;

  function sample() {
    while (run.t + 1e-12 >= nextSample) {
      definition.charts.forEach((chart, c) => {
        chart.series.forEach((series, k) => {
          samples[c][k].t.push(run.t);
          samples[c][k].y.push(series.value(run));
        });
      });
      nextSample += run.sampleDt;
    }
  }

  /** One step towards `target`, then the samples it passed (the end is always sampled). */
  function stepTowards(target, deadline) {
    const taken = advanceRunTo(run, Math.min(target, run.t + run.dt), deadline);
    if (run.t + 1e-12 >= nextSample || runFinished(run)) {
      if (runFinished(run) && run.t + 1e-12 < nextSample) nextSample = run.t;
      sample();
    }
    return taken;
  }

  sample();
  return {
    run,
    samples,
    get finished() { return runFinished(run); },
    /** Step towards time `target` (≤ tMax) for at most `budgetMs` of wall clock; returns the steps taken. */
    tick(target, budgetMs = Infinity) {
      const start = now();
      const deadline = () => now() - start >= budgetMs;
      let steps = 0;
      while (!runFinished(run) && run.t < Math.min(target, run.tMax) - END_SLACK * run.dt) {
        if (steps > 0 && deadline()) break;
        steps += stepTowards(target, () => false);
      }
      return steps;
    },
    /** Step synchronously to time `t` (or the end). */
    advanceTo(t) {
      this.tick(t);
      return run.t;
    },
    snapshot: () => runSnapshot(run),
    readouts: () => readoutValues(run),
  };
}
