// The ledger's in-memory state, in one object that the state machine's modules share: the Ledger
// (./machine.ts) owns it, and the steps in ./dispatch.ts, ./flow.ts and ./failure.ts take it as
// their first argument, so every piece a transition reads or changes is named at the call.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryRow, LedgerStore } from "./store.js";
import type { Chains } from "./chains.js";
import type { RouteGate } from "./gate.js";
import type { LedgerCounters, LedgerHost, LedgerOptions, Timer, Transport } from "./contract.js";

/**
 * While the object makes attempts itself, the alarm stays at most this far away: if the runtime
 * dies, those attempts die with it, and the alarm is what brings the object back to send them again.
 */
export const LOCAL_RECOVERY_MS = 3_000;
/** Due within this much counts as due now (timers are not exact). */
export const DUE_SLACK_MS = 5;

/** What one Durable Object's ledger knows and holds while it lives (storage has the rest). */
export interface LedgerState {
  readonly store: LedgerStore;
  readonly transport: Transport;
  readonly timer: Timer;
  readonly host: LedgerHost;
  readonly counters: LedgerCounters;
  readonly opts: LedgerOptions;
  /** Leased rows. */
  inFlight: number;
  /** Some due row may be waiting for room in the in-flight window. */
  starved: boolean;
  readonly chains: Chains;
  readonly gate: RouteGate;
  /**
   * Rows this incarnation leased, exactly as stored, so an outcome of their current dispatch
   * settles without reading the row back. While a row is leased nothing else writes it but a new
   * lease end (kept here too) or a new dispatch (a new generation, remembered in its place);
   * outcomes of other generations and rows leased before a restart are read from storage. At most
   * `maxInFlight` rows are leased at once.
   */
  readonly leased: Map<number, DeliveryRow>;
  /** Events loaded during one pump: the rows it dispatches are mostly one event's fan-out. */
  loaded: Map<number, CloudEvent> | undefined;
}
