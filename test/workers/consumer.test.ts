import { createExecutionContext, createMessageBatch, env, getQueueResult, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../functions/index.js";
import type { DeliveryMessage } from "../../core/delivery/messages.js";
import type { Broker } from "../../durable-objects/broker.js";
import { apply, brokerObj, SINK, sinkLog, triggerObj, uid } from "./helpers.js";

describe("delivery queue consumer", () => {
  it("attempts each message, reports outcomes to the owner, and acks them", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    const stub: DurableObjectStub<Broker> = env.BROKER.get(env.BROKER.idFromName(`${ns}/default`));
    // Record a delivery bound for the queue without letting its message out, so this batch is the only attempt.
    const { id, gen } = await runInDurableObject(stub, async (broker, state) => {
      const outbox = (broker as unknown as { outbox: { hasLocalRoom: () => boolean; queued: unknown[] } }).outbox;
      const room = outbox.hasLocalRoom;
      outbox.hasLocalRoom = () => false;
      await broker.publish([{ attrs: { specversion: "1.0", id: "q1", source: "/s", type: "t" } }]);
      outbox.hasLocalRoom = room;
      outbox.queued.length = 0;
      return state.storage.sql.exec("SELECT id, gen FROM deliveries").one() as { id: number; gen: number };
    });
    const msg: DeliveryMessage = {
      owner: { binding: "BROKER", name: `${ns}/default` }, id, gen, hop: "subscriber", attempt: 1,
      url: `${SINK}/ok/${k}`, internal: false, format: "binary", timeoutMs: 5000, namespace: ns,
    };
    const batch = createMessageBatch<DeliveryMessage>("eddy-delivery", [{ id: "m1", timestamp: new Date(), attempts: 1, body: msg }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m1"]);
    expect(result.retryMessages).toEqual([]);
    const [got] = await sinkLog(k);
    expect(got!.headers["ce-id"]).toBe("q1"); // loaded from the owner: the message carried no event
    const left = await runInDurableObject(stub, (_b, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM deliveries").one().n);
    expect(left).toBe(0);
  });

  it("acks a message whose delivery was already settled, without sending", async () => {
    const k = uid();
    const msg: DeliveryMessage = {
      owner: { binding: "BROKER", name: `${uid("ns")}/gone` }, id: 999, gen: 1, hop: "subscriber", attempt: 1,
      url: `${SINK}/ok/${k}`, internal: false, format: "binary", timeoutMs: 5000, namespace: "x",
    };
    const batch = createMessageBatch<DeliveryMessage>("eddy-delivery", [{ id: "m2", timestamp: new Date(), attempts: 1, body: msg }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["m2"]);
    expect(await sinkLog(k)).toHaveLength(0);
  });
});
