/**
 * Byte-level walk over JSON text that is already known to be valid (JSON.parse accepted it),
 * giving the byte range of each top-level member value or array element. It lets a structured
 * event's `data` be kept as the exact bytes received. Scanning bytes is safe because every JSON
 * structural character is ASCII and UTF-8 multi-byte sequences never contain ASCII bytes.
 */
const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(b: Uint8Array, i: number): number {
  while (i < b.length && WS.has(b[i]!)) i++;
  return i;
}

/** Index just past the JSON string starting at `i` (which holds the opening quote). */
function skipString(b: Uint8Array, i: number): number {
  for (i++; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return i;
}

/** Index just past the JSON value starting at `i`. */
function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === 0x22) return skipString(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (; i < b.length; i++) {
      const d = b[i]!;
      if (d === 0x22) i = skipString(b, i) - 1;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return i;
  }
  // number, true, false, null: up to the next delimiter
  while (i < b.length && !WS.has(b[i]!) && b[i] !== 0x2c && b[i] !== 0x7d && b[i] !== 0x5d) i++;
  return i;
}

export interface Span {
  start: number;
  end: number;
}

const dec = new TextDecoder();

/**
 * Byte spans of the member values of the object starting at `start`, by key.
 *
 * @example
 * objectMembers(enc('{"a": [1, 2] }'), 0).get("a"); // { start: 6, end: 12 }
 */
export function objectMembers(b: Uint8Array, start: number): Map<string, Span> {
  const out = new Map<string, Span>();
  let i = skipWs(b, start);
  if (b[i] !== 0x7b) return out;
  i = skipWs(b, i + 1);
  while (i < b.length && b[i] !== 0x7d) {
    const keyEnd = skipString(b, i);
    const key = JSON.parse(dec.decode(b.subarray(i, keyEnd))) as string;
    i = skipWs(b, keyEnd);
    i = skipWs(b, i + 1); // past ':'
    const end = skipValue(b, i);
    out.set(key, { start: i, end });
    i = skipWs(b, end);
    if (b[i] === 0x2c) i = skipWs(b, i + 1);
  }
  return out;
}

/** Byte spans of the elements of the array starting at `start`. */
export function arrayElements(b: Uint8Array, start: number): Span[] {
  const out: Span[] = [];
  let i = skipWs(b, start);
  if (b[i] !== 0x5b) return out;
  i = skipWs(b, i + 1);
  while (i < b.length && b[i] !== 0x5d) {
    const end = skipValue(b, i);
    out.push({ start: i, end });
    i = skipWs(b, end);
    if (b[i] === 0x2c) i = skipWs(b, i + 1);
  }
  return out;
}
