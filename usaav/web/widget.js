// The anywidget entry point: the default export holds `render`.  The same render
// runs in JupyterLab, Notebook 7, VS Code and Colab (usaav.explorers.bundle
// bundles this file and its imports into the widget's ES module) and on the
// book's static pages (loader.js, bundled by usaav.explorers.classic_bundle).

import { explorerNames, renderExplorer, runExplorerHeadless } from "./render.js";

// anywidget reads `render`; the other two let node run the very bundle the widget ships.
export default { render: renderExplorer, runHeadless: runExplorerHeadless, names: explorerNames };
