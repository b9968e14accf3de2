// Ordered delivery per partitionkey and per-subscriber flow control, against real local sinks.
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";
const sink = sinkPool(afterEach);
const auth = { Authorization: `Bearer ${p.token}` };
const ev = (id: string, extra: Record<string, string> = {}) =>
  ({ ...binaryHeaders({ specversion: "1.0", id, source: "/flow", type: "com.example.flow", ...extra }), ...auth });

/** A small seeded generator, so a failing run can be replayed exactly. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function withTrigger(ns: string, url: string, annotations: Record<string, string>, delivery: Record<string, unknown> = {}) {
  const b = await api.apply(broker(ns, "default", { delivery: { retry: 0 } }));
  const t = trigger(ns, "t", "default", url, Object.keys(delivery).length ? { delivery } : {});
  await api.apply({ ...t, metadata: { ...t.metadata, annotations } });
  await api.waitReady(V1, "Trigger", ns, "t");
  return b.status.address.url as string;
}

describe("ordered delivery", () => {
  it("delivers each key's events one at a time, in the order accepted, through 503s", { timeout: 120_000 }, async () => {
    const ns = uniqueNs("order");
    const rand = rng(7);
    const open = new Map<string, number>();
    const overlaps: string[] = [];
    const s = await sink(async (req) => {
      const key = req.headers["ce-partitionkey"]!;
      if ((open.get(key) ?? 0) > 0) overlaps.push(`${key}:${req.headers["ce-id"]}`);
      open.set(key, (open.get(key) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 1 + Math.floor(rand() * 8)));
      open.set(key, open.get(key)! - 1);
      return { status: rand() < 0.2 ? 503 : 202 };
    });
    const url = await withTrigger(ns, s.url, { "eddy.dev/delivery-order": "ordered" }, { retry: 30, backoffPolicy: "linear", backoffDelay: "PT0.02S" });
    const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`);
    const perKey = 12;
    // Keys concurrently; within a key, each event only after the previous one was answered 202.
    await Promise.all(keys.map(async (key) => {
      for (let i = 0; i < perKey; i++) expect((await post(url, ev(`${key}-${i}`, { partitionkey: key }), "{}")).status).toBe(202);
    }));
    await expect.poll(async () => (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body.counters.delivered, { timeout: 60_000 }).toBe(keys.length * perKey);
    expect(overlaps).toEqual([]);
    for (const key of keys) {
      const delivered = s.received.filter((r) => r.headers["ce-partitionkey"] === key && r.status === 202).map((r) => r.headers["ce-id"]);
      expect(delivered).toEqual(Array.from({ length: perKey }, (_, i) => `${key}-${i}`));
    }
    expect(s.received.some((r) => r.status === 503)).toBe(true); // the failures really happened
  });

  it("accepts Knative Kafka's annotation and refuses values it does not know", async () => {
    const ns = uniqueNs("kafka");
    await api.apply(broker(ns, "default"));
    const t = trigger(ns, "t", "default", "http://127.0.0.1:9/");
    const ok = await api.call("PUT", `/apis/${V1}/namespaces/${ns}/triggers/t`, { ...t, metadata: { ...t.metadata, annotations: { "kafka.eventing.knative.dev/delivery.order": "ordered" } } });
    expect(ok.status).toBeLessThan(300);
    const bad = await api.call("PUT", `/apis/${V1}/namespaces/${ns}/triggers/t`, { ...t, metadata: { ...t.metadata, annotations: { "eddy.dev/delivery-order": "fifo" } } });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain('eddy.dev/delivery-order: must be "ordered" or "unordered"');
  });
});

describe("flow control", () => {
  it("never exceeds max-in-flight requests to the subscriber under a burst", { timeout: 60_000 }, async () => {
    const ns = uniqueNs("mif");
    let now = 0;
    let max = 0;
    const s = await sink(async () => {
      max = Math.max(max, ++now);
      await new Promise((r) => setTimeout(r, 60));
      now--;
      return { status: 202 };
    });
    const url = await withTrigger(ns, s.url, { "eddy.dev/max-in-flight": "3" });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post(url, ev(`m-${i}`), "{}")));
    expect(answers.every((r) => r.status === 202)).toBe(true);
    await s.waitFor(40, 30_000);
    expect(max).toBe(3);
  });

  it("keeps a rate-limited route within 10% of its rate", { timeout: 60_000 }, async () => {
    const ns = uniqueNs("rate");
    const s = await sink();
    const rate = 20;
    const url = await withTrigger(ns, s.url, { "eddy.dev/rate-limit": String(rate) });
    const n = 80;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => post(url, ev(`r-${i}`), "{}")));
    expect(answers.every((r) => r.status === 202)).toBe(true);
    const accepted = Date.now();
    const got = await s.waitFor(n, 30_000);
    // The bucket starts full (a burst of `rate`) and refills while the events are being accepted;
    // once all are in and that credit is spent, arrivals follow the rate.
    const steady = got.map((r) => r.at).filter((t) => t > accepted + 1000);
    expect(steady.length).toBeGreaterThan(rate);
    const observed = ((steady.length - 1) * 1000) / (steady[steady.length - 1]! - steady[0]!);
    expect(observed).toBeGreaterThan(rate * 0.9);
    expect(observed).toBeLessThan(rate * 1.1);
  });

  it("slows a route down on 429 with Retry-After before spending retries", { timeout: 60_000 }, async () => {
    const ns = uniqueNs("slow");
    const s = await sink((_req, i) => (i === 1 ? { status: 429, headers: { "Retry-After": "1" } } : { status: 202 }));
    const url = await withTrigger(ns, s.url, { "eddy.dev/rate-limit": "50" });
    expect((await post(url, ev("s-1"), "{}")).status).toBe(202);
    const [first, second] = await s.waitFor(2, 15_000);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    // The sink has answered; the outcome settles a moment later.
    await expect.poll(async () => (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body.counters.delivered).toBe(1);
    const st = (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body;
    expect(st.counters).toMatchObject({ throttled: 1, delivered: 1 });
    expect(st.counters.retried ?? 0).toBe(0); // retry: 0, and nothing was spent on the 429
  });

  it("refuses malformed flow annotations with 422 naming the annotation and the range", async () => {
    const ns = uniqueNs("fbad");
    await api.apply(broker(ns, "default"));
    const t = trigger(ns, "t", "default", "http://127.0.0.1:9/");
    for (const [name, value, hint] of [
      ["eddy.dev/max-in-flight", "0", "from 1 to 1000"], ["eddy.dev/max-in-flight", "2.5", "whole number"],
      ["eddy.dev/rate-limit", "-1", "from 0.1 to 10000"], ["eddy.dev/rate-limit", "fast", "deliveries per second"],
    ] as const) {
      const r = await api.call("PUT", `/apis/${V1}/namespaces/${ns}/triggers/t`, { ...t, metadata: { ...t.metadata, annotations: { [name]: value } } });
      expect(r.status, `${name}=${value}`).toBe(422);
      expect(r.body.message).toContain(name);
      expect(r.body.message).toContain(hint);
    }
  });
});
