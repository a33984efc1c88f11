// Chapter 2: what each kernel does to the same cloud (MODEL.md §3, §6.2).
// Six spheres share one initial cloud, one β and one camera (turn one, all
// turn); the clouds move together, and a chart follows each collapse gap.

import { defineExplorer } from "../explorer.js";
import { choiceControl, sliderControl } from "../controls.js";
import { collapseGap } from "../observables.js";
import { makeRng } from "../random.js";
import { uniformSphere } from "../sphere.js";
import { SERIES_COLOURS, gapChart, rawClockStep } from "./common.js";
import { BOOK_GALLERY, bookScenario } from "./scenarios.js";

const systemGap = (key) => (run) => collapseGap(run.byKey[key].X, run.byKey[key].n, 3);

export const kernelGalleryExplorer = defineExplorer({
  name: "kernel_gallery",
  title: "Six kernels, one initial cloud",
  columns: 3,
  wide: true,
  controls: [
    sliderControl("beta", "β", { min: 0.5, max: 6, step: 0.5, value: 2, format: (v) => v.toFixed(1) }),
    sliderControl("n", "tokens n", { min: 24, max: 240, step: 24, value: 96, integer: true }),
    sliderControl("seed", "seed", { min: 0, max: 20, step: 1, value: 0, integer: true }),
    choiceControl("t_max", "run to T", [[5, "5"], [10, "10"], [20, "20"], [40, "40"]], 10),
  ],
  setup({ beta, n, seed, t_max: tMax }) {
    const rng = makeRng(seed);
    const X0 = uniformSphere(n, 3, rng);
    const systems = BOOK_GALLERY.map((name) => ({ key: name, title: name, d: 3, X0, ...bookScenario(name, beta, n, rng) }));
    return { systems, dt: rawClockStep(beta), clock: "raw", tMax, speed: tMax / 6 };
  },
  readouts: BOOK_GALLERY.map((name) => ({ key: name, label: `Γ ${name}`, value: systemGap(name) })),
  charts: [gapChart("gaps", "collapse gap of each kernel against time, logarithmic axis", "Γ", 
    BOOK_GALLERY.map((name, k) => ({ label: name, colour: SERIES_COLOURS[k], width: 1.6, value: systemGap(name) })))],
});
