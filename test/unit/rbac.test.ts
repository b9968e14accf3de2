import { describe, expect, it } from "vitest";
import { authorize, forbiddenMessage, ruleAllows, rulesFor } from "../../core/rbac/authorize.js";
import { uncovered } from "../../core/rbac/escalation.js";
import { requestAttributes } from "../../core/rbac/request-info.js";
import { ADMIN_USER, type Attributes, type RbacWorld, type UserInfo } from "../../core/rbac/types.js";

const E = "eventing.knative.dev";
const sa = (ns: string, name: string): UserInfo => ({
  username: `system:serviceaccount:${ns}:${name}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
});
const attrs = (method: string, path: string, q = "") => requestAttributes(method, path, new URLSearchParams(q));
const rbacRef = (kind: "Role" | "ClusterRole", name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name });
const reader = sa("demo", "reader");

const world: RbacWorld = {
  clusterRoles: [{ name: "trigger-reader", rules: [{ verbs: ["get", "list", "watch"], apiGroups: [E], resources: ["triggers"] }] }],
  clusterRoleBindings: [{ name: "ops-read", subjects: [{ kind: "Group", name: "ops" }], roleRef: rbacRef("ClusterRole", "trigger-reader") }],
  roles: [
    { name: "triggers", rules: [{ verbs: ["get", "list", "watch"], apiGroups: [E], resources: ["triggers"] }] },
    { name: "one-broker", rules: [{ verbs: ["get"], apiGroups: [E], resources: ["brokers", "brokers/stats"], resourceNames: ["default"] }] },
  ],
  roleBindings: [
    { name: "reader", namespace: "demo", subjects: [{ kind: "ServiceAccount", name: "reader" }], roleRef: rbacRef("Role", "triggers") },
    { name: "broker", namespace: "demo", subjects: [{ kind: "User", name: "alice" }], roleRef: rbacRef("Role", "one-broker") },
    { name: "dangling", namespace: "demo", subjects: [{ kind: "User", name: "bob" }], roleRef: rbacRef("Role", "gone") },
  ],
};

describe("request attributes", () => {
  it("reads verbs, groups, resources, names and subresources as Kubernetes does", () => {
    expect(attrs("GET", `/apis/${E}/v1/namespaces/demo/triggers`)).toMatchObject({ resourceRequest: true, verb: "list", apiGroup: E, resource: "triggers", namespace: "demo", name: "" });
    expect(attrs("GET", `/apis/${E}/v1/namespaces/demo/triggers`, "watch=true").verb).toBe("watch");
    expect(attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers/b/stats`)).toMatchObject({ verb: "get", resource: "brokers", name: "b", subresource: "stats" });
    expect(attrs("POST", `/apis/${E}/v1/namespaces/demo/brokers/b/deadletters/redrive`)).toMatchObject({ verb: "create", subresource: "deadletters" });
    expect(attrs("DELETE", `/apis/${E}/v1/namespaces/demo/brokers`).verb).toBe("deletecollection");
    expect(attrs("PATCH", "/api/v1/namespaces/demo/secrets/s")).toMatchObject({ verb: "patch", apiGroup: "", resource: "secrets", name: "s" });
    expect(attrs("GET", "/api/v1/namespaces/demo")).toMatchObject({ verb: "get", resource: "namespaces", name: "demo", namespace: "demo" });
    expect(attrs("GET", `/apis/${E}/v1/triggers`)).toMatchObject({ verb: "list", namespace: "" });
    expect(attrs("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).toMatchObject({ verb: "create", resource: "selfsubjectaccessreviews", namespace: "" });
    for (const p of ["/api", "/api/v1", "/apis", `/apis/${E}`, `/apis/${E}/v1`, "/version", "/openapi/v3/apis/x/v1"]) {
      expect(attrs("GET", p), p).toEqual({ resourceRequest: false, verb: "get", path: p });
    }
  });
});

describe("authorize", () => {
  const can = (u: UserInfo, a: Attributes) => authorize(u, a, world).allowed;
  it("grants what a RoleBinding's Role allows, in its namespace only", () => {
    expect(can(reader, attrs("GET", `/apis/${E}/v1/namespaces/demo/triggers`))).toBe(true);
    expect(can(reader, attrs("GET", `/apis/${E}/v1/namespaces/demo/triggers`, "watch=1"))).toBe(true);
    expect(can(reader, attrs("GET", `/apis/${E}/v1/namespaces/other/triggers`))).toBe(false);
    expect(can(reader, attrs("POST", `/apis/${E}/v1/namespaces/demo/brokers`))).toBe(false);
    expect(can(reader, attrs("GET", "/api/v1/namespaces/demo/secrets"))).toBe(false);
    expect(can(reader, attrs("GET", `/apis/${E}/v1/triggers`))).toBe(false); // every namespace needs a ClusterRoleBinding
    expect(can(sa("other", "reader"), attrs("GET", `/apis/${E}/v1/namespaces/demo/triggers`))).toBe(false);
  });
  it("grants a ClusterRoleBinding's ClusterRole in every namespace and across them", () => {
    const ops = { username: "carol", groups: ["ops", "system:authenticated"] };
    expect(can(ops, attrs("GET", `/apis/${E}/v1/namespaces/x/triggers`))).toBe(true);
    expect(can(ops, attrs("GET", `/apis/${E}/v1/triggers`))).toBe(true);
    expect(can(ops, attrs("DELETE", `/apis/${E}/v1/namespaces/x/triggers/t`))).toBe(false);
  });
  it("honours resourceNames and subresources", () => {
    const alice = { username: "alice", groups: ["system:authenticated"] };
    expect(can(alice, attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers/default`))).toBe(true);
    expect(can(alice, attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers/default/stats`))).toBe(true);
    expect(can(alice, attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers/other`))).toBe(false);
    expect(can(alice, attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers`))).toBe(false);
    expect(can(alice, attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers/default/deadletters`))).toBe(false);
    expect(ruleAllows({ verbs: ["get"], apiGroups: [E], resources: ["*/stats"] }, attrs("GET", `/apis/${E}/v1/namespaces/d/channels/c/stats`))).toBe(true);
  });
  it("lets every authenticated caller read discovery and review itself, and nothing else until bound", () => {
    const nobody = sa("demo", "nobody");
    expect(can(nobody, attrs("GET", "/apis"))).toBe(true);
    expect(can(nobody, attrs("GET", "/openapi/v3/apis/eventing.knative.dev/v1"))).toBe(true);
    expect(can(nobody, attrs("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"))).toBe(true);
    expect(can(nobody, attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers`))).toBe(false);
    expect(can(nobody, attrs("GET", "/api/v1/namespaces"))).toBe(false);
  });
  it("never refuses system:masters, and says when a binding names a missing role", () => {
    expect(can(ADMIN_USER, attrs("DELETE", "/api/v1/namespaces/demo"))).toBe(true);
    const bob = { username: "bob", groups: [] };
    expect(authorize(bob, attrs("GET", `/apis/${E}/v1/namespaces/demo/triggers`), world)).toEqual({ allowed: false, reason: 'RBAC: role.rbac.authorization.k8s.io "gone" not found' });
  });
  it("words 403s as Kubernetes does", () => {
    expect(forbiddenMessage(reader, attrs("POST", `/apis/${E}/v1/namespaces/demo/brokers`)))
      .toBe(`brokers.${E} is forbidden: User "system:serviceaccount:demo:reader" cannot create resource "brokers" in API group "${E}" in the namespace "demo"`);
    expect(forbiddenMessage(reader, attrs("GET", "/api/v1/namespaces/demo/secrets/s1")))
      .toBe('secrets "s1" is forbidden: User "system:serviceaccount:demo:reader" cannot get resource "secrets" in API group "" in the namespace "demo"');
    expect(forbiddenMessage(reader, attrs("GET", `/apis/${E}/v1/namespaces/demo/brokers/b/stats`))).toContain('cannot get resource "brokers/stats"');
    expect(forbiddenMessage(reader, attrs("GET", "/api/v1/namespaces"))).toBe('namespaces is forbidden: User "system:serviceaccount:demo:reader" cannot list resource "namespaces" in API group "" at the cluster scope');
    expect(forbiddenMessage(reader, attrs("GET", "/metrics"))).toBe('forbidden: User "system:serviceaccount:demo:reader" cannot get path "/metrics"');
  });
  it("lists the rules a caller holds in a namespace", () => {
    expect(rulesFor(reader, "demo", world).rules).toContainEqual({ verbs: ["get", "list", "watch"], apiGroups: [E], resources: ["triggers"] });
    expect(rulesFor(reader, "other", world).rules.some((r) => r.resources?.includes("triggers"))).toBe(false);
  });
});

describe("escalation", () => {
  it("finds the permissions a role grants beyond what its writer holds", () => {
    const mine = [{ verbs: ["get", "list"], apiGroups: [E], resources: ["triggers", "brokers/stats"] }];
    expect(uncovered(mine, [{ verbs: ["get"], apiGroups: [E], resources: ["triggers"], resourceNames: ["t"] }])).toEqual([]);
    expect(uncovered(mine, [{ verbs: ["get", "delete"], apiGroups: [E], resources: ["triggers"] }])).toEqual([{ verbs: ["delete"], apiGroups: [E], resources: ["triggers"] }]);
    expect(uncovered(mine, [{ verbs: ["*"], apiGroups: [E], resources: ["triggers"] }])).toHaveLength(1);
    expect(uncovered(mine, [{ verbs: ["get"], apiGroups: ["*"], resources: ["triggers"] }])).toHaveLength(1);
    expect(uncovered([{ verbs: ["get"], apiGroups: [E], resources: ["*/stats"] }], [{ verbs: ["get"], apiGroups: [E], resources: ["channels/stats"] }])).toEqual([]);
    expect(uncovered([{ verbs: ["get"], nonResourceURLs: ["/openapi/*"] }], [{ verbs: ["get"], nonResourceURLs: ["/openapi/v3", "/metrics"] }])).toEqual([{ verbs: ["get"], nonResourceURLs: ["/metrics"] }]);
  });
});
