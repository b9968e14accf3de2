// Everything a Dispatcher (./dispatcher.ts) sends, and when: its Outbox (./ledger/outbox.ts:
// attempts from the object's own connections, the rest through the delivery and dead-letter
// queues), each attempt and queue message carrying its route's sender identity, the outcomes of the
// object's own attempts settled in batches, and the ledger's timer. Separate from the Dispatcher
// because it is the delivery path's plumbing, not the object's RPC surface.
import type { CloudEvent } from "../core/cloudevents/event.js";
import type { AttemptSpec, DeliveryMessage, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import type { RoutePlan } from "../core/resources/plan.js";
import type { AlarmClock } from "./alarm.js";
import type { GroupCommit } from "./group-commit.js";
import type { Ledger, Timer } from "./ledger/machine.js";
import { Outbox, type OutboxOptions } from "./ledger/outbox.js";
import type { LedgerStore } from "./ledger/store.js";
import { PacingTimer } from "./pacing.js";
import { stampingQueue, withDeliveryAuth } from "./sender.js";

/** What the Dispatcher lends what it sends. */
export interface OutboundDeps {
  queues: { delivery: Queue<DeliveryMessage>; deadLetter: Queue<DeliveryMessage> };
  options: OutboxOptions;
  owner: () => string;
  clock: AlarmClock;
  commits: GroupCommit;
  /** The ledger is built on this outbox, so it is asked for when an outcome arrives. */
  ledger: () => Ledger;
  store: LedgerStore;
  route: (uid: string) => RoutePlan | undefined;
  /** Makes one attempt as signed: an RPC to an object of this system, or an HTTP request. */
  attempt: (spec: AttemptSpec & { object?: OwnerRef }, event: CloudEvent) => Promise<DeliveryOutcome>;
}

/**
 * The sending side of one Dispatcher.
 *
 * @example
 * const outbound = new Outbound({ queues, options: outboxOptions(env), owner, clock, commits, ledger: () => ledger, store, route, attempt });
 * const ledger = new Ledger(store, outbound.outbox, outbound.timer, host, counters, ledgerOptions(env));
 */
export class Outbound {
  readonly outbox: Outbox;
  /** The ledger's timer: the object's durable alarm, and in-memory pacing ticks. */
  readonly timer: Timer;
  private ownOutcomes: DeliveryOutcome[] = [];
  private settleQueued = false;

  constructor(private readonly d: OutboundDeps) {
    // Queue consumers have no plan: each message carries who sends it.
    const stamp = (m: DeliveryMessage) => this.withAuth(m);
    this.outbox = new Outbox({
      queues: { delivery: stampingQueue(d.queues.delivery, stamp), deadLetter: stampingQueue(d.queues.deadLetter, stamp) },
      owner: d.owner,
      attempt: (spec, event) => d.attempt(this.withAuth(spec), event),
      settle: (o) => this.settleOwn(o),
      requeue: (items) => d.ledger().retrySoon(items, Date.now()),
    }, d.options);
    const pacing = new PacingTimer(() => void d.commits.run(() => d.ledger().tick(Date.now())).catch(() => {}));
    this.timer = { wakeAt: (at: number) => d.clock.wakeAt(at), soon: (at: number) => pacing.soon(at) };
  }

  /**
   * Outcomes of the object's own attempts are settled together, in one job per group commit, so
   * the ledger looks for due rows once per flush rather than once per outcome.
   */
  private settleOwn(o: DeliveryOutcome): void {
    this.ownOutcomes.push(o);
    if (this.settleQueued) return;
    this.settleQueued = true;
    void this.d.commits.run(() => {
      this.settleQueued = false;
      const outcomes = this.ownOutcomes;
      this.ownOutcomes = [];
      this.d.ledger().settle(outcomes, Date.now());
    }).catch(() => {
      // Outcomes the failed flush never took wait for the next one.
      this.settleQueued = false;
    });
  }

  /** The spec with its route's sender identity, audience and signing secret. */
  private withAuth<T extends AttemptSpec>(spec: T): T {
    // Dispatches name their route; reading the row is only for a spec that does not.
    const route = spec.route ?? this.d.store.delivery(spec.id)?.route;
    return withDeliveryAuth(spec, route !== undefined ? this.d.route(route) : undefined);
  }
}
