// The Toeplitz phases of the twin are the library's, bit for bit: modeTurns against
// usaav.kernels.mode_turns on large modes (where 2π·a·k in another order of operations
// differs by ~1e-8 rad), and both against the exact fraction {k·s} computed with
// Python's rational arithmetic (MODEL.md §3, Prop. 10).

import { test } from "node:test";
import assert from "node:assert/strict";

import { modeTurns } from "../../usaav/web/kernels.js";
import { makeRng } from "../../usaav/web/random.js";
import { python } from "./python.mjs";

const rng = makeRng(18);
const cases = Array.from({ length: 400 }, (_, i) => [
  i % 4 === 0 ? i / 400 : rng.uniform(),
  i % 5 === 0 ? 2 ** 24 : Math.floor(1 + rng.uniform() * (2 ** 24 - 1)),
]);

test("modeTurns equals usaav.kernels.mode_turns bitwise, and {k s} to 2^-53, for modes up to 2^24", async () => {
  const library = await python(
    [
      "from fractions import Fraction",
      "from usaav.kernels import mode_turns",
      "out = []",
      "for s, k in data:",
      "    exact = (Fraction(s) * int(k)) % 1",
      "    out.append([float(mode_turns(s, k)), float(exact), float(abs(Fraction(float(mode_turns(s, k))) - exact))])",
      "print(json.dumps(out))",
    ].join("\n"),
    cases,
  );
  cases.forEach(([s, k], i) => {
    const [libraryTurns, , libraryError] = library[i];
    assert.equal(modeTurns(s, k), libraryTurns, `s = ${s}, k = ${k}`);
    assert.ok(libraryError <= 2 ** -53, `s = ${s}, k = ${k}: error ${libraryError}`);
  });
});
