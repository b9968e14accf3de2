// Cloudflare lets a Durable Object or a Worker invocation hold six outgoing connections at once;
// workerd does not enforce it locally, so this checks at a real sink that Eddy keeps to it.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Broker } from "../../durable-objects/broker.js";
import { apply, brokerObj, send, SINK, stats, triggerObj, uid, waitLog } from "./helpers.js";

describe("outgoing connections", () => {
  it("holds at most six connections in the Broker's object and per queue consumer invocation, attempts five of them", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(triggerObj(ns, "t", "default", `${SINK}/slow/150/${k}`), "triggers");
    const stub: DurableObjectStub<Broker> = env.BROKER.get(env.BROKER.idFromName(`${ns}/default`));
    // This test project keeps MAX_IN_FLIGHT tiny; open the window so the burst really piles up.
    await runInDurableObject(stub, (broker) => {
      (broker as unknown as { ledger: { opts: { maxInFlight: number } } }).ledger.opts.maxInFlight = 1000;
    });
    const n = 80;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => send(ns, "default", { specversion: "1.0", id: `c${i}`, source: "/s", type: "t" })),
    );
    expect(answers.every((r) => r.status === 202)).toBe(true);
    const log = await waitLog(k, n, 30_000);
    expect(new Set(log.map((r) => r.headers["ce-id"])).size).toBe(n);
    const { max } = (await (await fetch(`${SINK}/__concurrency/${k}`)).json()) as { max: number };
    const s = await stats(ns, "default");
    // The object used its window and no more: attempts five, the sixth kept for queue sends.
    expect(s.connectionsHighWater).toBeGreaterThanOrEqual(5);
    expect(s.connectionsHighWater).toBeLessThanOrEqual(6);
    // Locally one consumer batch runs at a time: the object's five attempts plus the consumer's five at most.
    // Without the limits, 80 deliveries of 150 ms each would all be open together.
    expect(max).toBeGreaterThan(5);
    expect(max).toBeLessThanOrEqual(10);
    await expect.poll(async () => (await stats(ns, "default")).pending).toBe(0);
  });

  it("keeps an invocation's subrequests within the plan's budget: what does not fit goes through the queue, none fails", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const stub: DurableObjectStub<Broker> = env.BROKER.get(env.BROKER.idFromName(`${ns}/default`));
    await runInDurableObject(stub, async (broker) => {
      const inside = broker as unknown as { ledger: { opts: { maxInFlight: number } }; outbound: { budget: { limit: number } } };
      inside.ledger.opts.maxInFlight = 1000;
      inside.outbound.budget.limit = 8; // a tight plan, so the arithmetic shows
      await broker.publish(Array.from({ length: 20 }, (_, i) => ({ attrs: { specversion: "1.0", id: `b${i}`, source: "/s", type: "t" } })));
    });
    const log = await waitLog(k, 20, 30_000);
    expect(new Set(log.map((r) => r.headers["ce-id"])).size).toBe(20);
    const s = await stats(ns, "default");
    // Four attempts from the object (four of the eight kept for queue sends), the rest as one queue batch.
    expect(s.subrequestsHighWater).toBeLessThanOrEqual(8);
    expect(s.meter.queueMessages).toBe(16);
    expect(s.counters).toMatchObject({ delivered: 20 });
    expect(s.counters.retried ?? 0).toBe(0);
  });
});
