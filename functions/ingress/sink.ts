import { compact, type CloudEvent } from "../../core/cloudevents/event.js";
import { parseMessage } from "../../core/cloudevents/http.js";
import { adoptTrace } from "../../core/cloudevents/trace.js";
import { ApiError } from "../../core/errors.js";
import { maxEventBytes } from "../../core/limits.js";
import { readBody } from "../body.js";
import type { Env } from "../env.js";
import type { Sender } from "../../core/identity/policy.js";

const ALLOW = "POST, OPTIONS";

/**
 * Knative's sink contract for any addressable ingress: POST takes CloudEvents (binary,
 * structured or batched), OPTIONS answers the CloudEvents webhook abuse-protection handshake,
 * anything else is 405. `authenticate` (when given) runs once the events parsed, and its sender
 * goes to `accept`, which must store the events durably before it resolves: the producer
 * hears 202 only then. W3C `traceparent`/`tracestate` request headers become the trace attributes
 * of every event that has none, so the trace follows the event through storage and delivery.
 *
 * @example
 * app.all("/brokers/:ns/:name", (c) => sink(c.req.raw, c.env, (events) => publishToBroker(c, events)));
 */
export async function sink(
  req: Request, env: Env, accept: (events: CloudEvent[], sender?: Sender) => Promise<void>, authenticate?: () => Promise<Sender | undefined>,
): Promise<Response> {
  const events = await receiveEvents(req, env);
  if (events instanceof Response) return events;
  // After the 400s, before anything is stored: who sends (401 here), then whether they may (403, in accept).
  const sender = authenticate ? await authenticate() : undefined;
  if (events.length > 0) await accept(events, sender);
  return new Response(null, { status: 202 });
}

/**
 * The sink contract up to the events: the OPTIONS handshake (answered here, as a Response), 405
 * for other methods, 413 above the size limit, 400 for what is not a valid CloudEvent. Shared by
 * every address that takes CloudEvents, whatever it answers once it has them.
 */
export async function receiveEvents(req: Request, env: Env): Promise<CloudEvent[] | Response> {
  const method = req.method;
  if (method === "OPTIONS") {
    return new Response(null, {
      status: 200,
      headers: {
        Allow: ALLOW,
        "WebHook-Allowed-Origin": req.headers.get("webhook-request-origin") ?? "*",
        "WebHook-Allowed-Rate": "*",
      },
    });
  }
  if (method !== "POST") {
    throw new ApiError(405, `${method} is not allowed here: send CloudEvents with POST`, [], {}, { Allow: ALLOW });
  }
  const body = await readBody(req, maxEventBytes(env));
  try {
    const headers = req.headers;
    return parseMessage(headers, body).events.map((ev) => adoptTrace(compact(ev), headers));
  } catch (e) {
    const err = e as { status?: number; message?: string };
    if (typeof err.status === "number") throw new ApiError(err.status, err.message ?? "invalid CloudEvent");
    throw e;
  }
}

/** The one event of a request that is answered with an event of its own (a transform, a request for a reply). */
export function oneEvent(events: CloudEvent[], what: string): CloudEvent {
  if (events.length !== 1) {
    throw new ApiError(400, `${what} takes exactly one CloudEvent per request and answers it; got a batch of ${events.length}: send the events one by one`);
  }
  return events[0]!;
}
