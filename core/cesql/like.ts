const LIT = 0;
const ONE = 1;
const ANY = 2;

interface Part {
  kind: typeof LIT | typeof ONE | typeof ANY;
  /** The literal run, for LIT. */
  text: string;
}

/** Index of the code point after the one at `i`: `_` and backtracking step by code point. */
function nextCodePoint(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return i + 2;
  }
  return i + 1;
}

/** `s.startsWith(a)`; lastIndexOf(a, 0) only looks at offset 0 and is inlined where startsWith is not. */
function startsWith(s: string, a: string): boolean {
  return s.length >= a.length && s.lastIndexOf(a, 0) === 0;
}

/** Splits a pattern into literal runs, `_` and `%` (consecutive `%` merged). */
function parsePattern(pattern: string): Part[] {
  const parts: Part[] = [];
  let lit = "";
  const flush = () => {
    if (lit) parts.push({ kind: LIT, text: lit });
    lit = "";
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    const after = pattern[i + 1];
    if (ch === "\\" && (after === "%" || after === "_")) {
      lit += after;
      i++;
    } else if (ch === "%") {
      flush();
      if (parts[parts.length - 1]?.kind !== ANY) parts.push({ kind: ANY, text: "" });
    } else if (ch === "_") {
      flush();
      parts.push({ kind: ONE, text: "" });
    } else lit += ch;
  }
  flush();
  return parts;
}

/**
 * Compiles a LIKE pattern once into a matcher: `%` any run (including none), `_` exactly one
 * character, `\%` and `\_` literal, anything else (a lone backslash included) itself. Matching is
 * anchored, case-sensitive and by code point. No RegExp is built from the pattern, and matching
 * allocates nothing; the common shapes (`abc`, `abc%`, `%abc`, `%abc%`) become a single string
 * method call.
 *
 * @example
 * compileLike("com.%.created")("com.example.created"); // true
 * compileLike("100\\%")("100%"); // true
 */
export function compileLike(pattern: string): (s: string) => boolean {
  const parts = parsePattern(pattern);
  const kinds = parts.map((p) => p.kind).join(",");
  const t = (i: number) => parts[i]!.text;
  switch (kinds) {
    case "": return (s) => s === "";
    case `${ANY}`: return () => true;
    case `${LIT}`: { const a = t(0); return (s) => s === a; }
    case `${LIT},${ANY}`: { const a = t(0); return (s) => startsWith(s, a); }
    case `${ANY},${LIT}`: { const a = t(1); return (s) => s.endsWith(a); }
    case `${ANY},${LIT},${ANY}`: { const a = t(1); return (s) => s.includes(a); }
    case `${LIT},${ANY},${LIT}`: {
      const a = t(0);
      const b = t(2);
      return (s) => s.length >= a.length + b.length && startsWith(s, a) && s.endsWith(b);
    }
  }
  const n = parts.length;
  return (s) => {
    // Wildcard matching with one backtrack point (the last `%`): O(len(s) * len(pattern)) at
    // worst, never exponential.
    let si = 0;
    let pi = 0;
    let star = -1;
    let mark = 0;
    while (si < s.length) {
      if (pi < n) {
        const p = parts[pi]!;
        if (p.kind === ONE) {
          si = nextCodePoint(s, si);
          pi++;
          continue;
        }
        if (p.kind === ANY) {
          star = pi++;
          mark = si;
          continue;
        }
        if (s.startsWith(p.text, si)) {
          si += p.text.length;
          pi++;
          continue;
        }
      }
      if (star < 0) return false;
      pi = star + 1;
      mark = nextCodePoint(s, mark);
      si = mark;
    }
    while (pi < n && parts[pi]!.kind === ANY) pi++;
    return pi === n;
  };
}
