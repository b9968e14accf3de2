import type { CloudEvent } from "../core/cloudevents/event.js";
import { MAX_BROKER_TTL } from "../core/broker/ttl.js";
import { log } from "../core/log.js";
import { requestTraceFields } from "../core/cloudevents/trace.js";
import { compileSchedule, pingEvent, type PingConfig } from "../core/sources/ping.js";
import { receiveWebhook, type WebhookConfig } from "../core/webhooks/index.js";
import type { DispatcherPlan, SourceOptions } from "../core/resources/plan.js";
import type { Sender } from "../core/identity/policy.js";
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from "../core/delivery/policy.js";
import { Dispatcher } from "./dispatcher.js";
import type { EventAnswer, PublishResult } from "./dispatcher-results.js";
import { Transformer } from "./transformer.js";
import { Waiters } from "./request-reply/waiters.js";
import type { RequestAnswer } from "./request-reply/call.js";
import { fail, ok, type Result } from "../core/result.js";
import { describeSecretSource } from "../core/secrets/refs.js";
import { secretValue } from "./secret-values.js";

declare module "./env.js" {
  interface Env {
    /** One object per WebhookSource and PingSource, EventTransform and RequestReply shard. */
    SOURCE: DurableObjectNamespace<Source>;
  }
}

/** A minute tick not yet fired by the Cron Trigger fires from the alarm this long after it is due. */
const CRON_GRACE_MS = 5_000;
/** Forget delivery ids in batches, every this many new ones. */
const DEDUP_TRIM_EVERY = 200;

/** What the provider hears when a delivery is taken: 202, or a handshake's answer. Refusals are failures (core/result.ts). */
export interface WebhookAnswer {
  status: number;
  contentType?: string;
  body?: string;
}

/**
 * The data plane of a source (WebhookSource, PingSource): turns what arrives — a signed webhook
 * delivery, a clock tick — into CloudEvents, stores them with a delivery to the sink, and sends
 * them with the same retries and dead letters as Brokers and Channels. The same class serves the
 * two addressables that answer with an event, by the plan's kind: an EventTransform
 * (`transform`, transformer.ts) and a RequestReply shard (`request`, whose single route is the
 * forward leg to the Broker, and `publish`, which takes the replies: request-reply/waiters.ts).
 *
 * Webhooks: the signature is checked here against the secrets named in the plan; a rejected
 * delivery stores nothing; a delivery id seen within the dedup window is dropped and counted.
 * Ticks: `fire(tick)` is idempotent (the last fired tick is stored), so the Cron Trigger and the
 * alarm can both drive a schedule and a tick still fires once, also across a restart.
 */
export class Source extends Dispatcher {
  protected readonly binding = "SOURCE" as const;
  private sinceTrim = 0;
  private readonly transformer = new Transformer(this.env, this.counters);
  private readonly waiters = new Waiters(this.env, {
    plan: () => this.plan, counters: this.counters, forward: (ev) => this.forwardRequest(ev),
  });

  /** An EventTransform's one call: the event transformed (and sent to its sink, when it has one). */
  async transform(event: CloudEvent, sender?: Sender, timeoutMs = DEFAULT_ATTEMPT_TIMEOUT_MS): Promise<EventAnswer> {
    this.invoked();
    return this.transformer.transform(this.plan, event, sender, timeoutMs);
  }

  /** A RequestReply request: answered with its reply, or 504 at the timeout. */
  async request(event: CloudEvent, sender?: Sender): Promise<RequestAnswer> {
    this.invoked();
    return this.waiters.request(event, sender);
  }

  /** A RequestReply shard takes replies here (from its reply Trigger); every other source stores what it is given. */
  override async publish(events: CloudEvent[], sender?: Sender): Promise<PublishResult> {
    if (this.plan?.kind !== "RequestReply") return super.publish(events, sender);
    this.invoked();
    return this.waiters.reply(events, sender);
  }

  /** A request's event, stored with its delivery to the Broker in the next flush (the forward leg). */
  private forwardRequest(event: CloudEvent): Promise<PublishResult> {
    return this.commits.run((): PublishResult => {
      if (!this.plan) return fail(404, "not configured: the RequestReply does not exist");
      this.acceptAll([event], Date.now());
      return ok({ accepted: 1 });
    });
  }

  protected override createSchema(): void {
    super.createSchema();
    this.db.run("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at INTEGER NOT NULL)");
  }

  protected override ownedTables(): string[] {
    return [...super.ownedTables(), "seen"];
  }

  /** The plan of this source: a Source object only ever gets a source's plan. */
  private get options(): SourceOptions | undefined {
    return this.plan && (this.plan.kind === "PingSource" || this.plan.kind === "WebhookSource") ? this.plan.options : undefined;
  }

  private get ping(): PingConfig | undefined {
    return this.options?.ping;
  }

  private get webhook(): WebhookConfig | undefined {
    return this.options?.webhook;
  }

  override async configure(plan: DispatcherPlan | null, version: number): Promise<void> {
    const previousKey = this.plan?.key;
    await super.configure(plan, version);
    const cfg = this.ping;
    const scheduler = this.env.SCHEDULER.get(this.env.SCHEDULER.idFromName("global"));
    if (cfg && plan) {
      const s = compileSchedule(cfg.schedule, cfg.timezone);
      if (s.minuteAligned) await scheduler.register(plan.key, cfg.schedule, cfg.timezone ?? null);
      else await scheduler.unregister(plan.key);
      this.armTick(Date.now());
    } else if (previousKey) await scheduler.unregister(previousKey);
  }

  /** Receives one webhook delivery (already size-checked by the Worker). */
  async receive(headers: [string, string][], body: Uint8Array): Promise<Result<WebhookAnswer>> {
    this.invoked();
    const cfg = this.webhook;
    if (!cfg) return fail(404, "no such webhook source; create a WebhookSource first");
    // Plans made before secretKeyRefs name bindings as plain strings.
    const sources = cfg.secrets.map((s) => (typeof s === "string" ? { binding: s } : s));
    const secrets = (await Promise.all(sources.map((s) => secretValue(this.env, this.namespace, s)))).filter((v): v is string => v !== undefined && v !== "");
    if (secrets.length === 0) {
      const names = sources.map(describeSecretSource).join(" / ");
      log.error("webhook signing secret not there", { source: this.owner.name, secrets: names });
      return fail(503, names ? `the signing secret ${names} is not there: create the Secret's key, or set the SECRET_ binding (wrangler secret put)` : "no signing secret of the WebhookSource is there: its status.missingSecrets names what to create");
    }
    const now = Date.now();
    const r = await receiveWebhook(cfg, secrets, { headers: new Headers(headers), body, now });
    if (r.kind === "reject") {
      this.counters.add(`rejected.${r.status}`);
      log.warn("webhook delivery rejected", { source: this.owner.name, status: r.status, reason: r.message, ...requestTraceFields(new Headers(headers)) });
      return fail(r.status, r.message);
    }
    if (r.kind === "handshake") {
      this.counters.add("handshakes");
      return ok({ status: r.status, contentType: r.contentType, body: r.body });
    }
    await this.commits.run(() => this.acceptAll([r.event], Date.now()));
    return ok({ status: 202 });
  }

  /** Fires the tick due at `tick` unless it already fired; called by the Scheduler and the alarm. */
  async fire(tick: number): Promise<boolean> {
    this.invoked();
    return this.fireTick(tick);
  }

  /**
   * One job: the tick is recorded as fired in the same flush as its event, so a tick is never
   * marked fired without its event stored, nor stored twice.
   */
  private async fireTick(tick: number): Promise<boolean> {
    const cfg = this.ping;
    if (!cfg) return false;
    return this.commits.run(() => {
      if (!this.plan) return false;
      const last = Number(this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'last_tick'")?.value ?? "0");
      if (tick <= last) return false;
      this.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('last_tick', ?)", String(tick));
      this.acceptAll([pingEvent(cfg, tick, crypto.randomUUID())], Date.now());
      this.counters.add("ticks");
      return true;
    });
  }

  override async alarm(): Promise<void> {
    this.invoked();
    const now = Date.now();
    this.clock.fired();
    await this.commits.run(() => this.ledger.alarm(now));
    const cfg = this.ping;
    const due = Number(this.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'next_tick'")?.value ?? "0");
    if (cfg) {
      if (due && now >= due) {
        await this.fireTick(due);
        // Next tick after now: ticks missed while the runtime was down are not caught up.
        this.armTick(now);
      } else if (due) this.armTick(due - 1);
      else this.armTick(now);
    }
    await this.outbox.flush();
  }

  protected accept(ev: CloudEvent, now: number): void {
    const window = Number(this.options?.dedupWindowMs ?? 0);
    if (this.webhook && window > 0 && this.duplicate(String(ev.attrs.id), now, window)) {
      this.dropEvent(ev, "duplicate", `delivery ${ev.attrs.id} was already received within the deduplication window`, now);
      return;
    }
    const routes = [...this.routes.keys()];
    if (routes.length === 0) this.dropEvent(ev, "no-sink", "the source's sink is not resolved", now);
    else this.ledger.record(ev, MAX_BROKER_TTL, routes, now);
  }

  /** Sources do not archive (only Brokers and Channels do), so they never replay. */
  protected replayRoutes(): string[] {
    return [];
  }

  onReply(): void {
    // A sink's reply to a source has nowhere to go, as in Knative.
    this.counters.add("repliesDiscarded");
  }

  private duplicate(id: string, now: number, window: number): boolean {
    const seen = this.db.one<{ at: number }>("SELECT at FROM seen WHERE id = ?", id);
    if (seen && now - seen.at < window) return true;
    this.db.run("INSERT OR REPLACE INTO seen (id, at) VALUES (?, ?)", id, now);
    if (++this.sinceTrim >= DEDUP_TRIM_EVERY) {
      this.sinceTrim = 0;
      this.db.run("DELETE FROM seen WHERE at < ?", now - window);
    }
    return false;
  }

  /** Sets the alarm for the next tick after `from`; minute ticks get a grace for the Cron Trigger. */
  private armTick(from: number): void {
    const cfg = this.ping;
    if (!cfg) return;
    const s = compileSchedule(cfg.schedule, cfg.timezone);
    const next = s.next(new Date(from))?.getTime();
    if (!next) return;
    this.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('next_tick', ?)", String(next));
    this.clock.wakeAt(s.minuteAligned ? next + CRON_GRACE_MS : next);
  }
}
