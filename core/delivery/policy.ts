import { parseDurationMs } from "../duration.js";

/**
 * Knative's DeliverySpec as it appears in manifests (`spec.delivery` of a Broker, Trigger,
 * Channel or Subscription). Destinations are resolved by the control plane, not here.
 */
export interface DeliverySpec {
  deadLetterSink?: unknown;
  retry?: number;
  backoffPolicy?: "linear" | "exponential";
  backoffDelay?: string;
  timeout?: string;
  retryAfterMax?: string;
  format?: "json" | "binary";
}

/**
 * The delivery rules the data plane applies to one route, with durations in milliseconds.
 *
 * @example
 * const p = toPolicy({ retry: 3, backoffPolicy: "exponential", backoffDelay: "PT0.2S" });
 * backoffMs(p, 1); // 200, then 400 and 800 before retries 2 and 3
 */
export interface DeliveryPolicy {
  /** Retries after the first attempt: total attempts are `retry + 1`. */
  retry: number;
  backoffPolicy?: "linear" | "exponential";
  backoffDelayMs: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /**
   * Cap on a `Retry-After` wait after 429/503 (`retryAfterMax`); `0` switches the header off.
   * Absent: `DEFAULT_RETRY_AFTER_MAX_MS`.
   */
  retryAfterMaxMs?: number;
  format: "binary" | "json";
}

/** Knative sets no per-request timeout; a Worker needs one, so an attempt without `timeout` gets this. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;
/** A queue consumer runs at most 15 minutes; one attempt may use at most this much of it. */
export const MAX_ATTEMPT_TIMEOUT_MS = 10 * 60_000;
/** Knative's waits grow without bound (and overflow); Eddy caps one wait at Queues' 24 h delay limit. */
export const MAX_BACKOFF_MS = 24 * 3600_000;
/**
 * `Retry-After` on 429/503 is honoured without `retryAfterMax`, as Knative plans for GA
 * (knative/eventing#5811) and the CloudEvents webhook spec requires for 429; Knative's GA plan has
 * no cap, Eddy bounds the wait by this so a sink asking for hours cannot park events unnoticed.
 * `retryAfterMax` sets another cap (up to `MAX_BACKOFF_MS`), `PT0S` ignores the header.
 */
export const DEFAULT_RETRY_AFTER_MAX_MS = 60_000;
/** `knativeerrordata` carries the base64 of at most this many bytes of the last response body. */
export const ERROR_DATA_BYTES = 768;

/** The effective policy for a DeliverySpec (absent fields: no retries, immediate, binary). */
export function toPolicy(spec: DeliverySpec | undefined | null): DeliveryPolicy {
  const s = spec ?? {};
  const policy: DeliveryPolicy = {
    retry: s.retry ?? 0,
    backoffDelayMs: s.backoffDelay ? parseDurationMs(s.backoffDelay) : 0,
    timeoutMs: s.timeout ? parseDurationMs(s.timeout) : DEFAULT_ATTEMPT_TIMEOUT_MS,
    format: s.format === "json" ? "json" : "binary",
  };
  if (s.backoffPolicy) policy.backoffPolicy = s.backoffPolicy;
  if (s.retryAfterMax !== undefined) policy.retryAfterMaxMs = parseDurationMs(s.retryAfterMax);
  return policy;
}

/**
 * The wait before retry `k` (1-based), as Knative's running code computes it: exponential
 * `d·2^(k−1)`, linear `d·(k−1)` (so the first linear retry is immediate); no policy or no delay: 0.
 */
export function backoffMs(policy: DeliveryPolicy, k: number): number {
  const d = policy.backoffDelayMs;
  if (!policy.backoffPolicy || d <= 0 || k < 1) return 0;
  const wait = policy.backoffPolicy === "exponential" ? d * 2 ** (k - 1) : d * (k - 1);
  return Math.min(wait, MAX_BACKOFF_MS);
}

/** Knative's SelectiveRetry: transport errors, timeouts, 5xx, 404, 408, 409 and 429 are retried. */
export function isRetryable(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}

/** `Retry-After` as delay-seconds or an HTTP-date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const v = header.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * How long to wait before retry `k` after a failed attempt: the backoff, or — when the answer was
 * 429 or 503 with a `Retry-After` — the larger of that and `Retry-After` capped at `retryAfterMax`
 * (`DEFAULT_RETRY_AFTER_MAX_MS` when absent; `PT0S` ignores the header). At most `MAX_BACKOFF_MS`.
 */
export function retryDelayMs(
  policy: DeliveryPolicy,
  k: number,
  status: number | undefined,
  retryAfterMs: number | undefined,
): number {
  const base = backoffMs(policy, k);
  if (retryAfterMs === undefined || (status !== 429 && status !== 503)) return base;
  const cap = Math.min(policy.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS, MAX_BACKOFF_MS);
  return Math.max(base, Math.min(retryAfterMs, cap));
}
