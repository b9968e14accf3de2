import type { Attributes } from "./types.js";

const VERBS: Record<string, string> = { POST: "create", PUT: "update", PATCH: "patch" };

/**
 * What an API request asks to do, read from its method and path as Kubernetes' RequestInfoFactory
 * reads them: `/api/v1/...` and `/apis/{group}/{version}/...` with `namespaces/{ns}`, the resource,
 * its name and a subresource are resource requests; anything shorter (discovery, `/version`,
 * `/openapi/...`) is a path. GET is get (named) or list, `?watch=true` is watch, DELETE without a
 * name is deletecollection. Eddy's subresources read the same way: `GET .../brokers/b/stats` is
 * get on `brokers/stats`, `POST .../deadletters/redrive` is create on `brokers/deadletters`.
 *
 * @example
 * requestAttributes("GET", "/apis/eventing.knative.dev/v1/namespaces/demo/triggers", new URLSearchParams("watch=true"));
 * // { resourceRequest: true, verb: "watch", apiGroup: "eventing.knative.dev", resource: "triggers", namespace: "demo", ... }
 */
export function requestAttributes(method: string, pathname: string, query: URLSearchParams): Attributes {
  const m = method.toUpperCase();
  const parts = pathname.split("/").filter((p) => p !== "");
  const path = { resourceRequest: false as const, verb: m === "HEAD" ? "get" : m.toLowerCase(), path: pathname };
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) [group, version, rest] = ["", parts[1]!, parts.slice(2)];
  else if (parts[0] === "apis" && parts.length >= 4) [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  else return path;

  let namespace = "";
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1]!;
    // `/api/v1/namespaces/{name}[/{sub}]` is the Namespace itself.
    if (rest.length > 2) rest = rest.slice(2);
  }
  const [resource = "", name = "", subresource = ""] = rest;
  const watch = ["true", "1"].includes(query.get("watch") ?? "");
  let verb = VERBS[m] ?? "";
  if (m === "GET" || m === "HEAD") verb = watch ? "watch" : name ? "get" : "list";
  else if (m === "DELETE") verb = name ? "delete" : "deletecollection";
  else if (!verb) verb = m.toLowerCase();
  return { resourceRequest: true, verb, apiGroup: group, apiVersion: version, resource, subresource, namespace, name };
}
