// A small static scanner of the ES modules in usaav/web, for the bundling
// rules of usaav/web/README.md: the Python side concatenates the modules into
// one ES module for anywidget (import lines dropped, no build tool), so
//
// * top-level names must be unique across all modules,
// * imports must be named imports of sibling files by relative path
//   (`import { a, b } from "./sphere.js"`), without renaming, defaults,
//   namespaces or dynamic import(), and must name things the target exports,
// * a module's top level holds only imports, exports and declarations
//   (no statement that runs something when the module is loaded).
//
// The scanner is not a parser: it removes comments, strings, template
// literals and regular-expression literals, then keeps only the text at
// nesting depth 0. That is enough for modules written in the project's style.

const DECLARATION_START = /^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\b|class\b|const\b|let\b|var\b)/;
const STATEMENT_KEYWORDS = /^(?:import|export|async|function|class|const|let|var)\b/;
// After these characters a "/" starts a regular expression, not a division.
const REGEX_AFTER = new Set(["", "(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "+", "-", "*", "%", "<", ">", "~", "^"]);

/**
 * Strip comments and literals; return the source with every literal replaced
 * by a placeholder ("" for strings, `` for templates, /r/ for regexes) and
 * the list of string values in order.
 */
export function stripLiterals(source) {
  let out = "";
  const strings = [];
  let i = 0;
  let lastSignificant = "";
  const braceStack = []; // for template literals: depth of ${ ... } nesting
  while (i < source.length) {
    const ch = source[i];
    const next = source[i + 1];
    if (ch === "/" && next === "/") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const comment = source.slice(i, end < 0 ? source.length : end + 2);
      out += comment.replace(/[^\n]/g, ""); // keep line structure
      i = end < 0 ? source.length : end + 2;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let value = "";
      i++;
      while (i < source.length && source[i] !== ch) {
        if (source[i] === "\\") {
          value += source[i + 1];
          i += 2;
        } else value += source[i++];
      }
      i++;
      strings.push(value);
      out += '""';
      lastSignificant = '"';
      continue;
    }
    if (ch === "`" || (ch === "}" && braceStack.length && braceStack.at(-1) === 0)) {
      // A template literal, or the rest of one after a ${ ... } substitution.
      if (ch === "}") braceStack.pop();
      i++;
      while (i < source.length && source[i] !== "`") {
        if (source[i] === "\\") i += 2;
        else if (source[i] === "$" && source[i + 1] === "{") {
          braceStack.push(0);
          i += 2;
          break;
        } else i++;
      }
      if (source[i] === "`") i++;
      out += "``";
      lastSignificant = "`";
      continue;
    }
    if (ch === "/" && REGEX_AFTER.has(lastSignificant)) {
      let inClass = false;
      i++;
      while (i < source.length && (source[i] !== "/" || inClass)) {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        i++;
      }
      i++;
      while (/[a-z]/i.test(source[i] ?? "")) i++;
      out += "/r/";
      lastSignificant = "/";
      continue;
    }
    if (braceStack.length) {
      if (ch === "{") braceStack[braceStack.length - 1]++;
      else if (ch === "}") braceStack[braceStack.length - 1]--;
    }
    out += ch;
    if (!/\s/.test(ch)) lastSignificant = /[\w$]/.test(ch) ? "a" : ch;
    // "return /re/" and similar: a keyword before "/" starts a regex too.
    if (/[\w$]/.test(ch)) {
      const word = out.match(/[\w$]+$/)[0];
      if (["return", "typeof", "case", "in", "of", "new", "delete", "void", "throw"].includes(word)) lastSignificant = "";
    }
    i++;
  }
  return { code: out, strings };
}

/** The text at nesting depth 0: bracket contents removed, brackets kept. */
export function topLevelText(code) {
  let out = "";
  let depth = 0;
  for (const ch of code) {
    if ("([{".includes(ch)) {
      if (depth === 0) out += ch;
      depth++;
    } else if (")]}".includes(ch)) {
      depth--;
      if (depth === 0) out += ch;
    } else if (depth === 0) out += ch;
  }
  return out;
}

/**
 * Scan one module.
 *
 * @param {string} source
 * @returns {{declared: string[], exported: string[], imports: {names: string[], specifier: string, text: string}[],
 *   problems: string[]}}
 */
export function scanModule(source) {
  const { code, strings } = stripLiterals(source);
  const problems = [];
  const imports = [];
  // Static imports and re-exports (string placeholders map back to `strings` in order).
  let stringIndex = 0;
  const stringAt = new Map();
  code.replace(/""/g, (_, offset) => {
    stringAt.set(offset, strings[stringIndex++]);
    return "";
  });
  const importPattern = /(^|[;\n])\s*(import|export)\b([^;]*?)\bfrom\s*("")/g;
  for (const match of code.matchAll(importPattern)) {
    const clause = match[3].trim();
    const specifier = stringAt.get(match.index + match[0].length - 2);
    const text = `${match[2]} ${clause} from "${specifier}"`;
    if (match[2] === "export") {
      problems.push(`re-export "${text}": import the names and export your own instead`);
      continue;
    }
    const named = clause.match(/^\{([^}]*)\}$/);
    if (!named) {
      problems.push(`"${text}": only named imports { a, b } of sibling modules can be bundled`);
      continue;
    }
    const names = named[1].split(",").map((s) => s.trim()).filter(Boolean);
    for (const name of names) {
      if (/\sas\s/.test(name)) problems.push(`"${text}": renaming an import ("${name}") breaks the one-scope bundle`);
    }
    imports.push({ names: names.map((n) => n.split(/\s+as\s+/)[0]), specifier, text });
  }
  if (/(^|[^\w$.])import\s*\(/.test(code)) problems.push("dynamic import() cannot be bundled");
  if (/(^|[;\n])\s*import\s*""/.test(code)) problems.push("a bare side-effect import cannot be bundled");

  const top = topLevelText(code);
  // Statements: split after ";" and after a "}" that ends a line, and before a
  // line that starts with a statement keyword.
  const chunks = top
    .split(/;|(?<=\})[ \t]*\n|\n(?=\s*(?:import|export|async|function|class|const|let|var)\b)/)
    .map((s) => s.trim())
    .filter(Boolean);
  const declared = [];
  const exported = [];
  for (const chunk of chunks) {
    if (!STATEMENT_KEYWORDS.test(chunk)) {
      problems.push(`top-level statement that is not a declaration (runs at import): "${chunk.slice(0, 60)}"`);
      continue;
    }
    if (/^import\b/.test(chunk)) continue;
    if (/^export\s*\{/.test(chunk)) {
      problems.push(`export list "${chunk}": export declarations directly (export function/const)`);
      continue;
    }
    if (/^export\s+default\b/.test(chunk) && !DECLARATION_START.test(chunk)) continue; // export default { render }
    if (!DECLARATION_START.test(chunk)) {
      problems.push(`unexpected top-level statement "${chunk.slice(0, 60)}"`);
      continue;
    }
    const isExport = /^export\b/.test(chunk);
    const functionOrClass = chunk.match(/^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?|class)\s*([A-Za-z_$][\w$]*)/);
    let names = [];
    if (functionOrClass) names = [functionOrClass[1]];
    else {
      const declarators = chunk.replace(/^(?:export\s+)?(?:const|let|var)\s+/, "");
      for (const part of declarators.split(",")) {
        const name = part.trim().match(/^([A-Za-z_$][\w$]*)/);
        if (name) names.push(name[1]);
        else problems.push(`destructuring at the top level ("${part.trim().slice(0, 30)}"): declare names one by one`);
      }
    }
    declared.push(...names);
    if (isExport) exported.push(...names);
  }
  return { declared, exported, imports, problems };
}
