// Chapter 7: metastability (Thm. 5; MODEL.md §4 Thm. 5 row, §6 App. C).
// k clusters of 20 tokens start in caps of radius 0.05 around centres on the
// great circle of the (x₁, x₃)-plane, neighbouring centres Δ apart.  The
// kernel is the baseline in the rescaled clock t' = e^β t, where a cluster
// attracts itself with weight ≈ 1 and another cluster at angle Δ with
// e^{−β(1−cos Δ)}: each cluster contracts at once, the clusters then sit
// still for a long time, and the first merger T₁ (two centres within 0.1 rad)
// comes exponentially late in β.  The chart shows the angles between centres
// against log t', with T₁ and the prediction of the reduced k-point flow
// (usaav.experiments.metastability).  The exponent c = 1 − cos Δ₀ of
// T₁ ≈ e^{cβ} is this book's reconstruction from the paper's statements.

import { defineExplorer } from "../explorer.js";
import { sliderControl } from "../controls.js";
import { bindKernel } from "../kernels.js";
import { createSimulation } from "../integrate.js";
import { makeRng } from "../random.js";
import { normalizeRows } from "../sphere.js";
import { CATEGORICAL } from "../view.js";

const CLUSTER_SIZE = 20;
const CAP_RADIUS = 0.05;
const MERGE_ANGLE = 0.1;
/** Heun step in the rescaled clock, as in MODEL.md §6 (App. C check). */
const META_DT = 0.05;
/** Longest rescaled time simulated when no merger comes (far beyond every setting of the sliders). */
const META_T_LIMIT = 5000;

/**
 * Centres on the great circle of the (x₁, x₃)-plane, symmetric about e₃,
 * consecutive ones `separation` apart (usaav.experiments.cluster_centres).
 *
 * @returns {Float64Array} k*3
 */
export function clusterCentres(k, separation) {
  const angles = Array.from({ length: k }, (_, a) => a * separation);
  const mean = angles.reduce((x, y) => x + y, 0) / k;
  const out = new Float64Array(3 * k);
  angles.forEach((angle, a) => {
    out[3 * a] = Math.sin(angle - mean);
    out[3 * a + 2] = Math.cos(angle - mean);
  });
  return out;
}

/**
 * m points uniform in the spherical cap of geodesic radius `radius` about the
 * unit `centre` (usaav.experiments.cap_sample): the height cos∠(x, c) uniform
 * on [cos r, 1] (Archimedes), the azimuth uniform, and the cap around e₃
 * moved to the centre by the reflection exchanging e₃ and c.
 */
export function capSample(centre, radius, m, rng, out = new Float64Array(3 * m)) {
  const w = [-centre[0], -centre[1], 1 - centre[2]];
  const norm = Math.hypot(...w);
  for (let i = 0; i < m; i++) {
    const height = Math.cos(radius) + (1 - Math.cos(radius)) * rng.uniform();
    const azimuth = 2 * Math.PI * rng.uniform();
    const ring = Math.sqrt(Math.max(1 - height * height, 0));
    const local = [ring * Math.cos(azimuth), ring * Math.sin(azimuth), height];
    if (norm < 1e-12) {
      out.set(local, 3 * i);
      continue;
    }
    const along = (2 * (local[0] * w[0] + local[1] * w[1] + local[2] * w[2])) / (norm * norm);
    for (let c = 0; c < 3; c++) out[3 * i + c] = local[c] - along * w[c];
  }
  return out;
}

/** Angle between unit vectors, accurate for small angles: 2 arcsin(|a − b|/2). */
function unitAngle(a, ia, b, ib) {
  const distance = Math.hypot(a[ia] - b[ib], a[ia + 1] - b[ib + 1], a[ia + 2] - b[ib + 2]);
  return 2 * Math.asin(Math.min(1, distance / 2));
}

/** Normalised means of k consecutive blocks of rows (the cluster centres). */
export function blockCentres(X, k, size) {
  const C = new Float64Array(3 * k);
  for (let a = 0; a < k; a++) {
    for (let i = a * size; i < (a + 1) * size; i++) for (let c = 0; c < 3; c++) C[3 * a + c] += X[3 * i + c];
  }
  return normalizeRows(C, k, 3);
}

/** The largest cluster diameter max_a max_{i,j ∈ C_a} |x_i − x_j| (Thm. 5 (1): it contracts exponentially). */
export function largestClusterDiameter(X, k, size) {
  let largest = 0;
  for (let a = 0; a < k; a++) {
    for (let i = a * size; i < (a + 1) * size; i++) {
      for (let j = i + 1; j < (a + 1) * size; j++) {
        largest = Math.max(largest, Math.hypot(X[3 * i] - X[3 * j], X[3 * i + 1] - X[3 * j + 1], X[3 * i + 2] - X[3 * j + 2]));
      }
    }
  }
  return largest;
}

/** Angles between the centres, pairs (0,1), (0,2), ..., (1,2), ... as in the library. */
export function pairAngles(C, k) {
  const out = [];
  for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) out.push(unitAngle(C, 3 * a, C, 3 * b));
  return out;
}

/**
 * First time the smallest pair angle of the stepped points crosses MERGE_ANGLE,
 * linearly interpolated between steps (NaN if not before tLimit).
 */
function firstMerger(simulation, centresOf, k, tLimit) {
  let previous = Math.min(...pairAngles(centresOf(simulation.X), k));
  while (simulation.t < tLimit - 1e-9) {
    simulation.step(1);
    const current = Math.min(...pairAngles(centresOf(simulation.X), k));
    if (current < MERGE_ANGLE) return simulation.t - simulation.dt + (simulation.dt * (previous - MERGE_ANGLE)) / (previous - current);
    previous = current;
  }
  return NaN;
}

/**
 * T₁ of the reduced flow of two equal point clusters (usaav.reduced.reduced_merger_time):
 * T₁ = ∫_δ^{Δ₀} e^{β(1−cos Δ)} / sin Δ dΔ, from Δ' = −e^{−β(1−cos Δ)} sin Δ; Simpson's rule.
 */
export function reducedMergerTime(beta, angle, mergeAngle = MERGE_ANGLE, intervals = 2000) {
  if (angle <= mergeAngle) return 0;
  const f = (x) => Math.exp(beta * (1 - Math.cos(x))) / Math.sin(x);
  const h = (angle - mergeAngle) / intervals;
  let sum = f(mergeAngle) + f(angle);
  for (let j = 1; j < intervals; j++) sum += (j % 2 ? 4 : 2) * f(mergeAngle + j * h);
  return (sum * h) / 3;
}

/**
 * The angles between cluster centres along the animated run, recorded at
 * every step (the framework samples the diameter chart every step, and its
 * series calls `observe`), and the first merger T₁, interpolated linearly
 * between two steps as in the library.  Recording is idempotent in t, so
 * redraws (a turned camera) add nothing.
 */
export function createMergerRecorder(k) {
  const t = [];
  const angles = [];
  let T1 = NaN;
  return {
    t,
    angles,
    get T1() { return T1; },
    observe(time, X) {
      if (t.length && time <= t[t.length - 1]) return;
      const now = pairAngles(blockCentres(X, k, CLUSTER_SIZE), k);
      if (Number.isNaN(T1) && t.length) {
        const previous = Math.min(...angles[angles.length - 1]), current = Math.min(...now);
        if (current < MERGE_ANGLE) {
          const last = t[t.length - 1];
          T1 = last + ((time - last) * (previous - MERGE_ANGLE)) / (previous - current);
        }
      }
      t.push(time);
      angles.push(now);
    },
  };
}

/**
 * The clustered start and the reduced k-point flow's first merger (Thm. 5 (3)):
 * the quadrature above for two clusters, the flow of the k centres otherwise.
 */
export function metastabilityStart(beta, gap, k, seed = 0) {
  const rng = makeRng(seed);
  const centres = clusterCentres(k, gap);
  const n = k * CLUSTER_SIZE;
  const X0 = new Float64Array(3 * n);
  for (let a = 0; a < k; a++) {
    capSample(centres.subarray(3 * a, 3 * a + 3), CAP_RADIUS, CLUSTER_SIZE, rng, X0.subarray(3 * CLUSTER_SIZE * a, 3 * CLUSTER_SIZE * (a + 1)));
  }
  const start = blockCentres(X0, k, CLUSTER_SIZE);
  let reduced;
  if (k === 2) {
    reduced = reducedMergerTime(beta, pairAngles(start, 2)[0]);
  } else {
    const points = createSimulation({ interaction: bindKernel({ type: "usa", beta, aux: Array(k).fill(0) }, k, 3), X0: start, dt: META_DT, clock: "rescaled" });
    reduced = firstMerger(points, (X) => X, k, META_T_LIMIT);
  }
  // Run on past the predicted merger to show the plateau after the step (as the library's run).
  const tEnd = Number.isFinite(reduced) ? Math.min(META_T_LIMIT, 1.25 * reduced + 2) : META_T_LIMIT;
  return { spec: { type: "usa", beta, aux: Array(n).fill(0) }, X0, n, reduced, tEnd, delta0: Math.min(...pairAngles(start, k)) };
}

const metastabilityExtra = (run) => run.systems[0].extra;
/** The recorder, brought up to the current frame (readouts and the chart both call this). */
function metastabilityRecorder(run) {
  const system = run.systems[0];
  system.extra.recorder.observe(run.t, system.X);
  return system.extra.recorder;
}

export const metastabilityExplorer = defineExplorer({
  name: "metastability",
  title: "Metastability: clusters wait exponentially long in β before they merge",
  controls: [
    sliderControl("beta", "β", { min: 2, max: 10, step: 1, value: 6, integer: true }),
    sliderControl("gap", "gap Δ (rad)", { min: 0.6, max: 1.2, step: 0.1, value: 1, format: (v) => v.toFixed(1) }),
    sliderControl("clusters", "clusters k", { min: 2, max: 3, step: 1, value: 2, integer: true }),
  ],
  setup({ beta, gap, clusters }, options) {
    const start = metastabilityStart(beta, gap, clusters, options.seed ?? 0);
    const ids = Array.from({ length: start.n }, (_, i) => Math.floor(i / CLUSTER_SIZE));
    return {
      systems: [{
        key: "clusters",
        title: `${clusters} clusters, β = ${beta}, Δ = ${gap.toFixed(1)}`,
        spec: start.spec,
        X0: start.X0,
        colour: { kind: "categorical", values: ids, label: "cluster", names: Array.from({ length: clusters }, (_, a) => String(a + 1)) },
        extra: { ...start, recorder: createMergerRecorder(clusters) },
      }],
      dt: META_DT,
      sampleDt: META_DT,
      clock: "rescaled",
      tMax: start.tEnd,
      // About eight seconds to the end, and at least one step per frame at 60 frames per second
      // (the loop steps towards t + speed × frame time, so a slower speed would never step).
      speed: Math.max(start.tEnd / 8, 60 * META_DT),
    };
  },
  readouts: [
    { key: "T1", label: "first merger T₁ (rescaled clock)", digits: 2, value: (run) => (Number.isFinite(metastabilityRecorder(run).T1) ? metastabilityRecorder(run).T1 : "not yet") },
    { key: "reduced", label: "reduced k-point flow predicts", digits: 2, value: (run) => metastabilityExtra(run).reduced },
    { key: "exponent", label: "β(1 − cos Δ₀)", digits: 2, value: (run) => run.values.beta * (1 - Math.cos(metastabilityExtra(run).delta0)) },
    {
      key: "c",
      label: "exponent c = 1 − cos Δ₀ in T₁ ≈ exp(cβ): this book's reconstruction from the paper's statements",
      digits: 3,
      value: (run) => 1 - Math.cos(metastabilityExtra(run).delta0),
    },
  ],
  charts: [{
    key: "diameter",
    label: "the largest cluster diameter against the rescaled time, logarithmic axis",
    yLabel: "diameter",
    xLabel: "t′",
    log: true,
    yMin: 1e-8,
    yMax: 2,
    series: [{
      label: "largest cluster diameter",
      colour: "#555555",
      width: 1.8,
      value: (run) => {
        metastabilityRecorder(run);  // every sampled step: the merger time below is exact to one step
        return largestClusterDiameter(run.systems[0].X, run.values.clusters, CLUSTER_SIZE);
      },
    }],
  }],
  panels: [{
    key: "angles",
    kind: "lines",
    label: "angles between cluster centres against the rescaled time on a logarithmic axis, with the first merger and the reduced-flow prediction",
    xLabel: "rescaled time t′ (log)",
    yLabel: "angle (rad)",
    data(run) {
      const result = metastabilityExtra(run);
      const recorder = metastabilityRecorder(run);
      const pairs = recorder.angles[0].length;
      const names = [];
      for (let a = 0; a < run.values.clusters; a++) for (let b = a + 1; b < run.values.clusters; b++) names.push(`centres ${a + 1}–${b + 1}`);
      return {
        xLog: true,
        xMin: META_DT,
        xMax: result.tEnd,
        yMin: 0,
        yMax: Math.max(...recorder.angles[0]) * 1.1,
        series: Array.from({ length: pairs }, (_, p) => ({
          label: names[p],
          colour: CATEGORICAL[(p + 3) % CATEGORICAL.length],
          x: recorder.t,
          y: recorder.angles.map((a) => a[p]),
        })),
        vlines: [
          { x: result.reduced, colour: "rgba(60,60,60,0.95)", dash: [2, 3], label: "reduced flow" },
          ...(Number.isFinite(recorder.T1) ? [{ x: recorder.T1, colour: CATEGORICAL[3], dash: [6, 3], label: "first merger T₁" }] : []),
        ],
        hlines: [{ y: MERGE_ANGLE, colour: "rgba(128,128,128,0.8)", dash: [1, 3], label: "merger at 0.1 rad" }],
      };
    },
  }],
});
