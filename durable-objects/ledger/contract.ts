// What the ledger's state machine (./machine.ts) needs from the object around it, and what it hands out.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryMessage, DeliveryOutcome, OwnerRef } from "../../core/delivery/messages.js";
import type { RoutePlan } from "../../core/resources/plan.js";
import type { TailOutcome } from "../../core/tail.js";
import type { BatchEvent } from "./batch.js";
import type { Rec } from "./state.js";

/** A pending delivery as the object around the ledger sees it (its route, hop and where its event is). */
export type Delivery = Rec;

/** An event as the ledger stored it, with the TTL its replies inherit. */
export interface StoredEvent {
  event: CloudEvent;
  ttl: number;
}

/** What the owning Durable Object provides to its ledger. */
export interface LedgerHost {
  readonly owner: OwnerRef;
  readonly namespace: string;
  route(uid: string): RoutePlan | undefined;
  allRoutes(): Iterable<RoutePlan>;
  /**
   * Keeps an event that could not be delivered (retries ran out with no dead-letter sink, or the
   * dead-letter sink refused it) instead of dropping it; false when it cannot be kept.
   */
  keepDeadLetter?(d: Delivery, event: CloudEvent, failure: DeadLetterFailure, now: number): boolean;
  /** A redriven dead letter was delivered (or dead-lettered to a sink): its entry goes. */
  redriveDone?(entryId: string): void;
  /** Whether anyone watches outcomes live; the outcome hook is only called then. */
  readonly watching?: boolean;
  onOutcome?(d: Delivery, eventId: string, outcome: TailOutcome, status: number | undefined): void;
  /**
   * Every outcome of a current dispatch, as it is settled (for metrics: the route, the hop, the
   * status and how long the attempt took); not called for outcomes of superseded dispatches.
   */
  onSettled?(d: Delivery, o: DeliveryOutcome): void;
  /** A subscriber answered with an event; runs inside the same flush as the success. */
  onReply(d: Delivery, original: StoredEvent, reply: CloudEvent, now: number): void;
}

/** The object's counters as the ledger uses them (../counters.ts). */
export interface LedgerCounters {
  add(name: string, n?: number): void;
  drop(reason: string, ev: { id: string; source: string; type: string; route: string; detail: string; traceId?: string }, now: number): void;
  /**
   * Increments the flush must make durable, to be written in the batch row it inserts; the caller
   * writes them (or gives them back with `untake`).
   */
  take?(): Record<string, number> | undefined;
  /** Gives back what `take` returned when no batch row was inserted after all. */
  untake?(counts: Record<string, number>): void;
  /** Counts written in a batch row now inserted, or read from one at start (`batch` holds them). */
  inRow?(batch: number, counts: Record<string, number>): void;
  /** A batch row holding counts is deleted in this flush: its counts must be written elsewhere. */
  rowDeleted?(batch: number): void;
}

export interface DeadLetterFailure {
  status?: number;
  reason: string;
  detail: string;
  attempts: number;
}

export type { TailOutcome, BatchEvent };

/** One attempt handed to the transport: made by the object itself (`local`) or sent through a queue. */
export interface Dispatch {
  msg: DeliveryMessage;
  event: CloudEvent;
  local: boolean;
  delaySeconds?: number;
}

/** How attempts leave the object (see ./outbox.ts). Sends wait for the flush that records them. */
export interface Transport {
  /** Whether one more attempt due now fits in the object's own connection window and budget. */
  hasLocalRoom(): boolean;
  send(d: Dispatch): void;
}

export interface Timer {
  /** The object's alarm fires no later than `at` (durable: survives a restart). */
  wakeAt(at: number): void;
  /** `tick()` runs around `at` while the object lives (for pacing; not durable). */
  soon(at: number): void;
}

export interface LedgerOptions {
  /** Added to an attempt's lease before a silent dispatch is presumed lost and sent again. */
  leaseSlackMs: number;
  /**
   * Most deliveries one owner keeps dispatched at once; the rest wait, oldest first, and go out as
   * outcomes come back. Bounds what a burst puts on the queue (Queues take 5,000 messages/s per
   * queue; a local queue holds at most ~10,000 pending messages).
   */
  maxInFlight: number;
  /**
   * How long a delivery handed to the queue may wait for a consumer to claim it before it is
   * presumed lost (a consumer that gave up on the message) and sent again. A consumer claims each
   * delivery right before its attempt, which restarts the lease; an old message is then refused.
   */
  queueLeaseMs: number;
}

/** Ledger settings from the Worker's vars (`LEASE_SLACK_SECONDS`, `MAX_IN_FLIGHT`, `QUEUE_LEASE_SECONDS`). */
export function ledgerOptions(env: { LEASE_SLACK_SECONDS?: string; MAX_IN_FLIGHT?: string; QUEUE_LEASE_SECONDS?: string }): LedgerOptions {
  const num = (v: string | undefined, dflt: number) => {
    const n = Number(v);
    return v !== undefined && v !== "" && Number.isFinite(n) && n >= 0 ? n : dflt;
  };
  return {
    leaseSlackMs: num(env.LEASE_SLACK_SECONDS, 30) * 1000,
    maxInFlight: Math.max(1, num(env.MAX_IN_FLIGHT, 1000)),
    queueLeaseMs: Math.max(1, num(env.QUEUE_LEASE_SECONDS, 900)) * 1000,
  };
}

/** A consumer's claim of a delivery it is about to attempt. */
export interface Claim {
  id: number;
  gen: number;
}

/** The answer to a claim: go (with the event when the message did not carry it), or skip it. */
export type ClaimAnswer = { ok: true; event?: CloudEvent } | { ok: false; reason: string };
