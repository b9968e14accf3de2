import { Hono } from "hono";
import { ApiError, unwrap } from "../../core/errors.js";
import { subjectOf } from "../../core/identity/names.js";
import { signToken } from "../../core/identity/tokens.js";
import type { Resource } from "../../core/resources/types.js";
import type { ApiEnv, C } from "./context.js";
import { issuerOf, ringOf } from "../identity.js";
import { readManifest } from "./manifest.js";
import { readBody } from "../body.js";
import { isKubeProtobuf, protobufManifest, protobufTokenRequest } from "../../core/identity/protobuf.js";


/** TokenRequest limits, as the Kubernetes API server applies them (10 minutes at least). */
export const MIN_TOKEN_SECONDS = 600;
export const MAX_TOKEN_SECONDS = 86_400;
const DEFAULT_TOKEN_SECONDS = 3600;
const PATH = { group: "", version: "v1", plural: "serviceaccounts" };

/**
 * ServiceAccounts, Kubernetes-shaped, under `/api/v1/namespaces/{ns}/serviceaccounts`: create,
 * get, list, replace, delete, and the TokenRequest subresource `POST .../{name}/token` that
 * `kubectl create token` calls. Tokens are signed with EDDY_SIGNING_KEY; their subject is
 * `system:serviceaccount:{ns}:{name}`; producers send events with them. Admin token only.
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $TOKEN" -d '{"spec":{"audiences":["eventing.knative.dev/broker/demo/default"]}}' \
 *   $EDDY/api/v1/namespaces/demo/serviceaccounts/producer/token
 */
export const serviceAccounts = new Hono<ApiEnv>();


function stub(c: C) {
  const ns = c.req.param("ns")!;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63) {
    throw new ApiError(400, `"${ns}" is not a valid namespace name: use at most 63 lower-case letters, digits and '-'`);
  }
  return { ns, stub: c.env.NAMESPACE.get(c.env.NAMESPACE.idFromName(ns)) };
}

/** A ServiceAccount as Kubernetes shows it: no spec, no status. */
function show(r: Resource): Record<string, unknown> {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: r.metadata };
}

/** A ServiceAccount manifest has no spec; admission stores objects with one, so it is left empty. */
function manifestOf(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const { apiVersion, kind, metadata } = body as Record<string, unknown>;
  return { ...(apiVersion !== undefined ? { apiVersion } : {}), ...(kind !== undefined ? { kind } : {}), ...(metadata !== undefined ? { metadata } : {}) };
}

/**
 * The request body as JSON or YAML, or decoded from the protobuf kubectl sends for built-in kinds
 * (`kubectl create serviceaccount`, `kubectl create token`).
 */
async function body(c: C, decode: (bytes: Uint8Array) => unknown): Promise<unknown> {
  if (!(c.req.header("content-type") ?? "").startsWith("application/vnd.kubernetes.protobuf")) return readManifest(c.req.raw);
  const bytes = await readBody(c.req.raw, 64 * 1024);
  if (!isKubeProtobuf(bytes)) throw new ApiError(400, "the protobuf body does not start with Kubernetes' k8s\\0 envelope; send JSON or YAML instead");
  try {
    return decode(bytes);
  } catch (e) {
    throw new ApiError(400, `the protobuf body cannot be read (${(e as Error).message}); send it as JSON instead`);
  }
}

const base = "/namespaces/:ns/serviceaccounts";

serviceAccounts.get(base, async (c) => {
  const { ns, stub: s } = stub(c);
  const { items, resourceVersion } = unwrap<{ items: Resource[]; resourceVersion: string }>(await s.list(ns, PATH));
  return c.json({ apiVersion: "v1", kind: "ServiceAccountList", metadata: { resourceVersion }, items: items.map(show) });
});

serviceAccounts.post(base, async (c) => {
  const { ns, stub: s } = stub(c);
  return c.json(show(unwrap<Resource>(await s.create(ns, PATH, manifestOf(await body(c, protobufManifest)), issuerOf(c.env, c.req.url)))), 201);
});

serviceAccounts.get(`${base}/:name`, async (c) => {
  const { ns, stub: s } = stub(c);
  return c.json(show(unwrap<Resource>(await s.get(ns, PATH, c.req.param("name")))));
});

serviceAccounts.put(`${base}/:name`, async (c) => {
  const { ns, stub: s } = stub(c);
  const r = unwrap<{ object: Resource; created: boolean }>(await s.replace(ns, PATH, c.req.param("name"), manifestOf(await body(c, protobufManifest)), issuerOf(c.env, c.req.url)));
  return c.json(show(r.object), r.created ? 201 : 200);
});

serviceAccounts.delete(`${base}/:name`, async (c) => {
  const { ns, stub: s } = stub(c);
  const obj = unwrap<Resource>(await s.remove(ns, PATH, c.req.param("name"), issuerOf(c.env, c.req.url)));
  return c.json({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: obj.metadata.name, kind: "serviceaccounts", uid: obj.metadata.uid } });
});

serviceAccounts.post(`${base}/:name/token`, async (c) => {
  const { ns, stub: s } = stub(c);
  const name = c.req.param("name");
  const issuer = issuerOf(c.env, c.req.url);
  const spec = tokenSpec(await body(c, protobufTokenRequest), name, issuer);
  unwrap<Resource>(await s.get(ns, PATH, name)); // 404 for an unknown ServiceAccount
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + spec.expirationSeconds;
  const token = await signToken(await ringOf(c.env), { iss: issuer, sub: subjectOf(ns, name), aud: spec.audiences, iat, exp });
  return c.json({
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    metadata: { name, namespace: ns, creationTimestamp: null },
    spec: { ...spec, boundObjectRef: null },
    status: { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") },
  }, 201);
});

/** Validates a TokenRequest; without audiences the token is for the issuer (like Kubernetes' API audience). */
function tokenSpec(body: unknown, name: string, issuer: string): { audiences: string[]; expirationSeconds: number } {
  const fail = (field: string, message: string) => ApiError.invalid("TokenRequest", name, [{ field, message }], "authentication.k8s.io");
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError(400, "the body must be a TokenRequest (authentication.k8s.io/v1) in JSON or YAML");
  const b = body as Record<string, unknown>;
  if (b.apiVersion !== undefined && b.apiVersion !== "authentication.k8s.io/v1") throw new ApiError(400, `apiVersion "${String(b.apiVersion)}" is not authentication.k8s.io/v1`);
  if (b.kind !== undefined && b.kind !== "TokenRequest") throw new ApiError(400, `kind "${String(b.kind)}" is not TokenRequest`);
  const spec = (b.spec ?? {}) as Record<string, unknown>;
  if (typeof spec !== "object" || Array.isArray(spec)) throw fail("spec", "must be an object with audiences and expirationSeconds");
  const audiences = spec.audiences ?? [];
  if (!Array.isArray(audiences) || audiences.some((a) => typeof a !== "string" || a === "")) {
    throw fail("spec.audiences", "must list non-empty strings: the status.address.audience of each addressable the token may send to");
  }
  const seconds = spec.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
  if (!Number.isInteger(seconds) || (seconds as number) < MIN_TOKEN_SECONDS || (seconds as number) > MAX_TOKEN_SECONDS) {
    throw fail("spec.expirationSeconds", `must be a whole number of seconds from ${MIN_TOKEN_SECONDS} to ${MAX_TOKEN_SECONDS}, got ${JSON.stringify(seconds)}`);
  }
  if (spec.boundObjectRef !== undefined && spec.boundObjectRef !== null) {
    throw fail("spec.boundObjectRef", "is not supported: Eddy has no Pods or Secrets to bind a token to; leave it out");
  }
  return { audiences: audiences.length ? (audiences as string[]) : [issuer], expirationSeconds: seconds as number };
}
