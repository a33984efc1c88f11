// Every explorer of the book, by name (the name the Python constructors in
// usaav/explorers.py pass to the widget).  One import per line, sorted, so
// that two branches adding explorers merge without conflict.

import { explorerRegistry } from "../explorer.js";
import { collapseExplorer } from "./collapse.js";
import { kernelGalleryExplorer } from "./gallery.js";
import { scenarioKnobExplorer } from "./knob.js";
import { collapseLayersExplorer } from "./layers.js";
import { sphereViewerExplorer } from "./viewer.js";

export const EXPLORERS = explorerRegistry([
  collapseExplorer,
  kernelGalleryExplorer,
  collapseLayersExplorer,
  scenarioKnobExplorer,
  sphereViewerExplorer,
]);
