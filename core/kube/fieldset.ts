/**
 * Sets of field paths, the unit of ownership in server-side apply. A path is a list of map keys
 * ending at a leaf: a scalar, a list (lists are atomic, as for custom resources without list
 * types) or an empty map. Only what a client sets is tracked: `metadata.labels`,
 * `metadata.annotations` and everything outside apiVersion, kind, metadata and status.
 */
export type Path = string[];

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

export const key = (p: Path): string => JSON.stringify(p);
export const unkey = (k: string): Path => JSON.parse(k) as Path;

function leaves(v: unknown, prefix: Path, out: Set<string>): void {
  if (isMap(v) && Object.keys(v).length > 0) {
    for (const [k, child] of Object.entries(v)) leaves(child, [...prefix, k], out);
  } else out.add(key(prefix));
}

/** The tracked leaf paths of an object. */
export function fieldsOf(obj: unknown): Set<string> {
  const out = new Set<string>();
  if (!isMap(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind" || k === "status") continue;
    if (k === "metadata") {
      if (!isMap(v)) continue;
      for (const m of ["labels", "annotations"]) if (isMap(v[m])) leaves(v[m], ["metadata", m], out);
      continue;
    }
    leaves(v, [k], out);
  }
  return out;
}

export function valueAt(obj: unknown, p: Path): unknown {
  let cur = obj;
  for (const k of p) cur = isMap(cur) ? cur[k] : undefined;
  return cur;
}

/** True when one path is the other or lies under it (`spec.a` and `spec.a.b`). */
export function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Removes a leaf, and the maps it leaves empty. */
export function removeAt(obj: Record<string, unknown>, p: Path): void {
  const chain: Record<string, unknown>[] = [obj];
  for (const k of p.slice(0, -1)) {
    const next = chain[chain.length - 1]![k];
    if (!isMap(next)) return;
    chain.push(next);
  }
  delete chain[chain.length - 1]![p[p.length - 1]!];
  for (let i = chain.length - 1; i > 0; i--) {
    if (Object.keys(chain[i]!).length > 0) break;
    delete chain[i - 1]![p[i - 1]!];
  }
}

/** Kubernetes' FieldsV1 form of a set: `{"f:spec":{"f:broker":{}}}`. */
export function toFieldsV1(set: Iterable<string>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const k of set) {
    let cur = root;
    for (const part of unkey(k)) cur = (cur[`f:${part}`] ??= {}) as Record<string, unknown>;
  }
  return root;
}

export function fromFieldsV1(v: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, prefix: Path) => {
    const children = isMap(node) ? Object.keys(node).filter((k) => k.startsWith("f:")) : [];
    if (children.length === 0) {
      if (prefix.length) out.add(key(prefix));
      return;
    }
    for (const c of children) walk((node as Record<string, unknown>)[c], [...prefix, c.slice(2)]);
  };
  walk(v, []);
  return out;
}
