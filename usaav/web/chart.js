// Small plots on a canvas: the axes every figure of an explorer shares
// (ticks, grid, frame, axis labels), lines against a linear or logarithmic
// axis, and the time-series chart the explorer framework samples while the
// dynamics run.  panels.js draws its histograms and bar charts on the same
// axes.  Legends are HTML (controls.js), so that they are crisp, wrap on a
// narrow screen and are read by screen readers.

import { canvasInk, fitCanvas, layoutWidth } from "./canvas.js";

const SUPERSCRIPTS = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3", 4: "\u2074",
  5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };

/** "10⁻⁸" for 1e-8: tick labels of a log axis. */
export function powerOfTenLabel(exponent) {
  if (exponent === 0) return "1";
  return "10" + String(exponent).split("").map((c) => SUPERSCRIPTS[c]).join("");
}

/** Tick values for [lo, hi]: decades on a log axis (at most ~6), round numbers otherwise. */
export function axisTicks(lo, hi, log) {
  if (log) {
    const a = Math.ceil(Math.log10(lo) - 1e-9), b = Math.floor(Math.log10(hi) + 1e-9);
    // At most ~6 decades labelled, at multiples of a round stride (10⁰, 10⁻⁸, 10⁻¹⁶, ...).
    const stride = [1, 2, 4, 5, 8, 10, 16, 20].find((s) => (b - a) / s <= 5) || Math.ceil((b - a) / 5);
    const ticks = [];
    for (let e = Math.ceil(a / stride) * stride; e <= b; e += stride) ticks.push(e);
    return ticks.map((e) => ({ value: 10 ** e, label: powerOfTenLabel(e) }));
  }
  const span = hi - lo || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * span; k++) {
    const value = Number((k * step).toPrecision(12)); // 0.6, not 0.6000000000000001
    ticks.push({ value, label: String(value) });
  }
  return ticks;
}

/**
 * Position of a value on an axis from `lo` to `hi`, in [0, 1]: linear or
 * logarithmic, values outside clamped to the ends (on a log axis, 0 and
 * round-off below `lo` sit on the floor rather than vanish).
 */
export function axisPosition(lo, hi, log) {
  if (log) {
    const a = Math.log10(lo), span = Math.log10(hi) - a || 1;
    return (v) => (Math.log10(Math.min(hi, Math.max(lo, v))) - a) / span;
  }
  const span = hi - lo || 1;
  return (v) => (Math.min(hi, Math.max(lo, v)) - lo) / span;
}

/** Decades labelled, and 2× and 5× each decade as unlabelled ticks: a logarithmic x axis. */
function logAxisTicks(lo, hi) {
  const decades = axisTicks(lo, hi, true);
  const minor = [2, 5].flatMap((m) => decades.map((t) => ({ value: m * t.value, label: "" }))).filter((t) => t.value <= hi);
  return decades.concat(minor);
}

/**
 * Grid, tick labels, frame and axis labels of a plot filling a W × H bitmap;
 * returns the plot box and the maps X(x), Y(y) to bitmap pixels.
 *
 * @param {CanvasRenderingContext2D} ctx
 * @param {object} frame  {W, H, scale, ink}: bitmap size, bitmap pixels per CSS pixel, text colour
 * @param {object} labels  {xLabel, yLabel}
 * @param {object} axes  {xTicks, yTicks: [{value, label}], fx, fy: value → [0, 1]}
 */
export function plotAxes(ctx, { W, H, scale: s, ink }, labels, { xTicks, yTicks, fx, fy }) {
  const left = 46 * s, right = 10 * s, top = 8 * s, bottom = 30 * s;
  const pw = W - left - right, ph = H - top - bottom;
  const X = (x) => left + pw * fx(x);
  const Y = (y) => top + ph * (1 - fy(y));
  ctx.clearRect(0, 0, W, H);
  ctx.font = `${10.5 * s}px sans-serif`;
  ctx.fillStyle = ink;
  ctx.strokeStyle = "rgba(128,128,128,0.25)";
  ctx.lineWidth = s;
  ctx.setLineDash([]);
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
    if (tick.label) ctx.fillText(tick.label, X(tick.value), top + ph + 3 * s);
  }
  ctx.strokeStyle = "rgba(128,128,128,0.8)";
  ctx.strokeRect(left, top, pw, ph);
  if (labels.xLabel) {
    ctx.textAlign = "right";
    ctx.textBaseline = "bottom";
    ctx.fillText(labels.xLabel, left + pw, H - s);
  }
  if (labels.yLabel) {
    ctx.save();
    ctx.translate(10 * s, top + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(labels.yLabel, 0, 0);
    ctx.restore();
  }
  return { left, top, pw, ph, X, Y };
}

/** Restrict drawing to the plot box (undo with ctx.restore()). */
export function clipToBox(ctx, box) {
  ctx.save();
  ctx.beginPath();
  ctx.rect(box.left, box.top, box.pw, box.ph);
  ctx.clip();
}

/** A polyline through (xs[k], ys[k]); the pen lifts at a value that does not map to a finite pixel. */
export function strokePolyline(ctx, xs, ys, X, Y) {
  ctx.beginPath();
  let pen = false;
  for (let k = 0; k < xs.length; k++) {
    const x = X(xs[k]), y = Y(ys[k]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) { pen = false; continue; }
    if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    pen = true;
  }
  ctx.stroke();
}

/**
 * Lines against a linear or logarithmic x and y.
 *
 * @param {object} data  {series: [{x, y, colour, width, dash}], xMin, xMax, xLog, yMin, yMax, yLog,
 *                        hlines: [{y, colour, dash}], vlines: [{x, colour, dash}]}
 *   y values outside [yMin, yMax] are drawn at the nearer end (the log floor for round-off).
 */
export function drawLinePlot(ctx, frame, labels, data) {
  const { xMin, xMax, yMin, yMax, xLog = false, yLog = false } = data;
  const box = plotAxes(ctx, frame, labels, {
    xTicks: xLog ? logAxisTicks(xMin, xMax) : axisTicks(xMin, xMax, false),
    yTicks: axisTicks(yMin, yMax, yLog),
    fx: axisPosition(xMin, xMax, xLog),
    fy: axisPosition(yMin, yMax, yLog),
  });
  const s = frame.scale;
  clipToBox(ctx, box);
  ctx.lineWidth = 1.2 * s;
  for (const line of data.hlines || []) {
    if (!Number.isFinite(line.y)) continue;
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
  ctx.lineJoin = "round";
  for (const series of data.series) {
    ctx.setLineDash((series.dash || []).map((v) => v * s));
    ctx.strokeStyle = series.colour;
    ctx.lineWidth = (series.width ?? 2) * s;
    strokePolyline(ctx, series.x, series.y, box.X, box.Y);
  }
  ctx.setLineDash([]);
  ctx.restore();
}

/**
 * A plot on a canvas that keeps itself sharp: `resize()` fits the bitmap to
 * the laid-out width (height = aspect × width, between 150 and 260 CSS
 * pixels) at the pixel ratio and redraws the last data; `draw(data)` calls
 * `paint(ctx, frame, data)` with frame = {W, H, scale, ink}.
 *
 * @returns {{draw(data), resize()}}
 */
export function createCanvasPlot(canvas, aspect, paint) {
  const ctx = canvas.getContext("2d");
  let frame = null, last = null;
  function draw(data) {
    last = data;
    if (frame) paint(ctx, frame, data);
  }
  function resize() {
    const width = layoutWidth(canvas, 140, 320);
    const height = Math.round(Math.max(150, Math.min(260, width * aspect)));
    const { scale } = fitCanvas(canvas, width, height);
    frame = { W: canvas.width, H: canvas.height, scale, ink: canvasInk(canvas) };
    if (last !== null) draw(last);
  }
  return { draw, resize };
}

/**
 * The time-series chart of an explorer: time from 0 on x, an observable on y.
 *
 * @param {HTMLCanvasElement} canvas
 * @param {object} spec  {xLabel, yLabel, log, yMin, yMax, aspect}
 *   log: logarithmic y axis; values below yMin are drawn at yMin (round-off floor).
 * @returns {{draw(series, lines, xMax), resize()}}
 *   series: [{label, colour, width, dash, t: number[], y: number[]}]
 *   lines:  [{y, colour, dash}] horizontal reference lines (dotted unless `dash` says otherwise)
 */
export function createLineChart(canvas, spec) {
  const log = !!spec.log;
  const plot = createCanvasPlot(canvas, spec.aspect || 0.5, (ctx, frame, [series, lines, xMax]) => drawLinePlot(ctx, frame, spec, {
    series: series.map((item) => ({ ...item, x: item.t })),
    hlines: (lines || []).map((line) => ({ colour: "rgba(100,100,100,0.9)", dash: [2, 3], ...line })),
    xMin: 0,
    xMax: Math.max(xMax || 1, 1e-9),
    yMin: spec.yMin ?? (log ? 1e-32 : 0),
    yMax: spec.yMax ?? 1,
    yLog: log,
  }));
  return { draw: (series, lines, xMax) => plot.draw([series, lines, xMax]), resize: plot.resize };
}
