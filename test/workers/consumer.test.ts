import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../functions/index.js";
import { consumeDeliveries } from "../../functions/consumers/delivery.js";
import type { DeliveryMessage } from "../../core/delivery/messages.js";
import { decodeMessage, encodeMessage } from "../../core/delivery/wire.js";
import type { Broker } from "../../durable-objects/broker.js";
import type { Env } from "../../functions/env.js";
import { apply, brokerObj, SINK, sinkLog, triggerObj, uid } from "./helpers.js";

interface Inside {
  outbox: { hasLocalRoom: () => boolean; queued: { body: Uint8Array }[] };
  ledger: { pending(): number; opts: { maxInFlight: number } };
}

/** A Broker with one Trigger, and `n` deliveries bound for the queue whose messages are held back (returned, not sent). */
async function queued(n: number, url = (k: string) => `${SINK}/ok/${k}`) {
  const ns = uid("ns");
  const k = uid();
  await apply(brokerObj(ns, "default"), "brokers");
  await apply(triggerObj(ns, "t", "default", url(k)), "triggers");
  const stub: DurableObjectStub<Broker> = env.BROKER.get(env.BROKER.idFromName(`${ns}/default`));
  const bodies = await runInDurableObject(stub, async (broker) => {
    const inside = broker as unknown as Inside;
    const room = inside.outbox.hasLocalRoom;
    inside.outbox.hasLocalRoom = () => false;
    inside.ledger.opts.maxInFlight = 1000; // this project's window is 3: every delivery here goes out at once
    await broker.publish(Array.from({ length: n }, (_, i) => ({ attrs: { specversion: "1.0", id: `q${i}`, source: "/s", type: "t" } })));
    inside.outbox.hasLocalRoom = room;
    return inside.outbox.queued.splice(0).map((q) => q.body);
  });
  return { ns, k, stub, bodies };
}

describe("delivery queue consumer", () => {
  it("claims each delivery, attempts it, reports outcomes to the owner, and acks them", async () => {
    const { k, stub, bodies } = await queued(1);
    // The event too large for a message is not in it: the claim brings it from the owner.
    const body = encodeMessage(decodeMessage(bodies[0]!), false);
    expect(decodeMessage(body).event).toBeUndefined();
    const batch = createMessageBatch("eddy-delivery", [{ id: "m1", timestamp: new Date(), attempts: 1, body: body.buffer }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    expect(result.retryMessages).toEqual([]);
    const [got] = await sinkLog(k);
    expect(got!.headers["ce-id"]).toBe("q0");
    expect(await stub.stats().then((s) => s!.pending)).toBe(0);
  });

  it("acks without sending a message whose delivery is no longer the current attempt", async () => {
    const { k, bodies } = await queued(1);
    const msg = decodeMessage(bodies[0]!);
    const stale = encodeMessage({ ...msg, gen: msg.gen - 1 });
    const other = encodeMessage({ ...msg, epoch: (msg.epoch ?? 0) + 7 });
    const batch = createMessageBatch("eddy-delivery", [
      { id: "stale", timestamp: new Date(), attempts: 1, body: stale.buffer },
      { id: "epoch", timestamp: new Date(), attempts: 1, body: other.buffer },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks.sort()).toEqual(["epoch", "stale"]);
    expect(await sinkLog(k)).toHaveLength(0);
  });

  it("acks a message whose owner is gone, without sending", async () => {
    const k = uid();
    const msg: DeliveryMessage = {
      owner: { binding: "BROKER", name: `${uid("ns")}/gone` }, id: 999, gen: 1, hop: "subscriber", attempt: 1,
      url: `${SINK}/ok/${k}`, internal: false, format: "binary", timeoutMs: 5000, namespace: "x",
    };
    const batch = createMessageBatch("eddy-delivery", [{ id: "m2", timestamp: new Date(), attempts: 1, body: encodeMessage(msg).buffer }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m2"]);
    expect(await sinkLog(k)).toHaveLength(0);
  });

  it("keeps to the plan's subrequests per invocation and carries the rest to the next batch, never failing them", async () => {
    const { k, stub, bodies } = await queued(12);
    const sent: unknown[] = [];
    const queue = { sendBatch: async (msgs: Iterable<MessageSendRequest>) => void sent.push(...msgs), send: async () => {} } as unknown as Queue;
    // Free plan: 50 subrequests. Here 20, so the arithmetic shows: each delivery takes a claim and
    // an attempt, the owner one settle, and one send is kept for carrying what is left.
    const limited = { ...env, SUBREQUEST_LIMIT: "20", DELIVERY_QUEUE: queue } as unknown as Env;
    const acks: string[] = [];
    const retries: string[] = [];
    const messages = bodies.map((b, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body: b.buffer, ack: () => void acks.push(`m${i}`), retry: () => void retries.push(`m${i}`), retryAll: () => {}, ackAll: () => {} }));
    await consumeDeliveries({ queue: "eddy-delivery", messages, retryAll: () => {}, ackAll: () => {} } as unknown as MessageBatch<unknown>, limited, async () => new Response(null, { status: 404 }));
    const delivered = (await sinkLog(k)).length;
    // (20 - 1 kept for the carry - 1 settle) / 2 per delivery = 9 delivered; 3 carried as new messages.
    expect(delivered).toBe(9);
    expect(sent).toHaveLength(3);
    expect(retries).toEqual([]);
    expect(acks).toHaveLength(12);
    expect(await stub.stats().then((s) => s!.pending)).toBe(3);
  });
});
