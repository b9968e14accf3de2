// Placement (eddy.dev/jurisdiction, eddy.dev/location-hint) with Eddy started by `npm start`.
// workerd has no jurisdictions, so locally a placed owner's objects are other objects than an
// unplaced one's of the same name (durable-objects/objects.ts): every path below (ingress, plan,
// partitions, queue consumer, internal hops, stats, dead letters, tail) must carry the placement
// to reach them, as on Cloudflare.
import { afterEach, describe, expect, inject, it } from "vitest";
import WebSocket from "ws";
import { Api, broker, imc, subscription, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { failFirst, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";
const M = "messaging.knative.dev/v1";
const sink = sinkPool(afterEach);
const EU = { "eddy.dev/jurisdiction": "eu", "eddy.dev/location-hint": "weur" };
const send = (url: string, id: string, type = "com.example.placed") =>
  post(url, binaryHeaders({ specversion: "1.0", id, source: "/placement", type }), "{}");

describe("placement", () => {
  it("a placed, partitioned Broker takes events, retries through the queue, and shows its placement", async () => {
    const ns = uniqueNs("place");
    const b = await api.apply(broker(ns, "default", {}, { ...EU, "eddy.dev/partitions": "2" }));
    expect(b.status.placement).toEqual({ jurisdiction: "eu", locationHint: "weur" });
    // The first attempt fails and the retry waits a second: it goes through the delivery queue,
    // whose consumer reports the outcome to the owner named in the message.
    const s = await sink(failFirst(1, 503));
    await api.apply(trigger(ns, "t", "default", s.url, { delivery: { retry: 2, backoffPolicy: "exponential", backoffDelay: "PT1S" } }));
    await api.waitReady(V1, "Trigger", ns, "t");
    const tail = new WebSocket(`${p.url.replace(/^http/, "ws")}/apis/${V1}/namespaces/${ns}/brokers/default/tail`, { headers: { Authorization: `Bearer ${p.token}` } });
    const seen: any[] = [];
    tail.on("message", (d) => seen.push(JSON.parse(String(d))));
    await new Promise((r, j) => tail.once("open", r).once("error", j));
    try {
      expect((await send(b.status.address.url, "eu-1")).status).toBe(202);
      await s.waitFor(2, 20_000);
      const stats = (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body;
      await expect.poll(async () => (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body.counters, { timeout: 10_000 }).toMatchObject({ accepted: 1, delivered: 1, retried: 1 });
      expect(stats.partitions).toHaveLength(2);
      await expect.poll(() => seen.filter((m) => m.kind === "delivery").map((m) => m.outcome)).toEqual(["retrying", "delivered"]);
    } finally {
      tail.terminate();
    }
  });

  it("refuses a change of placement, naming the field, and keeps the Broker as it was", async () => {
    const ns = uniqueNs("place");
    await api.apply(broker(ns, "default", {}, EU));
    const r = await api.call("PUT", `/apis/${V1}/namespaces/${ns}/brokers/default`, broker(ns, "default", {}, { ...EU, "eddy.dev/jurisdiction": "us" }));
    expect(r.status).toBe(422);
    expect(r.body.details.causes).toEqual([{ field: "metadata.annotations.eddy.dev/jurisdiction", reason: "FieldValueInvalid", message: expect.stringContaining('is immutable: it is "eu" and cannot become "us"') }]);
    const bad = await api.call("PUT", `/apis/${M}/namespaces/${ns}/inmemorychannels/c`, { ...imc(ns, "c"), metadata: { name: "c", namespace: ns, annotations: { "eddy.dev/location-hint": "north-pole" } } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain("wnam, enam, sam, weur, eeur, apac, oc, afr, me");
    expect((await api.get(V1, "Broker", ns, "default")).body.metadata.annotations["eddy.dev/jurisdiction"]).toBe("eu");
  });

  it("delivers to a placed channel as an internal hop, and keeps its dead letters there", async () => {
    const ns = uniqueNs("place");
    await api.apply(broker(ns, "default"));
    const placedImc = imc(ns, "orders");
    placedImc.metadata.annotations = { "eddy.dev/jurisdiction": "fedramp" };
    await api.apply(placedImc);
    const ok = await sink();
    const failing = await sink(() => ({ status: 500 }));
    await api.apply(subscription(ns, "ok", "orders", { subscriber: { uri: ok.url } }));
    await api.apply(subscription(ns, "failing", "orders", { subscriber: { uri: failing.url }, delivery: { retry: 0 } }));
    await api.apply(trigger(ns, "to-channel", "default", "http://unused.invalid/", { subscriber: { ref: { apiVersion: M, kind: "InMemoryChannel", name: "orders" } } }));
    await api.waitReady(M, "Subscription", ns, "failing");
    await api.waitReady(V1, "Trigger", ns, "to-channel");
    const url = (await api.get(V1, "Broker", ns, "default")).body.status.address.url;
    expect((await send(url, "hop-1")).status).toBe(202);
    const [got] = await ok.waitFor(1);
    expect(got!.headers["ce-id"]).toBe("hop-1");
    await expect.poll(async () => (await api.call("GET", `/apis/${M}/namespaces/${ns}/inmemorychannels/orders/deadletters`)).body.items?.map((e: any) => e.eventId), { timeout: 15_000 }).toEqual(["hop-1"]);
  });

  it("a deleted placed Broker is gone from its objects; created again elsewhere, it starts empty", async () => {
    const ns = uniqueNs("place");
    const b = await api.apply(broker(ns, "default", {}, EU));
    const s = await sink();
    await api.apply(trigger(ns, "t", "default", s.url));
    await api.waitReady(V1, "Trigger", ns, "t");
    expect((await send(b.status.address.url, "before")).status).toBe(202);
    await s.waitFor(1);
    expect((await api.del(V1, "Broker", ns, "default")).status).toBe(200);
    await expect.poll(async () => (await send(b.status.address.url, "gone")).status).toBe(404);
    const again = await api.apply(broker(ns, "default", {}, { "eddy.dev/jurisdiction": "us" }));
    expect(again.status.placement).toEqual({ jurisdiction: "us" });
    await api.waitReady(V1, "Trigger", ns, "t");
    await expect.poll(async () => (await send(b.status.address.url, "after")).status).toBe(202);
    await s.waitFor(2);
    const stats = (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body;
    expect(stats.counters.accepted).toBe(1);
  });
});
