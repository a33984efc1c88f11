// Controls, buttons, readouts and legends as plain, labelled HTML elements:
// native <input type="range">, <select>, <input type="text"> and <button>
// are keyboard operable and announced by screen readers without extra work.
//
// A control is described by data (sliderControl, choiceControl, textControl,
// toggleControl) and built by buildControl; the explorer framework reads and
// writes values through the returned handle and never touches the DOM itself.

import { powerOfTenLabel } from "./chart.js";
import { CATEGORICAL, viridisGradient } from "./view.js";

/** A new HTML element with an optional class and text. */
export function htmlElement(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function uniqueId(prefix) {
  return `usaav-${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Number formatting for slider outputs and readouts: fixed digits, or scientific when tiny. */
export function formatNumber(value, digits = 3) {
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "–" : value > 0 ? "∞" : "−∞";
  const a = Math.abs(value);
  if (a !== 0 && (a < 10 ** -digits || a >= 1e5)) {
    const [mantissa, exponent] = value.toExponential(2).split("e");
    return `${mantissa.replace("-", "−")}×${powerOfTenLabel(Number(exponent))}`;
  }
  return value.toFixed(digits).replace("-", "−");
}

// ---------------------------------------------------------------------------
// Control descriptions (data)
// ---------------------------------------------------------------------------
//
// Every kind takes, besides its own fields, `help` (a tooltip) and
// `appliesTo(values)`: false when the control does nothing in the current
// setting of the others (the knob m of a scenario without one); the explorer
// then disables it and shows `inactiveNote` as its tooltip.

function applicability(key, { appliesTo, inactiveNote }) {
  if (appliesTo === undefined) return {};
  if (typeof appliesTo !== "function") throw new Error(`control ${key}: appliesTo must be a function of the control values`);
  return { appliesTo, inactiveNote: inactiveNote || "has no effect in this setting" };
}

/** A slider. `integer` values snap to whole numbers; `format(v)` prints the value next to it. */
export function sliderControl(key, label, { min, max, step, value, integer = false, format, help, ...rest } = {}) {
  if (!(max > min)) throw new Error(`slider ${key}: max must exceed min`);
  return Object.freeze({ type: "slider", key, label, min, max, step: step ?? (integer ? 1 : (max - min) / 100),
    value: value ?? min, integer, format, help, ...applicability(key, rest) });
}

/** A drop-down; `options` is a list of values or of [value, label] pairs. */
export function choiceControl(key, label, options, value, { help, ...rest } = {}) {
  const pairs = options.map((o) => (Array.isArray(o) ? o : [o, String(o)]));
  return Object.freeze({ type: "choice", key, label, options: pairs, value: value ?? pairs[0][0], help, ...applicability(key, rest) });
}

/** A one-line text field, applied on Enter or when it loses focus. */
export function textControl(key, label, value, { maxLength = 200, help, ...rest } = {}) {
  return Object.freeze({ type: "text", key, label, value: value ?? "", maxLength, help, ...applicability(key, rest) });
}

/** A checkbox. */
export function toggleControl(key, label, value = false, { help, ...rest } = {}) {
  return Object.freeze({ type: "toggle", key, label, value: !!value, help, ...applicability(key, rest) });
}

// ---------------------------------------------------------------------------
// Building them
// ---------------------------------------------------------------------------

/**
 * Build a control; `onChange(key, value)` fires on every input (sliders while
 * dragging, so the picture follows the hand).
 * Returns {node, get(), set(value), setEnabled(enabled, note), setInvalid(invalid)}.
 */
export function buildControl(control, value, onChange) {
  const handle = buildControlElement(control, value, onChange);
  const input = handle.node.querySelector("input, select");
  const label = handle.node.querySelector("label");
  return {
    ...handle,
    setEnabled(enabled, note) {
      if (input.disabled === !enabled) return;
      input.disabled = !enabled;
      handle.node.classList.toggle("usaav-x-inactive", !enabled);
      label.title = enabled ? control.help || "" : `${control.label}: ${note}`;
    },
    setInvalid(invalid) {
      if (invalid) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
  };
}

function buildControlElement(control, value, onChange) {
  const id = uniqueId(control.key);
  const row = htmlElement("div", `usaav-x-control usaav-x-${control.type}`);
  row.dataset.key = control.key;
  const label = htmlElement("label", "usaav-x-label", control.label);
  label.htmlFor = id;
  if (control.help) label.title = control.help;
  let input, output, read;

  if (control.type === "slider") {
    input = htmlElement("input");
    input.id = id;
    input.type = "range";
    input.min = String(control.min);
    input.max = String(control.max);
    input.step = String(control.step);
    output = htmlElement("output", "usaav-x-value");
    output.htmlFor = id;
    read = () => (control.integer ? Math.round(Number(input.value)) : Number(input.value));
    const show = () => {
      const v = read();
      const text = control.format ? control.format(v) : control.integer ? String(v) : formatNumber(v, 2);
      output.textContent = text;
      input.setAttribute("aria-valuetext", text);
    };
    input.addEventListener("input", () => { show(); onChange(control.key, read()); });
    input.value = String(value);
    show();
    row.append(label, input, output);
    return { node: row, get: read, set(v) { input.value = String(v); show(); } };
  }
  if (control.type === "choice") {
    input = htmlElement("select");
    for (const [v, text] of control.options) {
      const option = htmlElement("option", null, text);
      option.value = String(v);
      input.append(option);
    }
    read = () => control.options.find(([v]) => String(v) === input.value)[0];
    input.value = String(value);
    input.addEventListener("change", () => onChange(control.key, read()));
    row.append(label, input);
    input.id = id;
    return { node: row, get: read, set(v) { input.value = String(v); } };
  }
  if (control.type === "text") {
    input = htmlElement("input");
    input.type = "text";
    input.maxLength = control.maxLength;
    input.value = value;
    input.spellcheck = false;
    read = () => input.value;
    input.addEventListener("change", () => onChange(control.key, read()));
    row.append(label, input);
    input.id = id;
    return { node: row, get: read, set(v) { input.value = v; } };
  }
  if (control.type === "toggle") {
    input = htmlElement("input");
    input.type = "checkbox";
    input.checked = !!value;
    read = () => input.checked;
    input.addEventListener("change", () => onChange(control.key, read()));
    row.append(input, label);
    input.id = id;
    return { node: row, get: read, set(v) { input.checked = !!v; } };
  }
  throw new Error(`unknown control type ${control.type}`);
}

/** Play/pause, restart and "run to the end" buttons. Returns {node, setPlaying(bool), setFinished(bool)}. */
export function buildTransport({ onPlay, onRestart, onSkip }) {
  const bar = htmlElement("div", "usaav-x-transport");
  const play = htmlElement("button", "usaav-x-button usaav-x-play");
  play.type = "button";
  const restart = htmlElement("button", "usaav-x-button", "↺ restart");
  restart.type = "button";
  restart.setAttribute("aria-label", "restart from t = 0");
  const skip = htmlElement("button", "usaav-x-button", "run to the end");
  skip.type = "button";
  skip.setAttribute("aria-label", "run to the end time as fast as possible");
  play.addEventListener("click", () => onPlay());
  restart.addEventListener("click", () => onRestart());
  skip.addEventListener("click", () => onSkip());
  bar.append(play, restart, skip);
  const setPlaying = (playing) => {
    play.textContent = playing ? "❚❚ pause" : "▶ play";
    play.setAttribute("aria-pressed", playing ? "true" : "false");
    play.setAttribute("aria-label", playing ? "pause" : "play");
  };
  setPlaying(false);
  return { node: bar, setPlaying, setFinished(done) { skip.disabled = !!done; } };
}

/** A list of printed readouts. Returns {node, set(key, text)}. */
export function buildReadouts(readouts) {
  const list = htmlElement("dl", "usaav-x-readouts");
  const cells = {};
  const terms = {};
  for (const r of readouts) {
    const term = htmlElement("dt", null, r.label);
    if (r.help) term.title = r.help;
    const value = htmlElement("dd", null, "–");
    value.dataset.key = r.key;
    cells[r.key] = value;
    terms[r.key] = term;
    list.append(term, value);
  }
  return {
    node: list,
    set(key, text) { if (cells[key] && cells[key].textContent !== text) cells[key].textContent = text; },
    show(key, visible) { terms[key].hidden = !visible; cells[key].hidden = !visible; },
  };
}

/** Legend of a chart: one swatch per series (and per reference line). */
export function buildChartLegend(entries) {
  const list = htmlElement("ul", "usaav-x-legend");
  for (const entry of entries) {
    const item = htmlElement("li");
    const swatch = htmlElement("span", "usaav-x-swatch");
    swatch.style.borderTop = `${Math.max(2, entry.width || 2)}px ${entry.dash ? "dashed" : "solid"} ${entry.colour}`;
    item.append(swatch, document.createTextNode(entry.label));
    list.append(item);
  }
  return list;
}

/**
 * Legend of the point colours: a viridis colour bar with its end labels, or
 * swatches for categorical labels.  `colour` as in view.pointColours, plus
 * `label` and, for categories, `names`.
 */
export function buildColourLegend(colour) {
  const box = htmlElement("div", "usaav-x-colourbar");
  if (!colour || colour.kind === "uniform") return box;
  const title = htmlElement("span", "usaav-x-colourbar-title", colour.label || "");
  box.append(title);
  if (colour.kind === "categorical") {
    const names = colour.names || [];
    const list = htmlElement("ul", "usaav-x-legend");
    names.forEach((name, k) => {
      const item = htmlElement("li");
      const swatch = htmlElement("span", "usaav-x-dot");
      swatch.style.background = CATEGORICAL[k % CATEGORICAL.length];
      item.append(swatch, document.createTextNode(name));
      list.append(item);
    });
    box.append(list);
    return box;
  }
  const bar = htmlElement("span", "usaav-x-gradient");
  bar.style.background = viridisGradient();
  bar.setAttribute("role", "img");
  bar.setAttribute("aria-label", `colour scale from ${colour.minLabel ?? colour.min ?? 0} to ${colour.maxLabel ?? colour.max ?? 1}`);
  box.append(htmlElement("span", "usaav-x-end", String(colour.minLabel ?? colour.min ?? 0)), bar,
    htmlElement("span", "usaav-x-end", String(colour.maxLabel ?? colour.max ?? 1)));
  return box;
}
