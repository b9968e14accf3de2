import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { receiveWebhook, type WebhookConfig, type WebhookResult } from "../../core/webhooks/index.js";
import { sign } from "../support/sign.js";

const fixture = (f: string) => readFileSync(resolve(import.meta.dirname, "../fixtures/webhooks", f), "utf8");
const enc = new TextEncoder();
const NOW = Date.parse("2026-11-22T12:00:00Z");
const T = Math.floor(NOW / 1000);
const cfg = (provider: WebhookConfig["provider"], extra: Partial<WebhookConfig> = {}): WebhookConfig => ({
  provider, secrets: ["S"], toleranceMs: 300_000, eventSource: "/webhooks/demo/hook", ...extra,
});
const receive = (c: WebhookConfig, secrets: string[], headers: Record<string, string>, body: string, now = NOW) =>
  receiveWebhook(c, secrets, { headers: new Headers(headers), body: enc.encode(body), now });
function event(r: WebhookResult) {
  if (r.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

describe("published test vectors", () => {
  it("GitHub's example signature verifies", async () => {
    const r = await receive(cfg("github"), ["It's a Secret to Everybody"], {
      "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      "X-GitHub-Event": "push", "X-GitHub-Delivery": "d1", "Content-Type": "text/plain",
    }, "Hello, World!");
    expect(event(r).attrs.type).toBe("com.github.push");
  });
  it("Slack's example signature verifies (at its own timestamp)", async () => {
    const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const r = await receive(cfg("slack"), ["8f742231b10e8888abcd99yyyzzz85a5"], {
      "X-Slack-Request-Timestamp": "1531420618", "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
      "Content-Type": "application/x-www-form-urlencoded",
    }, body, 1531420618_000 + 10_000);
    expect(event(r).attrs).toMatchObject({ type: "com.slack.command", subject: "/webhook-collect", source: "https://slack.com/T1DC2JH3J" });
  });
  it("the Standard Webhooks example signature verifies", async () => {
    const r = await receive(cfg("standard-webhooks"), ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], {
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "Content-Type": "application/json",
    }, '{"test": 2432232314}', 1614265330_000);
    expect(event(r).attrs).toMatchObject({ id: "msg_p5jXN8AQM9LWM0D4loKWxJek", type: "com.standardwebhooks.event", time: "2021-02-25T15:02:10.000Z" });
  });
});

describe("GitHub", () => {
  const body = fixture("github-push.json");
  const headers = (sig: string) => ({ "X-Hub-Signature-256": sig, "X-GitHub-Event": "push", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "Content-Type": "application/json" });
  it("turns a signed push into a CloudEvent whose data is the exact bytes", async () => {
    const e = event(await receive(cfg("github"), ["S"], headers(sign.github("S", body)), body));
    expect(e.attrs).toMatchObject({
      specversion: "1.0", type: "com.github.push", id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      source: "https://github.com/octocat/Hello-World", subject: "refs/heads/main", datacontenttype: "application/json",
    });
    expect(new TextDecoder().decode(e.data)).toBe(body);
  });
  it("accepts any of several secrets (rotation)", async () => {
    expect((await receive(cfg("github"), ["old", "S"], headers(sign.github("S", body)), body)).kind).toBe("event");
  });
  it("refuses a tampered body, a wrong secret and a missing signature with 401", async () => {
    const good = sign.github("S", body);
    for (const [h, b] of [[headers(good), body.replace("main", "evil")], [headers(sign.github("X", body)), body]] as const) {
      const r = await receive(cfg("github"), ["S"], h, b);
      expect(r).toMatchObject({ kind: "reject", status: 401 });
    }
    const { "X-Hub-Signature-256": _, ...noSig } = headers(good);
    expect(await receive(cfg("github"), ["S"], noSig, body)).toMatchObject({ kind: "reject", status: 401, message: expect.stringMatching(/missing X-Hub-Signature-256/) });
  });
  it("answers ping without an event, and names actions in the type", async () => {
    const ping = '{"zen":"Keep it logically awesome.","hook_id":1}';
    expect(await receive(cfg("github"), ["S"], { ...headers(sign.github("S", ping)), "X-GitHub-Event": "ping" }, ping)).toMatchObject({ kind: "handshake", status: 200 });
    const pr = '{"action":"opened","number":7,"repository":{"html_url":"https://github.com/o/r"}}';
    const e = event(await receive(cfg("github"), ["S"], { ...headers(sign.github("S", pr)), "X-GitHub-Event": "pull_request" }, pr));
    expect(e.attrs).toMatchObject({ type: "com.github.pull_request.opened", subject: "7" });
  });
});

describe("Stripe", () => {
  const body = fixture("stripe-invoice-paid.json");
  it("verifies the v1 signature over t.body and uses the event id", async () => {
    const e = event(await receive(cfg("stripe"), ["whsec_test"], { "Stripe-Signature": sign.stripe("whsec_test", body, T), "Content-Type": "application/json" }, body));
    expect(e.attrs).toMatchObject({ type: "com.stripe.invoice.paid", id: "evt_1NG8Du2eZvKYlo2CUI79vXWy", subject: "in_1NG8Dq2eZvKYlo2C3cMvbqzt", time: "2023-06-06T22:19:30.000Z" });
  });
  it("refuses a stale timestamp, even correctly signed", async () => {
    const r = await receive(cfg("stripe"), ["whsec_test"], { "Stripe-Signature": sign.stripe("whsec_test", body, T - 600), "Content-Type": "application/json" }, body);
    expect(r).toMatchObject({ kind: "reject", status: 401, message: expect.stringMatching(/tolerance/) });
  });
});

describe("Slack", () => {
  it("answers url_verification with the challenge, only when signed", async () => {
    const body = '{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';
    const r = await receive(cfg("slack"), ["S"], { "X-Slack-Request-Timestamp": String(T), "X-Slack-Signature": sign.slack("S", body, T), "Content-Type": "application/json" }, body);
    expect(r).toEqual({ kind: "handshake", status: 200, contentType: "text/plain", body: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
    expect((await receive(cfg("slack"), ["S"], { "X-Slack-Request-Timestamp": String(T), "X-Slack-Signature": "v0=00", "Content-Type": "application/json" }, body)).kind).toBe("reject");
  });
  it("turns an Events API callback into com.slack.<event type> with the event id", async () => {
    const body = fixture("slack-event.json");
    const e = event(await receive(cfg("slack"), ["S"], { "X-Slack-Request-Timestamp": String(T), "X-Slack-Signature": sign.slack("S", body, T), "Content-Type": "application/json" }, body));
    expect(e.attrs).toMatchObject({ type: "com.slack.message", id: "Ev123ABC456", source: "https://slack.com/T123ABC456", subject: "C123ABC456" });
  });
});

describe("Standard Webhooks and generic HMAC", () => {
  it("standard-webhooks: type from the payload, prefix configurable, stale refused", async () => {
    const secret = "whsec_" + Buffer.from("k".repeat(24)).toString("base64");
    const body = '{"type":"invoice.paid","timestamp":"2026-11-22T12:00:00Z","data":{"id":"1"}}';
    const h = { "webhook-id": "msg_1", "webhook-timestamp": String(T), "webhook-signature": `v1,AAAA ${sign.standard(secret, "msg_1", T, body)}`, "Content-Type": "application/json" };
    expect(event(await receive(cfg("standard-webhooks", { typePrefix: "com.acme" }), [secret], h, body)).attrs).toMatchObject({ type: "com.acme.invoice.paid", id: "msg_1", source: "/webhooks/demo/hook" });
    const old = { ...h, "webhook-timestamp": String(T - 3600), "webhook-signature": sign.standard(secret, "msg_1", T - 3600, body) };
    expect((await receive(cfg("standard-webhooks"), [secret], old, body)).kind).toBe("reject");
  });
  it("generic-hmac: header, algorithm, encoding, prefix, timestamp and id header", async () => {
    const { createHmac } = await import("node:crypto");
    const body = '{"n":1}';
    const g = { header: "X-Sig", algorithm: "sha512" as const, encoding: "base64" as const, prefix: "sha512=", timestampHeader: "X-Ts", idHeader: "X-Id", type: "com.acme.thing" };
    const sig = "sha512=" + createHmac("sha512", "S").update(`${T}.${body}`).digest("base64");
    const e = event(await receive(cfg("generic-hmac", { genericHmac: g }), ["S"], { "X-Sig": sig, "X-Ts": String(T), "X-Id": "abc", "Content-Type": "application/json" }, body));
    expect(e.attrs).toMatchObject({ type: "com.acme.thing", id: "abc", source: "/webhooks/demo/hook" });
    expect((await receive(cfg("generic-hmac", { genericHmac: g }), ["S"], { "X-Sig": sig, "X-Ts": String(T + 1), "X-Id": "abc" }, body)).kind).toBe("reject");
  });
  it("applies ceOverrides extensions and refuses invalid JSON bodies", async () => {
    const body = fixture("github-push.json");
    const h = { "X-Hub-Signature-256": sign.github("S", body), "X-GitHub-Event": "push", "X-GitHub-Delivery": "d", "Content-Type": "application/json" };
    expect(event(await receive(cfg("github", { extensions: { team: "infra" } }), ["S"], h, body)).attrs.team).toBe("infra");
    const broken = "{nope";
    expect(await receive(cfg("github"), ["S"], { ...h, "X-Hub-Signature-256": sign.github("S", broken) }, broken)).toMatchObject({ kind: "reject", status: 400 });
  });
});
