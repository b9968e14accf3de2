import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { Webhook } from "svix";
import { md5Hex } from "../../core/identity/md5.js";
import { audienceOf, oidcServiceAccountName, subjectOf } from "../../core/identity/names.js";
import { authSettings } from "../../core/identity/settings.js";
import { compileAuthorizer, subjectAllowed } from "../../core/identity/policy.js";
import { selectorMatches } from "../../core/identity/selector.js";
import { KeyConfigError, keyRing } from "../../core/identity/keys.js";
import { deliveryToken, signToken, verifyToken } from "../../core/identity/tokens.js";
import { standardWebhookHeaders, SigningSecretError } from "../../core/identity/webhook-signature.js";
import type { CloudEvent } from "../../core/cloudevents/event.js";
import { protobufManifest, protobufTokenRequest } from "../../core/identity/protobuf.js";

async function privateJwk(alg: "ES256" | "RS256", kid?: string): Promise<string> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return JSON.stringify({ ...(await exportJWK(privateKey)), ...(kid ? { kid } : {}) });
}

const ev = (id: string, type: string): CloudEvent => ({ attrs: { specversion: "1.0", id, source: "/t", type } }) as CloudEvent;

describe("names", () => {
  it("computes MD5 as node:crypto does", () => {
    for (const s of ["", "abc", "é-ünïcode", "x".repeat(200)]) expect(md5Hex(s)).toBe(createHash("md5").update(s).digest("hex"));
  });
  it("names OIDC ServiceAccounts as Knative does, hashing long names like kmeta.ChildName", () => {
    expect(oidcServiceAccountName("name", "group", "kind")).toBe("name-oidc-group-kind");
    expect(oidcServiceAccountName("greetings", "eventing.knative.dev", "Trigger")).toBe("greetings-oidc-eventing.knative.dev-trigger");
    // Knative's own test vector (pkg/auth/serviceaccount_test.go).
    expect(oidcServiceAccountName("my-loooooooooooooooooooooooooooooooooooooog-Broker", "eventing.knative.dev", "Broker"))
      .toBe("my-looooooooooooooooooooooooooo2dfc2a3825b8d82077b0f25518b36884");
  });
  it("spells audiences and subjects as Knative and Kubernetes do", () => {
    expect(audienceOf("eventing.knative.dev", "Broker", "demo", "default")).toBe("eventing.knative.dev/broker/demo/default");
    expect(subjectOf("demo", "app")).toBe("system:serviceaccount:demo:app");
  });
});

describe("settings", () => {
  it("defaults to OIDC enabled and allow-same-namespace, and falls to the safe side on unknown values", () => {
    expect(authSettings({})).toEqual({ oidc: true, defaultMode: "allow-same-namespace" });
    expect(authSettings({ AUTHENTICATION_OIDC: "disabled", DEFAULT_AUTHORIZATION_MODE: "allow-all" })).toEqual({ oidc: false, defaultMode: "allow-all" });
    expect(authSettings({ AUTHENTICATION_OIDC: "off", DEFAULT_AUTHORIZATION_MODE: "allow_all" })).toEqual({ oidc: true, defaultMode: "deny-all" });
  });
});

describe("authorization", () => {
  const demo = { subject: "system:serviceaccount:demo:app" };
  const other = { subject: "system:serviceaccount:other:app" };
  it("applies the default mode when no policy applies", () => {
    const a = compileAuthorizer({ audience: "a", policies: [] }, "demo", 'Broker "b"');
    expect(a.check([ev("1", "t")], demo, "allow-same-namespace")).toBeUndefined();
    expect(a.check([ev("1", "t")], other, "allow-same-namespace")).toMatch(/not a ServiceAccount of namespace "demo"/);
    expect(a.check([ev("1", "t")], other, "allow-all")).toBeUndefined();
    expect(a.check([ev("1", "t")], demo, "deny-all")).toMatch(/deny-all/);
    expect(a.check([ev("1", "t")], { admin: true }, "deny-all")).toBeUndefined();
  });
  it("admits a sender a policy lists, with prefix wildcards, and whose events pass that policy's filters", () => {
    const a = compileAuthorizer({
      audience: "a",
      policies: [
        { name: "orders", from: ["system:serviceaccount:other:*"], filters: [{ cesql: "type LIKE 'com.example.order%'" }] },
        { name: "ops", from: ["system:serviceaccount:demo:ops"] },
      ],
    }, "demo", 'Broker "b"');
    expect(a.check([ev("1", "com.example.order.created")], other, "deny-all")).toBeUndefined();
    expect(a.check([ev("1", "com.example.order.created"), ev("2", "com.example.refund")], other, "deny-all")).toMatch(/event "2" does not pass the spec.filters of EventPolicy orders/);
    expect(a.check([ev("1", "anything")], { subject: "system:serviceaccount:demo:ops" }, "deny-all")).toBeUndefined();
    // Policies apply, so the default mode no longer admits the same namespace.
    expect(a.check([ev("1", "t")], demo, "allow-all")).toMatch(/no EventPolicy .*\(orders, ops\) allows "system:serviceaccount:demo:app"/);
  });
  it("matches subjects as Knative's SubjectContained does", () => {
    expect(subjectAllowed("system:serviceaccount:Demo:App", ["system:serviceaccount:demo:app"])).toBe(true);
    expect(subjectAllowed("system:serviceaccount:demo:app", ["system:serviceaccount:demo:*"])).toBe(true);
    expect(subjectAllowed("system:serviceaccount:demox:app", ["system:serviceaccount:demo:*"])).toBe(false);
  });
  it("evaluates label selectors as Kubernetes does", () => {
    const labels = { tier: "edge", team: "a" };
    expect(selectorMatches({ matchLabels: { tier: "edge" } }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "team", operator: "In", values: ["b"] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: "team", operator: "NotIn", values: ["b"] }, { key: "gone", operator: "DoesNotExist" }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: "gone", operator: "Exists" }] }, labels)).toBe(false);
  });
});

describe("tokens", () => {
  const iss = "https://eddy.example";
  const aud = "eventing.knative.dev/broker/demo/default";
  const now = Math.floor(Date.now() / 1000);

  it("signs with ES256 and RS256 and verifies its own tokens", async () => {
    for (const alg of ["ES256", "RS256"] as const) {
      const ring = await keyRing(await privateJwk(alg), undefined);
      const token = await signToken(ring, { iss, sub: "system:serviceaccount:demo:app", aud: [aud], iat: now, exp: now + 600 });
      expect(await verifyToken(ring, token, { issuer: iss, audience: aud })).toEqual({ ok: true, subject: "system:serviceaccount:demo:app", expiresAt: now + 600 });
      expect(ring.jwks.keys[0]).toMatchObject({ kty: alg === "ES256" ? "EC" : "RSA", alg, use: "sig", kid: ring.current.kid });
      expect(ring.jwks.keys[0]).not.toHaveProperty("d");
    }
  });

  it("refuses every bad token with a reason that says what to do", async () => {
    const ring = await keyRing(await privateJwk("ES256", "k1"), undefined);
    const stranger = await keyRing(await privateJwk("ES256", "k1"), undefined);
    const good = { iss, sub: "system:serviceaccount:demo:app", aud, iat: now, exp: now + 600 };
    const check = async (t: string) => ((await verifyToken(ring, t, { issuer: iss, audience: aud })) as { reason: string }).reason;
    expect(await check("not-a-jwt")).toMatch(/malformed/);
    expect(await check("@@.@@.@@")).toMatch(/malformed/);
    expect(await check(new UnsecuredJWT({ sub: "x", aud }).setIssuer(iss).setExpirationTime("1h").encode())).toMatch(/algorithm "none" is not accepted/);
    const hs = await new SignJWT({ aud }).setProtectedHeader({ alg: "HS256" }).setSubject("x").setIssuer(iss).setExpirationTime("1h").sign(new Uint8Array(32));
    expect(await check(hs)).toMatch(/algorithm "HS256" is not accepted/);
    expect(await check(await signToken(ring, { ...good, iat: now - 1200, exp: now - 600 }))).toMatch(/expired at/);
    expect(await check(await signToken(ring, { ...good, aud: "eventing.knative.dev/broker/demo/other" }))).toMatch(/not for "eventing.knative.dev\/broker\/demo\/default": request one with spec.audiences/);
    expect(await check(await signToken(ring, { ...good, iss: "https://elsewhere.example" }))).toMatch(/issued by "https:\/\/elsewhere.example", not by this deployment/);
    expect(await check(await signToken(stranger, good))).toMatch(/signature does not verify/);
    const unknownKid = await keyRing(await privateJwk("ES256", "k9"), undefined);
    expect(await check(await signToken(unknownKid, good))).toMatch(/key "k9", which this deployment does not have/);
    const t = await signToken(ring, good);
    expect(await check(`${t.slice(0, -4)}AAAA`)).toMatch(/signature does not verify/);
  });

  it("keeps verifying tokens of the previous key after a rotation, and stops once it is removed", async () => {
    const oldKey = await privateJwk("ES256", "2026-01");
    const newKey = await privateJwk("RS256", "2026-02");
    const before = await keyRing(oldKey, undefined);
    const token = await signToken(before, { iss, sub: "system:serviceaccount:demo:app", aud, iat: now, exp: now + 600 });
    const rotated = await keyRing(newKey, oldKey);
    expect(rotated.jwks.keys.map((k) => k.kid)).toEqual(["2026-02", "2026-01"]);
    expect(await verifyToken(rotated, token, { issuer: iss, audience: aud })).toMatchObject({ ok: true });
    const fresh = await signToken(rotated, { iss, sub: "s", aud, iat: now, exp: now + 600 });
    expect(JSON.parse(atob(fresh.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")))).toMatchObject({ alg: "RS256", kid: "2026-02" });
    const after = await keyRing(newKey, undefined);
    expect(await verifyToken(after, token, { issuer: iss, audience: aud })).toMatchObject({ ok: false, reason: expect.stringMatching(/"2026-01", which this deployment does not have/) });
  });

  it("explains unusable keys", async () => {
    await expect(keyRing(undefined, undefined)).rejects.toThrow(/EDDY_SIGNING_KEY is not set: generate one with `node scripts\/signing-key.mjs`/);
    await expect(keyRing("{not json", undefined)).rejects.toBeInstanceOf(KeyConfigError);
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    await expect(keyRing(JSON.stringify(await exportJWK(publicKey)), undefined)).rejects.toThrow(/public key; it must be the private JWK/);
    const k = await privateJwk("ES256", "same");
    await expect(keyRing(k, k)).rejects.toThrow(/same kid/);
  });

  it("reuses a delivery token until shortly before it expires", async () => {
    const ring = await keyRing(await privateJwk("ES256"), undefined);
    const t0 = Date.now();
    const a = await deliveryToken(ring, iss, "system:serviceaccount:demo:t", aud, t0);
    expect(await deliveryToken(ring, iss, "system:serviceaccount:demo:t", aud, t0 + 60_000)).toBe(a);
    expect(await deliveryToken(ring, iss, "system:serviceaccount:demo:t", "other", t0)).not.toBe(a);
    expect(await deliveryToken(ring, iss, "system:serviceaccount:demo:t", aud, t0 + 590_000)).not.toBe(a);
  });
});

describe("Standard Webhooks signatures", () => {
  it("signs what svix verifies", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const body = new TextEncoder().encode('{"order":42}');
    const headers = await standardWebhookHeaders(secret, "S", "evt-1", body);
    expect(headers["webhook-id"]).toBe("evt-1");
    expect(new Webhook(secret).verify('{"order":42}', headers)).toEqual({ order: 42 });
    expect(() => new Webhook(secret).verify('{"order":43}', headers)).toThrow();
  });
  it("explains a secret that is not whsec_", async () => {
    await expect(standardWebhookHeaders("plain", "ORDERS_SECRET", "e", null)).rejects.toBeInstanceOf(SigningSecretError);
    await expect(standardWebhookHeaders("plain", "ORDERS_SECRET", "e", null)).rejects.toThrow(/ORDERS_SECRET must be a Standard Webhooks secret/);
  });
});

describe("kubectl's protobuf bodies", () => {
  const enc = new TextEncoder();
  const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(Math.floor(n / 128))]);
  const bytes = (field: number, b: Uint8Array | number[]) => [...varint(field * 8 + 2), ...varint(b.length), ...b];
  const str = (field: number, s: string) => bytes(field, [...enc.encode(s)]);
  const num = (field: number, n: number) => [...varint(field * 8), ...varint(n)];
  const envelope = (obj: number[]) => new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...bytes(1, str(1, "v1")), ...bytes(2, obj)]);

  it("reads a TokenRequest's audiences and expiry, and a ServiceAccount's name", () => {
    const spec = [...str(1, "eventing.knative.dev/broker/demo/default"), ...str(1, "urn:other"), ...num(4, 1200)];
    expect(protobufTokenRequest(envelope([...bytes(1, str(1, "app")), ...bytes(2, spec)]))).toEqual({
      spec: { audiences: ["eventing.knative.dev/broker/demo/default", "urn:other"], expirationSeconds: 1200 },
    });
    expect(protobufManifest(envelope(bytes(1, str(1, "producer"))))).toEqual({ metadata: { name: "producer" } });
    expect(() => protobufManifest(new Uint8Array([1, 2, 3, 4]))).toThrow(/k8s/);
  });
});
