// Every explorer of the book, by name (the name the Python constructors in
// of usaav.explorers pass to the widget).  One import per line, sorted, so
// that two branches adding explorers merge without conflict.

import { explorerRegistry } from "../explorer.js";
import { baselineCollapseExplorer, collapseExplorer } from "./collapse.js";
import { kernelGalleryExplorer } from "./gallery.js";
import { scenarioKnobExplorer } from "./knob.js";
import { latitudeExplorer } from "./latitude.js";
import { collapseLayersExplorer } from "./layers.js";
import { metastabilityExplorer } from "./metastability.js";
import { orbitLawExplorer } from "./orbit_law.js";
import { promptLawExplorer } from "./prompt_law.js";
import { promptsExplorer } from "./prompts.js";
import { toeplitzExplorer } from "./toeplitz.js";
import { sphereViewerExplorer } from "./viewer.js";

export const EXPLORERS = explorerRegistry([
  baselineCollapseExplorer,
  collapseExplorer,
  kernelGalleryExplorer,
  collapseLayersExplorer,
  scenarioKnobExplorer,
  sphereViewerExplorer,
  latitudeExplorer,
  orbitLawExplorer,
  promptLawExplorer,
  promptsExplorer,
  toeplitzExplorer,
  metastabilityExplorer,
]);
