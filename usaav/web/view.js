// Canvas view of the sphere S^2: the common camera, drag to turn, a light
// wireframe and a depth cue (points behind the sphere are smaller and faded).
//
// The camera is matplotlib's (usaav.plotting.CAMERA): the eye sits in the
// direction (cos e cos a, cos e sin a, sin e) with elevation e = 22 deg and
// azimuth a = -58 deg, x3 up, so a figure printed by the library and the live
// view start from the same side.  The projection is orthographic.
//
// Nothing here knows about kernels or time: a view draws whatever
// configuration it is handed (a Float64Array of n rows of length 3).

import { canvasInk, fitCanvas, layoutWidth } from "./canvas.js";

export const DEFAULT_CAMERA = Object.freeze({ elev: 22, azim: -58 });

const DEG = Math.PI / 180;

/**
 * A camera shared by every sphere view of one explorer: turning one view
 * turns them all, so that small multiples stay comparable.
 */
export function createCamera(initial = DEFAULT_CAMERA) {
  let elev = initial.elev;
  let azim = initial.azim;
  const listeners = new Set();
  const notify = () => listeners.forEach((fn) => fn());
  return {
    get elev() { return elev; },
    get azim() { return azim; },
    set(next) {
      elev = Math.max(-90, Math.min(90, next.elev));
      azim = ((((next.azim + 180) % 360) + 360) % 360) - 180;
      notify();
    },
    turn(dAzim, dElev) { this.set({ elev: elev + dElev, azim: azim + dAzim }); },
    reset() { this.set(initial); },
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
  };
}

/**
 * Orthonormal screen frame of a camera: `right` and `up` span the screen,
 * `eye` points from the sphere towards the viewer (depth > 0: in front).
 */
export function cameraFrame(elev, azim) {
  const e = elev * DEG;
  const a = azim * DEG;
  const ce = Math.cos(e), se = Math.sin(e), ca = Math.cos(a), sa = Math.sin(a);
  return {
    eye: [ce * ca, ce * sa, se],
    right: [-sa, ca, 0],
    up: [-se * ca, -se * sa, ce],
  };
}

/**
 * Project n points of R^3 (row-major, rows of length `d`, only the first three
 * coordinates used) to screen coordinates in units of the sphere radius.
 * Writes into `out` (Float64Array of length 3n: sx, sy, depth) and returns it.
 */
export function projectPoints(X, n, d, frame, out) {
  const { eye, right, up } = frame;
  for (let i = 0; i < n; i++) {
    const x = X[i * d], y = X[i * d + 1], z = d > 2 ? X[i * d + 2] : 0;
    out[3 * i] = right[0] * x + right[1] * y + right[2] * z;
    out[3 * i + 1] = up[0] * x + up[1] * y + up[2] * z;
    out[3 * i + 2] = eye[0] * x + eye[1] * y + eye[2] * z;
  }
  return out;
}

// Wireframe of S^2 as 3-D polylines: parallels every 30 deg (the equator
// apart, drawn darker) and meridians every 30 deg, like usaav.plotting.sphere_axes.
function wireframeLines() {
  const lines = [];
  const samples = 72;
  for (const lat of [-60, -30, 0, 30, 60]) {
    const pts = new Float64Array(3 * (samples + 1));
    const c = Math.cos(lat * DEG), s = Math.sin(lat * DEG);
    for (let k = 0; k <= samples; k++) {
      const u = (2 * Math.PI * k) / samples;
      pts[3 * k] = c * Math.cos(u);
      pts[3 * k + 1] = c * Math.sin(u);
      pts[3 * k + 2] = s;
    }
    lines.push({ pts, count: samples + 1, equator: lat === 0 });
  }
  for (let lon = 0; lon < 360; lon += 30) {
    const half = samples / 2;
    const pts = new Float64Array(3 * (half + 1));
    for (let k = 0; k <= half; k++) {
      const v = -Math.PI / 2 + (Math.PI * k) / half;
      pts[3 * k] = Math.cos(v) * Math.cos(lon * DEG);
      pts[3 * k + 1] = Math.cos(v) * Math.sin(lon * DEG);
      pts[3 * k + 2] = Math.sin(v);
    }
    lines.push({ pts, count: half + 1, equator: false });
  }
  return lines;
}

const WIREFRAME = wireframeLines();

/** Colours of one view; `ink` follows the page's text colour (light or dark theme). */
function viewPalette(ink) {
  return {
    ink,
    wireFront: "rgba(128,128,128,0.55)",
    wireBack: "rgba(128,128,128,0.22)",
    equatorFront: "rgba(110,110,110,0.85)",
    rim: "rgba(128,128,128,0.8)",
    shade: "rgba(128,128,128,0.06)",
  };
}

/**
 * A sphere view on a canvas.
 *
 * @param {HTMLCanvasElement} canvas
 * @param {object} camera  from createCamera (shared)
 * @param {object} [opts]  {label: accessible name, onTurn(): called when the reader turns the view}
 * @returns {{draw(X, n, d, colours, overlays), resize(), destroy()}}
 */
export function createSphereView(canvas, camera, opts = {}) {
  const ctx = canvas.getContext("2d");
  let projected = new Float64Array(0);
  let order = new Uint32Array(0);
  let last = null; // the arguments of the last draw, to redraw when the camera turns
  let cssSize = 0;
  let ink = "#222"; // the page's text colour, read on resize (not per frame: no style recalculation)
  // The wireframe behind and in front of the points, drawn once per camera and size.
  const layers = { key: "", back: null, front: null };

  canvas.tabIndex = 0;
  canvas.setAttribute("role", "img");
  canvas.setAttribute(
    "aria-label",
    `${opts.label || "Sphere"}: drag, or use the arrow keys, to turn the sphere; Home resets the view.`,
  );
  canvas.style.touchAction = "pan-y pinch-zoom"; // vertical swipes still scroll the page

  function resize() {
    cssSize = layoutWidth(canvas, 60, 240);
    fitCanvas(canvas, cssSize, cssSize);
    ink = canvasInk(canvas);
    if (last) draw(...last);
  }

  // Turning: pointer events cover mouse, pen and touch; keys for keyboard users.
  let drag = null;
  const onDown = (event) => {
    drag = { x: event.clientX, y: event.clientY, id: event.pointerId };
    canvas.setPointerCapture?.(event.pointerId);
  };
  const onMove = (event) => {
    if (!drag || event.pointerId !== drag.id) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    drag.x = event.clientX;
    drag.y = event.clientY;
    const degreesPerPixel = 180 / Math.max(cssSize, 1);
    camera.turn(-dx * degreesPerPixel, dy * degreesPerPixel);
    opts.onTurn?.();
  };
  const onUp = (event) => {
    if (drag && event.pointerId === drag.id) drag = null;
  };
  const onKey = (event) => {
    const step = event.shiftKey ? 15 : 5;
    const moves = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (event.key in moves) {
      camera.turn(...moves[event.key]);
    } else if (event.key === "Home") {
      camera.reset();
    } else {
      return;
    }
    event.preventDefault();
    opts.onTurn?.();
  };
  canvas.addEventListener("pointerdown", onDown);
  canvas.addEventListener("pointermove", onMove);
  canvas.addEventListener("pointerup", onUp);
  canvas.addEventListener("pointercancel", onUp);
  canvas.addEventListener("keydown", onKey);
  const unsubscribe = camera.subscribe(() => { if (last) draw(...last); });

  function strokeLine(pts, count, frame, radius, cx, cy, front, style, width, target = ctx) {
    const ctx = target;
    ctx.beginPath();
    let pen = false;
    for (let k = 0; k < count; k++) {
      const x = pts[3 * k], y = pts[3 * k + 1], z = pts[3 * k + 2];
      const depth = frame.eye[0] * x + frame.eye[1] * y + frame.eye[2] * z;
      if ((depth >= 0) !== front) { pen = false; continue; }
      const sx = cx + radius * (frame.right[0] * x + frame.right[1] * y + frame.right[2] * z);
      const sy = cy - radius * (frame.up[0] * x + frame.up[1] * y + frame.up[2] * z);
      if (pen) ctx.lineTo(sx, sy); else ctx.moveTo(sx, sy);
      pen = true;
    }
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.stroke();
  }

  function drawOverlays(overlays, frame, radius, cx, cy, front, scale) {
    for (const overlay of overlays || []) {
      if (overlay.kind === "path") {
        const count = overlay.points.length / 3;
        ctx.setLineDash(front ? [] : [4 * scale, 4 * scale]);
        strokeLine(overlay.points, count, frame, radius, cx, cy, front,
          overlay.colour || "#444", (overlay.width || 1.2) * scale * (front ? 1 : 0.7));
        ctx.setLineDash([]);
      } else if (overlay.kind === "marker") {
        const [x, y, z] = overlay.at;
        const depth = frame.eye[0] * x + frame.eye[1] * y + frame.eye[2] * z;
        if ((depth >= 0) !== front) continue;
        const sx = cx + radius * (frame.right[0] * x + frame.right[1] * y + frame.right[2] * z);
        const sy = cy - radius * (frame.up[0] * x + frame.up[1] * y + frame.up[2] * z);
        ctx.globalAlpha = front ? 1 : 0.45;
        ctx.beginPath();
        ctx.arc(sx, sy, (overlay.size || 6) * scale, 0, 2 * Math.PI);
        ctx.strokeStyle = overlay.colour || "#000";
        ctx.lineWidth = 1.5 * scale;
        ctx.stroke();
        ctx.globalAlpha = 1;
      }
    }
  }

  function drawTriad(ctx, frame, scale) {
    // Short coordinate axes in the lower-left corner, as in usaav.plotting's bare views.
    const ox = 24 * scale, oy = canvas.height - 24 * scale, len = 15 * scale;
    ctx.font = `${11 * scale}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ["x\u2081", "x\u2082", "x\u2083"].forEach((name, k) => {
      const ex = frame.right[k], ey = frame.up[k];
      ctx.beginPath();
      ctx.moveTo(ox, oy);
      ctx.lineTo(ox + len * ex, oy - len * ey);
      ctx.strokeStyle = "rgba(128,128,128,0.9)";
      ctx.lineWidth = scale;
      ctx.stroke();
      ctx.fillStyle = ink;
      // Label at the tip, pushed out further when the axis points at the viewer (short on screen).
      const reach = len + 8 * scale;
      ctx.fillText(name, ox + reach * ex, oy - reach * ey);
    });
  }

  function wireframeLayers(W, H, frame, radius, cx, cy, scale) {
    const key = `${W}x${H}|${camera.elev}|${camera.azim}|${ink}`;
    if (layers.key === key) return layers;
    const pal = viewPalette(ink);
    const make = () => {
      const layer = document.createElement("canvas");
      layer.width = W;
      layer.height = H;
      return layer;
    };
    layers.back = layers.back && layers.back.width === W && layers.back.height === H ? layers.back : make();
    layers.front = layers.front && layers.front.width === W && layers.front.height === H ? layers.front : make();
    const back = layers.back.getContext("2d");
    back.clearRect(0, 0, W, H);
    for (const line of WIREFRAME) strokeLine(line.pts, line.count, frame, radius, cx, cy, false, pal.wireBack, 0.8 * scale, back);
    const front = layers.front.getContext("2d");
    front.clearRect(0, 0, W, H);
    // The sphere itself: a faint disc between back and front, and its rim.
    front.beginPath();
    front.arc(cx, cy, radius, 0, 2 * Math.PI);
    front.fillStyle = pal.shade;
    front.fill();
    front.strokeStyle = pal.rim;
    front.lineWidth = scale;
    front.stroke();
    for (const line of WIREFRAME) {
      strokeLine(line.pts, line.count, frame, radius, cx, cy, true,
        line.equator ? pal.equatorFront : pal.wireFront, (line.equator ? 1.1 : 0.8) * scale, front);
    }
    if (cssSize >= 200) drawTriad(front, frame, scale); // on small multiples the shared camera says it all
    layers.key = key;
    return layers;
  }

  /**
   * Draw a configuration.
   * @param {Float64Array} X  n rows of length d (d >= 3 uses the first three coordinates)
   * @param {number} n
   * @param {number} d
   * @param {string[]} colours  one CSS colour per point
   * @param {object[]} [overlays]  [{kind: "path", points: Float64Array(3m), colour, width}
   *                                | {kind: "marker", at: [x, y, z], colour, size}]
   */
  function draw(X, n, d, colours, overlays) {
    last = [X, n, d, colours, overlays];
    if (!cssSize) return;
    const W = canvas.width, H = canvas.height;
    const scale = W / cssSize;
    const radius = 0.43 * Math.min(W, H);
    const cx = W / 2, cy = H / 2;
    const frame = cameraFrame(camera.elev, camera.azim);
    const { back, front } = wireframeLayers(W, H, frame, radius, cx, cy, scale);
    ctx.clearRect(0, 0, W, H);

    // Back half: wireframe, overlays and points behind the sphere, faded.
    ctx.drawImage(back, 0, 0);
    drawOverlays(overlays, frame, radius, cx, cy, false, scale);
    if (projected.length < 3 * n) { projected = new Float64Array(3 * n); order = new Uint32Array(n); }
    projectPoints(X, n, d, frame, projected);
    for (let i = 0; i < n; i++) order[i] = i;
    const sorted = order.subarray(0, n).sort((a, b) => projected[3 * a + 2] - projected[3 * b + 2]);
    // Dot radius: smaller for many points and on small views (small multiples).
    const viewFactor = Math.max(0.5, Math.min(1.1, cssSize / 340));
    const dot = Math.max(1.2, Math.min(4.2, 3.4 * Math.sqrt(128 / Math.max(n, 1))) * viewFactor) * scale;
    let k = 0;
    for (; k < n && projected[3 * sorted[k] + 2] < 0; k++) {
      const i = sorted[k];
      const depth = projected[3 * i + 2];
      ctx.globalAlpha = 0.28 + 0.22 * (1 + depth);
      ctx.fillStyle = colours[i];
      ctx.beginPath();
      ctx.arc(cx + radius * projected[3 * i], cy - radius * projected[3 * i + 1], dot * (0.72 + 0.1 * (1 + depth)), 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;

    // The disc, the rim and the front wireframe, then the points in front (with a thin outline).
    ctx.drawImage(front, 0, 0);
    ctx.lineWidth = 0.6 * scale;
    ctx.strokeStyle = "rgba(255,255,255,0.7)";
    for (; k < n; k++) {
      const i = sorted[k];
      const depth = projected[3 * i + 2];
      ctx.fillStyle = colours[i];
      ctx.beginPath();
      ctx.arc(cx + radius * projected[3 * i], cy - radius * projected[3 * i + 1], dot * (0.92 + 0.12 * depth), 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    drawOverlays(overlays, frame, radius, cx, cy, true, scale);
  }

  return {
    draw,
    resize,
    destroy() {
      unsubscribe();
      canvas.removeEventListener("pointerdown", onDown);
      canvas.removeEventListener("pointermove", onMove);
      canvas.removeEventListener("pointerup", onUp);
      canvas.removeEventListener("pointercancel", onUp);
      canvas.removeEventListener("keydown", onKey);
    },
  };
}

// --------------------------------------------------------------------------
// Colours: the library's choices (usaav.plotting), so that the live view and
// the printed figure next to it agree.
// --------------------------------------------------------------------------

/** Okabe–Ito colours in usaav.plotting.PALETTE order (colour-blind safe). */
export const PALETTE = Object.freeze({
  blue: "#0072B2",
  vermillion: "#D55E00",
  green: "#009E73",
  orange: "#E69F00",
  purple: "#CC79A7",
  sky: "#56B4E9",
  yellow: "#F0E442",
  black: "#000000",
});

/** Categorical colours for labels with few values (prompt ids): the palette, then two greys. */
export const CATEGORICAL = Object.freeze([
  PALETTE.blue, PALETTE.vermillion, PALETTE.green, PALETTE.orange, PALETTE.purple,
  PALETTE.sky, PALETTE.yellow, PALETTE.black, "#7f7f7f", "#b15928",
]);

// matplotlib's viridis sampled at 9 equally spaced points (the library's default colormap).
const VIRIDIS = [
  [0x44, 0x01, 0x54], [0x47, 0x2d, 0x7b], [0x3b, 0x52, 0x8b], [0x2c, 0x72, 0x8e], [0x21, 0x91, 0x8c],
  [0x28, 0xae, 0x80], [0x5e, 0xc9, 0x62], [0xad, 0xdc, 0x30], [0xfd, 0xe7, 0x25],
];

/** Viridis colour of a number u in [0, 1] (clamped), as "rgb(r,g,b)". */
export function viridis(u) {
  const x = Math.max(0, Math.min(1, Number.isFinite(u) ? u : 0)) * (VIRIDIS.length - 1);
  const k = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - k;
  const c = VIRIDIS[k].map((v, j) => Math.round(v + f * (VIRIDIS[k + 1][j] - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** CSS linear-gradient of viridis, for colour bars. */
export function viridisGradient() {
  const stops = VIRIDIS.map((c, k) => `rgb(${c.join(",")}) ${((100 * k) / (VIRIDIS.length - 1)).toFixed(1)}%`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

/**
 * One CSS colour per point from a colour description.
 *   {kind: "continuous", values, min, max}   viridis over [min, max]
 *   {kind: "categorical", values}            CATEGORICAL[value mod 10]
 *   {kind: "uniform", colour}                one colour
 */
export function pointColours(colour, n) {
  const out = new Array(n);
  if (!colour || colour.kind === "uniform") {
    out.fill((colour && colour.colour) || PALETTE.blue);
    return out;
  }
  const values = colour.values;
  if (colour.kind === "categorical") {
    for (let i = 0; i < n; i++) out[i] = CATEGORICAL[((Math.round(values[i]) % 10) + 10) % 10];
    return out;
  }
  const lo = colour.min ?? 0, hi = colour.max ?? 1;
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < n; i++) out[i] = viridis((values[i] - lo) / span);
  return out;
}
