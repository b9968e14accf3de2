import { CloudEventError } from "./errors.js";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Undoes RFC 7230 quoting (`"a \"b\""` → `a "b"`), which pre-1.0.2 senders may use. */
function unquote(v: string): string {
  let out = "";
  for (let i = 1; i < v.length - 1; i++) {
    const c = v[i]!;
    if (c === "\\" && i + 1 < v.length - 1) out += v[++i];
    else out += c;
  }
  return out;
}

/**
 * Decodes a binary-mode `ce-` header value per the HTTP binding: unquote a quoted string, then one
 * round of `%XY` decoding. A stray `%` passes through (Go senders do not encode), and the bytes
 * must be valid UTF-8 (overlong forms such as `%C0%A0` are refused). Header values reach a Worker
 * as one character per byte, so raw UTF-8 from senders that do not encode is accepted too.
 *
 * @example
 * percentDecode("Euro%20%E2%82%AC%20%F0%9F%98%80"); // "Euro € 😀"
 */
export function percentDecode(value: string, name = "header"): string {
  let v = value;
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = unquote(v);
  let plain = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 37 || c > 0x7e) {
      plain = false;
      break;
    }
  }
  if (plain) return v;
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 37 && i + 2 < v.length) {
      const hi = hexVal(v.charCodeAt(i + 1));
      const lo = hexVal(v.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    if (c <= 0xff) bytes.push(c);
    else for (const b of utf8.encode(String.fromCodePoint(v.codePointAt(i)!))) bytes.push(b);
    if (c >= 0xd800 && c <= 0xdbff) i++;
  }
  try {
    return strictUtf8.decode(new Uint8Array(bytes));
  } catch {
    throw new CloudEventError(400, `${name} is not valid UTF-8 after percent-decoding: percent-encode the UTF-8 bytes of the value (e.g. € as %E2%82%AC)`);
  }
}

/**
 * Encodes a value for a binary-mode `ce-` header per the HTTP binding 1.0.2: space, `"`, `%` and
 * everything outside U+0021–U+007E become the `%XY` of their UTF-8 bytes.
 *
 * @example
 * percentEncode("Euro € 😀"); // "Euro%20%E2%82%AC%20%F0%9F%98%80"
 */
export function percentEncode(value: string): string {
  let safe = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x25) {
      safe = false;
      break;
    }
  }
  if (safe) return value;
  let out = "";
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x25) out += ch;
    else for (const b of utf8.encode(ch)) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
