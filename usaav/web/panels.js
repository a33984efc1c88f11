// Figures of an explorer that are not time series: a histogram against a
// density, a bar chart, and lines against a logarithmic (or linear) x axis.
// An explorer definition lists them as `panels: [{key, kind, label, xLabel,
// yLabel, aspect, data(run)}]`; the framework (explorer.js) mounts them under
// the explorer's figure, redraws them with the spheres and resizes them with
// the page.  `data(run)` returns what to draw, so a panel knows nothing of the
// dynamics:
//
//   kind "histogram": {bars, lo, hi, barColour, curves: [{x, y, colour, dash, compare}], ticks: [[x, label]], legend}
//                     (a `compare` curve does not set the vertical scale; it is clipped)
//   kind "bars":      {labels, values, colours, yMax, legend}
//   kind "lines":     {series: [{label, colour, x, y}], xLog, xMin, xMax, yMin, yMax,
//                      vlines: [{x, colour, dash, label}], hlines: [{y, colour, dash, label}]}
//
// `legend` is [[label, colour], ...]; lines take their legend from the labels.
// The axes are chart.js's, so panels and charts look alike.

import { axisPosition, axisTicks, clipToBox, createCanvasPlot, drawLinePlot, plotAxes, strokePolyline } from "./chart.js";
import { buildChartLegend, htmlElement } from "./controls.js";
import { PANEL_KINDS } from "./explorer.js";

function drawHistogram(ctx, frame, spec, data) {
  const scaled = data.curves.filter((c) => !c.compare).flatMap((c) => Array.from(c.y));
  const top = Math.max(...data.bars, ...scaled) * 1.08 || 1;
  const box = plotAxes(ctx, frame, spec, {
    xTicks: data.ticks.map(([value, label]) => ({ value, label })),
    yTicks: axisTicks(0, top, false),
    fx: axisPosition(data.lo, data.hi, false),
    fy: axisPosition(0, top, false),
  });
  const s = frame.scale;
  const width = (data.hi - data.lo) / data.bars.length;
  ctx.fillStyle = data.barColour;
  ctx.strokeStyle = "rgba(255,255,255,0.9)";
  ctx.lineWidth = 0.6 * s;
  data.bars.forEach((h, k) => {
    const x0 = box.X(data.lo + k * width), x1 = box.X(data.lo + (k + 1) * width);
    ctx.fillRect(x0, box.Y(h), x1 - x0, box.Y(0) - box.Y(h));
    ctx.strokeRect(x0, box.Y(h), x1 - x0, box.Y(0) - box.Y(h));
  });
  clipToBox(ctx, box);
  ctx.lineWidth = 2 * s;
  for (const curve of data.curves) {
    ctx.setLineDash((curve.dash || []).map((v) => v * s));
    ctx.strokeStyle = curve.colour;
    strokePolyline(ctx, curve.x, curve.y, box.X, box.Y);
  }
  ctx.setLineDash([]);
  ctx.restore();
}

function drawBars(ctx, frame, spec, data) {
  const count = data.values.length;
  const lo = Math.min(0, ...data.values), hi = Math.max(data.yMax ?? 0, ...data.values) || 1;
  const box = plotAxes(ctx, frame, spec, {
    xTicks: data.labels.map((label, k) => ({ value: k, label })),
    yTicks: axisTicks(lo, hi, false),
    fx: axisPosition(-0.6, count - 0.4, false),
    fy: axisPosition(lo, hi, false),
  });
  data.values.forEach((v, k) => {
    const x0 = box.X(k - 0.35), x1 = box.X(k + 0.35);
    ctx.fillStyle = data.colours[k];
    ctx.fillRect(x0, Math.min(box.Y(v), box.Y(0)), x1 - x0, Math.abs(box.Y(0) - box.Y(v)));
  });
  ctx.strokeStyle = "rgba(128,128,128,0.9)";
  ctx.lineWidth = frame.scale;
  ctx.beginPath(); ctx.moveTo(box.left, box.Y(0)); ctx.lineTo(box.left + box.pw, box.Y(0)); ctx.stroke();
}

/** What each panel kind draws: (ctx, frame, spec, data), one per PANEL_KINDS of explorer.js (a node test checks it). */
export const PANEL_DRAWERS = Object.freeze({ histogram: drawHistogram, bars: drawBars, lines: drawLinePlot });

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
  if (!drawer) throw new Error(`panel kind must be one of ${PANEL_KINDS.join(", ")}, got ${spec.kind}`);
  return createCanvasPlot(canvas, spec.aspect || 0.5, (ctx, frame, data) => drawer(ctx, frame, spec, data));
}

/**
 * The panels `specs` (a definition's `panels`) in `container`: one canvas and
 * one legend each, appended in order.  The explorer framework calls `draw(run)`
 * with every redraw and `resize()` when the page's layout or pixel ratio changes.
 *
 * @returns {{draw(run), resize(), destroy()}}
 */
export function mountPanels(container, specs) {
  const panels = specs.map((spec) => {
    const box = htmlElement("div", "usaav-x-chart usaav-x-panel-figure");
    box.dataset.panel = spec.key;
    const canvas = htmlElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", spec.label || spec.key);
    const legend = htmlElement("div");
    box.append(canvas, legend);
    container.append(box);
    return { spec, box, legend, legendKey: "", panel: createPanel(canvas, spec) };
  });
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
    resize() { panels.forEach((item) => item.panel.resize()); },
    destroy() { panels.forEach((item) => item.box.remove()); },
  };
}
