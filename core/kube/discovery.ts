import type { KindDef } from "../resources/kind.js";
import { crdOf } from "./crds.js";

/** The Kubernetes release whose API Eddy's API follows (discovery v2, fieldValidation, Table). */
export const KUBE_VERSION = { major: "1", minor: "32" };

const OBJECT_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"];

/** One resource of a group-version, as discovery describes it. */
export interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Subresources: name after the slash, verbs and the kind they answer with. */
  subresources?: { name: string; kind: string; verbs: string[] }[];
}

/** Orders versions as Kubernetes does: GA before beta before alpha, higher numbers first. */
export function versionPriority(a: string, b: string): number {
  const rank = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    return [m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [x, y] = [rank(a), rank(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return y[i]! - x[i]!;
  return a.localeCompare(b);
}

/** Eddy's resources of one group-version (the core group is ""), from its kinds and their CRDs. */
export function resourcesOf(kinds: readonly KindDef[], group: string, version: string): ApiResource[] {
  return kinds.filter((k) => k.group === group && k.version === version).map((k) => {
    const crd = crdOf(k);
    return {
      name: k.plural,
      singularName: crd.singular,
      namespaced: !k.clusterScoped,
      kind: k.kind,
      verbs: OBJECT_VERBS,
      ...(crd.shortNames ? { shortNames: crd.shortNames } : {}),
      ...(crd.categories ? { categories: crd.categories } : {}),
      ...(k.dataPlane ? { subresources: [{ name: "stats", kind: "Stats", verbs: ["get"] }] } : {}),
    };
  });
}

/** Group → its versions, preferred first. */
export function groupsOf(kinds: readonly KindDef[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const k of kinds) {
    if (!k.group) continue;
    const vs = groups.get(k.group) ?? [];
    if (!vs.includes(k.version)) vs.push(k.version);
    groups.set(k.group, vs);
  }
  for (const vs of groups.values()) vs.sort(versionPriority);
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)));
}

/** `/apis`: the legacy APIGroupList. */
export function apiGroupList(kinds: readonly KindDef[]): Record<string, unknown> {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [...groupsOf(kinds)].map(([name, versions]) => ({
      name,
      versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    })),
  };
}

/** `/apis/{group}/{version}` and `/api/v1`: the APIResourceList. */
export function apiResourceList(groupVersion: string, resources: ApiResource[]): Record<string, unknown> {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion,
    resources: resources.flatMap((r) => [
      {
        name: r.name, singularName: r.singularName, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
        ...(r.shortNames ? { shortNames: r.shortNames } : {}), ...(r.categories ? { categories: r.categories } : {}),
      },
      ...(r.subresources ?? []).map((s) => ({ name: `${r.name}/${s.name}`, singularName: "", namespaced: r.namespaced, kind: s.kind, verbs: s.verbs })),
    ]),
  };
}

/** The aggregated discovery document (`apidiscovery.k8s.io/v2`) kubectl asks for first. */
export function aggregatedList(groups: { name: string; versions: { version: string; resources: ApiResource[] }[] }[]): Record<string, unknown> {
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: "apidiscovery.k8s.io/v2",
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name ? { name: g.name } : {},
      versions: g.versions.map((v) => ({
        version: v.version,
        freshness: "Current",
        resources: v.resources.map((r) => ({
          resource: r.name,
          responseKind: { group: g.name, version: v.version, kind: r.kind },
          scope: r.namespaced ? "Namespaced" : "Cluster",
          singularResource: r.singularName,
          verbs: r.verbs,
          ...(r.shortNames ? { shortNames: r.shortNames } : {}),
          ...(r.categories ? { categories: r.categories } : {}),
          ...(r.subresources ? {
            subresources: r.subresources.map((s) => ({ subresource: s.name, responseKind: { group: g.name, version: v.version, kind: s.kind }, verbs: s.verbs })),
          } : {}),
        })),
      })),
    })),
  };
}

/** The media type of an aggregated discovery answer, when the Accept header asks for one. */
export function aggregatedType(accept: string | null | undefined): string | undefined {
  for (const range of (accept ?? "").split(",")) {
    const p = range.replace(/\s+/g, "");
    if (!p.includes("as=APIGroupDiscoveryList") || !p.includes("g=apidiscovery.k8s.io")) continue;
    const v = /v=(v2beta1|v2)(;|$)/.exec(p)?.[1];
    if (v) return `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
  }
  return undefined;
}
