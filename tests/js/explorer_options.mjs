// The options the Python constructors of usaav.explorers pass to the browser
// (control values, the scenario table of usaav.scenarios.as_json() and the
// explorer's overrides): the node tests run the explorers with exactly what
// a page or a notebook would receive.

import { python } from "./python.mjs";

/**
 * Options of `usaav.explorers.<name>(**kwargs)` for each request, in one Python run.
 *
 * @param {Array<[string, object]>} requests  [constructor name, keyword arguments]
 * @returns {Promise<object[]>} the options, in order
 */
export function constructorOptions(requests) {
  return python(`
from usaav import explorers
print(json.dumps([getattr(explorers, name)(**kwargs).options for name, kwargs in data]))`, requests);
}

/** A small configuration for sphere_viewer, the one constructor without defaults. */
export const VIEWER_ARGUMENTS = Object.freeze({ X: [[0, 0, 1], [1, 0, 0], [0, 1, 0]], values: [0, 0.5, 1], label: "s" });

/** Default options of every explorer in `names` (sphere_viewer with a three-point configuration). */
export async function defaultOptions(names) {
  const options = await constructorOptions(names.map((name) => [name, name === "sphere_viewer" ? VIEWER_ARGUMENTS : {}]));
  return Object.fromEntries(names.map((name, k) => [name, options[k]]));
}
