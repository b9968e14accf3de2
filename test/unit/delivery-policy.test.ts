import { describe, expect, it } from "vitest";
import {
  backoffMs, DEFAULT_ATTEMPT_TIMEOUT_MS, DEFAULT_RETRY_AFTER_MAX_MS, isRetryable, MAX_BACKOFF_MS, parseRetryAfterMs, retryDelayMs, toPolicy,
} from "../../core/delivery/policy.js";
import { parseDurationMs } from "../../core/duration.js";
import { enterBroker, incomingTtl } from "../../core/broker/ttl.js";

describe("ISO-8601 durations", () => {
  it("parses the forms Knative manifests use", () => {
    expect(parseDurationMs("PT0.2S")).toBe(200);
    expect(parseDurationMs("PT1S")).toBe(1000);
    expect(parseDurationMs("PT1M30S")).toBe(90_000);
    expect(parseDurationMs("P1D")).toBe(86_400_000);
    expect(parseDurationMs("PT0S")).toBe(0);
  });
  it("refuses what is not a duration, naming the expected form", () => {
    for (const bad of ["1s", "PT", "P", " PT1S", "-PT1S", "PT-1S", "P-1D", "200ms"]) {
      expect(() => parseDurationMs(bad)).toThrow(/ISO-8601|negative/);
    }
  });
});

describe("backoff (Knative's running code: 0-based retry index)", () => {
  it("exponential waits d, 2d, 4d before retries 1, 2, 3", () => {
    const p = toPolicy({ retry: 3, backoffPolicy: "exponential", backoffDelay: "PT0.2S" });
    expect([1, 2, 3].map((k) => backoffMs(p, k))).toEqual([200, 400, 800]);
  });
  it("linear waits 0, d, 2d before retries 1, 2, 3", () => {
    const p = toPolicy({ retry: 3, backoffPolicy: "linear", backoffDelay: "PT1S" });
    expect([1, 2, 3].map((k) => backoffMs(p, k))).toEqual([0, 1000, 2000]);
  });
  it("no policy or no delay means immediate retries", () => {
    expect(backoffMs(toPolicy({ retry: 3, backoffDelay: "PT1S" }), 2)).toBe(0);
    expect(backoffMs(toPolicy({ retry: 3, backoffPolicy: "exponential" }), 2)).toBe(0);
  });
  it("caps a single wait instead of overflowing", () => {
    const p = toPolicy({ retry: 200, backoffPolicy: "exponential", backoffDelay: "PT1S" });
    expect(backoffMs(p, 150)).toBe(MAX_BACKOFF_MS);
  });
});

describe("policy defaults", () => {
  it("an absent DeliverySpec means one attempt, binary, default timeout", () => {
    expect(toPolicy(undefined)).toEqual({ retry: 0, backoffDelayMs: 0, timeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS, format: "binary" });
  });
  it("reads timeout, retryAfterMax and format", () => {
    const p = toPolicy({ timeout: "PT2S", retryAfterMax: "PT10S", format: "json" });
    expect(p.timeoutMs).toBe(2000);
    expect(p.retryAfterMaxMs).toBe(10_000);
    expect(p.format).toBe("json");
  });
});

describe("which answers are retried (Knative's SelectiveRetry)", () => {
  it("retries transport errors, 5xx, 404, 408, 409, 429", () => {
    for (const s of [undefined, 500, 502, 503, 599, 404, 408, 409, 429]) expect(isRetryable(s)).toBe(true);
  });
  it("does not retry other 4xx, 3xx or 2xx", () => {
    for (const s of [400, 401, 403, 405, 410, 413, 422, 301, 302, 200, 202]) expect(isRetryable(s)).toBe(false);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("reads delay-seconds and HTTP-dates", () => {
    expect(parseRetryAfterMs("3", now)).toBe(3000);
    expect(parseRetryAfterMs("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfterMs("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
  it("is honoured on 429/503 capped by retryAfterMax, never below the backoff", () => {
    const capped = toPolicy({ retry: 3, backoffPolicy: "exponential", backoffDelay: "PT1S", retryAfterMax: "PT5S" });
    expect(retryDelayMs(capped, 1, 429, 3000)).toBe(3000);
    expect(retryDelayMs(capped, 1, 503, 60_000)).toBe(5000);
    expect(retryDelayMs(capped, 3, 429, 500)).toBe(4000); // backoff 4s beats Retry-After 0.5s
    expect(retryDelayMs(capped, 1, 500, 3000)).toBe(1000); // not 429/503
    expect(retryDelayMs(capped, 1, 429, undefined)).toBe(1000); // no header
  });
  it("is honoured by default (no retryAfterMax) on 429 and 503, up to the default cap of 60 s", () => {
    expect(DEFAULT_RETRY_AFTER_MAX_MS).toBe(60_000);
    const p = toPolicy({ retry: 3, backoffPolicy: "exponential", backoffDelay: "PT0.2S" });
    expect(retryDelayMs(p, 1, 429, 3000)).toBe(3000);
    expect(retryDelayMs(p, 1, 503, 7000)).toBe(7000);
    expect(retryDelayMs(p, 1, 429, 3600_000)).toBe(60_000); // an hour asked, the default cap given
    expect(retryDelayMs(p, 1, 502, 3000)).toBe(200); // only 429 and 503 carry Retry-After meaningfully
    expect(retryDelayMs(toPolicy(undefined), 1, 429, 2000)).toBe(2000); // no backoff at all
  });
  it("retryAfterMax PT0S opts out, as Knative's GA plan has it; a larger cap raises the bound up to 24 h", () => {
    const off = toPolicy({ retry: 3, backoffPolicy: "exponential", backoffDelay: "PT1S", retryAfterMax: "PT0S" });
    expect(retryDelayMs(off, 1, 429, 30_000)).toBe(1000);
    const long = toPolicy({ retry: 3, retryAfterMax: "PT10M" });
    expect(retryDelayMs(long, 1, 503, 300_000)).toBe(300_000);
    const huge = toPolicy({ retry: 3, retryAfterMax: "P3D" });
    expect(retryDelayMs(huge, 1, 429, 2 * 86_400_000)).toBe(MAX_BACKOFF_MS);
  });
});

describe("broker TTL (loop protection)", () => {
  const ev = { attrs: { specversion: "1.0", id: "1", source: "/s", type: "t" } };
  it("starts at 255 and loses one per pass", () => {
    expect(incomingTtl(ev)).toBe(255);
    const entered = enterBroker(ev, 255, 0)!;
    expect(entered.ttl).toBe(254);
    expect(entered.event.attrs.knativearrivaltime).toBe("1970-01-01T00:00:00.000Z");
  });
  it("reads knativebrokerttl as string or integer and keeps it out of subscriber attributes", () => {
    const withTtl = { attrs: { ...ev.attrs, knativebrokerttl: "3" } };
    expect(incomingTtl(withTtl)).toBe(3);
    expect(incomingTtl({ attrs: { ...ev.attrs, knativebrokerttl: 7 } })).toBe(7);
    expect(enterBroker(withTtl, 3, 0)!.event.attrs.knativebrokerttl).toBeUndefined();
  });
  it("drops an event whose TTL is spent", () => {
    expect(enterBroker(ev, 0, 0)).toBeNull();
    expect(enterBroker(ev, -1, 0)).toBeNull();
  });
});
