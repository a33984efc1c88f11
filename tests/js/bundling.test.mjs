// The bundle rules of usaav/web/README.md, for every .js file under usaav/web
// (including the explorers' modules added later; the static page's entry
// loader.js excepted): unique top-level names,
// only named relative imports of sibling files that export those names, no
// code that runs at import. Every module must also load in node without a DOM.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { repositoryRoot } from "./library.mjs";
import { scanModule } from "./module_scan.mjs";

const webRoot = join(repositoryRoot, "usaav", "web");

function jsFiles(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

// The static page's entry (usaav/web/README.md): loaded by its own
// <script type="module">, never bundled, and meant to run when loaded, so
// the rules of bundled modules do not apply to it.
const ENTRY_POINTS = new Set(["loader.js"]);

const files = jsFiles(webRoot)
  .filter((file) => !ENTRY_POINTS.has(relative(webRoot, file)))
  .sort();
const scans = new Map(files.map((file) => [file, scanModule(readFileSync(file, "utf8"))]));
const name = (file) => relative(webRoot, file);

test("usaav/web holds the twin's modules", () => {
  for (const module of ["sphere.js", "random.js", "kernels.js", "integrate.js", "observables.js"]) {
    assert.ok(files.includes(join(webRoot, module)), module);
  }
});

for (const file of files) {
  const scan = scans.get(file);

  test(`${name(file)}: only declarations at the top level, only named sibling imports`, () => {
    assert.deepEqual(scan.problems, []);
    for (const { names, specifier, text } of scan.imports) {
      assert.ok(/^\.\.?\//.test(specifier) && specifier.endsWith(".js"), `"${text}": import siblings by relative path ending in .js`);
      const target = resolve(dirname(file), specifier);
      assert.ok(target.startsWith(webRoot + "/") && existsSync(target), `"${text}": ${specifier} is not a module in usaav/web`);
      const exported = scans.get(target)?.exported ?? [];
      for (const imported of names) {
        assert.ok(exported.includes(imported), `"${text}": ${name(target)} does not export ${imported}`);
      }
    }
  });

  test(`${name(file)}: loads in node without a DOM (no side effects at import)`, async () => {
    const module = await import(pathToFileURL(file).href);
    assert.ok(module);
  });
}

test("top-level names are unique across all modules of usaav/web", () => {
  const owners = new Map();
  for (const [file, scan] of scans) {
    for (const declared of scan.declared) owners.set(declared, [...(owners.get(declared) ?? []), name(file)]);
  }
  const clashes = [...owners].filter(([, where]) => where.length > 1).map(([n, where]) => `${n} in ${where.join(" and ")}`);
  assert.deepEqual(clashes, []);
});

test("the scanner catches what breaks the bundle (it can fail)", () => {
  const bad = scanModule(`
    import { normalizeRows as normalize } from "./sphere.js";
    import * as kernels from "./kernels.js";
    import view from "./view.js";
    export { a };
    window.started = true;
    const { x, y } = point;
    startLoop()
    export function ok() { return /}"{/.test("}") }
  `);
  const expected = [/renaming an import/, /only named imports/, /only named imports/, /export list/, /runs at import.*window\.started/, /destructuring/, /runs at import.*startLoop/];
  assert.equal(bad.problems.length, expected.length, bad.problems.join("\n"));
  expected.forEach((pattern, k) => assert.match(bad.problems[k] ?? "", pattern));
  assert.deepEqual(bad.declared, ["ok"], "the regex and string literals hide their braces");

  const good = scanModule(`
    // a comment with "quotes" and { braces
    import { a, b } from "./a.js";
    const template = \`\${a({ nested: \`\${b}\` })} / not a regex\`;
    export const first = 1, second = f(2, 3);
    export async function later() {}
    class Shape {}
    export default { render };
  `);
  assert.deepEqual(good.problems, []);
  assert.deepEqual(good.declared, ["template", "first", "second", "later", "Shape"]);
  assert.deepEqual(good.imports.map((i) => [i.names, i.specifier]), [[["a", "b"], "./a.js"]]);
});
