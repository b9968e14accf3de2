// Sender identity end to end, against `npm start`: the signing key npm start wrote, producers with
// ServiceAccount tokens, Eddy's own tokens on deliveries checked with jose against the JWKS it
// serves (first attempts and dead letters through the queue), Standard Webhooks signatures checked
// with svix, and DEFAULT_AUTHORIZATION_MODE=deny-all on a second instance.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { Webhook } from "svix";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders } from "../support/emit.js";
import { TEST_SECRETS } from "../support/global-platform.js";
import { type Platform, ROOT, startPlatform } from "../support/platform.js";
import { sinkPool, failFirst } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const sink = sinkPool(afterEach);
const B = "eventing.knative.dev/v1";

async function tokenFor(a: Api, ns: string, sa: string, audience: string): Promise<string> {
  await a.call("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa } });
  const r = await a.call("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [audience] } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.status.token;
}

const send = (url: string, id: string, headers: Record<string, string> = {}, body = '{"n":1}') =>
  fetch(url, { method: "POST", headers: { ...binaryHeaders({ specversion: "1.0", id, source: "/e2e/identity", type: "com.example.identity" }), ...headers }, body });

describe("sender identity", () => {
  it("runs on the signing key npm start wrote to .dev.vars, next to the ADMIN_TOKEN", async () => {
    const vars = readFileSync(join(ROOT, ".dev.vars"), "utf8");
    expect(vars).toMatch(/^ADMIN_TOKEN=/m);
    const m = /^EDDY_SIGNING_KEY='(.+)'$/m.exec(vars);
    expect(m, "EDDY_SIGNING_KEY in .dev.vars").toBeTruthy();
    const jwks = (await (await fetch(`${p.url}/openid/v1/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys[0]!.kid).toBe(JSON.parse(m![1]!).kid);
  });

  it("lets a producer send with a ServiceAccount token and nobody without one", async () => {
    const ns = uniqueNs("idp");
    const b = await api.apply(broker(ns, "default"));
    const sub = await sink();
    await api.apply(trigger(ns, "t", "default", sub.url));
    await api.waitReady(B, "Trigger", ns, "t");
    expect(b.status.address.audience).toBe(`eventing.knative.dev/broker/${ns}/default`);
    const anonymous = await send(b.status.address.url, "anon");
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toMatch(/missing bearer token/);
    const token = await tokenFor(api, ns, "producer", b.status.address.audience);
    expect((await send(b.status.address.url, "with-token", { Authorization: `Bearer ${token}` })).status).toBe(202);
    const [got] = await sub.waitFor(1);
    expect(got!.headers["ce-id"]).toBe("with-token");
  });

  it("puts a token from the served issuer on deliveries to destinations with an audience, dead letters included", async () => {
    const ns = uniqueNs("idt");
    const url = (await api.apply(broker(ns, "default"))).status.address.url;
    const failing = await sink(failFirst(99, 503));
    const dead = await sink();
    await api.apply(trigger(ns, "orders", "default", failing.url, {
      subscriber: { uri: failing.url, audience: "urn:e2e:orders" },
      delivery: { retry: 1, backoffDelay: "PT0.2S", deadLetterSink: { uri: dead.url, audience: "urn:e2e:dead-letters" } },
    }));
    await api.waitReady(B, "Trigger", ns, "orders");
    expect((await send(url, "o-1", { Authorization: `Bearer ${p.token}` })).status).toBe(202);
    const attempts = await failing.waitFor(2);
    const [letter] = await dead.waitFor(1);
    const discovery = (await (await fetch(`${p.url}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    const keys = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const subject = `system:serviceaccount:${ns}:orders-oidc-eventing.knative.dev-trigger`;
    for (const r of attempts) {
      const { payload } = await jwtVerify(r.headers.authorization!.replace(/^Bearer /, ""), keys, { issuer: discovery.issuer, audience: "urn:e2e:orders" });
      expect(payload.sub).toBe(subject);
    }
    const { payload } = await jwtVerify(letter!.headers.authorization!.replace(/^Bearer /, ""), keys, { issuer: discovery.issuer, audience: "urn:e2e:dead-letters" });
    expect(payload.sub).toBe(subject);
  });

  it("signs deliveries the Standard Webhooks way for subscribers that verify HMAC", async () => {
    const ns = uniqueNs("ids");
    const url = (await api.apply(broker(ns, "default"))).status.address.url;
    const failing = await sink(failFirst(99, 500));
    const dead = await sink();
    const t = trigger(ns, "signed", "default", failing.url, { delivery: { retry: 0, deadLetterSink: { uri: dead.url } } });
    await api.apply({ ...t, metadata: { ...t.metadata, annotations: { "eddy.dev/signing-secret": "SECRET_TEST_SVIX_SECRET" } } } as typeof t);
    await api.waitReady(B, "Trigger", ns, "signed");
    expect((await send(url, "sig-1", { Authorization: `Bearer ${p.token}` }, '{"amount":7}')).status).toBe(202);
    const wh = new Webhook(TEST_SECRETS.SECRET_TEST_SVIX_SECRET);
    for (const r of [...(await failing.waitFor(1)), ...(await dead.waitFor(1))]) {
      expect(r.headers["webhook-id"]).toBe("sig-1");
      expect(wh.verify(r.body.toString(), r.headers)).toEqual({ amount: 7 });
    }
  });
});

describe("DEFAULT_AUTHORIZATION_MODE=deny-all", () => {
  let other: Platform | undefined;
  afterAll(async () => {
    await other?.stop();
  });

  it("refuses every sender no EventPolicy allows, and admits the ones a policy names", async () => {
    other = await startPlatform({ extraArgs: ["--var", "DEFAULT_AUTHORIZATION_MODE:deny-all"] });
    const a = new Api(other);
    const ns = uniqueNs("deny");
    const b = await a.apply(broker(ns, "default"));
    const sub = await sink();
    await a.apply(trigger(ns, "t", "default", sub.url));
    await a.waitReady(B, "Broker", ns, "default");
    const token = await tokenFor(a, ns, "app", b.status.address.audience);
    const refused = await send(b.status.address.url, "d-1", { Authorization: `Bearer ${token}` });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/DEFAULT_AUTHORIZATION_MODE is deny-all/);
    expect((await send(b.status.address.url, "d-admin", { Authorization: `Bearer ${other.token}` })).status).toBe(202);
    await a.apply({ apiVersion: "eventing.knative.dev/v1alpha1", kind: "EventPolicy", metadata: { name: "app", namespace: ns }, spec: { from: [{ sub: `system:serviceaccount:${ns}:app` }] } });
    await expect.poll(async () => (await a.get(B, "Broker", ns, "default")).body.status.policies).toEqual([{ apiVersion: "eventing.knative.dev/v1alpha1", name: "app" }]);
    await expect.poll(async () => (await send(b.status.address.url, `d-${Math.random()}`, { Authorization: `Bearer ${token}` })).status).toBe(202);
    expect((await sub.waitFor(2)).map((r) => r.headers["ce-id"])).toContain("d-admin");
  });
});
