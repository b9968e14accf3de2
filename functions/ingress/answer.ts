import { encodeBinary, encodeStructured } from "../../core/cloudevents/encode.js";
import { ApiError } from "../../core/errors.js";
import type { EventAnswer } from "../../durable-objects/dispatcher-results.js";

/**
 * The HTTP answer of an address that answers with an event: a 2xx carries the event (structured
 * JSON, as Knative's transformer writes it, or binary mode, as its RequestReply does), or nothing;
 * anything else is an ApiError with the reason (and `Retry-After` on 429 and 503).
 */
export function eventResponse(a: EventAnswer, mode: "structured" | "binary"): Response {
  if (a.status < 200 || a.status > 299) {
    const headers: Record<string, string> = a.retryAfterSeconds ? { "Retry-After": String(a.retryAfterSeconds) } : {};
    throw new ApiError(a.status, a.message ?? `answered ${a.status}`, [], {}, headers);
  }
  if (!a.event) return new Response(null, { status: a.status });
  const wire = mode === "structured" ? encodeStructured(a.event) : encodeBinary(a.event);
  return new Response(wire.body as Uint8Array<ArrayBuffer> | null, { status: a.status, headers: wire.headers });
}
