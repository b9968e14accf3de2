import type { DataPath, Node, Ref } from "./ast.js";
import { INT32_MAX, INT32_MIN } from "./cast.js";
import { CesqlParseError } from "./errors.js";
import { tokenize, type Token } from "./lexer.js";

const COMPARISONS = new Set(["=", "!=", "<>", "<", "<=", ">", ">="]);
const LOGIC = new Set(["AND", "OR", "XOR"]);

/** Parentheses, calls, IN sets and unary operators nested deeper than this are refused. */
export const MAX_NESTING = 64;
/** Expression trees taller than this are refused: compile and evaluate recurse once per level. */
export const MAX_HEIGHT = 512;

function describe(t: Token): string {
  if (t.kind === "eof") return "end of input";
  if (t.kind === "str") return `string ${JSON.stringify(t.text)}`;
  if (t.kind === "int") return `integer ${t.text}`;
  return `'${t.text}'`;
}

/**
 * Parses a CloudEvents SQL v1 expression into a tree. Precedence, loosest first, as in the spec's
 * table: AND/OR/XOR (one level, left to right), comparisons, `+ -`, `* / %`, `[NOT] IN`,
 * `[NOT] LIKE`, unary NOT and `-`, then atoms: literals, attributes, `EXISTS`, calls, parentheses
 * and Eddy's `data...` paths.
 *
 * @example
 * parse("EXISTS subject AND type LIKE 'com.%'");
 */
export function parse(src: string): Node {
  const toks = tokenize(src);
  const height = new Map<Node, number>();
  let i = 0;
  let nesting = 0;
  const peek = (o = 0) => toks[Math.min(i + o, toks.length - 1)]!;
  const next = () => toks[Math.min(i++, toks.length - 1)]!;
  const isOp = (t: Token, text: string) => t.kind === "op" && t.text === text;
  const isKw = (t: Token, text: string) => t.kind === "kw" && t.text === text;
  const fail = (t: Token, want: string): never => {
    throw new CesqlParseError(t.pos, `expected ${want} but found ${describe(t)}`);
  };
  const expectOp = (text: string, what = `'${text}'`) => (isOp(peek(), text) ? next() : fail(peek(), what));
  /** Records a node's height, refusing trees too tall to evaluate safely. */
  const mk = (n: Node, at: Token, kids: readonly Node[]): Node => {
    let h = 0;
    for (const k of kids) h = Math.max(h, height.get(k) ?? 1);
    if (h + 1 > MAX_HEIGHT) throw new CesqlParseError(at.pos, `the expression is too deeply nested (more than ${MAX_HEIGHT} levels); use IN (...) instead of long OR chains`);
    height.set(n, h + 1);
    return n;
  };
  const enter = (at: Token) => {
    if (++nesting > MAX_NESTING) throw new CesqlParseError(at.pos, `more than ${MAX_NESTING} nested parentheses, calls or unary operators`);
  };

  function expression(): Node {
    let l = comparison();
    while (peek().kind === "kw" && LOGIC.has(peek().text)) {
      const t = next();
      const r = comparison();
      l = mk({ k: "bin", op: t.text, l, r }, t, [l, r]);
    }
    return l;
  }
  function comparison(): Node {
    let l = additive();
    while (peek().kind === "op" && COMPARISONS.has(peek().text)) {
      const t = next();
      const r = additive();
      l = mk({ k: "bin", op: t.text === "<>" ? "!=" : t.text, l, r }, t, [l, r]);
    }
    return l;
  }
  function additive(): Node {
    let l = multiplicative();
    while (isOp(peek(), "+") || isOp(peek(), "-")) {
      const t = next();
      const r = multiplicative();
      l = mk({ k: "bin", op: t.text, l, r }, t, [l, r]);
    }
    return l;
  }
  function multiplicative(): Node {
    let l = inExpr();
    while (isOp(peek(), "*") || isOp(peek(), "/") || isOp(peek(), "%")) {
      const t = next();
      const r = inExpr();
      l = mk({ k: "bin", op: t.text, l, r }, t, [l, r]);
    }
    return l;
  }
  function inExpr(): Node {
    let e = likeExpr();
    for (;;) {
      const not = isKw(peek(), "NOT") && isKw(peek(1), "IN");
      if (!not && !isKw(peek(), "IN")) return e;
      if (not) next();
      const t = next();
      expectOp("(", "'(' to open the IN set");
      enter(t);
      const set: Node[] = [expression()];
      while (isOp(peek(), ",")) {
        next();
        set.push(expression());
      }
      expectOp(")", "',' or ')' in the IN set");
      nesting--;
      e = mk({ k: "in", e, set, not }, t, [e, ...set]);
    }
  }
  function likeExpr(): Node {
    let e = unary();
    for (;;) {
      const not = isKw(peek(), "NOT") && isKw(peek(1), "LIKE");
      if (!not && !isKw(peek(), "LIKE")) return e;
      if (not) next();
      const t = next();
      const p = peek();
      if (p.kind !== "str") fail(p, "a string literal pattern after LIKE");
      next();
      e = mk({ k: "like", e, pattern: p.text, not }, t, [e]);
    }
  }
  function unary(): Node {
    const t = peek();
    if (isKw(t, "NOT") || isOp(t, "-")) {
      next();
      const lit = t.text === "-" ? signedLiteral(-1) : undefined;
      if (lit) return lit;
      enter(t);
      const e = unary();
      nesting--;
      return mk(t.text === "-" ? { k: "neg", e } : { k: "not", e }, t, [e]);
    }
    if (isOp(t, "+")) {
      next();
      // The grammar's integer literal may carry a sign; `+` is not an operator otherwise.
      return signedLiteral(1) ?? fail(peek(), "an integer after '+'");
    }
    return atom();
  }
  /** Folds a sign into the integer literal right after it, so -2147483648 is a valid literal. */
  function signedLiteral(sign: 1 | -1): Node | undefined {
    const t = peek();
    if (t.kind !== "int") return undefined;
    next();
    const v = sign * t.int!;
    if (v < INT32_MIN || v > INT32_MAX) throw new CesqlParseError(t.pos, `the integer ${sign < 0 ? "-" : ""}${t.text} does not fit in 32 bits`);
    return { k: "lit", v: v === 0 ? 0 : v };
  }
  function dataPath(at: Token): DataPath {
    const path: (string | number)[] = [];
    for (;;) {
      if (isOp(peek(), ".")) {
        next();
        const t = next();
        // Keywords are valid field names here (`data.type`, `data.in`); keep the JSON's spelling.
        if (t.kind === "ident" || t.kind === "kw") path.push(src.slice(t.pos, t.end));
        else fail(t, "a field name after '.' (use data['key'] or data[0] for other keys)");
      } else if (isOp(peek(), "[")) {
        next();
        const t = next();
        if (t.kind === "int") path.push(t.int!);
        else if (t.kind === "str") path.push(t.text);
        else fail(t, "an array index or a quoted key inside [ ]");
        expectOp("]");
      } else break;
    }
    if (path.length === 0) fail(peek(), "'.' or '[' after data: a bare data is not a value (write data.total or data['order-id'])");
    if (path.length > MAX_NESTING) throw new CesqlParseError(at.pos, `the data path is longer than ${MAX_NESTING} steps`);
    return path;
  }
  function reference(): Ref {
    const t = next();
    if (t.kind !== "ident") fail(t, "an attribute name");
    const name = t.text.toLowerCase();
    if (name === "data") return { k: "data", path: dataPath(t) };
    for (let j = 0; j < name.length; j++) {
      const ch = name[j]!;
      if (!((ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9"))) {
        throw new CesqlParseError(t.pos, `${JSON.stringify(t.text)} is not an attribute name: attribute names have letters and digits only`);
      }
    }
    return { k: "id", name };
  }
  function atom(): Node {
    const t = peek();
    if (t.kind === "int") return signedLiteral(1)!;
    if (t.kind === "str") {
      next();
      return { k: "lit", v: t.text };
    }
    if (isKw(t, "TRUE") || isKw(t, "FALSE")) {
      next();
      return { k: "lit", v: t.text === "TRUE" };
    }
    if (isKw(t, "EXISTS")) {
      next();
      return { k: "exists", target: reference() };
    }
    if (isOp(t, "(")) {
      next();
      enter(t);
      const e = expression();
      expectOp(")");
      nesting--;
      return e;
    }
    if (t.kind === "ident" && isOp(peek(1), "(")) {
      next();
      next();
      enter(t);
      const args: Node[] = [];
      if (peek().kind === "eof") fail(peek(), "an argument or ')'");
      if (!isOp(peek(), ")")) {
        args.push(expression());
        while (isOp(peek(), ",")) {
          next();
          args.push(expression());
        }
      }
      expectOp(")", args.length ? "',' or ')'" : "an argument or ')'");
      nesting--;
      return mk({ k: "call", name: t.text.toUpperCase(), args, pos: t.pos }, t, args);
    }
    if (t.kind === "ident") return reference();
    return fail(t, "a value, an attribute, a function call or '('");
  }

  const root = expression();
  if (peek().kind !== "eof") fail(peek(), "an operator or end of input");
  return root;
}
