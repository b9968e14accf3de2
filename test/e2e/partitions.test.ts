// Partitioned Brokers and Channels: N Durable Objects behind one address (`eddy.dev/partitions`).
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, imc, subscription, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";
const sink = sinkPool(afterEach);
const auth = { Authorization: `Bearer ${p.token}` };

const ev = (id: string, extra: Record<string, string> = {}) =>
  ({ ...binaryHeaders({ specversion: "1.0", id, source: "/partitions", type: "com.example.part", ...extra }), ...auth });

describe("partitioned Brokers", () => {
  it("deliver every event exactly once across 4 partitions, and their stats add up", async () => {
    const ns = uniqueNs("part");
    const b = await api.apply(broker(ns, "default", {}, { "eddy.dev/partitions": "4" }));
    const s = await sink();
    await api.apply(trigger(ns, "t", "default", s.url));
    await api.waitReady(V1, "Trigger", ns, "t");
    const url = b.status.address.url;
    const sent: string[] = [];
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, async (_, j) => {
        const id = `p-${i + j}`;
        // Half with a partitionkey (20 keys), half without (spread evenly).
        const extra: Record<string, string> = (i + j) % 2 ? { partitionkey: `key-${(i + j) % 20}` } : {};
        const r = await post(url, ev(id, extra), "{}");
        expect(r.status).toBe(202);
        sent.push(id);
      }));
    }
    // A batch spanning partitions is split by partition and accepted whole.
    const batch = Array.from({ length: 8 }, (_, i) => ({ specversion: "1.0", id: `batch-${i}`, source: "/partitions", type: "com.example.part", partitionkey: `bk-${i}` }));
    expect((await post(url, { "Content-Type": "application/cloudevents-batch+json", ...auth }, JSON.stringify(batch))).status).toBe(202);
    sent.push(...batch.map((e) => e.id));

    await s.waitFor(sent.length, 30_000);
    const got = (await s.settle(700)).map((r) => r.headers["ce-id"]);
    expect(got.length).toBe(sent.length); // exactly once: no duplicates in normal operation
    expect(new Set(got)).toEqual(new Set(sent));

    await expect.poll(async () => {
      const x = (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body;
      return x.pending === 0 && x.counters.delivered === sent.length;
    }, { timeout: 10_000 }).toBe(true);
    const st = (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body;
    expect(st.counters.accepted).toBe(sent.length);
    expect(st.partitions).toHaveLength(4);
    expect(st.partitions.map((x: any) => x.partition)).toEqual([0, 1, 2, 3]);
    const perPartition = st.partitions.map((x: any) => x.counters.accepted ?? 0);
    expect(perPartition.every((n: number) => n > 0)).toBe(true);
    expect(perPartition.reduce((a: number, b: number) => a + b, 0)).toBe(st.counters.accepted);
    expect(st.partitions.reduce((a: number, x: any) => a + (x.counters.delivered ?? 0), 0)).toBe(st.counters.delivered);
  });

  it("sends every event of one partitionkey to one partition", async () => {
    const ns = uniqueNs("pkey");
    const b = await api.apply(broker(ns, "default", {}, { "eddy.dev/partitions": "8" }));
    const s = await sink();
    await api.apply(trigger(ns, "t", "default", s.url));
    await api.waitReady(V1, "Trigger", ns, "t");
    for (let i = 0; i < 12; i++) expect((await post(b.status.address.url, ev(`k-${i}`, { partitionkey: "same" }), "{}")).status).toBe(202);
    await s.waitFor(12);
    const st = (await api.call("GET", `/apis/${V1}/namespaces/${ns}/brokers/default/stats`)).body;
    expect(st.partitions.filter((x: any) => (x.counters.accepted ?? 0) > 0)).toHaveLength(1);
  });

  it("refuses a bad or changed partition count with 422 naming the annotation", async () => {
    const ns = uniqueNs("pbad");
    for (const bad of ["0", "65", "two", "1.5"]) {
      const r = await api.call("PUT", `/apis/${V1}/namespaces/${ns}/brokers/b`, broker(ns, "b", {}, { "eddy.dev/partitions": bad }));
      expect(r.status).toBe(422);
      expect(r.body.message).toContain("eddy.dev/partitions");
      expect(r.body.message).toContain("1 to 64");
    }
    await api.apply(broker(ns, "b", {}, { "eddy.dev/partitions": "2" }));
    const r = await api.call("PUT", `/apis/${V1}/namespaces/${ns}/brokers/b`, broker(ns, "b", {}, { "eddy.dev/partitions": "3" }));
    expect(r.status).toBe(422);
    expect(r.body.message).toMatch(/eddy\.dev\/partitions.*immutable/);
  });

  it("partitions Channels too, and deleting one deletes every partition's state", async () => {
    const ns = uniqueNs("pchan");
    const c = await api.apply({ ...imc(ns, "c"), metadata: { name: "c", namespace: ns, annotations: { "eddy.dev/partitions": "3" } } });
    const s = await sink();
    await api.apply(subscription(ns, "s", "c", { subscriber: { uri: s.url } }));
    await api.waitReady("messaging.knative.dev/v1", "Subscription", ns, "s");
    for (let i = 0; i < 9; i++) expect((await post(c.status.address.url, ev(`c-${i}`), "{}")).status).toBe(202);
    await s.waitFor(9);
    const path = `/apis/messaging.knative.dev/v1/namespaces/${ns}/inmemorychannels/c`;
    await expect.poll(async () => (await api.call("GET", `${path}/stats`)).body.counters?.delivered).toBe(9);
    expect((await api.call("GET", `${path}/stats`)).body.partitions).toHaveLength(3);
    expect((await api.call("DELETE", path)).status).toBe(200);
    await expect.poll(async () => (await api.call("GET", `${path}/stats`)).status).toBe(404);
    // Recreated with the same name, every partition starts from nothing.
    await api.apply({ ...imc(ns, "c"), metadata: { name: "c", namespace: ns, annotations: { "eddy.dev/partitions": "3" } } });
    const fresh = (await api.call("GET", `${path}/stats`)).body;
    expect(fresh.counters).toEqual({});
    expect(fresh.partitions.every((x: any) => Object.keys(x.counters).length === 0)).toBe(true);
  });
});
