import { attempt, type InternalFetch } from "../../core/delivery/attempt.js";
import { Budget, CONSUMER_BUDGET_MS, subrequestLimit } from "../../core/delivery/budget.js";
import { Deadlines } from "../../core/delivery/deadlines.js";
import { IO_RESERVED_CONNECTIONS, Limiter, PLATFORM_CONNECTIONS } from "../../core/delivery/limiter.js";
import type { DeliveryMessage, DeliveryOutcome } from "../../core/delivery/messages.js";
import { decodeMessage, QUEUE_BATCH_MESSAGES } from "../../core/delivery/wire.js";
import { maxEventBytes } from "../../core/limits.js";
import { log } from "../../core/log.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import { dataPlaneStub, deliverInternal } from "../../durable-objects/objects.js";
import type { Env } from "../env.js";
import { deliverySigner } from "../identity.js";
import { refusedDestination } from "../../durable-objects/delivery-signer.js";
import { Claims } from "./claims.js";

/** Subrequests an attempt may make: one fetch, or (to another object) a partition lookup and a publish per partition. */
function attemptCost(msg: DeliveryMessage): number {
  if (!msg.internal) return 1;
  return msg.object ? 3 : 0;
}

/**
 * Queue consumer for what the owning objects did not deliver themselves: deliveries that did not
 * fit in an object's connection window, delayed retries, and dead letters. Each attempt waits for
 * one of the invocation's connections (five of six; the sixth is kept for the queue send that
 * carries what is left over), then *claims* the delivery from its owner (with the next few of the
 * same owner in line, ./claims.ts), which answers whether it is still the current attempt (a
 * redispatched, settled or deleted delivery is skipped, never sent) and keeps it for this batch
 * until its deadline. Outcomes go to each owner in one call at the
 * end, and a message is acked only once its owner recorded the outcome.
 *
 * Budgets kept in code: the batch plans for CONSUMER_BUDGET_MS of the platform's 15 minutes and for
 * the plan's subrequests per invocation; a delivery that would not fit in either is carried to the
 * next batch (sent again as a new message), never failed.
 *
 * @example
 * export default { queue: (batch, env, ctx) => consumeDeliveries(batch, env, (req) => app.fetch(req, env, ctx)) };
 */
export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env, internal: InternalFetch, now: () => number = Date.now): Promise<void> {
  const deadline = now() + CONSUMER_BUDGET_MS;
  const limit = subrequestLimit(env);
  // What carrying the leftovers needs is set aside first.
  const budget = new Budget(Math.max(0, limit - Math.ceil(batch.messages.length / QUEUE_BATCH_MESSAGES)));
  const connections = new Limiter(PLATFORM_CONNECTIONS, IO_RESERVED_CONNECTIONS);
  // Decoded first, so that claims can be made for the next deliveries of an owner with the current one.
  const decoded = batch.messages.map((m) => {
    try {
      return decodeMessage(m.body);
    } catch (e) {
      // It can never be read: retrying would not help. Its owner sends the delivery again when its lease ends.
      log.error("a delivery message that cannot be read was dropped", { error: String(e) });
      m.ack();
      return undefined;
    }
  });
  const claims = new Claims(env, deadline, decoded.filter((d): d is DeliveryMessage => d !== undefined));
  const opts = { maxReplyBytes: maxEventBytes(env), internal, sign: deliverySigner(env), deadlines: new Deadlines() };
  const byOwner = new Map<string, { msg: DeliveryMessage; acks: Message<unknown>[]; outcomes: DeliveryOutcome[] }>();
  const carried: Message<unknown>[] = [];
  const settleBudgeted = new Set<string>();

  await Promise.all(batch.messages.map(async (m, i) => {
    const msg = decoded[i];
    if (!msg) return;
    const key = `${msg.owner.binding}:${msg.owner.name}`;
    const release = attemptCost(msg) === 1 ? await connections.acquire() : undefined;
    try {
      // The owner's settle call is paid for by its first delivery that goes.
      const settleCost = settleBudgeted.has(key) ? 0 : 1;
      const claimCost = claims.needsCall(msg) ? 1 : 0;
      if (now() + msg.timeoutMs > deadline || !budget.take(claimCost + attemptCost(msg) + settleCost)) {
        claims.release(msg);
        carried.push(m);
        return;
      }
      settleBudgeted.add(key);
      const group = byOwner.get(key) ?? byOwner.set(key, { msg, acks: [], outcomes: [] }).get(key)!;
      const answer = await claims.claim(msg);
      if (!answer.ok) {
        m.ack(); // not the current attempt any more (or its route is gone): nothing to send
        return;
      }
      const event = msg.event ?? answer.event;
      if (!event) {
        m.ack();
        return;
      }
      const t0 = now();
      // DESTINATION_POLICY again here: a plan made before the setting changed may still name a refused address.
      const outcome = msg.internal && msg.object ? await deliverInternal(env, msg.object, msg, event) : refusedDestination(env, msg) ?? await attempt(msg, event, opts);
      outcome.latencyMs = now() - t0;
      group.acks.push(m);
      group.outcomes.push(outcome);
    } catch (e) {
      log.error("delivery attempt crashed", { owner: msg.owner.name, delivery: msg.id, error: String(e), ...(msg.event ? traceFields(msg.event) : {}) });
      m.retry();
    } finally {
      release?.();
    }
  }));

  await Promise.all(
    [...byOwner.values()].filter((g) => g.outcomes.length > 0).map(async ({ msg, acks, outcomes }) => {
      try {
        await dataPlaneStub(env, msg.owner).settle(outcomes);
        for (const m of acks) m.ack();
      } catch (e) {
        log.error("could not record delivery outcomes; the queue will redeliver", { owner: msg.owner.name, count: acks.length, error: String(e) });
        for (const m of acks) m.retry();
      }
    }),
  );
  if (carried.length) await carry(env, batch.queue, carried, connections);
}

/** Sends what did not fit in this batch's budgets again as new messages (their claims were never made). */
async function carry(env: Env, queueName: string, carried: Message<unknown>[], connections: Limiter): Promise<void> {
  const queue = /dead-letter/.test(queueName) ? env.DEAD_LETTER_QUEUE : env.DELIVERY_QUEUE;
  log.info("deliveries carried to the next batch: this one would pass its time or subrequest budget", { queue: queueName, count: carried.length });
  for (let i = 0; i < carried.length; i += QUEUE_BATCH_MESSAGES) {
    const chunk = carried.slice(i, i + QUEUE_BATCH_MESSAGES);
    try {
      await connections.io(() => queue.sendBatch(chunk.map((m) => ({
        body: m.body, contentType: (m.body instanceof ArrayBuffer || ArrayBuffer.isView(m.body) ? "bytes" : "v8") as QueueContentType,
      }))));
      for (const m of chunk) m.ack();
    } catch (e) {
      log.warn("could not carry deliveries as new messages; the queue retries them", { count: chunk.length, error: String(e) });
      for (const m of chunk) m.retry();
    }
  }
}
