import type { CloudEvent } from "../core/cloudevents/event.js";
import { eventView } from "../core/cloudevents/view.js";
import { enterBroker, incomingTtl } from "../core/broker/ttl.js";
import { compileTriggerFilter, type CompiledFilter } from "../core/filters/index.js";
import { log } from "../core/log.js";
import { useCorrelationKeys } from "../core/requestreply/correlation.js";
import { Dispatcher } from "./dispatcher.js";
import type { Delivery, StoredEvent } from "./ledger/machine.js";

export type { DispatcherStats as BrokerStats, PublishResult } from "./dispatcher.js";

declare module "./env.js" {
  interface Env {
    /** One object per Broker (or partition of one). */
    BROKER: DurableObjectNamespace<Broker>;
  }
}

/**
 * One Broker's data plane. Each event is stored with one delivery per Trigger whose filter it
 * matches (filters compiled once per plan, evaluated once per event) before the producer hears
 * 202. Replies re-enter here, matched against every Trigger including the one that replied, with
 * `knativebrokerttl` one lower each pass.
 */
export class Broker extends Dispatcher {
  protected readonly binding = "BROKER" as const;
  private filters: { uid: string; filter: CompiledFilter }[] = [];

  /** A drop is counted and listed by the Dispatcher, and shown as the event's outcome in the live tail. */
  protected accept(ev: CloudEvent, now: number, archive: boolean): void {
    const entered = enterBroker(ev, incomingTtl(ev), now);
    if (!entered) this.dropEvent(ev, "ttl-exhausted", "knativebrokerttl reached 0: the event looped through Brokers too often", now);
    else this.fanOut(entered.event, entered.ttl, now, archive);
  }

  /** The Triggers a replayed event takes: those of now whose filter matches, within `only`. */
  protected replayRoutes(event: CloudEvent, only: string[] | undefined): string[] {
    const view = eventView(event);
    const out: string[] = [];
    for (const f of this.filters) if ((!only || only.includes(f.uid)) && f.filter.matches(view)) out.push(f.uid);
    return out;
  }

  onReply(_d: Delivery, original: StoredEvent, reply: CloudEvent, now: number): void {
    // A reply enters like a published event: its type gets an EventType, and it is counted on its
    // own (`replies`, beside `accepted`, which counts what producers posted).
    this.observe(reply);
    this.counters.add("replies");
    const entered = enterBroker(reply, original.ttl, now);
    if (!entered) this.dropEvent(reply, "ttl-exhausted", "a reply's knativebrokerttl reached 0: Triggers are replying in a loop", now);
    else this.fanOut(entered.event, entered.ttl, now);
  }

  protected override onPlan(): void {
    useCorrelationKeys(this.env); // KN_VERIFY_CORRELATION_ID in filters checks ids with this deployment's keys
    this.filters = [];
    for (const r of this.plan?.routes ?? []) {
      try {
        this.filters.push({ uid: r.uid, filter: compileTriggerFilter(r.filter ?? {}) });
      } catch (e) {
        // Admission validated the filter; a failure here means stored data is damaged, not user error.
        log.error("trigger filter failed to compile; the Trigger receives nothing", { trigger: r.name, error: String(e) });
      }
    }
  }

  /** Replies re-enter here too; only what producers published is archived (`archive`). */
  private fanOut(event: CloudEvent, ttl: number, now: number, archive = false): void {
    const view = eventView(event);
    const matched: string[] = [];
    for (const f of this.filters) if (f.filter.matches(view)) matched.push(f.uid);
    if (matched.length === 0) this.dropEvent(event, "no-matching-trigger", "no Trigger of this Broker matches the event", now);
    if (matched.length > 0 || archive) this.ledger.record(event, ttl, matched, now, archive);
  }
}
