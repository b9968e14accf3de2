// Webhooks signed by the providers' own libraries, end to end: WebhookSource → Broker → Trigger →
// a local subscriber, with the headers each provider really sends; and the refusals.
import { sign as githubSign } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { Webhook } from "svix";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { TEST_SECRETS } from "../support/global-platform.js";
import { type Sink, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const sink = sinkPool(afterEach);
const W = "sources.eddy.dev/v1alpha1";
const now = () => Math.floor(Date.now() / 1000);

/** A WebhookSource whose sink is a Broker, and a Trigger for `type` to a fresh local subscriber. */
async function pipeline(prefix: string, provider: string, secret: keyof typeof TEST_SECRETS, type: string): Promise<{ hook: string; sub: Sink; ns: string }> {
  const ns = uniqueNs(prefix);
  await api.apply(broker(ns, "default"));
  const sub = await sink();
  await api.apply(trigger(ns, "t", "default", sub.url, { filter: { attributes: { type } } }));
  await api.apply({
    apiVersion: W, kind: "WebhookSource", metadata: { name: "hook", namespace: ns },
    spec: { provider, secrets: [secret], sink: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } } },
  });
  const src = await api.waitReady(W, "WebhookSource", ns, "hook");
  await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "t");
  return { hook: src.status.address.url, sub, ns };
}
const deliver = (url: string, headers: Record<string, string>, body: string) => fetch(url, { method: "POST", headers, body });
async function refusedWith(r: Response, why: RegExp) {
  expect(r.status).toBe(401);
  expect(await r.text()).toMatch(why);
}

describe("webhooks signed by the providers' libraries, through a Broker", () => {
  it("svix: svix-* headers (Svix's default) and webhook-* headers are both delivered; tampered, wrong-secret and stale ones are refused", async () => {
    const { hook, sub } = await pipeline("svix", "standard-webhooks", "SECRET_TEST_SVIX_SECRET", "com.standardwebhooks.email.delivered");
    const body = JSON.stringify({ type: "email.delivered", created_at: "2026-05-01T10:00:00.000Z", data: { email_id: "4ef9a417-02e9-4d39-ad75-9611e0fcc33c" } });
    const wh = new Webhook(TEST_SECRETS.SECRET_TEST_SVIX_SECRET);
    const svix = (id: string, t: number, b = body, w = wh) => ({ "svix-id": id, "svix-timestamp": String(t), "svix-signature": w.sign(id, new Date(t * 1000), b), "Content-Type": "application/json" });
    const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    expect((await deliver(hook, { ...svix("msg_e2e_svix", now()), traceparent: TP }, body)).status).toBe(202);
    const t = now();
    const unbranded = { "webhook-id": "msg_e2e_unbranded", "webhook-timestamp": String(t), "webhook-signature": wh.sign("msg_e2e_unbranded", new Date(t * 1000), body), "Content-Type": "application/json" };
    expect((await deliver(hook, unbranded, body)).status).toBe(202);

    await refusedWith(await deliver(hook, svix("msg_e2e_tampered", now()), body.replace("delivered", "bounced")), /svix-signature/);
    const other = new Webhook("whsec_" + Buffer.from("not-the-endpoint-secret").toString("base64"));
    await refusedWith(await deliver(hook, svix("msg_e2e_wrong", now(), body, other), body), /svix-signature/);
    await refusedWith(await deliver(hook, svix("msg_e2e_stale", now() - 3600), body), /svix-timestamp .*tolerance/);

    const got = await sub.waitFor(2);
    const byId = Object.fromEntries(got.map((r) => [r.headers["ce-id"], r]));
    expect(Object.keys(byId).sort()).toEqual(["msg_e2e_svix", "msg_e2e_unbranded"]);
    expect(byId.msg_e2e_svix!.headers).toMatchObject({ "ce-type": "com.standardwebhooks.email.delivered", "content-type": "application/json", traceparent: TP });
    expect(byId.msg_e2e_svix!.body.toString()).toBe(body);
    expect((await sub.settle(800)).length).toBe(2);
  });

  it("stripe: a Stripe-Signature from generateTestHeaderString is delivered; tampered, wrong-secret and stale ones are refused", async () => {
    const { hook, sub } = await pipeline("stripe", "stripe", "SECRET_TEST_STRIPE_SECRET", "com.stripe.checkout.session.completed");
    const stripe = new Stripe("sk_test_eddy_unused");
    const body = JSON.stringify({ id: "evt_1E2e3StripeLib", object: "event", type: "checkout.session.completed", created: now(), data: { object: { id: "cs_test_a1b2", object: "checkout.session" } } });
    const sig = (b = body, secret = TEST_SECRETS.SECRET_TEST_STRIPE_SECRET, timestamp = now()) => ({
      "Stripe-Signature": stripe.webhooks.generateTestHeaderString({ payload: b, secret, timestamp }), "Content-Type": "application/json; charset=utf-8",
    });
    expect((await deliver(hook, sig(), body)).status).toBe(202);
    await refusedWith(await deliver(hook, sig(), body.replace("cs_test_a1b2", "cs_test_evil")), /no v1 signature/);
    await refusedWith(await deliver(hook, sig(body, "whsec_wrong"), body), /no v1 signature/);
    await refusedWith(await deliver(hook, sig(body, TEST_SECRETS.SECRET_TEST_STRIPE_SECRET, now() - 3600), body), /tolerance/);
    const [got] = await sub.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-id": "evt_1E2e3StripeLib", "ce-type": "com.stripe.checkout.session.completed", "ce-subject": "cs_test_a1b2" });
    expect(got!.body.toString()).toBe(body);
    expect((await sub.settle(800)).length).toBe(1);
  });

  it("github: X-Hub-Signature-256 from Octokit with X-GitHub-Event and X-GitHub-Delivery is delivered; tampered and wrong-secret ones are refused", async () => {
    const { hook, sub } = await pipeline("octo", "github", "SECRET_TEST_GITHUB_SECRET", "com.github.issues.opened");
    const body = JSON.stringify({ action: "opened", issue: { number: 7, title: "bug" }, repository: { html_url: "https://github.com/octo-org/octo-repo" } });
    const headers = async (b = body, secret = TEST_SECRETS.SECRET_TEST_GITHUB_SECRET, delivery = "5c2a9e40-0a1b-11f0-9b3c-7f1e2d3c4b5a") => ({
      "X-Hub-Signature-256": await githubSign(secret, b), "X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery,
      "X-GitHub-Hook-ID": "123456", "User-Agent": "GitHub-Hookshot/abc1234", "Content-Type": "application/json",
    });
    expect((await deliver(hook, await headers(), body)).status).toBe(202);
    await refusedWith(await deliver(hook, await headers(), body.replace("bug", "pwned")), /does not match/);
    await refusedWith(await deliver(hook, await headers(body, "not-the-secret"), body), /does not match/);
    const [got] = await sub.waitFor(1);
    expect(got!.headers).toMatchObject({
      "ce-id": "5c2a9e40-0a1b-11f0-9b3c-7f1e2d3c4b5a", "ce-type": "com.github.issues.opened",
      "ce-source": "https://github.com/octo-org/octo-repo", "ce-subject": "7",
    });
    expect(got!.body.toString()).toBe(body);
    expect((await sub.settle(800)).length).toBe(1);
  });
});
