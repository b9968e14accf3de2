/**
 * Nesting limits, checked without recursion. Every parser and walker that recurses per level of its
 * input (the `yaml` composer, structuredClone, JSON.stringify, RPC serialisation between a Worker
 * and its Durable Objects) overflows the stack at some depth, and where that depth lies depends on
 * how deep the stack already is. So input is measured first, by a loop with an explicit counter or
 * stack, and refused above a limit far below any of those depths.
 */

/** Objects and arrays an event's JSON data may nest, counting the outermost (`[[1]]` is 2). */
export const MAX_JSON_DEPTH = 64;

/**
 * Objects and arrays a resource manifest may nest. Above MAX_JSON_DEPTH because a Trigger's
 * filters may nest all/any/not 32 deep, two JSON levels each, under `spec.filters`.
 */
export const MAX_MANIFEST_DEPTH = 100;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The byte offset of the first `[` or `{` that opens a level deeper than `max`, or -1 when the
 * JSON text never nests deeper. One pass that does not validate: brackets inside strings are
 * skipped (escapes honoured), so the answer is meaningful for truncated or invalid text too, and a
 * body of 5,000 `[` is caught at byte `max` without reading the rest.
 *
 * @example
 * jsonTooDeepAt(new TextEncoder().encode('{"a":[[1]]}'), 2); // 6: the second `[` opens level 3
 * jsonTooDeepAt(new TextEncoder().encode('["[[[["]'), 1);    // -1: brackets in strings do not count
 */
export function jsonTooDeepAt(b: Uint8Array, max: number): number {
  let depth = 0;
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === QUOTE) {
      i = stringEnd(b, i);
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return -1;
}

/** Index of the closing quote of the string whose opening quote is at `i` (or the last index). */
function stringEnd(b: Uint8Array, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = b.indexOf(QUOTE, from); // memchr speed across long text payloads
    if (q < 0) return b.length - 1;
    let k = q - 1;
    while (k > i && b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q; // an even run of backslashes escapes only themselves
    from = q + 1;
  }
}

/** A key on the way from the root to a node: an object member name or an array index. */
export type PathKey = string | number;

/** Where a walk found a node deeper than its limit. */
export interface TooDeep<N> {
  node: N;
  /** The keys from the root down to `node` (its length is the limit). */
  path: PathKey[];
}

/**
 * Finds a node deeper than `max` in a tree, with an explicit stack. The root is level 1 when it is
 * a container (when `children` gives it any); leaves add no level. A node reached again by another
 * path (a YAML alias makes a graph) is walked again only when reached at a greater depth, so a
 * graph costs at most `max` visits per node, and a cycle is reported as too deep.
 *
 * @example
 * treeTooDeep({ a: [[1]] }, 2, jsonChildren)?.path; // ["a", 0]
 */
export function treeTooDeep<N>(root: N, max: number, children: (n: N) => Iterable<[PathKey, N]> | undefined): TooDeep<N> | undefined {
  const seen = new Map<N, number>();
  // Entries point at their parent, so the path is only spelled out for the node that is reported.
  const stack: Entry<N>[] = [{ node: root, depth: 1 }];
  while (stack.length > 0) {
    const e = stack.pop()!;
    const kids = children(e.node);
    if (!kids) continue;
    if (e.depth > max) return { node: e.node, path: pathOf(e) };
    if (typeof e.node === "object" && e.node !== null) {
      const before = seen.get(e.node);
      if (before !== undefined && before >= e.depth) continue;
      seen.set(e.node, e.depth);
    }
    for (const [key, node] of kids) stack.push({ node, depth: e.depth + 1, parent: e, key });
  }
  return undefined;
}

interface Entry<N> {
  node: N;
  depth: number;
  parent?: Entry<N>;
  key?: PathKey;
}

function pathOf<N>(e: Entry<N>): PathKey[] {
  const path: PathKey[] = [];
  for (let at: Entry<N> | undefined = e; at?.parent; at = at.parent) path.push(at.key!);
  return path.reverse();
}

/** Children of a parsed JSON (or YAML) value: object members and array elements. */
export function jsonChildren(v: unknown): Iterable<[PathKey, unknown]> | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x, i): [PathKey, unknown] => [i, x]);
  return Object.entries(v);
}

/**
 * A path as a field name for messages, cut after a few keys: `spec.a[0].b…`.
 *
 * @example
 * fieldPath(["spec", "filters", 0, "all"]); // "spec.filters[0].all"
 */
export function fieldPath(path: PathKey[], keep = 6): string {
  let s = "";
  for (const k of path.slice(0, keep)) s += typeof k === "number" ? `[${k}]` : s === "" ? k : `.${k}`;
  return path.length > keep ? `${s}…` : s || "(the root)";
}
