// formula.js against usaav/formula.py: the same formulas give the same
// values and the same error messages (the character position included).
//
// The Python side runs in the repository's virtual environment (or
// $USAAV_PYTHON), fed the JavaScript inputs as JSON on stdin.

import { test } from "node:test";
import assert from "node:assert/strict";

import { formulaValues, parseFormula } from "../../usaav/web/formula.js";
import { python } from "./python.mjs";

function assertClose(actual, expected, tolerance, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let k = 0; k < expected.length; k++) {
    const error = Math.abs(actual[k] - expected[k]);
    assert.ok(error <= tolerance, `${what}[${k}]: ${actual[k]} vs Python ${expected[k]} (|Δ| = ${error} > ${tolerance})`);
  }
}

const S_GRID = Array.from({ length: 101 }, (_, k) => 0.0005 + (0.999 * k) / 100);

const FORMULAS = [
  "2*s + 1", "1 - 2 - 3 + 0*s", "8 / 2 / 2 + 0*s", "-2**2 + 0*s", "2**3**2 + 0*s", "2**-1 + s",
  "s^2 - -s", "pi * (2*s - 1)**3", "π*s", "sin(pi*s)**2 + cos(pi*s)**2", "atan2(s, 1 - s) + clip(s, 0.2, 0.6)",
  "max(s, 0.5) * min(s, 0.5) + exp(-s) + log(s) + sqrt(s)", "1.5e-1 + .5 + 2. + 0*s", "3",
  "tanh(5*(s - 0.5)) * arcsin(2*s - 1) + floor(4*s) - ceil(3*s) + sign(s - 0.5) + abs(s - 0.3)",
  "sinh(s) / cosh(s) - tan(s) + arccos(s) + arctan(s) + asin(s) + acos(s) + atan(s) + minimum(s, 0.2) + maximum(s, 0.9)",
  "  \t pi*(2*s-1)  ",
];

test("formula values agree with the Python parser on a grid of s", async () => {
  const expected = await python(`
from usaav.formula import parse_formula
print(json.dumps([parse_formula(t)(np.array(data["s"])).tolist() for t in data["formulas"]]))`,
  { s: S_GRID, formulas: FORMULAS });
  FORMULAS.forEach((text, k) => {
    // Both sides use IEEE double arithmetic; libm and V8 may differ in the last bit of sin, exp, pow.
    assertClose(formulaValues(parseFormula(text), S_GRID), expected[k], 1e-13 * 600, text);
  });
});

const BROKEN = [
  '__import__("os")', "s.__class__", "().__class__", "exec('1')", "lambda: s", "s; s", "(s", "pi*(2*s",
  "s)", "sin(s", "sin s", "sin(s, s)", "s **", "2 s", "1e999 * s", "(".repeat(45) + "s" + ")".repeat(45),
  "-".repeat(45) + "s", "", "   ", "s".repeat(201), "foo(s)", "s @ s", "0x10", "é", "s + 'a'", "clip(s, 0)",
  "s\u00a0+ 1", "٣ + s", "s + \u{1F600}", "\u{1F600} + (s", "(\u{1F600}"
];

test("broken and hostile formulas get the same message as in Python", async () => {
  const expected = await python(`
from usaav.formula import parse_formula
out = []
for text in data:
    try:
        parse_formula(text)
        out.append(None)
    except ValueError as error:
        out.append(str(error))
print(json.dumps(out))`, BROKEN);
  BROKEN.forEach((text, k) => {
    assert.notEqual(expected[k], null, `Python accepted ${JSON.stringify(text)}`);
    assert.throws(() => parseFormula(text), (error) => error.message === expected[k],
      `JS message for ${JSON.stringify(text)} should be ${expected[k]}`);
  });
});

test("a formula that is not a string is a TypeError", async () => {
  assert.throws(() => parseFormula(3), TypeError);
});
