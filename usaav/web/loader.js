// Static pages: turn every explorer placeholder into the live explorer.
//
// Python's Explorer._repr_mimebundle_ writes, as text/html,
//   <div class="usaav-explorer" data-usaav-explorer='{"name": ..., "options": {...}}'>fallback</div>
// The book serves this module and its imports as one classic script
// (usaav.explorers.classic_bundle, _static/usaav-web/usaav-explorers.js), so
// that it also runs from file://, where browsers refuse ES-module imports.
// It calls the same render as the notebook widget, with a model shim that
// keeps the traits in memory (there is no kernel to talk to), and defines
// window.usaavExplorers = {mountPlaceholders(root), names()} for pages that
// add placeholders later (the slides).

import { explorerNames, renderExplorer } from "./render.js";

/** A minimal anywidget model: get/set/on/off/save_changes on a plain object. */
export function staticModel(config) {
  const traits = { name: config.name, options: config.options || {}, snapshot: {}, sync_state: false };
  const listeners = new Map();
  return {
    get: (key) => traits[key],
    set(key, value) {
      traits[key] = value;
      (listeners.get(`change:${key}`) || []).forEach((fn) => fn());
    },
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(fn);
    },
    off(event, fn) {
      if (!listeners.has(event)) return;
      listeners.set(event, fn ? listeners.get(event).filter((f) => f !== fn) : []);
    },
    save_changes() {},
  };
}

/**
 * Mount every placeholder under `root` not mounted yet; returns how many were
 * mounted.  One placeholder that cannot be read or started says so in place
 * and leaves the others running.  Until this module runs (JavaScript off, a
 * module that failed to load), each placeholder shows its fallback text and
 * the page its print figures.
 */
export function mountPlaceholders(root = document) {
  let count = 0;
  for (const el of root.querySelectorAll(".usaav-explorer[data-usaav-explorer]")) {
    if (el.dataset.usaavMounted) continue;
    el.dataset.usaavMounted = "true";
    let config;
    try {
      config = JSON.parse(el.dataset.usaavExplorer);
    } catch (err) {
      el.textContent = `This explorer could not be read: ${err.message}`;
      continue;
    }
    renderExplorer({ model: staticModel(config), el });
    if (el.querySelector(".usaav-x")) count += 1;
  }
  if (count) document.documentElement.classList.add("usaav-live");
  return count;
}

if (typeof window !== "undefined") {
  window.usaavExplorers = Object.freeze({ mountPlaceholders, names: explorerNames });
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => mountPlaceholders());
  } else {
    mountPlaceholders();
  }
}
