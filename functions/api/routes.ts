import { Hono, type Context } from "hono";
import { statsOf } from "../../durable-objects/objects.js";
import { ApiError } from "../../core/errors.js";
import type { KindPath } from "../../durable-objects/namespace.js";
import { kindByPath } from "../../core/resources/registry.js";
import { dispatcherNamespace, type Env } from "../env.js";
import { placed } from "../placement.js";
import { requireAdmin } from "./auth.js";
import { registerDeadLetterRoutes } from "./deadletters.js";
import { createObject, deleteObject, getObject, listAllNamespaces, listObjects, patchObject, replaceObject } from "./objects.js";

type C = Context<{ Bindings: Env }>;

/**
 * The Kubernetes-style control-plane API:
 * `POST|GET /apis/{group}/{version}/namespaces/{ns}/{plural}` and
 * `GET|PUT|PATCH|DELETE /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}`,
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

// Objects: functions/api/objects.ts (lists with selectors, Table output and watch; patches; dry runs).
api.get(base, listObjects);
api.post(base, createObject);
api.get(`${base}/:name`, getObject);
api.put(`${base}/:name`, replaceObject);
api.patch(`${base}/:name`, patchObject);
api.delete(`${base}/:name`, deleteObject);
api.get("/:group/:version/:plural", listAllNamespaces);
// Wrong verbs for a collection or an object: 405 naming the ones that exist, as Kubernetes answers.
api.on(["PUT", "PATCH", "DELETE"], base, () => {
  throw new ApiError(405, "a collection takes GET (list, watch) and POST (create); PUT, PATCH and DELETE go to one object: .../{plural}/{name}", [], {}, { Allow: "GET, POST" }, "MethodNotAllowed");
});
api.post(`${base}/:name`, () => {
  throw new ApiError(405, "POST creates in a collection (.../{plural}); an object takes GET, PUT, PATCH and DELETE", [], {}, { Allow: "GET, PUT, PATCH, DELETE" }, "MethodNotAllowed");
});

/** Eddy's addition: what a Broker or Channel accepted, delivered, retried, dead-lettered and dropped, and why. */
registerDeadLetterRoutes(api);

api.get(`${base}/:name/stats`, async (c) => {
  const { ns, path } = target(c);
  const name = c.req.param("name");
  const kind = kindByPath(path.group, path.version, path.plural)!;
  if (!kind.dataPlane) throw new ApiError(404, `${path.plural} have no stats subresource; Brokers, Channels and InMemoryChannels do`);
  const key = await placed(c.env, kind.dataPlane(ns, name), { kind: kind.kind, ns, name });
  const stats = await statsOf(c.env, key);
  if (!stats) throw new ApiError(404, `${path.plural} "${name}" not found in namespace "${ns}"`);
  return c.json(stats);
});
