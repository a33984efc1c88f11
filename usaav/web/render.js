// Render an explorer into an element from an anywidget-style model: the one
// render shared by the notebook widget (widget.js, the anywidget entry) and
// the static pages (loader.js, the classic script's entry).
//
// The model carries: name (explorer name), options (control values and data
// from Python), sync_state (false on static pages).  The explorer writes its
// state (X, aux, kernel spec, t per system) to the `snapshot` trait when the
// animation pauses or ends and every STATE_INTERVAL_S while it runs, never per
// frame; Python reads it with Explorer.state().

import { runHeadless } from "./explorer.js";
import { EXPLORERS } from "./explorers/index.js";
import { mountExplorer } from "./mount.js";

/** Put what went wrong where the explorer would be (and on the console, for whoever debugs it). */
function showFailure(el, err) {
  const note = document.createElement("p");
  note.className = "usaav-x-error";
  note.setAttribute("role", "alert");
  note.textContent = `This explorer could not start: ${err && err.message ? err.message : String(err)}`;
  el.replaceChildren(note);
  console.error(err);
}

/** anywidget's render({model, el}): mount the explorer the model names; returns its clean-up. */
export function renderExplorer({ model, el }) {
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
export function runExplorerHeadless(name, options = {}, tEnd = 0) {
  return runHeadless(EXPLORERS.get(name), options, tEnd);
}

/** The names of every explorer of the book. */
export function explorerNames() {
  return EXPLORERS.names();
}
