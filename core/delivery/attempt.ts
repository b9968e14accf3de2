import { compact, type CloudEvent } from "../cloudevents/event.js";
import { encodeBinary, encodeStructured } from "../cloudevents/encode.js";
import { isCloudEventMessage, parseMessage } from "../cloudevents/http.js";
import { traceFields } from "../cloudevents/trace.js";
import type { Deadlines } from "./deadlines.js";
import type { Limiter } from "./limiter.js";
import type { AttemptSpec, DeliveryOutcome } from "./messages.js";
import { ERROR_DATA_BYTES, parseRetryAfterMs } from "./policy.js";

const enc = new TextEncoder();

/** Sends a request to this system's own routes without leaving the process. */
export type InternalFetch = (req: Request) => Promise<Response>;

/** Status reported for a 2xx answer that cannot be used (Knative's broker answers 502 there too). */
export const BAD_REPLY_STATUS = 502;

export interface AttemptOptions {
  /** Largest reply accepted from a subscriber (the ingress limit, MAX_EVENT_BYTES). */
  maxReplyBytes: number;
  /** Outgoing connections of the calling invocation or object; the timeout starts once a slot is held. */
  connections?: Limiter;
  /** For `internal` targets that are not an object of this system (handled in-process by the Worker). */
  internal?: InternalFetch;
  /**
   * Headers that say who sends the delivery (a token, a webhook signature), computed over the exact
   * body sent; called when the spec has `auth`. A failure fails the attempt with its message.
   */
  sign?: (spec: AttemptSpec, event: CloudEvent, body: Uint8Array | null) => Promise<Record<string, string>>;
  /** The timer attempts' deadlines share (an object's, or a consumer invocation's); a timer each without. */
  deadlines?: Deadlines;
}

/**
 * Makes one delivery attempt as Knative's dispatcher does: POST in binary mode (structured when
 * `format: json`), `Prefer: reply` to subscribers, `Kn-Namespace`, no redirects followed, the
 * route's timeout; then classifies the answer. A subscriber's 200 with a CloudEvent is a reply;
 * 202 and empty 2xx are plain success; a non-empty 2xx body that is not a CloudEvent fails.
 * Runs wherever a delivery is made: in the owning Durable Object (first attempts) and in the queue
 * consumer (overflow, retries, dead letters).
 *
 * @example
 * const outcome = await attempt(spec, event, { maxReplyBytes: 262144, connections: new Limiter(6) });
 */
export async function attempt(spec: AttemptSpec, event: CloudEvent, opts: AttemptOptions): Promise<DeliveryOutcome> {
  const wire = spec.format === "json" ? encodeStructured(event) : encodeBinary(event);
  // A plain record: fetch makes its Headers once (a Headers here and another in fetch cost twice).
  const headers: Record<string, string> = { ...wire.headers };
  if (spec.hop === "subscriber") headers.Prefer = "reply";
  headers["Kn-Namespace"] = spec.namespace;
  const base = { id: spec.id, gen: spec.gen, ...traceFields(event) };
  if (spec.auth && opts.sign) {
    try {
      Object.assign(headers, await opts.sign(spec, event, wire.body));
    } catch (e) {
      const text = `could not authenticate the delivery: ${(e as Error).message}`;
      return { ...base, ok: false, error: text, errorData: enc.encode(text) };
    }
  }
  const init: RequestInit = { method: "POST", headers, body: wire.body as Uint8Array<ArrayBuffer> | null, redirect: "manual" };
  const release = spec.internal || !opts.connections ? undefined : await opts.connections.acquire();
  try {
    // On the shared deadline timer (./deadlines.ts) or a timer of its own, forgotten as soon as the
    // attempt ends: AbortSignal.timeout() would keep a timer alive for the whole timeout.
    const abort = new AbortController();
    let timedOut = false;
    const onTimeout = () => {
      timedOut = true;
      abort.abort();
    };
    let stop: () => void;
    if (opts.deadlines) stop = opts.deadlines.add(Date.now() + spec.timeoutMs, onTimeout);
    else {
      const timer = setTimeout(onTimeout, spec.timeoutMs);
      stop = () => clearTimeout(timer);
    }
    try {
      let res: Response;
      try {
        if (spec.internal && opts.internal) {
          // In-process: nothing aborts the handler, so the attempt stops waiting for it at the timeout.
          const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener("abort", () => reject(new Error("timed out")), { once: true }));
          res = await Promise.race([opts.internal(new Request(spec.url, { ...init, signal: abort.signal })), aborted]);
        } else res = await fetch(spec.url, { ...init, signal: abort.signal });
      } catch (e) {
        const why = timedOut ? `no answer within ${spec.timeoutMs} ms` : (e as Error).message;
        const text = `dispatch error: ${why}`;
        return { ...base, ok: false, error: text, errorData: enc.encode(text) };
      }
      const limit = spec.hop === "subscriber" ? opts.maxReplyBytes : ERROR_DATA_BYTES;
      const { bytes, truncated } = await readAtMost(res, Math.max(limit, ERROR_DATA_BYTES)).catch(() => ({ bytes: new Uint8Array(0), truncated: false }));
      return classify(spec, base, res, bytes, truncated, limit);
    } finally {
      stop();
    }
  } finally {
    release?.();
  }
}

type Base = { id: number; gen: number; traceId?: string };

function classify(spec: AttemptSpec, base: Base, res: Response, bytes: Uint8Array, truncated: boolean, limit: number): DeliveryOutcome {
  if (res.status < 200 || res.status > 299) {
    const out: DeliveryOutcome = { ...base, ok: false, status: res.status, error: `HTTP ${res.status}`, errorData: bytes.subarray(0, ERROR_DATA_BYTES) };
    const ra = parseRetryAfterMs(res.headers.get("retry-after"), Date.now());
    if (ra !== undefined) out.retryAfterMs = ra;
    return out;
  }
  // Only a subscriber's answer can carry a reply; reply and dead-letter hops just need a 2xx.
  if (spec.hop !== "subscriber" || res.status === 202) return { ...base, ok: true, status: res.status };
  // A binary-mode reply without data has an empty body: its ce- headers make it an event.
  if (bytes.length === 0 && !isCloudEventMessage(res.headers)) return { ...base, ok: true, status: res.status };
  return classifyReply(base, res, bytes, truncated, limit);
}

function classifyReply(base: Base, res: Response, bytes: Uint8Array, truncated: boolean, limit: number): DeliveryOutcome {
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

/** Reads at most `max` bytes of a response body, reporting whether more was left unread. */
export async function readAtMost(res: Response, max: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!res.body) return { bytes: new Uint8Array(0), truncated: false };
  // A body of declared length within the limit is read in one call (the runtime frames it by that
  // length); a chunked or longer one through a reader that stops at the limit.
  const declared = res.headers.get("content-length");
  if (declared !== null && Number(declared) <= max) return { bytes: new Uint8Array(await res.arrayBuffer()), truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > max) {
      chunks.push(value.subarray(0, max - total));
      total = max;
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    total += value.byteLength;
  }
  if (chunks.length === 1) return { bytes: chunks[0]!, truncated };
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return { bytes: out, truncated };
}
