// Run snippets of Python against the library, for the node tests that compare
// the browser twin with usaav. One Python process per test file (node --test
// runs each file in its own process): it is started by the first call, imports
// NumPy and the library once, and answers every later snippet of the file, in
// order. Starting Python for each snippet cost about half a second each.

import { spawn } from "node:child_process";

import { libraryPython, repositoryRoot } from "./library.mjs";

// The Python side: one JSON request per line ({code, data}), one JSON answer
// per line ({output} with what the snippet printed, or {error} with its
// traceback). Each snippet runs in a fresh namespace holding json, sys, np and
// data; its prints are captured, so the answer line is all the protocol writes.
const SERVER = `
import contextlib, io, json, sys, traceback
import numpy as np
channel = sys.stdout
for line in sys.stdin:
    request = json.loads(line)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(request["code"], {"json": json, "sys": sys, "np": np, "data": request["data"]})
        answer = {"output": printed.getvalue()}
    except BaseException:
        answer = {"error": traceback.format_exc()}
    channel.write(json.dumps(answer) + "\\n")
    channel.flush()
`;

let session = null;

function start() {
  const child = spawn(libraryPython(), ["-c", SERVER], { cwd: repositoryRoot, stdio: ["pipe", "pipe", "pipe"] });
  const state = { child, waiting: [], buffer: "", stderr: "" };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => { state.stderr += chunk; });
  child.stdout.on("data", (chunk) => {
    state.buffer += chunk;
    let end;
    while ((end = state.buffer.indexOf("\n")) >= 0) {
      const line = state.buffer.slice(0, end);
      state.buffer = state.buffer.slice(end + 1);
      state.waiting.shift()(JSON.parse(line));
      if (state.waiting.length === 0) hold(state, false);
    }
  });
  const fail = (why) => {
    for (const answer of state.waiting.splice(0)) {
      answer({ error: `${why} (Python: ${libraryPython()}; set USAAV_PYTHON to a Python with usaav installed)\n${state.stderr}` });
    }
    session = null;
  };
  child.on("error", (error) => fail(`Python could not be started: ${error.message}`));
  child.on("exit", (code, signal) => fail(`Python ended (status ${code}, signal ${signal})`));
  return state;
}

// While an answer is awaited the process keeps node alive; between snippets it
// does not, so a test file ends when its tests do (Python then reads EOF and exits).
function hold(state, on) {
  for (const handle of [state.child, state.child.stdin, state.child.stdout, state.child.stderr]) {
    if (on) handle.ref(); else handle.unref();
  }
}

/**
 * @param {string} code  Python run with `json`, `sys`, `np` (NumPy) and `data` (the input) defined
 * @param {*} [input]  handed to the snippet as `data` (through JSON)
 * @returns {Promise<*>} the JSON the snippet printed
 */
export function python(code, input = null) {
  session ??= start();
  const state = session;
  return new Promise((resolve, reject) => {
    state.waiting.push((answer) => {
      if (answer.error !== undefined) reject(new Error(`the Python snippet failed:\n${answer.error}\n${code}`));
      else resolve(JSON.parse(answer.output));
    });
    hold(state, true);
    state.child.stdin.write(JSON.stringify({ code, data: input }) + "\n");
  });
}
