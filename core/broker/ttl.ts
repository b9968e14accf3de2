import type { CloudEvent } from "../cloudevents/event.js";

/** Knative's loop-protection extension and its starting value. */
export const BROKER_TTL_ATTR = "knativebrokerttl";
export const MAX_BROKER_TTL = 255;
export const ARRIVAL_TIME_ATTR = "knativearrivaltime";

/** The TTL an event arrives with: its `knativebrokerttl`, or 255 when absent or unreadable. */
export function incomingTtl(ev: CloudEvent): number {
  const v = ev.attrs[BROKER_TTL_ATTR];
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) ? Math.min(n, MAX_BROKER_TTL) : MAX_BROKER_TTL;
}

/**
 * An event passing through a Broker: stamped with `knativearrivaltime`, its TTL one less, and
 * `knativebrokerttl` kept out of the attributes subscribers see (the Broker carries it beside the
 * event and hands it to replies). Null when the TTL is spent: the caller drops and counts it.
 *
 * @example
 * enterBroker(ev, 255, Date.now()); // { event: {...arrival time added}, ttl: 254 }
 * enterBroker(ev, 0, Date.now());   // null
 */
export function enterBroker(ev: CloudEvent, ttl: number, now: number): { event: CloudEvent; ttl: number } | null {
  if (ttl <= 0) return null;
  const attrs = { ...ev.attrs };
  delete attrs[BROKER_TTL_ATTR];
  attrs[ARRIVAL_TIME_ATTR] = new Date(now).toISOString();
  return { event: { ...ev, attrs }, ttl: ttl - 1 };
}
