import type { CloudEvent } from "../../core/cloudevents/event.js";
import { Budget } from "../../core/delivery/budget.js";
import { Limiter } from "../../core/delivery/limiter.js";
import type { AttemptSpec, DeliveryMessage, DeliveryOutcome } from "../../core/delivery/messages.js";
import { QUEUE_BATCH_BYTES, QUEUE_BATCH_MESSAGES, MESSAGE_MARGIN_BYTES, wireMessage } from "../../core/delivery/wire.js";
import { log } from "../../core/log.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import type { Meter } from "../meter.js";
import type { Claim, Dispatch, Transport } from "./contract.js";

/** Subrequests of an invocation kept for queue sends: attempts stop short of them. */
const SEND_RESERVE = 4;

export interface OutboxOptions {
  /**
   * What one hop through the delivery queue costs before a consumer starts the attempt (Cloudflare
   * publishes a median of about 60 ms to send a message). An attempt waits for one of the object's
   * connections only while that wait is expected to be shorter; otherwise it goes through the queue.
   */
  queueHopMs: number;
  /** Most attempts waiting for one of the object's connections, whatever the estimate says. */
  maxBacklog: number;
}

/**
 * Outbox settings from the Worker's vars (`QUEUE_HOP_MS`, `LOCAL_BACKLOG`). On Workers Free the
 * queue is what runs out first (10,000 operations a day, three per message), so attempts wait
 * longer for one of the object's own connections before they take it (docs/costs.md).
 */
export function outboxOptions(env: { QUEUE_HOP_MS?: string; LOCAL_BACKLOG?: string; WORKERS_PLAN?: string }): OutboxOptions {
  const num = (v: string | undefined, dflt: number) => (v !== undefined && v !== "" && Number(v) >= 0 ? Number(v) : dflt);
  const free = env.WORKERS_PLAN?.toLowerCase() === "free";
  return { queueHopMs: num(env.QUEUE_HOP_MS, free ? 2_000 : 60), maxBacklog: num(env.LOCAL_BACKLOG, free ? 1_000 : 200) };
}

export interface OutboxDeps {
  queues: { delivery: Queue; deadLetter: Queue };
  owner: () => string;
  /** Makes one attempt (HTTP, or an RPC to an object of this system); holds no connection slot itself. */
  attempt: (spec: AttemptSpec, event: CloudEvent) => Promise<DeliveryOutcome>;
  /** Records an outcome of the object's own attempt. */
  settle: (o: DeliveryOutcome) => void;
  /** A queue send failed: the ledger sends these again soon. */
  requeue: (items: Claim[]) => void;
  /** Whether an attempt about to start is still the current one (../ledger/machine.ts check). */
  check: (id: number, gen: number) => "go" | "stale" | "cancel";
  /** Runs `fn` once the flush that dispatched commits (../group-commit.ts Effects). */
  after: (fn: () => void) => void;
  /** What each message says about who sends it (the route's identity), added before it is sent. */
  stamp: (m: DeliveryMessage) => DeliveryMessage;
  /** The object's six connections, one kept for queue sends and R2 writes. */
  connections: Limiter;
  /** Subrequests of the invocation under way. */
  budget: Budget;
  meter: Meter;
}

interface Outgoing {
  hop: DeliveryMessage["hop"];
  id: number;
  gen: number;
  body: Uint8Array;
  delaySeconds?: number;
}

const enc = new TextEncoder();

/**
 * How a Durable Object's attempts leave it. Attempts due now are made by the object itself over at
 * most five of its six connections (Cloudflare's limit per object; the sixth is kept for queue
 * sends and R2 writes), within the invocation's subrequest budget, with a short backlog sized so
 * that waiting for a connection is expected to take less than a queue hop; the rest, dead letters
 * and delayed retries go to the queues in batches, where consumer invocations (each with its own
 * connections and budget) spread them out. Nothing leaves before the flush that recorded it
 * commits, and an attempt checks it is still current right before it is made.
 *
 * Workerd does not enforce these limits locally; this class does, and
 * test/workers/connections.test.ts checks them at a real sink.
 */
export class Outbox implements Transport {
  /** The object's own attempts dispatched and not yet settled (waiting for a connection included). */
  private local = 0;
  /** Moving average of one attempt's time with a connection held, in ms. */
  private serviceMs = 20;
  private queued: Outgoing[] = [];
  private flushScheduled = false;

  constructor(private readonly deps: OutboxDeps, private readonly opts: OutboxOptions) {}

  get connections(): Limiter {
    return this.deps.connections;
  }

  hasLocalRoom(): boolean {
    if (!this.deps.budget.fits(1 + SEND_RESERVE)) return false;
    const slots = this.deps.connections.attemptSlots;
    const waiting = this.local - slots;
    if (waiting < 0) return true;
    const expectedWait = ((waiting + 1) * this.serviceMs) / slots;
    return waiting < this.opts.maxBacklog && expectedWait < this.opts.queueHopMs;
  }

  localCount(): number {
    return this.local;
  }

  send(d: Dispatch): void {
    if (d.local) {
      this.local++;
      this.deps.budget.take(1);
      this.deps.after(() => void this.runLocal(d));
    } else this.deps.after(() => this.enqueue(d));
  }

  /** Most of the object's own attempts running at once. */
  stats(): { connectionsHighWater: number } {
    return { connectionsHighWater: this.deps.connections.highWater };
  }

  private async runLocal(d: Dispatch): Promise<void> {
    const { msg, event } = d;
    let outcome: DeliveryOutcome | undefined;
    try {
      // An RPC to another object of this system opens no outgoing connection.
      const release = msg.object ? undefined : await this.deps.connections.acquire();
      try {
        const now = this.deps.check(msg.id, msg.gen);
        if (now === "stale") return; // another dispatch replaced it while it waited: that one reports
        if (now === "cancel") {
          const text = "not sent: its Trigger or Subscription was deleted";
          outcome = { id: msg.id, gen: msg.gen, ok: false, error: text, errorData: enc.encode(text) };
        } else {
          const t0 = Date.now();
          outcome = await this.deps.attempt(msg, event);
          outcome.latencyMs = Date.now() - t0;
          if (release) this.serviceMs = this.serviceMs * 0.9 + outcome.latencyMs * 0.1;
        }
      } finally {
        release?.();
      }
    } catch (e) {
      const text = `dispatch error: ${(e as Error).message}`;
      outcome = { id: msg.id, gen: msg.gen, ok: false, error: text, errorData: enc.encode(text) };
    } finally {
      this.local--;
    }
    try {
      this.deps.settle(outcome);
    } catch (e) {
      log.error("could not record a delivery outcome; the delivery will be sent again", { owner: this.deps.owner(), delivery: msg.id, error: String(e), ...traceFields(event) });
    }
  }

  private enqueue(d: Dispatch): void {
    const msg = this.deps.stamp({ ...d.msg, event: d.event });
    this.queued.push({ hop: msg.hop, id: msg.id, gen: msg.gen, body: wireMessage(msg), ...(d.delaySeconds ? { delaySeconds: d.delaySeconds } : {}) });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => void this.flush(), 0);
  }

  /** Sends what is queued in batches (by count and bytes), each over the connection kept for it. */
  async flush(): Promise<void> {
    this.flushScheduled = false;
    const items = this.queued;
    this.queued = [];
    const byQueue = new Map<Queue, Outgoing[]>();
    for (const it of items) {
      const q = it.hop === "dls" ? this.deps.queues.deadLetter : this.deps.queues.delivery;
      (byQueue.get(q) ?? byQueue.set(q, []).get(q)!).push(it);
    }
    const sends: Promise<void>[] = [];
    for (const [queue, list] of byQueue) {
      let chunk: Outgoing[] = [];
      let size = 0;
      const send = () => {
        if (!chunk.length) return;
        sends.push(this.sendBatch(queue, chunk));
        chunk = [];
        size = 0;
      };
      for (const it of list) {
        const bytes = it.body.byteLength + MESSAGE_MARGIN_BYTES;
        if (chunk.length === QUEUE_BATCH_MESSAGES || size + bytes > QUEUE_BATCH_BYTES) send();
        chunk.push(it);
        size += bytes;
      }
      send();
    }
    await Promise.all(sends);
  }

  private async sendBatch(queue: Queue, batch: Outgoing[]): Promise<void> {
    try {
      if (!this.deps.budget.take(1)) throw new Error("the invocation's subrequest budget is spent");
      await this.deps.connections.io(() => queue.sendBatch(batch.map((it) => ({
        body: it.body, contentType: "bytes" as const, ...(it.delaySeconds ? { delaySeconds: it.delaySeconds } : {}),
      }))));
      for (const it of batch) this.deps.meter.queued(it.body.byteLength);
    } catch (e) {
      this.deps.requeue(batch.map((it) => ({ id: it.id, gen: it.gen })));
      log.error("queue send failed; deliveries will be sent again", { owner: this.deps.owner(), count: batch.length, error: String(e) });
    }
  }
}
