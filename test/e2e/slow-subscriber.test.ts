// A healthy subscriber slower than its peers' patience gets each event exactly once. Before leases
// that cannot run out in a queue (main at 7d7e627), this scenario delivered 70 duplicates of 200:
// deliveries waiting for a connection slot in a consumer batch outlived their lease, the object sent
// them again, and the consumer still sent its copy. Now a consumer claims each delivery right before
// its attempt, and a claimed delivery is the consumer's until its batch ends.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders } from "../support/emit.js";
import { startPlatform, type Platform } from "../support/platform.js";
import { sinkPool } from "../support/sink.js";

const V1 = "eventing.knative.dev/v1";
const sink = sinkPool(afterEach);
const EVENTS = 200;

// A platform of its own: its queue consumer spends a minute on this subscriber's batches, and the
// shared platform's other tests would wait behind them (locally one consumer batch runs at a time).
let platform: Platform;
let api: Api;
let p: { url: string; token: string; port: number };
beforeAll(async () => {
  platform = await startPlatform();
  api = new Api(platform);
  p = platform;
}, 180_000);
afterAll(async () => {
  await platform?.stop();
});

describe("a slow, healthy subscriber", () => {
  it(`gets each of ${EVENTS} events posted at once exactly once (3 s answers, PT5S timeout, retry 3)`, { timeout: 300_000 }, async () => {
    const ns = uniqueNs("slow");
    let open = 0;
    let maxOpen = 0;
    const s = await sink(async () => {
      maxOpen = Math.max(maxOpen, ++open);
      await new Promise((r) => setTimeout(r, 3000));
      open--;
      return { status: 200 };
    });
    const b = await api.apply(broker(ns, "default"));
    await api.apply(trigger(ns, "t", "default", s.url, { delivery: { timeout: "PT5S", retry: 3, backoffDelay: "PT1S" } }));
    await api.waitReady(V1, "Trigger", ns, "t");
    const url = b.status.address.url.replace(/:\d+\//, `:${p.port}/`);
    // All at once, as a producer would send them: a POST refused on a loaded machine is sent again
    // as a new event (a new id), so every id accepted is one event the subscriber must get once.
    const accepted = new Set<string>();
    await Promise.all(Array.from({ length: EVENTS }, async (_, i) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const id = `slow-${i}-${attempt}`;
        const status = await fetch(url, { method: "POST", headers: { ...binaryHeaders({ specversion: "1.0", id, source: "/slow", type: "com.example.slow" }), Authorization: `Bearer ${p.token}` }, body: `{"i":${i}}` })
          .then((r) => r.status, () => 0);
        if (status === 202) return void accepted.add(id);
      }
    }));
    expect(accepted.size).toBe(EVENTS);
    // Done when the Broker holds nothing pending: every delivery settled, so no copy can still be on its way.
    const stats = async () => (await api.call("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default/stats`)).body;
    await expect.poll(async () => (await stats()).pending, { timeout: 280_000, interval: 500 }).toBe(0);
    const ids = s.received.map((r) => r.headers["ce-id"]!);
    const copies = ids.length - new Set(ids).size;
    expect(new Set(ids)).toEqual(accepted);
    expect(copies, `duplicate deliveries; at most ${maxOpen} requests were open at once`).toBe(0);
    const c = (await stats()).counters;
    expect(c).toMatchObject({ accepted: EVENTS, delivered: EVENTS });
    expect(c.redispatched ?? 0).toBe(0);
    expect(c.duplicates ?? 0).toBe(0);
  });
});
