import { DurableObject } from "cloudflare:workers";
import type { CloudEvent } from "../core/cloudevents/event.js";
import type { DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import { withObjects } from "../core/addressables.js";
import { planPartition, planPartitions } from "../core/partitions.js";
import type { DispatcherPlan, PlanBinding, RoutePlan } from "../core/resources/plan.js";
import type { Env } from "./env.js";
import type { KReference } from "../core/resources/types.js";
import { log } from "../core/log.js";
import { traceFields } from "../core/cloudevents/trace.js";
import { AlarmClock } from "./alarm.js";
import { Counters, COUNTER_SCHEMA } from "./counters.js";
import { SqlCounterStore } from "./counter-store.js";
import type { DispatcherStats, PublishResult } from "./dispatcher-results.js";
import { fail, ok } from "../core/result.js";
import { Effects, GroupCommit } from "./group-commit.js";
import { Ledger, ledgerOptions, type Claim, type ClaimAnswer, type DeadLetterFailure, type Delivery, type LedgerHost, type StoredEvent, type TailOutcome } from "./ledger/machine.js";
import { Outbox, outboxOptions } from "./ledger/outbox.js";
import { Outbound } from "./outbound.js";
import { LEDGER_MIGRATIONS, LEDGER_SCHEMA } from "./ledger/schema.js";
import { SqlLedgerStore } from "./ledger/sql-store.js";
import { meteredBucket } from "./metered-bucket.js";
import { subrequestLimit } from "../core/delivery/budget.js";
import { DEAD_LETTER_SCHEMA, DeadLetters, type DeadLetterEntry } from "./deadletters.js";
import { DeadLetterKeeper } from "./deadletter-keeper.js";
import { Tail } from "./tail.js";
import { EventTypeReporter, EVENT_TYPES_SCHEMA } from "./eventtype-reporter.js";
import { ArchiveReplay } from "./archive-replay.js";
import { SenderGuard } from "./sender.js";
import type { Sender } from "../core/identity/policy.js";
import { ownAttempt, ownAttemptOptions } from "./delivery-signer.js";
import { Deadlines } from "../core/delivery/deadlines.js";
import { placedOwner } from "./objects.js";
import { Meter, Sql } from "./sql.js";

export type { DispatcherStats, PublishResult } from "./dispatcher-results.js";

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
  /** How attempts leave the object; built with the rest of the sending side (outbound.ts). */
  protected readonly outbox: Outbox;
  /** Events kept when no dead-letter sink took them (index here, bodies in R2; deadletter-keeper.ts). */
  protected readonly keeper: DeadLetterKeeper;
  protected readonly tail: Tail;
  /** Every accepted event, written to R2 behind the ledger when the owner archives, and the Replays that read it (archive-replay.ts). */
  protected readonly archive: ArchiveReplay;
  protected plan: DispatcherPlan | null = null;
  private version = 0;
  protected routes = new Map<string, RoutePlan>();
  private readonly eventTypes: EventTypeReporter;

  protected abstract readonly binding: PlanBinding;
  private readonly senders: SenderGuard;

  /** What the object spends of what Cloudflare bills (rows, alarms, requests, queue and R2 operations). */
  protected readonly meter = new Meter();
  /** Sends, alarms and tail messages wait for the flush that records them. */
  protected readonly effects = new Effects();
  private readonly outbound: Outbound;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql, this.meter);
    // An object that was never configured stores nothing: its tables come with its first plan.
    const fresh = !this.db.stored;
    if (!fresh) this.createSchema();
    this.tail = new Tail(ctx);
    this.clock = new AlarmClock(ctx.storage);
    this.commits = new GroupCommit(ctx.storage);
    this.counters = new Counters(new SqlCounterStore(this.db), () => this.owner.name, () => this.meter.rowsWritten, (job) => this.commits.run(job));
    const store = new SqlLedgerStore(this.db);
    this.senders = new SenderGuard(env);
    // Made once: the reply limit, the signer, and one deadline timer for every attempt of the object.
    const attemptOptions = ownAttemptOptions(env, new Deadlines());
    this.outbound = new Outbound({
      queues: { delivery: env.DELIVERY_QUEUE, deadLetter: env.DEAD_LETTER_QUEUE }, options: outboxOptions(env), owner: () => this.owner.name,
      clock: this.clock, commits: this.commits, effects: this.effects, ledger: () => this.ledger, route: (uid) => this.route(uid),
      attempt: (spec, event) => ownAttempt(env, spec, event, attemptOptions), subrequests: subrequestLimit(env), meter: this.meter,
    });
    this.outbox = this.outbound.outbox;
    this.ledger = new Ledger(store, this.outbox, this.outbound.timer, this, this.counters, ledgerOptions(env),
      () => void this.commits.run(() => this.ledger.start(Date.now())).catch((e) => log.error("the ledger could not restart; the alarm tries again", { owner: this.owner.name, error: String(e) })));
    // The ledger applies first (it writes the flush's batch row, carrying the counts), then the
    // counters (what no batch row took), then what waited for the commit.
    this.commits.join(this.ledger);
    this.commits.join(this.counters);
    this.commits.join(this.effects);
    const bucket = meteredBucket(env.ARCHIVE, this.meter, this.outbound.connections);
    this.keeper = new DeadLetterKeeper({
      deadLetters: new DeadLetters(this.db, bucket, () => this.owner.name),
      clock: this.clock, commits: this.commits, ledger: this.ledger, plan: () => this.plan, route: (uid) => this.route(uid),
    });
    this.archive = new ArchiveReplay({
      db: this.db, bucket, owner: () => this.owner.name, clock: this.clock, commits: this.commits, ledger: this.ledger,
      counters: this.counters, plan: () => this.plan, partition: () => planPartition(this.plan),
      replayRoutes: (event, only) => this.replayRoutes(event, only), namespaces: env.NAMESPACE, namespace: () => this.namespace,
    });
    this.eventTypes = new EventTypeReporter(this.db, env, () => this.owner.name, (name, n) => this.counters.add(name, n));
    const saved = this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'plan'");
    void ctx.blockConcurrencyWhile(async () => {
      if (saved) {
        const { plan, version } = JSON.parse(saved.value) as { plan: DispatcherPlan | null; version: number };
        this.apply(plan, version);
      }
      if (!fresh) await this.resume();
    });
  }

  /** What a start does for an object that holds something; a fresh one does it with its first plan. */
  private async resume(): Promise<void> {
    await this.clock.init();
    await this.commits.run(() => this.ledger.start(Date.now()));
    this.archive.resume();
  }

  /** An RPC call or alarm reached the object: counted, and a new subrequest budget. */
  protected invoked(): void {
    this.meter.requests++;
    this.outbound.invocation();
  }

  get owner(): OwnerRef {
    // Placed owners (core/placement.ts) name their placement, so queue consumers reach this object.
    return placedOwner(this.binding, this.plan);
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

  /** Takes this object's current routes from the control plane; stale versions are ignored. */
  async configure(plan: DispatcherPlan | null, version: number): Promise<void> {
    this.invoked();
    if (version < this.version) return;
    if (!this.db.stored) {
      if (plan === null) return; // never configured: nothing to forget
      this.createSchema();
      await this.resume();
    }
    if (this.plan !== null && plan === null) await this.forget(`${this.plan.kind.toLowerCase()}-deleted`);
    this.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('plan', ?)", JSON.stringify({ plan, version }));
    this.apply(plan, version);
  }

  /**
   * The owner was deleted: what is pending is dropped (each drop logged), then every table is
   * emptied and the alarm goes, so an object created again under the same name starts from
   * nothing; only the ledger's epoch and ids stay, so nothing of before is ever taken for new.
   */
  private async forget(reason: string): Promise<void> {
    await this.commits.run(() => this.ledger.dropAll(reason, Date.now()));
    // The archive goes with its owner: no Replay can name a deleted Broker or Channel.
    await this.archive.purge().catch((e) => log.error("archive: could not delete the archive of a deleted owner", { owner: this.owner.name, error: String(e) }));
    await this.ctx.storage.deleteAlarm();
    this.clock.fired();
    this.ctx.storage.transactionSync(() => {
      for (const t of this.ownedTables()) this.db.run(`DELETE FROM ${t}`);
    });
    this.ledger.reset();
    this.counters.load();
    this.eventTypes.load(); // nothing reported any more: the tables are empty
    await this.commits.run(() => this.ledger.start(Date.now()));
  }

  /** The tables emptied when the owner is deleted (not ledger_meta: ids never repeat). */
  protected ownedTables(): string[] {
    return ["batches", "deliveries", "counter_totals", "drops", "config", "event_types", "deadletters", "replays"];
  }

  /** Every table of the object, under versioned migrations (after a wipe too). */
  protected createSchema(): void {
    this.db.migrate([[...LEDGER_SCHEMA, ...COUNTER_SCHEMA, "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL)"], ...LEDGER_MIGRATIONS]);
    this.db.run(EVENT_TYPES_SCHEMA);
    for (const stmt of DEAD_LETTER_SCHEMA) this.db.run(stmt);
  }

  // --- dead letters and the live tail (see deadletter-keeper.ts and tail.ts) -------------------

  get watching(): boolean {
    return this.tail.watching;
  }

  onOutcome(d: Delivery, eventId: string, outcome: TailOutcome, status: number | undefined): void {
    const entry = {
      eventId, route: this.routes.get(d.route)?.name ?? d.route, hop: d.hop, outcome, attempt: d.attempt + 1, ...(status !== undefined ? { status } : {}),
    };
    this.effects.after(() => this.tail.delivery(d.route, entry));
  }

  keepDeadLetter(d: Delivery, event: CloudEvent, f: DeadLetterFailure, now: number): boolean {
    return this.keeper.keep(d, event, f, now);
  }

  redriveDone(entryId: string): void {
    this.keeper.redriveDone(entryId);
  }

  async deadLetterList(route?: string): Promise<DeadLetterEntry[] | null> {
    this.invoked();
    return this.keeper.list(route);
  }

  async deadLetterGet(id: string): Promise<(DeadLetterEntry & { event: unknown }) | null | undefined> {
    this.invoked();
    return this.keeper.get(id);
  }

  /** Delivers kept dead letters again to their route as it is now; each entry goes once delivered. */
  async deadLetterRedrive(sel: { ids?: string[]; route?: string; all?: boolean }): Promise<{ redriven: number; skipped: string[] } | null> {
    this.invoked();
    return this.keeper.redrive(sel);
  }

  async deadLetterPurge(id: string): Promise<boolean | null> {
    this.invoked();
    return this.keeper.purge(id);
  }

  /** Moves kept bodies to R2 and forgets entries past their retention. */
  protected async sweepDeadLetters(now: number): Promise<void> {
    await this.keeper.sweep(now);
  }

  /** WebSocket upgrades for the live tail (`?route=<uid>` limits it to one route's deliveries). */
  override async fetch(request: Request): Promise<Response> {
    this.invoked();
    return this.tail.upgrade(request, Boolean(this.plan));
  }

  override async webSocketMessage(): Promise<void> {
    // The tail only talks; what a watcher sends is ignored.
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.tail.close(ws, code);
  }

  override async webSocketError(): Promise<void> {
    this.tail.closed();
  }

  /**
   * Stores the events with their deliveries; resolves once that is durable. `sender` (from the
   * ingress or another object's delivery) is authorized first: refused means nothing is stored.
   */
  async publish(events: CloudEvent[], sender?: Sender): Promise<PublishResult> {
    this.invoked();
    if (!this.plan) return fail(404, "not configured: the addressable does not exist");
    const refused = this.senders.refuse(events, sender);
    if (refused) {
      this.counters.add("rejected.403", events.length);
      return fail(403, refused);
    }
    return this.commits.run((): PublishResult => {
      if (!this.plan) return fail(404, "not configured: the addressable does not exist"); // deleted while the call waited for the flush
      this.acceptAll(events, Date.now());
      return ok({ accepted: events.length });
    });
  }

  /** Inside a commit job: events that entered are routed (stored or dropped), counted, shown and reported. */
  protected acceptAll(events: CloudEvent[], now: number): void {
    const archive = this.archive.archiving();
    const partition = planPartition(this.plan);
    for (const ev of events) {
      if (this.tail.watching) this.effects.after(() => this.tail.event(ev, partition));
      this.accept(ev, now, archive);
      this.observe(ev);
    }
    this.counters.add("accepted", events.length);
    if (archive) this.effects.after(() => this.archive.accepted(events.length, now));
  }

  /** Outcomes of delivery attempts, from the queue consumers. */
  async settle(outcomes: DeliveryOutcome[]): Promise<void> {
    this.invoked();
    await this.commits.run(() => this.ledger.settle(outcomes, Date.now()));
  }

  /**
   * A queue consumer is about to make these attempts: each answer says whether to go (with the
   * event when its message could not carry it) or skip. A claim keeps the delivery the consumer's
   * until `until` (its batch's deadline), so it is never sent twice while it waits for a connection.
   */
  async claim(items: Claim[], epoch: number | undefined, until: number, needEvent: boolean[]): Promise<ClaimAnswer[]> {
    this.invoked();
    return this.commits.run(() => {
      const out: ClaimAnswer[] = [];
      this.ledger.claim(items, epoch, until, needEvent, out);
      return out;
    });
  }

  /** How many partitions stand behind this object's address; null when it is not configured. */
  async partitions(): Promise<number | null> {
    this.invoked();
    return this.plan ? planPartitions(this.plan) : null;
  }

  async stats(): Promise<DispatcherStats | null> {
    this.invoked();
    if (!this.plan) return null;
    return {
      counters: this.counters.snapshot(), pending: this.ledger.pending(), recentDrops: this.counters.recentDrops(),
      connectionsHighWater: this.outbox.stats().connectionsHighWater,
      groupCommit: { flushes: this.commits.flushes, writes: this.commits.jobsRun, rollbacks: this.commits.rollbacks },
      partitionCount: planPartitions(this.plan),
      meter: { ...this.meter.snapshot(), alarmsSet: this.clock.sets },
      subrequestsHighWater: this.outbound.budget.highWater,
    };
  }

  override async alarm(): Promise<void> {
    this.invoked();
    this.clock.fired();
    const now = Date.now();
    await this.commits.run(() => this.ledger.alarm(now));
    await this.outbox.flush();
    await this.sweepDeadLetters(now);
    await this.archive.alarm(now);
  }

  /** The routes a replayed event takes: those it would take now (subclasses decide), within `only`. */
  protected abstract replayRoutes(event: CloudEvent, only: string[] | undefined): string[];

  /**
   * Routes one incoming event (store it with its deliveries, or drop it with a reason); with
   * `archive`, the event is stored for the archive whatever its routes.
   */
  protected abstract accept(ev: CloudEvent, now: number, archive: boolean): void;

  abstract onReply(d: Delivery, original: StoredEvent, reply: CloudEvent, now: number): void;

  /** Called after the routes changed, e.g. to compile filters. */
  protected onPlan(): void {}

  /**
   * Reports a (type, source) pair the first time it is seen, so the control plane can create its
   * EventType (eventtype-reporter.ts). Brokers also call it for replies, which re-enter without `publish`.
   */
  protected observe(ev: CloudEvent): void {
    this.eventTypes.observe(ev, this.plan?.options?.eventTypes as KReference | undefined, this.namespace);
  }

  /** An event dropped on purpose before any delivery: counted, logged, listed, and shown to live watchers once stored state says so. */
  protected dropEvent(ev: CloudEvent, reason: string, detail: string, now: number): void {
    if (this.tail.watching) this.effects.after(() => this.tail.dropped(ev, reason));
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
    this.archive.configure();
  }
}
