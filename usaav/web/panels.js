// Figures of an explorer that are not time series: a histogram against a
// density, a bar chart, and lines against a logarithmic time axis.  An
// explorer definition lists them as `panels: [{key, kind, label, xLabel,
// yLabel, data(run)}]`; `data(run)` returns what to draw (below), so a panel
// knows nothing of the dynamics, like chart.js.
//
//   kind "histogram": {bars, lo, hi, barColour, curves: [{x, y, colour, dash, compare}], ticks: [[x, label]], legend}
//                     (a `compare` curve does not set the vertical scale; it is clipped)
//   kind "bars":      {labels, values, colours, yMax, legend}
//   kind "lines":     {series: [{label, colour, x, y}], xLog, xMin, xMax, yMin, yMax,
//                      vlines: [{x, colour, dash, label}], hlines: [{y, colour, dash, label}]}
//
// `legend` is [[label, colour], ...]; lines take their legend from the labels.
//
// The explorer framework (explorer.js) has no place for such figures yet, so
// `definePanelExplorer` bridges: it defines the explorer with an `overlays`
// hook that, on every draw, finds the explorer's root element (the one whose
// handle `usaavExplorer.run` is this run), mounts the panels under its figure
// once and redraws them.  When mountExplorer calls `mountPanels(figure,
// definition)` itself (draw → panels.draw(run), resize → panels.resize()),
// the bridge goes and the definitions stay as they are.

import { axisTicks } from "./chart.js";
import { buildChartLegend, htmlElement } from "./controls.js";
import { defineExplorer } from "./explorer.js";

function panelInk(canvas) {
  return (typeof getComputedStyle === "function" && getComputedStyle(canvas).color) || "#222";
}

/** Frame, ticks and axis labels; returns the plot box and the two maps to canvas pixels. */
function panelAxes(ctx, canvas, s, spec, { xTicks, yTicks, fx, fy }) {
  const W = canvas.width, H = canvas.height;
  const left = 46 * s, right = 10 * s, top = 8 * s, bottom = 30 * s;
  const pw = W - left - right, ph = H - top - bottom;
  const X = (x) => left + pw * fx(x);
  const Y = (y) => top + ph * (1 - fy(y));
  const ink = panelInk(canvas);
  ctx.clearRect(0, 0, W, H);
  ctx.font = `${10.5 * s}px sans-serif`;
  ctx.fillStyle = ink;
  ctx.strokeStyle = "rgba(128,128,128,0.25)";
  ctx.lineWidth = s;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const tick of yTicks) {
    ctx.beginPath(); ctx.moveTo(left, Y(tick.value)); ctx.lineTo(left + pw, Y(tick.value)); ctx.stroke();
    ctx.fillText(tick.label, left - 4 * s, Y(tick.value));
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const tick of xTicks) {
    ctx.beginPath(); ctx.moveTo(X(tick.value), top); ctx.lineTo(X(tick.value), top + ph); ctx.stroke();
    ctx.fillText(tick.label, X(tick.value), top + ph + 3 * s);
  }
  ctx.strokeStyle = "rgba(128,128,128,0.8)";
  ctx.strokeRect(left, top, pw, ph);
  if (spec.xLabel) {
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText(spec.xLabel, left + pw, H - s);
  }
  if (spec.yLabel) {
    ctx.save();
    ctx.translate(10 * s, top + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(spec.yLabel, 0, 0);
    ctx.restore();
  }
  return { left, top, pw, ph, X, Y };
}

function strokePolyline(ctx, xs, ys, X, Y) {
  ctx.beginPath();
  let pen = false;
  for (let k = 0; k < xs.length; k++) {
    if (!Number.isFinite(X(xs[k])) || !Number.isFinite(Y(ys[k]))) { pen = false; continue; }
    if (pen) ctx.lineTo(X(xs[k]), Y(ys[k])); else ctx.moveTo(X(xs[k]), Y(ys[k]));
    pen = true;
  }
  ctx.stroke();
}

const linear = (lo, hi) => (v) => (v - lo) / (hi - lo || 1);

function drawHistogram(ctx, canvas, s, spec, data) {
  const scaled = data.curves.filter((c) => !c.compare).flatMap((c) => Array.from(c.y));
  const top = Math.max(...data.bars, ...scaled) * 1.08 || 1;
  const box = panelAxes(ctx, canvas, s, spec, {
    xTicks: data.ticks.map(([value, label]) => ({ value, label })),
    yTicks: axisTicks(0, top, false),
    fx: linear(data.lo, data.hi),
    fy: linear(0, top),
  });
  const width = (data.hi - data.lo) / data.bars.length;
  ctx.fillStyle = data.barColour;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.lineWidth = 0.6 * s;
  data.bars.forEach((h, k) => {
    const x0 = box.X(data.lo + k * width), x1 = box.X(data.lo + (k + 1) * width);
    ctx.fillRect(x0, box.Y(h), x1 - x0, box.Y(0) - box.Y(h));
    ctx.strokeRect(x0, box.Y(h), x1 - x0, box.Y(0) - box.Y(h));
  });
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.left, box.top, box.pw, box.ph);
  ctx.clip();
  ctx.lineWidth = 2 * s;
  for (const curve of data.curves) {
    ctx.setLineDash((curve.dash || []).map((v) => v * s));
    ctx.strokeStyle = curve.colour;
    strokePolyline(ctx, curve.x, curve.y, box.X, box.Y);
  }
  ctx.restore();
}

function drawBars(ctx, canvas, s, spec, data) {
  const count = data.values.length;
  const lo = Math.min(0, ...data.values), hi = Math.max(data.yMax ?? 0, ...data.values) || 1;
  const box = panelAxes(ctx, canvas, s, spec, {
    xTicks: data.labels.map((label, k) => ({ value: k, label })),
    yTicks: axisTicks(lo, hi, false),
    fx: linear(-0.6, count - 0.4),
    fy: linear(lo, hi),
  });
  data.values.forEach((v, k) => {
    const x0 = box.X(k - 0.35), x1 = box.X(k + 0.35);
    ctx.fillStyle = data.colours[k];
    ctx.fillRect(x0, Math.min(box.Y(v), box.Y(0)), x1 - x0, Math.abs(box.Y(0) - box.Y(v)));
  });
  ctx.strokeStyle = "rgba(128,128,128,0.9)";
  ctx.lineWidth = s;
  ctx.beginPath(); ctx.moveTo(box.left, box.Y(0)); ctx.lineTo(box.left + box.pw, box.Y(0)); ctx.stroke();
}

function drawLines(ctx, canvas, s, spec, data) {
  const { xMin, xMax, yMin, yMax } = data;
  const fx = data.xLog
    ? (x) => (Math.log10(Math.max(x, xMin)) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))
    : linear(xMin, xMax);
  const xTicks = data.xLog
    ? axisTicks(xMin, xMax, true).concat(
      [2, 5].flatMap((m) => axisTicks(xMin, xMax, true).map((t) => ({ value: m * t.value, label: "" })))
        .filter((t) => t.value <= xMax))
    : axisTicks(xMin, xMax, false);
  const box = panelAxes(ctx, canvas, s, spec, { xTicks, yTicks: axisTicks(yMin, yMax, false), fx, fy: linear(yMin, yMax) });
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.left, box.top, box.pw, box.ph);
  ctx.clip();
  ctx.lineWidth = 1.3 * s;
  for (const line of data.hlines || []) {
    ctx.setLineDash((line.dash || []).map((v) => v * s));
    ctx.strokeStyle = line.colour;
    ctx.beginPath(); ctx.moveTo(box.left, box.Y(line.y)); ctx.lineTo(box.left + box.pw, box.Y(line.y)); ctx.stroke();
  }
  for (const line of data.vlines || []) {
    if (!Number.isFinite(line.x)) continue;
    ctx.setLineDash((line.dash || []).map((v) => v * s));
    ctx.strokeStyle = line.colour;
    ctx.beginPath(); ctx.moveTo(box.X(line.x), box.top); ctx.lineTo(box.X(line.x), box.top + box.ph); ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.lineWidth = 2 * s;
  ctx.lineJoin = "round";
  for (const series of data.series) {
    ctx.strokeStyle = series.colour;
    strokePolyline(ctx, series.x, series.y, box.X, box.Y);
  }
  ctx.restore();
}

const PANEL_DRAWERS = Object.freeze({ histogram: drawHistogram, bars: drawBars, lines: drawLines });

/** Legend entries of a panel's data, in the format of controls.buildChartLegend. */
export function panelLegend(data) {
  if (data.legend) return data.legend.map(([label, colour]) => ({ label, colour, width: 8 }));
  return [
    ...(data.series || []).map((x) => ({ label: x.label, colour: x.colour, width: 2 })),
    ...(data.vlines || []).concat(data.hlines || []).map((x) => ({ label: x.label, colour: x.colour, dash: !!x.dash })),
  ];
}

/**
 * One panel on a canvas.
 *
 * @param {HTMLCanvasElement} canvas
 * @param {object} spec  {kind, xLabel, yLabel, aspect}
 * @returns {{draw(data), resize()}}
 */
export function createPanel(canvas, spec) {
  const drawer = PANEL_DRAWERS[spec.kind];
  if (!drawer) throw new Error(`panel kind must be one of ${Object.keys(PANEL_DRAWERS).join(", ")}, got ${spec.kind}`);
  const ctx = canvas.getContext("2d");
  let cssWidth = 0, cssHeight = 0, last = null;
  function draw(data) {
    last = data;
    if (!cssWidth) return;
    drawer(ctx, canvas, canvas.width / cssWidth, spec, data);
  }
  function resize() {
    const rect = canvas.getBoundingClientRect();
    const width = Math.max(140, Math.round(rect.width || canvas.clientWidth || 320));
    const height = Math.round(Math.max(150, Math.min(260, width * (spec.aspect || 0.5))));
    const dpr = Math.min(3, (typeof window !== "undefined" && window.devicePixelRatio) || 1);
    if (width !== cssWidth || height !== cssHeight) {
      cssWidth = width;
      cssHeight = height;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = `${height}px`;
    }
    if (last) draw(last);
  }
  return { draw, resize };
}

/**
 * The panels of `definition` in `container`: one canvas and legend each.
 *
 * @returns {{draw(run), resize(), destroy()}}
 */
export function mountPanels(container, definition) {
  const resizer = typeof ResizeObserver === "function" ? new ResizeObserver(() => resize()) : null;
  const panels = (definition.panels || []).map((spec) => {
    const box = htmlElement("div", "usaav-x-chart usaav-x-panel-figure");
    box.dataset.panel = spec.key;
    const canvas = htmlElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", spec.label || spec.key);
    const legend = htmlElement("div");
    box.append(canvas, legend);
    container.append(box);
    resizer?.observe(box);
    return { spec, box, legend, legendKey: "", panel: createPanel(canvas, spec) };
  });
  function resize() { panels.forEach((item) => item.panel.resize()); }
  resize();
  return {
    draw(run) {
      for (const item of panels) {
        const data = item.spec.data(run);
        const entries = panelLegend(data);
        const key = JSON.stringify(entries);
        if (key !== item.legendKey) {
          item.legendKey = key;
          item.legend.replaceChildren(buildChartLegend(entries));
        }
        item.panel.draw(data);
      }
    },
    resize,
    destroy() {
      resizer?.disconnect();
      panels.forEach((item) => item.box.remove());
    },
  };
}

/** The explorer's root element on the page for this run, or null (node, or before the handle exists). */
function panelRoot(run) {
  if (typeof document === "undefined") return null;
  for (const root of document.querySelectorAll(`.usaav-x[data-explorer="${run.definition.name}"]`)) {
    if (root.usaavExplorer?.run === run) return root;
  }
  return null;
}

/**
 * defineExplorer for a definition with `panels` (module header): the panels
 * are mounted and redrawn from the `overlays` hook, once per draw.
 */
export function definePanelExplorer(definition) {
  const overlays = definition.overlays;
  return defineExplorer({
    ...definition,
    overlays(run, system) {
      if (system === run.systems.find((s) => s.colour !== null)) {
        const root = panelRoot(run);
        if (root) {
          root.usaavPanels ??= mountPanels(root.querySelector(".usaav-x-figure"), definition);
          root.usaavPanels.draw(run);
        }
      }
      return overlays ? overlays(run, system) : [];
    },
  });
}
