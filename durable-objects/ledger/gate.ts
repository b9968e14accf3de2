import type { RoutePlan } from "../../core/resources/plan.js";

/** A 429 from a flow-controlled route pauses it this long when the answer names no Retry-After. */
const FIRST_PAUSE_MS = 1_000;
const MAX_PAUSE_MS = 60_000;
/** After this many 429s in a row for one delivery, a 429 spends a retry like any retriable failure. */
export const MAX_THROTTLES = 8;

/** Whether a route has any per-subscriber flow control. */
export function flowControlled(route: RoutePlan): boolean {
  return route.maxInFlight !== undefined || route.ratePerSecond !== undefined;
}

/**
 * Per-subscriber flow control of one object's routes (`eddy.dev/max-in-flight`,
 * `eddy.dev/rate-limit`, and the pauses a 429 asks for). It only decides *when* a route may send
 * its next subscriber request; waiting deliveries stay in the ledger's storage, never only here.
 *
 * @example
 * const gate = new RouteGate();
 * if (gate.nextSend(route, now) <= now) { gate.took(route, now); send(); }
 */
export class RouteGate {
  private readonly inFlight = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly pausedUntil = new Map<string, number>();

  /** Leased subscriber requests per route, e.g. after a restart. */
  reset(counts: { route: string; n: number }[]): void {
    this.inFlight.clear();
    for (const c of counts) this.inFlight.set(c.route, c.n);
  }

  /** When `route` may make its next subscriber request: `now` or earlier, a later time, or Infinity (until one settles). */
  nextSend(route: RoutePlan, now: number): number {
    const paused = this.pausedUntil.get(route.uid);
    if (paused !== undefined) {
      if (paused > now) return paused;
      this.pausedUntil.delete(route.uid);
    }
    if (route.maxInFlight !== undefined && (this.inFlight.get(route.uid) ?? 0) >= route.maxInFlight) return Infinity;
    if (route.ratePerSecond !== undefined) {
      const b = this.bucket(route, now);
      if (b.tokens < 1) return now + Math.ceil(((1 - b.tokens) * 1000) / route.ratePerSecond);
    }
    return now;
  }

  /** A subscriber request of `route` goes out now. */
  took(route: RoutePlan, now: number): void {
    this.inFlight.set(route.uid, (this.inFlight.get(route.uid) ?? 0) + 1);
    if (route.ratePerSecond !== undefined) this.bucket(route, now).tokens -= 1;
  }

  /** A subscriber request of the route settled (or was presumed lost). */
  released(uid: string): void {
    const n = (this.inFlight.get(uid) ?? 0) - 1;
    if (n > 0) this.inFlight.set(uid, n);
    else this.inFlight.delete(uid);
  }

  /** The subscriber answered 429: no request to it until the pause ends. Returns when that is. */
  pause(uid: string, now: number, throttles: number, retryAfterMs: number | undefined): number {
    const wait = retryAfterMs ?? Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** throttles);
    const until = now + Math.min(Math.max(wait, 0), MAX_PAUSE_MS);
    this.pausedUntil.set(uid, Math.max(until, this.pausedUntil.get(uid) ?? 0));
    return until;
  }

  /** The routes that cannot send a subscriber request now. */
  blocked(routes: Iterable<RoutePlan>, now: number): string[] {
    const out: string[] = [];
    for (const r of routes) if (flowControlled(r) && this.nextSend(r, now) > now) out.push(r.uid);
    return out;
  }

  private bucket(route: RoutePlan, now: number): { tokens: number; at: number } {
    const rate = route.ratePerSecond!;
    const burst = Math.max(1, rate);
    let b = this.buckets.get(route.uid);
    if (!b) this.buckets.set(route.uid, (b = { tokens: burst, at: now }));
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    return b;
  }
}
