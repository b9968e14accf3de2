import type { Schema } from "./crds.js";

/** Schema names of the apimachinery types every group-version document refers to. */
export const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

const s = (description: string, type = "string", extra: Schema = {}): Schema => ({ type, description, ...extra });
const ref = (name: string, description?: string): Schema =>
  description ? { description, allOf: [{ $ref: `#/components/schemas/${META}.${name}` }] } : { $ref: `#/components/schemas/${META}.${name}` };

/**
 * The parts of Kubernetes' `meta/v1` OpenAPI that Eddy's objects use, described in Eddy's terms
 * (what Eddy does with each field) so that `kubectl explain broker.metadata` is accurate here.
 */
export const META_SCHEMAS: Record<string, Schema> = {
  [`${META}.ObjectMeta`]: {
    type: "object",
    description: "ObjectMeta is metadata that all persisted resources must have.",
    properties: {
      name: s("Name must be unique within a namespace for its kind: at most 63 lower-case letters, digits and '-'."),
      generateName: s("GenerateName is a prefix to which the server appends a random suffix when name is not given (POST only)."),
      namespace: s("Namespace of the object; it must match the namespace of the URL."),
      uid: s("UID is set by the server when the object is created and never changes. Read-only."),
      resourceVersion: s("An opaque value that changes on every change of the object, status included. Send it back on a write to have the write refused (409) when someone else changed the object first. Read-only."),
      generation: s("A sequence number that moves when the spec changes. Read-only.", "integer", { format: "int64" }),
      creationTimestamp: s("When the object was created, RFC 3339 UTC. Read-only.", "string", { format: "date-time" }),
      deletionTimestamp: s("Not used by Eddy: objects are deleted at once.", "string", { format: "date-time" }),
      deletionGracePeriodSeconds: s("Not used by Eddy.", "integer", { format: "int64" }),
      labels: s("Map of string keys and values, for selecting objects (labelSelector).", "object", { additionalProperties: { type: "string", default: "" } }),
      annotations: s("Map of string keys and values for tools and for Eddy's own options (eventing.knative.dev/broker.class, eddy.dev/...).", "object", { additionalProperties: { type: "string", default: "" } }),
      ownerReferences: s("Accepted and ignored by Eddy: there is no garbage collector.", "array", { items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } }),
      finalizers: s("Accepted and ignored by Eddy.", "array", { items: { type: "string", default: "" } }),
      managedFields: s("Which field manager set which fields, maintained by the server for server-side apply. Read-only in practice.", "array", { items: ref("ManagedFieldsEntry") }),
    },
  },
  [`${META}.ManagedFieldsEntry`]: {
    type: "object",
    description: "ManagedFieldsEntry records the fields one manager set, and by which operation.",
    properties: {
      manager: s("The field manager: ?fieldManager= of the write, or the client's User-Agent up to its first '/'."),
      operation: s("Apply (server-side apply) or Update (any other write)."),
      apiVersion: s("The version of the fields described."),
      time: s("When this entry last changed.", "string", { format: "date-time" }),
      fieldsType: s("Always FieldsV1."),
      fieldsV1: s("The set of fields, in Kubernetes' FieldsV1 form.", "object"),
    },
  },
  [`${META}.ListMeta`]: {
    type: "object",
    description: "ListMeta describes a list.",
    properties: {
      resourceVersion: s("The version of the namespace when the list was made: watch from it to miss nothing."),
      continue: s("Not used by Eddy: lists are never paged."),
    },
  },
  [`${META}.Status`]: {
    type: "object",
    description: "Status is the answer to a failed request, or to a delete.",
    properties: {
      apiVersion: s("v1"), kind: s("Status"),
      status: s("Success or Failure."), message: s("What went wrong and how to fix it."),
      reason: s("A machine-readable reason (NotFound, AlreadyExists, Conflict, Invalid, ...)."),
      code: s("The HTTP status code.", "integer", { format: "int32" }),
      details: s("The object concerned and, for Invalid, a cause per field.", "object", { "x-kubernetes-preserve-unknown-fields": true }),
    },
  },
  [`${META}.DeleteOptions`]: {
    type: "object",
    description: "DeleteOptions may be sent as the body of a DELETE.",
    properties: {
      apiVersion: s("v1"), kind: s("DeleteOptions"),
      dryRun: s("[All]: check that the delete would succeed, and delete nothing.", "array", { items: { type: "string", default: "" } }),
      preconditions: s("Refuse the delete (409) unless the object has this uid and/or resourceVersion.", "object", { properties: { uid: s("UID"), resourceVersion: s("ResourceVersion") } }),
      propagationPolicy: s("Accepted and ignored: Eddy's objects own no other objects."),
      gracePeriodSeconds: s("Accepted and ignored.", "integer", { format: "int64" }),
    },
  },
  [`${META}.Patch`]: { type: "object", description: "A merge patch, a JSON patch, or an applied configuration (server-side apply)." },
  [`${META}.WatchEvent`]: {
    type: "object",
    description: "One line of a watch: ADDED, MODIFIED or DELETED with the object.",
    required: ["type", "object"],
    properties: { type: s("ADDED, MODIFIED or DELETED."), object: s("The object as it is after the change.", "object") },
  },
};

export const objectMetaRef = (): Schema => ref("ObjectMeta", "Standard object's metadata.");
export const listMetaRef = (): Schema => ref("ListMeta", "Standard list metadata.");
export const metaRef = (name: string): Schema => ref(name);
