import type { Hop } from "../../core/delivery/messages.js";
import type { BatchColumns, BatchEvent, BatchSummary, EventLoc, NewBatch } from "./batch.js";

export type { BatchEvent, BatchSummary, EventLoc, NewBatch };

/**
 * A delivery off the first-attempt path, as its row in `deliveries` keeps it: waiting for a retry,
 * held by flow control or an ordered chain, on its dead-letter hop, or a reply hop that failed
 * once. A delivery on its first attempt has no row: its batch row is its record (./batch.ts).
 */
export interface DeliveryRow {
  id: number;
  /** The original event (a reply hop's dead letter carries it). */
  event: EventLoc;
  /** Reply hops: the reply being forwarded. */
  reply: EventLoc | null;
  route: string;
  hop: Hop;
  /** Attempts made on this hop. */
  attempt: number;
  /** When it is due; while `leased`, when its lease ends. */
  due_at: number;
  /** 1 while an attempt is out (its lease lives in memory). */
  leased: number;
  /** Knative's error extensions for the dead-letter hop (JSON). */
  error: string | null;
  order_key: string | null;
  /** 1 while an earlier delivery of the same ordered chain is unsettled. */
  blocked: number;
  /** 429s this delivery waited out without spending a retry. */
  throttles: number;
  redrive_of: string | null;
}

export type RowPatch = Partial<Pick<DeliveryRow, "hop" | "attempt" | "due_at" | "leased" | "error" | "blocked" | "throttles">>;

/**
 * What the ledger needs from storage. The Durable Object's SQLite implements it (./sql-store.ts);
 * unit tests use an in-memory one. Every method is synchronous: a Durable Object's writes between
 * two awaits commit together, and the group commit (../group-commit.ts) wraps each flush in one
 * transaction.
 */
export interface LedgerStore {
  /** Starts an incarnation: the next epoch, and a block of ids no earlier incarnation handed out. */
  begin(block: number): { epoch: number; from: number; to: number };
  /** Reserves ids up to `to` (called before the ids handed out pass the reserved block). */
  reserve(to: number): void;

  insertBatch(b: NewBatch, archive: boolean): void;
  /** Every live batch, without its events, oldest first. */
  batches(): BatchSummary[];
  /** The events of a batch (and what it owes), or undefined when it is gone. */
  batch(id: number): { events: BatchEvent[]; summary: BatchSummary } | undefined;
  setSettled(id: number, settled: Iterable<number>): void;
  /** The archive wrote the batch's events. */
  setArchived(id: number): void;
  deleteBatch(id: number): void;
  /** Batches waiting for the archive, oldest first, with their events. */
  archiveWaiting(limit: number): { id: number; events: BatchEvent[] }[];

  insertRow(r: DeliveryRow): void;
  row(id: number): DeliveryRow | undefined;
  update(id: number, patch: RowPatch): void;
  deleteRow(id: number): void;
  /** Unleased, unblocked rows due by `now`, oldest first, at most `limit`, leaving out subscriber hops of `holdRoutes`. */
  due(now: number, limit: number, holdRoutes: string[]): DeliveryRow[];
  /** The oldest blocked row of an ordered chain. */
  nextBlocked(route: string, key: string): DeliveryRow | undefined;
  /** Every row (after a restart, and to drop them all). */
  rows(): DeliveryRow[];
  rowCount(): number;
  /** The earliest due time after `now` of an unleased, unblocked row. */
  nextDue(now: number): number | undefined;
  /** Every lease ended with its incarnation: leased rows are due at `now`. */
  unleaseAll(now: number): number;
  /** Every ledger table emptied (the owner was deleted); the epoch and the ids handed out stay. */
  wipe(): void;
}

export type { BatchColumns };
