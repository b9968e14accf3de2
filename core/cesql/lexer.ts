import { CesqlParseError } from "./errors.js";

export type TokenKind = "int" | "str" | "ident" | "kw" | "op" | "eof";

export interface Token {
  kind: TokenKind;
  /** Keywords and identifiers upper-cased for kw, as written for ident; operator text; string value. */
  text: string;
  /** Integer literal value (may exceed int32 until the parser folds a unary minus). */
  int?: number;
  pos: number;
}

const KEYWORDS = new Set(["AND", "OR", "XOR", "NOT", "LIKE", "EXISTS", "IN", "TRUE", "FALSE"]);
const TWO_CHAR = new Set(["!=", "<>", "<=", ">="]);
const ONE_CHAR = new Set(["=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", ".", "[", "]"]);

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}
function isIdentPart(c: string): boolean {
  return isIdentStart(c) || (c >= "0" && c <= "9");
}

/**
 * Splits a CESQL expression into tokens. Keywords are case-insensitive; a string literal may use
 * single or double quotes, escaping its own quote with a backslash or by doubling it; any other
 * backslash stays in the value (LIKE gives `\%` and `\_` their meaning).
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
      let v = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new CesqlParseError(pos, `string literal starting here is not closed with ${c}`);
        const d = src[i]!;
        if (d === "\\" && src[i + 1] === c) {
          v += c;
          i += 2;
        } else if (d === c) {
          if (src[i + 1] === c) {
            v += c;
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          v += d;
          i++;
        }
      }
      out.push({ kind: "str", text: v, pos });
      continue;
    }
    if (c >= "0" && c <= "9") {
      while (i < src.length && src[i]! >= "0" && src[i]! <= "9") i++;
      if (i < src.length && isIdentStart(src[i]!)) throw new CesqlParseError(i, `unexpected "${src[i]}" after the number ${src.slice(pos, i)}`);
      const digits = src.slice(pos, i);
      out.push({ kind: "int", text: digits, int: Number(digits), pos });
      continue;
    }
    if (isIdentStart(c)) {
      while (i < src.length && isIdentPart(src[i]!)) i++;
      const word = src.slice(pos, i);
      const up = word.toUpperCase();
      out.push(KEYWORDS.has(up) ? { kind: "kw", text: up, pos } : { kind: "ident", text: word, pos });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (TWO_CHAR.has(two)) {
      out.push({ kind: "op", text: two, pos });
      i += 2;
      continue;
    }
    if (ONE_CHAR.has(c)) {
      out.push({ kind: "op", text: c, pos });
      i++;
      continue;
    }
    throw new CesqlParseError(pos, `unexpected character "${c}"`);
  }
  out.push({ kind: "eof", text: "", pos: src.length });
  return out;
}
