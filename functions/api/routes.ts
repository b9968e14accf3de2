import { Hono, type Context } from "hono";
import { ApiError } from "../../core/errors.js";
import type { ApiResult, KindPath } from "../../durable-objects/namespace.js";
import { kindByPath } from "../../core/resources/registry.js";
import type { Resource } from "../../core/resources/types.js";
import { dispatcherNamespace, type Env } from "../env.js";
import { requireAdmin } from "./auth.js";
import { readManifest } from "./manifest.js";

type C = Context<{ Bindings: Env }>;

/**
 * The Kubernetes-style control-plane API:
 * `POST|GET /apis/{group}/{version}/namespaces/{ns}/{plural}` and
 * `GET|PUT|DELETE /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}`,
 * taking the same JSON or YAML manifests as Knative.
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/yaml" \
 *   --data-binary @broker.yaml http://127.0.0.1:8787/apis/eventing.knative.dev/v1/namespaces/demo/brokers
 */
export const api = new Hono<{ Bindings: Env }>();

api.use("*", requireAdmin);

const base = "/:group/:version/namespaces/:ns/:plural";

function target(c: C): { ns: string; path: KindPath; stub: DurableObjectStub<import("../../durable-objects/namespace.js").Namespace> } {
  const { group, version, ns, plural } = c.req.param() as Record<string, string>;
  const path = { group: group!, version: version!, plural: plural! };
  if (!kindByPath(path.group, path.version, path.plural)) {
    throw new ApiError(404, `the server does not serve ${plural} in ${group}/${version}; see README for the resources Eddy serves`);
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns!) || ns!.length > 63) {
    throw new ApiError(400, `"${ns}" is not a valid namespace name: use lower-case letters, digits and '-'`);
  }
  return { ns: ns!, path, stub: c.env.NAMESPACE.get(c.env.NAMESPACE.idFromName(ns!)) };
}

/** The base of `status.address.url`: PUBLIC_URL when set, else the origin this API was called on. */
function baseUrl(c: C): string {
  const configured = c.env.PUBLIC_URL?.replace(/\/+$/, "");
  return configured || new URL(c.req.url).origin;
}

/** RPC wraps return types in Rpc.Result; the Namespace methods return plain ApiResult data. */
function unwrap<T>(res: unknown): T {
  const r = res as ApiResult<T>;
  if (r.ok) return r.value;
  const e = r.error;
  throw new ApiError(e.status, e.message, e.causes, e.details, {}, e.reason);
}

api.get(base, async (c) => {
  const { ns, path, stub } = target(c);
  const kind = kindByPath(path.group, path.version, path.plural)!;
  const { items, resourceVersion } = unwrap<{ items: Resource[]; resourceVersion: string }>(await stub.list(ns, path));
  return c.json({ apiVersion: `${kind.group}/${kind.version}`, kind: `${kind.kind}List`, metadata: { resourceVersion }, items });
});

api.post(base, async (c) => {
  const { ns, path, stub } = target(c);
  const body = await readManifest(c.req.raw);
  return c.json(unwrap<Resource>(await stub.create(ns, path, body, baseUrl(c))), 201);
});

api.get(`${base}/:name`, async (c) => {
  const { ns, path, stub } = target(c);
  return c.json(unwrap<Resource>(await stub.get(ns, path, c.req.param("name"))));
});

api.put(`${base}/:name`, async (c) => {
  const { ns, path, stub } = target(c);
  const body = await readManifest(c.req.raw);
  const { object, created } = unwrap<{ object: Resource; created: boolean }>(await stub.replace(ns, path, c.req.param("name"), body, baseUrl(c)));
  return c.json(object, created ? 201 : 200);
});

api.delete(`${base}/:name`, async (c) => {
  const { ns, path, stub } = target(c);
  const obj = unwrap<Resource>(await stub.remove(ns, path, c.req.param("name"), baseUrl(c)));
  return c.json({
    kind: "Status", apiVersion: "v1", metadata: {}, status: "Success",
    details: { name: obj.metadata.name, group: path.group, kind: path.plural, uid: obj.metadata.uid },
  });
});

/** Eddy's addition: what a Broker or Channel accepted, delivered, retried, dead-lettered and dropped, and why. */
api.get(`${base}/:name/stats`, async (c) => {
  const { ns, path } = target(c);
  const name = c.req.param("name");
  const kind = kindByPath(path.group, path.version, path.plural)!;
  if (!kind.dataPlane) throw new ApiError(404, `${path.plural} have no stats subresource; Brokers, Channels and InMemoryChannels do`);
  const key = kind.dataPlane(ns, name);
  const dns = dispatcherNamespace(c.env, key.binding);
  const stats = await dns.get(dns.idFromName(key.name)).stats();
  if (!stats) throw new ApiError(404, `${path.plural} "${name}" not found in namespace "${ns}"`);
  return c.json(stats);
});

for (const method of ["PATCH"] as const) {
  api.on(method, [base, `${base}/:name`], () => {
    throw new ApiError(405, "PATCH is not supported: GET the object, change it, and PUT it back", [], {}, { Allow: "GET, PUT, DELETE" });
  });
}
