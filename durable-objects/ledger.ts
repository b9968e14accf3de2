import type { CloudEvent } from "../core/cloudevents/event.js";
import { toBase64 } from "../core/base64.js";
import { ERROR_DATA_BYTES, isRetryable, retryDelayMs } from "../core/delivery/policy.js";
import type { DeliveryMessage, DeliveryOutcome, Hop, OwnerRef } from "../core/delivery/messages.js";
import type { RoutePlan, Target } from "../core/resources/plan.js";
import { log } from "../core/log.js";
import type { Sql } from "./sql.js";
import type { Counters } from "./counters.js";

/** Tables of the ledger, shared by every Durable Object that delivers events. */
export const LEDGER_SCHEMA: string[] = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     attrs TEXT NOT NULL,
     data BLOB,
     implied_json INTEGER NOT NULL DEFAULT 0,
     ttl INTEGER NOT NULL,
     received_at INTEGER NOT NULL)`,
  `CREATE TABLE deliveries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     event_seq INTEGER NOT NULL,
     route TEXT NOT NULL,
     hop TEXT NOT NULL,
     reply_seq INTEGER,
     attempt INTEGER NOT NULL DEFAULT 0,
     due_at INTEGER NOT NULL,
     lease_until INTEGER,
     gen INTEGER NOT NULL DEFAULT 0,
     error TEXT)`,
  "CREATE INDEX deliveries_by_event ON deliveries (event_seq)",
  "CREATE INDEX deliveries_by_time ON deliveries (lease_until, due_at)",
];

/** Later ledger migrations, applied after LEDGER_SCHEMA. */
export const LEDGER_MIGRATIONS: string[][] = [
  // Clean-up of a finished delivery's event must find other users of the event by index, not by scan.
  ["CREATE INDEX deliveries_by_reply ON deliveries (reply_seq)"],
];

/** A delivery's durable record. */
export interface DeliveryRow {
  id: number;
  event_seq: number;
  route: string;
  hop: Hop;
  reply_seq: number | null;
  attempt: number;
  due_at: number;
  lease_until: number | null;
  gen: number;
  error: string | null;
}

export interface StoredEvent {
  event: CloudEvent;
  /** Broker TTL left for replies to this event. */
  ttl: number;
}

/** What the owning Durable Object provides to its ledger. */
export interface LedgerHost {
  readonly owner: OwnerRef;
  readonly namespace: string;
  route(uid: string): RoutePlan | undefined;
  /** A subscriber answered with an event; runs inside the settle transaction. */
  onReply(row: DeliveryRow, original: StoredEvent, reply: CloudEvent, now: number): void;
}

export interface LedgerOptions {
  /** Added to an attempt's timeout before a silent dispatch is presumed lost and sent again. */
  leaseSlackMs: number;
  /**
   * Most deliveries one owner keeps dispatched at once; the rest wait in storage, oldest first, and
   * go out as outcomes come back. Bounds what a burst puts on the queue (Queues take 5,000
   * messages/s per queue; a local queue holds at most ~10,000 pending messages).
   */
  maxInFlight: number;
}

/** Ledger settings from the Worker's vars (`LEASE_SLACK_SECONDS`, `MAX_IN_FLIGHT`). */
export function ledgerOptions(env: { LEASE_SLACK_SECONDS?: string; MAX_IN_FLIGHT?: string }): LedgerOptions {
  const num = (v: string | undefined, dflt: number) => {
    const n = Number(v);
    return v !== undefined && v !== "" && Number.isFinite(n) && n >= 0 ? n : dflt;
  };
  return { leaseSlackMs: num(env.LEASE_SLACK_SECONDS, 30) * 1000, maxInFlight: Math.max(1, num(env.MAX_IN_FLIGHT, 1000)) };
}

/** Events at most this large ride inside the queue message; larger ones are loaded by the consumer. */
const INLINE_EVENT_BYTES = 96 * 1024;
/** Queues take at most 100 messages and 256 KB per sendBatch. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200 * 1024;
/** Rows handled per alarm run, so one run stays short. */
const ALARM_BATCH = 500;

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

interface Outgoing {
  msg: DeliveryMessage;
  bytes: number;
  delaySeconds?: number;
}

function buffer(u8: Uint8Array): ArrayBuffer {
  return u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength
    ? (u8.buffer as ArrayBuffer)
    : (u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer);
}

/**
 * The durable record of every pending delivery of one Durable Object, and the machinery that
 * carries it out: dispatch to a queue, retry with Knative's backoff (queue `delaySeconds` from one
 * second up, an alarm below that), dead-lettering, replies, and re-dispatch of anything whose queue
 * message was lost (local queues live in memory). A delivery leaves the ledger only when it was
 * delivered, dead-lettered, or dropped on purpose — and a drop is always logged and counted.
 *
 * @example
 * const ledger = new Ledger(db, ctx.storage, env, host, counters, { leaseSlackMs: 30_000 });
 * ledger.record(event, 254, ["trigger-uid-1", "trigger-uid-2"], Date.now());
 */
export class Ledger {
  private outbox: Outgoing[] = [];
  private flushScheduled = false;
  private alarmAt: number | null = null;
  /** Rows with a lease: dispatched and not yet settled. */
  private inFlight = 0;

  constructor(
    private readonly db: Sql,
    private readonly storage: DurableObjectStorage,
    private readonly queues: { delivery: Queue; deadLetter: Queue },
    private readonly host: LedgerHost,
    private readonly counters: Counters,
    private readonly opts: LedgerOptions,
  ) {}

  /** Loads the alarm time; call once in the constructor's blockConcurrencyWhile. */
  async init(): Promise<void> {
    this.alarmAt = await this.storage.getAlarm();
    this.recount();
  }

  private recount(): void {
    this.inFlight = this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries WHERE lease_until IS NOT NULL")!.n;
  }

  /** Stores an event and one subscriber delivery per route, and dispatches them. Returns the event seq. */
  record(event: CloudEvent, ttl: number, routes: string[], now: number): number {
    const seq = this.insertEvent(event, ttl, now);
    for (const route of routes) {
      const id = this.db.one<{ id: number }>(
        "INSERT INTO deliveries (event_seq, route, hop, due_at) VALUES (?, ?, 'subscriber', ?) RETURNING id",
        seq, route, now,
      )!.id;
      this.trySend({ id, event_seq: seq, route, hop: "subscriber", reply_seq: null, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null }, event, now);
    }
    return seq;
  }

  /** Adds a reply-hop delivery (a Subscription forwarding its subscriber's reply). */
  recordReply(row: DeliveryRow, reply: CloudEvent, ttl: number, now: number): void {
    const replySeq = this.insertEvent(reply, ttl, now);
    const id = this.db.one<{ id: number }>(
      "INSERT INTO deliveries (event_seq, route, hop, reply_seq, due_at) VALUES (?, ?, 'reply', ?, ?) RETURNING id",
      row.event_seq, row.route, replySeq, now,
    )!.id;
    this.trySend({ ...row, id, hop: "reply", reply_seq: replySeq, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null }, reply, now);
  }

  /** Applies the outcomes of delivery attempts reported by queue consumers. */
  settle(outcomes: DeliveryOutcome[], now: number): void {
    for (const o of outcomes) {
      const row = this.db.one<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", o.id);
      if (!row) continue; // settled already: a duplicate attempt
      if (o.ok) this.succeed(row, o, now);
      else if (o.gen === row.gen) this.fail(row, o, now);
      // A failure of a superseded dispatch says nothing about the current one.
    }
    this.pump(now);
  }

  /** The event a consumer should send for a delivery whose message did not carry it. */
  eventFor(id: number, gen: number): CloudEvent | null {
    const row = this.db.one<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", id);
    if (!row || row.gen !== gen) return null;
    return this.payload(row);
  }

  /** Sends what is due and what was dispatched but never settled; call from the DO's alarm(). */
  alarm(now: number): void {
    this.alarmAt = null;
    const lost = this.db.all<DeliveryRow>(`SELECT * FROM deliveries WHERE lease_until <= ? LIMIT ${ALARM_BATCH}`, now);
    for (const row of lost) {
      this.counters.add("redispatched");
      log.info("delivery redispatched: its attempt was never settled", { owner: this.host.owner.name, delivery: row.id, hop: row.hop, gen: row.gen });
      this.dispatch(row, undefined, now);
    }
    this.pump(now);
    if (lost.length === ALARM_BATCH) this.wakeAt(now);
    else this.wakeAtNextDue(now);
  }

  /** Deliveries not yet finished. */
  pending(): number {
    return this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries")!.n;
  }

  /** Drops every pending delivery of routes that no longer exist (their owner was deleted). */
  dropAll(reason: string, now: number): void {
    for (const row of this.db.all<DeliveryRow>("SELECT * FROM deliveries")) this.drop(row, reason, "", now);
    this.recount();
  }

  // --- internals -------------------------------------------------------------------------------

  private insertEvent(event: CloudEvent, ttl: number, now: number): number {
    return this.db.one<{ seq: number }>(
      "INSERT INTO events (attrs, data, implied_json, ttl, received_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
      JSON.stringify(event.attrs), event.data ? buffer(event.data) : null, event.impliedJson ? 1 : 0, ttl, now,
    )!.seq;
  }

  loadEvent(seq: number): StoredEvent | undefined {
    const r = this.db.one<{ attrs: string; data: ArrayBuffer | null; implied_json: number; ttl: number }>(
      "SELECT attrs, data, implied_json, ttl FROM events WHERE seq = ?", seq,
    );
    if (!r) return undefined;
    const event: CloudEvent = { attrs: JSON.parse(r.attrs) };
    if (r.data) event.data = new Uint8Array(r.data);
    if (r.implied_json) event.impliedJson = true;
    return { event, ttl: r.ttl };
  }

  /** The event a hop sends: the original, the reply, or the original with Knative's error extensions. */
  private payload(row: DeliveryRow, preloaded?: CloudEvent): CloudEvent | null {
    const seq = row.hop === "reply" ? row.reply_seq! : row.event_seq;
    const event = preloaded ?? this.loadEvent(seq)?.event;
    if (!event) return null;
    if (row.hop !== "dls" || !row.error) return event;
    const err = JSON.parse(row.error) as { dest: string; code: number; data?: string };
    const attrs = { ...event.attrs, knativeerrordest: err.dest, knativeerrorcode: err.code };
    if (err.data) (attrs as Record<string, unknown>).knativeerrordata = err.data;
    return { ...event, attrs };
  }

  private target(route: RoutePlan, hop: Hop): Target | undefined {
    return hop === "dls" ? route.deadLetter : hop === "reply" ? route.reply : route.subscriber;
  }

  private dispatch(row: DeliveryRow, preloaded: CloudEvent | undefined, now: number): void {
    const route = this.host.route(row.route);
    if (!route) return this.drop(row, "route-deleted", "its Trigger or Subscription was deleted", now);
    const target = this.target(route, row.hop);
    if (!target) return this.drop(row, `${row.hop}-target-removed`, "the route no longer has this destination", now);
    const start = Math.max(now, row.due_at);
    const gen = row.gen + 1;
    const lease = start + route.policy.timeoutMs + this.opts.leaseSlackMs;
    this.db.run("UPDATE deliveries SET gen = ?, lease_until = ? WHERE id = ?", gen, lease, row.id);
    if (row.lease_until === null) this.inFlight++;
    row.lease_until = lease;
    const event = this.payload(row, preloaded);
    if (!event) return this.drop(row, "event-missing", "the stored event is gone", now);
    const bytes = sizeOf(event);
    const msg: DeliveryMessage = {
      owner: this.host.owner,
      id: row.id,
      gen,
      hop: row.hop,
      attempt: row.attempt + 1,
      url: target.url,
      internal: target.internal ?? false,
      format: route.policy.format,
      timeoutMs: route.policy.timeoutMs,
      namespace: this.host.namespace,
    };
    if (bytes <= INLINE_EVENT_BYTES) msg.event = event;
    const out: Outgoing = { msg, bytes: (msg.event ? bytes : 0) + 1024 };
    if (start - now >= 1000) out.delaySeconds = Math.ceil((start - now) / 1000);
    this.outbox.push(out);
    this.scheduleFlush();
    this.wakeAt(lease);
  }

  private succeed(row: DeliveryRow, o: DeliveryOutcome, now: number): void {
    if (row.hop === "subscriber" && o.reply) {
      const original = this.loadEvent(row.event_seq);
      if (original) this.host.onReply(row, original, o.reply, now);
    }
    this.remove(row);
    this.counters.add(row.hop === "dls" ? "deadLettered" : "delivered");
  }

  private fail(row: DeliveryRow, o: DeliveryOutcome, now: number): void {
    const route = this.host.route(row.route);
    if (!route) return this.drop(row, "route-deleted", "its Trigger or Subscription was deleted", now);
    const attempts = row.attempt + 1;
    const dest = this.target(route, row.hop)?.url ?? "";
    log.warn("delivery attempt failed", {
      owner: this.host.owner.name, route: route.name, hop: row.hop, attempt: attempts, dest, status: o.status, error: o.error,
    });
    if (isRetryable(o.status) && attempts <= route.policy.retry) {
      const dueAt = now + retryDelayMs(route.policy, attempts, o.status, o.retryAfterMs);
      this.db.run("UPDATE deliveries SET attempt = ?, due_at = ?, lease_until = NULL WHERE id = ?", attempts, dueAt, row.id);
      this.release(row);
      this.counters.add("retried");
      this.schedule({ ...row, attempt: attempts, due_at: dueAt, lease_until: null }, now);
      return;
    }
    if (row.hop !== "dls" && route.deadLetter) {
      const data = o.errorData && o.errorData.length ? toBase64(o.errorData.subarray(0, ERROR_DATA_BYTES)) : undefined;
      const error = JSON.stringify({ dest, code: o.status ?? 500, ...(data ? { data } : {}) });
      this.db.run("UPDATE deliveries SET hop = 'dls', attempt = 0, due_at = ?, lease_until = NULL, error = ? WHERE id = ?", now, error, row.id);
      this.release(row);
      this.trySend({ ...row, hop: "dls", attempt: 0, due_at: now, lease_until: null, error }, undefined, now);
      return;
    }
    const reason = row.hop === "dls" ? "dead-letter-failed" : "retries-exhausted";
    this.drop(row, reason, `${attempts} attempt(s) to ${dest} failed; last: ${o.error ?? `HTTP ${o.status}`}`, now);
  }

  /** Dispatches now, via the queue's delay from one second up, or via the alarm below that. */
  private schedule(row: DeliveryRow, now: number): void {
    const wait = row.due_at - now;
    if (wait > 0 && wait < 1000) this.wakeAt(row.due_at);
    else this.trySend(row, undefined, now);
  }

  /** Dispatches now if the in-flight window has room; otherwise the row waits for pump(). */
  private trySend(row: DeliveryRow, preloaded: CloudEvent | undefined, now: number): void {
    if (this.inFlight < this.opts.maxInFlight) this.dispatch(row, preloaded, now);
  }

  /** Fills the in-flight window with due rows, oldest first. */
  private pump(now: number): void {
    const room = this.opts.maxInFlight - this.inFlight;
    if (room <= 0) return;
    const rows = this.db.all<DeliveryRow>(
      "SELECT * FROM deliveries WHERE lease_until IS NULL AND due_at <= ? ORDER BY due_at LIMIT ?", now + 5, room,
    );
    for (const row of rows) this.dispatch(row, undefined, now);
  }

  /** A leased row stops counting as in flight. */
  private release(row: DeliveryRow): void {
    if (row.lease_until !== null) this.inFlight = Math.max(0, this.inFlight - 1);
  }

  private drop(row: DeliveryRow, reason: string, detail: string, now: number): void {
    const ev = this.loadEvent(row.hop === "reply" ? row.reply_seq! : row.event_seq)?.event;
    this.counters.drop(reason, {
      id: String(ev?.attrs.id ?? ""), source: String(ev?.attrs.source ?? ""), type: String(ev?.attrs.type ?? ""),
      route: this.host.route(row.route)?.name ?? row.route, detail,
    }, now);
    this.remove(row);
  }

  private remove(row: DeliveryRow): void {
    this.db.run("DELETE FROM deliveries WHERE id = ?", row.id);
    this.release(row);
    for (const seq of row.reply_seq === null ? [row.event_seq] : [row.event_seq, row.reply_seq]) {
      this.db.run(
        `DELETE FROM events WHERE seq = ?1
           AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_seq = ?1)
           AND NOT EXISTS (SELECT 1 FROM deliveries WHERE reply_seq = ?1)`,
        seq,
      );
    }
  }

  /** Makes sure the alarm fires no later than `at` (owners multiplex their own timers through this). */
  wakeAt(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.storage.setAlarm(at);
  }

  private wakeAtNextDue(now: number): void {
    const a = this.db.one<{ t: number | null }>("SELECT MIN(lease_until) AS t FROM deliveries WHERE lease_until IS NOT NULL")?.t;
    // Rows waiting for room in the window go out as outcomes arrive; only timed waits need the alarm.
    const b = this.db.one<{ t: number | null }>("SELECT MIN(due_at) AS t FROM deliveries WHERE lease_until IS NULL AND due_at > ?", now + 5)?.t;
    const next = [a, b].filter((x): x is number => typeof x === "number");
    if (next.length) this.wakeAt(Math.min(...next));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => void this.flush(), 0);
  }

  /** Sends the dispatched messages in batches; a failed send is retried by the lease sweep. */
  async flush(): Promise<void> {
    this.flushScheduled = false;
    const items = this.outbox;
    this.outbox = [];
    const byQueue = new Map<Queue, Outgoing[]>();
    for (const it of items) {
      const q = it.msg.hop === "dls" ? this.queues.deadLetter : this.queues.delivery;
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
          // The rows stay leased; shorten the lease so the alarm sends them again soon.
          const retryAt = Date.now() + 1000;
          for (const it of batch) this.db.run("UPDATE deliveries SET lease_until = ? WHERE id = ? AND gen = ?", retryAt, it.msg.id, it.msg.gen);
          this.wakeAt(retryAt);
          log.error("queue send failed; deliveries will be sent again", { owner: this.host.owner.name, count: batch.length, error: String(e) });
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
