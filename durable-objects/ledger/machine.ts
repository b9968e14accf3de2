import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import { log } from "../../core/log.js";
import { inheritTrace } from "../../core/cloudevents/trace.js";
import type { BatchDelivery } from "./batch.js";
import { addEvent, endFlush, storedEvent } from "./batches.js";
import { Chains } from "./chains.js";
import { RouteGate } from "./gate.js";
import type { Claim, ClaimAnswer, Delivery, LedgerCounters, LedgerHost, LedgerOptions, StoredEvent, Timer, Transport } from "./contract.js";
import { Ids, LOCAL_RECOVERY_MS, type LedgerState, type Rec } from "./state.js";
import { admit, finish, leaveChain, observe, pump, READY_MAX, recOfDel, recOfRow, type ChainMember } from "./dispatch.js";
import { alarm, claim, dropDeleted, requeue } from "./leases.js";
import { fail } from "./failure.js";
import { clear, dropAll, start } from "./recover.js";
import type { LedgerStore } from "./store.js";

export * from "./contract.js";
export { LOCAL_RECOVERY_MS };

/** Work a job staged, with the time it was asked for. */
interface Op {
  at: number;
  run: (now: number) => void;
}

/**
 * The state machine of every pending delivery of one Durable Object. A delivery is on its *first
 * attempt* (recorded only by the batch row of the flush that accepted its event), *waiting* in a
 * row of its own (a retry's backoff, a hold, an ordered chain, its dead-letter hop), or *out*
 * (an attempt under dispatch generation `gen`, made by the object itself or by a queue consumer,
 * its lease in memory). Outcomes settle it: success removes it (a reply re-enters through the
 * host), a retriable failure makes it wait for its backoff, a final failure turns it into a
 * dead-letter hop or keeps or drops it. A delivery leaves the ledger only when it was delivered,
 * dead-lettered, kept, or dropped on purpose, and a drop is always logged and counted.
 *
 * Every entry point runs inside a group commit (../group-commit.ts): a job only stages its work
 * here, so a job that throws leaves nothing behind; the flush applies what its jobs staged and
 * writes the result in one transaction, and sends nothing before that commits (the transport and
 * the timer wait for it). A flush that rolls back rebuilds memory from storage (./recover.ts).
 *
 * @example
 * const ledger = new Ledger(store, outbox, timer, host, counters, { leaseSlackMs: 30_000, maxInFlight: 1000, queueLeaseMs: 900_000 });
 * await commits.run(() => ledger.start(Date.now()));
 * await commits.run(() => ledger.record(event, 254, ["trigger-uid-1", "trigger-uid-2"], Date.now()));
 */
export class Ledger {
  private readonly s: LedgerState;
  private applying = false;
  private jobOps: Op[] | null = null;
  private flushOps: Op[] = [];
  /** Earliest alarm asked for by the flush being applied (set once it commits). */
  private wake: number | undefined;

  constructor(
    store: LedgerStore, transport: Transport, private readonly timer: Timer, host: LedgerHost, counters: LedgerCounters,
    // Also a field, the same object as `s.opts`: a test widens the window through it (test/workers/connections.test.ts).
    readonly opts: LedgerOptions,
    /** Runs `ledger.start` in a group commit of its own (after a flush that failed). */
    private readonly restart: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {
    const deferred: Timer = {
      wakeAt: (at) => (this.applying ? (this.wake = Math.min(this.wake ?? Infinity, at)) : timer.wakeAt(at)),
      soon: (at) => timer.soon(at),
    };
    this.s = {
      store, transport, timer: deferred, host, counters, opts, epoch: 0, ids: new Ids(0, 0, () => {}),
      leased: new Map(), batches: new Map(), unopened: [], ready: [], starved: true, chains: new Chains(), gate: new RouteGate(),
      building: new Map(), doomed: new Set(), dirty: new Set(), rows: 0, firstPathTotal: 0, loaded: undefined,
    };
  }

  // --- the group commit's participant hooks --------------------------------------------------

  jobStart(): void {
    this.jobOps = [];
  }

  jobEnd(ok: boolean): void {
    if (ok && this.jobOps) this.flushOps.push(...this.jobOps);
    this.jobOps = null;
  }

  /** Inside the flush's transaction, after its jobs: applies what they staged and writes the result. */
  apply(): void {
    this.applying = true;
    this.wake = undefined;
    try {
      let now = this.flushOps.length ? 0 : this.clock();
      for (const op of this.flushOps) {
        now = Math.max(now, op.at);
        op.run(op.at);
      }
      pump(this.s, now);
      endFlush(this.s);
    } finally {
      this.applying = false;
      this.flushOps = [];
    }
  }

  committed(): void {
    if (this.wake !== undefined) this.timer.wakeAt(this.wake);
    this.wake = undefined;
  }

  /** The flush rolled back: what memory holds may be ahead of storage, so it is rebuilt from it. */
  rolledBack(): void {
    this.wake = undefined;
    clear(this.s);
    log.error("a ledger flush failed and was rolled back; the ledger restarts from storage", { owner: this.s.host.owner.name });
    this.restart();
  }

  private stage(run: (now: number) => void, at: number = this.clock()): void {
    if (this.applying) run(at);
    else if (this.jobOps) this.jobOps.push({ at, run });
    else throw new Error("the ledger was called outside a group commit job; use commits.run(() => ...)");
  }

  // --- entry points ---------------------------------------------------------------------------

  /** Starts an incarnation: what storage owes is rebuilt and sent (call once when the object starts). */
  start(now: number): void {
    this.stage(() => start(this.s, now), now);
  }

  /**
   * Stores an event with one subscriber delivery per route, and sends them once the flush commits.
   * `archive`: the event also waits for the archive (with no routes, it is stored for that alone).
   * `replay`: the uid of the Replay that recorded it.
   */
  record(event: CloudEvent, ttl: number, routes: string[], now: number, archive = false, replay?: string): void {
    this.stage(() => {
      const dels = routes.map((route): Omit<BatchDelivery, "n" | "idx"> => (this.s.host.route(route)?.ordered
        ? { route, hop: "subscriber", key: String(event.attrs.partitionkey ?? "") }
        : { route, hop: "subscriber" }));
      this.add(event, ttl, dels, now, { archive, ...(replay ? { replay } : {}) });
    }, now);
  }

  /** Adds a reply-hop delivery (a Subscription forwarding its subscriber's reply); called from `onReply`. */
  recordReply(d: Delivery, reply: CloudEvent, ttl: number, now: number): void {
    this.stage(() => this.add(reply, ttl, [{ route: d.route, hop: "reply", orig: d.event, ...(d.order_key !== null ? { key: d.order_key } : {}) }], now, {}), now);
  }

  /** Delivers a kept dead letter again to its route as it is now; success removes the entry. */
  redrive(event: CloudEvent, ttl: number, route: string, entryId: string, now: number): void {
    this.stage(() => this.add(event, ttl, [{ route, hop: "subscriber", redrive: entryId }], now, {}), now);
  }

  private add(event: CloudEvent, ttl: number, dels: Omit<BatchDelivery, "n" | "idx">[], now: number, opts: { archive?: boolean; replay?: string }): void {
    const s = this.s;
    // Behind a backlog that waits in storage, new events wait there too, in order.
    const opened = s.unopened.length === 0 && s.ready.length < READY_MAX;
    const added = addEvent(s, event, ttl, now, dels, { ...opts, opened });
    if (added.dels.length) s.timer.wakeAt(now + LOCAL_RECOVERY_MS);
    if (opened) for (const del of added.dels) admit(s, recOfDel(s, added.loc.batch, del, now), event, now);
  }

  /** Applies the outcomes of delivery attempts, the object's own or reported by queue consumers. */
  settle(outcomes: DeliveryOutcome[], now: number): void {
    this.stage(() => {
      for (const o of outcomes) this.settleOne(o, now);
    }, now);
  }

  private settleOne(o: DeliveryOutcome, now: number): void {
    const s = this.s;
    const current = s.leased.get(o.id);
    if (current && current.gen === o.gen) {
      s.host.onSettled?.(current, o);
      if (o.ok) this.succeed(current, o, now);
      else fail(s, current, o, now);
      return;
    }
    // A superseded dispatch: its failure says nothing about the current one; its success is honoured.
    if (!o.ok) return;
    const rec = current ?? (() => {
      const row = s.store.row(o.id);
      return row ? recOfRow(row) : undefined;
    })();
    if (rec) this.succeed(rec, o, now);
    else s.counters.add("duplicates"); // settled already: another attempt of the same delivery got there first
  }

  private succeed(rec: Rec, o: DeliveryOutcome, now: number): void {
    const s = this.s;
    // Only live routes count as delivered: a success for a deleted route is the drop it would have been.
    if (!s.host.route(rec.route)) return dropDeleted(s, rec, now);
    if (rec.hop === "subscriber" && o.reply) {
      const original = storedEvent(s, rec.event);
      // A reply with no trace of its own continues the trace of the event it answers.
      if (original) s.host.onReply(rec, original, inheritTrace(original.event, o.reply), now);
    }
    observe(s, rec, rec.hop === "dls" ? "dead-lettered" : "delivered", o.status);
    s.counters.add(rec.hop === "dls" ? "deadLettered" : "delivered");
    if (rec.redrive_of && rec.hop !== "reply") s.host.redriveDone?.(rec.redrive_of);
    const member: ChainMember = { route: rec.route, order_key: rec.order_key, hop: rec.hop, blocked: rec.blocked };
    // A success with consequences that are stored (a reply, an ordered chain moving on, a redrive
    // entry gone) is recorded in its batch, so a restart never sends it again out of turn.
    finish(s, rec, Boolean(o.reply) || rec.order_key !== null || rec.redrive_of !== null);
    leaveChain(s, member, now);
  }

  /**
   * Whether an attempt about to be made is still the current one: "go"; "stale" (superseded: skip
   * it without an outcome); "cancel" (its route was deleted: report a failure, which drops it).
   */
  check(id: number, gen: number): "go" | "stale" | "cancel" {
    const rec = this.s.leased.get(id);
    if (!rec || rec.gen !== gen) return "stale";
    return this.s.host.route(rec.route) ? "go" : "cancel";
  }

  /**
   * A queue consumer is about to make these attempts: each is answered go (its lease now runs to
   * `until` plus the slack, with the event when the message could not carry it) or skip (another
   * dispatch replaced it, it was settled, or its route was deleted — then it is dropped here).
   */
  claim(items: Claim[], epoch: number | undefined, until: number, needEvent: boolean[], out: ClaimAnswer[]): void {
    this.stage((now) => claim(this.s, { items, epoch, until, needEvent, out }, now));
  }

  /** A queue refused these dispatches: their leases end soon, and the alarm sends them again. */
  requeue(items: Claim[], now: number): void {
    this.stage(() => requeue(this.s, items, now), now);
  }

  /** Runs when a pacing timer (`Timer.soon`) fires: routes that were waiting may send again. */
  tick(now: number = this.clock()): void {
    this.stage(() => {
      this.s.starved = true;
      pump(this.s, now);
    }, now);
  }

  /** Sends what is due and what was dispatched to the queue but never claimed; call from the object's alarm(). */
  alarm(now: number): void {
    this.stage(() => alarm(this.s, now), now);
  }

  /** The archive wrote these batches: rows nothing else needs go. */
  archived(batches: number[]): void {
    this.stage(() => {
      for (const id of batches) {
        const b = this.s.batches.get(id);
        if (!b || !b.archive) continue;
        b.archive = false;
        if (b.refs <= 0) this.s.doomed.add(id);
        else this.s.store.setArchived(id);
      }
    });
  }

  /** Drops every pending delivery (their owner was deleted). */
  dropAll(reason: string, now: number): void {
    this.stage(() => dropAll(this.s, reason, now), now);
  }

  /** Memory forgets everything (the tables were wiped); `start` comes next. */
  reset(): void {
    clear(this.s);
  }

  // --- reads ----------------------------------------------------------------------------------

  /** Attempts out now (the in-flight window's use). */
  inFlight(): number {
    return this.s.leased.size;
  }

  /** Deliveries not yet finished. */
  pending(): number {
    return this.s.firstPathTotal + this.s.rows;
  }

  /** Whether a delivery of an event this Replay recorded is still pending. */
  replayPending(uid: string): boolean {
    for (const b of this.s.batches.values()) if (b.replay === uid) return true;
    return false;
  }

  /** Batches waiting for the archive (the archive reads and writes them). */
  get store(): LedgerStore {
    return this.s.store;
  }

  get epoch(): number {
    return this.s.epoch;
  }

  loadEvent(loc: { batch: number; idx: number }): StoredEvent | undefined {
    return storedEvent(this.s, loc);
  }
}
