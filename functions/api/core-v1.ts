import { Hono } from "hono";
import { ApiError } from "../../core/errors.js";
import { isMap } from "../../core/kube/fieldset.js";
import { table, tableContentType, tableVersion, parseIncludeObject } from "../../core/kube/table.js";
import { KINDS } from "../../core/resources/registry.js";
import type { Resource } from "../../core/resources/types.js";
import type { NamespaceEntry } from "../../durable-objects/directory.js";
import type { ApiEnv } from "./context.js";
import { isKubeProtobuf, protobufObjectMeta } from "../../core/kube/protobuf.js";
import { readBody } from "../body.js";
import { readManifest } from "./manifest.js";
import { createObject, deleteObject, getObject, listAllNamespaces, listObjects, patchObject, replaceObject } from "./objects.js";
import { answer, baseUrl, type C, checkNamespace, unwrap } from "./request.js";

/**
 * `/api/v1/namespaces`: the namespaces in use, from the directory. `kubectl create namespace`
 * records one; deleting one deletes every object in it first, as Kubernetes does.
 */
export const coreV1 = new Hono<ApiEnv>();


const NAMESPACE_CRD = {
  group: "", version: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace", schema: {},
  columns: [
    { name: "Status", type: "string", jsonPath: ".status.phase" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
};

function namespaceObject(n: NamespaceEntry): Resource {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    // Cluster-scoped: no metadata.namespace.
    metadata: { name: n.name, uid: n.uid, generation: 1, resourceVersion: "1", creationTimestamp: n.created, labels: { "kubernetes.io/metadata.name": n.name } } as unknown as Resource["metadata"],
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Active" },
  };
}

function directory(c: C) {
  return c.env.DIRECTORY.get(c.env.DIRECTORY.idFromName("global"));
}

function show(c: C, objects: Resource[], list: boolean): Response {
  const v = tableVersion(c.req.header("accept"));
  if (v) return answer(table(objects, NAMESPACE_CRD, Date.now(), { version: v, includeObject: parseIncludeObject(c.req.query("includeObject")) }), 200, [], tableContentType(v));
  return answer(list ? { apiVersion: "v1", kind: "NamespaceList", metadata: {}, items: objects } : objects[0], 200);
}

function missing(name: string): ApiError {
  return new ApiError(404, `namespaces "${name}" not found: a namespace exists once an object is created in it, or after kubectl create namespace ${name}`, [], { name, kind: "namespaces" }, {}, "NotFound");
}

coreV1.get("/namespaces", async (c) => {
  if (c.req.query("watch") === "true" || c.req.query("watch") === "1") {
    throw new ApiError(405, "namespaces cannot be watched in Eddy; list them again instead", [], {}, { Allow: "GET" }, "MethodNotAllowed");
  }
  return show(c, (await directory(c).list()).map(namespaceObject), true);
});

coreV1.get("/namespaces/:name", async (c) => {
  const n = await directory(c).get(c.req.param("name"));
  if (!n) throw missing(c.req.param("name"));
  return show(c, [namespaceObject(n)], false);
});

/** The name of a Namespace sent as JSON, YAML, or protobuf (what `kubectl create namespace` sends). */
async function namespaceName(c: C): Promise<unknown> {
  if ((c.req.header("content-type") ?? "").startsWith("application/vnd.kubernetes.protobuf")) {
    const bytes = await readBody(c.req.raw, 64 * 1024);
    if (!isKubeProtobuf(bytes)) throw new ApiError(400, "the protobuf body does not start with Kubernetes' k8s\\0 envelope");
    try {
      const meta = protobufObjectMeta(bytes);
      return meta.name ?? (meta.generateName ? `${meta.generateName}${crypto.randomUUID().slice(0, 5)}` : undefined);
    } catch (e) {
      throw new ApiError(400, `the protobuf body cannot be read (${(e as Error).message}); send the Namespace as JSON`);
    }
  }
  const body = await readManifest(c.req.raw);
  return isMap(body) && isMap(body.metadata) ? body.metadata.name : undefined;
}

coreV1.post("/namespaces", async (c) => {
  const name = await namespaceName(c);
  if (typeof name !== "string") throw ApiError.invalid("Namespace", undefined, [{ field: "metadata.name", message: "is required" }]);
  checkNamespace(name);
  const dry = c.req.query("dryRun") === "All";
  if (!dry && !(await directory(c).add(name))) {
    throw new ApiError(409, `namespaces "${name}" already exists`, [], { name, kind: "namespaces" }, {}, "AlreadyExists");
  }
  return answer(namespaceObject((await directory(c).get(name)) ?? { name, uid: crypto.randomUUID(), created: new Date().toISOString() }), 201);
});

coreV1.delete("/namespaces/:name", async (c) => {
  const name = c.req.param("name");
  const n = await directory(c).get(name);
  if (!n) throw missing(name);
  if (c.req.query("dryRun") !== "All") {
    const stub = c.env.NAMESPACE.get(c.env.NAMESPACE.idFromName(name));
    // Routes (Triggers, Subscriptions) before what they attach to, so nothing is reconciled twice.
    for (const kind of [...KINDS].sort((a, b) => b.order - a.order)) {
      const path = { group: kind.group, version: kind.version, plural: kind.plural };
      const { items } = unwrap<{ items: Resource[] }>(await stub.list(name, path));
      for (const item of items) unwrap(await stub.remove(name, path, item.metadata.name, baseUrl(c)));
    }
    await directory(c).remove(name);
  }
  return answer({ ...namespaceObject(n), status: { phase: "Terminating" } }, 200);
});

// Secrets (Kubernetes' core kind, served like Eddy's own; ServiceAccounts have ./serviceaccounts.ts).
const objects = "/namespaces/:ns/:plural{secrets}";
coreV1.get(objects, listObjects);
coreV1.post(objects, createObject);
coreV1.get(`${objects}/:name`, getObject);
coreV1.put(`${objects}/:name`, replaceObject);
coreV1.patch(`${objects}/:name`, patchObject);
coreV1.delete(`${objects}/:name`, deleteObject);

// `kubectl get serviceaccounts -A`, `kubectl get secrets -A`: the core group's namespaced kinds across every namespace.
coreV1.get("/:plural", listAllNamespaces);
