import type { AttrValue, CloudEvent } from "./event.js";

/**
 * W3C Trace Context for CloudEvents: the Distributed Tracing extension (`traceparent`,
 * `tracestate` attributes) and the HTTP headers of the same names.
 *
 * The extension carries the trace the event started in; the HTTP headers carry the trace of the
 * request. Eddy records no spans of its own, so it forwards the context unchanged as a
 * non-participating intermediary does under W3C Trace Context: every delivery, reply and dead
 * letter of an event carries the event's own `traceparent`/`tracestate`.
 */

/** The W3C trace context an event or a request carries. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

const HEX = /^[0-9a-f]+$/;
const ZEROS = /^0+$/;
// Keys and values of tracestate list members (W3C Trace Context level 1, section 3.3.1.3).
const TS_KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
const TS_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const TS_MAX_MEMBERS = 32;

/**
 * The trace id of a W3C `traceparent` value, or undefined when the value is not one: version
 * `00` is exactly `00-<32 hex>-<16 hex>-<2 hex>`; a later version (not `ff`) may add fields after
 * another `-`. Hex is lower-case only; an all-zero trace id or parent id is invalid.
 *
 * @example
 * traceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); // "4bf92f3577b34da6a3ce929d0e0e4736"
 * traceIdOf("00-4BF92F35...");                                           // undefined
 */
export function traceIdOf(traceparent: unknown): string | undefined {
  if (typeof traceparent !== "string") return undefined;
  const v = traceparent.trim();
  if (v.length < 55 || v[2] !== "-" || v[35] !== "-" || v[52] !== "-") return undefined;
  const version = v.slice(0, 2);
  if (!HEX.test(version) || version === "ff") return undefined;
  if (version === "00" ? v.length !== 55 : v.length > 55 && v[55] !== "-") return undefined;
  const traceId = v.slice(3, 35);
  const parentId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return undefined;
  if (ZEROS.test(traceId) || ZEROS.test(parentId)) return undefined;
  return traceId;
}

/**
 * True when `tracestate` is a W3C list: at most 32 `key=value` members separated by commas
 * (optional whitespace and empty members allowed), keys well-formed and not repeated.
 *
 * @example
 * isTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"); // true
 * isTracestate("Rojo=1");                                   // false: keys are lower-case
 */
export function isTracestate(tracestate: unknown): boolean {
  if (typeof tracestate !== "string") return false;
  const keys = new Set<string>();
  for (const raw of tracestate.split(",")) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (member === "") continue;
    const eq = member.indexOf("=");
    if (eq < 0) return false;
    const key = member.slice(0, eq);
    if (!TS_KEY.test(key) || !TS_VALUE.test(member.slice(eq + 1)) || keys.has(key)) return false;
    keys.add(key);
    if (keys.size > TS_MAX_MEMBERS) return false;
  }
  return keys.size > 0;
}

/**
 * The trace context of a set of HTTP headers (`traceparent`, `tracestate`), or undefined when
 * `traceparent` is absent or not valid W3C (a repeated header, joined by `, `, is not). An invalid
 * `tracestate` is left out; the `traceparent` still counts.
 *
 * @example
 * traceFromHeaders(new Headers({ traceparent: "00-4bf9...4736-00f0...02b7-01", tracestate: "rojo=1" }));
 * // { traceparent: "00-4bf9...4736-00f0...02b7-01", tracestate: "rojo=1" }
 */
export function traceFromHeaders(headers: Headers): TraceContext | undefined {
  const traceparent = headers.get("traceparent");
  if (traceIdOf(traceparent) === undefined) return undefined;
  const tracestate = headers.get("tracestate");
  return { traceparent: traceparent!.trim(), ...(isTracestate(tracestate) ? { tracestate: tracestate!.trim() } : {}) };
}

/** True when the event carries either attribute of the Distributed Tracing extension, valid or not. */
const hasTraceAttrs = (ev: CloudEvent) => ev.attrs.traceparent !== undefined || ev.attrs.tracestate !== undefined;

/**
 * The event with the request's trace context as its `traceparent`/`tracestate` attributes, when
 * the event has neither attribute and the request's headers carry a valid `traceparent`. An event
 * that has one keeps what it has (the extension spec: the CloudEvents serialisation is
 * authoritative when the two differ), so a stray `tracestate` is never paired with a foreign
 * parent. Returns the same object when nothing changes.
 *
 * @example
 * adoptTrace(event, request.headers); // event, plus traceparent/tracestate from the headers
 */
export function adoptTrace(ev: CloudEvent, headers: Headers): CloudEvent {
  if (hasTraceAttrs(ev)) return ev;
  const t = traceFromHeaders(headers);
  if (!t) return ev;
  const attrs: Record<string, AttrValue> = { ...ev.attrs, traceparent: t.traceparent };
  if (t.tracestate !== undefined) attrs.tracestate = t.tracestate;
  return { ...ev, attrs };
}

/**
 * The W3C headers an outgoing request for this event carries: `traceparent` when the event's
 * attribute is valid W3C, and `tracestate` with it when that is valid too; none otherwise.
 *
 * @example
 * traceHeaders(event); // { traceparent: "00-...-01", tracestate: "rojo=1" } or {}
 */
export function traceHeaders(ev: CloudEvent): Record<string, string> {
  const { traceparent, tracestate } = ev.attrs;
  if (traceIdOf(traceparent) === undefined) return {};
  const out: Record<string, string> = { traceparent: (traceparent as string).trim() };
  if (isTracestate(tracestate)) out.tracestate = (tracestate as string).trim();
  return out;
}

/**
 * Fields for Eddy's log lines about an event: `{ traceId }` when it carries a valid `traceparent`,
 * `{}` otherwise, so `log.warn("...", { id, ...traceFields(event) })` never writes an empty field.
 *
 * @example
 * traceFields(event); // { traceId: "4bf92f3577b34da6a3ce929d0e0e4736" }
 */
export function traceFields(ev: CloudEvent): { traceId?: string } {
  const traceId = traceIdOf(ev.attrs.traceparent);
  return traceId === undefined ? {} : { traceId };
}

/**
 * Log fields for a request that did not become an event (a refused webhook delivery): `{ traceId }`
 * from its W3C `traceparent` header when valid, `{}` otherwise.
 *
 * @example
 * log.warn("webhook delivery rejected", { source, reason, ...requestTraceFields(headers) });
 */
export function requestTraceFields(headers: Headers): { traceId?: string } {
  const traceId = traceIdOf(headers.get("traceparent"));
  return traceId === undefined ? {} : { traceId };
}

/**
 * A reply continues the trace of the event it answers: when the reply has neither `traceparent`
 * nor `tracestate` and the original has a valid `traceparent`, the reply gets it (and the
 * original's `tracestate`, when valid). A reply that names its own trace keeps it. Returns the same
 * object when nothing changes.
 *
 * @example
 * const reply = inheritTrace(original, parsedReply);
 */
export function inheritTrace(original: CloudEvent, reply: CloudEvent): CloudEvent {
  if (hasTraceAttrs(reply)) return reply;
  const t = traceHeaders(original);
  if (t.traceparent === undefined) return reply;
  return { ...reply, attrs: { ...reply.attrs, ...t } };
}
