// Everything a Dispatcher (./dispatcher.ts) sends, and when: its Outbox (./ledger/outbox.ts:
// attempts from the object's own connections, the rest through the delivery and dead-letter
// queues), each attempt and queue message carrying its route's sender identity, the outcomes of the
// object's own attempts settled in batches, and the ledger's timer. Separate from the Dispatcher
// because it is the delivery path's plumbing, not the object's RPC surface.
import type { CloudEvent } from "../core/cloudevents/event.js";
import { Budget } from "../core/delivery/budget.js";
import { IO_RESERVED_CONNECTIONS, Limiter, PLATFORM_CONNECTIONS } from "../core/delivery/limiter.js";
import type { AttemptSpec, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import type { RoutePlan } from "../core/resources/plan.js";
import type { AlarmClock } from "./alarm.js";
import type { Effects, GroupCommit } from "./group-commit.js";
import type { Ledger, Timer } from "./ledger/machine.js";
import { Outbox, type OutboxOptions } from "./ledger/outbox.js";
import { PacingTimer } from "./pacing.js";
import { withDeliveryAuth } from "./sender.js";
import type { Meter } from "./meter.js";

/** What the Dispatcher lends what it sends. */
export interface OutboundDeps {
  queues: { delivery: Queue; deadLetter: Queue };
  options: OutboxOptions;
  owner: () => string;
  clock: AlarmClock;
  commits: GroupCommit;
  effects: Effects;
  /** The ledger is built on this outbox, so it is asked for when an outcome arrives. */
  ledger: () => Ledger;
  route: (uid: string) => RoutePlan | undefined;
  /** Makes one attempt as signed: an RPC to an object of this system, or an HTTP request. */
  attempt: (spec: AttemptSpec & { object?: OwnerRef }, event: CloudEvent) => Promise<DeliveryOutcome>;
  /** Subrequests one invocation may make (core/delivery/budget.ts). */
  subrequests: number;
  meter: Meter;
}

/**
 * The sending side of one Dispatcher.
 *
 * @example
 * const outbound = new Outbound({ queues, options: outboxOptions(env), owner, clock, commits, effects, ledger: () => ledger, route, attempt, subrequests, meter });
 * const ledger = new Ledger(store, outbound.outbox, outbound.timer, host, counters, ledgerOptions(env));
 */
export class Outbound {
  readonly outbox: Outbox;
  /** The ledger's timer: the object's durable alarm, and in-memory pacing ticks. */
  readonly timer: Timer;
  /** The object's six connections (one kept for queue sends and R2 writes), shared with its archive. */
  readonly connections = new Limiter(PLATFORM_CONNECTIONS, IO_RESERVED_CONNECTIONS);
  /** Subrequests of the invocation under way: each request or alarm the object receives starts anew. */
  readonly budget: Budget;
  private ownOutcomes: DeliveryOutcome[] = [];
  private settleQueued = false;

  constructor(private readonly d: OutboundDeps) {
    this.budget = new Budget(d.subrequests);
    this.outbox = new Outbox({
      queues: d.queues,
      owner: d.owner,
      // Queue consumers have no plan: each message carries who sends it.
      stamp: (m) => this.withAuth(m),
      attempt: (spec, event) => d.attempt(this.withAuth(spec), event),
      settle: (o) => this.settleOwn(o),
      requeue: (items) => void d.commits.run(() => d.ledger().requeue(items, Date.now())).catch(() => {}),
      check: (id, gen) => d.ledger().check(id, gen),
      after: (fn) => d.effects.after(fn),
      connections: this.connections,
      budget: this.budget,
      meter: d.meter,
    }, d.options);
    const pacing = new PacingTimer(() => void d.commits.run(() => d.ledger().tick()).catch(() => {}));
    this.timer = { wakeAt: (at: number) => d.clock.wakeAt(at), soon: (at: number) => pacing.soon(at) };
  }

  /** A request or alarm reached the object: a new invocation, with its own subrequest budget. */
  invocation(): void {
    this.budget.reset();
  }

  /**
   * Outcomes of the object's own attempts are settled together, in one job per group commit, so
   * the ledger looks for due deliveries once per flush rather than once per outcome.
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
      // The flush failed and the ledger restarts from storage: these deliveries are sent again.
      this.settleQueued = false;
    });
  }

  /** The spec with its route's sender identity, audience and signing secret. */
  private withAuth<T extends AttemptSpec>(spec: T): T {
    return withDeliveryAuth(spec, spec.route !== undefined ? this.d.route(spec.route) : undefined);
  }
}
