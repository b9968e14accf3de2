// Leases of the deliveries out: a queue consumer's claim right before its attempt (which holds the
// delivery for the consumer's batch), a queue send that failed (the lease ends soon), and the alarm
// that sends again what no consumer claimed or settled in time. Separate from ./machine.ts because
// this is where the ledger meets the queue's at-least-once, and reads on its own.
import { log } from "../../core/log.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import type { Claim, ClaimAnswer } from "./contract.js";
import { dispatch, drop, payload, pump, release } from "./dispatch.js";
import { DUE_SLACK_MS, LOCAL_RECOVERY_MS, type LedgerState, type Rec } from "./state.js";

/** A delivery whose route is gone: dropped, counted as route-deleted. */
export function dropDeleted(s: LedgerState, rec: Rec, now: number): void {
  drop(s, rec, "route-deleted", "its Trigger or Subscription was deleted", now);
}

/**
 * Answers a consumer's claims: go for the current dispatch (its lease now runs to `until` plus the
 * slack, with the event when its message could not carry it); skip for anything else — another
 * dispatch replaced it, it was settled, it came from another incarnation, or its route was deleted
 * (then it is dropped here).
 */
export function claim(
  s: LedgerState, c: { items: Claim[]; epoch: number | undefined; until: number; needEvent: boolean[]; out: ClaimAnswer[] }, now: number,
): void {
  c.items.forEach((it, i) => {
    const rec = s.leased.get(it.id);
    if (c.epoch !== undefined && c.epoch !== s.epoch) c.out[i] = { ok: false, reason: "from an earlier incarnation of its owner" };
    else if (!rec || rec.gen !== it.gen || rec.local) c.out[i] = { ok: false, reason: "no longer the current attempt" };
    else if (!s.host.route(rec.route)) {
      c.out[i] = { ok: false, reason: "its route was deleted" };
      dropDeleted(s, rec, now);
    } else {
      rec.lease_until = Math.max(rec.lease_until ?? 0, c.until + s.opts.leaseSlackMs);
      const event = c.needEvent[i] ? payload(s, rec) : null;
      c.out[i] = event ? { ok: true, event } : { ok: true };
    }
  });
}

/** A queue refused these dispatches: their leases end in a second, and the alarm sends them again. */
export function requeue(s: LedgerState, items: Claim[], now: number): void {
  const at = now + 1000;
  for (const it of items) {
    const rec = s.leased.get(it.id);
    if (rec && rec.gen === it.gen) rec.lease_until = at;
  }
  s.timer.wakeAt(at);
}

/** The alarm's part: what no consumer claimed in time goes out again, what is due goes out, and the alarm is set again. */
export function alarm(s: LedgerState, now: number): void {
  let nextLease = Infinity;
  for (const rec of [...s.leased.values()]) {
    if (rec.lease_until === null || rec.lease_until > now) {
      if (rec.lease_until !== null) nextLease = Math.min(nextLease, rec.lease_until);
      continue;
    }
    s.counters.add("redispatched");
    const event = payload(s, rec);
    log.info("delivery redispatched: no consumer claimed or settled it in time", {
      owner: s.host.owner.name, delivery: rec.id, hop: rec.hop, gen: rec.gen, ...(event ? traceFields(event) : {}),
    });
    release(s, rec);
    dispatch(s, rec, undefined, now);
  }
  s.starved = true;
  pump(s, now);
  const due = s.store.nextDue(now + DUE_SLACK_MS);
  const local = [...s.leased.values()].some((r) => r.local);
  // While first attempts are pending (or the object's own attempts are out), the alarm is the way back after a crash.
  const next = Math.min(nextLease, due ?? Infinity, s.firstPathTotal > 0 || local ? now + LOCAL_RECOVERY_MS : Infinity);
  if (next !== Infinity) s.timer.wakeAt(next);
}
