// Property-based fuzzing of the webhook route inside workerd (issue #8): every provider, with the
// signature right (so the body reaches the parsing code) or wrong, and adversarial headers and
// bodies. Fixed seed; FUZZ_RUNS sets the runs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../../core/webhooks/index.js";
import { apply, SINK, uid } from "./helpers.js";
import { bodies, contentType, extraHeaders, headerValue, method } from "./fuzz/arbitraries.js";
import { acceptedBy, expectExplained, fixture, fuzz, MAX_EVENT_BYTES, request, RUNS, send, stillDelivers, TIMEOUT } from "./fuzz/support.js";

const PROVIDER_NAMES = ["github", "stripe", "standard-webhooks", "slack", "generic-hmac"] as const;
type Provider = (typeof PROVIDER_NAMES)[number];
const SECRET = "test-token"; // the value of ADMIN_TOKEN, which every fixture source names as its secret
const enc = new TextEncoder();

async function hmac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const join = (prefix: string, body: Uint8Array) => {
  const p = enc.encode(prefix);
  const out = new Uint8Array(p.length + body.length);
  out.set(p);
  out.set(body, p.length);
  return out;
};

/** The headers with which `provider` would sign `body` at `ts` (Unix seconds) under SECRET. */
async function signed(provider: Provider, body: Uint8Array, ts: number, id: string, event: string): Promise<Record<string, string>> {
  const key = PROVIDERS[provider].key?.(SECRET) ?? enc.encode(SECRET);
  switch (provider) {
    case "github": return { "X-Hub-Signature-256": `sha256=${hex(await hmac(key, body))}`, "X-GitHub-Event": event, "X-GitHub-Delivery": id };
    case "stripe": return { "Stripe-Signature": `t=${ts},v1=${hex(await hmac(key, join(`${ts}.`, body)))}` };
    case "slack": return { "X-Slack-Request-Timestamp": String(ts), "X-Slack-Signature": `v0=${hex(await hmac(key, join(`v0:${ts}:`, body)))}` };
    case "standard-webhooks": return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${b64(await hmac(key, join(`${id}.${ts}.`, body)))}` };
    case "generic-hmac": return { "X-Sig": hex(await hmac(key, body)), "X-Id": id };
  }
}

/** Provider payloads: mostly JSON shapes the describe() functions read, with odd member types. */
const payload = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constantFrom("url_verification", "event_callback", "invoice.paid", 5, null), challenge: fc.oneof(fc.string(), fc.integer()), id: fc.oneof(fc.uuid(), fc.integer()), event: fc.oneof(fc.record({ type: fc.string(), channel: fc.oneof(fc.string(), fc.integer()) }), fc.constant(null)), action: fc.oneof(fc.string(), fc.constant([])), ref: fc.oneof(fc.string(), fc.constant({})), created: fc.oneof(fc.integer(), fc.string()), repository: fc.oneof(fc.record({ html_url: fc.oneof(fc.webUrl(), fc.integer()) }), fc.constant("x")) }, { requiredKeys: [] }).map((o) => enc.encode(JSON.stringify(o))) },
  { weight: 3, arbitrary: bodies(MAX_EVENT_BYTES) },
  { weight: 1, arbitrary: fc.constantFrom("command=%2Fdeploy&team_id=T1", "payload=%7B%7D", "a=%zz&&==").map((s) => enc.encode(s)) },
);

describe("webhook fuzzing", () => {
  it(`answers ${RUNS} adversarial webhook deliveries without a 5xx, explains every 4xx, and stores only accepted ones`, async () => {
    const fx = await fixture();
    for (const provider of PROVIDER_NAMES) {
      await apply({
        apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", metadata: { name: provider, namespace: fx.ns },
        spec: { provider, secrets: ["SECRET_TEST_WEBHOOK"], ...(provider === "generic-hmac" ? { genericHmac: { header: "X-Sig", idHeader: "X-Id" } } : {}), eventSource: "/fuzz", sink: { uri: `${SINK}/ok/${uid("wh")}` } },
      }, "webhooksources");
    }
    const cases = fc.record({
      provider: fc.constantFrom(...PROVIDER_NAMES),
      method: fc.oneof({ weight: 8, arbitrary: fc.constant("POST") }, { weight: 1, arbitrary: method }),
      where: fc.constantFrom("own", "own", "own", "own", "missing", "bad-ns", "trailing"),
      sign: fc.constantFrom("right", "right", "right", "wrong", "none", "stale"),
      body: payload,
      event: fc.constantFrom("push", "ping", "pull_request", "", "a b"),
      id: fc.oneof(fc.uuid(), headerValue),
      contentType: fc.option(contentType, { nil: undefined }),
      extra: extraHeaders,
      overwrite: fc.dictionary(fc.constantFrom("X-Hub-Signature-256", "Stripe-Signature", "X-Slack-Signature", "webhook-signature", "svix-signature", "svix-id", "svix-timestamp", "X-Sig", "webhook-timestamp"), headerValue, { maxKeys: 1 }),
    });

    const counts = new Map<number, number>();
    const ran = await fuzz(cases, async (c) => {
      const now = Math.floor(Date.now() / 1000);
      const ts = c.sign === "stale" ? now - 3600 : now;
      const headers = new Headers();
      try {
        for (const [k, v] of Object.entries(c.extra)) headers.set(k, v);
        if (c.contentType !== undefined) headers.set("content-type", c.contentType);
        else headers.set("content-type", "application/json");
        if (c.sign !== "none") {
          const h = await signed(c.provider, c.body, ts, c.id, c.event);
          if (c.sign === "wrong") for (const k of Object.keys(h)) h[k] = h[k]!.replace(/[0-9a-f]$/, (d) => (d === "0" ? "1" : "0"));
          for (const [k, v] of Object.entries(h)) headers.set(k, v);
        }
        for (const [k, v] of Object.entries(c.overwrite)) headers.set(k, v);
      } catch {
        return; // Fetch refuses the header itself
      }
      const name = c.where === "missing" ? "nope" : c.provider;
      const path = c.where === "bad-ns" ? `/webhooks/UPPER%zz/${name}` : `/webhooks/${fx.ns}/${name}${c.where === "trailing" ? "/" : ""}`;
      const withBody = c.method !== "GET" && c.method !== "HEAD";
      const req = request(path, { method: c.method, headers, ...(withBody ? { body: c.body } : {}) });
      if (!req) return;
      const key = `WebhookSource/${fx.ns}/${c.provider}`;
      const before = await acceptedBy("SOURCE", key);
      const a = await send(req);
      counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
      const what = `${c.method} ${path} (${c.provider}, signature ${c.sign}, ${c.body.length} bytes: ${new TextDecoder().decode(c.body.slice(0, 80))})`;
      expectExplained(what, c.method, a, false);
      const after = await acceptedBy("SOURCE", key);
      if (a.status !== 202) expect(after, `${what} answered ${a.status} but stored an event`).toBe(before);
      if (c.sign === "wrong" && c.where === "own" && c.method === "POST" && Object.keys(c.overwrite).length === 0) expect(a.status, what).toBeGreaterThanOrEqual(400);
    }, () => stillDelivers(fx));

    expect(ran).toBe(RUNS);
    const seen = JSON.stringify([...counts].sort());
    for (const code of [202, 400, 401, 404]) expect(counts.get(code) ?? 0, `no ${code} among ${seen}`).toBeGreaterThan(0);
  }, TIMEOUT);
});
