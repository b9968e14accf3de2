import { ApiError, showValue } from "../errors.js";
import { fieldPath, jsonChildren, MAX_MANIFEST_DEPTH, treeTooDeep } from "../nesting.js";
import { apiVersionOf, type AdmissionContext, type KindDef } from "./kind.js";
import type { Manifest, Resource } from "./types.js";
import { isObject, validateName } from "./validate.js";

export interface AdmitInput {
  body: unknown;
  kind: KindDef;
  ctx: AdmissionContext;
  /** The name from the URL (PUT); undefined on POST. */
  name?: string;
  old?: Resource;
  now: string;
  uid: string;
  resourceVersion: string;
  /** A random suffix for `metadata.generateName`. */
  suffix: string;
}

/**
 * Turns a submitted manifest into the object to store: checks that it belongs at this URL, applies
 * Knative's defaults, validates (422 naming every bad field) and fills the server-owned metadata.
 * `generation` moves only when the spec changes, as in Kubernetes.
 *
 * @example
 * const obj = admit({ body, kind: BrokerKind, ctx, now, uid: crypto.randomUUID(), resourceVersion: "7", suffix: "x1b2c" });
 */
export function admit(input: AdmitInput): Resource {
  const { body, kind, ctx, old } = input;
  const apiVersion = apiVersionOf(kind);
  if (!isObject(body)) throw new ApiError(400, `the body must be a ${kind.kind} object in JSON or YAML`);
  // structuredClone, JSON.stringify and the RPC that carries the object recurse per level.
  const deep = treeTooDeep(body, MAX_MANIFEST_DEPTH, jsonChildren);
  if (deep) {
    throw new ApiError(400, `the ${kind.kind} nests deeper than ${MAX_MANIFEST_DEPTH} levels at ${fieldPath(deep.path)} (or contains itself): manifests may nest objects and lists at most ${MAX_MANIFEST_DEPTH} levels deep`);
  }
  const obj = structuredClone(body) as Manifest;
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw new ApiError(400, `apiVersion ${showValue(obj.apiVersion)} does not match this URL, which serves ${apiVersion}`);
  }
  if (obj.kind !== undefined && obj.kind !== kind.kind) {
    throw new ApiError(400, `kind ${showValue(obj.kind)} does not match this URL, which serves ${kind.kind}`);
  }
  if (obj.metadata !== undefined && !isObject(obj.metadata)) throw new ApiError(400, "metadata must be an object");
  const meta = (obj.metadata ??= {});
  if (meta.namespace !== undefined && meta.namespace !== ctx.namespace) {
    throw new ApiError(400, `metadata.namespace ${showValue(meta.namespace)} does not match the namespace in the URL ("${ctx.namespace}")`);
  }
  if (input.name !== undefined) {
    if (meta.name !== undefined && meta.name !== input.name) {
      throw new ApiError(400, `metadata.name ${showValue(meta.name)} does not match the name in the URL ("${input.name}")`);
    }
    meta.name = input.name;
  } else if (meta.name === undefined && typeof meta.generateName === "string") {
    meta.name = `${meta.generateName}${input.suffix}`;
  }
  const nameErrs = (kind.validName ?? validateName)(meta.name, "metadata.name");
  if (nameErrs.length) throw ApiError.invalid(kind.kind, typeof meta.name === "string" ? meta.name : undefined, nameErrs, kind.group);
  for (const f of ["labels", "annotations"] as const) {
    const m = meta[f];
    if (m !== undefined && (!isObject(m) || Object.values(m).some((v) => typeof v !== "string"))) {
      throw ApiError.invalid(kind.kind, meta.name as string, [{ field: `metadata.${f}`, message: "must map strings to strings" }], kind.group);
    }
  }
  if (kind.fields && obj.spec !== undefined) {
    throw ApiError.invalid(kind.kind, meta.name as string, [{ field: "spec", message: `a ${kind.kind} has no spec: its fields are ${kind.fields.join(", ")}` }], kind.group);
  }
  if (obj.spec !== undefined && !isObject(obj.spec)) {
    throw ApiError.invalid(kind.kind, meta.name as string, [{ field: "spec", message: "must be an object" }], kind.group);
  }

  keepServerOwned(kind, obj, old);
  kind.defaults(obj, ctx);
  const errs = kind.validate(obj, old, ctx);
  if (errs.length) throw ApiError.invalid(kind.kind, meta.name as string, errs, kind.group);

  const name = meta.name as string;
  const content = (o: Manifest | Resource) => JSON.stringify(kind.fields ? kind.fields.map((f) => o[f] ?? null) : o.spec ?? {});
  const specChanged = !old || content(old) !== content(obj);
  const resource: Resource = {
    apiVersion,
    kind: kind.kind,
    metadata: {
      name,
      // Cluster-scoped objects have no namespace (the cluster scope's object stores them under "").
      ...(kind.clusterScoped ? {} : { namespace: ctx.namespace }),
      uid: old?.metadata.uid ?? input.uid,
      generation: old ? old.metadata.generation + (specChanged ? 1 : 0) : 1,
      resourceVersion: input.resourceVersion,
      creationTimestamp: old?.metadata.creationTimestamp ?? input.now,
      ...(meta.labels && Object.keys(meta.labels).length ? { labels: meta.labels as Record<string, string> } : {}),
      ...(meta.annotations && Object.keys(meta.annotations).length ? { annotations: meta.annotations as Record<string, string> } : {}),
      ...managedFields(meta.managedFields, old),
      // Server-owned: what a client sends is ignored (Eddy sets them on what it manages).
      ...(old?.metadata.ownerReferences ? { ownerReferences: old.metadata.ownerReferences } : {}),
    },
  } as Resource;
  if (kind.fields) {
    for (const f of kind.fields) if (obj[f] !== undefined) resource[f] = obj[f];
  } else resource.spec = obj.spec ?? {};
  if (old?.status) resource.status = old.status;
  return resource;
}

/**
 * Server-owned spec fields keep their stored value whatever the client sends, so no write can
 * break them; a value other than the stored one (or none, or an empty list) is refused with 422,
 * as Knative refuses a user's change to an InMemoryChannel's `spec.subscribers`. Sending back what
 * was read is fine, so GET-edit-PUT round trips work.
 */
function keepServerOwned(kind: KindDef, obj: Manifest, old: Resource | undefined): void {
  const spec = obj.spec;
  for (const [f, howToChange] of Object.entries(kind.serverOwnedSpec ?? {})) {
    const stored = old?.spec?.[f];
    const sent = spec?.[f];
    const same = sent === undefined || JSON.stringify(sent) === JSON.stringify(stored)
      || (stored === undefined && Array.isArray(sent) && sent.length === 0);
    if (!same) {
      throw ApiError.invalid(kind.kind, obj.metadata?.name as string, [{
        field: `spec.${f}`,
        message: `is written by Eddy and cannot be set: leave it out, or send back the value last read (read the ${kind.kind} again if it changed since); ${howToChange}`,
      }], kind.group);
    }
    if (!spec) continue;
    delete spec[f]; // then last, where reconcile writes it, so equal specs stay equal as JSON
    if (stored !== undefined) spec[f] = structuredClone(stored);
  }
}

/** Kept as the API computed them (core/kube/managed.ts); a write that sends none keeps the old ones. */
function managedFields(sent: unknown, old: Resource | undefined): { managedFields?: unknown[] } {
  if (Array.isArray(sent) && sent.length > 0 && sent.every(isObject)) return { managedFields: sent };
  return old?.metadata.managedFields ? { managedFields: old.metadata.managedFields } : {};
}
