// An in-memory LedgerStore and CounterStore with SQLite's transaction semantics (nested savepoints,
// rollback) and injectable faults, and recording fakes of the ledger's other collaborators, so the
// state machine (durable-objects/ledger/machine.ts) can be driven, with the real group commit and
// counters, in plain Node.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import type { RoutePlan } from "../../core/resources/plan.js";
import { decodeDels, decodeEvents, decodeSettled, encodeDels, encodeEvents, encodeSettled, type BatchEvent, type BatchSummary, type NewBatch } from "../../durable-objects/ledger/batch.js";
import { Ledger, type Delivery, type Dispatch, type LedgerHost, type Transport } from "../../durable-objects/ledger/machine.js";
import type { DeliveryRow, LedgerStore, RowPatch } from "../../durable-objects/ledger/store.js";
import { Counters, type CounterStore, type DropRecord } from "../../durable-objects/counters.js";
import { Effects, GroupCommit } from "../../durable-objects/group-commit.js";

interface StoredBatch { id: number; dels: string; events: string; data: Uint8Array | null; archive: number; replay: string | null; settled: string; counts: string | null }

interface Tables {
  meta: { epoch: number; next_id: number } | null;
  batches: Map<number, StoredBatch>;
  rows: Map<number, DeliveryRow>;
  totals: string | null;
  drops: DropRecord[];
}

function copy(t: Tables): Tables {
  return {
    meta: t.meta ? { ...t.meta } : null, batches: new Map([...t.batches].map(([k, v]) => [k, { ...v }])),
    rows: new Map([...t.rows].map(([k, v]) => [k, { ...v, event: { ...v.event }, reply: v.reply ? { ...v.reply } : null }])),
    totals: t.totals, drops: [...t.drops],
  };
}

/** SQLite as the ledger sees it, in memory: every write may be made to fail (`fault`), and transactions nest. */
export class MemoryDb {
  t: Tables = { meta: null, batches: new Map(), rows: new Map(), totals: null, drops: [] };
  private stack: Tables[] = [];
  /** Rows written, counted as SQLite does (an insert or delete of a row is one; the bench reads the real one). */
  rowsWritten = 0;
  /** Asked before each write: true makes it throw (a storage fault). */
  fault: () => boolean = () => false;

  transactionSync<T>(fn: () => T): T {
    this.stack.push(copy(this.t));
    const written = this.rowsWritten;
    try {
      const r = fn();
      this.stack.pop();
      return r;
    } catch (e) {
      this.t = this.stack.pop()!;
      this.rowsWritten = written;
      throw e;
    }
  }

  write(n = 1): void {
    if (this.fault()) throw new Error("injected storage fault");
    this.rowsWritten += n;
  }
}

export class MemoryStore implements LedgerStore {
  constructor(readonly db: MemoryDb = new MemoryDb()) {}

  private get t(): Tables {
    return this.db.t;
  }

  begin(block: number): { epoch: number; from: number; to: number } {
    this.db.write();
    const m = this.t.meta ?? { epoch: 0, next_id: 1 };
    this.t.meta = { epoch: m.epoch + 1, next_id: m.next_id + block };
    return { epoch: m.epoch + 1, from: m.next_id, to: m.next_id + block };
  }
  reserve(to: number): void {
    this.db.write();
    if (this.t.meta && this.t.meta.next_id < to) this.t.meta.next_id = to;
  }
  insertBatch(b: NewBatch, archive: boolean): void {
    this.db.write();
    const { events, data } = encodeEvents(b.events);
    this.t.batches.set(b.id, {
      id: b.id, dels: encodeDels(b.dels), events, data: data ? data.slice() : null, archive: archive ? 1 : 0, replay: b.replay ?? null,
      settled: encodeSettled(b.settled), counts: b.counts && Object.keys(b.counts).length ? JSON.stringify(b.counts) : null,
    });
  }
  private summary(b: StoredBatch): BatchSummary {
    return { id: b.id, dels: decodeDels(b.dels), settled: decodeSettled(b.settled), archive: b.archive === 1, replay: b.replay, counts: b.counts ? JSON.parse(b.counts) : null };
  }
  batches(): BatchSummary[] {
    return [...this.t.batches.values()].sort((a, b) => a.id - b.id).map((b) => this.summary(b));
  }
  batch(id: number): { events: BatchEvent[]; summary: BatchSummary } | undefined {
    const b = this.t.batches.get(id);
    return b ? { events: decodeEvents(b.events, b.data), summary: this.summary(b) } : undefined;
  }
  setSettled(id: number, settled: Iterable<number>): void {
    this.db.write();
    const b = this.t.batches.get(id);
    if (b) b.settled = encodeSettled(settled);
  }
  setArchived(id: number): void {
    this.db.write();
    const b = this.t.batches.get(id);
    if (b) b.archive = 0;
  }
  deleteBatch(id: number): void {
    this.db.write();
    this.t.batches.delete(id);
  }
  archiveWaiting(limit: number): { id: number; events: BatchEvent[] }[] {
    return [...this.t.batches.values()].filter((b) => b.archive === 1).sort((a, b) => a.id - b.id).slice(0, limit)
      .map((b) => ({ id: b.id, events: decodeEvents(b.events, b.data) }));
  }
  insertRow(r: DeliveryRow): void {
    this.db.write();
    const { id, event, reply, route, hop, attempt, due_at, leased, error, order_key, blocked, throttles, redrive_of } = r;
    this.t.rows.set(id, { id, event: { ...event }, reply: reply ? { ...reply } : null, route, hop, attempt, due_at, leased, error, order_key, blocked, throttles, redrive_of });
  }
  row(id: number): DeliveryRow | undefined {
    const r = this.t.rows.get(id);
    return r ? { ...r } : undefined;
  }
  update(id: number, patch: RowPatch): void {
    this.db.write();
    const r = this.t.rows.get(id);
    if (r) Object.assign(r, patch);
  }
  deleteRow(id: number): void {
    this.db.write();
    this.t.rows.delete(id);
  }
  due(now: number, limit: number, hold: string[]): DeliveryRow[] {
    return [...this.t.rows.values()]
      .filter((r) => r.leased === 0 && r.blocked === 0 && r.due_at <= now && !(r.hop === "subscriber" && hold.includes(r.route)))
      .sort((a, b) => a.due_at - b.due_at).slice(0, limit).map((r) => ({ ...r }));
  }
  nextBlocked(route: string, key: string): DeliveryRow | undefined {
    const r = [...this.t.rows.values()].filter((x) => x.route === route && x.order_key === key && x.blocked === 1).sort((a, b) => a.id - b.id)[0];
    return r ? { ...r } : undefined;
  }
  rows(): DeliveryRow[] {
    return [...this.t.rows.values()].sort((a, b) => a.id - b.id).map((r) => ({ ...r }));
  }
  rowCount(): number {
    return this.t.rows.size;
  }
  nextDue(now: number): number | undefined {
    const d = [...this.t.rows.values()].filter((r) => r.leased === 0 && r.blocked === 0 && r.due_at > now).map((r) => r.due_at);
    return d.length ? Math.min(...d) : undefined;
  }
  unleaseAll(now: number): number {
    let n = 0;
    for (const r of this.t.rows.values()) {
      if (r.leased !== 1) continue;
      this.db.write();
      r.leased = 0;
      r.due_at = now;
      n++;
    }
    return n;
  }
  wipe(): void {
    this.db.write();
    this.t.batches.clear();
    this.t.rows.clear();
  }
}

export class MemoryCounterStore implements CounterStore {
  constructor(readonly db: MemoryDb) {}
  totals(): Record<string, number> {
    return this.db.t.totals ? JSON.parse(this.db.t.totals) : {};
  }
  writeTotals(totals: Record<string, number>): void {
    this.db.write();
    this.db.t.totals = JSON.stringify(totals);
  }
  insertDrop(d: DropRecord): void {
    this.db.write();
    this.db.t.drops.push(d);
  }
  trimDrops(keep: number): void {
    this.db.t.drops = this.db.t.drops.slice(-keep);
  }
  recentDrops(limit: number): DropRecord[] {
    return this.db.t.drops.slice(-limit).reverse();
  }
}

/** Records what the ledger sends; sends happen only once their flush committed (the real group commit says when). */
export class FakeTransport implements Transport {
  sent: Dispatch[] = [];
  room = 6;
  running = new Set<number>();
  /** Called as each dispatch leaves (after its commit): tests check what storage holds then. */
  onSend: (d: Dispatch) => void = () => {};
  constructor(private readonly after: (fn: () => void) => void = (fn) => fn()) {}
  hasLocalRoom(): boolean {
    return this.running.size < this.room;
  }
  send(d: Dispatch): void {
    if (d.local) this.running.add(d.msg.id);
    this.after(() => {
      this.onSend(d);
      this.sent.push(d);
    });
  }
  /** Takes the dispatches sent so far. */
  take(): Dispatch[] {
    const out = this.sent;
    this.sent = [];
    return out;
  }
  /** The outcome of a dispatch, as the transport would report it. */
  outcome(d: Dispatch, o: Partial<DeliveryOutcome> = {}): DeliveryOutcome {
    this.running.delete(d.msg.id);
    return { id: d.msg.id, gen: d.msg.gen, ok: true, status: 202, ...o };
  }
}

export function route(uid: string, extra: Partial<RoutePlan> = {}): RoutePlan {
  return {
    uid, kind: "Trigger", name: uid, subscriber: { url: `http://sink.test/${uid}` },
    policy: { retry: 2, backoffPolicy: "exponential", backoffDelayMs: 2000, timeoutMs: 10_000, format: "binary" }, ...extra,
  };
}

/**
 * A ledger with the real group commit and counters over the in-memory store. `run` submits a job
 * and flushes it at once (the real group commit, timers faked away), resolving to its result.
 */
export function ledgerFixture(routes: RoutePlan[], opts: { maxInFlight?: number; db?: MemoryDb; keep?: boolean; now?: number } = {}) {
  const clock = { now: opts.now ?? 1_000_000 };
  const db = opts.db ?? new MemoryDb();
  const store = new MemoryStore(db);
  const effects = new Effects();
  const transport = new FakeTransport((fn) => effects.after(fn));
  const wakes: number[] = [];
  const soons: number[] = [];
  const replies: { d: Delivery; reply: CloudEvent }[] = [];
  const kept: { d: Delivery; event: CloudEvent; reason: string }[] = [];
  const byUid = new Map(routes.map((r) => [r.uid, r]));
  const commits = new GroupCommit(db);
  const counters = new Counters(new MemoryCounterStore(db), () => "ns/b", () => db.rowsWritten, (job) => run(job));
  const host: LedgerHost = {
    owner: { binding: "BROKER", name: "ns/b" },
    namespace: "ns",
    route: (uid) => byUid.get(uid),
    allRoutes: () => byUid.values(),
    // As a Channel does: a Subscription with a reply destination forwards the reply as a second hop.
    onReply: (d, orig, reply, now) => {
      replies.push({ d, reply });
      if (byUid.get(d.route)?.reply) ledger.recordReply(d, reply, orig.ttl, now);
    },
    ...(opts.keep ? { keepDeadLetter: (d: Delivery, event: CloudEvent, f: { reason: string }) => (kept.push({ d, event, reason: f.reason }), true) } : {}),
  };
  const timer = { wakeAt: (at: number) => void wakes.push(at), soon: (at: number) => void soons.push(at) };
  let restarts = 0;
  const ledger: Ledger = new Ledger(store, transport, timer, host, counters, { leaseSlackMs: 1000, maxInFlight: opts.maxInFlight ?? 100, queueLeaseMs: 60_000 }, () => {
    restarts++;
  }, () => clock.now);
  commits.join(ledger);
  commits.join(counters);
  commits.join(effects);
  /** Submits a job and runs the flush now; resolves (or rejects) as the real one would. */
  function run<T>(job: () => T): Promise<T> {
    const p = commits.run(job);
    flushNow(commits);
    return p;
  }
  // A start that fails rolls back and asks for a restart (the `restarts` count says so).
  void run(() => ledger.start(clock.now)).catch(() => {});
  /** Runs `fn` as one job of its own flush, now. */
  const job = (fn: () => void) => run(fn);
  return { ledger, store, db, transport, wakes, soons, counters, replies, kept, routes: byUid, commits, run, job, clock, restarts: () => restarts };
}

/** Runs the group commit's pending flush synchronously (its timer is not waited for). */
export function flushNow(commits: GroupCommit): void {
  commits.flushNow();
}

export function ev(id: string, extra: Record<string, string> = {}): CloudEvent {
  return { attrs: { specversion: "1.0", id, source: "/s", type: "t", ...extra }, data: new TextEncoder().encode(`{"id":"${id}"}`) };
}
