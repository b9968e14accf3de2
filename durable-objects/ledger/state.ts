// The ledger's in-memory state, in one object that the state machine's modules share: the Ledger
// (./machine.ts) owns it, and the steps in ./dispatch.ts, ./batches.ts, ./flow.ts and ./failure.ts
// take it as their first argument, so every piece a transition reads or changes is named at the call.
import type { BatchDelivery, BatchEvent, EventLoc } from "./batch.js";
import type { Chains } from "./chains.js";
import type { RouteGate } from "./gate.js";
import type { LedgerCounters, LedgerHost, LedgerOptions, Timer, Transport } from "./contract.js";
import type { DeliveryRow, LedgerStore } from "./store.js";

/**
 * While deliveries on their first attempt are pending, the alarm stays at most this far away: they
 * have no row of their own, so if the runtime dies, the alarm is what brings the object back to
 * read them from their batch and send them again.
 */
export const LOCAL_RECOVERY_MS = 3_000;
/** Due within this much counts as due now (timers are not exact). */
export const DUE_SLACK_MS = 5;
/** Ids reserved per write of ledger_meta: one write per this many ids (and one per start). */
export const ID_BLOCK = 1 << 20;

/**
 * A pending delivery this incarnation works on: the fields of its row (./store.ts) and, while an
 * attempt is out, its dispatch. A delivery on its first attempt has no row: `home` says which
 * batch row and position record it, and where to mark it settled when it leaves that path.
 */
export interface Rec extends DeliveryRow {
  home: { batch: number; n: number } | null;
  /** Dispatch generation of the attempt out (unique in the object's history). */
  gen: number;
  /** While an attempt is out: when it is presumed lost (Infinity for the object's own attempt). */
  lease_until: number | null;
  /** The attempt out is made by the object itself. */
  local: boolean;
}

/** What the ledger knows of one batch row while it lives. */
export interface BatchState {
  id: number;
  /** Deliveries (on their first attempt, or rows) that still need this batch's events. */
  refs: number;
  /** Deliveries recorded in this batch still on their first attempt (for `pending` and recovery). */
  firstPath: number;
  /** Its events wait for the archive. */
  archive: boolean;
  replay: string | null;
  /** Positions settled in the row, as stored plus this flush's marks. */
  settled: Set<number>;
  /** `settled` changed in this flush. */
  dirty: boolean;
  /** Written in the current flush (not yet in storage). */
  fresh: boolean;
  /** Its first-path deliveries have records in memory (opened), or wait in storage. */
  opened: boolean;
  /** Its events, while some of its deliveries still wait to be sent. */
  events?: BatchEvent[];
  /** Ready deliveries of this batch: while any, its events stay cached. */
  ready: number;
}

/** A batch being filled by the current flush. */
export interface Building {
  state: BatchState;
  events: BatchEvent[];
  dels: BatchDelivery[];
  bytes: number;
}

/** Ids that only go up, never handed out twice in the object's history (ledger_meta reserves them). */
export class Ids {
  constructor(private next: number, private to: number, private readonly reserve: (to: number) => void) {}

  take(): number {
    if (this.next >= this.to) {
      this.to = this.next + ID_BLOCK;
      this.reserve(this.to);
    }
    return this.next++;
  }
}

/** What one Durable Object's ledger knows and holds while it lives (storage has the rest). */
export interface LedgerState {
  readonly store: LedgerStore;
  readonly transport: Transport;
  readonly timer: Timer;
  readonly host: LedgerHost;
  readonly counters: LedgerCounters;
  readonly opts: LedgerOptions;
  /** This incarnation's number (queue messages carry it: a message of another one is refused). */
  epoch: number;
  ids: Ids;
  /** Deliveries with an attempt out, by id (so outcomes settle without reading anything back). */
  readonly leased: Map<number, Rec>;
  /** Every live batch row. */
  readonly batches: Map<number, BatchState>;
  /** Batches whose first-path deliveries wait in storage for room, oldest first. */
  readonly unopened: number[];
  /** First-path deliveries waiting for room in the in-flight window, oldest first. */
  ready: Rec[];
  /** Some delivery may be waiting for room in the in-flight window. */
  starved: boolean;
  readonly chains: Chains;
  readonly gate: RouteGate;
  /** Batches of the current flush, by Replay uid ("" for everything else). */
  readonly building: Map<string, Building>;
  /** Batches whose last reference went in this flush: deleted at its end. */
  readonly doomed: Set<number>;
  /** Deliveries on their first attempt, over every batch (while any, the recovery alarm stays close). */
  firstPathTotal: number;
  /** Events loaded from storage during one pump, by locKey: what it dispatches is mostly one batch's. */
  loaded: Map<string, BatchEvent> | undefined;
}

export function locKey(l: EventLoc): string {
  return `${l.batch}:${l.idx}`;
}
