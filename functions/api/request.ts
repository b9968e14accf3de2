import { ApiError } from "../../core/errors.js";
import { crdOf, type CrdInfo } from "../../core/kube/crds.js";
import { prune, unknownFields } from "../../core/kube/fields.js";
import { isMap } from "../../core/kube/fieldset.js";
import { managerOf } from "../../core/kube/managed.js";
import { apiVersionOf, type KindDef } from "../../core/resources/kind.js";
import { kindByPath } from "../../core/resources/registry.js";
import type { Resource } from "../../core/resources/types.js";
import type { KindPath, Namespace } from "../../durable-objects/namespace.js";
import type { Result } from "../../core/result.js";
import { type C, clusterScope } from "./context.js";
import { forgetAddresses } from "../ingress/addresses.js";

export type { C } from "./context.js";

/** Where an object request goes: its kind, namespace and the namespace's Durable Object. */
export interface Target {
  ns: string;
  kind: KindDef;
  crd: CrdInfo;
  path: KindPath;
  apiVersion: string;
  stub: DurableObjectStub<Namespace>;
}

const NS_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function checkNamespace(ns: string): void {
  if (!NS_RE.test(ns) || ns.length > 63) {
    throw new ApiError(400, `"${ns}" is not a valid namespace name: use at most 63 lower-case letters, digits and '-'`);
  }
}

/** The kind at `/apis/{group}/{version}/.../{plural}` or `/api/v1/.../{plural}` (core group). */
export function kindAt(c: C): { kind: KindDef; path: KindPath } {
  // `/api/v1/...` routes have no group or version parameter: the core group's only version is v1.
  const { group = "", version = "v1", plural = "" } = c.req.param() as Record<string, string>;
  const kind = kindByPath(group, version, plural);
  if (!kind) {
    throw new ApiError(404, `the server could not find the requested resource: Eddy does not serve ${plural} in ${group ? `${group}/` : ""}${version}; \`kubectl api-resources\` lists what it serves`);
  }
  return { kind, path: { group, version, plural } };
}

/**
 * The kind, namespace and storing object of a request: a namespace's object, or for cluster-scoped
 * kinds the cluster scope's (with namespace ""). A path of the wrong scope is a 404 saying the right one.
 */
export function targetOf(c: C, ns: string | undefined = c.req.param("ns")): Target {
  const { kind, path } = kindAt(c);
  const at = (n: string, stub: Target["stub"]) => ({ ns: n, kind, crd: crdOf(kind), path, apiVersion: apiVersionOf(kind), stub });
  const prefix = path.group ? `/apis/${path.group}/${path.version}` : `/api/${path.version}`;
  if (kind.clusterScoped) {
    if (ns !== undefined) throw new ApiError(404, `${kind.plural} are cluster-scoped: use ${prefix}/${kind.plural}[/{name}], without namespaces/{ns}`, [], {}, {}, "NotFound");
    return at("", clusterScope(c.env));
  }
  if (ns === undefined) throw new ApiError(404, `${kind.plural} live in namespaces: use ${prefix}/namespaces/{namespace}/${kind.plural}/{name}`, [], {}, {}, "NotFound");
  checkNamespace(ns);
  return at(ns, c.env.NAMESPACE.get(c.env.NAMESPACE.idFromName(ns)));
}

/** The base of `status.address.url`: PUBLIC_URL when set, else the origin this API was called on. */
export function baseUrl(c: C): string {
  const configured = c.env.PUBLIC_URL?.replace(/\/+$/, "");
  return configured || new URL(c.req.url).origin;
}

export { unwrap } from "../../core/errors.js";

export function notFound(t: Target, name: string): ApiError {
  return new ApiError(404, `${t.kind.plural}.${t.kind.group || "core"} "${name}" not found in namespace "${t.ns}"`, [], { name, kind: t.kind.plural, group: t.kind.group }, {}, "NotFound");
}

/** The live object (as `show` presents it: a Secret's values opened), or undefined when it does not exist. */
export async function live(t: Target, name: string, show: (r: Resource) => Promise<Resource> = async (r) => r): Promise<Resource | undefined> {
  const r = (await t.stub.get(t.ns, t.path, name)) as Result<Resource>;
  if (r.ok) return show(r.value);
  if (r.status === 404) return undefined;
  throw ApiError.from(r);
}

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: "Ignore" | "Warn" | "Strict";
  manager: string;
}

/** `?dryRun=All`, `?fieldValidation=` and the field manager of a write. */
export function writeOptions(c: C): WriteOptions {
  const dry = c.req.queries("dryRun") ?? [];
  for (const d of dry) if (d !== "All") throw new ApiError(400, `unsupported dryRun value "${d}": the only value is All (kubectl --dry-run=server)`, [], {}, {}, "BadRequest");
  const fv = c.req.query("fieldValidation") ?? "Warn";
  if (fv !== "Ignore" && fv !== "Warn" && fv !== "Strict") {
    throw new ApiError(400, `fieldValidation "${fv}" is not one of Ignore, Warn or Strict`, [], {}, {}, "BadRequest");
  }
  return { dryRun: dry.length > 0, fieldValidation: fv, manager: managerOf(c.req.query("fieldManager"), c.req.header("user-agent")) };
}

/**
 * Fields the kind's schema does not declare: 400 with fieldValidation=Strict (what kubectl sends),
 * otherwise dropped from the manifest, as Kubernetes prunes them, with a Warning header each.
 */
export function checkFields(t: Target, body: unknown, mode: WriteOptions["fieldValidation"]): string[] {
  if (!isMap(body)) return [];
  const unknown = unknownFields(body, t.crd.schema);
  if (unknown.length === 0) return [];
  if (mode === "Strict") {
    const list = unknown.map((f) => `unknown field "${f}"`).join(", ");
    throw new ApiError(400, `${t.kind.kind} in version "${t.kind.version}" cannot be handled as a ${t.kind.kind}: strict decoding error: ${list}; \`kubectl explain ${t.kind.plural}\` shows the fields`,
      unknown.map((f) => ({ field: f, message: "field not declared in schema" })), {}, {}, "BadRequest");
  }
  prune(body, unknown);
  return mode === "Warn" ? unknown.map((f) => `unknown field "${f}"`) : [];
}

/** A JSON answer with Kubernetes-style `Warning` headers. */
export function answer(body: unknown, status: number, warnings: string[] = [], contentType = "application/json"): Response {
  const headers = new Headers({ "Content-Type": contentType });
  for (const w of warnings) headers.append("Warning", `299 - ${JSON.stringify(w)}`);
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * After a stored write to `ns`: a namespace that just got its first object goes into the directory
 * (for `kubectl get namespaces`), and what this isolate remembered of the namespace's ingress
 * addresses is forgotten, so an address created now is served at once.
 */
export async function afterWrite(c: C, ns: string, created: boolean): Promise<void> {
  if (ns === "") return; // the cluster scope: no namespace, no ingress address
  if (created) await c.env.DIRECTORY.get(c.env.DIRECTORY.idFromName("global")).add(ns);
  forgetAddresses(ns);
}
