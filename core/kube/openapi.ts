import type { KindDef } from "../resources/kind.js";
import { crdOf, type Schema } from "./crds.js";
import { groupsOf } from "./discovery.js";
import { listMetaRef, META, META_SCHEMAS, metaRef, objectMetaRef } from "./openapi-meta.js";

/** Kubernetes' schema names: the group reversed, then version and kind (`dev.knative.eventing.v1.Broker`). */
export function schemaName(group: string, version: string, kind: string): string {
  const prefix = group ? group.split(".").reverse().join(".") : "io.k8s.api.core";
  return `${prefix}.${version}.${kind}`;
}

const NAMESPACE_SCHEMA: Schema = {
  type: "object",
  description: "Namespace groups objects. In Eddy a namespace exists once an object is created in it (or kubectl create namespace); each is its own Durable Object.",
  properties: {
    spec: { type: "object", description: "Accepted and ignored.", properties: { finalizers: { type: "array", items: { type: "string" } } } },
    status: { type: "object", description: "Always phase Active.", properties: { phase: { type: "string" } } },
  },
};

/** The schemas of one group-version's kinds, and of their lists. */
function kindSchemas(kinds: readonly KindDef[], group: string, version: string): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const entries: { kind: string; schema: Schema }[] = kinds.filter((k) => k.group === group && k.version === version).map((k) => ({ kind: k.kind, schema: crdOf(k).schema }));
  if (!group && version === "v1") entries.push({ kind: "Namespace", schema: NAMESPACE_SCHEMA });
  for (const { kind, schema } of entries) {
    const gvk = [{ group, kind, version }];
    const name = schemaName(group, version, kind);
    out[name] = {
      ...schema,
      type: "object",
      properties: {
        apiVersion: { type: "string", description: `APIVersion of this object: ${group ? `${group}/` : ""}${version}.` },
        kind: { type: "string", description: `Kind of this object: ${kind}.` },
        metadata: objectMetaRef(),
        ...schema.properties,
      },
      "x-kubernetes-group-version-kind": gvk,
    };
    out[`${name}List`] = {
      type: "object",
      description: `${kind}List is a list of ${kind}.`,
      required: ["items"],
      properties: {
        apiVersion: { type: "string", description: "APIVersion of the list." },
        kind: { type: "string", description: `${kind}List.` },
        metadata: listMetaRef(),
        items: { type: "array", description: `List of ${kind.toLowerCase()}s.`, items: { $ref: `#/components/schemas/${name}` } },
      },
      "x-kubernetes-group-version-kind": [{ group, kind: `${kind}List`, version }],
    };
  }
  return out;
}

/** An OpenAPI object that is not a schema (parameters, bodies, responses, path items). */
type Obj = Record<string, unknown>;

const q = (name: string, description: string, type = "string"): Obj => ({ name, in: "query", description, schema: { type, uniqueItems: true } });
const WRITE_PARAMS = [
  q("dryRun", "All: validate and default, store nothing."),
  q("fieldManager", "The name of the actor making the change (server-side apply)."),
  q("fieldValidation", "Ignore, Warn (default: unknown fields are dropped with a Warning header) or Strict (unknown fields answer 400)."),
];
const body = (name: string, types: string[]): Obj => ({
  required: true,
  content: Object.fromEntries(types.map((t) => [t, { schema: { $ref: `#/components/schemas/${name}` } }])),
});
const ok = (name: string, codes = ["200"]): Obj =>
  Object.fromEntries(codes.map((c) => [c, { description: c === "201" ? "Created" : "OK", content: { "application/json": { schema: { $ref: `#/components/schemas/${name}` } } } }]));

function paths(kinds: readonly KindDef[], group: string, version: string): Record<string, Obj> {
  const out: Record<string, Obj> = {};
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  for (const k of kinds.filter((x) => x.group === group && x.version === version)) {
    const name = schemaName(group, version, k.kind);
    const gvk = { group, version, kind: k.kind };
    const ext = (action: string) => ({ "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk, tags: [`${group || "core"}_${version}`] });
    const ns = { name: "namespace", in: "path", required: true, description: "The namespace.", schema: { type: "string", uniqueItems: true } };
    const named = { name: "name", in: "path", required: true, description: `Name of the ${k.kind}.`, schema: { type: "string", uniqueItems: true } };
    out[`${prefix}/namespaces/{namespace}/${k.plural}`] = {
      parameters: [ns],
      get: {
        operationId: `listNamespaced${k.kind}`, description: `list or watch ${k.plural}`, ...ext("list"),
        parameters: [q("labelSelector", "Select by labels."), q("fieldSelector", "Select by metadata.name or metadata.namespace."), q("watch", "Stream WatchEvents.", "boolean"), q("resourceVersion", "Watch the changes after this version."), q("timeoutSeconds", "End the watch after this many seconds.", "integer")],
        responses: ok(`${name}List`),
      },
      post: { operationId: `createNamespaced${k.kind}`, description: `create a ${k.kind}`, ...ext("post"), parameters: WRITE_PARAMS, requestBody: body(name, ["application/json", "application/yaml"]), responses: ok(name, ["200", "201"]) },
    };
    out[`${prefix}/namespaces/{namespace}/${k.plural}/{name}`] = {
      parameters: [named, ns],
      get: { operationId: `readNamespaced${k.kind}`, description: `read the specified ${k.kind}`, ...ext("get"), responses: ok(name) },
      put: { operationId: `replaceNamespaced${k.kind}`, description: `replace the specified ${k.kind}`, ...ext("put"), parameters: WRITE_PARAMS, requestBody: body(name, ["application/json", "application/yaml"]), responses: ok(name, ["200", "201"]) },
      patch: {
        operationId: `patchNamespaced${k.kind}`, description: `partially update the specified ${k.kind}`, ...ext("patch"),
        parameters: [...WRITE_PARAMS, q("force", "Server-side apply: take over fields other managers own.", "boolean")],
        requestBody: body(`${META}.Patch`, ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]),
        responses: ok(name, ["200", "201"]),
      },
      delete: {
        operationId: `deleteNamespaced${k.kind}`, description: `delete a ${k.kind}`, ...ext("delete"), parameters: [q("dryRun", "All: delete nothing.")],
        requestBody: { content: { "application/json": { schema: metaRef("DeleteOptions") } } },
        responses: ok(`${META}.Status`),
      },
    };
    out[`${prefix}/${k.plural}`] = {
      get: { operationId: `list${k.kind}ForAllNamespaces`, description: `list ${k.plural} in every namespace`, ...ext("list"), responses: ok(`${name}List`) },
    };
  }
  return out;
}

/** The OpenAPI v3 document of one group-version (`/openapi/v3/apis/{group}/{version}`). */
export function v3Document(kinds: readonly KindDef[], group: string, version: string): Record<string, unknown> {
  return {
    openapi: "3.0.0",
    info: { title: "Eddy", version: `${group ? `${group}/` : ""}${version}` },
    paths: paths(kinds, group, version),
    components: { schemas: { ...kindSchemas(kinds, group, version), ...META_SCHEMAS } },
  };
}

/** Every group-version Eddy serves, as `/openapi/v3` keys (`apis/eventing.knative.dev/v1`, `api/v1`). */
export function groupVersions(kinds: readonly KindDef[]): { key: string; group: string; version: string }[] {
  const out = [{ key: "api/v1", group: "", version: "v1" }];
  for (const [group, versions] of groupsOf(kinds)) for (const version of versions) out.push({ key: `apis/${group}/${version}`, group, version });
  return out;
}

/** FNV-1a, enough to tell versions of a document apart in its URL (clients cache by it). */
export function contentHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) h = ((h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).toUpperCase().padStart(16, "0");
}

/** The OpenAPI v2 document: every kind's schema under `definitions` (JSON only). */
export function v2Document(kinds: readonly KindDef[]): Record<string, unknown> {
  const definitions: Record<string, Schema> = { ...META_SCHEMAS };
  for (const gv of groupVersions(kinds)) Object.assign(definitions, kindSchemas(kinds, gv.group, gv.version));
  const text = JSON.stringify({ swagger: "2.0", info: { title: "Eddy", version: "v1" }, paths: {}, definitions })
    .replaceAll("#/components/schemas/", "#/definitions/");
  return JSON.parse(text) as Record<string, unknown>;
}
