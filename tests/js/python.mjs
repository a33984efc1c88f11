// Run a snippet of Python against the library, for the node tests that
// compare the browser twin with usaav: `data` holds the JSON sent on stdin,
// and the snippet prints its JSON answer.

import { execFileSync } from "node:child_process";

import { libraryPython, repositoryRoot } from "./library.mjs";

/**
 * @param {string} code  Python run after `import json, sys; import numpy as np; data = <stdin JSON>`
 * @param {*} [input]  sent on stdin as JSON
 * @returns {*} the JSON the snippet printed
 */
export function python(code, input = null) {
  const script = `import json, sys\nimport numpy as np\ndata = json.loads(sys.stdin.read())\n${code}`;
  const output = execFileSync(libraryPython(), ["-c", script], {
    cwd: repositoryRoot, input: JSON.stringify(input), encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output);
}
