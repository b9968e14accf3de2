// Sources end to end: signed webhooks into a Broker, redeliveries deduplicated, PingSource ticks,
// and the EventTypes that appear for both.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { TEST_SECRETS } from "../support/global-platform.js";
import { sign } from "../support/sign.js";
import { senderAuth } from "../support/emit.js";
import { startSink, type Sink, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const fixture = (f: string) => readFileSync(resolve(import.meta.dirname, "../fixtures/webhooks", f), "utf8");
const sink = sinkPool(afterEach);
const W = "sources.eddy.dev/v1alpha1";
const webhookSource = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: W, kind: "WebhookSource", metadata: { name, namespace: ns }, spec });
const ping = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "sources.knative.dev/v1", kind: "PingSource", metadata: { name, namespace: ns }, spec });
const stats = async (ns: string, plural: string, name: string, group = W) => (await api.call("GET", `/apis/${group}/namespaces/${ns}/${plural}/${name}/stats`)).body;
const eventTypes = async (ns: string) => (await api.call("GET", `/apis/eventing.knative.dev/v1beta3/namespaces/${ns}/eventtypes`)).body.items as any[];

describe("WebhookSource", () => {
  it("delivers a signed GitHub push through a Broker to a Trigger's subscriber as a CloudEvent", async () => {
    const ns = uniqueNs("gh");
    await api.apply(broker(ns, "default"));
    const sub = await sink();
    await api.apply(trigger(ns, "pushes", "default", sub.url, { filter: { attributes: { type: "com.github.push" } } }));
    const src = await api.apply(webhookSource(ns, "github", {
      provider: "github", secrets: ["SECRET_TEST_GITHUB_SECRET", "SECRET_TEST_GITHUB_SECRET_NEXT"],
      sink: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } },
    }));
    const ready = await api.waitReady(W, "WebhookSource", ns, "github");
    expect(ready.status.address.url).toBe(`${p.url}/webhooks/${ns}/github`);
    expect(ready.status.sinkUri).toBe(`${p.url}/brokers/${ns}/default`);
    const body = fixture("github-push.json");
    const r = await fetch(src.status.address.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "11111111-2222-3333-4444-555555555555",
        "X-Hub-Signature-256": sign.github(TEST_SECRETS.SECRET_TEST_GITHUB_SECRET_NEXT, body),
      },
      body,
    });
    expect(r.status).toBe(202);
    const [got] = await sub.waitFor(1);
    expect(got!.headers).toMatchObject({
      "ce-type": "com.github.push", "ce-id": "11111111-2222-3333-4444-555555555555", "ce-source": "https://github.com/octocat/Hello-World",
      "ce-subject": "refs/heads/main", "content-type": "application/json",
    });
    expect(got!.body.toString()).toBe(body);
    await expect.poll(async () => (await eventTypes(ns)).map((e) => [e.spec.reference.kind, e.spec.attributes.find((a: any) => a.name === "type").value]).sort())
      .toEqual([["Broker", "com.github.push"], ["WebhookSource", "com.github.push"]]);
  });

  it("refuses a tampered body, a stale timestamp and a missing signature with 401, and delivers none of them", async () => {
    const ns = uniqueNs("bad");
    const sub = await sink();
    const gh = await api.apply(webhookSource(ns, "gh", { provider: "github", secrets: ["SECRET_TEST_GITHUB_SECRET"], sink: { uri: sub.url } }));
    const st = await api.apply(webhookSource(ns, "stripe", { provider: "stripe", secrets: ["SECRET_TEST_STRIPE_SECRET"], sink: { uri: sub.url } }));
    await api.waitReady(W, "WebhookSource", ns, "stripe");
    const body = fixture("github-push.json");
    const ghHeaders = { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1" };
    const tampered = await fetch(gh.status.address.url, { method: "POST", headers: { ...ghHeaders, "X-Hub-Signature-256": sign.github(TEST_SECRETS.SECRET_TEST_GITHUB_SECRET, body) }, body: body.replace("octocat", "mallory") });
    expect(tampered.status).toBe(401);
    expect(await tampered.text()).toMatch(/does not match/);
    const missing = await fetch(gh.status.address.url, { method: "POST", headers: ghHeaders, body });
    expect(missing.status).toBe(401);
    expect(await missing.text()).toMatch(/missing X-Hub-Signature-256/);
    const sbody = fixture("stripe-invoice-paid.json");
    const old = Math.floor(Date.now() / 1000) - 3600;
    const stale = await fetch(st.status.address.url, { method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": sign.stripe(TEST_SECRETS.SECRET_TEST_STRIPE_SECRET, sbody, old) }, body: sbody });
    expect(stale.status).toBe(401);
    expect(await stale.text()).toMatch(/tolerance/);
    expect((await sub.settle(800)).length).toBe(0);
    expect((await stats(ns, "webhooksources", "gh")).counters).toMatchObject({ "rejected.401": 2 });
    expect((await stats(ns, "webhooksources", "gh")).counters.accepted).toBeUndefined();
  });

  it("delivers a Stripe event once although Stripe delivers it twice", async () => {
    const ns = uniqueNs("dup");
    const sub = await sink();
    const st = await api.apply(webhookSource(ns, "stripe", { provider: "stripe", secrets: ["SECRET_TEST_STRIPE_SECRET"], sink: { uri: sub.url } }));
    await api.waitReady(W, "WebhookSource", ns, "stripe");
    const body = fixture("stripe-invoice-paid.json");
    for (let i = 0; i < 2; i++) {
      const t = Math.floor(Date.now() / 1000);
      const r = await fetch(st.status.address.url, { method: "POST", headers: { "Content-Type": "application/json", "Stripe-Signature": sign.stripe(TEST_SECRETS.SECRET_TEST_STRIPE_SECRET, body, t) }, body });
      expect(r.status).toBe(202);
    }
    const [got] = await sub.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-type": "com.stripe.invoice.paid", "ce-id": "evt_1NG8Du2eZvKYlo2CUI79vXWy" });
    expect((await sub.settle(800)).length).toBe(1);
    expect((await stats(ns, "webhooksources", "stripe")).counters["dropped.duplicate"]).toBe(1);
  });

  it("answers Slack's url_verification handshake and forwards nothing", async () => {
    const ns = uniqueNs("slack");
    const sub = await sink();
    const sl = await api.apply(webhookSource(ns, "slack", { provider: "slack", secrets: ["SECRET_TEST_SLACK_SECRET"], sink: { uri: sub.url } }));
    await api.waitReady(W, "WebhookSource", ns, "slack");
    const body = JSON.stringify({ token: "t", challenge: "abc123", type: "url_verification" });
    const ts = Math.floor(Date.now() / 1000);
    const r = await fetch(sl.status.address.url, { method: "POST", headers: { "Content-Type": "application/json", "X-Slack-Request-Timestamp": String(ts), "X-Slack-Signature": sign.slack(TEST_SECRETS.SECRET_TEST_SLACK_SECRET, body, ts) }, body });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("abc123");
    expect((await sub.settle(500)).length).toBe(0);
  });

  it("is not ready when none of its secrets is set, and says how to set one", async () => {
    const ns = uniqueNs("nosecret");
    const s = await api.apply(webhookSource(ns, "x", { provider: "github", secrets: ["SECRET_NOT_SET_ANYWHERE"], sink: { uri: "http://127.0.0.1:9/" } }));
    expect(s.status.conditions.find((c: any) => c.type === "Ready")).toMatchObject({ status: "False", reason: "SecretsNotFound", message: expect.stringMatching(/wrangler secret put SECRET_NOT_SET_ANYWHERE/) });
    const bad = await api.call("PUT", `/apis/${W}/namespaces/${ns}/webhooksources/y`, webhookSource(ns, "y", { provider: "gitlab", secrets: [], sink: { uri: "http://127.0.0.1:9/" } }));
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes.map((c: any) => c.field).sort()).toEqual(["spec.provider", "spec.secrets"]);
  });
});

describe("PingSource", () => {
  const cron = () => fetch(`${p.url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);

  it("delivers its decoded dataBase64 on a tick of the per-minute Cron Trigger", async () => {
    const ns = uniqueNs("ping");
    const sub = await sink();
    await api.apply(ping(ns, "hello", { schedule: "* * * * *", contentType: "text/plain", dataBase64: "aGVsbG8sIHdvcmxkIQ==", sink: { uri: sub.url } }));
    await api.waitReady("sources.knative.dev/v1", "PingSource", ns, "hello");
    expect((await cron()).status).toBe(200);
    const [got] = await sub.waitFor(1);
    expect(got!.headers).toMatchObject({
      "ce-type": "dev.knative.sources.ping", "ce-source": `/apis/v1/namespaces/${ns}/pingsources/hello`,
      "content-type": "text/plain", "kn-namespace": ns,
    });
    expect(got!.body.toString()).toBe("hello, world!");
    await cron(); // the same minute again: the tick does not fire twice
    expect((await sub.settle(800)).length).toBe(1);
  });

  it("reaches a Trigger through a Broker, and its EventType appears", async () => {
    const ns = uniqueNs("pingb");
    await api.apply(broker(ns, "default"));
    const sub = await sink();
    await api.apply(trigger(ns, "pings", "default", sub.url, { filter: { attributes: { type: "dev.knative.sources.ping" } } }));
    await api.apply(ping(ns, "beat", { contentType: "application/json", data: '{"message":"Hello world!"}', sink: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } } }));
    await api.waitReady("sources.knative.dev/v1", "PingSource", ns, "beat");
    await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "pings");
    await cron();
    const [got] = await sub.waitFor(1);
    expect(JSON.parse(got!.body.toString())).toEqual({ message: "Hello world!" });
    await expect.poll(async () => (await eventTypes(ns)).map((e) => `${e.spec.reference.kind}:${e.spec.attributes.find((a: any) => a.name === "type").value}`).sort())
      .toEqual(["Broker:dev.knative.sources.ping", "PingSource:dev.knative.sources.ping"]);
    const et = (await eventTypes(ns)).find((e) => e.spec.reference.kind === "PingSource");
    expect(et.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
  });

  it("fires a schedule with a seconds field from its own alarm", async () => {
    const ns = uniqueNs("secs");
    const sub = await sink();
    await api.apply(ping(ns, "fast", { schedule: "*/2 * * * * *", data: "tick", sink: { uri: sub.url } }));
    const got = await sub.waitFor(2, 15_000);
    expect(got.every((r) => r.headers["ce-type"] === "dev.knative.sources.ping")).toBe(true);
    expect(new Set(got.map((r) => r.headers["ce-id"])).size).toBe(got.length);
  });

  it("validates schedules, time zones and data as Knative does", async () => {
    const ns = uniqueNs("pv");
    const bad = (spec: Record<string, unknown>) => api.call("PUT", `/apis/sources.knative.dev/v1/namespaces/${ns}/pingsources/p`, ping(ns, "p", { sink: { uri: "http://127.0.0.1:9/" }, ...spec }));
    const fields = async (spec: Record<string, unknown>) => (await bad(spec)).body.details?.causes?.map((c: any) => c.field);
    expect(await fields({ schedule: "@every 1m" })).toEqual(["spec.schedule"]);
    expect(await fields({ schedule: "61 * * * *" })).toEqual(["spec.schedule"]);
    expect(await fields({ timezone: "Mars/Olympus" })).toEqual(["spec.timezone"]);
    expect(await fields({ data: "x", dataBase64: "eA==" })).toEqual(["spec.dataBase64"]);
    expect(await fields({ contentType: "application/json", data: "[1]" })).toEqual(["spec.data"]);
    expect(await fields({ ceOverrides: { extensions: { type: "x" } } })).toEqual(["spec.ceOverrides.extensions.type"]);
    const ok = await bad({ schedule: "10 0/1 * * * ?", timezone: "Europe/Amsterdam" });
    expect(ok.status).toBe(201);
  });
});

describe("EventType", () => {
  const ET = "eventing.knative.dev/v1beta3";
  it("is served through the API, validated, and immutable", async () => {
    const ns = uniqueNs("et");
    const et = (name: string, spec: Record<string, unknown>) => ({ apiVersion: ET, kind: "EventType", metadata: { name, namespace: ns }, spec });
    const good = await api.apply(et("orders", {
      description: "orders", attributes: [{ name: "type", required: true, value: "com.acme.order" }, { name: "source", required: true }, { name: "specversion", required: true }, { name: "id", required: true }],
    }));
    expect(good.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    const missing = await api.call("PUT", `/apis/${ET}/namespaces/${ns}/eventtypes/bad`, et("bad", { attributes: [{ name: "type" }] }));
    expect(missing.status).toBe(422);
    expect(missing.body.message).toMatch(/"source"/);
    const changed = await api.call("PUT", `/apis/${ET}/namespaces/${ns}/eventtypes/orders`, et("orders", { ...good.spec, description: "changed" }));
    expect(changed.status).toBe(422);
  });

  it("auto-creation can be switched off per Broker", async () => {
    const ns = uniqueNs("etoff");
    const url = (await api.apply(broker(ns, "quiet", {}, { "eddy.dev/eventtype-auto-create": "false" }))).status.address.url;
    const sub = await sink();
    await api.apply(trigger(ns, "t", "quiet", sub.url));
    await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "t");
    await fetch(url, { method: "POST", headers: { ...senderAuth(), "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/q", "ce-type": "quiet.type" } });
    await sub.waitFor(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await eventTypes(ns)).toEqual([]);
  });
});
