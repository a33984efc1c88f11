// Small line charts on a canvas: time on x, an observable on y (linear or
// log axis), several series, horizontal reference lines.  The legend is HTML
// (built by controls.js), so that it is crisp, wraps on a narrow screen and is
// read by screen readers.

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
 * A line chart.
 *
 * @param {HTMLCanvasElement} canvas
 * @param {object} spec  {xLabel, yLabel, log, yMin, yMax, xMax}
 *   log: logarithmic y axis; values below yMin are drawn at yMin (round-off floor).
 * @returns {{draw(series, lines, xMax), resize()}}
 *   series: [{label, colour, width, dash, t: number[], y: number[]}]
 *   lines:  [{y, label, colour, dash}] horizontal reference lines
 */
export function createLineChart(canvas, spec) {
  const ctx = canvas.getContext("2d");
  let cssWidth = 0, cssHeight = 0;
  let last = null;
  let ink = "#222"; // the page's text colour, read on resize (not per frame)
  const aspect = spec.aspect || 0.5;

  function resize() {
    const rect = canvas.getBoundingClientRect();
    const width = Math.max(120, Math.round(rect.width || canvas.clientWidth || 320));
    const height = Math.round(Math.max(140, Math.min(260, width * aspect)));
    const dpr = Math.min(3, (typeof window !== "undefined" && window.devicePixelRatio) || 1);
    if (width !== cssWidth || height !== cssHeight) {
      cssWidth = width;
      cssHeight = height;
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.height = `${height}px`;
    }
    ink = (typeof getComputedStyle === "function" && getComputedStyle(canvas).color) || "#222";
    if (last) draw(...last);
  }

  function draw(series, lines, xMax) {
    last = [series, lines, xMax];
    if (!cssWidth) return;
    const W = canvas.width, H = canvas.height, s = W / cssWidth;
    const log = !!spec.log;
    const yMin = spec.yMin ?? (log ? 1e-32 : 0), yMax = spec.yMax ?? 1;
    const left = 44 * s, right = 8 * s, top = 8 * s, bottom = 30 * s;
    const pw = W - left - right, ph = H - top - bottom;
    const x1 = Math.max(xMax || 1, 1e-9);
    const fy = log
      ? (y) => (Math.log10(Math.min(yMax, Math.max(yMin, y))) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : (y) => (Math.min(yMax, Math.max(yMin, y)) - yMin) / (yMax - yMin);
    const X = (t) => left + (pw * t) / x1;
    const Y = (y) => top + ph * (1 - fy(y));

    ctx.clearRect(0, 0, W, H);
    ctx.font = `${10.5 * s}px sans-serif`;
    ctx.fillStyle = ink;
    ctx.strokeStyle = "rgba(128,128,128,0.25)";
    ctx.lineWidth = s;
    // grid and tick labels
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const tick of axisTicks(yMin, yMax, log)) {
      const y = Y(tick.value);
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
      ctx.fillText(tick.label, left - 4 * s, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const tick of axisTicks(0, x1, false)) {
      const x = X(tick.value);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + ph); ctx.stroke();
      ctx.fillText(tick.label, x, top + ph + 3 * s);
    }
    ctx.strokeStyle = "rgba(128,128,128,0.8)";
    ctx.strokeRect(left, top, pw, ph);
    if (spec.xLabel) {
      ctx.textAlign = "right";
      ctx.textBaseline = "bottom";
      ctx.fillText(spec.xLabel, left + pw, H - 1 * s);
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
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, pw, ph);
    ctx.clip();
    for (const line of lines || []) {
      if (!Number.isFinite(line.y)) continue;
      ctx.setLineDash((line.dash || [2, 3]).map((v) => v * s));
      ctx.strokeStyle = line.colour || "rgba(100,100,100,0.9)";
      ctx.lineWidth = 1.2 * s;
      ctx.beginPath(); ctx.moveTo(left, Y(line.y)); ctx.lineTo(left + pw, Y(line.y)); ctx.stroke();
    }
    for (const item of series) {
      if (!item.t.length) continue;
      ctx.setLineDash((item.dash || []).map((v) => v * s));
      ctx.strokeStyle = item.colour;
      ctx.lineWidth = (item.width || 1.6) * s;
      ctx.lineJoin = "round";
      ctx.beginPath();
      for (let k = 0; k < item.t.length; k++) {
        const x = X(item.t[k]), y = Y(item.y[k]);
        if (k === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.restore();
  }

  return { draw, resize };
}
