// Secrets through the API inside workerd: written with data or stringData, sealed at rest (the
// namespace's storage and change log hold no plain value), shown only to callers who may get them,
// and named by secretKeyRef from a route's signing annotation, where a new value takes effect at once.
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Webhook } from "svix";
import type { Namespace } from "../../durable-objects/namespace.js";
import { apply, AUTH, brokerObj, decode, ORIGIN, send, SINK, triggerObj, uid, waitLog } from "./helpers.js";

const RBAC = "rbac.authorization.k8s.io";

async function api(method: string, path: string, body?: unknown, auth: Record<string, string> = AUTH): Promise<{ status: number; body: any; text: string }> {
  const r = await SELF.fetch(`${ORIGIN}${path}`, { method, headers: { ...auth, "Content-Type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  return { status: r.status, body: text && text.startsWith("{") ? JSON.parse(text) : undefined, text };
}

const secret = (ns: string, name: string, extra: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, ...extra });
const b64 = (s: string) => btoa(s);

async function reader(ns: string, verbs: string[]): Promise<Record<string, string>> {
  const name = uid("sa");
  await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } });
  await apply({ apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { name, namespace: ns }, rules: [{ verbs, apiGroups: [""], resources: ["secrets"] }] }, "roles");
  await apply({ apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name, namespace: ns }, subjects: [{ kind: "ServiceAccount", name }], roleRef: { apiGroup: RBAC, kind: "Role", name } }, "rolebindings");
  const t = await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, { spec: {} });
  return { Authorization: `Bearer ${t.body.status.token}` };
}

describe("Secrets", () => {
  it("merge stringData into data, and keep no plain value in the namespace's storage or change log", async () => {
    const ns = uid("ns");
    const created = await api("POST", `/api/v1/namespaces/${ns}/secrets`, secret(ns, "gh", { stringData: { token: "plain-text-value-1" }, data: { other: b64("second-value-2") } }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: "Secret", type: "Opaque", data: { token: b64("plain-text-value-1"), other: b64("second-value-2") } });
    expect(created.body.stringData).toBeUndefined();
    expect((await api("GET", `/api/v1/namespaces/${ns}/secrets/gh`)).body.data.token).toBe(b64("plain-text-value-1"));
    const stored = await runInDurableObject(env.NAMESPACE.get(env.NAMESPACE.idFromName(ns)) as DurableObjectStub<Namespace>, (_o, state) =>
      [...state.storage.sql.exec("SELECT body FROM resources UNION ALL SELECT body FROM changes").toArray()].map((r) => String(r.body)).join("\n"));
    expect(stored).toContain("eddy:v1:");
    for (const plain of ["plain-text-value-1", b64("plain-text-value-1"), "second-value-2", b64("second-value-2")]) expect(stored).not.toContain(plain);
  });

  it("show values in lists and watches only to callers who may get secrets", async () => {
    const ns = uid("ns");
    await api("POST", `/api/v1/namespaces/${ns}/secrets`, secret(ns, "s", { stringData: { k: "hidden-value" } }));
    const lister = await reader(ns, ["list", "watch"]);
    const listed = await api("GET", `/api/v1/namespaces/${ns}/secrets`, undefined, lister);
    expect(listed.status).toBe(200);
    expect(listed.body.items[0]).toMatchObject({ metadata: { name: "s" }, type: "Opaque" });
    expect(listed.body.items[0].data).toBeUndefined();
    expect(listed.text).not.toContain(b64("hidden-value"));
    expect((await api("GET", `/api/v1/namespaces/${ns}/secrets/s`, undefined, lister)).status).toBe(403);
    const watch = await SELF.fetch(`${ORIGIN}/api/v1/namespaces/${ns}/secrets?watch=true&timeoutSeconds=1`, { headers: lister });
    const first = JSON.parse((await watch.text()).split("\n")[0]!);
    expect(first).toMatchObject({ type: "ADDED", object: { metadata: { name: "s" } } });
    expect(first.object.data).toBeUndefined();
    const getter = await reader(ns, ["get", "list"]);
    expect((await api("GET", `/api/v1/namespaces/${ns}/secrets`, undefined, getter)).body.items[0].data).toEqual({ k: b64("hidden-value") });
  });

  it("refuse what Kubernetes refuses", async () => {
    const ns = uid("ns");
    const bad = await api("POST", `/api/v1/namespaces/${ns}/secrets`, secret(ns, "s", { type: "kubernetes.io/tls", data: { "a b": "!!!" } }));
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c: any) => c.field)).toEqual(expect.arrayContaining(["type", "data[a b]"]));
    await api("POST", `/api/v1/namespaces/${ns}/secrets`, secret(ns, "frozen", { immutable: true, stringData: { k: "v1" } }));
    const changed = await api("PUT", `/api/v1/namespaces/${ns}/secrets/frozen`, secret(ns, "frozen", { immutable: true, stringData: { k: "v2" } }));
    expect(changed.status).toBe(422);
    expect(changed.body.message).toContain("immutable");
    const relabel = await api("PUT", `/api/v1/namespaces/${ns}/secrets/frozen`, { ...secret(ns, "frozen", { immutable: true, data: { k: b64("v1") } }), metadata: { name: "frozen", labels: { a: "b" } } });
    expect(relabel.status).toBe(200);
  });

  it("sign a route's deliveries with the key a secretKeyRef names; a new value signs the next delivery, no restart", async () => {
    const ns = uid("ns");
    const k = uid();
    const first = "whsec_" + btoa("first-signing-key-0123456789");
    const second = "whsec_" + btoa("second-signing-key-987654321");
    await api("POST", `/api/v1/namespaces/${ns}/secrets`, secret(ns, "hooks", { stringData: { whsec: first } }));
    await apply(brokerObj(ns, "default"), "brokers");
    const t = triggerObj(ns, "signed", "default", `${SINK}/ok/${k}`);
    await apply({ ...t, metadata: { ...t.metadata, annotations: { "eddy.dev/signing-secret": "hooks/whsec" } } }, "triggers");
    expect((await send(ns, "default", { specversion: "1.0", id: "one", source: "/s", type: "t" }, '{"n":1}')).status).toBe(202);
    const [a] = await waitLog(k, 1);
    expect(() => new Webhook(first).verify(decode(a!.body), a!.headers)).not.toThrow();
    expect((await api("PUT", `/api/v1/namespaces/${ns}/secrets/hooks`, secret(ns, "hooks", { stringData: { whsec: second } }))).status).toBe(200);
    expect((await send(ns, "default", { specversion: "1.0", id: "two", source: "/s", type: "t" }, '{"n":2}')).status).toBe(202);
    const got = await waitLog(k, 2);
    const b = got.find((r) => r.headers["ce-id"] === "two")!;
    expect(() => new Webhook(second).verify(decode(b.body), b.headers)).not.toThrow();
    expect(() => new Webhook(first).verify(decode(b.body), b.headers)).toThrow();
  });
});

describe("Secret routes", () => {
  it("answer 404 naming the Secret when it does not exist", async () => {
    const ns = uid("ns");
    const r = await api("GET", `/api/v1/namespaces/${ns}/secrets/missing`);
    expect(r.status).toBe(404);
    expect(r.body.message).toContain('secrets "missing" not found');
  });
});
