import type { DeliveryMessage, DeliveryOutcome } from "../../core/delivery/messages.js";
import { log } from "../../core/log.js";
import { dispatcherNamespace, type Env } from "../env.js";
import { attempt, type InternalFetch } from "./attempt.js";

function owner(env: Env, msg: DeliveryMessage) {
  const ns = dispatcherNamespace(env, msg.owner.binding);
  return ns.get(ns.idFromName(msg.owner.name));
}

/**
 * Queue consumer for deliveries and dead letters: makes every attempt of the batch concurrently,
 * then reports the outcomes to each owning Durable Object in one call. A message is acked only
 * once its owner has recorded the outcome; otherwise the queue redelivers it.
 *
 * @example
 * export default { queue: (batch, env, ctx) => consumeDeliveries(batch, env, (req) => app.fetch(req, env, ctx)) };
 */
export async function consumeDeliveries(batch: MessageBatch<DeliveryMessage>, env: Env, internal: InternalFetch): Promise<void> {
  const results = await Promise.all(
    batch.messages.map(async (m) => {
      const msg = m.body;
      try {
        const event = msg.event ?? (await owner(env, msg).loadEvent(msg.id, msg.gen));
        if (!event) return { m, outcome: null }; // settled meanwhile: nothing to send
        return { m, outcome: await attempt(msg, event, env, internal) };
      } catch (e) {
        log.error("delivery attempt crashed", { owner: msg.owner.name, delivery: msg.id, error: String(e) });
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
        await owner(env, msgs[0]!.body).settle(outcomes);
        for (const m of msgs) m.ack();
      } catch (e) {
        log.error("could not record delivery outcomes; the queue will redeliver", { owner: msgs[0]!.body.owner.name, count: msgs.length, error: String(e) });
        for (const m of msgs) m.retry();
      }
    }),
  );
}
