// The failure path of a delivery: a failed attempt waits for its backoff and is sent again, or,
// once retries run out, becomes a dead-letter hop, is kept as a dead letter, or is dropped.
// Separate from ./machine.ts because it holds the delivery policy's decisions (Knative's retry,
// backoff and deadLetterSink), which read on their own. Every step here leaves the first-attempt
// path, so a delivery that fails gets a row of its own (./dispatch.ts persist).
import { isRetryable, retryDelayMs } from "../../core/delivery/policy.js";
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import { log } from "../../core/log.js";
import { redactUrl } from "../../core/redact.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import { flowControlled, MAX_THROTTLES } from "./gate.js";
import { errorJson, hopTarget } from "./hop.js";
import { throttle } from "./flow.js";
import { drop, finish, leaveChain, observe, payload, persist, release, schedule, trySend, type ChainMember } from "./dispatch.js";
import type { LedgerState, Rec } from "./state.js";

/** Settles a failed attempt of the delivery's current dispatch. */
export function fail(s: LedgerState, rec: Rec, o: DeliveryOutcome, now: number): void {
  const route = s.host.route(rec.route);
  if (!route) return drop(s, rec, "route-deleted", "its Trigger or Subscription was deleted", now);
  if (o.status === 429 && rec.hop === "subscriber" && flowControlled(route) && rec.throttles < MAX_THROTTLES) {
    return throttle(s, rec, route, o, now);
  }
  const attempts = rec.attempt + 1;
  const dest = hopTarget(route, rec.hop)?.url ?? "";
  log.warn("delivery attempt failed", {
    owner: s.host.owner.name, route: route.name, hop: rec.hop, attempt: attempts, dest, status: o.status, error: o.error,
    ...(o.traceId ? { traceId: o.traceId } : {}),
  });
  const member: ChainMember = { route: rec.route, order_key: rec.order_key, hop: rec.hop, blocked: rec.blocked };
  if (isRetryable(o.status) && attempts <= route.policy.retry) {
    release(s, rec);
    persist(s, rec, { attempt: attempts, due_at: now + retryDelayMs(route.policy, attempts, o.status, o.retryAfterMs), leased: 0 });
    s.counters.add("retried");
    observe(s, rec, "retrying", o.status);
    schedule(s, rec, now);
    return;
  }
  if (rec.hop !== "dls" && route.deadLetter) {
    release(s, rec);
    persist(s, rec, { hop: "dls", attempt: 0, due_at: now, leased: 0, error: errorJson(dest, o) });
    trySend(s, rec, undefined, now);
    // Dead-lettered counts as settled for ordering: the key's next event may go.
    leaveChain(s, member, now);
    return;
  }
  const reason = rec.hop === "dls" ? "dead-letter-failed" : "retries-exhausted";
  // Stored in the drops list and /stats: the destination's secrets stay out (core/redact.ts).
  const detail = `${attempts} attempt(s) to ${redactUrl(dest)} failed; last: ${o.error ?? `HTTP ${o.status}`}`;
  // Kept rather than dropped: with Knative's error extensions, as a dead-letter sink would get it.
  const kept = rec.hop === "dls" ? payload(s, rec) : payload(s, { ...rec, hop: "dls", error: errorJson(dest, o) });
  if (kept && s.host.keepDeadLetter?.(rec, kept, { ...(o.status !== undefined ? { status: o.status } : {}), reason, detail, attempts }, now)) {
    observe(s, rec, "kept", o.status);
    finish(s, rec, true);
    s.counters.add(`kept.${reason}`);
    log.warn("event kept as a dead letter", { owner: s.host.owner.name, route: route.name, reason, detail, id: String(kept.attrs.id ?? ""), ...traceFields(kept) });
    leaveChain(s, member, now);
    return;
  }
  drop(s, rec, reason, detail, now);
}
