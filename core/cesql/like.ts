type Part = { kind: "lit"; ch: string } | { kind: "one" } | { kind: "any" };

/**
 * Compiles a LIKE pattern once: `%` any run, `_` one character, `\%` and `\_` literal, anything
 * else (a lone backslash included) itself. Matching is case-sensitive, anchored, by code point,
 * and never builds a RegExp from user input.
 *
 * @example
 * compileLike("com.%.created")("com.example.created"); // true
 */
export function compileLike(pattern: string): (s: string) => boolean {
  const chars = Array.from(pattern);
  const parts: Part[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "\\" && (chars[i + 1] === "%" || chars[i + 1] === "_")) {
      parts.push({ kind: "lit", ch: chars[++i]! });
    } else if (ch === "%") {
      if (parts[parts.length - 1]?.kind !== "any") parts.push({ kind: "any" });
    } else if (ch === "_") parts.push({ kind: "one" });
    else parts.push({ kind: "lit", ch });
  }
  return (input) => {
    const s = Array.from(input);
    // Iterative wildcard matching with one backtrack point: O(n·m) worst case.
    let si = 0;
    let pi = 0;
    let star = -1;
    let mark = 0;
    while (si < s.length) {
      const p = parts[pi];
      if (p && (p.kind === "one" || (p.kind === "lit" && p.ch === s[si]))) {
        si++;
        pi++;
      } else if (p && p.kind === "any") {
        star = pi++;
        mark = si;
      } else if (star >= 0) {
        pi = star + 1;
        si = ++mark;
      } else return false;
    }
    while (parts[pi]?.kind === "any") pi++;
    return pi === parts.length;
  };
}
