import type { Context } from "hono";
import type { Addressable } from "../../core/addressables.js";
import type { CloudEvent } from "../../core/cloudevents/event.js";
import { encodeBinary, encodeStructured } from "../../core/cloudevents/encode.js";
import { ApiError } from "../../core/errors.js";
import type { Sender } from "../../core/identity/policy.js";
import type { EventAnswer } from "../../durable-objects/dispatcher-results.js";
import type { Env } from "../env.js";
import { authenticate, ingressAudience } from "../identity.js";
import { oneEvent, receiveEvents } from "./sink.js";
import { addressExists, plausible } from "./addresses.js";

/** A request to `/{prefix}/{ns}/{name}` of an address that answers with an event. */
export interface AnsweringRequest {
  ns: string;
  name: string;
  event: CloudEvent;
  sender: Sender | undefined;
}

/**
 * The one event of a request to an answering address, and who sends it: Knative's sink contract
 * (the OPTIONS handshake answered here as a Response; 405, 413, 400), one event only (400), then
 * the sender's token for the addressable's audience (401).
 */
export async function answeringRequest(c: Context<{ Bindings: Env }>, a: Addressable): Promise<AnsweringRequest | Response> {
  const ns = c.req.param("ns")!;
  const name = c.req.param("name")!.replace(/\/$/, "");
  const events = await receiveEvents(c.req.raw, c.env);
  if (events instanceof Response) return events;
  const event = oneEvent(events, `${a.kind} "${name}"`);
  const sender = await authenticate(c.env, c.req.raw, ingressAudience(a.kind, ns, name));
  // No object is addressed before the namespace's control plane says it is configured (./addresses.ts).
  if (!plausible(ns, name) || !(await addressExists(c.env, ns, { binding: a.binding, name: a.key(ns, name) }))) {
    throw new ApiError(404, `${a.kind.toLowerCase()} "${name}" in namespace "${ns}" does not exist; create it through the API first`);
  }
  return { ns, name, event, sender };
}

/**
 * The HTTP answer of an address that answers with an event: a 2xx carries the event (structured
 * JSON, as Knative's transformer writes it, or binary mode, as its RequestReply does), or nothing;
 * anything else is an ApiError with the reason (and `Retry-After` on 429 and 503).
 */
export function eventResponse(a: EventAnswer, mode: "structured" | "binary"): Response {
  if (a.status < 200 || a.status > 299) {
    const headers: Record<string, string> = a.retryAfterSeconds ? { "Retry-After": String(a.retryAfterSeconds) } : {};
    // The answer of the transform or the RequestReply itself (its 504 at the timeout, its 503 while
    // not ready): told as it is, not as a server fault.
    throw new ApiError(a.status, a.message ?? `answered ${a.status}`, [], {}, headers).exposing();
  }
  if (!a.event) return new Response(null, { status: a.status });
  const wire = mode === "structured" ? encodeStructured(a.event) : encodeBinary(a.event);
  return new Response(wire.body as Uint8Array<ArrayBuffer> | null, { status: a.status, headers: wire.headers });
}
