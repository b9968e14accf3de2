import type { PolicyRule } from "./types.js";

/**
 * Kubernetes' escalation check (rbac/validation.Covers): the rules of `wanted` that `owner` does not
 * cover. A caller may write a role, or bind one, only if it holds every permission it grants, so
 * RBAC cannot be used to climb above what one was given. Each wanted rule is split into single
 * permissions (one verb, group, resource and name, or one verb and path), and each must be inside
 * one of the owner's rules; a wildcard is covered only by a wildcard.
 *
 * @example
 * uncovered([{ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }], [{ verbs: ["get", "list"], apiGroups: [""], resources: ["secrets"] }]);
 * // [{ verbs: ["list"], apiGroups: [""], resources: ["secrets"] }]
 */
export function uncovered(owner: readonly PolicyRule[], wanted: readonly PolicyRule[]): PolicyRule[] {
  return wanted.flatMap(atoms).filter((a) => !owner.some((o) => covers(o, a)));
}

function atoms(r: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of r.verbs) {
    for (const g of r.apiGroups ?? []) {
      for (const res of r.resources ?? []) {
        const names = r.resourceNames?.length ? r.resourceNames : [undefined];
        for (const n of names) out.push({ verbs: [verb], apiGroups: [g], resources: [res], ...(n !== undefined ? { resourceNames: [n] } : {}) });
      }
    }
    for (const u of r.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [u] });
  }
  return out;
}

const within = (list: readonly string[] | undefined, v: string) => (list ?? []).includes("*") || (list ?? []).includes(v);

function covers(o: PolicyRule, a: PolicyRule): boolean {
  if (!within(o.verbs, a.verbs[0]!)) return false;
  if (a.nonResourceURLs) {
    const u = a.nonResourceURLs[0]!;
    return (o.nonResourceURLs ?? []).some((x) => x === "*" || x === u || (x.endsWith("*") && u.startsWith(x.slice(0, -1))));
  }
  if (!within(o.apiGroups, a.apiGroups![0]!)) return false;
  const res = a.resources![0]!;
  const sub = res.includes("/") ? res.slice(res.indexOf("/")) : "";
  if (!(o.resources ?? []).some((x) => x === "*" || x === res || (sub !== "" && x === `*${sub}`))) return false;
  if (!o.resourceNames?.length) return true;
  return a.resourceNames !== undefined && o.resourceNames.includes(a.resourceNames[0]!);
}
