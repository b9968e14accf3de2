import type { DataPath, Node } from "./ast.js";
import { INT32_MAX, INT32_MIN } from "./cast.js";
import { CesqlParseError } from "./errors.js";
import { tokenize, type Token } from "./lexer.js";

const COMPARISONS = new Set(["=", "!=", "<>", "<", "<=", ">", ">="]);

function describe(t: Token): string {
  if (t.kind === "eof") return "the end of the expression";
  if (t.kind === "str") return `the string '${t.text}'`;
  return `"${t.text}"`;
}

/**
 * Parses a CloudEvents SQL v1 expression. Precedence, loosest first: AND/OR/XOR (left to right),
 * comparisons, + -, * / %, IN, LIKE, unary NOT and -, then atoms (literals, identifiers, EXISTS,
 * function calls, parentheses, and Eddy's `data.path` access).
 *
 * @example
 * parse("EXISTS subject AND type LIKE 'com.%'");
 */
export function parse(src: string): Node {
  const toks = tokenize(src);
  let i = 0;
  const peek = (o = 0) => toks[Math.min(i + o, toks.length - 1)]!;
  const next = () => toks[i++]!;
  const isOp = (t: Token, text: string) => t.kind === "op" && t.text === text;
  const isKw = (t: Token, text: string) => t.kind === "kw" && t.text === text;
  const fail = (t: Token, want: string): never => {
    throw new CesqlParseError(t.pos, `expected ${want} but found ${describe(t)}`);
  };
  const expectOp = (text: string) => (isOp(peek(), text) ? next() : fail(peek(), `"${text}"`));

  function logic(): Node {
    let l = comparison();
    while (peek().kind === "kw" && ["AND", "OR", "XOR"].includes(peek().text)) {
      const op = next().text;
      l = { k: "bin", op, l, r: comparison() };
    }
    return l;
  }
  function comparison(): Node {
    let l = additive();
    while (peek().kind === "op" && COMPARISONS.has(peek().text)) {
      const op = next().text;
      l = { k: "bin", op: op === "<>" ? "!=" : op, l, r: additive() };
    }
    return l;
  }
  function additive(): Node {
    let l = multiplicative();
    while (isOp(peek(), "+") || isOp(peek(), "-")) {
      const op = next().text;
      l = { k: "bin", op, l, r: multiplicative() };
    }
    return l;
  }
  function multiplicative(): Node {
    let l = inExpr();
    while (isOp(peek(), "*") || isOp(peek(), "/") || isOp(peek(), "%")) {
      const op = next().text;
      l = { k: "bin", op, l, r: inExpr() };
    }
    return l;
  }
  function inExpr(): Node {
    let e = likeExpr();
    for (;;) {
      const not = isKw(peek(), "NOT") && isKw(peek(1), "IN");
      if (!not && !isKw(peek(), "IN")) return e;
      if (not) next();
      next();
      expectOp("(");
      const set: Node[] = [logic()];
      while (isOp(peek(), ",")) {
        next();
        set.push(logic());
      }
      expectOp(")");
      e = { k: "in", e, set, not };
    }
  }
  function likeExpr(): Node {
    let e = unary();
    for (;;) {
      const not = isKw(peek(), "NOT") && isKw(peek(1), "LIKE");
      if (!not && !isKw(peek(), "LIKE")) return e;
      if (not) next();
      next();
      const p = peek();
      if (p.kind !== "str") fail(p, "a string literal pattern after LIKE");
      next();
      e = { k: "like", e, pattern: p.text, not };
    }
  }
  function unary(): Node {
    if (isKw(peek(), "NOT")) {
      next();
      return { k: "not", e: unary() };
    }
    if (isOp(peek(), "-")) {
      next();
      const t = peek();
      if (t.kind === "int") {
        next();
        const v = -t.int!;
        if (v < INT32_MIN) throw new CesqlParseError(t.pos, `integer -${t.text} does not fit in 32 bits`);
        return { k: "lit", v: v === 0 ? 0 : v };
      }
      return { k: "neg", e: unary() };
    }
    return atom();
  }
  function dataPath(): DataPath {
    const path: DataPath = [];
    for (;;) {
      if (isOp(peek(), ".")) {
        next();
        const t = peek();
        if (t.kind !== "ident" && t.kind !== "kw") fail(t, "a field name after \".\"");
        path.push(t.kind === "kw" ? src.slice(t.pos, t.pos + t.text.length) : t.text);
        next();
      } else if (isOp(peek(), "[")) {
        next();
        const t = next();
        if (t.kind === "int") path.push(t.int!);
        else if (t.kind === "str") path.push(t.text);
        else fail(t, "an array index or a quoted field name inside [ ]");
        expectOp("]");
      } else return path;
    }
  }
  function identifierOrData(): { k: "id"; name: string } | { k: "data"; path: DataPath } {
    const t = next();
    if (t.kind !== "ident") fail(t, "an attribute name");
    const name = t.text.toLowerCase();
    if (name === "data") {
      const path = dataPath();
      if (path.length === 0) throw new CesqlParseError(t.pos, "data needs a path, such as data.total or data['order-id']");
      return { k: "data", path };
    }
    if (!/^[a-z0-9]+$/.test(name)) throw new CesqlParseError(t.pos, `"${t.text}" is not an attribute name: use letters and digits only`);
    return { k: "id", name };
  }
  function atom(): Node {
    const t = peek();
    if (t.kind === "int") {
      next();
      if (t.int! > INT32_MAX) throw new CesqlParseError(t.pos, `integer ${t.text} does not fit in 32 bits`);
      return { k: "lit", v: t.int! };
    }
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
      return { k: "exists", target: identifierOrData() };
    }
    if (isOp(t, "(")) {
      next();
      const e = logic();
      expectOp(")");
      return e;
    }
    if (t.kind === "ident") {
      if (isOp(peek(1), "(")) {
        next();
        next();
        const args: Node[] = [];
        if (!isOp(peek(), ")")) {
          args.push(logic());
          while (isOp(peek(), ",")) {
            next();
            args.push(logic());
          }
        }
        expectOp(")");
        return { k: "call", name: t.text.toUpperCase(), args, pos: t.pos };
      }
      return identifierOrData();
    }
    return fail(t, "a value, attribute, function call or \"(\"");
  }

  const root = logic();
  if (peek().kind !== "eof") fail(peek(), "an operator or the end of the expression");
  return root;
}
