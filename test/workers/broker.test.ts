import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Broker } from "../../durable-objects/broker.js";
import { encodeDels, encodeEvents } from "../../durable-objects/ledger/batch.js";

/** The ledger and group commit of a Broker object, for tests that reach inside it. */
interface Inside {
  ledger: { inFlight(): number; start(now: number): void; s: { leased: Map<number, { lease_until: number | null; local: boolean }> } };
  commits: { run<T>(job: () => T): Promise<T> };
  outbox: { hasLocalRoom: () => boolean; queued: unknown[] };
  routes: Map<string, unknown>;
}
import { apply, brokerObj, decode, send, SINK, sinkLog, stats, triggerObj, uid, waitLog } from "./helpers.js";

async function setup(spec: Record<string, unknown> = {}) {
  const ns = uid("ns");
  await apply(brokerObj(ns, "default", spec), "brokers");
  return ns;
}

function brokerStub(ns: string, name = "default"): DurableObjectStub<Broker> {
  return env.BROKER.get(env.BROKER.idFromName(`${ns}/${name}`));
}

describe("Broker Durable Object", () => {
  it("stores the event and one delivery per matching Trigger before publish resolves", async () => {
    const ns = await setup();
    const k1 = uid();
    const k2 = uid();
    await apply(triggerObj(ns, "a", "default", `${SINK}/ok/${k1}`), "triggers");
    await apply(triggerObj(ns, "b", "default", `${SINK}/ok/${k2}`, { filter: { attributes: { type: "other" } } }), "triggers");
    await apply(triggerObj(ns, "c", "default", `${SINK}/ok/${k2}`, { filter: { attributes: { type: "t1" } } }), "triggers");
    const counts = await runInDurableObject(brokerStub(ns), async (broker, state) => {
      await broker.publish([{ attrs: { specversion: "1.0", id: "e1", source: "/s", type: "t1" }, data: new TextEncoder().encode("{}") }]);
      const sql = state.storage.sql;
      const batch = sql.exec<{ dels: string }>("SELECT dels FROM batches").toArray();
      return {
        batches: batch.length,
        owed: batch.map((b) => (JSON.parse(b.dels) as unknown[]).length),
        deliveries: sql.exec("SELECT COUNT(*) AS n FROM deliveries").one().n,
      };
    });
    // One row for the event and both deliveries it owes; no row per delivery on the first attempt.
    expect(counts).toEqual({ batches: 1, owed: [2], deliveries: 0 });
    await waitLog(k1, 1);
    await waitLog(k2, 1);
  });

  it("retries retriable answers with the Trigger's policy, then succeeds", async () => {
    const ns = await setup();
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/fail/2/409/${k}`, { delivery: { retry: 3 } }), "triggers");
    expect((await send(ns, "default", { specversion: "1.0", id: "r1", source: "/s", type: "t" })).status).toBe(202);
    const log = await waitLog(k, 3);
    expect(log.every((r) => r.headers["ce-id"] === "r1")).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect((await sinkLog(k)).length).toBe(3);
    expect((await stats(ns, "default")).counters).toMatchObject({ accepted: 1, retried: 2, delivered: 1 });
  });

  it("dead-letters with knativeerrordest, knativeerrorcode and knativeerrordata after a non-retriable answer", async () => {
    const ns = await setup();
    const k = uid();
    const dls = uid();
    const subscriber = `${SINK}/status/422/${k}`;
    await apply(triggerObj(ns, "t", "default", subscriber, { delivery: { retry: 3, deadLetterSink: { uri: `${SINK}/ok/${dls}` } } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "d1", source: "/s", type: "t" }, '{"x":1}');
    const [dead] = await waitLog(dls, 1);
    expect((await sinkLog(k)).length).toBe(1); // 422 is not retried
    expect(dead!.headers).toMatchObject({ "ce-id": "d1", "ce-knativeerrordest": subscriber, "ce-knativeerrorcode": "422" });
    expect(decode(dead!.headers["ce-knativeerrordata"]!)).toBe("failure body");
    expect(decode(dead!.body)).toBe('{"x":1}');
    expect(dead!.headers.prefer).toBeUndefined();
  });

  it("routes a subscriber's reply back through the Broker to every matching Trigger", async () => {
    const ns = await setup();
    const kOrig = uid();
    const kReply = uid();
    await apply(triggerObj(ns, "origin", "default", `${SINK}/reply/com.example.reply/${kOrig}`, { filter: { attributes: { type: "com.example.start" } } }), "triggers");
    await apply(triggerObj(ns, "second", "default", `${SINK}/ok/${kReply}`, { filter: { attributes: { type: "com.example.reply" } } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "s1", source: "/s", type: "com.example.start" });
    const [got] = await waitLog(kReply, 1);
    expect(got!.headers["ce-type"]).toBe("com.example.reply");
    expect(got!.headers["ce-knativearrivaltime"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.parse(decode(got!.body))).toEqual({ replyTo: "s1" });
    const [orig] = await sinkLog(kOrig);
    expect(orig!.headers).toMatchObject({ prefer: "reply", "kn-namespace": ns });
  });

  it("treats a 2xx with a body that is not a CloudEvent as a failed delivery", async () => {
    const ns = await setup();
    const k = uid();
    const dls = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/text/${k}`, { delivery: { retry: 1, deadLetterSink: { uri: `${SINK}/ok/${dls}` } } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "n1", source: "/s", type: "t" });
    const [dead] = await waitLog(dls, 1);
    expect((await sinkLog(k)).length).toBe(2);
    expect(dead!.headers["ce-knativeerrorcode"]).toBe("502");
    expect(decode(dead!.headers["ce-knativeerrordata"]!)).toContain("not a CloudEvent");
  });

  it("counts and lists events no Trigger matches, and keeps events whose retries ran out", async () => {
    const ns = await setup();
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/status/500/${k}`, { filter: { attributes: { type: "wanted" } }, delivery: { retry: 1 } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "u1", source: "/s", type: "unwanted" });
    await send(ns, "default", { specversion: "1.0", id: "w1", source: "/s", type: "wanted" });
    await waitLog(k, 2);
    await expect.poll(async () => (await stats(ns, "default")).counters["kept.retries-exhausted"]).toBe(1);
    const s = await stats(ns, "default");
    expect(s.counters).toMatchObject({ "dropped.no-matching-trigger": 1 });
    expect(s.recentDrops.map((d: { id: string; reason: string }) => [d.id, d.reason])).toEqual([["u1", "no-matching-trigger"]]);
    expect(s.pending).toBe(0);
  });

  it("drops events whose retries ran out when the Broker keeps no dead letters (PT0S)", async () => {
    const ns = uid("ns");
    await apply({ ...brokerObj(ns, "default"), metadata: { name: "default", namespace: ns, annotations: { "eddy.dev/deadletter-retention": "PT0S" } } }, "brokers");
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/status/500/${k}`, { delivery: { retry: 0 } }), "triggers");
    await send(ns, "default", { specversion: "1.0", id: "w2", source: "/s", type: "t" });
    await expect.poll(async () => (await stats(ns, "default")).counters["dropped.retries-exhausted"]).toBe(1);
    expect((await stats(ns, "default")).recentDrops.map((d: { id: string }) => d.id)).toEqual(["w2"]);
  });

  it("sends a delivery again from the alarm when its queue message was lost", async () => {
    const ns = await setup();
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const stub = brokerStub(ns);
    await runInDurableObject(stub, async (broker, state) => {
      const inside = broker as unknown as Inside;
      const room = inside.outbox.hasLocalRoom;
      inside.outbox.hasLocalRoom = () => false; // the object's window is full: the delivery goes to the queue
      await broker.publish([{ attrs: { specversion: "1.0", id: "lost1", source: "/s", type: "t" } }]);
      inside.outbox.hasLocalRoom = room;
      // The message never reaches the queue (a consumer gave up on it, say): no claim ever comes.
      inside.outbox.queued.length = 0;
      const [rec] = [...inside.ledger.s.leased.values()];
      expect(rec!.local).toBe(false);
      rec!.lease_until = Date.now() - 1;
      // Far in the future, so only runDurableObjectAlarm below runs it (a past alarm may fire on its own first).
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    expect(await sinkLog(k)).toHaveLength(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [got] = await waitLog(k, 1);
    expect(got!.headers["ce-id"]).toBe("lost1");
    expect((await stats(ns, "default")).counters.redispatched).toBe(1);
  });

  it("makes first attempts from the object, and a new incarnation resends those that died with the old one", async () => {
    const ns = await setup();
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const stub = brokerStub(ns);
    const local = await runInDurableObject(stub, async (broker) => {
      await broker.publish([{ attrs: { specversion: "1.0", id: "first1", source: "/s", type: "t" } }]);
      return [...(broker as unknown as Inside).ledger.s.leased.values()].map((r) => r.local);
    });
    expect(local).toEqual([true]); // the object's own attempt, not a queue message
    await waitLog(k, 1);
    await expect.poll(async () => (await stats(ns, "default")).pending).toBe(0);

    // An event the previous incarnation stored and was delivering when the runtime died: its batch
    // row still owes the delivery. A new incarnation (what the constructor does) sends it again.
    await runInDurableObject(stub, async (broker, state) => {
      const inside = broker as unknown as Inside;
      const route = [...inside.routes.keys()][0]!;
      const { events, data } = encodeEvents([{ seq: 1, event: { attrs: { specversion: "1.0", id: "orphan1", source: "/s", type: "t" } }, ttl: 255, at: Date.now(), archive: false }]);
      state.storage.sql.exec("INSERT INTO batches (id, dels, events, data, settled) VALUES (?, ?, ?, ?, '')", 1, encodeDels([{ n: 0, idx: 0, route, hop: "subscriber" }]), events, data);
      await inside.commits.run(() => inside.ledger.start(Date.now()));
      await state.storage.setAlarm(Date.now() + 3_600_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const log = await waitLog(k, 2);
    expect(log[1]!.headers["ce-id"]).toBe("orphan1");
    await expect.poll(async () => (await stats(ns, "default")).pending).toBe(0);
  });

  it("keeps at most MAX_IN_FLIGHT deliveries out and sends the rest as outcomes return", async () => {
    const ns = await setup();
    const k = uid();
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const leased = await runInDurableObject(brokerStub(ns), async (broker) => {
      const evs = Array.from({ length: 12 }, (_, i) => ({ attrs: { specversion: "1.0", id: `w${i}`, source: "/s", type: "t" } }));
      await broker.publish(evs);
      return (broker as unknown as Inside).ledger.inFlight();
    });
    expect(leased).toBe(3); // MAX_IN_FLIGHT in this test project
    const log = await waitLog(k, 12);
    expect(new Set(log.map((r) => r.headers["ce-id"])).size).toBe(12);
    await expect.poll(async () => (await stats(ns, "default")).pending).toBe(0);
  });

  it("answers 404 for a Broker that does not exist and forgets a deleted one", async () => {
    const ns = uid("ns");
    expect((await send(ns, "nope", { specversion: "1.0", id: "x", source: "/s", type: "t" })).status).toBe(404);
    const res = await brokerStub(ns, "nope").publish([{ attrs: { specversion: "1.0", id: "x", source: "/s", type: "t" } }]);
    expect(res).toEqual({ ok: false, status: 404 });
  });
});
