import type { Schema } from "./crds.js";

/** The fields of ObjectMeta a client may send. */
const OBJECT_META = new Set([
  "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
]);

const TOP = new Set(["apiVersion", "kind", "metadata"]);

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The fields of a manifest its CRD schema does not declare, as Kubernetes names them
 * (`spec.brokr`, `spec.steps[0].subscribr`), walking `properties`, `items` and `additionalProperties`
 * and stopping where the schema preserves unknown fields. `status` is not looked at: writes ignore it.
 *
 * @example
 * unknownFields({ spec: { brokr: "default" } }, crdOf(TriggerKind).schema); // ["spec.brokr"]
 */
export function unknownFields(obj: unknown, schema: Schema): string[] {
  const out: string[] = [];
  if (!isMap(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === "status") continue;
    if (k === "metadata") {
      if (isMap(v)) for (const m of Object.keys(v)) if (!OBJECT_META.has(m)) out.push(`metadata.${m}`);
      continue;
    }
    if (TOP.has(k)) continue;
    walk(v, schema.properties?.[k], k, out, schema);
  }
  return out;
}

function walk(v: unknown, s: Schema | undefined, path: string, out: string[], parent: Schema): void {
  if (!s) {
    if (!parent["x-kubernetes-preserve-unknown-fields"]) out.push(path);
    return;
  }
  if (s["x-kubernetes-preserve-unknown-fields"] && !s.properties && !s.items) return;
  if (Array.isArray(v)) {
    if (s.items) v.forEach((item, i) => walk(item, s.items, `${path}[${i}]`, out, s));
    return;
  }
  if (!isMap(v)) return;
  for (const [k, child] of Object.entries(v)) {
    const p = `${path}.${k}`;
    const declared = s.properties?.[k];
    if (declared) walk(child, declared, p, out, s);
    else if (isMap(s.additionalProperties)) walk(child, s.additionalProperties, p, out, s);
    else if (s.additionalProperties === true || s["x-kubernetes-preserve-unknown-fields"]) continue;
    else out.push(p);
  }
}

/** Removes the given fields (as unknownFields names them) from a manifest, as Kubernetes prunes them. */
export function prune(obj: Record<string, unknown>, fields: string[]): void {
  for (const f of fields) {
    const keys = f.match(/[^.[\]]+|\[\d+\]/g) ?? [];
    let cur: unknown = obj;
    for (let i = 0; i < keys.length - 1 && cur !== undefined; i++) {
      const k = keys[i]!;
      cur = k.startsWith("[") ? (cur as unknown[])[Number(k.slice(1, -1))] : (cur as Record<string, unknown>)[k];
    }
    const last = keys[keys.length - 1];
    if (isMap(cur) && last !== undefined) delete cur[last];
  }
}
