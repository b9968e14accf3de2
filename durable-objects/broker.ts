import { DurableObject } from "cloudflare:workers";
import type { CloudEvent } from "../core/cloudevents/event.js";
import { eventView } from "../core/cloudevents/view.js";
import { enterBroker, incomingTtl } from "../core/broker/ttl.js";
import type { DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import { compileTriggerFilter, type CompiledFilter } from "../core/filters/index.js";
import type { DispatcherPlan, RoutePlan } from "../core/resources/plan.js";
import { log } from "../core/log.js";
import type { Env } from "../functions/env.js";
import { Counters, COUNTER_SCHEMA, type DropRecord } from "./counters.js";
import { Ledger, LEDGER_SCHEMA, ledgerOptions, type DeliveryRow, type LedgerHost, type StoredEvent } from "./ledger.js";
import { Sql } from "./sql.js";

export type PublishResult = { ok: true; accepted: number } | { ok: false; status: 404 };

export interface BrokerStats {
  counters: Record<string, number>;
  pending: number;
  recentDrops: DropRecord[];
}

/**
 * One Broker's data plane: it takes events from the ingress, stores each with one delivery per
 * matching Trigger before the producer hears 202, and fans them out through its ledger. Replies
 * re-enter here and are matched against every Trigger, the originator included.
 *
 * Lifecycle: the control plane `configure`s it with the Broker's Triggers (a DispatcherPlan);
 * `publish` ingests; queue consumers `settle` attempts; the alarm re-sends what is due or lost.
 */
export class Broker extends DurableObject<Env> implements LedgerHost {
  private readonly db: Sql;
  private readonly counters: Counters;
  private readonly ledger: Ledger;
  private plan: DispatcherPlan | null = null;
  private version = 0;
  private routes = new Map<string, RoutePlan>();
  private filters: { uid: string; filter: CompiledFilter }[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql);
    this.db.migrate([[...LEDGER_SCHEMA, ...COUNTER_SCHEMA, "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL)"]]);
    const saved = this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'plan'");
    if (saved) {
      const { plan, version } = JSON.parse(saved.value) as { plan: DispatcherPlan | null; version: number };
      this.apply(plan, version);
    }
    this.counters = new Counters(this.db, () => this.owner.name);
    this.ledger = new Ledger(this.db, ctx.storage, { delivery: env.DELIVERY_QUEUE, deadLetter: env.DEAD_LETTER_QUEUE }, this, this.counters, ledgerOptions(env));
    void ctx.blockConcurrencyWhile(() => this.ledger.init());
  }

  get owner(): OwnerRef {
    return { binding: "BROKER", name: this.plan ? `${this.plan.namespace}/${this.plan.name}` : "(unconfigured)" };
  }

  get namespace(): string {
    return this.plan?.namespace ?? "";
  }

  route(uid: string): RoutePlan | undefined {
    return this.routes.get(uid);
  }

  /** Takes the Broker's current Triggers from the control plane; stale versions are ignored. */
  async configure(plan: DispatcherPlan | null, version: number): Promise<void> {
    if (version < this.version) return;
    this.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('plan', ?)", JSON.stringify({ plan, version }));
    const deleted = this.plan !== null && plan === null;
    this.apply(plan, version);
    if (deleted) this.ledger.dropAll("broker-deleted", Date.now());
  }

  /** Stores the events with their deliveries; resolves once that is durable. */
  async publish(events: CloudEvent[]): Promise<PublishResult> {
    if (!this.plan) return { ok: false, status: 404 };
    const now = Date.now();
    for (const ev of events) {
      const entered = enterBroker(ev, incomingTtl(ev), now);
      if (!entered) this.dropEvent(ev, "ttl-exhausted", "knativebrokerttl reached 0: the event looped through Brokers too often", now);
      else this.fanOut(entered.event, entered.ttl, now);
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

  async stats(): Promise<BrokerStats | null> {
    if (!this.plan) return null;
    return { counters: this.counters.snapshot(), pending: this.ledger.pending(), recentDrops: this.counters.recentDrops() };
  }

  override async alarm(): Promise<void> {
    this.ledger.alarm(Date.now());
    await this.ledger.flush();
  }

  onReply(_row: DeliveryRow, original: StoredEvent, reply: CloudEvent, now: number): void {
    const entered = enterBroker(reply, original.ttl, now);
    if (!entered) this.dropEvent(reply, "ttl-exhausted", "a reply's knativebrokerttl reached 0: Triggers are replying in a loop", now);
    else this.fanOut(entered.event, entered.ttl, now);
  }

  private fanOut(event: CloudEvent, ttl: number, now: number): void {
    const view = eventView(event);
    const matched: string[] = [];
    for (const f of this.filters) if (f.filter.matches(view)) matched.push(f.uid);
    if (matched.length === 0) this.dropEvent(event, "no-matching-trigger", "no Trigger of this Broker matches the event", now);
    else this.ledger.record(event, ttl, matched, now);
  }

  private dropEvent(ev: CloudEvent, reason: string, detail: string, now: number): void {
    this.counters.drop(reason, {
      id: String(ev.attrs.id ?? ""), source: String(ev.attrs.source ?? ""), type: String(ev.attrs.type ?? ""), route: "", detail,
    }, now);
  }

  private apply(plan: DispatcherPlan | null, version: number): void {
    this.plan = plan;
    this.version = version;
    this.routes = new Map((plan?.routes ?? []).map((r) => [r.uid, r]));
    this.filters = [];
    for (const r of plan?.routes ?? []) {
      try {
        this.filters.push({ uid: r.uid, filter: compileTriggerFilter(r.filter ?? {}) });
      } catch (e) {
        // Admission validated the filter; a failure here means stored data is damaged, not user error.
        log.error("trigger filter failed to compile; the Trigger receives nothing", { trigger: r.name, error: String(e) });
      }
    }
  }
}
