// Target laws the reader picks, the browser twin of usaav/targets.py:
// laws of the orbit angle (Thm. 2 (ii)), with a typed quantile read by the
// safe formula language of formula.js, and shapes on the sphere (Thm. 4
// (iii)).  The gauges that realise them are in gauges.js.
// tests/js/targets.test.mjs checks every function here against the Python
// module.
//
// Pure functions on Float64Arrays (row-major, like NumPy (n, d) arrays); the
// only randomness is the seeded generator of random.js.

import { formulaValues, parseFormula } from "./formula.js";
import { rotateInPlane, rotationMatrix } from "./sphere.js";

// ---------------------------------------------------------------------------
// Laws of the orbit angle (Thm. 2 (ii))
// ---------------------------------------------------------------------------

export const ANGLE_LAWS = Object.freeze(["uniform arc", "von Mises", "bimodal mixture", "your quantile"]);
export const QUANTILE_SAMPLES = 20000;

/** The reader's quantile Q(s), parsed and tried at five points of (0, 1) (usaav.targets.user_quantile). */
export function userQuantile(expression) {
  const formula = parseFormula(expression, "s");
  formulaValues(formula, linspace(0.0005, 0.9995, 5));
  return formula;
}

/** numpy.linspace(start, stop, count) with the last point exactly `stop`. */
function linspace(start, stop, count) {
  const out = new Float64Array(count);
  const step = (stop - start) / (count - 1);
  for (let k = 0; k < count; k++) out[k] = start + k * step;
  out[count - 1] = stop;
  return out;
}

/** Positions s_i = (i + 1/2)/n (usaav.targets.midpoints). */
export function midpoints(n) {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be an integer >= 1, got ${n}`);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = (i + 0.5) / n;
  return s;
}

/** An angle wrapped to (−π, π]. */
export function wrapAngle(alpha) {
  return Math.atan2(Math.sin(alpha), Math.cos(alpha));
}

/** numpy.interp: piecewise-linear interpolation on increasing xp, constant beyond the ends. */
function interpolate(x, xp, fp) {
  const last = xp.length - 1;
  if (!(x > xp[0])) return x === xp[0] || x < xp[0] ? fp[0] : NaN;
  if (x >= xp[last]) return fp[last];
  let lo = 0, hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid; else hi = mid;
  }
  const slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
  return slope * (x - xp[lo]) + fp[lo];
}

/** numpy.searchsorted(sorted, x, side="right"): how many entries are <= x. */
function countAtMost(sorted, x) {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function trapezoid(y, x) {
  let total = 0;
  for (let k = 1; k < x.length; k++) total += 0.5 * (y[k] + y[k - 1]) * (x[k] - x[k - 1]);
  return total;
}

function vonMisesBump(grid, centre, kappa) {
  return grid.map((alpha) => Math.exp(kappa * (Math.cos(alpha - centre) - 1)));
}

/** numpy.histogram(sample, bins, range=(lo, hi), density=True)[0], with numpy's edge rules. */
function histogramDensity(sample, bins, lo, hi) {
  const edges = linspace(lo, hi, bins + 1);
  const counts = new Float64Array(bins);
  const norm = bins / (hi - lo);
  let total = 0;
  for (const x of sample) {
    if (x < lo || x > hi) continue;
    let k = Math.floor((x - lo) * norm);
    if (k === bins) k -= 1;
    if (x < edges[k]) k -= 1;
    else if (k !== bins - 1 && x >= edges[k + 1]) k += 1;
    counts[k] += 1;
    total += 1;
  }
  return counts.map((c, k) => c / (total * (edges[k + 1] - edges[k])));
}

/**
 * One of ANGLE_LAWS, tabulated on [−π, π] (usaav.targets.angle_law).
 *
 * @returns {{name, grid, cdfValues, densityValues, sample, formula, cdf(alpha), quantile(s)}}
 */
export function angleLaw(name, width = 0.4, expression = "pi * (2*s - 1)**3", points = 4097) {
  if (!ANGLE_LAWS.includes(name)) throw new Error(`name must be one of ${ANGLE_LAWS.join(", ")}, got ${name}`);
  if (typeof width !== "number" || !(width > 0 && width <= 1)) throw new Error(`width must be in (0, 1], got ${width}`);
  const grid = linspace(-Math.PI, Math.PI, points);
  if (name === "your quantile") {
    const formula = userQuantile(expression);
    const sample = formulaValues(formula, midpoints(QUANTILE_SAMPLES)).map(wrapAngle).sort();
    const cdfValues = grid.map((alpha) => countAtMost(sample, alpha) / sample.length);
    const heights = histogramDensity(sample, 180, -Math.PI, Math.PI);
    const edges = linspace(-Math.PI, Math.PI, 181);
    const densityValues = grid.map((alpha) => heights[Math.min(Math.max(countAtMost(edges, alpha) - 1, 0), 179)]);
    return Object.freeze({
      name: `Q(s) = ${expression}`, grid, cdfValues, densityValues, sample, formula,
      cdf: (alpha) => countAtMost(sample, alpha) / sample.length,
      quantile: (s) => wrapAngle(formulaValues(formula, [s])[0]),
    });
  }
  let density, label;
  if (name === "uniform arc") {
    density = grid.map((alpha) => (Math.abs(alpha) <= width * Math.PI ? 1 : 0));
    label = `uniform on [−${width}π, ${width}π]`;
  } else if (name === "von Mises") {
    const kappa = 1 / (width * Math.PI / 2) ** 2;
    density = vonMisesBump(grid, 0, kappa);
    label = `von Mises, κ = ${Number(kappa.toPrecision(2))}`;
  } else {
    const kappa = 1 / (width * Math.PI / 4) ** 2;
    const [left, right] = [-2 * Math.PI / 3, Math.PI / 3].map((centre) => {
      const bump = vonMisesBump(grid, centre, kappa);
      const mass = trapezoid(bump, grid);
      return bump.map((b) => b / mass);
    });
    density = left.map((b, k) => 0.35 * b + 0.65 * right[k]);
    label = "bimodal mixture";
  }
  const mass = trapezoid(density, grid);
  const densityValues = density.map((p) => p / mass);
  const cdfValues = new Float64Array(points);
  for (let k = 1; k < points; k++) {
    cdfValues[k] = cdfValues[k - 1] + 0.5 * (densityValues[k] + densityValues[k - 1]) * (grid[k] - grid[k - 1]);
  }
  const total = cdfValues[points - 1];
  for (let k = 0; k < points; k++) cdfValues[k] /= total;
  // Generalised inverse of a piecewise-linear F: interpolate on its strictly increasing part.
  const keep = [0];
  for (let k = 1; k < points; k++) if (cdfValues[k] > cdfValues[k - 1]) keep.push(k);
  const cdfKept = Float64Array.from(keep, (k) => cdfValues[k]);
  const gridKept = Float64Array.from(keep, (k) => grid[k]);
  return Object.freeze({
    name: label, grid, cdfValues, densityValues, sample: null, formula: null,
    cdf: (alpha) => interpolate(alpha, grid, cdfValues),
    quantile: (s) => interpolate(s, cdfKept, gridKept),
  });
}

/**
 * Kolmogorov–Smirnov distance sup |F_n − F| between a sample and a CDF
 * (the statistic of scipy.stats.kstest): max_i max(i/n − F(x_(i)), F(x_(i)) − (i−1)/n).
 */
export function ksDistance(sample, cdf) {
  const sorted = Float64Array.from(sample).sort();
  const n = sorted.length;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const F = cdf(sorted[i]);
    worst = Math.max(worst, (i + 1) / n - F, F - i / n);
  }
  return worst;
}

/** Unit v at angle `polar` from the axis of `plane` (usaav.targets.tilted_start; Cor. 1). */
export function tiltedStart(polar, plane = [0, 1]) {
  const [i, j] = plane;
  const k = 3 - i - j;
  const v = new Float64Array(3);
  v[k] = Math.cos(polar);
  v[i] = Math.sin(polar);
  return v;
}

/**
 * Thm. 2 (ii) carried out (usaav.targets.realize_law): the maximiser x(s_i) = R_{Q(s_i)} v
 * at the midpoints, the angles read back from the points, and their KS distance to the law.
 *
 * @returns {{v, positions, phases, X, angles, ksDistance}} phases φ(s_i) = −Q(s_i)
 */
export function realizeLaw(law, n = 400, polar = Math.PI / 3, plane = [0, 1]) {
  const positions = midpoints(n);
  const v = tiltedStart(polar, plane);
  const angles = positions.map((s) => law.quantile(s));
  const start = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) start.set(v, 3 * i);
  const X = rotateInPlane(start, angles, plane, n, 3);
  const [p, q] = plane;
  const readBack = new Float64Array(n);
  const reference = Math.atan2(v[q], v[p]);
  for (let i = 0; i < n; i++) readBack[i] = wrapAngle(Math.atan2(X[3 * i + q], X[3 * i + p]) - reference);
  return {
    v, positions, phases: angles.map((a) => -a), X, angles: readBack,
    ksDistance: ksDistance(readBack, law.cdf),
  };
}

// ---------------------------------------------------------------------------
// Shapes on the sphere (Thm. 4 (iii))
// ---------------------------------------------------------------------------

export const SHAPES = Object.freeze(["spiral", "ring", "two caps", "word", "uniform"]);
/** Dimension k of the prompt space [0, 1]^k of each shape (PROMPT_DIMENSION in Python). */
export const PROMPT_DIMENSION = Object.freeze({ uniform: 2, spiral: 1, ring: 2, "two caps": 3 });
/** Longitude and latitude (degrees) facing the book's default sphere view (FACING in Python). */
export const FACING = Object.freeze([-58, 22]);

function setSpherical(out, row, lon, lat) {
  out[row] = Math.cos(lat) * Math.cos(lon);
  out[row + 1] = Math.cos(lat) * Math.sin(lon);
  out[row + 2] = Math.sin(lat);
}

function capPoint(out, row, centre, cosPolar, azimuth) {
  const helper = Math.abs(centre[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  const along = helper[0] * centre[0] + helper[1] * centre[1] + helper[2] * centre[2];
  const e1 = helper.map((h, c) => h - along * centre[c]);
  const norm = Math.hypot(...e1);
  for (let c = 0; c < 3; c++) e1[c] /= norm;
  const e2 = [
    centre[1] * e1[2] - centre[2] * e1[1],
    centre[2] * e1[0] - centre[0] * e1[2],
    centre[0] * e1[1] - centre[1] * e1[0],
  ];
  const sinPolar = Math.sqrt(1 - cosPolar * cosPolar);
  for (let c = 0; c < 3; c++) {
    out[row + c] = cosPolar * centre[c] + sinPolar * (Math.cos(azimuth) * e1[c] + Math.sin(azimuth) * e2[c]);
  }
}

/**
 * The target map T of a shape applied to n prompts p (row-major n*k; usaav.targets.target_map).
 * For "word", p holds n plane points (the glyphs at unit height, centred).
 *
 * @returns {Float64Array} n*3 unit rows
 */
export function targetMap(shape, p, n) {
  if (!SHAPES.includes(shape)) throw new Error(`shape must be one of ${SHAPES.join(", ")}, got ${shape}`);
  const k = shape === "word" ? 2 : PROMPT_DIMENSION[shape];
  if (p.length !== n * k) throw new Error(`p must hold n*${k} = ${n * k} numbers for the shape ${shape}, got ${p.length}`);
  const azim = (FACING[0] * Math.PI) / 180;
  const elev = (FACING[1] * Math.PI) / 180;
  const out = new Float64Array(3 * n);
  if (shape === "ring") {
    const R = rotationMatrix(0.6, 3, [1, 2]);
    const band = new Float64Array(3);
    for (let i = 0; i < n; i++) {
      setSpherical(band, 0, 2 * Math.PI * p[2 * i + 1], 0.15 * (p[2 * i] - 0.5));
      for (let r = 0; r < 3; r++) out[3 * i + r] = R[3 * r] * band[0] + R[3 * r + 1] * band[1] + R[3 * r + 2] * band[2];
    }
    return out;
  }
  if (shape === "two caps") {
    const first = new Float64Array(3), second = new Float64Array(3);
    setSpherical(first, 0, azim - 0.7, elev + 0.55);
    setSpherical(second, 0, azim + 0.8, elev - 0.75);
    for (let i = 0; i < n; i++) {
      // Area-uniform cap of angular radius 0.35: cos(polar) uniform on [cos 0.35, 1].
      const cosPolar = 1 - (1 - Math.cos(0.35)) * p[3 * i + 2];
      capPoint(out, 3 * i, p[3 * i] < 0.5 ? first : second, cosPolar, 2 * Math.PI * p[3 * i + 1]);
    }
    return out;
  }
  if (shape === "word") {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      lo = Math.min(lo, p[2 * i]);
      hi = Math.max(hi, p[2 * i]);
    }
    const width = n > 0 ? hi - lo : 0;
    const scale = Math.min(0.6, 2.4 / Math.max(width, 1e-9));
    for (let i = 0; i < n; i++) setSpherical(out, 3 * i, azim + scale * p[2 * i], elev * 0.6 + scale * p[2 * i + 1]);
    return out;
  }
  for (let i = 0; i < n; i++) {
    if (shape === "uniform") setSpherical(out, 3 * i, 2 * Math.PI * p[2 * i + 1], Math.asin(2 * p[2 * i] - 1));
    else setSpherical(out, 3 * i, 8 * Math.PI * p[i], (Math.PI / 2 - 0.25) * (2 * p[i] - 1));
  }
  return out;
}

/**
 * A 5×7 pixel font for the word where no canvas exists (node): rows of five
 * bits, top to bottom; lower case is drawn as upper case, an unknown
 * character as a box.  Pages always draw the word with a canvas.
 */
const PIXEL_FONT = Object.freeze({
  A: "01110 10001 10001 11111 10001 10001 10001", B: "11110 10001 10001 11110 10001 10001 11110",
  C: "01110 10001 10000 10000 10000 10001 01110", D: "11110 10001 10001 10001 10001 10001 11110",
  E: "11111 10000 10000 11110 10000 10000 11111", F: "11111 10000 10000 11110 10000 10000 10000",
  G: "01110 10001 10000 10111 10001 10001 01111", H: "10001 10001 10001 11111 10001 10001 10001",
  I: "01110 00100 00100 00100 00100 00100 01110", J: "00111 00010 00010 00010 00010 10010 01100",
  K: "10001 10010 10100 11000 10100 10010 10001", L: "10000 10000 10000 10000 10000 10000 11111",
  M: "10001 11011 10101 10101 10001 10001 10001", N: "10001 10001 11001 10101 10011 10001 10001",
  O: "01110 10001 10001 10001 10001 10001 01110", P: "11110 10001 10001 11110 10000 10000 10000",
  Q: "01110 10001 10001 10001 10101 10010 01101", R: "11110 10001 10001 11110 10100 10010 10001",
  S: "01111 10000 10000 01110 00001 00001 11110", T: "11111 00100 00100 00100 00100 00100 00100",
  U: "10001 10001 10001 10001 10001 10001 01110", V: "10001 10001 10001 10001 10001 01010 00100",
  W: "10001 10001 10001 10101 10101 10101 01010", X: "10001 10001 01010 00100 01010 10001 10001",
  Y: "10001 10001 10001 01010 00100 00100 00100", Z: "11111 00001 00010 00100 01000 10000 11111",
  0: "01110 10001 10011 10101 11001 10001 01110", 1: "00100 01100 00100 00100 00100 00100 01110",
  2: "01110 10001 00001 00010 00100 01000 11111", 3: "11111 00010 00100 00010 00001 10001 01110",
  4: "00010 00110 01010 10010 11111 00010 00010", 5: "11111 10000 11110 00001 00001 10001 01110",
  6: "00110 01000 10000 11110 10001 10001 01110", 7: "11111 00001 00010 00100 01000 01000 01000",
  8: "01110 10001 10001 01110 10001 10001 01110", 9: "01110 10001 10001 01111 00001 00010 01100",
  "-": "00000 00000 00000 11111 00000 00000 00000", ".": "00000 00000 00000 00000 00000 01100 01100",
  "!": "00100 00100 00100 00100 00100 00000 00100", "?": "01110 10001 00001 00010 00100 00000 00100",
  " ": "00000 00000 00000 00000 00000 00000 00000",
});
const PIXEL_FONT_UNKNOWN = "11111 10001 10001 10001 10001 10001 11111";

/** Glyph pixels {inside: [x0, y0, x1, y1, ...], top, bottom, left, right} of `word` from the pixel font. */
function pixelFontMask(word) {
  const inside = [];
  let column = 0;
  for (const char of word) {
    const rows = (PIXEL_FONT[char.toUpperCase()] ?? PIXEL_FONT_UNKNOWN).split(" ");
    rows.forEach((bits, y) => [...bits].forEach((bit, x) => { if (bit === "1") inside.push(column + x, y); }));
    column += 6;
  }
  return maskBounds(inside);
}

/** Glyph pixels of `word` drawn in bold with the page's font on a canvas. */
function canvasFontMask(word, canvas) {
  const height = 96;
  const font = `bold ${height}px "DejaVu Sans", Verdana, Arial, sans-serif`;
  let context = canvas.getContext("2d");
  context.font = font;
  canvas.width = Math.ceil(context.measureText(word).width) + 8;
  canvas.height = Math.ceil(1.4 * height);
  context = canvas.getContext("2d", { willReadFrequently: true });
  context.font = font;
  context.textBaseline = "alphabetic";
  context.fillStyle = "#000";
  context.fillText(word, 4, Math.round(1.1 * height));
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const inside = [];
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) if (pixels[4 * (y * canvas.width + x) + 3] >= 128) inside.push(x, y);
  }
  return maskBounds(inside);
}

function maskBounds(inside) {
  let top = Infinity, bottom = -Infinity, left = Infinity, right = -Infinity;
  for (let k = 0; k < inside.length; k += 2) {
    left = Math.min(left, inside[k]); right = Math.max(right, inside[k]);
    top = Math.min(top, inside[k + 1]); bottom = Math.max(bottom, inside[k + 1]);
  }
  return { inside: Int32Array.from(inside), top, bottom: bottom + 1, left, right: right + 1 };
}

/** The glyph pixels of `word`: a canvas where there is one (pages), the pixel font otherwise (node). */
function wordMask(word) {
  const canvas = typeof OffscreenCanvas !== "undefined"
    ? new OffscreenCanvas(8, 8)
    : typeof document !== "undefined" ? document.createElement("canvas") : null;
  return canvas === null ? pixelFontMask(word) : canvasFontMask(word, canvas);
}

/**
 * n points uniform on the glyphs of `word` in the plane, centred, unit height
 * (the browser's font stands in for matplotlib's glyph outlines in Python;
 * without a canvas, the 5×7 pixel font).
 */
export function wordRegion(word, n, rng) {
  if (typeof word !== "string" || word.trim() === "") throw new Error(`word must contain visible characters, got ${JSON.stringify(word)}`);
  const mask = wordMask(word);
  const pixelCount = mask.inside.length / 2;
  if (pixelCount === 0) throw new Error(`word must contain visible characters, got ${JSON.stringify(word)}`);
  const height = mask.bottom - mask.top;
  const cx = (mask.left + mask.right) / 2, cy = (mask.top + mask.bottom) / 2;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    // A uniform pixel of the glyphs, then a uniform point inside it: uniform on the glyph area.
    const k = rng.int(pixelCount);
    out[2 * i] = (mask.inside[2 * k] + rng.uniform() - cx) / height;
    out[2 * i + 1] = -(mask.inside[2 * k + 1] + rng.uniform() - cy) / height;
  }
  return out;
}

/** n target points T(p_i) of a shape for prompts drawn uniformly (usaav.targets.sphere_target). */
export function sphereTarget(shape, n, rng, word = "USA-AV") {
  if (!SHAPES.includes(shape)) throw new Error(`shape must be one of ${SHAPES.join(", ")}, got ${shape}`);
  if (shape === "word") return targetMap("word", wordRegion(word, n, rng), n);
  const p = new Float64Array(n * PROMPT_DIMENSION[shape]);
  for (let k = 0; k < p.length; k++) p[k] = rng.uniform();
  return targetMap(shape, p, n);
}
