import type { CloudEvent } from "../core/cloudevents/event.js";
import { MAX_BROKER_TTL } from "../core/broker/ttl.js";
import { Dispatcher } from "./dispatcher.js";
import type { Delivery, StoredEvent } from "./ledger/machine.js";

declare module "./env.js" {
  interface Env {
    /** One object per Channel, InMemoryChannel and internal channel of a flow (or partition of one). */
    CHANNEL: DurableObjectNamespace<Channel>;
  }
}

/**
 * A durable channel: the data plane of Channel, InMemoryChannel, and the internal channels of
 * Sequence and Parallel. Every Subscription gets every event with its own retry state; a
 * subscriber's reply goes to the Subscription's `reply` through the same retries (and, when that
 * hop fails for good, the original event goes to the dead-letter sink); without a `reply` it is
 * discarded. Events pass through unchanged: a channel adds no attributes.
 */
export class Channel extends Dispatcher {
  protected readonly binding = "CHANNEL" as const;

  /** A drop is counted and listed by the Dispatcher, and shown as the event's outcome in the live tail. */
  protected accept(ev: CloudEvent, now: number, archive: boolean): void {
    const routes = [...this.routes.keys()];
    if (routes.length === 0) this.dropEvent(ev, "no-subscribers", "the channel has no ready Subscription", now);
    if (routes.length > 0 || archive) this.ledger.record(ev, MAX_BROKER_TTL, routes, now, archive);
  }

  /** Every Subscription of now (within `only`): a channel has no filters. */
  protected replayRoutes(_event: CloudEvent, only: string[] | undefined): string[] {
    const routes = [...this.routes.keys()];
    return only ? routes.filter((r) => only.includes(r)) : routes;
  }

  onReply(row: Delivery, original: StoredEvent, reply: CloudEvent, now: number): void {
    const route = this.route(row.route);
    if (route?.reply) this.ledger.recordReply(row, reply, original.ttl, now);
    else this.counters.add("repliesDiscarded");
  }
}
