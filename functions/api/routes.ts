import { Hono } from "hono";
import { statsOf } from "../../durable-objects/objects.js";
import { ApiError } from "../../core/errors.js";
import type { ApiEnv } from "./context.js";
import { placed } from "../placement.js";
import { registerDeadLetterRoutes } from "./deadletters.js";
import { createObject, deleteObject, getObject, listAllNamespaces, listObjects, patchObject, replaceObject } from "./objects.js";
import { reviews } from "./reviews.js";
import { targetOf } from "./request.js";

/**
 * The Kubernetes-style control-plane API:
 * `POST|GET /apis/{group}/{version}/namespaces/{ns}/{plural}` and
 * `GET|PUT|PATCH|DELETE /apis/{group}/{version}/namespaces/{ns}/{plural}/{name}`, taking the same
 * JSON or YAML manifests as Knative; cluster-scoped kinds (ClusterRoles, ClusterRoleBindings) at
 * `/apis/{group}/{version}/{plural}[/{name}]`. Who may call what is decided before any of these
 * runs (./access.ts).
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/yaml" \
 *   --data-binary @broker.yaml http://127.0.0.1:8787/apis/eventing.knative.dev/v1/namespaces/demo/brokers
 */
export const api = new Hono<ApiEnv>();

const base = "/:group/:version/namespaces/:ns/:plural";

// `kubectl auth can-i` and `kubectl auth whoami`: before the generic routes, which would take them for kinds.
api.route("/", reviews);

// Objects: functions/api/objects.ts (lists with selectors, Table output and watch; patches; dry runs).
api.get(base, listObjects);
api.post(base, createObject);
api.get(`${base}/:name`, getObject);
api.put(`${base}/:name`, replaceObject);
api.patch(`${base}/:name`, patchObject);
api.delete(`${base}/:name`, deleteObject);
// Every namespace (`kubectl get -A`), or a cluster-scoped kind's own collection and objects.
api.get("/:group/:version/:plural", listAllNamespaces);
api.post("/:group/:version/:plural", createObject);
api.get("/:group/:version/:plural/:name", getObject);
api.put("/:group/:version/:plural/:name", replaceObject);
api.patch("/:group/:version/:plural/:name", patchObject);
api.delete("/:group/:version/:plural/:name", deleteObject);
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
  const t = targetOf(c);
  const name = c.req.param("name");
  if (!t.kind.dataPlane) throw new ApiError(404, `${t.kind.plural} have no stats subresource; Brokers, Channels and InMemoryChannels do`);
  const key = await placed(c.env, t.kind.dataPlane(t.ns, name), { kind: t.kind.kind, ns: t.ns, name });
  const stats = await statsOf(c.env, key);
  if (!stats) throw new ApiError(404, `${t.kind.plural} "${name}" not found in namespace "${t.ns}"`);
  return c.json(stats);
});
