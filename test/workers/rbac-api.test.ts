// RBAC on the control plane inside workerd: ServiceAccount tokens for the API, Roles and bindings,
// 403s worded as Kubernetes words them, self-reviews, impersonation, and escalation refused.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, AUTH, brokerObj, ORIGIN, triggerObj, uid } from "./helpers.js";

const E = "eventing.knative.dev";
const RBAC = "rbac.authorization.k8s.io";

async function api(method: string, path: string, body?: unknown, auth: Record<string, string> = AUTH, extra: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await SELF.fetch(`${ORIGIN}${path}`, { method, headers: { ...auth, "Content-Type": "application/json", ...extra }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/** A ServiceAccount and a token of it for the API (a TokenRequest without audiences). */
async function account(ns: string, name: string): Promise<Record<string, string>> {
  expect((await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } })).status).toBe(201);
  const r = await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, { spec: {} });
  return { Authorization: `Bearer ${r.body.status.token}` };
}

const role = (ns: string, name: string, rules: unknown[]) => ({ apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { name, namespace: ns }, rules });
const binding = (ns: string, name: string, roleKind: string, roleName: string, subjects: unknown[]) => ({
  apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name, namespace: ns }, subjects, roleRef: { apiGroup: RBAC, kind: roleKind, name: roleName },
});
const sa = (ns: string, name: string) => ({ kind: "ServiceAccount", name, namespace: ns });
const readTriggers = [{ verbs: ["get", "list", "watch"], apiGroups: [E], resources: ["triggers"] }];

async function can(auth: Record<string, string>, attrs: Record<string, string>): Promise<boolean> {
  const r = await api("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attrs } }, auth);
  expect(r.status).toBe(201);
  return r.body.status.allowed;
}

describe("RBAC on the API", () => {
  it("lets a ServiceAccount bound to a Role do what the Role says, in its namespace, and nothing else", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(triggerObj(ns, "t1", "default", "http://127.0.0.1:9/"), "triggers");
    const reader = await account(ns, "reader");
    expect((await api("GET", `/apis/${E}/v1/namespaces/${ns}/triggers`, undefined, reader)).status).toBe(403);
    await apply(role(ns, "trigger-reader", readTriggers), "roles");
    await apply(binding(ns, "reader", "Role", "trigger-reader", [sa(ns, "reader")]), "rolebindings");

    const list = await api("GET", `/apis/${E}/v1/namespaces/${ns}/triggers`, undefined, reader);
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: any) => t.metadata.name)).toEqual(["t1"]);
    const created = await api("POST", `/apis/${E}/v1/namespaces/${ns}/brokers`, brokerObj(ns, "other"), reader);
    expect(created.status).toBe(403);
    expect(created.body).toMatchObject({ kind: "Status", reason: "Forbidden", code: 403, details: { group: E, kind: "brokers" } });
    expect(created.body.message).toBe(`brokers.${E} is forbidden: User "system:serviceaccount:${ns}:reader" cannot create resource "brokers" in API group "${E}" in the namespace "${ns}"`);
    const secrets = await api("GET", `/api/v1/namespaces/${ns}/secrets`, undefined, reader);
    expect(secrets.body.message).toBe(`secrets is forbidden: User "system:serviceaccount:${ns}:reader" cannot list resource "secrets" in API group "" in the namespace "${ns}"`);
    expect((await api("GET", `/apis/${E}/v1/namespaces/${uid("ns")}/triggers`, undefined, reader)).status).toBe(403);
    expect((await api("GET", `/apis/${E}/v1/triggers`, undefined, reader)).status).toBe(403);
    expect((await api("GET", `/apis/${E}/v1/namespaces/${ns}/brokers/default/stats`, undefined, reader)).status).toBe(403);
    // Discovery is everyone's; the answers of self-reviews match what the requests got.
    expect((await api("GET", "/apis", undefined, reader)).status).toBe(200);
    expect(await can(reader, { namespace: ns, verb: "list", group: E, resource: "triggers" })).toBe(true);
    expect(await can(reader, { namespace: ns, verb: "create", group: E, resource: "brokers" })).toBe(false);
    expect(await can(reader, { namespace: ns, verb: "get", group: "", resource: "secrets" })).toBe(false);
    const rules = await api("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", { spec: { namespace: ns } }, reader);
    expect(rules.body.status.resourceRules).toContainEqual({ verbs: ["get", "list", "watch"], apiGroups: [E], resources: ["triggers"] });
    const me = await api("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }, reader);
    expect(me.body.status.userInfo).toEqual({ username: `system:serviceaccount:${ns}:reader`, groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"] });

    // Deleting the binding takes the grant away at once.
    expect((await api("DELETE", `/apis/${RBAC}/v1/namespaces/${ns}/rolebindings/reader`)).status).toBe(200);
    expect((await api("GET", `/apis/${E}/v1/namespaces/${ns}/triggers`, undefined, reader)).status).toBe(403);
  });

  it("grants a ClusterRole bound by a ClusterRoleBinding in every namespace and across them", async () => {
    const ns = uid("ns");
    const other = uid("ns");
    await apply(brokerObj(other, "b"), "brokers");
    const ops = await account(ns, "ops");
    const name = uid("cr");
    expect((await api("PUT", `/apis/${RBAC}/v1/clusterroles/${name}`, { apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name }, rules: [{ verbs: ["get", "list"], apiGroups: [E], resources: ["brokers"] }] })).status).toBe(201);
    const crb = await api("POST", `/apis/${RBAC}/v1/clusterrolebindings`, { apiVersion: `${RBAC}/v1`, kind: "ClusterRoleBinding", metadata: { name }, subjects: [sa(ns, "ops")], roleRef: { apiGroup: RBAC, kind: "ClusterRole", name } });
    expect(crb.status).toBe(201);
    expect(crb.body.metadata.namespace).toBeUndefined();
    expect((await api("GET", `/apis/${E}/v1/namespaces/${other}/brokers/b`, undefined, ops)).status).toBe(200);
    const all = await api("GET", `/apis/${E}/v1/brokers`, undefined, ops);
    expect(all.status).toBe(200);
    expect(all.body.items.some((b: any) => b.metadata.namespace === other)).toBe(true);
    expect((await api("DELETE", `/apis/${E}/v1/namespaces/${other}/brokers/b`, undefined, ops)).status).toBe(403);
    expect((await api("GET", `/apis/${RBAC}/v1/clusterrolebindings`)).body.items.map((b: any) => b.metadata.name)).toContain(name);
    expect((await api("GET", `/apis/${RBAC}/v1/namespaces/${ns}/clusterroles/${name}`)).status).toBe(404);
    expect((await api("PUT", `/apis/${RBAC}/v1/clusterroles/cluster-admin`, { metadata: { name: "cluster-admin" }, rules: [] })).status).toBe(422);
  });

  it("refuses a role or binding that grants more than its writer holds", async () => {
    const ns = uid("ns");
    const admin = await account(ns, "admin");
    // Not "*": that would include escalate and bind, which let a writer grant what it does not hold, as in Kubernetes.
    await apply(role(ns, "rbac-writer", [{ verbs: ["get", "list", "create", "update", "patch", "delete"], apiGroups: [RBAC], resources: ["roles", "rolebindings"] }, ...readTriggers]), "roles");
    await apply(binding(ns, "admin", "Role", "rbac-writer", [sa(ns, "admin")]), "rolebindings");
    const ok = await api("POST", `/apis/${RBAC}/v1/namespaces/${ns}/roles`, role(ns, "subset", readTriggers), admin);
    expect(ok.status).toBe(201);
    const more = await api("POST", `/apis/${RBAC}/v1/namespaces/${ns}/roles`, role(ns, "more", [{ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }]), admin);
    expect(more.status).toBe(403);
    expect(more.body.message).toContain('is attempting to grant RBAC permissions not currently held: {"verbs":["get"],"apiGroups":[""],"resources":["secrets"]}');
    const toAdmin = await api("POST", `/apis/${RBAC}/v1/namespaces/${ns}/rolebindings`, binding(ns, "me", "ClusterRole", "cluster-admin", [sa(ns, "admin")]), admin);
    expect(toAdmin.status).toBe(403);
    expect((await api("POST", `/apis/${RBAC}/v1/namespaces/${ns}/rolebindings`, binding(ns, "sub", "Role", "subset", [sa(ns, "other")]), admin)).status).toBe(201);
  });

  it("lets the admin act as a ServiceAccount with Impersonate-User, and only the admin", async () => {
    const ns = uid("ns");
    const reader = await account(ns, "reader");
    const as = { "Impersonate-User": `system:serviceaccount:${ns}:reader` };
    const r = await api("GET", `/apis/${E}/v1/namespaces/${ns}/triggers`, undefined, AUTH, as);
    expect(r.status).toBe(403);
    expect(r.body.message).toContain(`User "system:serviceaccount:${ns}:reader" cannot list resource "triggers"`);
    const refused = await api("GET", `/apis/${E}/v1/namespaces/${ns}/triggers`, undefined, reader, { "Impersonate-User": "eddy:admin" });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe(`users "eddy:admin" is forbidden: User "system:serviceaccount:${ns}:reader" cannot impersonate resource "users" in API group "" at the cluster scope`);
  });

  it("validates RBAC objects as Kubernetes does", async () => {
    const ns = uid("ns");
    const bad = await api("POST", `/apis/${RBAC}/v1/namespaces/${ns}/roles`, role(ns, "r", [{ verbs: [], resources: ["x"] }, { verbs: ["get"], apiGroups: [""], nonResourceURLs: ["/metrics"] }]));
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c: any) => c.field)).toEqual(expect.arrayContaining(["rules[0].verbs", "rules[0].apiGroups", "rules[1].nonResourceURLs"]));
    await apply(binding(ns, "b", "Role", "r1", [sa(ns, "x")]), "rolebindings");
    const moved = await api("PUT", `/apis/${RBAC}/v1/namespaces/${ns}/rolebindings/b`, binding(ns, "b", "Role", "r2", [sa(ns, "x")]));
    expect(moved.status).toBe(422);
    expect(moved.body.details.causes[0]).toMatchObject({ field: "roleRef" });
    expect((await api("GET", `/apis/${RBAC}/v1/namespaces/${ns}/rolebindings/b`)).body).not.toHaveProperty("spec");
  });
});
