// Webhook deliveries signed by the providers' own libraries (svix, stripe, @octokit/webhooks-methods),
// with the headers each provider really sends. Each case is also checked with that library's own
// verifier, so Eddy is shown to accept and refuse exactly what the provider's SDK does.
import { sign as githubSign, verify as githubVerify } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { Webhook } from "svix";
import { describe, expect, it } from "vitest";
import { receiveWebhook, type WebhookConfig, type WebhookResult } from "../../core/webhooks/index.js";

const enc = new TextEncoder();
// svix's verifier reads the clock, so these deliveries are signed at the real current time.
const NOW = Date.now();
const T = Math.floor(NOW / 1000);
const cfg = (provider: WebhookConfig["provider"]): WebhookConfig => ({ provider, secrets: ["S"], toleranceMs: 300_000, eventSource: "/webhooks/demo/hook" });
const receive = (provider: WebhookConfig["provider"], secret: string, headers: Record<string, string>, body: string) =>
  receiveWebhook(cfg(provider), [secret], { headers: new Headers(headers), body: enc.encode(body), now: NOW });
function event(r: WebhookResult) {
  if (r.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}
const refused = (r: WebhookResult, why: RegExp) => expect(r).toMatchObject({ kind: "reject", status: 401, message: expect.stringMatching(why) });

describe("svix (Standard Webhooks; Clerk, Resend and others send through it)", () => {
  const secret = "whsec_" + Buffer.from("eddy-svix-test-key-0123456789").toString("base64");
  const other = "whsec_" + Buffer.from("some-other-endpoint-key-98765").toString("base64");
  const body = JSON.stringify({ type: "user.created", data: { id: "user_29w83sxmDNGwOuEthce5gg56FcC", email: "a@example.com" } });
  const svix = (id: string, ts: number, b = body, key = secret) => ({
    "svix-id": id, "svix-timestamp": String(ts), "svix-signature": new Webhook(key).sign(id, new Date(ts * 1000), b), "Content-Type": "application/json",
  });
  const standard = (id: string, ts: number, b = body, key = secret) => ({
    "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": new Webhook(key).sign(id, new Date(ts * 1000), b), "Content-Type": "application/json",
  });
  const svixAccepts = (h: Record<string, string>, b = body) => {
    try {
      new Webhook(secret).verify(b, h);
      return true;
    } catch {
      return false;
    }
  };

  it("accepts Svix's default svix-id / svix-timestamp / svix-signature headers", async () => {
    const h = svix("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", T);
    expect(svixAccepts(h)).toBe(true);
    const e = event(await receive("standard-webhooks", secret, h, body));
    expect(e.attrs).toMatchObject({ id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", type: "com.standardwebhooks.user.created", time: new Date(T * 1000).toISOString() });
    expect(new TextDecoder().decode(e.data)).toBe(body);
  });

  it("accepts the unbranded webhook-* headers signed by the same library", async () => {
    const h = standard("msg_unbranded_1", T);
    expect(svixAccepts(h)).toBe(true);
    expect(event(await receive("standard-webhooks", secret, h, body)).attrs.id).toBe("msg_unbranded_1");
  });

  it("with both families present, accepts whichever verifies and takes the id from that family", async () => {
    const both = { ...svix("msg_from_svix", T), ...standard("msg_from_webhook", T) };
    expect(event(await receive("standard-webhooks", secret, both, body)).attrs.id).toBe("msg_from_webhook");
    const badStandard = { ...svix("msg_from_svix", T), ...standard("msg_from_webhook", T, body, other) };
    expect(event(await receive("standard-webhooks", secret, badStandard, body)).attrs.id).toBe("msg_from_svix");
    const neither = { ...svix("a", T, body, other), ...standard("b", T, body, other) };
    refused(await receive("standard-webhooks", secret, neither, body), /webhook-signature.*svix-signature/);
  });

  it("never mixes the families: an id from one and a signature from the other is refused", async () => {
    const s = standard("msg_mixed", T);
    const mixed = { "svix-id": "msg_mixed", "webhook-timestamp": s["webhook-timestamp"], "webhook-signature": s["webhook-signature"], "Content-Type": "application/json" };
    refused(await receive("standard-webhooks", secret, mixed, body), /missing webhook-id/);
  });

  it("refuses a tampered body, a wrong secret and a stale timestamp, as svix's own verifier does", async () => {
    const tampered = body.replace("a@example.com", "mallory@example.com");
    const h = svix("msg_neg_1", T);
    expect(svixAccepts(h, tampered)).toBe(false);
    refused(await receive("standard-webhooks", secret, h, tampered), /no v1 signature in svix-signature matches/);
    const wrong = svix("msg_neg_2", T, body, other);
    expect(svixAccepts(wrong)).toBe(false);
    refused(await receive("standard-webhooks", secret, wrong, body), /no v1 signature in svix-signature matches/);
    const stale = svix("msg_neg_3", T - 3600);
    expect(svixAccepts(stale)).toBe(false);
    refused(await receive("standard-webhooks", secret, stale, body), /svix-timestamp .* beyond the 300 s tolerance/);
    const staleStandard = standard("msg_neg_4", T - 3600);
    refused(await receive("standard-webhooks", secret, staleStandard, body), /webhook-timestamp .* beyond the 300 s tolerance/);
  });

  it("names both header families when a delivery carries neither", async () => {
    refused(await receive("standard-webhooks", secret, { "Content-Type": "application/json" }, body), /webhook-id.*svix-id/);
  });
});

describe("stripe (generateTestHeaderString → Stripe-Signature)", () => {
  const stripe = new Stripe("sk_test_eddy_unused");
  const secret = "whsec_eddy_stripe_test_secret";
  const body = JSON.stringify({ id: "evt_3Pq9xYz", object: "event", type: "payment_intent.succeeded", created: T, data: { object: { id: "pi_3Pq9", object: "payment_intent" } } });
  const header = (ts: number, b = body, key = secret) => stripe.webhooks.generateTestHeaderString({ payload: b, secret: key, timestamp: ts });
  const stripeAccepts = (h: string, b = body) => {
    try {
      stripe.webhooks.constructEvent(b, h, secret, 300, undefined, NOW); // receivedAt in ms
      return true;
    } catch {
      return false;
    }
  };

  it("accepts a delivery signed by Stripe's library", async () => {
    const h = header(T);
    expect(stripeAccepts(h)).toBe(true);
    const e = event(await receive("stripe", secret, { "Stripe-Signature": h, "Content-Type": "application/json; charset=utf-8" }, body));
    expect(e.attrs).toMatchObject({ type: "com.stripe.payment_intent.succeeded", id: "evt_3Pq9xYz", subject: "pi_3Pq9", source: "https://api.stripe.com" });
  });

  it("refuses a tampered body, a wrong secret and a stale timestamp, as Stripe's own verifier does", async () => {
    const tampered = body.replace("pi_3Pq9", "pi_evil");
    expect(stripeAccepts(header(T), tampered)).toBe(false);
    refused(await receive("stripe", secret, { "Stripe-Signature": header(T), "Content-Type": "application/json" }, tampered), /no v1 signature/);
    const wrong = header(T, body, "whsec_not_this_one");
    expect(stripeAccepts(wrong)).toBe(false);
    refused(await receive("stripe", secret, { "Stripe-Signature": wrong, "Content-Type": "application/json" }, body), /no v1 signature/);
    const stale = header(T - 3600);
    expect(stripeAccepts(stale)).toBe(false);
    refused(await receive("stripe", secret, { "Stripe-Signature": stale, "Content-Type": "application/json" }, body), /tolerance/);
  });
});

describe("@octokit/webhooks-methods (sign → X-Hub-Signature-256)", () => {
  const secret = "eddy-github-test-secret";
  const body = JSON.stringify({ action: "opened", number: 42, pull_request: { number: 42 }, repository: { html_url: "https://github.com/octo-org/octo-repo" } });
  const headers = async (b = body, key = secret) => ({
    "X-Hub-Signature-256": await githubSign(key, b), "X-GitHub-Event": "pull_request",
    "X-GitHub-Delivery": "9b1d0b6e-4a5e-11ef-8a3d-0d2f3c4b5a69", "Content-Type": "application/json",
  });

  it("accepts a delivery signed by Octokit, with GitHub's event and delivery headers", async () => {
    const h = await headers();
    expect(await githubVerify(secret, body, h["X-Hub-Signature-256"])).toBe(true);
    expect(event(await receive("github", secret, h, body)).attrs).toMatchObject({
      type: "com.github.pull_request.opened", id: "9b1d0b6e-4a5e-11ef-8a3d-0d2f3c4b5a69", source: "https://github.com/octo-org/octo-repo", subject: "42",
    });
  });

  it("refuses a tampered body and a wrong secret, as Octokit's own verifier does (GitHub signs no timestamp)", async () => {
    const h = await headers();
    const tampered = body.replace("octo-repo", "evil-repo");
    expect(await githubVerify(secret, tampered, h["X-Hub-Signature-256"])).toBe(false);
    refused(await receive("github", secret, h, tampered), /does not match/);
    const wrong = await headers(body, "not-the-secret");
    expect(await githubVerify(secret, body, wrong["X-Hub-Signature-256"])).toBe(false);
    refused(await receive("github", secret, wrong, body), /does not match/);
  });
});
