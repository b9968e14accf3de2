import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { Hop } from "../../core/delivery/messages.js";

/** A delivery's durable record. */
export interface DeliveryRow {
  id: number;
  event_seq: number;
  route: string;
  hop: Hop;
  reply_seq: number | null;
  attempt: number;
  due_at: number;
  lease_until: number | null;
  gen: number;
  error: string | null;
  /** 1 while the leased attempt is made by the owning object itself. */
  local: number;
  /** For ordered routes: the key whose deliveries go one at a time ("" for events without a partitionkey). */
  order_key: string | null;
  /** 1 while an earlier delivery of the same ordered chain is unsettled. */
  blocked: number;
  /** 429s this delivery waited out without spending a retry. */
  throttles: number;
  /** The kept dead letter this delivery redrives (its entry goes once delivered). */
  redrive_of?: string | null;
}

export interface StoredEvent {
  event: CloudEvent;
  /** Broker TTL left for replies to this event. */
  ttl: number;
}

export type NewDelivery = Pick<DeliveryRow, "event_seq" | "route" | "hop" | "reply_seq" | "due_at"> &
  Partial<Pick<DeliveryRow, "gen" | "lease_until" | "local" | "order_key" | "blocked" | "redrive_of">>;
export type DeliveryPatch = Partial<Pick<DeliveryRow, "hop" | "attempt" | "due_at" | "lease_until" | "gen" | "error" | "local" | "blocked" | "throttles">>;

/**
 * What the ledger's state machine needs from storage. The Durable Object's SQLite implements it
 * (`SqlLedgerStore`); unit tests use an in-memory one. Every method is synchronous: a Durable
 * Object's writes between two awaits commit together, so a transition is atomic.
 */
export interface LedgerStore {
  /** `archive`: the event stays (even with no delivery left) until the archive has written it. */
  insertEvent(event: CloudEvent, ttl: number, now: number, archive?: boolean, replay?: string): number;
  loadEvent(seq: number): StoredEvent | undefined;
  insertDelivery(d: NewDelivery): number;
  delivery(id: number): DeliveryRow | undefined;
  update(id: number, patch: DeliveryPatch): void;
  /** Deletes the row, and each of its events that no other row needs and the archive does not wait for. */
  remove(row: DeliveryRow): void;
  /** Rows whose lease ran out by `now`, at most `limit`. */
  lapsed(now: number, limit: number): DeliveryRow[];
  /** Unleased, unblocked rows due by `now`, oldest first, at most `limit`, leaving out subscriber hops of `holdRoutes`. */
  due(now: number, limit: number, holdRoutes?: string[]): DeliveryRow[];
  /** The oldest blocked row of an ordered chain. */
  nextBlocked(route: string, key: string): DeliveryRow | undefined;
  /** Unsettled, unblocked rows of each ordered chain (after a restart). */
  chainCounts(): { route: string; order_key: string; n: number }[];
  /** Leased subscriber requests per route (after a restart). */
  leasedByRoute(): { route: string; n: number }[];
  /** Every row (for dropping all of them). */
  all(): DeliveryRow[];
  count(): number;
  leasedCount(): number;
  /** The earliest lease end, and the earliest due time after `now` of an unleased row. */
  nextTimes(now: number): { lease?: number; due?: number };
  /** Ends every lease of an attempt the object made itself (they died with it); returns how many. */
  expireLocalLeases(now: number): number;
  /** Storage may not hold what was written since the last commit, or was wiped: drop what is remembered of it. */
  forget?(): void;
}
