// Milliseconds per projected Heun step of the browser twin (node), d = 3.
//
//   node benchmarks/bench_twin.mjs [d]
//
// Baseline, measured in the same run: a bare loop of as many Math.exp calls
// as one Heun step of an exponential kernel needs (two field evaluations of
// n(n+1)/2 pairs each, the symmetric evaluation of MODEL.md §3), so the ratio
// is the overhead of everything else (gauge frame, weights, accumulation,
// projection, renormalisation). Each repeat of a kernel is paired with a
// repeat of the baseline timed just before it, and the median of the paired
// ratios is reported: on a shared machine compare ratios, not milliseconds.

import { bindKernel, generalizedRopeGauges, ropeSpec } from "../usaav/web/kernels.js";
import { heunStep, heunWorkspace, vectorField } from "../usaav/web/integrate.js";
import { haarRotations, makeRng } from "../usaav/web/random.js";
import { uniformSphere } from "../usaav/web/sphere.js";

const d = Number(process.argv[2] ?? 3);
const SIZES = [64, 128, 256];
const REPEATS = 9;
const MIN_MS = 60;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds per call of `run`, over a stretch of at least MIN_MS. */
function perCall(run) {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    run();
    calls++;
    elapsed = performance.now() - start;
  }
  return elapsed / calls;
}

/**
 * Median ms per call of `run` and median ratio to `baseline`, the two timed
 * alternately so that both see the same load (the machine may be shared).
 */
function timeAgainst(run, baseline) {
  for (let k = 0; k < 20; k++) {
    run(); // warm up (JIT)
    baseline();
  }
  const ms = [];
  const ratios = [];
  for (let r = 0; r < REPEATS; r++) {
    const reference = perCall(baseline);
    const value = perCall(run);
    ms.push(value);
    ratios.push(value / reference);
  }
  return { ms: median(ms), ratio: median(ratios) };
}

function bareExps(count) {
  let sink = 0;
  return () => {
    let x = -0.5;
    for (let k = 0; k < count; k++) {
      sink += Math.exp(x);
      x = x > -2 ? x - 1e-6 : -0.5;
    }
    return sink;
  };
}

function specsFor(n) {
  const rng = makeRng(n);
  const positions = Array.from({ length: n }, (_, i) => i / n);
  return {
    usa: { type: "usa", beta: 1, aux: positions },
    rope: ropeSpec(1, 2 * Math.PI, positions),
    "generalized rope": { type: "gauge", beta: 1, gauges: d >= 3 ? generalizedRopeGauges(positions, 0.5, 3, d) : null, aux: positions },
    prompts: { type: "prompts", beta: 1, gauges: haarRotations(5, d, rng), aux: positions.map((_, i) => i % 5) },
    "distance bias": { type: "distance_bias", beta: 1, length: 0.25, aux: positions },
    separated: {
      type: "separated",
      beta: 1,
      weights: Float64Array.from({ length: n * n }, (_, k) => 1 + Math.cos(2 * Math.PI * (positions[Math.floor(k / n)] - positions[k % n]))),
      aux: positions,
    },
    toeplitz: { type: "toeplitz", coefficients: { 0: 0.2, 2: 1 }, aux: positions },
  };
}

const rows = [];
for (const n of SIZES) {
  const baseline = bareExps(n * (n + 1));
  rows.push({ n, kernel: "bare exp baseline", ...timeAgainst(baseline, baseline) });
  for (const [name, spec] of Object.entries(specsFor(n))) {
    if (spec.gauges === null) continue;
    const interaction = bindKernel(spec, n, d);
    const field = vectorField(interaction);
    const X = uniformSphere(n, d, makeRng(1));
    const work = heunWorkspace(n, d);
    // Small steps keep the state generic (no collapse) during the timing.
    rows.push({ n, kernel: name, ...timeAgainst(() => heunStep(field, X, 1e-4, n, d, work), baseline) });
  }
}

console.log(`Projected Heun step of the twin, d = ${d}, node ${process.version}`);
const bare = rows.find((row) => row.n === SIZES.at(-1) && row.kernel.startsWith("bare"));
const nsPerExp = (bare.ms * 1e6) / (bare.n * (bare.n + 1));
console.log(`Math.exp costs ${nsPerExp.toFixed(1)} ns in this run; the ms scale with it, the ratios do not.`);
console.log("n".padStart(4), "kernel".padEnd(18), "ms/step".padStart(9), "× bare exps".padStart(12), "steps per 33 ms frame".padStart(22));
for (const { n, kernel, ms, ratio } of rows) {
  console.log(
    String(n).padStart(4),
    kernel.padEnd(18),
    ms.toFixed(3).padStart(9),
    ratio.toFixed(2).padStart(12),
    (kernel.startsWith("bare") ? "" : String(Math.floor(33 / ms))).padStart(22),
  );
}
