import { ApiError } from "../errors.js";
import type { Manifest, Resource } from "../resources/types.js";
import { deepEqual, fieldsOf, fromFieldsV1, isMap, overlaps, removeAt, toFieldsV1, unkey, valueAt } from "./fieldset.js";

/** One entry of `metadata.managedFields`. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fieldsType: "FieldsV1";
  fieldsV1: Record<string, unknown>;
}

interface Owner {
  manager: string;
  operation: "Apply" | "Update";
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

/** Kubernetes' timestamps are RFC 3339 in whole seconds. */
export function managedTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z");
}

/** The field manager of a request: `?fieldManager=`, else the User-Agent up to its first `/`, as Kubernetes does. */
export function managerOf(fieldManager: string | undefined | null, userAgent: string | undefined | null): string {
  if (fieldManager) {
    if (fieldManager.length > 128 || /[^\x20-\x7e]/.test(fieldManager)) {
      throw new ApiError(400, "fieldManager must be at most 128 printable characters", [], {}, {}, "BadRequest");
    }
    return fieldManager;
  }
  return (userAgent ?? "").split("/")[0]!.trim().slice(0, 128) || "unknown";
}

function owners(obj: Resource | undefined): Owner[] {
  const list = obj?.metadata.managedFields;
  if (!Array.isArray(list)) return [];
  return list.filter(isMap).map((e) => ({
    manager: String(e.manager ?? ""), operation: e.operation === "Apply" ? "Apply" : "Update",
    apiVersion: String(e.apiVersion ?? ""), time: String(e.time ?? ""), fields: fromFieldsV1(e.fieldsV1),
  }));
}

function entries(list: Owner[]): ManagedFieldsEntry[] {
  return list.filter((o) => o.fields.size > 0).map((o) => ({
    manager: o.manager, operation: o.operation, apiVersion: o.apiVersion, time: o.time, fieldsType: "FieldsV1", fieldsV1: toFieldsV1(o.fields),
  }));
}

function ownerOf(list: Owner[], manager: string, operation: Owner["operation"], apiVersion: string, time: string): Owner {
  let o = list.find((x) => x.manager === manager && x.operation === operation);
  if (!o) list.push((o = { manager, operation, apiVersion, time, fields: new Set() }));
  o.apiVersion = apiVersion;
  o.time = time;
  return o;
}

/**
 * managedFields after an update (POST, PUT, merge or JSON patch) by `manager`: it takes every field
 * it set or changed; fields that disappeared leave every owner.
 *
 * @example
 * next.metadata.managedFields = afterUpdate(old, next, "kubectl-client-side-apply", "eventing.knative.dev/v1", new Date());
 */
export function afterUpdate(old: Resource | undefined, next: Manifest | Resource, manager: string, apiVersion: string, now: Date): ManagedFieldsEntry[] {
  const list = owners(old);
  const before = fieldsOf(old);
  const after = fieldsOf(next);
  const changed = [...after].filter((k) => !before.has(k) || !deepEqual(valueAt(old, unkey(k)), valueAt(next, unkey(k))));
  const gone = [...before].filter((k) => !after.has(k));
  if (changed.length === 0 && gone.length === 0 && old) return entries(list);
  const time = managedTime(now);
  for (const o of list) {
    for (const k of gone) o.fields.delete(k);
    for (const k of changed) o.fields.delete(k);
    // A field that became a map (or stopped being one) changes its leaves' paths: drop stale ones.
    for (const k of [...o.fields]) if (!after.has(k)) o.fields.delete(k);
  }
  const mine = ownerOf(list, manager, "Update", apiVersion, time);
  for (const k of changed) mine.fields.add(k);
  return entries(list);
}

function merge(base: unknown, config: unknown): unknown {
  if (!isMap(config) || !isMap(base)) return structuredClone(config);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(config)) out[k] = merge(out[k], v);
  return out;
}

/** kubectl's own field manager for `kubectl apply --server-side`. */
const KUBECTL = "kubectl";
/** The annotation client-side `kubectl apply` keeps its last configuration in. */
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

interface Conflict {
  owner: Owner;
  /** The owned field (a key of `owner.fields`). */
  key: string;
  manager: string;
  field: string;
}

/** Fields other managers own that the configuration sets to another value. */
function conflictsOf(list: Owner[], live: Resource | undefined, config: Manifest, applied: Set<string>, manager: string): Conflict[] {
  const out: Conflict[] = [];
  for (const o of list) {
    if (o.manager === manager && o.operation === "Apply") continue;
    for (const k of o.fields) {
      const p = unkey(k);
      for (const a of applied) {
        const q = unkey(a);
        if (!overlaps(p, q)) continue;
        if (p.length === q.length && deepEqual(valueAt(live, p), valueAt(config, q))) continue; // same value: shared
        out.push({ owner: o, key: k, manager: o.manager, field: `.${(p.length > q.length ? p : q).join(".")}` });
        break;
      }
    }
  }
  return out;
}

/** The client-side apply configuration kept in the live object, when it is of this apiVersion. */
function lastApplied(live: Resource | undefined, apiVersion: string): Record<string, unknown> | undefined {
  const text = live?.metadata.annotations?.[LAST_APPLIED];
  if (typeof text !== "string" || text === "") return undefined;
  try {
    const obj = JSON.parse(text) as unknown;
    return isMap(obj) && obj.apiVersion === apiVersion ? obj : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fields `kubectl apply --server-side` may take over without a conflict, as a Kubernetes API
 * server lets it (the documented migration from client-side apply): those the last-applied
 * configuration sets and whose live value is still the one it set. Only for kubectl's own manager.
 */
function takeOverable(live: Resource | undefined, manager: string, apiVersion: string): Set<string> {
  const last = manager === KUBECTL ? lastApplied(live, apiVersion) : undefined;
  if (!last) return new Set();
  return new Set([...fieldsOf(last)].filter((k) => deepEqual(valueAt(last, unkey(k)), valueAt(live, unkey(k)))));
}

/**
 * Server-side apply (`PATCH` with `application/apply-patch+yaml`): the applied configuration is
 * merged into the live object; fields this manager applied before and no longer applies are
 * removed unless another manager owns them; a field another manager owns with a different value is
 * a conflict (409 naming the manager and the field) unless `force` takes it over. As on a
 * Kubernetes API server, kubectl's own apply (manager `kubectl`) takes over without a conflict the
 * fields of a client-side `kubectl apply` whose live value still matches the last-applied
 * annotation, and keeps that annotation up to date when the object has one.
 *
 * @example
 * const { object } = serverSideApply(live, config, "kubectl", false, "eventing.knative.dev/v1", new Date());
 */
export function serverSideApply(
  live: Resource | undefined, config: Manifest, manager: string, force: boolean, apiVersion: string, now: Date,
): { object: Manifest } {
  const list = owners(live);
  const applied = fieldsOf(config);
  const found = conflictsOf(list, live, config, applied, manager);
  const allowed = found.length && !force ? takeOverable(live, manager, apiVersion) : new Set<string>();
  const conflicts = force ? [] : found.filter((c) => !allowed.has(c.key));
  if (conflicts.length) {
    const msg = conflicts.map((c) => `conflict with "${c.manager}": ${c.field}`).join("; ");
    throw new ApiError(409, `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? "s" : ""}: ${msg}; apply again with force (kubectl apply --server-side --force-conflicts) to take these fields over, or leave them out of your configuration`,
      conflicts.map((c) => ({ field: c.field, message: `conflict with "${c.manager}"` })), {}, {}, "Conflict");
  }
  for (const c of found) c.owner.fields.delete(c.key);
  const object = structuredClone((live ?? {}) as Manifest) as Record<string, unknown>;
  delete object.status;
  const mine = ownerOf(list, manager, "Apply", apiVersion, managedTime(now));
  const others = new Set(list.filter((o) => o !== mine).flatMap((o) => [...o.fields]));
  for (const k of mine.fields) if (!applied.has(k) && !others.has(k)) removeAt(object, unkey(k));
  const merged = merge(object, stripped(config)) as Manifest;
  mine.fields = new Set(applied);
  // Fields taken over by this apply, or shared at the same value, stay with their other owners.
  for (const o of list) if (o !== mine) for (const k of [...o.fields]) if (!fieldsOf(merged).has(k)) o.fields.delete(k);
  (merged.metadata ??= {}).managedFields = entries(list);
  if (manager === KUBECTL && typeof live?.metadata.annotations?.[LAST_APPLIED] === "string") {
    merged.metadata.annotations = { ...merged.metadata.annotations, [LAST_APPLIED]: lastAppliedOf(config) };
  }
  return { object: merged };
}

/** The last-applied annotation's value for an applied configuration: the configuration without it. */
function lastAppliedOf(config: Manifest): string {
  const out = structuredClone(config) as Record<string, unknown>;
  if (isMap(out.metadata) && isMap(out.metadata.annotations)) {
    delete out.metadata.annotations[LAST_APPLIED];
    if (Object.keys(out.metadata.annotations).length === 0) delete out.metadata.annotations;
  }
  return JSON.stringify(out);
}

/** The configuration without what apply must not set: status and server-owned metadata. */
function stripped(config: Manifest): Manifest {
  const out = structuredClone(config) as Record<string, unknown>;
  delete out.status;
  if (isMap(out.metadata)) for (const f of ["managedFields", "uid", "creationTimestamp", "generation"]) delete out.metadata[f];
  return out as Manifest;
}
