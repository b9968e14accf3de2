// Plain regression examples for what the HTTP fuzz suites (test/workers/fuzz-*.test.ts) found: 4xx
// messages that said too little, or quoted a submitted object as "[object Object]".
import { describe, expect, it } from "vitest";
import { ApiError, showValue } from "../../core/errors.js";
import { admit } from "../../core/resources/admit.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import { SubscriptionKind } from "../../core/resources/kinds/subscription.js";
import { TriggerKind } from "../../core/resources/kinds/trigger.js";
import type { KindDef } from "../../core/resources/kind.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import { receiveWebhook, type WebhookConfig } from "../../core/webhooks/index.js";
import { readManifest } from "../../functions/api/manifest.js";

const ctx = { namespace: "demo", refs: ADDRESSABLES };
const NOW = Date.parse("2026-11-22T12:00:00Z");

function refusal(kind: KindDef, body: unknown, old?: ReturnType<typeof admit>): ApiError {
  try {
    admit({ body, kind, ctx, now: "2026-01-01T00:00:00Z", uid: "u", resourceVersion: "2", suffix: "abcde", ...(old ? { old } : {}) });
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error("expected admission to refuse the body");
}

describe("messages quote submitted values as JSON", () => {
  it("showValue", () => {
    expect(showValue({ a: [1] })).toBe('{"a":[1]}');
    expect(showValue("v1")).toBe('"v1"');
    expect(showValue(undefined)).toBe("nothing");
    expect(showValue("x".repeat(100))).toBe(`"${"x".repeat(59)}…`);
  });

  it("apiVersion, kind and metadata that are objects (fuzz: PUT with apiVersion [{}, \"…\"])", () => {
    const msg = refusal(BrokerKind, { apiVersion: [{}, ",'nN"], metadata: { name: "b" } }).message;
    expect(msg).toBe(`apiVersion [{},",'nN"] does not match this URL, which serves eventing.knative.dev/v1`);
    expect(refusal(BrokerKind, { kind: { k: 1 }, metadata: { name: "b" } }).message).toContain('kind {"k":1} does not match');
    expect(refusal(BrokerKind, { metadata: { name: "b", namespace: ["x"] } }).message).toContain('metadata.namespace ["x"] does not match');
  });

  it("an immutable Trigger broker changed to an object", () => {
    const old = admit({ body: { metadata: { name: "t" }, spec: { broker: "default", subscriber: { uri: "http://x/" } } }, kind: TriggerKind, ctx, now: "n", uid: "u", resourceVersion: "1", suffix: "s" });
    const msg = refusal(TriggerKind, { metadata: { name: "t" }, spec: { broker: { name: "b" }, subscriber: { uri: "http://x/" } } }, old).message;
    expect(msg).toContain('is immutable: it is "default" and cannot become {"name":"b"}');
    expect(msg).not.toContain("[object Object]");
  });

  it("a Subscription channel without a kind", () => {
    const msg = refusal(SubscriptionKind, { metadata: { name: "s" }, spec: { channel: { apiVersion: { v: 1 }, name: "c" }, subscriber: { uri: "http://x/" } } }).message;
    expect(msg).toContain('got kind nothing of {"v":1}');
    expect(msg).not.toMatch(/undefined|\[object Object\]/);
  });
});

describe("webhook refusals say what to send", () => {
  const cfg = (provider: WebhookConfig["provider"], extra: Partial<WebhookConfig> = {}): WebhookConfig => ({ provider, secrets: ["S"], toleranceMs: 300_000, eventSource: "/s", ...extra });
  const reason = async (c: WebhookConfig, headers: Record<string, string>) => {
    const r = await receiveWebhook(c, ["s3cret"], { headers: new Headers(headers), body: new TextEncoder().encode("{}"), now: NOW });
    expect(r.kind).toBe("reject");
    return (r as { message: string }).message;
  };

  it("a Standard Webhooks delivery whose id is blank (fuzz: webhook-id \" \")", async () => {
    const msg = await reason(cfg("standard-webhooks"), { "webhook-id": " ", "webhook-timestamp": String(NOW / 1000), "webhook-signature": "v1,AAAA" });
    expect(msg).toBe("missing webhook-id: a delivery carries webhook-id, webhook-timestamp and webhook-signature together");
  });

  it("generic-hmac: a signature header that is missing, or not hex (fuzz: X-Sig %E2%82%AC…)", async () => {
    const g = cfg("generic-hmac", { genericHmac: { header: "X-Sig", prefix: "sha256=" } });
    expect(await reason(g, {})).toMatch(/^missing X-Sig: the sender must put its HMAC signature of the body in that header/);
    expect(await reason(g, { "X-Sig": "sha256=%E2%82%AC" })).toBe('X-Sig is not hex: send the sha256 HMAC of the body in hex after "sha256="');
  });

  it("Slack without X-Slack-Signature", async () => {
    expect(await reason(cfg("slack"), { "X-Slack-Request-Timestamp": String(NOW / 1000) })).toMatch(/^missing X-Slack-Signature: Slack signs every request/);
  });
});

describe("YAML manifests hold only what JSON can", () => {
  // Found by fuzz-api with FUZZ_RUNS=2000: `--- !!binary aGVsbG8=` became a Uint8Array that admission
  // took for an object, and the PUT failed with 500 "Cannot delete property '0' of [object Uint8Array]".
  const read = async (yaml: string) => {
    try {
      await readManifest(new Request("http://eddy.test/apis", { method: "PUT", body: yaml, headers: { "Content-Type": "application/yaml" } }));
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).status).toBe(400);
      return (e as ApiError).message;
    }
    throw new Error("expected the manifest to be refused");
  };

  it.each([
    ["--- !!binary aGVsbG8=\n", "(the root)", /a (Uint8Array|Buffer) value/],
    ["spec: !!set {a, b}\n", "spec", /a Set value/],
    ["spec: !!omap [a: 1]\n", "spec", /a Map value/],
    ["spec: {t: !!timestamp 2001-12-14}\n", "spec.t", /a Date value/],
    ["spec: {retry: .nan}\n", "spec.retry", /a number JSON cannot write \(\.nan\)/],
    ["spec: {x: [-.inf]}\n", "spec.x[0]", /a number JSON cannot write \(-\.inf\)/],
  ])("refuses %j with 400 naming %s", async (yaml, at, what) => {
    const msg = await read(yaml);
    expect(msg).toMatch(what);
    expect(msg).toContain(` at ${at}: a manifest holds only what JSON can`);
  });

  it("still reads ordinary YAML, timestamps without a tag staying strings", async () => {
    const v = await readManifest(new Request("http://eddy.test/apis", { method: "PUT", body: "metadata: {name: b}\nspec: {when: 2001-12-14, n: 1.5}\n", headers: { "Content-Type": "application/yaml" } }));
    expect(v).toEqual({ metadata: { name: "b" }, spec: { when: "2001-12-14", n: 1.5 } });
  });
});
