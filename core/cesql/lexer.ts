import { CesqlParseError } from "./errors.js";

/** Token classes: integer and string literals, identifiers, keywords, operators, end of input. */
export type TokenKind = "int" | "str" | "ident" | "kw" | "op" | "eof";

/**
 * One lexical token with its source offsets, which parse errors report.
 *
 * @example
 * const t: Token = { kind: "kw", text: "AND", pos: 5, end: 8 };
 */
export interface Token {
  kind: TokenKind;
  /** Keywords upper-cased; identifiers as written; operator text; a string literal's value. */
  text: string;
  /** An integer literal's magnitude; it may exceed int32 until the parser folds a unary minus. */
  int?: number;
  /** 0-based offset of the token's first character. */
  pos: number;
  /** Offset just past the token. */
  end: number;
}

const KEYWORDS = new Set(["AND", "OR", "XOR", "NOT", "LIKE", "EXISTS", "IN", "TRUE", "FALSE"]);
const TWO_CHAR = new Set(["!=", "<>", "<=", ">="]);
const ONE_CHAR = new Set(["=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".", "[", "]"]);

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
const isLetter = (c: string | undefined) => c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
// `_` belongs to function names (CONCAT_WS) and JSON field names; the parser refuses it in attributes.
const isWordChar = (c: string | undefined) => isLetter(c) || isDigit(c) || c === "_";

/**
 * Splits a CESQL expression into tokens. Keywords are case-insensitive. A string literal uses
 * single or double quotes; inside it a backslash and the next character form a pair, as in the
 * CESQL ANTLR lexer: `\'` (or `\"`) is the quote itself, any other pair stays as written so that
 * LIKE can give `\%` and `\_` their meaning; a doubled quote is the quote itself.
 *
 * @example
 * tokenize("type LIKE 'com.%'").map((t) => t.text); // ["type", "LIKE", "com.%", ""]
 */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const pos = i;
    if (c === "'" || c === '"') {
      i = readString(src, i, c, out);
      continue;
    }
    if (isDigit(c)) {
      while (isDigit(src[i])) i++;
      // The ANTLR lexer takes the longest match, so `1abc` is an identifier (attribute names may
      // start with a digit); a run of digits alone is an integer.
      if (isWordChar(src[i])) {
        while (isWordChar(src[i])) i++;
        out.push({ kind: "ident", text: src.slice(pos, i), pos, end: i });
      } else {
        const digits = src.slice(pos, i);
        out.push({ kind: "int", text: digits, int: Number(digits), pos, end: i });
      }
      continue;
    }
    if (isLetter(c) || c === "_") {
      while (isWordChar(src[i])) i++;
      const word = src.slice(pos, i);
      const up = word.toUpperCase();
      out.push(KEYWORDS.has(up) ? { kind: "kw", text: up, pos, end: i } : { kind: "ident", text: word, pos, end: i });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR.has(two)) {
      out.push({ kind: "op", text: two, pos, end: i + 2 });
      i += 2;
      continue;
    }
    if (ONE_CHAR.has(c)) {
      out.push({ kind: "op", text: c, pos, end: i + 1 });
      i++;
      continue;
    }
    throw new CesqlParseError(pos, `unexpected character ${JSON.stringify(String.fromCodePoint(src.codePointAt(pos)!))}`);
  }
  out.push({ kind: "eof", text: "", pos: src.length, end: src.length });
  return out;
}

/** Reads the string literal opening at `start` with quote `q`; returns the offset after it. */
function readString(src: string, start: number, q: string, out: Token[]): number {
  let v = "";
  let i = start + 1;
  let run = i;
  for (;;) {
    if (i >= src.length) throw new CesqlParseError(start, `the string literal starting here is not closed with ${q}`);
    const d = src[i]!;
    if (d === "\\" && i + 1 < src.length) {
      if (src[i + 1] === q) {
        v += src.slice(run, i) + q;
        run = i + 2;
      }
      i += 2;
    } else if (d === q) {
      v += src.slice(run, i);
      if (src[i + 1] === q) {
        v += q;
        i += 2;
        run = i;
      } else {
        out.push({ kind: "str", text: v, pos: start, end: i + 1 });
        return i + 1;
      }
    } else i++;
  }
}
