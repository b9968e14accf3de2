import { DurableObject } from "cloudflare:workers";
import type { CloudEvent } from "../core/cloudevents/event.js";
import { attempt } from "../core/delivery/attempt.js";
import type { AttemptSpec, DeliveryMessage, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import { withObjects } from "../core/addressables.js";
import { maxEventBytes } from "../core/limits.js";
import type { DispatcherPlan, PlanBinding, RoutePlan } from "../core/resources/plan.js";
import type { Env } from "../functions/env.js";
import type { KReference } from "../core/resources/types.js";
import { log } from "../core/log.js";
import { traceFields } from "../core/cloudevents/trace.js";
import { AlarmClock } from "./alarm.js";
import { Counters, COUNTER_SCHEMA, type DropRecord } from "./counters.js";
import { GroupCommit } from "./group-commit.js";
import { Ledger, ledgerOptions, type LedgerHost } from "./ledger/machine.js";
import { Outbox, outboxOptions } from "./ledger/outbox.js";
import { LEDGER_MIGRATIONS, LEDGER_SCHEMA } from "./ledger/schema.js";
import { SqlLedgerStore } from "./ledger/sql-store.js";
import type { DeliveryRow, StoredEvent } from "./ledger/store.js";
import { deliverInternal } from "./objects.js";
import { DEAD_LETTER_SCHEMA, DeadLetters, DEFAULT_DEAD_LETTER_RETENTION_MS, type DeadLetterEntry } from "./deadletters.js";
import { Tail } from "./tail.js";
import { EventTypeReporter, EVENT_TYPES_SCHEMA } from "./eventtype-reporter.js";
import { Archive } from "./archive.js";
import { Replayer, type ReplayReport } from "./replayer.js";
import type { ReplayPlan } from "../core/resources/plan.js";
import type { DeadLetterFailure, TailOutcome } from "./ledger/machine.js";
import { MAX_BROKER_TTL } from "../core/broker/ttl.js";
import { SenderGuard, stampingQueue, withDeliveryAuth } from "./sender.js";
import type { Sender } from "../core/identity/policy.js";
import { deliverySigner } from "./delivery-signer.js";
import { Sql } from "./sql.js";

export type PublishResult = { ok: true; accepted: number } | { ok: false; status: 404 } | { ok: false; status: 403; message: string };

export interface DispatcherStats {
  counters: Record<string, number>;
  pending: number;
  recentDrops: DropRecord[];
  /** Most of the object's own delivery attempts it had out at once (at most six, the platform's limit). */
  connectionsHighWater: number;
  /** Storage flushes of the data path and the calls they carried, since the object started. */
  groupCommit: { flushes: number; writes: number };
  /** How many partitions stand behind the address (this object is one of them). */
  partitionCount: number;
}

/**
 * What Brokers and Channels share: a plan from the control plane (their routes), a ledger that
 * stores and delivers events with retries, dead letters and replies, and counters of everything
 * dropped. Subclasses decide which routes an event takes and where a reply goes.
 *
 * Lifecycle: `configure` (from the control plane) → `publish` (ingress: store, answer, then make
 * the first attempts from here) → `settle` (outcomes of the attempts queue consumers made) →
 * `alarm` (what is due, or was dispatched and never settled, or died with the previous incarnation).
 */
export abstract class Dispatcher extends DurableObject<Env> implements LedgerHost {
  protected readonly db: Sql;
  protected readonly counters: Counters;
  protected readonly ledger: Ledger;
  protected readonly clock: AlarmClock;
  /** Every write of the data path goes through here, so concurrent calls share one storage flush. */
  protected readonly commits: GroupCommit;
  protected readonly outbox: Outbox;
  /** Events kept when no dead-letter sink took them (index here, bodies in R2). */
  protected readonly deadLetters: DeadLetters;
  protected readonly tail: Tail;
  /** Every accepted event, written to R2 behind the ledger when the owner archives (archive.ts). */
  protected readonly archive: Archive;
  protected readonly replayer: Replayer;
  protected plan: DispatcherPlan | null = null;
  private version = 0;
  protected routes = new Map<string, RoutePlan>();
  private soonAt: number | null = null;
  private soonTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly eventTypes: EventTypeReporter;

  protected abstract readonly binding: PlanBinding;
  private readonly store: SqlLedgerStore;
  private readonly senders: SenderGuard;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql);
    this.createSchema();
    this.deadLetters = new DeadLetters(this.db, env.ARCHIVE, () => this.owner.name);
    this.tail = new Tail(ctx);
    this.counters = new Counters(this.db, () => this.owner.name);
    this.clock = new AlarmClock(ctx.storage);
    this.archive = new Archive(this.db, env.ARCHIVE, () => this.owner.name, (at) => this.clock.wakeAt(at));
    this.commits = new GroupCommit(ctx.storage, () => this.counters.flush(), () => this.ledger.forgetRows());
    this.store = new SqlLedgerStore(this.db);
    this.senders = new SenderGuard(env);
    // Queue consumers have no plan: each message carries who sends it.
    const stamp = (m: DeliveryMessage) => this.withAuth(m);
    this.outbox = new Outbox({
      queues: { delivery: stampingQueue(env.DELIVERY_QUEUE, stamp), deadLetter: stampingQueue(env.DEAD_LETTER_QUEUE, stamp) },
      owner: () => this.owner.name,
      attempt: (spec, event) => this.attempt(spec, event),
      settle: (o) => this.settleOwn(o),
      requeue: (items) => this.ledger.retrySoon(items, Date.now()),
    }, outboxOptions(env));
    const timer = { wakeAt: (at: number) => this.clock.wakeAt(at), soon: (at: number) => this.soon(at) };
    this.ledger = new Ledger(this.store, this.outbox, timer, this, this.counters, ledgerOptions(env));
    this.replayer = new Replayer(this.db, this.archive, {
      partition: () => this.partitionIndex(),
      replayRoutes: (event, only) => this.replayRoutes(event, only),
      commit: (uid, write) => this.commits.run(() => write((ev, ttl, routes) => {
        this.ledger.record(ev, ttl, routes, Date.now(), false, uid);
        this.counters.add("replayed");
      })),
      unsettled: (uid) => this.db.one("SELECT 1 AS x FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.replay = ? LIMIT 1", uid) !== undefined,
      pendingDeliveries: () => this.ledger.pending(),
      report: (plan, report) => this.reportReplay(plan, report),
      wakeAt: (at) => this.clock.wakeAt(at),
    });
    this.eventTypes = new EventTypeReporter(this.db, env, () => this.owner.name);
    const saved = this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'plan'");
    void ctx.blockConcurrencyWhile(async () => {
      if (saved) {
        const { plan, version } = JSON.parse(saved.value) as { plan: DispatcherPlan | null; version: number };
        this.apply(plan, version);
      }
      await this.clock.init();
      this.ledger.init(Date.now());
      // A previous incarnation may have died before writing its archive batch or finishing a replay.
      if (this.archive.hasWaiting()) this.clock.wakeAt(Date.now() + 1000);
      if (this.replayer.busy()) this.replayer.kick(0);
    });
  }

  get owner(): OwnerRef {
    return { binding: this.binding, name: this.plan?.key ?? "(unconfigured)" };
  }

  get namespace(): string {
    return this.plan?.namespace ?? "";
  }

  route(uid: string): RoutePlan | undefined {
    return this.routes.get(uid);
  }

  allRoutes(): Iterable<RoutePlan> {
    return this.routes.values();
  }

  /** One in-memory timer at the earliest time asked for; the ledger's waits stay in storage regardless. */
  private soon(at: number): void {
    if (this.soonAt !== null && this.soonAt <= at) return;
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.soonAt = at;
    this.soonTimer = setTimeout(() => {
      this.soonAt = null;
      this.soonTimer = undefined;
      void this.commits.run(() => this.ledger.tick(Date.now())).catch(() => {});
    }, Math.max(0, at - Date.now()));
  }

  /** Takes this object's current routes from the control plane; stale versions are ignored. */
  async configure(plan: DispatcherPlan | null, version: number): Promise<void> {
    if (version < this.version) return;
    if (this.plan !== null && plan === null) await this.forget(`${this.plan.kind.toLowerCase()}-deleted`);
    this.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('plan', ?)", JSON.stringify({ plan, version }));
    this.apply(plan, version);
  }

  /**
   * The owner was deleted: what is pending is dropped (each drop logged), then every table and the
   * alarm go, so an object created again under the same name starts from nothing.
   */
  private async forget(reason: string): Promise<void> {
    this.ledger.dropAll(reason, Date.now());
    this.counters.flush();
    // The archive goes with its owner: no Replay can name a deleted Broker or Channel.
    await this.archive.purge().catch((e) => log.error("archive: could not delete the archive of a deleted owner", { owner: this.owner.name, error: String(e) }));
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.clock.fired();
    this.createSchema();
    this.eventTypes.load(); // nothing reported any more: the tables are new
  }

  /** Every table of the object, under versioned migrations (after a wipe too). */
  protected createSchema(): void {
    this.db.migrate([[...LEDGER_SCHEMA, ...COUNTER_SCHEMA, "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL)"], ...LEDGER_MIGRATIONS]);
    this.db.run(EVENT_TYPES_SCHEMA);
    for (const stmt of DEAD_LETTER_SCHEMA) this.db.run(stmt);
  }

  // --- dead letters and the live tail (see deadletters.ts and tail.ts) -------------------------

  get watching(): boolean {
    return this.tail.watching;
  }

  onOutcome(row: DeliveryRow, eventId: string, outcome: TailOutcome, status: number | undefined): void {
    this.tail.delivery(row.route, {
      eventId, route: this.routes.get(row.route)?.name ?? row.route, hop: row.hop, outcome, attempt: row.attempt + 1, ...(status !== undefined ? { status } : {}),
    });
  }

  keepDeadLetter(row: DeliveryRow, event: CloudEvent, f: DeadLetterFailure, now: number): boolean {
    if (this.deadLetterRetention() <= 0) return false;
    const name = this.routes.get(row.route)?.name ?? row.route;
    this.deadLetters.keep(event, { uid: row.route, name }, f.status, f.reason, f.detail, f.attempts, now, row.redrive_of ?? undefined);
    this.flushDeadLetters();
    return true;
  }

  redriveDone(entryId: string): void {
    this.deadLetters.remove(entryId);
    this.flushDeadLetters();
  }

  /** `eddy.dev/deadletter-retention` of the owner; 0 turns keeping off (drops, as before). */
  private deadLetterRetention(): number {
    const ms = this.plan?.options?.deadLetterRetentionMs;
    return typeof ms === "number" ? ms : DEFAULT_DEAD_LETTER_RETENTION_MS;
  }

  private flushDeadLetters(): void {
    // After this turn's commit; the alarm is the backstop if the object dies first.
    setTimeout(() => void this.deadLetters.flush(), 0);
    this.clock.wakeAt(Date.now() + 60_000);
  }

  async deadLetterList(route?: string): Promise<DeadLetterEntry[] | null> {
    if (!this.plan) return null;
    return this.deadLetters.list(route ? { route } : {});
  }

  async deadLetterGet(id: string): Promise<(DeadLetterEntry & { event: unknown }) | null | undefined> {
    if (!this.plan) return null;
    return this.deadLetters.get(id);
  }

  /** Delivers kept dead letters again to their route as it is now; each entry goes once delivered. */
  async deadLetterRedrive(sel: { ids?: string[]; route?: string; all?: boolean }): Promise<{ redriven: number; skipped: string[] } | null> {
    if (!this.plan) return null;
    const picked = this.deadLetters.select(sel);
    const skipped: string[] = [];
    const ready: { id: string; route: string; event: CloudEvent }[] = [];
    for (const p of picked) {
      const event = this.routes.has(p.route) ? await this.deadLetters.event(p.id) : undefined;
      if (event) ready.push({ ...p, event });
      else skipped.push(p.id);
    }
    await this.commits.run(() => {
      for (const r of ready) this.ledger.redrive(r.event, MAX_BROKER_TTL, r.route, r.id, Date.now());
    });
    return { redriven: ready.length, skipped };
  }

  async deadLetterPurge(id: string): Promise<boolean | null> {
    if (!this.plan) return null;
    const gone = this.deadLetters.remove(id);
    await this.deadLetters.flush();
    return gone;
  }

  /** WebSocket upgrades for the live tail (`?route=<uid>` limits it to one route's deliveries). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    if (!this.plan) return new Response("not found", { status: 404 });
    return this.tail.accept(new URL(request.url).searchParams.get("route") ?? undefined);
  }

  override async webSocketMessage(): Promise<void> {
    // The tail only talks; what a watcher sends is ignored.
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.tail.closed();
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // already closed
    }
  }

  override async webSocketError(): Promise<void> {
    this.tail.closed();
  }

  /**
   * Stores the events with their deliveries; resolves once that is durable. `sender` (from the
   * ingress or another object's delivery) is authorized first: refused means nothing is stored.
   */
  async publish(events: CloudEvent[], sender?: Sender): Promise<PublishResult> {
    if (!this.plan) return { ok: false, status: 404 };
    const refused = this.senders.refuse(events, sender);
    if (refused) {
      this.counters.add("rejected.403", events.length);
      return { ok: false, status: 403, message: refused };
    }
    return this.commits.run((): PublishResult => {
      if (!this.plan) return { ok: false, status: 404 }; // deleted while the call waited for the flush
      const now = Date.now();
      const archive = this.archiving();
      for (const ev of events) {
        if (this.tail.watching) this.tail.event(ev, this.partitionIndex());
        this.accept(ev, now, archive);
        this.observe(ev);
      }
      this.counters.add("accepted", events.length);
      if (archive) this.archive.accepted(events.length, now);
      return { ok: true as const, accepted: events.length };
    });
  }

  /** Outcomes of delivery attempts, from the queue consumers. */
  async settle(outcomes: DeliveryOutcome[]): Promise<void> {
    await this.commits.run(() => this.ledger.settle(outcomes, Date.now()));
  }

  private ownOutcomes: DeliveryOutcome[] = [];
  private settleQueued = false;

  /**
   * Outcomes of the object's own attempts are settled together, in one job per group commit, so
   * the ledger looks for due rows once per flush rather than once per outcome.
   */
  private settleOwn(o: DeliveryOutcome): void {
    this.ownOutcomes.push(o);
    if (this.settleQueued) return;
    this.settleQueued = true;
    void this.commits.run(() => {
      this.settleQueued = false;
      const outcomes = this.ownOutcomes;
      this.ownOutcomes = [];
      this.ledger.settle(outcomes, Date.now());
    }).catch(() => {
      // Outcomes the failed flush never took wait for the next one.
      this.settleQueued = false;
    });
  }

  /** How many partitions stand behind this object's address; null when it is not configured. */
  async partitions(): Promise<number | null> {
    return this.plan ? this.partitionCount() : null;
  }

  private partitionCount(): number {
    const n = Number(this.plan?.options?.partitions ?? 1);
    return Number.isInteger(n) && n > 0 ? n : 1;
  }

  /** The event for a delivery whose queue message could not carry it; null when already settled. */
  async loadEvent(id: number, gen: number): Promise<CloudEvent | null> {
    return this.ledger.eventFor(id, gen);
  }

  async stats(): Promise<DispatcherStats | null> {
    if (!this.plan) return null;
    return {
      counters: this.counters.snapshot(), pending: this.ledger.pending(), recentDrops: this.counters.recentDrops(),
      connectionsHighWater: this.outbox.stats().connectionsHighWater,
      groupCommit: { flushes: this.commits.flushes, writes: this.commits.jobsRun },
      partitionCount: this.partitionCount(),
    };
  }

  override async alarm(): Promise<void> {
    this.clock.fired();
    const now = Date.now();
    this.ledger.alarm(now);
    await this.outbox.flush();
    await this.sweepDeadLetters(now);
    if (this.archive.hasWaiting()) await this.archive.flush();
    // After the annotation is removed, what was archived still expires after the retention it had.
    const retention = this.archiveRetention() ?? Number(this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'archiveRetention'")?.value ?? 0);
    if (retention) await this.archive.sweep(now, retention);
    if (this.replayer.busy()) await this.replayer.step(now);
  }

  // --- archive and replay (see archive.ts and replayer.ts) --------------------------------------

  /** `eddy.dev/archive-retention` of the owner, in ms; undefined when it does not archive. */
  private archiveRetention(): number | undefined {
    const ms = this.plan?.options?.archiveRetentionMs;
    return typeof ms === "number" && ms > 0 ? ms : undefined;
  }

  private archiving(): boolean {
    return this.archiveRetention() !== undefined && this.archive.available;
  }

  private partitionIndex(): number {
    return Number(this.plan?.options?.partition ?? 0);
  }

  /** The routes a replayed event takes: those it would take now (subclasses decide), within `only`. */
  protected abstract replayRoutes(event: CloudEvent, only: string[] | undefined): string[];

  private async reportReplay(plan: ReplayPlan, report: ReplayReport): Promise<void> {
    const ns = this.env.NAMESPACE.get(this.env.NAMESPACE.idFromName(this.namespace));
    await ns.replayProgress(this.namespace, plan.uid, report);
  }

  /** Moves kept bodies to R2 and forgets entries past their retention. */
  protected async sweepDeadLetters(now: number): Promise<void> {
    const retention = this.deadLetterRetention();
    if (retention > 0) this.deadLetters.sweep(now, retention);
    await this.deadLetters.flush();
    const oldest = this.deadLetters.oldest();
    if (oldest !== undefined) this.clock.wakeAt(Math.max(now + 1000, oldest + retention));
    if (this.deadLetters.unflushed) this.clock.wakeAt(now + 5000);
  }

  /** One attempt made by this object: an RPC to an object of this system, or an HTTP request. */
  private attempt(plain: AttemptSpec & { object?: OwnerRef }, event: CloudEvent): Promise<DeliveryOutcome> {
    const spec = this.withAuth(plain);
    if (spec.internal && spec.object) return deliverInternal(this.env, spec.object, spec, event);
    return attempt(spec, event, { maxReplyBytes: maxEventBytes(this.env), sign: deliverySigner(this.env) });
  }

  /** The spec with its route's sender identity, audience and signing secret. */
  private withAuth<T extends AttemptSpec>(spec: T): T {
    // Dispatches name their route; reading the row is only for a spec that does not.
    const route = spec.route ?? this.store.delivery(spec.id)?.route;
    return withDeliveryAuth(spec, route !== undefined ? this.routes.get(route) : undefined);
  }

  /**
   * Routes one incoming event (store it with its deliveries, or drop it with a reason); with
   * `archive`, the event is stored for the archive whatever its routes.
   */
  protected abstract accept(ev: CloudEvent, now: number, archive: boolean): void;

  abstract onReply(row: DeliveryRow, original: StoredEvent, reply: CloudEvent, now: number): void;

  /** Called after the routes changed, e.g. to compile filters. */
  protected onPlan(): void {}

  /**
   * Reports a (type, source) pair the first time it is seen, so the control plane can create its
   * EventType (eventtype-reporter.ts). Brokers also call it for replies, which re-enter without `publish`.
   */
  protected observe(ev: CloudEvent): void {
    this.eventTypes.observe(ev, this.plan?.options?.eventTypes as KReference | undefined, this.namespace);
  }

  protected dropEvent(ev: CloudEvent, reason: string, detail: string, now: number): void {
    this.counters.drop(reason, {
      id: String(ev.attrs.id ?? ""), source: String(ev.attrs.source ?? ""), type: String(ev.attrs.type ?? ""), route: "", detail, ...traceFields(ev),
    }, now);
  }

  private apply(plan: DispatcherPlan | null, version: number): void {
    this.plan = plan;
    this.version = version;
    this.routes = new Map((plan?.routes ?? []).map((r) => [r.uid, withObjects(r)]));
    this.senders.configure(plan);
    this.onPlan();
    this.archive.resetSweep();
    const retention = this.archiveRetention();
    if (retention) this.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('archiveRetention', ?)", String(retention));
    this.replayer.configure(plan?.replays ?? [], Date.now());
  }
}
