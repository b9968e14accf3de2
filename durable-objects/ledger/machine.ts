import type { CloudEvent } from "../../core/cloudevents/event.js";
import { toBase64 } from "../../core/base64.js";
import { ERROR_DATA_BYTES, isRetryable, retryDelayMs } from "../../core/delivery/policy.js";
import type { DeliveryMessage, DeliveryOutcome, Hop } from "../../core/delivery/messages.js";
import type { RoutePlan, Target } from "../../core/resources/plan.js";
import { log } from "../../core/log.js";
import { inheritTrace, traceFields } from "../../core/cloudevents/trace.js";
import type { DeliveryRow, LedgerStore, StoredEvent } from "./store.js";
import { Chains } from "./chains.js";
import { flowControlled, MAX_THROTTLES, RouteGate } from "./gate.js";
import type { DeadLetterFailure, Dispatch, LedgerCounters, LedgerHost, LedgerOptions, TailOutcome, Timer, Transport } from "./contract.js";

export * from "./contract.js";

/** Rows handled per alarm run, so one run stays short. */
const ALARM_BATCH = 500;
/**
 * While the object makes attempts itself, the alarm stays at most this far away: if the runtime
 * dies, those attempts die with it, and the alarm is what brings the object back to send them again.
 */
export const LOCAL_RECOVERY_MS = 3_000;
/** Due within this much counts as due now (timers are not exact). */
const DUE_SLACK_MS = 5;

/**
 * The state machine of every pending delivery of one Durable Object. A delivery row is *waiting*
 * (no lease: due at `due_at`), or *leased* (an attempt is out under dispatch generation `gen`, made
 * by the object itself or by a queue consumer). Outcomes settle it: success removes it (a reply
 * re-enters through the host), a retriable failure makes it wait for its backoff, a final failure
 * turns it into a dead-letter hop or drops it. A lease that runs out without an outcome is sent
 * again. A delivery leaves the ledger only when it was delivered, dead-lettered, or dropped on
 * purpose, and a drop is always logged and counted.
 *
 * @example
 * const ledger = new Ledger(store, outbox, clock, host, counters, { leaseSlackMs: 30_000, maxInFlight: 1000 });
 * ledger.init(Date.now());
 * ledger.record(event, 254, ["trigger-uid-1", "trigger-uid-2"], Date.now());
 */
export class Ledger {
  /** Leased rows. */
  private inFlight = 0;
  /** Some due row may be waiting for room in the in-flight window. */
  private starved = true;
  private readonly chains = new Chains();
  private readonly gate = new RouteGate();
  /**
   * Rows this incarnation leased, exactly as stored, so an outcome of their current dispatch
   * settles without reading the row back. While a row is leased nothing else writes it but a new
   * lease end (kept here too) or a new dispatch (a new generation, remembered in its place);
   * outcomes of other generations and rows leased before a restart are read from storage. At most
   * `maxInFlight` rows are leased at once.
   */
  private readonly leased = new Map<number, DeliveryRow>();
  /** Events loaded during one pump: the rows it dispatches are mostly one event's fan-out. */
  private loaded: Map<number, CloudEvent> | undefined;

  constructor(
    private readonly store: LedgerStore,
    private readonly transport: Transport,
    private readonly timer: Timer,
    private readonly host: LedgerHost,
    private readonly counters: LedgerCounters,
    private readonly opts: LedgerOptions,
  ) {}

  /** Call once when the object starts: attempts it was making when it last died are due again. */
  init(now: number): void {
    const orphaned = this.store.expireLocalLeases(now);
    if (orphaned > 0) {
      log.info("deliveries in flight when the object stopped are sent again", { owner: this.host.owner.name, count: orphaned });
      this.timer.wakeAt(now);
    }
    this.inFlight = this.store.leasedCount();
    this.chains.reset(this.store.chainCounts());
    this.gate.reset(this.store.leasedByRoute());
  }

  /** Runs when a pacing timer (`Timer.soon`) fires: routes that were waiting may send again. */
  tick(now: number): void {
    this.starved = true;
    this.pump(now);
  }

  /**
   * Stores an event and one subscriber delivery per route, and dispatches them. Returns the event
   * seq. `archive`: the event also waits for the archive (with no routes, it is stored for that alone).
   * `replay`: the uid of the Replay that recorded it.
   */
  record(event: CloudEvent, ttl: number, routes: string[], now: number, archive = false, replay?: string): number {
    const seq = this.store.insertEvent(event, ttl, now, archive, replay);
    for (const route of routes) {
      // Not stored yet (id 0): dispatch stores it already leased, one write instead of two.
      const row: DeliveryRow = {
        id: 0, event_seq: seq, route, hop: "subscriber", reply_seq: null, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null,
        local: 0, order_key: null, blocked: 0, throttles: 0,
      };
      if (this.host.route(route)?.ordered) {
        // One at a time per key, in the order accepted: a busy chain stores this one blocked.
        row.order_key = String(event.attrs.partitionkey ?? "");
        if (this.chains.busy(route, row.order_key)) {
          row.blocked = 1;
          row.id = this.store.insertDelivery(row);
          continue;
        }
        this.chains.enter(route, row.order_key);
      }
      this.trySend(row, event, now);
    }
    return seq;
  }

  /** Adds a reply-hop delivery (a Subscription forwarding its subscriber's reply). */
  recordReply(row: DeliveryRow, reply: CloudEvent, ttl: number, now: number): void {
    const replySeq = this.store.insertEvent(reply, ttl, now);
    const next: DeliveryRow = {
      ...row, id: 0, hop: "reply", reply_seq: replySeq, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null, local: 0, blocked: 0, throttles: 0,
    };
    // The reply hop continues its chain: the next event of the key waits for it too.
    if (next.order_key !== null) this.chains.enter(next.route, next.order_key);
    this.trySend(next, reply, now);
  }

  /** Delivers a kept dead letter again to its route as it is now; success removes the entry. */
  redrive(event: CloudEvent, ttl: number, route: string, entryId: string, now: number): void {
    const seq = this.store.insertEvent(event, ttl, now);
    const row: DeliveryRow = {
      id: 0, event_seq: seq, route, hop: "subscriber", reply_seq: null, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null,
      local: 0, order_key: null, blocked: 0, throttles: 0, redrive_of: entryId,
    };
    this.trySend(row, event, now);
  }

  /** Applies the outcomes of delivery attempts, the object's own or reported by queue consumers. */
  settle(outcomes: DeliveryOutcome[], now: number): void {
    for (const o of outcomes) {
      const row = this.takeLeased(o) ?? this.store.delivery(o.id);
      // Settled already: another attempt of the same delivery got there first.
      if (!row) {
        if (o.ok) this.counters.add("duplicates");
        continue;
      }
      if (o.ok) this.succeed(row, o, now);
      else if (o.gen === row.gen) this.fail(row, o, now);
      // A failure of a superseded dispatch says nothing about the current one.
    }
    this.pump(now);
  }

  /**
   * Storage was not written (a group commit failed): rows remembered since may not exist, so
   * outcomes read their rows from storage again.
   */
  forgetRows(): void {
    this.leased.clear();
    this.store.forget?.();
  }

  /** The remembered row of the dispatch this outcome is for, taken out. */
  private takeLeased(o: DeliveryOutcome): DeliveryRow | undefined {
    const row = this.leased.get(o.id);
    if (!row || row.gen !== o.gen) return undefined;
    this.leased.delete(o.id);
    return row;
  }

  /** The event a consumer should send for a delivery whose message did not carry it. */
  eventFor(id: number, gen: number): CloudEvent | null {
    const row = this.store.delivery(id);
    if (!row || row.gen !== gen) return null;
    return this.payload(row);
  }

  /** A queue refused these dispatches: send them again soon (they keep their lease until then). */
  retrySoon(items: { id: number; gen: number }[], now: number): void {
    const at = now + 1000;
    for (const it of items) {
      const row = this.store.delivery(it.id);
      if (row && row.gen === it.gen) {
        this.store.update(it.id, { lease_until: at });
        const kept = this.leased.get(it.id);
        if (kept) kept.lease_until = at;
      }
    }
    this.timer.wakeAt(at);
  }

  /** Sends what is due and what was dispatched but never settled; call from the object's alarm(). */
  alarm(now: number): void {
    const lapsed = this.store.lapsed(now, ALARM_BATCH);
    for (const row of lapsed) {
      const route = this.host.route(row.route);
      if (this.transport.isLocal(row.id)) {
        // Still running here (waiting for a connection): not lost, just slow.
        const lease = now + (route?.policy.timeoutMs ?? 60_000) + this.opts.leaseSlackMs;
        this.store.update(row.id, { lease_until: lease });
        const kept = this.leased.get(row.id);
        if (kept) kept.lease_until = lease;
        continue;
      }
      this.counters.add("redispatched");
      if (row.hop === "subscriber") this.gate.released(row.route);
      const event = this.payload(row) ?? undefined;
      log.info("delivery redispatched: its attempt was never settled", {
        owner: this.host.owner.name, delivery: row.id, hop: row.hop, gen: row.gen, ...(event ? traceFields(event) : {}),
      });
      this.dispatch(row, event, now);
    }
    this.starved = true;
    this.pump(now);
    if (lapsed.length === ALARM_BATCH) this.timer.wakeAt(now);
    else this.wakeAtNextDue(now);
    if (this.transport.localCount() > 0) this.timer.wakeAt(now + LOCAL_RECOVERY_MS);
  }

  /** Deliveries not yet finished. */
  pending(): number {
    return this.store.count();
  }

  /** Drops every pending delivery (their owner was deleted). */
  dropAll(reason: string, now: number): void {
    this.chains.clear();
    for (const row of this.store.all()) this.drop({ ...row, order_key: null }, reason, "", now);
    this.inFlight = this.store.leasedCount();
    this.gate.reset([]);
    // The owner's tables are wiped next: sequence numbers start over.
    this.forgetRows();
  }

  loadEvent(seq: number): StoredEvent | undefined {
    return this.store.loadEvent(seq);
  }

  // --- transitions -----------------------------------------------------------------------------

  /** The event a hop sends: the original, the reply, or the original with Knative's error extensions. */
  private payload(row: DeliveryRow, preloaded?: CloudEvent): CloudEvent | null {
    const seq = row.hop === "reply" ? row.reply_seq! : row.event_seq;
    let event = preloaded ?? this.loaded?.get(seq);
    if (!event) {
      event = this.store.loadEvent(seq)?.event;
      if (!event) return null;
      this.loaded?.set(seq, event);
    }
    if (row.hop !== "dls" || !row.error) return event;
    const err = JSON.parse(row.error) as { dest: string; code: number; data?: string };
    const attrs = { ...event.attrs, knativeerrordest: err.dest, knativeerrorcode: err.code };
    if (err.data) (attrs as Record<string, unknown>).knativeerrordata = err.data;
    return { ...event, attrs };
  }

  private target(route: RoutePlan, hop: Hop): Target | undefined {
    return hop === "dls" ? route.deadLetter : hop === "reply" ? route.reply : route.subscriber;
  }

  /** Leases the row under a new generation and hands the attempt to the transport. */
  private dispatch(row: DeliveryRow, preloaded: CloudEvent | undefined, now: number): void {
    const route = this.host.route(row.route);
    if (!route) return this.drop(row, "route-deleted", "its Trigger or Subscription was deleted", now);
    const target = this.target(route, row.hop);
    if (!target) return this.drop(row, `${row.hop}-target-removed`, "the route no longer has this destination", now);
    const event = this.payload(row, preloaded);
    if (!event) return this.drop(row, "event-missing", "the stored event is gone", now);
    if (row.hop === "subscriber" && flowControlled(route)) {
      const next = this.gate.nextSend(route, now);
      if (next > now) return this.hold(row, next, now);
      this.gate.took(route, now);
    }
    const start = Math.max(now, row.due_at);
    // First attempts and short retries go out from the object; dead letters, delayed retries and
    // what does not fit in its connection window go through the queues.
    const local = start - now <= DUE_SLACK_MS && row.hop !== "dls" && (!target.internal || !!target.object) && this.transport.hasLocalRoom();
    const gen = row.gen + 1;
    const lease = start + route.policy.timeoutMs + this.opts.leaseSlackMs;
    if (row.id === 0) row.id = this.store.insertDelivery({ ...row, gen, lease_until: lease, local: local ? 1 : 0 });
    else this.store.update(row.id, { gen, lease_until: lease, local: local ? 1 : 0 });
    if (row.lease_until === null) this.inFlight++;
    Object.assign(row, { gen, lease_until: lease, local: local ? 1 : 0 });
    this.leased.set(row.id, row);
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
      route: row.route,
      ...(target.object ? { object: target.object } : {}),
    };
    const d: Dispatch = { msg, event, local };
    if (start - now >= 1000) d.delaySeconds = Math.ceil((start - now) / 1000);
    this.transport.send(d);
    this.timer.wakeAt(local ? now + LOCAL_RECOVERY_MS : lease);
  }

  private succeed(row: DeliveryRow, o: DeliveryOutcome, now: number): void {
    if (row.hop === "subscriber" && o.reply) {
      const original = this.store.loadEvent(row.event_seq);
      // A reply with no trace of its own continues the trace of the event it answers.
      if (original) this.host.onReply(row, original, inheritTrace(original.event, o.reply), now);
    }
    this.observe(row, row.hop === "dls" ? "dead-lettered" : "delivered", o.status);
    this.remove(row);
    this.counters.add(row.hop === "dls" ? "deadLettered" : "delivered");
    if (row.redrive_of && row.hop !== "reply") this.host.redriveDone?.(row.redrive_of);
    this.leaveChain(row, now);
  }

  /** Tells live watchers what became of a delivery (only when someone watches). */
  private observe(row: DeliveryRow, outcome: TailOutcome, status: number | undefined): void {
    if (!this.host.watching || !this.host.onOutcome) return;
    const id = String(this.store.loadEvent(row.hop === "reply" ? row.reply_seq! : row.event_seq)?.event.attrs.id ?? "");
    this.host.onOutcome(row, id, outcome, status);
  }

  private fail(row: DeliveryRow, o: DeliveryOutcome, now: number): void {
    const route = this.host.route(row.route);
    if (!route) return this.drop(row, "route-deleted", "its Trigger or Subscription was deleted", now);
    if (o.status === 429 && row.hop === "subscriber" && flowControlled(route) && row.throttles < MAX_THROTTLES) {
      return this.throttle(row, route, o, now);
    }
    const attempts = row.attempt + 1;
    const dest = this.target(route, row.hop)?.url ?? "";
    log.warn("delivery attempt failed", {
      owner: this.host.owner.name, route: route.name, hop: row.hop, attempt: attempts, dest, status: o.status, error: o.error,
      ...(o.traceId ? { traceId: o.traceId } : {}),
    });
    if (isRetryable(o.status) && attempts <= route.policy.retry) {
      const dueAt = now + retryDelayMs(route.policy, attempts, o.status, o.retryAfterMs);
      this.store.update(row.id, { attempt: attempts, due_at: dueAt, lease_until: null, local: 0 });
      this.release(row);
      this.counters.add("retried");
      this.observe(row, "retrying", o.status);
      this.schedule({ ...row, attempt: attempts, due_at: dueAt, lease_until: null, local: 0 }, now);
      return;
    }
    if (row.hop !== "dls" && route.deadLetter) {
      const error = errorJson(dest, o);
      this.store.update(row.id, { hop: "dls", attempt: 0, due_at: now, lease_until: null, error, local: 0 });
      this.release(row);
      this.trySend({ ...row, hop: "dls", attempt: 0, due_at: now, lease_until: null, error, local: 0 }, undefined, now);
      // Dead-lettered counts as settled for ordering: the key's next event may go.
      this.leaveChain(row, now);
      return;
    }
    const reason = row.hop === "dls" ? "dead-letter-failed" : "retries-exhausted";
    const detail = `${attempts} attempt(s) to ${dest} failed; last: ${o.error ?? `HTTP ${o.status}`}`;
    // Kept rather than dropped: with Knative's error extensions, as a dead-letter sink would get it.
    const kept = row.hop === "dls" ? this.payload(row) : this.payload({ ...row, hop: "dls", error: errorJson(dest, o) });
    if (kept && this.host.keepDeadLetter?.(row, kept, { ...(o.status !== undefined ? { status: o.status } : {}), reason, detail, attempts }, now)) {
      this.observe(row, "kept", o.status);
      this.remove(row);
      this.counters.add(`kept.${reason}`);
      log.warn("event kept as a dead letter", { owner: this.host.owner.name, route: route.name, reason, detail, id: String(kept.attrs.id ?? ""), ...traceFields(kept) });
      this.leaveChain(row, now);
      return;
    }
    this.drop(row, reason, detail, now);
  }

  /** Dispatches now, via the queue's delay from one second up, or via the alarm below that. */
  private schedule(row: DeliveryRow, now: number): void {
    const wait = row.due_at - now;
    if (wait > DUE_SLACK_MS && wait < 1000) {
      this.starved = true;
      this.timer.wakeAt(row.due_at);
    } else this.trySend(row, undefined, now);
  }

  /** Dispatches now if the in-flight window has room; otherwise the row waits for pump(). */
  private trySend(row: DeliveryRow, preloaded: CloudEvent | undefined, now: number): void {
    if (this.inFlight < this.opts.maxInFlight) return this.dispatch(row, preloaded, now);
    if (row.id === 0) row.id = this.store.insertDelivery(row);
    this.starved = true;
  }

  /** Fills the in-flight window with due rows, oldest first. */
  private pump(now: number): void {
    if (!this.starved) return;
    const room = this.opts.maxInFlight - this.inFlight;
    if (room <= 0) return;
    const held = this.gate.blocked(this.flowRoutes(), now);
    const rows = this.store.due(now + DUE_SLACK_MS, room, held);
    if (rows.length < room) this.starved = false;
    // Rows of a route that may not send yet stay out of the query, so nothing else would wake them:
    // a pacing tick that fires a moment early (timers are not exact) left them to the alarm, seconds later.
    for (const uid of held) {
      const route = this.host.route(uid);
      const next = route ? this.gate.nextSend(route, now) : Infinity;
      if (next !== Infinity) this.timer.soon(next);
    }
    this.loaded = new Map();
    try {
      for (const row of rows) this.dispatch(row, undefined, now);
    } finally {
      this.loaded = undefined;
    }
  }

  /** A leased row stops counting as in flight. */
  private release(row: DeliveryRow): void {
    if (row.lease_until === null) return;
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (row.hop === "subscriber") {
      this.gate.released(row.route);
      // A route held at its max-in-flight may send again.
      if (this.host.route(row.route)?.maxInFlight !== undefined) this.starved = true;
    }
  }

  /** The route may not send now (flow control): the row waits in storage, unleased, until `next`. */
  private hold(row: DeliveryRow, next: number, now: number): void {
    if (row.id === 0) row.id = this.store.insertDelivery(row);
    else if (row.lease_until !== null) {
      this.store.update(row.id, { lease_until: null, local: 0 });
      this.leased.delete(row.id);
      this.inFlight = Math.max(0, this.inFlight - 1);
      row.lease_until = null;
    }
    this.starved = true;
    if (next !== Infinity) this.timer.soon(next);
    // Durable backstop: after a restart the alarm brings the object back to the waiting rows.
    this.timer.wakeAt(now + LOCAL_RECOVERY_MS);
  }

  /** A 429 from a flow-controlled route: pause the route (Retry-After, or growing waits) without spending a retry. */
  private throttle(row: DeliveryRow, route: RoutePlan, o: DeliveryOutcome, now: number): void {
    const until = this.gate.pause(route.uid, now, row.throttles, o.retryAfterMs);
    this.store.update(row.id, { due_at: until, lease_until: null, local: 0, throttles: row.throttles + 1 });
    this.release(row);
    this.counters.add("throttled");
    log.warn("subscriber asked to slow down (429): its route pauses", { owner: this.host.owner.name, route: route.name, untilMs: until - now, ...(o.traceId ? { traceId: o.traceId } : {}) });
    this.starved = true;
    this.timer.soon(until);
    this.timer.wakeAt(until);
  }

  /** An ordered delivery left its chain (delivered, dead-lettered or dropped): the chain's next may go. */
  private leaveChain(row: DeliveryRow, now: number): void {
    if (row.order_key === null || row.hop === "dls" || row.blocked === 1) return;
    const key = row.order_key;
    const route = row.route;
    // A loop, not recursion: promoting into a deleted route drops that one and promotes the next.
    while (this.chains.leave(route, key)) {
      const next = this.store.nextBlocked(route, key);
      if (!next) return;
      this.store.update(next.id, { blocked: 0, due_at: now });
      Object.assign(next, { blocked: 0, due_at: now });
      this.chains.enter(route, key);
      if (this.host.route(route)) return this.trySend(next, undefined, now);
      this.drop({ ...next, order_key: null }, "route-deleted", "its Trigger or Subscription was deleted", now);
    }
  }

  private drop(row: DeliveryRow, reason: string, detail: string, now: number): void {
    this.observe(row, "dropped", undefined);
    const ev = this.store.loadEvent(row.hop === "reply" ? row.reply_seq! : row.event_seq)?.event;
    this.counters.drop(reason, {
      id: String(ev?.attrs.id ?? ""), source: String(ev?.attrs.source ?? ""), type: String(ev?.attrs.type ?? ""),
      route: this.host.route(row.route)?.name ?? row.route, detail, ...(ev ? traceFields(ev) : {}),
    }, now);
    this.remove(row);
    this.leaveChain(row, now);
  }

  private remove(row: DeliveryRow): void {
    this.store.remove(row);
    // A stale dispatch's success removes the row under its current attempt too.
    this.leased.delete(row.id);
    this.release(row);
  }

  private *flowRoutes(): Iterable<RoutePlan> {
    for (const r of this.host.allRoutes()) if (flowControlled(r)) yield r;
  }

  private wakeAtNextDue(now: number): void {
    // Rows waiting for room in the window go out as outcomes arrive; only timed waits need the alarm.
    const { lease, due } = this.store.nextTimes(now + DUE_SLACK_MS);
    const next = [lease, due].filter((x): x is number => typeof x === "number");
    if (next.length) this.timer.wakeAt(Math.min(...next));
  }
}

/** Knative's error extensions of a failed delivery, as the row keeps them for its dead-letter hop. */
function errorJson(dest: string, o: DeliveryOutcome): string {
  const data = o.errorData && o.errorData.length ? toBase64(o.errorData.subarray(0, ERROR_DATA_BYTES)) : undefined;
  return JSON.stringify({ dest, code: o.status ?? 500, ...(data ? { data } : {}) });
}
