// The failure path of a delivery: a failed attempt waits for its backoff and is sent again, or,
// once retries run out, becomes a dead-letter hop, is kept as a dead letter, or is dropped.
// Separate from ./machine.ts because it holds the delivery policy's decisions (Knative's retry,
// backoff and deadLetterSink), which read on their own.
import { isRetryable, retryDelayMs } from "../../core/delivery/policy.js";
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import { log } from "../../core/log.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import type { DeliveryRow } from "./store.js";
import { flowControlled, MAX_THROTTLES } from "./gate.js";
import { errorJson, hopTarget } from "./hop.js";
import { release, throttle } from "./flow.js";
import { drop, leaveChain, observe, payload, remove, schedule, trySend } from "./dispatch.js";
import type { LedgerState } from "./state.js";

/** Settles a failed attempt of the row's current dispatch. */
export function fail(s: LedgerState, row: DeliveryRow, o: DeliveryOutcome, now: number): void {
  const route = s.host.route(row.route);
  if (!route) return drop(s, row, "route-deleted", "its Trigger or Subscription was deleted", now);
  if (o.status === 429 && row.hop === "subscriber" && flowControlled(route) && row.throttles < MAX_THROTTLES) {
    return throttle(s, row, route, o, now);
  }
  const attempts = row.attempt + 1;
  const dest = hopTarget(route, row.hop)?.url ?? "";
  log.warn("delivery attempt failed", {
    owner: s.host.owner.name, route: route.name, hop: row.hop, attempt: attempts, dest, status: o.status, error: o.error,
    ...(o.traceId ? { traceId: o.traceId } : {}),
  });
  if (isRetryable(o.status) && attempts <= route.policy.retry) {
    const dueAt = now + retryDelayMs(route.policy, attempts, o.status, o.retryAfterMs);
    s.store.update(row.id, { attempt: attempts, due_at: dueAt, lease_until: null, local: 0 });
    release(s, row);
    s.counters.add("retried");
    observe(s, row, "retrying", o.status);
    schedule(s, { ...row, attempt: attempts, due_at: dueAt, lease_until: null, local: 0 }, now);
    return;
  }
  if (row.hop !== "dls" && route.deadLetter) {
    const error = errorJson(dest, o);
    s.store.update(row.id, { hop: "dls", attempt: 0, due_at: now, lease_until: null, error, local: 0 });
    release(s, row);
    trySend(s, { ...row, hop: "dls", attempt: 0, due_at: now, lease_until: null, error, local: 0 }, undefined, now);
    // Dead-lettered counts as settled for ordering: the key's next event may go.
    leaveChain(s, row, now);
    return;
  }
  const reason = row.hop === "dls" ? "dead-letter-failed" : "retries-exhausted";
  const detail = `${attempts} attempt(s) to ${dest} failed; last: ${o.error ?? `HTTP ${o.status}`}`;
  // Kept rather than dropped: with Knative's error extensions, as a dead-letter sink would get it.
  const kept = row.hop === "dls" ? payload(s, row) : payload(s, { ...row, hop: "dls", error: errorJson(dest, o) });
  if (kept && s.host.keepDeadLetter?.(row, kept, { ...(o.status !== undefined ? { status: o.status } : {}), reason, detail, attempts }, now)) {
    observe(s, row, "kept", o.status);
    remove(s, row);
    s.counters.add(`kept.${reason}`);
    log.warn("event kept as a dead letter", { owner: s.host.owner.name, route: route.name, reason, detail, id: String(kept.attrs.id ?? ""), ...traceFields(kept) });
    leaveChain(s, row, now);
    return;
  }
  drop(s, row, reason, detail, now);
}
