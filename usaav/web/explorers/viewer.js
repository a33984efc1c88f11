// A configuration computed elsewhere (by the library), on the common sphere
// view: drag or use the arrow keys to turn it.  No dynamics run.
//
// Options (from usaav.explorers.sphere_viewer): X (n rows of 3 numbers),
// values (n numbers or null), title, label (what the colours mean), vmin, vmax.

import { defineExplorer } from "../explorer.js";

export const sphereViewerExplorer = defineExplorer({
  name: "sphere_viewer",
  controls: [],
  setup(values, options) {
    const rows = options.X || [];
    const X0 = Float64Array.from(rows.flat());
    const n = rows.length;
    const colour = options.values
      ? { kind: "continuous", values: Float64Array.from(options.values), min: options.vmin ?? Math.min(...options.values),
        max: options.vmax ?? Math.max(...options.values), label: options.label || "" }
      : { kind: "uniform" };
    if (colour.kind === "continuous") {
      colour.minLabel = Number(colour.min.toPrecision(3));
      colour.maxLabel = Number(colour.max.toPrecision(3));
    }
    return { systems: [{ key: "points", title: options.title || `${n} points`, d: 3, X0, colour }] };
  },
});
