// A small safe formula language, the browser twin of usaav/formula.py: the
// reader's quantile function typed as text (Thm. 2 (ii)), read by recursive
// descent into a tree of a few node kinds and compiled to closures over those
// nodes (never eval).  Same grammar, same limits and the same messages, with
// the character position counted as Python counts it; tests/js/formula.test.mjs
// checks both on the same formulas.
//
// Grammar (Python's precedence; "^" is accepted for "**"):
//
//   expression := term (("+" | "-") term)*
//   term       := unary (("*" | "/") unary)*
//   unary      := ("+" | "-") unary | power
//   power      := atom (("**" | "^") unary)?          right-associative
//   atom       := number | variable | "pi" | "π" | function "(" expression ("," expression)* ")"
//               | "(" expression ")"

/** Functions a formula may call: name → [number of arguments, implementation] (as FUNCTIONS in Python). */
export const FORMULA_FUNCTIONS = Object.freeze({
  sin: [1, Math.sin], cos: [1, Math.cos], tan: [1, Math.tan],
  arcsin: [1, Math.asin], arccos: [1, Math.acos], arctan: [1, Math.atan],
  asin: [1, Math.asin], acos: [1, Math.acos], atan: [1, Math.atan],
  sinh: [1, Math.sinh], cosh: [1, Math.cosh], tanh: [1, Math.tanh],
  exp: [1, Math.exp], log: [1, Math.log], sqrt: [1, Math.sqrt], abs: [1, Math.abs],
  floor: [1, Math.floor], ceil: [1, Math.ceil], sign: [1, Math.sign],
  arctan2: [2, Math.atan2], atan2: [2, Math.atan2],
  min: [2, Math.min], max: [2, Math.max], minimum: [2, Math.min], maximum: [2, Math.max],
  clip: [3, (x, lo, hi) => Math.min(Math.max(x, lo), hi)],
});
/** Longest formula and deepest nesting accepted (MAX_FORMULA_LENGTH, MAX_FORMULA_DEPTH in Python). */
export const FORMULA_MAX_LENGTH = 200;
export const FORMULA_MAX_DEPTH = 40;

// Whitespace and digits are ASCII only, in both languages.
const FORMULA_SPACE = /^[ \t\n\r\f\v]*/;
const FORMULA_TOKEN = /[ \t\n\r\f\v]*(?:(?<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(?<name>[A-Za-z_π][A-Za-z_0-9]*)|(?<op>\*\*|[-+*/^(),]))/y;

/**
 * `text` in single quotes with every character but printable ASCII and π escaped
 * (\u00a0): the quoting of usaav.formula, so both languages give the same messages.
 */
function quoteFormula(text) {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0);
    if (char === "\\" || char === "'") out += "\\" + char;
    else if ((code >= 0x20 && code <= 0x7e) || char === "π") out += char;
    else out += code <= 0xffff ? "\\u" + code.toString(16).padStart(4, "0") : "\\U" + code.toString(16).padStart(8, "0");
  }
  return `'${out}'`;
}

/** Character `position` (UTF-16 index) counted in code points, as Python counts. */
function codePointIndex(text, position) {
  return [...text.slice(0, position)].length;
}

function formulaError(text, position, problem) {
  return new Error(`formula ${quoteFormula(text)}, character ${codePointIndex(text, position) + 1}: ${problem}`);
}

/**
 * Parse `text` as a formula in `variable` (usaav.formula.parse_formula).
 *
 * @param {string} text
 * @param {string} [variable="s"]
 * @returns {{text: string, variable: string, tree: Array, evaluate: (x: number) => number}} tree nodes
 *   ["number", x], ["variable", name], ["negate", a], ["binary", op, a, b], ["call", name, [a, ...]];
 *   evaluate(x) carries them out (formulaValues checks that the values are finite)
 * @throws {Error} naming the formula, the 1-based character position and the problem
 */
export function parseFormula(text, variable = "s") {
  if (typeof text !== "string") throw new TypeError(`formula must be a string, got ${typeof text} ${String(text)}`);
  if (text.replace(FORMULA_SPACE, "") === "") throw new Error(`formula must be a non-empty expression in ${variable}, got ${quoteFormula(text)}`);
  const length = [...text].length;
  if (length > FORMULA_MAX_LENGTH) {
    throw new Error(`formula must have at most ${FORMULA_MAX_LENGTH} characters, got ${length}`);
  }
  let position = 0;
  let lookahead = null;
  let depth = 0;

  function scan() {
    const start = position + FORMULA_SPACE.exec(text.slice(position))[0].length;
    if (start === text.length) return ["end", "", start];
    FORMULA_TOKEN.lastIndex = position;
    const match = FORMULA_TOKEN.exec(text);
    if (match === null) {
      throw formulaError(text, start, `unexpected character ${quoteFormula(String.fromCodePoint(text.codePointAt(start)))}`);
    }
    position = FORMULA_TOKEN.lastIndex;
    const kind = ["number", "name", "op"].find((k) => match.groups[k] !== undefined);
    const value = match.groups[kind];
    return [kind, value, position - value.length];
  }
  const peek = () => (lookahead ??= scan());
  const take = () => {
    const token = peek();
    lookahead = null;
    return token;
  };
  const error = (problem, token = peek()) => formulaError(text, token[2], problem);
  function nested(parse, token) {
    depth += 1;
    if (depth > FORMULA_MAX_DEPTH) throw error(`nested more than ${FORMULA_MAX_DEPTH} levels deep`, token);
    try {
      return parse();
    } finally {
      depth -= 1;
    }
  }
  const isOp = (values) => peek()[0] === "op" && values.includes(peek()[1]);

  function expression() {
    let tree = term();
    while (isOp(["+", "-"])) tree = ["binary", take()[1], tree, term()];
    return tree;
  }
  function term() {
    let tree = unary();
    while (isOp(["*", "/"])) tree = ["binary", take()[1], tree, unary()];
    return tree;
  }
  function unary() {
    if (isOp(["+", "-"])) {
      const token = take();
      const operand = nested(unary, token);
      return token[1] === "-" ? ["negate", operand] : operand;
    }
    return power();
  }
  function power() {
    const base = atom();
    if (isOp(["**", "^"])) {
      const token = take();
      return ["binary", "**", base, nested(unary, token)];
    }
    return base;
  }
  function atom() {
    const token = take();
    const [kind, value, start] = token;
    if (kind === "number") {
      const number = Number(value);
      if (!Number.isFinite(number)) throw error(`number ${value} is too large`, token);
      return ["number", number];
    }
    if (kind === "name") {
      if (value === variable) return ["variable", value];
      if (value === "pi" || value === "π") return ["number", Math.PI];
      if (Object.hasOwn(FORMULA_FUNCTIONS, value)) return call(token);
      throw error(`unknown name ${quoteFormula(value)} (use ${variable}, pi and the functions `
        + `${Object.keys(FORMULA_FUNCTIONS).join(", ")})`, token);
    }
    if (kind === "op" && value === "(") {
      const inner = nested(expression, token);
      if (peek()[1] !== ")") throw error(`unbalanced parenthesis: the '(' at character ${codePointIndex(text, start) + 1} is never closed`);
      take();
      return inner;
    }
    if (kind === "end") throw error("the formula ends where a number, s or '(' was expected", token);
    throw error(`unexpected ${quoteFormula(value)} where a number, s or '(' was expected`, token);
  }
  function call(token) {
    const [, name, start] = token;
    const arity = FORMULA_FUNCTIONS[name][0];
    if (peek()[1] !== "(") throw error(`function ${quoteFormula(name)} must be followed by '('`);
    take();
    const args = [nested(expression, token)];
    while (peek()[1] === ",") {
      take();
      args.push(nested(expression, token));
    }
    if (peek()[1] !== ")") {
      throw error(`unbalanced parenthesis: the '(' of ${name} at character ${codePointIndex(text, start) + name.length + 1} `
        + "is never closed");
    }
    take();
    if (args.length !== arity) {
      throw formulaError(text, start, `function ${quoteFormula(name)} takes ${arity} argument(s), got ${args.length}`);
    }
    return ["call", name, args];
  }

  const tree = expression();
  const [kind, value] = peek();
  if (kind !== "end") throw error(value === ")" ? "unbalanced parenthesis: no '(' to close" : `unexpected ${quoteFormula(value)}`);
  return Object.freeze({ text, variable, tree, evaluate: compileFormulaTree(tree) });
}

/**
 * The tree as a function x ↦ value, built from closures over the nodes (no
 * code is generated from text): the same operations as walking the tree,
 * without its dispatch on every evaluation.
 */
function compileFormulaTree(tree) {
  switch (tree[0]) {
    case "number": {
      const value = tree[1];
      return () => value;
    }
    case "variable": return (x) => x;
    case "negate": {
      const operand = compileFormulaTree(tree[1]);
      return (x) => -operand(x);
    }
    case "binary": {
      const left = compileFormulaTree(tree[2]), right = compileFormulaTree(tree[3]);
      switch (tree[1]) {
        case "+": return (x) => left(x) + right(x);
        case "-": return (x) => left(x) - right(x);
        case "*": return (x) => left(x) * right(x);
        case "/": return (x) => left(x) / right(x);
        default: return (x) => left(x) ** right(x);
      }
    }
    default: {
      const fn = FORMULA_FUNCTIONS[tree[1]][1];
      const args = tree[2].map(compileFormulaTree);
      if (args.length === 1) return (x) => fn(args[0](x));
      return (x) => fn(...args.map((arg) => arg(x)));
    }
  }
}

/**
 * Values of a parsed formula at every entry of `xs` (Formula.__call__ in Python).
 * @throws {Error} if a value is not finite, naming the formula and the first bad input
 */
export function formulaValues(formula, xs, out = new Float64Array(xs.length)) {
  for (let k = 0; k < xs.length; k++) {
    const value = formula.evaluate(xs[k]);
    if (!Number.isFinite(value)) {
      const shown = Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
      throw new Error(`formula ${quoteFormula(formula.text)} is not finite at ${formula.variable} = `
        + `${Number(xs[k].toPrecision(6))} (value ${shown})`);
    }
    out[k] = value;
  }
  return out;
}
