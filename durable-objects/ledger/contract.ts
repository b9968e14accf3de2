// What the ledger's state machine (./machine.ts) needs from the object around it, and what it hands out.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryMessage, DeliveryOutcome, OwnerRef } from "../../core/delivery/messages.js";
import type { RoutePlan } from "../../core/resources/plan.js";
import type { TailOutcome } from "../../core/tail.js";
import type { DeliveryRow, StoredEvent } from "./store.js";

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
  keepDeadLetter?(row: DeliveryRow, event: CloudEvent, failure: DeadLetterFailure, now: number): boolean;
  /** A redriven dead letter was delivered (or dead-lettered to a sink): its entry goes. */
  redriveDone?(entryId: string): void;
  /** Whether anyone watches outcomes live; the outcome hook is only called then. */
  readonly watching?: boolean;
  onOutcome?(row: DeliveryRow, eventId: string, outcome: TailOutcome, status: number | undefined): void;
  /** A subscriber answered with an event; runs inside the same storage turn as the success. */
  onReply(row: DeliveryRow, original: StoredEvent, reply: CloudEvent, now: number): void;
}

export interface LedgerCounters {
  add(name: string, n?: number): void;
  drop(reason: string, ev: { id: string; source: string; type: string; route: string; detail: string; traceId?: string }, now: number): void;
}

export interface DeadLetterFailure {
  status?: number;
  reason: string;
  detail: string;
  attempts: number;
}

export type { TailOutcome };

/** One attempt handed to the transport: made by the object itself (`local`) or sent through a queue. */
export interface Dispatch {
  msg: DeliveryMessage;
  event: CloudEvent;
  local: boolean;
  delaySeconds?: number;
}

/** How attempts leave the object (see ./outbox.ts). */
export interface Transport {
  /** Whether one more attempt due now fits in the object's own connection window. */
  hasLocalRoom(): boolean;
  /** Whether the object's own attempt of this delivery is running now. */
  isLocal(id: number): boolean;
  /** How many of the object's own attempts are running. */
  localCount(): number;
  send(d: Dispatch): void;
}

export interface Timer {
  /** The object's alarm fires no later than `at` (durable: survives a restart). */
  wakeAt(at: number): void;
  /** `tick()` runs around `at` while the object lives (for pacing; not durable). */
  soon(at: number): void;
}

export interface LedgerOptions {
  /** Added to an attempt's timeout before a silent dispatch is presumed lost and sent again. */
  leaseSlackMs: number;
  /**
   * Most deliveries one owner keeps dispatched at once; the rest wait in storage, oldest first, and
   * go out as outcomes come back. Bounds what a burst puts on the queue (Queues take 5,000
   * messages/s per queue; a local queue holds at most ~10,000 pending messages).
   */
  maxInFlight: number;
}

/** Ledger settings from the Worker's vars (`LEASE_SLACK_SECONDS`, `MAX_IN_FLIGHT`). */
export function ledgerOptions(env: { LEASE_SLACK_SECONDS?: string; MAX_IN_FLIGHT?: string }): LedgerOptions {
  const num = (v: string | undefined, dflt: number) => {
    const n = Number(v);
    return v !== undefined && v !== "" && Number.isFinite(n) && n >= 0 ? n : dflt;
  };
  return { leaseSlackMs: num(env.LEASE_SLACK_SECONDS, 30) * 1000, maxInFlight: Math.max(1, num(env.MAX_IN_FLIGHT, 1000)) };
}
