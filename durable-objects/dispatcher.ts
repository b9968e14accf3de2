import { DurableObject } from "cloudflare:workers";
import type { CloudEvent } from "../core/cloudevents/event.js";
import type { DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import type { DispatcherPlan, PlanBinding, RoutePlan } from "../core/resources/plan.js";
import type { Env } from "../functions/env.js";
import type { ObservedType } from "../core/resources/eventtypes.js";
import type { KReference } from "../core/resources/types.js";
import { log } from "../core/log.js";
import { Counters, COUNTER_SCHEMA, type DropRecord } from "./counters.js";
import { Ledger, LEDGER_MIGRATIONS, LEDGER_SCHEMA, ledgerOptions, type DeliveryRow, type LedgerHost, type StoredEvent } from "./ledger.js";
import { Sql } from "./sql.js";

export type PublishResult = { ok: true; accepted: number } | { ok: false; status: 404 };

export interface DispatcherStats {
  counters: Record<string, number>;
  pending: number;
  recentDrops: DropRecord[];
}

/**
 * What Brokers and Channels share: a plan from the control plane (their routes), a ledger that
 * stores and delivers events with retries, dead letters and replies, and counters of everything
 * dropped. Subclasses decide which routes an event takes and where a reply goes.
 *
 * Lifecycle: `configure` (from the control plane) → `publish` (ingress) → `settle` (queue
 * consumers) → `alarm` (what is due, or was dispatched and never settled).
 */
export abstract class Dispatcher extends DurableObject<Env> implements LedgerHost {
  protected readonly db: Sql;
  protected readonly counters: Counters;
  protected readonly ledger: Ledger;
  protected plan: DispatcherPlan | null = null;
  private version = 0;
  protected routes = new Map<string, RoutePlan>();
  /** (type, source) pairs already reported to the control plane, and those being reported. */
  private seenTypes = new Set<string>();
  private reportingTypes = new Map<string, ObservedType>();

  protected abstract readonly binding: PlanBinding;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql);
    this.db.migrate([[...LEDGER_SCHEMA, ...COUNTER_SCHEMA, "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL)"], ...LEDGER_MIGRATIONS]);
    this.counters = new Counters(this.db, () => this.owner.name);
    this.ledger = new Ledger(this.db, ctx.storage, { delivery: env.DELIVERY_QUEUE, deadLetter: env.DEAD_LETTER_QUEUE }, this, this.counters, ledgerOptions(env));
    this.db.run("CREATE TABLE IF NOT EXISTS event_types (type TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (type, source))");
    for (const r of this.db.all<{ type: string; source: string }>("SELECT type, source FROM event_types")) this.seenTypes.add(`${r.type}\n${r.source}`);
    const saved = this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'plan'");
    void ctx.blockConcurrencyWhile(async () => {
      if (saved) {
        const { plan, version } = JSON.parse(saved.value) as { plan: DispatcherPlan | null; version: number };
        this.apply(plan, version);
      }
      await this.ledger.init();
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

  /** Stores the events with their deliveries; resolves once that is durable. */
  async publish(events: CloudEvent[]): Promise<PublishResult> {
    if (!this.plan) return { ok: false, status: 404 };
    const now = Date.now();
    for (const ev of events) {
      this.accept(ev, now);
      this.observe(ev);
    }
    this.counters.add("accepted", events.length);
    return { ok: true, accepted: events.length };
  }

  /** Outcomes of delivery attempts, from the queue consumers. */
  async settle(outcomes: DeliveryOutcome[]): Promise<void> {
    this.ledger.settle(outcomes, Date.now());
  }

  /** The event for a delivery whose queue message could not carry it; null when already settled. */
  async loadEvent(id: number, gen: number): Promise<CloudEvent | null> {
    return this.ledger.eventFor(id, gen);
  }

  async stats(): Promise<DispatcherStats | null> {
    if (!this.plan) return null;
    return { counters: this.counters.snapshot(), pending: this.ledger.pending(), recentDrops: this.counters.recentDrops() };
  }

  override async alarm(): Promise<void> {
    this.ledger.alarm(Date.now());
    await this.ledger.flush();
  }

  /** Routes one incoming event (store it with its deliveries, or drop it with a reason). */
  protected abstract accept(ev: CloudEvent, now: number): void;

  abstract onReply(row: DeliveryRow, original: StoredEvent, reply: CloudEvent, now: number): void;

  /** Called after the routes changed, e.g. to compile filters. */
  protected onPlan(): void {}

  /**
   * Reports a (type, source) pair the first time it is seen, so the control plane can create its
   * EventType. Off the request path: the producer's 202 never waits for it; a failed report is
   * retried the next time the pair is seen.
   */
  private observe(ev: CloudEvent): void {
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
    }
  }

  protected dropEvent(ev: CloudEvent, reason: string, detail: string, now: number): void {
    this.counters.drop(reason, {
      id: String(ev.attrs.id ?? ""), source: String(ev.attrs.source ?? ""), type: String(ev.attrs.type ?? ""), route: "", detail,
    }, now);
  }

  private apply(plan: DispatcherPlan | null, version: number): void {
    this.plan = plan;
    this.version = version;
    this.routes = new Map((plan?.routes ?? []).map((r) => [r.uid, r]));
    this.onPlan();
  }
}
