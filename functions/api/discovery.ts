import { Hono } from "hono";
import { ApiError } from "../../core/errors.js";
import {
  aggregatedList, aggregatedType, apiGroupList, apiResourceList, groupsOf, KUBE_VERSION, resourcesOf, type ApiResource,
} from "../../core/kube/discovery.js";
import { contentHash, groupVersions, v2Document, v3Document } from "../../core/kube/openapi.js";
import { KINDS } from "../../core/resources/registry.js";
import type { ApiEnv } from "./context.js";
import { answer, type C } from "./request.js";

/**
 * What Kubernetes clients read before anything else: `/version`, discovery (`/api`, `/api/v1`,
 * `/apis`, `/apis/{group}/{version}`, legacy and aggregated) and OpenAPI (v3 per group-version, v2),
 * all built from Eddy's kinds and Knative's CRD schemas. Each needs the admin token, as every
 * other API call does.
 */
export const discovery = new Hono<ApiEnv>();


/** `/api/v1` beyond Eddy's own core kinds: namespaces, and ServiceAccounts with their token subresource. */
function coreResources(): ApiResource[] {
  const own = resourcesOf(KINDS, "", "v1");
  const out: ApiResource[] = [
    { name: "namespaces", singularName: "namespace", namespaced: false, kind: "Namespace", verbs: ["create", "delete", "get", "list"], shortNames: ["ns"] },
    ...own,
  ];
  // Sender identities (issue 10): served by the identity API; listed here even while its kind is not registered.
  const sa = out.find((r) => r.name === "serviceaccounts");
  const token = { name: "token", kind: "TokenRequest", verbs: ["create"] };
  if (sa) sa.subresources = [...(sa.subresources ?? []), token];
  else out.push({ name: "serviceaccounts", singularName: "serviceaccount", namespaced: true, kind: "ServiceAccount", verbs: ["create", "delete", "get", "list"], shortNames: ["sa"], subresources: [token] });
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function aggregated(c: C, type: string, groups: Parameters<typeof aggregatedList>[0]): Response {
  const doc = aggregatedList(groups);
  if (type.includes("v=v2beta1")) doc.apiVersion = "apidiscovery.k8s.io/v2beta1";
  return answer(doc, 200, [], type);
}

discovery.get("/version", (c) => answer({
  ...KUBE_VERSION,
  gitVersion: `v${KUBE_VERSION.major}.${KUBE_VERSION.minor}.0-eddy`,
  gitCommit: "", gitTreeState: "", buildDate: "", goVersion: "", compiler: "eddy",
  platform: `cloudflare-workers/${new URL(c.req.url).hostname}`,
}, 200));

discovery.get("/api", (c) => {
  const type = aggregatedType(c.req.header("accept"));
  if (type) return aggregated(c, type, [{ name: "", versions: [{ version: "v1", resources: coreResources() }] }]);
  return answer({ kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: new URL(c.req.url).host }] }, 200);
});

discovery.get("/api/v1", () => answer(apiResourceList("v1", coreResources()), 200));

discovery.get("/apis", (c) => {
  const type = aggregatedType(c.req.header("accept"));
  if (!type) return answer(apiGroupList(KINDS), 200);
  return aggregated(c, type, [...groupsOf(KINDS)].map(([name, versions]) => ({
    name, versions: versions.map((version) => ({ version, resources: resourcesOf(KINDS, name, version) })),
  })));
});

discovery.get("/apis/:group", (c) => {
  const group = (apiGroupList(KINDS).groups as { name: string }[]).find((g) => g.name === c.req.param("group"));
  if (!group) throw new ApiError(404, `the server does not serve the API group ${c.req.param("group")}; \`kubectl api-versions\` lists the groups Eddy serves`);
  return answer({ kind: "APIGroup", apiVersion: "v1", ...group }, 200);
});

discovery.get("/apis/:group/:version", (c) => {
  const { group, version } = c.req.param();
  if (!groupsOf(KINDS).get(group)?.includes(version)) {
    throw new ApiError(404, `the server does not serve ${group}/${version}; \`kubectl api-versions\` lists the group-versions Eddy serves`);
  }
  return answer(apiResourceList(`${group}/${version}`, resourcesOf(KINDS, group, version)), 200);
});

// The documents are large and only change with a deployment: built once per isolate.
let v3: Map<string, { text: string; hash: string }> | undefined;
function v3Docs() {
  v3 ??= new Map(groupVersions(KINDS).map((gv) => {
    const text = JSON.stringify(v3Document(KINDS, gv.group, gv.version));
    return [gv.key, { text, hash: contentHash(text) }];
  }));
  return v3;
}
let v2: string | undefined;

discovery.get("/openapi/v3", () => answer({
  paths: Object.fromEntries([...v3Docs()].map(([key, d]) => [key, { serverRelativeURL: `/openapi/v3/${key}?hash=${d.hash}` }])),
}, 200));

discovery.get("/openapi/v3/*", (c) => {
  const key = new URL(c.req.url).pathname.slice("/openapi/v3/".length);
  const doc = v3Docs().get(key);
  if (!doc) throw new ApiError(404, `no OpenAPI document for ${key}: /openapi/v3 lists the group-versions Eddy serves`);
  return new Response(doc.text, { headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=31536000, immutable", ETag: `"${doc.hash}"` } });
});

discovery.get("/openapi/v2", (c) => {
  const accept = c.req.header("accept") ?? "";
  if (accept && !/application\/json|\*\/\*/.test(accept)) {
    // client-go asks for protobuf only; it then uses OpenAPI v3, which Eddy serves in full.
    throw new ApiError(406, "Eddy serves OpenAPI v2 as JSON only (Accept: application/json); use /openapi/v3", [], {}, {}, "NotAcceptable");
  }
  v2 ??= JSON.stringify(v2Document(KINDS));
  return new Response(v2, { headers: { "Content-Type": "application/json" } });
});
