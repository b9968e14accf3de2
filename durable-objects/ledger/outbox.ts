import type { CloudEvent } from "../../core/cloudevents/event.js";
import { Limiter, PLATFORM_CONNECTIONS } from "../../core/delivery/limiter.js";
import type { AttemptSpec, DeliveryMessage, DeliveryOutcome } from "../../core/delivery/messages.js";
import { log } from "../../core/log.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import type { Dispatch, Transport } from "./machine.js";

/** Events at most this large ride inside the queue message; larger ones are loaded by the consumer. */
const INLINE_EVENT_BYTES = 96 * 1024;
/** Queues take at most 100 messages and 256 KB per sendBatch. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200 * 1024;

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

/** Outbox settings from the Worker's vars (`QUEUE_HOP_MS`, `LOCAL_BACKLOG`). */
export function outboxOptions(env: { QUEUE_HOP_MS?: string; LOCAL_BACKLOG?: string }): OutboxOptions {
  const num = (v: string | undefined, dflt: number) => (v !== undefined && v !== "" && Number(v) >= 0 ? Number(v) : dflt);
  return { queueHopMs: num(env.QUEUE_HOP_MS, 60), maxBacklog: num(env.LOCAL_BACKLOG, 200) };
}

export interface OutboxDeps {
  queues: { delivery: Queue; deadLetter: Queue };
  owner: () => string;
  /** Makes one attempt (HTTP, or an RPC to an object of this system); holds no connection slot itself. */
  attempt: (spec: AttemptSpec, event: CloudEvent) => Promise<DeliveryOutcome>;
  /** Records an outcome of the object's own attempt. */
  settle: (o: DeliveryOutcome) => void;
  /** A queue send failed: the ledger sends these again soon. */
  requeue: (items: { id: number; gen: number }[]) => void;
}

interface Outgoing {
  msg: DeliveryMessage;
  bytes: number;
  delaySeconds?: number;
}

const sizes = new WeakMap<CloudEvent, number>();

/** Approximate wire size of an event; a fan-out dispatches one event object many times, so it is cached. */
function sizeOf(ev: CloudEvent): number {
  let n = sizes.get(ev);
  if (n === undefined) {
    n = (ev.data?.byteLength ?? 0) + JSON.stringify(ev.attrs).length;
    sizes.set(ev, n);
  }
  return n;
}

/**
 * How a Durable Object's attempts leave it. Attempts due now are made by the object itself over at
 * most six connections (Cloudflare's limit per object), with a short backlog sized so that waiting
 * for a connection is expected to take less than a queue hop; the rest, dead letters and delayed
 * retries go to the queues in batches, where consumer invocations (each with six connections of
 * their own) spread them out. Outcomes of the object's own attempts are settled in place.
 *
 * Workerd does not enforce the six-connection limit locally; this class does, and
 * test/workers/connections.test.ts checks it at a real sink.
 */
export class Outbox implements Transport {
  readonly connections = new Limiter(PLATFORM_CONNECTIONS);
  private readonly local = new Set<number>();
  /** Moving average of one attempt's time with a connection held, in ms. */
  private serviceMs = 20;
  private queued: Outgoing[] = [];
  private flushScheduled = false;

  constructor(private readonly deps: OutboxDeps, private readonly opts: OutboxOptions) {}

  hasLocalRoom(): boolean {
    const waiting = this.local.size - this.connections.limit;
    if (waiting < 0) return true;
    const expectedWait = ((waiting + 1) * this.serviceMs) / this.connections.limit;
    return waiting < this.opts.maxBacklog && expectedWait < this.opts.queueHopMs;
  }

  isLocal(id: number): boolean {
    return this.local.has(id);
  }

  localCount(): number {
    return this.local.size;
  }

  send(d: Dispatch): void {
    if (d.local) void this.runLocal(d);
    else this.enqueue(d);
  }

  /** Most of the object's own attempts running at once, and how often they waited for a connection. */
  stats(): { connectionsHighWater: number } {
    return { connectionsHighWater: this.connections.highWater };
  }

  private async runLocal(d: Dispatch): Promise<void> {
    const { msg, event } = d;
    this.local.add(msg.id);
    let outcome: DeliveryOutcome;
    try {
      // An RPC to another object of this system opens no outgoing connection.
      const release = msg.object ? undefined : await this.connections.acquire();
      const t0 = Date.now();
      try {
        outcome = await this.deps.attempt(msg, event);
      } finally {
        release?.();
      }
      if (release) this.serviceMs = this.serviceMs * 0.9 + (Date.now() - t0) * 0.1;
    } catch (e) {
      const text = `dispatch error: ${(e as Error).message}`;
      outcome = { id: msg.id, gen: msg.gen, ok: false, error: text, errorData: new TextEncoder().encode(text) };
    } finally {
      this.local.delete(msg.id);
    }
    try {
      this.deps.settle(outcome);
    } catch (e) {
      // The row keeps its lease; the alarm sends it again when the lease runs out.
      log.error("could not record a delivery outcome; the delivery will be sent again", { owner: this.deps.owner(), delivery: msg.id, error: String(e), ...traceFields(event) });
    }
  }

  private enqueue(d: Dispatch): void {
    const bytes = sizeOf(d.event);
    const msg: DeliveryMessage = bytes <= INLINE_EVENT_BYTES ? { ...d.msg, event: d.event } : d.msg;
    this.queued.push({ msg, bytes: (msg.event ? bytes : 0) + 1024, ...(d.delaySeconds ? { delaySeconds: d.delaySeconds } : {}) });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => void this.flush(), 0);
  }

  /** Sends what is queued in batches; a failed send is handed back to the ledger. */
  async flush(): Promise<void> {
    this.flushScheduled = false;
    const items = this.queued;
    this.queued = [];
    const byQueue = new Map<Queue, Outgoing[]>();
    for (const it of items) {
      const q = it.msg.hop === "dls" ? this.deps.queues.deadLetter : this.deps.queues.delivery;
      (byQueue.get(q) ?? byQueue.set(q, []).get(q)!).push(it);
    }
    for (const [queue, list] of byQueue) {
      let chunk: Outgoing[] = [];
      let size = 0;
      const send = async () => {
        if (!chunk.length) return;
        const batch = chunk;
        chunk = [];
        size = 0;
        try {
          await queue.sendBatch(batch.map((it) => ({
            body: it.msg, contentType: "v8" as const, ...(it.delaySeconds ? { delaySeconds: it.delaySeconds } : {}),
          })));
        } catch (e) {
          this.deps.requeue(batch.map((it) => ({ id: it.msg.id, gen: it.msg.gen })));
          log.error("queue send failed; deliveries will be sent again", { owner: this.deps.owner(), count: batch.length, error: String(e) });
        }
      };
      for (const it of list) {
        if (chunk.length === BATCH_MESSAGES || size + it.bytes > BATCH_BYTES) await send();
        chunk.push(it);
        size += it.bytes;
      }
      await send();
    }
  }
}
