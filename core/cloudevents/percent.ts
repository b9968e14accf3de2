import { CloudEventError } from "./errors.js";

// Header values reach a Worker already decoded from UTF-8 (workerd) or as Latin-1 byte strings
// (Node's Headers only takes code points up to U+00FF). Either way a raw character is a character,
// so only %XY escapes are turned into bytes, and only those bytes need the UTF-8 check.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const HEX = Array.from({ length: 256 }, (_, b) => "%" + b.toString(16).toUpperCase().padStart(2, "0"));

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The content of an RFC 7230 quoted-string (`"a \"b\""` → `a "b"`), or undefined when the value
 * is not exactly one quoted-string: `"a" b` or an unterminated `"abc` are taken literally.
 */
function unquote(v: string): string | undefined {
  let out = "";
  let from = 1;
  for (let i = 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x5c) {
      out += v.slice(from, i);
      from = ++i; // keep the escaped character, whatever it is
    } else if (c === 0x22) {
      return i === v.length - 1 ? out + v.slice(from, i) : undefined;
    }
  }
  return undefined;
}

/**
 * Decodes a binary-mode `ce-` header value as the HTTP binding (1.0.2) says: a double-quoted
 * string is unquoted first (pre-1.0.2 senders), then exactly one round of `%XY` decoding, hex in
 * either case, needless escapes such as `%41` accepted. The decoded bytes must be UTF-8; overlong
 * forms such as `%C0%A0` are refused. A `%` not followed by two hex digits and raw spaces pass
 * through as they are, because Knative's Go components and the JS SDK do not encode at all.
 *
 * @example
 * percentDecode("Euro%20%E2%82%AC%20%F0%9F%98%80"); // "Euro € 😀"
 * percentDecode("100%");                            // "100%"
 * percentDecode("%C0%A0");                          // throws CloudEventError (400)
 */
export function percentDecode(value: string, what = "header value"): string {
  let v = value;
  if (v.charCodeAt(0) === 0x22) v = unquote(v) ?? v;
  let p = v.indexOf("%");
  if (p < 0) return v;
  let out = "";
  let from = 0;
  while (p >= 0) {
    // A maximal run of escapes is decoded at once: a UTF-8 sequence cannot be split by a raw
    // character, so decoding run by run accepts and refuses exactly what decoding the whole would.
    let end = p;
    const bytes: number[] = [];
    while (end + 2 < v.length && v.charCodeAt(end) === 0x25) {
      const hi = hexVal(v.charCodeAt(end + 1));
      const lo = hexVal(v.charCodeAt(end + 2));
      if (hi < 0 || lo < 0) break;
      bytes.push(hi * 16 + lo);
      end += 3;
    }
    if (bytes.length > 0) {
      out += v.slice(from, p);
      try {
        out += strictUtf8.decode(new Uint8Array(bytes));
      } catch {
        throw new CloudEventError(
          400,
          `${what} is not valid UTF-8 after percent-decoding (${v.slice(p, end)}): percent-encode the UTF-8 bytes of each character, e.g. € as %E2%82%AC`,
        );
      }
      from = end;
      p = v.indexOf("%", end);
    } else {
      p = v.indexOf("%", p + 1); // a stray % stays literal
    }
  }
  return out + v.slice(from);
}

/**
 * Encodes a value for a binary-mode `ce-` header per the HTTP binding 1.0.2: space, `"`, `%` and
 * every character outside U+0021–U+007E become the `%XY` (upper-case hex) of their UTF-8 bytes.
 * Nothing else is touched, and no quoted-string is produced.
 *
 * @example
 * percentEncode("Euro € 😀"); // "Euro%20%E2%82%AC%20%F0%9F%98%80"
 * percentEncode("/a/b?c=1");  // "/a/b?c=1"
 */
export function percentEncode(value: string): string {
  let i = 0;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x25) break;
  }
  if (i === value.length) return value;
  let out = value.slice(0, i);
  for (; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x25) {
      out += value[i];
    } else if (c < 0x80) {
      out += HEX[c];
    } else if (c < 0x800) {
      out += HEX[0xc0 | (c >> 6)]! + HEX[0x80 | (c & 0x3f)]!;
    } else {
      const next = value.charCodeAt(i + 1);
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out += HEX[0xf0 | (c >> 18)]! + HEX[0x80 | ((c >> 12) & 0x3f)]! + HEX[0x80 | ((c >> 6) & 0x3f)]! + HEX[0x80 | (c & 0x3f)]!;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate: what TextEncoder writes too
      out += HEX[0xe0 | (c >> 12)]! + HEX[0x80 | ((c >> 6) & 0x3f)]! + HEX[0x80 | (c & 0x3f)]!;
    }
  }
  return out;
}
