import { DurableObject } from "cloudflare:workers";
import type { CloudEvent } from "../core/cloudevents/event.js";
import { attempt } from "../core/delivery/attempt.js";
import type { AttemptSpec, DeliveryMessage, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import { locate } from "../core/addressables.js";
import { maxEventBytes } from "../core/limits.js";
import type { DispatcherPlan, PlanBinding, RoutePlan, Target } from "../core/resources/plan.js";
import type { Env } from "../functions/env.js";
import type { ObservedType } from "../core/resources/eventtypes.js";
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
import { SenderGuard, stampingQueue, withDeliveryAuth } from "./sender.js";
import type { Sender } from "../core/identity/policy.js";
import { deliverySigner } from "../functions/identity.js";
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
  protected plan: DispatcherPlan | null = null;
  private version = 0;
  protected routes = new Map<string, RoutePlan>();
  /** (type, source) pairs already reported to the control plane, and those being reported. */
  private seenTypes = new Set<string>();
  private reportingTypes = new Map<string, ObservedType>();

  protected abstract readonly binding: PlanBinding;
  private readonly store: SqlLedgerStore;
  private readonly senders: SenderGuard;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql);
    this.db.migrate([[...LEDGER_SCHEMA, ...COUNTER_SCHEMA, "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL)"], ...LEDGER_MIGRATIONS]);
    this.counters = new Counters(this.db, () => this.owner.name);
    this.clock = new AlarmClock(ctx.storage);
    this.commits = new GroupCommit(ctx.storage, () => this.counters.flush());
    this.store = new SqlLedgerStore(this.db);
    this.senders = new SenderGuard(env);
    // Queue consumers have no plan: each message carries who sends it.
    const stamp = (m: DeliveryMessage) => this.withAuth(m);
    this.outbox = new Outbox({
      queues: { delivery: stampingQueue(env.DELIVERY_QUEUE, stamp), deadLetter: stampingQueue(env.DEAD_LETTER_QUEUE, stamp) },
      owner: () => this.owner.name,
      attempt: (spec, event) => this.attempt(spec, event),
      settle: (o) => void this.commits.run(() => this.ledger.settle([o], Date.now())).catch(() => {}),
      requeue: (items) => this.ledger.retrySoon(items, Date.now()),
    }, outboxOptions(env));
    this.ledger = new Ledger(this.store, this.outbox, this.clock, this, this.counters, ledgerOptions(env));
    this.db.run("CREATE TABLE IF NOT EXISTS event_types (type TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (type, source))");
    for (const r of this.db.all<{ type: string; source: string }>("SELECT type, source FROM event_types")) this.seenTypes.add(`${r.type}\n${r.source}`);
    const saved = this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'plan'");
    void ctx.blockConcurrencyWhile(async () => {
      if (saved) {
        const { plan, version } = JSON.parse(saved.value) as { plan: DispatcherPlan | null; version: number };
        this.apply(plan, version);
      }
      await this.clock.init();
      this.ledger.init(Date.now());
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

  /** Takes this object's current routes from the control plane; stale versions are ignored. */
  async configure(plan: DispatcherPlan | null, version: number): Promise<void> {
    if (version < this.version) return;
    this.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('plan', ?)", JSON.stringify({ plan, version }));
    const deleted = this.plan !== null && plan === null;
    const kind = this.plan?.kind;
    this.apply(plan, version);
    if (deleted) this.ledger.dropAll(`${(kind ?? "owner").toLowerCase()}-deleted`, Date.now());
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
      for (const ev of events) {
        this.accept(ev, now);
        this.observe(ev);
      }
      this.counters.add("accepted", events.length);
      return { ok: true as const, accepted: events.length };
    });
  }

  /** Outcomes of delivery attempts, from the queue consumers. */
  async settle(outcomes: DeliveryOutcome[]): Promise<void> {
    await this.commits.run(() => this.ledger.settle(outcomes, Date.now()));
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
    };
  }

  override async alarm(): Promise<void> {
    this.clock.fired();
    this.ledger.alarm(Date.now());
    await this.outbox.flush();
  }

  /** One attempt made by this object: an RPC to an object of this system, or an HTTP request. */
  private attempt(plain: AttemptSpec & { object?: OwnerRef }, event: CloudEvent): Promise<DeliveryOutcome> {
    const spec = this.withAuth(plain);
    if (spec.internal && spec.object) return deliverInternal(this.env, spec.object, spec, event);
    return attempt(spec, event, { maxReplyBytes: maxEventBytes(this.env), sign: deliverySigner(this.env) });
  }

  /** The spec with its route's sender identity, audience and signing secret. */
  private withAuth<T extends AttemptSpec>(spec: T): T {
    const row = this.store.delivery(spec.id);
    return withDeliveryAuth(spec, row ? this.routes.get(row.route) : undefined);
  }

  /** Routes one incoming event (store it with its deliveries, or drop it with a reason). */
  protected abstract accept(ev: CloudEvent, now: number): void;

  abstract onReply(row: DeliveryRow, original: StoredEvent, reply: CloudEvent, now: number): void;

  /** Called after the routes changed, e.g. to compile filters. */
  protected onPlan(): void {}

  /**
   * Reports a (type, source) pair the first time it is seen, so the control plane can create its
   * EventType. Off the request path: the producer's 202 never waits for it; a failed report is
   * retried the next time the pair is seen. Brokers also call it for replies, which re-enter
   * without `publish`.
   */
  protected observe(ev: CloudEvent): void {
    const ref = this.plan?.options?.eventTypes as KReference | undefined;
    if (!ref) return;
    const t = { type: String(ev.attrs.type), source: String(ev.attrs.source) };
    const key = `${t.type}\n${t.source}`;
    if (this.seenTypes.has(key) || this.reportingTypes.has(key)) return;
    this.reportingTypes.set(key, t);
    if (this.reportingTypes.size === 1) setTimeout(() => void this.reportTypes(ref), 0);
  }

  private async reportTypes(ref: KReference): Promise<void> {
    const batch = [...this.reportingTypes];
    try {
      const ns = this.env.NAMESPACE.get(this.env.NAMESPACE.idFromName(ref.namespace ?? this.namespace));
      await ns.observeEventTypes(ref, batch.map(([, t]) => t));
      for (const [key, t] of batch) {
        this.db.run("INSERT OR IGNORE INTO event_types (type, source) VALUES (?, ?)", t.type, t.source);
        this.seenTypes.add(key);
      }
    } catch (e) {
      log.warn("could not register event types; will retry when they are seen again", { owner: this.owner.name, error: String(e) });
    } finally {
      for (const [key] of batch) this.reportingTypes.delete(key);
      // Pairs seen while this report was out (a reply right after its event) go in the next one.
      if (this.reportingTypes.size > 0) setTimeout(() => void this.reportTypes(ref), 0);
    }
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
  }
}

/** Internal targets name the object behind their URL, so deliveries to them are RPCs (plans stored before that carry only the URL). */
function withObjects(r: RoutePlan): RoutePlan {
  const fill = (t: Target | undefined): Target | undefined => {
    if (!t?.internal || t.object) return t;
    const object = locate(new URL(t.url).pathname);
    return object ? { ...t, object } : t;
  };
  const out: RoutePlan = { ...r, subscriber: fill(r.subscriber)! };
  if (r.reply) out.reply = fill(r.reply)!;
  if (r.deadLetter) out.deadLetter = fill(r.deadLetter)!;
  return out;
}
