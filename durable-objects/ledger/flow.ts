// Flow control of the ledger: the in-flight window every delivery counts against, and the per-route
// pacing (`eddy.dev/max-in-flight`, `eddy.dev/rate-limit`, a subscriber's 429) that holds a route's
// rows back. Separate from ./dispatch.ts because these steps only count, hold and wake: none of them
// sends, so a newcomer can read the pacing rules without the sending path.
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import type { RoutePlan } from "../../core/resources/plan.js";
import { log } from "../../core/log.js";
import type { DeliveryRow } from "./store.js";
import { flowControlled } from "./gate.js";
import { LOCAL_RECOVERY_MS, type LedgerState } from "./state.js";

/** A leased row stops counting as in flight. */
export function release(s: LedgerState, row: DeliveryRow): void {
  if (row.lease_until === null) return;
  s.inFlight = Math.max(0, s.inFlight - 1);
  if (row.hop === "subscriber") {
    s.gate.released(row.route);
    // A route held at its max-in-flight may send again.
    if (s.host.route(row.route)?.maxInFlight !== undefined) s.starved = true;
  }
}

/** The route may not send now (flow control): the row waits in storage, unleased, until `next`. */
export function hold(s: LedgerState, row: DeliveryRow, next: number, now: number): void {
  if (row.id === 0) row.id = s.store.insertDelivery(row);
  else if (row.lease_until !== null) {
    s.store.update(row.id, { lease_until: null, local: 0 });
    s.leased.delete(row.id);
    s.inFlight = Math.max(0, s.inFlight - 1);
    row.lease_until = null;
  }
  s.starved = true;
  if (next !== Infinity) s.timer.soon(next);
  // Durable backstop: after a restart the alarm brings the object back to the waiting rows.
  s.timer.wakeAt(now + LOCAL_RECOVERY_MS);
}

/** A 429 from a flow-controlled route: pause the route (Retry-After, or growing waits) without spending a retry. */
export function throttle(s: LedgerState, row: DeliveryRow, route: RoutePlan, o: DeliveryOutcome, now: number): void {
  const until = s.gate.pause(route.uid, now, row.throttles, o.retryAfterMs);
  s.store.update(row.id, { due_at: until, lease_until: null, local: 0, throttles: row.throttles + 1 });
  release(s, row);
  s.counters.add("throttled");
  log.warn("subscriber asked to slow down (429): its route pauses", { owner: s.host.owner.name, route: route.name, untilMs: until - now, ...(o.traceId ? { traceId: o.traceId } : {}) });
  s.starved = true;
  s.timer.soon(until);
  s.timer.wakeAt(until);
}

/** The routes with any per-subscriber flow control. */
export function* flowRoutes(s: LedgerState): Iterable<RoutePlan> {
  for (const r of s.host.allRoutes()) if (flowControlled(r)) yield r;
}
