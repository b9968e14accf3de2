import { compact, type CloudEvent } from "../../core/cloudevents/event.js";
import { encodeBinary, encodeStructured } from "../../core/cloudevents/encode.js";
import { isCloudEventMessage, parseMessage } from "../../core/cloudevents/http.js";
import { ERROR_DATA_BYTES, parseRetryAfterMs } from "../../core/delivery/policy.js";
import type { DeliveryMessage, DeliveryOutcome } from "../../core/delivery/messages.js";
import { maxEventBytes, readAtMost } from "../body.js";
import type { Env } from "../env.js";

const enc = new TextEncoder();

/** Sends a request to this Worker's own routes without leaving the process. */
export type InternalFetch = (req: Request) => Promise<Response>;

/** Status reported for a 2xx answer that cannot be used (Knative's broker answers 502 there too). */
export const BAD_REPLY_STATUS = 502;

/**
 * Makes one delivery attempt as Knative's dispatcher does: POST in binary mode (structured when
 * `format: json`), `Prefer: reply` to subscribers, `Kn-Namespace`, no redirects followed, the
 * route's timeout; then classifies the answer. A subscriber's 200 with a CloudEvent is a reply;
 * 202 and empty 2xx are plain success; a non-empty 2xx body that is not a CloudEvent fails.
 *
 * @example
 * const outcome = await attempt(msg, event, env, (req) => app.fetch(req, env, ctx));
 */
export async function attempt(msg: DeliveryMessage, event: CloudEvent, env: Env, internal: InternalFetch): Promise<DeliveryOutcome> {
  const wire = msg.format === "json" ? encodeStructured(event) : encodeBinary(event);
  const headers = new Headers(wire.headers);
  if (msg.hop === "subscriber") headers.set("Prefer", "reply");
  headers.set("Kn-Namespace", msg.namespace);
  const base = { id: msg.id, gen: msg.gen };
  let res: Response;
  try {
    const init: RequestInit = { method: "POST", headers, body: wire.body, redirect: "manual" };
    if (msg.internal) res = await internal(new Request(msg.url, init));
    else res = await fetch(msg.url, { ...init, signal: AbortSignal.timeout(msg.timeoutMs) });
  } catch (e) {
    const why = (e as Error).name === "TimeoutError" ? `no answer within ${msg.timeoutMs} ms` : (e as Error).message;
    const text = `dispatch error: ${why}`;
    return { ...base, ok: false, error: text, errorData: enc.encode(text) };
  }

  const limit = msg.hop === "subscriber" ? maxEventBytes(env) : ERROR_DATA_BYTES;
  const { bytes, truncated } = await readAtMost(res, Math.max(limit, ERROR_DATA_BYTES)).catch(() => ({ bytes: new Uint8Array(0), truncated: false }));

  if (res.status < 200 || res.status > 299) {
    const out: DeliveryOutcome = { ...base, ok: false, status: res.status, error: `HTTP ${res.status}`, errorData: bytes.subarray(0, ERROR_DATA_BYTES) };
    const ra = parseRetryAfterMs(res.headers.get("retry-after"), Date.now());
    if (ra !== undefined) out.retryAfterMs = ra;
    return out;
  }
  // Only a subscriber's answer can carry a reply; reply and dead-letter hops just need a 2xx.
  if (msg.hop !== "subscriber" || res.status === 202) return { ...base, ok: true, status: res.status };
  // A binary-mode reply without data has an empty body: its ce- headers make it an event.
  if (bytes.length === 0 && !isCloudEventMessage(res.headers)) return { ...base, ok: true, status: res.status };
  return classifyReply(base, res, bytes, truncated, limit);
}

function classifyReply(base: { id: number; gen: number }, res: Response, bytes: Uint8Array, truncated: boolean, limit: number): DeliveryOutcome {
  const fail = (why: string): DeliveryOutcome => {
    const text = `${why}; body starts: ${new TextDecoder().decode(bytes.subarray(0, 256))}`;
    return { ...base, ok: false, status: BAD_REPLY_STATUS, error: why, errorData: enc.encode(text).subarray(0, ERROR_DATA_BYTES) };
  };
  const type = res.headers.get("content-type") ?? "(none)";
  if (!isCloudEventMessage(res.headers)) {
    return fail(`the subscriber answered ${res.status} with a ${bytes.length}-byte body that is not a CloudEvent (Content-Type ${type}); answer 202 or an empty 2xx when there is no reply`);
  }
  if (truncated) return fail(`the subscriber's reply is larger than the ${limit}-byte event limit`);
  try {
    const { mode, events } = parseMessage(res.headers, bytes);
    if (mode === "batch" || events.length !== 1) return fail("a reply must be a single CloudEvent, not a batch");
    return { ...base, ok: true, status: res.status, reply: compact(events[0]!) };
  } catch (e) {
    return fail(`the subscriber's reply is not a valid CloudEvent: ${(e as Error).message}`);
  }
}
