/**
 * A byte-level walk over JSON text that JSON.parse has already accepted, giving the byte range of
 * each top-level member value (or array element) so a structured event's `data` can be kept as the
 * exact bytes received instead of being re-serialised. Working on bytes is safe because every
 * JSON structural character is ASCII, and UTF-8 multi-byte sequences never contain ASCII bytes.
 *
 * It does not validate: on text JSON.parse refused, the ranges are meaningless.
 */

/** A half-open byte range `[start, end)` of one raw JSON value, whitespace excluded. */
export interface Span {
  start: number;
  end: number;
}

/** One member of a JSON object: its (unescaped) key and where its raw value lies. */
export interface Member extends Span {
  key: string;
}

const keyDecoder = new TextDecoder();

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index of the first non-whitespace byte at or after `i`. */
export function skipWs(b: Uint8Array, i: number): number {
  while (isWs(b[i])) i++;
  return i;
}

/** Index just past the string whose opening quote is at `i`. */
function skipString(b: Uint8Array, i: number): number {
  // Most strings are short keys and values, where a plain loop beats a native call; past 32 bytes
  // it is probably a text payload, crossed with indexOf at memchr speed.
  const stop = Math.min(b.length, i + 33);
  let j = i + 1;
  for (; j < stop; j++) {
    const c = b[j];
    if (c === 0x22) return j + 1;
    if (c === 0x5c) j++; // the escaped byte cannot end the string
  }
  return skipLong(b, j);
}

/** Continues skipString from `from`, which is not inside an escape sequence. */
function skipLong(b: Uint8Array, from: number): number {
  // A quote preceded by an odd number of backslashes is escaped and does not end the string.
  for (;;) {
    const q = b.indexOf(0x22, from);
    if (q < 0) return b.length;
    let k = q - 1;
    while (b[k] === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/**
 * Index just past the JSON value that starts at `i` (which must not be whitespace).
 *
 * @example
 * skipValue(new TextEncoder().encode('[1, "]"] ,'), 0); // 8
 */
export function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === 0x22) return skipString(b, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < b.length) {
      const d = b[i]!;
      if (d === 0x22) {
        i = skipString(b, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if ((d === 0x7d || d === 0x5d) && --depth === 0) return i + 1;
      i++;
    }
    return i;
  }
  // number, true, false or null: runs to the next delimiter
  while (i < b.length) {
    const d = b[i]!;
    if (d === 0x2c || d === 0x7d || d === 0x5d || isWs(d)) break;
    i++;
  }
  return i;
}

function readKey(b: Uint8Array, start: number, end: number): string {
  // Keys are short and almost always plain ASCII; only escapes or UTF-8 need a real decoder.
  let s = "";
  for (let i = start + 1; i < end - 1; i++) {
    const c = b[i]!;
    if (c === 0x5c || c >= 0x80) return JSON.parse(keyDecoder.decode(b.subarray(start, end))) as string;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Yields each member of the JSON object whose `{` is at (or after whitespace from) `at`, in text
 * order, duplicates included (JSON.parse keeps the last one; so should a caller).
 *
 * @example
 * const body = new TextEncoder().encode('{"id":"1", "data": {"a": [1.50]} }');
 * for (const m of members(body, 0)) console.log(m.key, m.start, m.end); // id 6 9, data 19 32
 */
export function* members(b: Uint8Array, at: number): Generator<Member> {
  let i = skipWs(b, at);
  if (b[i] !== 0x7b) return;
  i = skipWs(b, i + 1);
  while (b[i] === 0x22) {
    const keyEnd = skipString(b, i);
    const key = readKey(b, i, keyEnd);
    const start = skipWs(b, skipWs(b, keyEnd) + 1); // past the ':'
    const end = skipValue(b, start);
    yield { key, start, end };
    i = skipWs(b, end);
    if (b[i] === 0x2c) i = skipWs(b, i + 1);
  }
}

/**
 * Yields the span of each element of the JSON array whose `[` is at (or after whitespace from) `at`.
 *
 * @example
 * [...elements(new TextEncoder().encode('[{"a":1}, 2]'), 0)]; // [{start:1,end:8}, {start:10,end:11}]
 */
export function* elements(b: Uint8Array, at: number): Generator<Span> {
  let i = skipWs(b, at);
  if (b[i] !== 0x5b) return;
  i = skipWs(b, i + 1);
  while (i < b.length && b[i] !== 0x5d) {
    const end = skipValue(b, i);
    yield { start: i, end };
    i = skipWs(b, end);
    if (b[i] === 0x2c) i = skipWs(b, i + 1);
  }
}
