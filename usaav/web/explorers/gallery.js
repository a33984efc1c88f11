// Chapter 2: what each kernel does to the same cloud (MODEL.md §3, §6.2).
// The six scenarios of usaav.scenarios, with the table's parameters and the
// reader's β, share one initial cloud and one camera (turn one, all turn);
// the clouds move together, and a chart follows each collapse gap.

import { defineExplorer } from "../explorer.js";
import { choiceControl } from "../controls.js";
import { collapseGap } from "../observables.js";
import { makeRng } from "../random.js";
import { uniformSphere } from "../sphere.js";
import {
  SCENARIO_LABELS,
  SERIES_COLOURS,
  betaControl,
  gapChart,
  rawClockStep,
  scenarioSystem,
  seedControl,
  tokensControl,
} from "./common.js";

const systemGap = (key) => (run) => collapseGap(run.byKey[key].X, run.byKey[key].n, 3);

export const kernelGalleryExplorer = defineExplorer({
  name: "kernel_gallery",
  title: "Six kernels, one initial cloud",
  columns: 3,
  wide: true,
  controls: [
    betaControl({ min: 0.5, max: 6, step: 0.5, value: 2 }),
    tokensControl({ min: 24, max: 240, step: 24, value: 96 }),
    seedControl(20),
    choiceControl("t_max", "run to T", [[5, "5"], [10, "10"], [20, "20"], [40, "40"]], 10),
  ],
  setup({ beta, n, seed, t_max: tMax }, options) {
    const rng = makeRng(seed);
    const X0 = uniformSphere(n, 3, rng);
    const systems = SCENARIO_LABELS.map(({ key, name }) => {
      const { spec, colour } = scenarioSystem(options, key, n, { beta, rng });
      return { key, title: name, d: 3, X0, spec, colour };
    });
    return { systems, dt: rawClockStep(beta), clock: "raw", tMax, speed: tMax / 6 };
  },
  readouts: SCENARIO_LABELS.map(({ key, name }) => ({ key, label: `Γ ${name}`, value: systemGap(key) })),
  charts: [gapChart("gaps", "collapse gap of each kernel against time, logarithmic axis", "Γ",
    SCENARIO_LABELS.map(({ key, name }, k) => ({ label: name, colour: SERIES_COLOURS[k], width: 1.6, value: systemGap(key) })))],
});
