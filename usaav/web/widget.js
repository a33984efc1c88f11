// The anywidget entry point: the default export holds `render`.  The same render
// runs in JupyterLab, Notebook 7, VS Code and Colab (usaav.explorers bundles
// this file and its imports into the widget's ES module) and on the book's
// static pages (loader.js calls it with a small model shim).
//
// The model carries: name (explorer name), options (control values and data
// from Python), sync_state (false on static pages).  The explorer writes its
// state (X, aux, kernel spec, t per system) to the `snapshot` trait when the
// animation pauses or ends and every STATE_INTERVAL_S while it runs, never per
// frame; Python reads it with Explorer.state().

import { mountExplorer, runHeadless } from "./explorer.js";
import { EXPLORERS } from "./explorers/index.js";

/** Put what went wrong where the explorer would be (and on the console, for whoever debugs it). */
function showFailure(el, err) {
  const note = document.createElement("p");
  note.className = "usaav-x-error";
  note.setAttribute("role", "alert");
  note.textContent = `This explorer could not start: ${err && err.message ? err.message : String(err)}`;
  el.replaceChildren(note);
  console.error(err);
}

function renderExplorer({ model, el }) {
  const syncState = model.get("sync_state") !== false;
  let mounted;
  try {
    mounted = mountExplorer(el, EXPLORERS.get(model.get("name")), {
      options: model.get("options") || {},
      onState: syncState
        ? (snapshot) => {
          model.set("snapshot", snapshot);
          model.save_changes();
        }
        : null,
    });
  } catch (err) {
    showFailure(el, err);
    return undefined;
  }
  return () => mounted.destroy();
}

/** Run an explorer without a page: its state and readouts at time tEnd (tests; explorer.runHeadless). */
function runExplorerHeadless(name, options = {}, tEnd = 0) {
  return runHeadless(EXPLORERS.get(name), options, tEnd);
}

// anywidget reads `render`; the other two let node run the very bundle the widget ships.
export default { render: renderExplorer, runHeadless: runExplorerHeadless, names: () => EXPLORERS.names() };
