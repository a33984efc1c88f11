// Runs the Python library's reference fixture (library_fixture.py) once and
// returns its JSON. Python is found as $USAAV_PYTHON, else the repository's
// .venv/bin/python, else python3 on the PATH.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repositoryRoot = join(here, "..", "..");

export function libraryPython() {
  if (process.env.USAAV_PYTHON) return process.env.USAAV_PYTHON;
  const venv = join(repositoryRoot, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

/**
 * @param {object} request  sent on stdin as JSON (e.g. {jsSpecs: [...]})
 * @returns {object} the fixture's JSON document
 */
export function runLibraryFixture(request = {}) {
  const python = libraryPython();
  const result = spawnSync(python, [join(here, "library_fixture.py")], {
    cwd: repositoryRoot,
    input: JSON.stringify(request),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `the library fixture failed with ${python} (set USAAV_PYTHON to a Python with usaav installed): ` +
        `${result.error ?? ""}\n${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout);
}
