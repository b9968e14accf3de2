// Deeply nested input over HTTP, inside workerd: refused with 400 on every route, nothing stored,
// and the runtime keeps serving (issue #8).
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apply, brokerObj, decode, ORIGIN, SINK, stats, triggerObj, uid, waitLog } from "./helpers.js";

const AUTH = { Authorization: "Bearer test-token" };
const CE = { "ce-specversion": "1.0", "ce-id": "deep", "ce-source": "/s", "ce-type": "t" };
/** Counters leave out what never happened. */
const accepted = async (ns: string) => ((await stats(ns, "default")).counters.accepted as number | undefined) ?? 0;
const nested = (n: number) => "[".repeat(n) + "]".repeat(n);

async function post(path: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  // The admin token is a valid sender wherever ingress authentication (AUTHENTICATION_OIDC) is on.
  const r = await SELF.fetch(`${ORIGIN}${path}`, { method: "POST", headers: { ...AUTH, ...headers }, body });
  return { status: r.status, text: await r.text() };
}

async function brokerWithTrigger(): Promise<{ ns: string; key: string }> {
  const ns = uid("ns");
  const key = uid();
  await apply(brokerObj(ns, "default"), "brokers");
  await apply(triggerObj(ns, "all", "default", `${SINK}/ok/${key}`), "triggers");
  return { ns, key };
}

describe("deep nesting at the ingress", () => {
  it("answers the reported batch of 5,000 `[` with 400 while other requests in flight succeed", async () => {
    const { ns, key } = await brokerWithTrigger();
    const path = `/brokers/${ns}/default`;
    const batch = { "Content-Type": "application/cloudevents-batch+json" };
    const results = await Promise.all([
      post(path, batch, "[".repeat(5000)),
      ...Array.from({ length: 5 }, (_, i) => post(path, { ...CE, "ce-id": `ok-${i}`, "Content-Type": "application/json" }, `{"i":${i}}`)),
      post(path, batch, "[".repeat(5000)),
    ]);
    expect(results.map((r) => r.status)).toEqual([400, 202, 202, 202, 202, 202, 400]);
    expect(results[0]!.text).toContain("the batch body nests JSON deeper than 66 levels (the event format takes 2, so data may nest 64): level 67 opens at byte 66");
    const got = await waitLog(key, 5);
    expect(new Set(got.map((r) => r.headers["ce-id"]))).toEqual(new Set(["ok-0", "ok-1", "ok-2", "ok-3", "ok-4"]));
    expect(await accepted(ns)).toBe(5);
  });

  it("refuses deep data in binary, structured and batch mode on every kind of ingress, storing nothing", async () => {
    const { ns, key } = await brokerWithTrigger();
    await apply({ apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel", metadata: { name: "c", namespace: ns } }, "inmemorychannels");
    const deep = nested(65);
    const envelope = `{"specversion":"1.0","id":"x","source":"/s","type":"t","data":${deep}}`;
    for (const path of [`/brokers/${ns}/default`, `/inmemorychannels/${ns}/c`]) {
      const bin = await post(path, { ...CE, "Content-Type": "application/json" }, deep);
      expect(bin.status).toBe(400);
      expect(bin.text).toContain("nests JSON deeper than 64 levels: level 65 opens at byte 64");
      expect((await post(path, { "Content-Type": "application/cloudevents+json" }, envelope)).text).toContain("deeper than 65 levels");
      expect((await post(path, { "Content-Type": "application/cloudevents-batch+json" }, `[${envelope}]`)).text).toContain("deeper than 66 levels");
    }
    expect(await accepted(ns)).toBe(0);
    // Data exactly at the limit is accepted and delivered unchanged.
    expect((await post(`/brokers/${ns}/default`, { ...CE, "Content-Type": "application/json" }, nested(64))).status).toBe(202);
    const [got] = await waitLog(key, 1);
    expect(decode(got!.body)).toBe(nested(64));
  });

  it("refuses a signed webhook delivery whose JSON body is too deep, and stores nothing", async () => {
    const { ns, key } = await brokerWithTrigger();
    await apply({
      apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", metadata: { name: "w", namespace: ns },
      spec: { provider: "generic-hmac", secrets: ["SECRET_TEST_WEBHOOK"], genericHmac: { header: "X-Sig", idHeader: "X-Id" }, sink: { uri: `${SINK}/ok/${key}` } },
    }, "webhooksources");
    const hmac = await crypto.subtle.importKey("raw", new TextEncoder().encode("test-token"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const sign = async (body: string) => [...new Uint8Array(await crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(body)))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const deep = `{"a":${nested(5000)}}`;
    const r = await post(`/webhooks/${ns}/w`, { "X-Sig": await sign(deep), "X-Id": "d1", "Content-Type": "application/json" }, deep);
    expect(r.status).toBe(400);
    expect(r.text).toContain("nests JSON deeper than 64 levels");
    const ok = '{"a":1}';
    expect((await post(`/webhooks/${ns}/w`, { "X-Sig": await sign(ok), "X-Id": "d2", "Content-Type": "application/json" }, ok)).status).toBe(202);
    const got = await waitLog(key, 1);
    expect(got.map((g) => g.headers["ce-id"])).toEqual(["d2"]);
  });
});

describe("deep nesting in the control plane", () => {
  const url = (ns: string, name: string) => `${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/${name}`;
  const put = (ns: string, name: string, type: string, body: string) => SELF.fetch(url(ns, name), { method: "PUT", headers: { ...AUTH, "Content-Type": type }, body });

  it("answers 400 naming the limit for deep JSON and YAML manifests, not 500", async () => {
    const ns = uid("ns");
    const cases: [string, string, string][] = [
      ["application/json", `{"spec":{"x":${nested(5000)}}}`, "the JSON body nests deeper than 100 levels"],
      ["application/json", `{"spec":{"x":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}}`, "the JSON body nests deeper than 100 levels"],
      ["application/yaml", "[".repeat(5000), "the YAML body nests deeper than 100 levels (level 101 starts at line 1, column 101)"],
      ["application/yaml", "spec: &s\n  again: *s\n", "an alias refers to a node that contains it"],
      ["application/yaml", "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]", "Excessive alias count"],
    ];
    for (const [type, body, message] of cases) {
      const r = await put(ns, "b", type, body);
      const status = (await r.json()) as { code: number; message: string };
      expect(r.status, status.message).toBe(400);
      expect(status.message).toContain(message);
    }
    const list = await SELF.fetch(`${ORIGIN}/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers`, { headers: AUTH });
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it("still accepts a Trigger with filters nested as deep as admission allows", async () => {
    const ns = uid("ns");
    await apply(brokerObj(ns, "default"), "brokers");
    let f: unknown = { exact: { type: "t" } };
    for (let i = 1; i < 32; i++) f = { all: [f] };
    const t = await apply(triggerObj(ns, "deep", "default", `${SINK}/ok/x`, { filters: [f] }), "triggers");
    expect(t.status.conditions.find((c: { type: string }) => c.type === "Ready").status).toBe("True");
  });
});
