import { attempt, type InternalFetch } from "../../core/delivery/attempt.js";
import { Limiter, PLATFORM_CONNECTIONS } from "../../core/delivery/limiter.js";
import type { DeliveryMessage, DeliveryOutcome } from "../../core/delivery/messages.js";
import { maxEventBytes } from "../../core/limits.js";
import { log } from "../../core/log.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import { dataPlaneStub, deliverInternal } from "../../durable-objects/objects.js";
import type { Env } from "../env.js";
import { deliverySigner } from "../identity.js";

/**
 * Queue consumer for what the owning objects did not deliver themselves: deliveries that did not
 * fit in an object's connection window, delayed retries, and dead letters. Makes the attempts of
 * the batch over at most six connections at once (the platform's limit per invocation; an attempt's
 * timeout starts once it has one), then reports the outcomes to each owning Durable Object in one
 * call. A message is acked only once its owner has recorded the outcome; otherwise the queue
 * redelivers it.
 *
 * @example
 * export default { queue: (batch, env, ctx) => consumeDeliveries(batch, env, (req) => app.fetch(req, env, ctx)) };
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env, internal: InternalFetch): Promise<void> {
  const connections = new Limiter(PLATFORM_CONNECTIONS);
  // Messages carry who sends them (stamped by their owner); the signer turns that into headers.
  const opts = { maxReplyBytes: maxEventBytes(env), connections, internal, sign: deliverySigner(env) };
  const results = await Promise.all(
    batch.messages.map(async (m) => {
      const msg = m.body;
      try {
        const event = msg.event ?? (await dataPlaneStub(env, msg.owner).loadEvent(msg.id, msg.gen));
        if (!event) return { m, outcome: null }; // settled meanwhile: nothing to send
        const outcome = msg.internal && msg.object ? await deliverInternal(env, msg.object, msg, event) : await attempt(msg, event, opts);
        return { m, outcome };
      } catch (e) {
        log.error("delivery attempt crashed", { owner: msg.owner.name, delivery: msg.id, error: String(e), ...(msg.event ? traceFields(msg.event) : {}) });
        return { m, outcome: undefined };
      }
    }),
  );

  const byOwner = new Map<string, { msgs: Message<DeliveryMessage>[]; outcomes: DeliveryOutcome[] }>();
  for (const { m, outcome } of results) {
    if (outcome === undefined) {
      m.retry();
      continue;
    }
    if (outcome === null) {
      m.ack();
      continue;
    }
    const key = `${m.body.owner.binding}:${m.body.owner.name}`;
    const g = byOwner.get(key) ?? byOwner.set(key, { msgs: [], outcomes: [] }).get(key)!;
    g.msgs.push(m);
    g.outcomes.push(outcome);
  }
  await Promise.all(
    [...byOwner.values()].map(async ({ msgs, outcomes }) => {
      try {
        await dataPlaneStub(env, msgs[0]!.body.owner).settle(outcomes);
        for (const m of msgs) m.ack();
      } catch (e) {
        log.error("could not record delivery outcomes; the queue will redeliver", { owner: msgs[0]!.body.owner.name, count: msgs.length, error: String(e) });
        for (const m of msgs) m.retry();
      }
    }),
  );
}
