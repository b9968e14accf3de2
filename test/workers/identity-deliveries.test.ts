// Deliveries say who sends them: tokens for destinations with an audience (checked with jose against
// the JWKS Eddy serves), in-process hops authorized by the target's EventPolicies, and Standard
// Webhooks signatures (checked with the svix library), dead letters included.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { Webhook } from "svix";
import { apply, brokerObj, decode, ORIGIN, send, SINK, sinkLog, triggerObj, uid, waitLog } from "./helpers.js";

const SECRET = (env as unknown as { SECRET_TEST_SIGNING_SECRET: string }).SECRET_TEST_SIGNING_SECRET;
const ev = (id: string, type = "t") => ({ specversion: "1.0", id, source: "/d", type });

async function jwks() {
  return createLocalJWKSet((await (await SELF.fetch(`${ORIGIN}/openid/v1/jwks`)).json()) as JSONWebKeySet);
}

const bearerOf = (h: Record<string, string>) => /^Bearer (.+)$/.exec(h.authorization ?? "")?.[1];

describe("tokens on deliveries", () => {
  it("carry a short-lived token for the destination's audience, naming the Trigger, reused across deliveries and retries", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(brokerObj(ns, "default"), "brokers");
    const t = await apply(triggerObj(ns, "greetings", "default", `${SINK}/fail/1/503/${k}`, { delivery: { retry: 2, backoffDelay: "PT1S" } }), "triggers");
    await apply({ ...t, spec: { ...t.spec, subscriber: { uri: `${SINK}/fail/1/503/${k}`, audience: "https://my-app.example" } } }, "triggers");
    expect((await send(ns, "default", ev("a"))).status).toBe(202);
    expect((await send(ns, "default", ev("b"))).status).toBe(202);
    const got = await waitLog(k, 3);
    const keys = await jwks();
    for (const r of got) {
      const { payload, protectedHeader } = await jwtVerify(bearerOf(r.headers)!, keys, { issuer: ORIGIN, audience: "https://my-app.example" });
      expect(payload.sub).toBe(`system:serviceaccount:${ns}:greetings-oidc-eventing.knative.dev-trigger`);
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(600);
      expect(protectedHeader.kid).toBe(JSON.parse((env as unknown as { EDDY_SIGNING_KEY: string }).EDDY_SIGNING_KEY).kid);
    }
    // One token for the route: signed once, not once per delivery (the first attempt and the queued retry included).
    expect(new Set(got.map((r) => bearerOf(r.headers))).size).toBe(1);
  });

  it("are left out where the destination has no audience", async () => {
    const ns = uid("ns");
    const k = uid();
    await apply(brokerObj(ns, "default"), "brokers");
    await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
    await send(ns, "default", ev("a"));
    const [got] = await waitLog(k, 1);
    expect(got!.headers.authorization).toBeUndefined();
  });
});

describe("in-process hops", () => {
  it("are authorized by the target's EventPolicies with the sending Trigger's identity", async () => {
    const ns = uid("ns");
    const [ok, dead] = [uid(), uid()];
    await apply(brokerObj(ns, "front"), "brokers");
    await apply(brokerObj(ns, "back"), "brokers");
    await apply(triggerObj(ns, "sink", "back", `${SINK}/ok/${ok}`), "triggers");
    const toBack = { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "back" } };
    await apply(triggerObj(ns, "allowed", "front", "", { subscriber: toBack, filter: { attributes: { type: "allowed" } } }), "triggers");
    await apply(triggerObj(ns, "blocked", "front", "", { subscriber: toBack, filter: { attributes: { type: "blocked" } }, delivery: { retry: 0, deadLetterSink: { uri: `${SINK}/ok/${dead}` } } }), "triggers");
    await apply({
      apiVersion: "eventing.knative.dev/v1alpha1", kind: "EventPolicy", metadata: { name: "only-allowed", namespace: ns },
      spec: { to: [toBack], from: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", name: "allowed" } }] },
    }, "eventpolicies");
    await send(ns, "front", ev("x1", "allowed"));
    await send(ns, "front", ev("x2", "blocked"));
    expect((await waitLog(ok, 1)).map((r) => r.headers["ce-id"])).toEqual(["x1"]);
    const [d] = await waitLog(dead, 1);
    expect(d!.headers).toMatchObject({ "ce-id": "x2", "ce-knativeerrorcode": "403" });
    expect(decode(d!.headers["ce-knativeerrordata"]!)).toMatch(/only-allowed/);
    expect(await sinkLog(ok)).toHaveLength(1);
  });
});

describe("signed deliveries", () => {
  it("sign subscriber calls and dead letters the Standard Webhooks way", async () => {
    const ns = uid("ns");
    const [fail, dls] = [uid(), uid()];
    await apply(brokerObj(ns, "default"), "brokers");
    const signed = triggerObj(ns, "signed", "default", `${SINK}/status/500/${fail}`, { delivery: { retry: 0, deadLetterSink: { uri: `${SINK}/ok/${dls}` } } });
    await apply({ ...signed, metadata: { ...signed.metadata, annotations: { "eddy.dev/signing-secret": "SECRET_TEST_SIGNING_SECRET" } } } as typeof signed, "triggers");
    await send(ns, "default", ev("signed-1"), '{"order":42}');
    const wh = new Webhook(SECRET);
    for (const r of [...(await waitLog(fail, 1)), ...(await waitLog(dls, 1))]) {
      expect(r.headers["webhook-id"]).toBe("signed-1");
      expect(wh.verify(decode(r.body), r.headers)).toEqual({ order: 42 });
      expect(() => wh.verify('{"order":43}', r.headers)).toThrow();
    }
  });
});
