// Flow control of the ledger: the per-route pacing (`eddy.dev/max-in-flight`, `eddy.dev/rate-limit`,
// a subscriber's 429) that holds a route's deliveries back. Separate from ./dispatch.ts because
// these steps only count, hold and wake: none of them sends, so a newcomer can read the pacing
// rules without the sending path. A held delivery waits in a row of its own (holds may write more
// than a plain delivery; docs/costs.md says how much).
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import type { RoutePlan } from "../../core/resources/plan.js";
import { log } from "../../core/log.js";
import { flowControlled } from "./gate.js";
import { persist, release } from "./dispatch.js";
import { LOCAL_RECOVERY_MS, type LedgerState, type Rec } from "./state.js";

/** The route may not send now (flow control): the delivery waits in its row, unleased, until `next`. */
export function hold(s: LedgerState, rec: Rec, next: number, now: number): void {
  const wasOut = rec.lease_until !== null;
  release(s, rec);
  if (rec.home) persist(s, rec, { due_at: Math.max(now, rec.due_at), leased: 0 });
  else if (wasOut) s.store.update(rec.id, { leased: 0, due_at: Math.max(now, rec.due_at) });
  s.starved = true;
  if (next !== Infinity) s.timer.soon(next);
  // Durable backstop: after a restart the alarm brings the object back to the waiting rows.
  s.timer.wakeAt(now + LOCAL_RECOVERY_MS);
}

/** A 429 from a flow-controlled route: pause the route (Retry-After, or growing waits) without spending a retry. */
export function throttle(s: LedgerState, rec: Rec, route: RoutePlan, o: DeliveryOutcome, now: number): void {
  const until = s.gate.pause(route.uid, now, rec.throttles, o.retryAfterMs);
  release(s, rec);
  persist(s, rec, { due_at: until, leased: 0, throttles: rec.throttles + 1 });
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
