import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import { log } from "../../core/log.js";
import { inheritTrace, traceFields } from "../../core/cloudevents/trace.js";
import type { DeliveryRow, LedgerStore, StoredEvent } from "./store.js";
import { Chains } from "./chains.js";
import { RouteGate } from "./gate.js";
import type { LedgerCounters, LedgerHost, LedgerOptions, Timer, Transport } from "./contract.js";
import { DUE_SLACK_MS, LOCAL_RECOVERY_MS, type LedgerState } from "./state.js";
import { dispatch, drop, leaveChain, observe, payload, pump, remove, trySend } from "./dispatch.js";
import { fail } from "./failure.js";

export * from "./contract.js";
export { LOCAL_RECOVERY_MS };

/** Rows handled per alarm run, so one run stays short. */
const ALARM_BATCH = 500;

/**
 * The state machine of every pending delivery of one Durable Object. A delivery row is *waiting*
 * (no lease: due at `due_at`), or *leased* (an attempt is out under dispatch generation `gen`, made
 * by the object itself or by a queue consumer). Outcomes settle it: success removes it (a reply
 * re-enters through the host), a retriable failure makes it wait for its backoff, a final failure
 * turns it into a dead-letter hop or drops it. A lease that runs out without an outcome is sent
 * again. A delivery leaves the ledger only when it was delivered, dead-lettered, or dropped on
 * purpose, and a drop is always logged and counted.
 *
 * This class is the entry points (what the object calls) and the success path; the steps they share
 * are in ./dispatch.ts, flow control in ./flow.ts, the failure path in ./failure.ts, all working on
 * the one state object of ./state.ts.
 *
 * @example
 * const ledger = new Ledger(store, outbox, clock, host, counters, { leaseSlackMs: 30_000, maxInFlight: 1000 });
 * ledger.init(Date.now());
 * ledger.record(event, 254, ["trigger-uid-1", "trigger-uid-2"], Date.now());
 */
export class Ledger {
  private readonly s: LedgerState;

  constructor(
    store: LedgerStore, transport: Transport, timer: Timer, host: LedgerHost, counters: LedgerCounters,
    // Also a field, the same object as `s.opts`: a test widens the window through it (test/workers/connections.test.ts).
    private readonly opts: LedgerOptions,
  ) {
    this.s = {
      store, transport, timer, host, counters, opts,
      inFlight: 0, starved: true, chains: new Chains(), gate: new RouteGate(), leased: new Map(), loaded: undefined,
    };
  }

  /** Call once when the object starts: attempts it was making when it last died are due again. */
  init(now: number): void {
    const orphaned = this.s.store.expireLocalLeases(now);
    if (orphaned > 0) {
      log.info("deliveries in flight when the object stopped are sent again", { owner: this.s.host.owner.name, count: orphaned });
      this.s.timer.wakeAt(now);
    }
    this.s.inFlight = this.s.store.leasedCount();
    this.s.chains.reset(this.s.store.chainCounts());
    this.s.gate.reset(this.s.store.leasedByRoute());
  }

  /** Runs when a pacing timer (`Timer.soon`) fires: routes that were waiting may send again. */
  tick(now: number): void {
    this.s.starved = true;
    pump(this.s, now);
  }

  /**
   * Stores an event and one subscriber delivery per route, and dispatches them. Returns the event
   * seq. `archive`: the event also waits for the archive (with no routes, it is stored for that alone).
   * `replay`: the uid of the Replay that recorded it.
   */
  record(event: CloudEvent, ttl: number, routes: string[], now: number, archive = false, replay?: string): number {
    const seq = this.s.store.insertEvent(event, ttl, now, archive, replay);
    for (const route of routes) {
      // Not stored yet (id 0): dispatch stores it already leased, one write instead of two.
      const row: DeliveryRow = {
        id: 0, event_seq: seq, route, hop: "subscriber", reply_seq: null, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null,
        local: 0, order_key: null, blocked: 0, throttles: 0,
      };
      if (this.s.host.route(route)?.ordered) {
        // One at a time per key, in the order accepted: a busy chain stores this one blocked.
        row.order_key = String(event.attrs.partitionkey ?? "");
        if (this.s.chains.busy(route, row.order_key)) {
          row.blocked = 1;
          row.id = this.s.store.insertDelivery(row);
          continue;
        }
        this.s.chains.enter(route, row.order_key);
      }
      trySend(this.s, row, event, now);
    }
    return seq;
  }

  /** Adds a reply-hop delivery (a Subscription forwarding its subscriber's reply). */
  recordReply(row: DeliveryRow, reply: CloudEvent, ttl: number, now: number): void {
    const replySeq = this.s.store.insertEvent(reply, ttl, now);
    const next: DeliveryRow = {
      ...row, id: 0, hop: "reply", reply_seq: replySeq, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null, local: 0, blocked: 0, throttles: 0,
    };
    // The reply hop continues its chain: the next event of the key waits for it too.
    if (next.order_key !== null) this.s.chains.enter(next.route, next.order_key);
    trySend(this.s, next, reply, now);
  }

  /** Delivers a kept dead letter again to its route as it is now; success removes the entry. */
  redrive(event: CloudEvent, ttl: number, route: string, entryId: string, now: number): void {
    const seq = this.s.store.insertEvent(event, ttl, now);
    const row: DeliveryRow = {
      id: 0, event_seq: seq, route, hop: "subscriber", reply_seq: null, attempt: 0, due_at: now, lease_until: null, gen: 0, error: null,
      local: 0, order_key: null, blocked: 0, throttles: 0, redrive_of: entryId,
    };
    trySend(this.s, row, event, now);
  }

  /** Applies the outcomes of delivery attempts, the object's own or reported by queue consumers. */
  settle(outcomes: DeliveryOutcome[], now: number): void {
    for (const o of outcomes) {
      const row = this.takeLeased(o) ?? this.s.store.delivery(o.id);
      // Settled already: another attempt of the same delivery got there first.
      if (!row) {
        if (o.ok) this.s.counters.add("duplicates");
        continue;
      }
      if (o.ok) this.succeed(row, o, now);
      else if (o.gen === row.gen) fail(this.s, row, o, now);
      // A failure of a superseded dispatch says nothing about the current one.
    }
    pump(this.s, now);
  }

  /**
   * Storage was not written (a group commit failed): rows remembered since may not exist, so
   * outcomes read their rows from storage again.
   */
  forgetRows(): void {
    this.s.leased.clear();
    this.s.store.forget?.();
  }

  /** The remembered row of the dispatch this outcome is for, taken out. */
  private takeLeased(o: DeliveryOutcome): DeliveryRow | undefined {
    const row = this.s.leased.get(o.id);
    if (!row || row.gen !== o.gen) return undefined;
    this.s.leased.delete(o.id);
    return row;
  }

  /** The event a consumer should send for a delivery whose message did not carry it. */
  eventFor(id: number, gen: number): CloudEvent | null {
    const row = this.s.store.delivery(id);
    if (!row || row.gen !== gen) return null;
    return payload(this.s, row);
  }

  /** A queue refused these dispatches: send them again soon (they keep their lease until then). */
  retrySoon(items: { id: number; gen: number }[], now: number): void {
    const at = now + 1000;
    for (const it of items) {
      const row = this.s.store.delivery(it.id);
      if (row && row.gen === it.gen) {
        this.s.store.update(it.id, { lease_until: at });
        const kept = this.s.leased.get(it.id);
        if (kept) kept.lease_until = at;
      }
    }
    this.s.timer.wakeAt(at);
  }

  /** Sends what is due and what was dispatched but never settled; call from the object's alarm(). */
  alarm(now: number): void {
    const lapsed = this.s.store.lapsed(now, ALARM_BATCH);
    for (const row of lapsed) {
      const route = this.s.host.route(row.route);
      if (this.s.transport.isLocal(row.id)) {
        // Still running here (waiting for a connection): not lost, just slow.
        const lease = now + (route?.policy.timeoutMs ?? 60_000) + this.s.opts.leaseSlackMs;
        this.s.store.update(row.id, { lease_until: lease });
        const kept = this.s.leased.get(row.id);
        if (kept) kept.lease_until = lease;
        continue;
      }
      this.s.counters.add("redispatched");
      if (row.hop === "subscriber") this.s.gate.released(row.route);
      const event = payload(this.s, row) ?? undefined;
      log.info("delivery redispatched: its attempt was never settled", {
        owner: this.s.host.owner.name, delivery: row.id, hop: row.hop, gen: row.gen, ...(event ? traceFields(event) : {}),
      });
      dispatch(this.s, row, event, now);
    }
    this.s.starved = true;
    pump(this.s, now);
    if (lapsed.length === ALARM_BATCH) this.s.timer.wakeAt(now);
    else this.wakeAtNextDue(now);
    if (this.s.transport.localCount() > 0) this.s.timer.wakeAt(now + LOCAL_RECOVERY_MS);
  }

  /** Deliveries not yet finished. */
  pending(): number {
    return this.s.store.count();
  }

  /** Drops every pending delivery (their owner was deleted). */
  dropAll(reason: string, now: number): void {
    this.s.chains.clear();
    for (const row of this.s.store.all()) drop(this.s, { ...row, order_key: null }, reason, "", now);
    this.s.inFlight = this.s.store.leasedCount();
    this.s.gate.reset([]);
    // The owner's tables are wiped next: sequence numbers start over.
    this.forgetRows();
  }

  loadEvent(seq: number): StoredEvent | undefined {
    return this.s.store.loadEvent(seq);
  }

  private succeed(row: DeliveryRow, o: DeliveryOutcome, now: number): void {
    if (row.hop === "subscriber" && o.reply) {
      const original = this.s.store.loadEvent(row.event_seq);
      // A reply with no trace of its own continues the trace of the event it answers.
      if (original) this.s.host.onReply(row, original, inheritTrace(original.event, o.reply), now);
    }
    observe(this.s, row, row.hop === "dls" ? "dead-lettered" : "delivered", o.status);
    remove(this.s, row);
    this.s.counters.add(row.hop === "dls" ? "deadLettered" : "delivered");
    if (row.redrive_of && row.hop !== "reply") this.s.host.redriveDone?.(row.redrive_of);
    leaveChain(this.s, row, now);
  }

  private wakeAtNextDue(now: number): void {
    // Rows waiting for room in the window go out as outcomes arrive; only timed waits need the alarm.
    const { lease, due } = this.s.store.nextTimes(now + DUE_SLACK_MS);
    const next = [lease, due].filter((x): x is number => typeof x === "number");
    if (next.length) this.s.timer.wakeAt(Math.min(...next));
  }
}
