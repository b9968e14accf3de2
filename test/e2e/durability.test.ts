// Nothing accepted is lost: kill -9 the whole local runtime while events flow — while the Broker's
// object has first attempts out to the subscriber, queue messages pending, and publishes waiting
// in an open group commit — restart it on the same persisted state, and find every event that was
// answered 202 at the sink.
import { afterEach, describe, expect, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders } from "../support/emit.js";
import { startPlatform, type Platform } from "../support/platform.js";
import { startSink, type Sink } from "../support/sink.js";

let platform: Platform | undefined;
let sink: Sink | undefined;
afterEach(async () => {
  await platform?.stop();
  await sink?.close();
  platform = undefined;
  sink = undefined;
});

describe("durability", () => {
  // Partitioned too: every partition is an object of its own, with its own ledger and alarm.
  it.each([1, 4])("delivers every accepted event after kill -9 and a restart on the same state (%i partition(s))", { timeout: 240_000 }, async (partitions) => {
    // Short leases so deliveries lost with the runtime are sent again within seconds of the restart.
    const args = ["--var", "LEASE_SLACK_SECONDS:2"];
    platform = await startPlatform({ extraArgs: args });
    const persistDir = platform.persistDir;
    // A slow subscriber keeps many deliveries in flight when the runtime dies.
    let open = 0;
    sink = await startSink(async () => {
      open++;
      await new Promise((r) => setTimeout(r, 150 * partitions));
      open--;
      return { status: 202 };
    });
    const ns = uniqueNs("kill");
    let api = new Api(platform);
    const url = (await api.apply(broker(ns, "default", {}, { "eddy.dev/partitions": String(partitions) }))).status.address.url.replace(/:\d+\//, `:${platform.port}/`);
    await api.apply(trigger(ns, "t", "default", sink.url, { delivery: { retry: 20, backoffPolicy: "linear", backoffDelay: "PT0.5S", timeout: "PT2S" } }));
    await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "t");

    const accepted = new Set<string>();
    let killed = false;
    let publishing = 0;
    const sendOne = async (id: string) => {
      publishing++;
      try {
        const headers = { ...binaryHeaders({ specversion: "1.0", id, source: "/kill", type: "com.example.kill", partitionkey: `k${Number(id.slice(2)) % 16}` }), Authorization: `Bearer ${platform!.token}` };
        const r = await fetch(url, { method: "POST", headers, body: `{"id":"${id}"}` });
        if (r.status === 202) accepted.add(id);
      } catch {
        // the runtime is gone: this one was never accepted
      } finally {
        publishing--;
      }
    };
    const producer = (async () => {
      for (let i = 0; i < 2000 && !killed; i += 8) {
        await Promise.all(Array.from({ length: 8 }, (_, j) => sendOne(`k-${i + j}`)));
      }
    })();
    // Kill once there is a backlog (accepted, not yet at the sink), attempts out and publishes waiting.
    const backlog = () => accepted.size - new Set(sink!.received.map((r) => r.headers["ce-id"])).size;
    let produced = false;
    void producer.then(() => (produced = true));
    while (!produced && (accepted.size < 150 || open === 0 || publishing === 0 || backlog() < 10)) await new Promise((r) => setTimeout(r, 2));
    const atKill = { deliveriesOpen: open, publishesOpen: publishing };
    await platform.kill9();
    killed = true;
    await producer;
    const deliveredBeforeRestart = new Set(sink.received.map((r) => r.headers["ce-id"]));
    expect(deliveredBeforeRestart.size).toBeLessThan(accepted.size); // the kill really interrupted deliveries
    // The kill landed while attempts were out to the subscriber and publishes were waiting for their flush.
    expect(atKill.deliveriesOpen).toBeGreaterThan(0);
    expect(atKill.publishesOpen).toBeGreaterThan(0);

    platform = await startPlatform({ persistDir, extraArgs: args });
    api = new Api(platform);
    const until = Date.now() + 120_000;
    let missing: string[] = [];
    while (Date.now() < until) {
      const got = new Set(sink.received.map((r) => r.headers["ce-id"]));
      missing = [...accepted].filter((id) => !got.has(id));
      if (missing.length === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(missing, `accepted ${accepted.size}, missing after restart`).toEqual([]);
    const stats = (await api.call("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default/stats`)).body;
    await expect.poll(async () => (await api.call("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default/stats`)).body.pending, { timeout: 30_000 }).toBe(0);
    // The new incarnation took over from storage what the old one had out or waiting.
    expect(stats.counters.recovered ?? 0).toBeGreaterThan(0);
    // Deliveries beyond one per event are counted where they can be seen: at the sink and in /stats.
    const arrivals = sink.received.filter((r) => accepted.has(r.headers["ce-id"]!)).length;
    const after = (await api.call("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default/stats`)).body;
    expect(arrivals - accepted.size).toBeGreaterThanOrEqual(after.counters.duplicates ?? 0);
  });
});
