// Sender identity at the ingress: every 401 and 403, the order of answers, ServiceAccounts and
// TokenRequests, the OIDC discovery document, and sender tokens kept away from the control plane.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { importJWK, SignJWT, UnsecuredJWT, type JWK } from "jose";
import { apply, AUTH, brokerObj, ORIGIN, SINK, stats, triggerObj, uid, waitLog } from "./helpers.js";

const keys = env as unknown as { EDDY_SIGNING_KEY: string; EDDY_SIGNING_KEY_PREVIOUS: string };
const CE = { "ce-specversion": "1.0", "ce-source": "/id", "ce-type": "com.example.id", "Content-Type": "application/json" };

async function api(method: string, path: string, body?: unknown, auth: Record<string, string> = AUTH): Promise<{ status: number; body: any }> {
  const r = await SELF.fetch(`${ORIGIN}${path}`, { method, headers: { ...auth, "Content-Type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

async function serviceAccount(ns: string, name: string): Promise<void> {
  expect((await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } })).status).toBe(201);
}

async function token(ns: string, sa: string, audiences: string[], expirationSeconds?: number): Promise<string> {
  const r = await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences, ...(expirationSeconds ? { expirationSeconds } : {}) } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.status.token;
}

function post(ns: string, broker: string, headers: Record<string, string>, id = uid("e"), body = "{}"): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/brokers/${ns}/${broker}`, { method: "POST", headers: { ...CE, "ce-id": id, ...headers }, body });
}

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const audience = (ns: string, name = "default") => `eventing.knative.dev/broker/${ns}/${name}`;

async function sign(jwk: string, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const k = JSON.parse(jwk) as JWK;
  return new SignJWT(claims).setProtectedHeader({ alg: k.alg!, kid: k.kid!, ...header }).sign(await importJWK(k, k.alg));
}

async function brokerWithTrigger(): Promise<{ ns: string; k: string }> {
  const ns = uid("ns");
  const k = uid();
  await apply(brokerObj(ns, "default"), "brokers");
  await apply(triggerObj(ns, "t", "default", `${SINK}/ok/${k}`), "triggers");
  return { ns, k };
}

describe("ingress authentication (401)", () => {
  it("refuses every request without a valid token, says why, and stores nothing", async () => {
    const { ns } = await brokerWithTrigger();
    const now = Math.floor(Date.now() / 1000);
    const good = { iss: ORIGIN, sub: `system:serviceaccount:${ns}:app`, aud: audience(ns), iat: now, exp: now + 600 };
    const valid = await sign(keys.EDDY_SIGNING_KEY, good);
    const cases: [string, Record<string, string>, RegExp][] = [
      ["missing", {}, /missing bearer token: send `Authorization: Bearer <token>` with a token for audience "eventing.knative.dev\/broker\//],
      ["not Bearer", { Authorization: "Basic dXNlcjpwYXNz" }, /not "Bearer <token>"/],
      ["malformed", bearer("abc.def"), /malformed/],
      ["alg none", bearer(new UnsecuredJWT(good).encode()), /algorithm "none" is not accepted/],
      ["expired", bearer(await sign(keys.EDDY_SIGNING_KEY, { ...good, iat: now - 7200, exp: now - 3600 })), /expired at/],
      ["wrong audience", bearer(await sign(keys.EDDY_SIGNING_KEY, { ...good, aud: audience(ns, "other") })), /not for "eventing.knative.dev\/broker\/.*\/default"/],
      ["wrong issuer", bearer(await sign(keys.EDDY_SIGNING_KEY, { ...good, iss: "https://evil.example" })), /issued by "https:\/\/evil.example"/],
      ["bad signature", bearer(`${valid.slice(0, valid.lastIndexOf(".") + 1)}${"A".repeat(86)}`), /signature does not verify/],
      ["unknown key", bearer(await sign(keys.EDDY_SIGNING_KEY, good, { kid: "someone-else" })), /key "someone-else", which this deployment does not have/],
      ["wrong admin token", bearer("not-the-admin-token"), /malformed \(not a JWT, nor the ADMIN_TOKEN\)/],
      // After the admin token was accepted (and remembered): tokens that share all but its end, or more.
      ["admin token cut short", bearer("test-toke"), /nor the ADMIN_TOKEN/],
      ["admin token and more", bearer("test-token2"), /nor the ADMIN_TOKEN/],
    ];
    expect((await post(ns, "default", AUTH)).status).toBe(202);
    for (const [what, headers, message] of cases) {
      const r = await post(ns, "default", headers);
      expect(r.status, what).toBe(401);
      expect(r.headers.get("www-authenticate"), what).toMatch(/^Bearer realm="eddy"/);
      expect(await r.text(), what).toMatch(message);
    }
    expect((await post(ns, "default", bearer(valid))).status).toBe(202);
    expect((await stats(ns, "default")).counters.accepted).toBe(2);
  });

  it("answers 405, 413 and 400 before asking for a token, and 404 only to a sender", async () => {
    const { ns } = await brokerWithTrigger();
    expect((await SELF.fetch(`${ORIGIN}/brokers/${ns}/default`)).status).toBe(405);
    const big = await SELF.fetch(`${ORIGIN}/brokers/${ns}/default`, { method: "POST", headers: { ...CE, "ce-id": "big" }, body: "x".repeat(300_000) });
    expect(big.status).toBe(413);
    const invalid = await SELF.fetch(`${ORIGIN}/brokers/${ns}/default`, { method: "POST", headers: { "ce-specversion": "1.0", "ce-id": "x" }, body: "{}" });
    expect(invalid.status).toBe(400);
    expect((await post(ns, "nope", {})).status).toBe(401);
    expect((await post(ns, "nope", AUTH)).status).toBe(404);
  });

  it("keeps verifying tokens signed with the previous key after a rotation; the JWKS lists both", async () => {
    const { ns, k } = await brokerWithTrigger();
    const now = Math.floor(Date.now() / 1000);
    const old = await sign(keys.EDDY_SIGNING_KEY_PREVIOUS, { iss: ORIGIN, sub: `system:serviceaccount:${ns}:app`, aud: audience(ns), iat: now, exp: now + 600 });
    expect((await post(ns, "default", bearer(old))).status).toBe(202);
    await waitLog(k, 1);
    const jwks = (await (await SELF.fetch(`${ORIGIN}/openid/v1/jwks`)).json()) as { keys: JWK[] };
    expect(jwks.keys.map((x) => x.kid)).toEqual([JSON.parse(keys.EDDY_SIGNING_KEY).kid, JSON.parse(keys.EDDY_SIGNING_KEY_PREVIOUS).kid]);
    expect(jwks.keys.map((x) => x.alg)).toEqual(["ES256", "RS256"]);
    for (const key of jwks.keys) for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(key).not.toHaveProperty(secret);
    const discovery = (await (await SELF.fetch(`${ORIGIN}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery).toMatchObject({ issuer: ORIGIN, jwks_uri: `${ORIGIN}/openid/v1/jwks`, id_token_signing_alg_values_supported: ["ES256", "RS256"] });
  });
});

describe("ServiceAccounts and TokenRequests", () => {
  it("issue tokens as kubectl create token does, for ServiceAccounts that exist", async () => {
    const { ns, k } = await brokerWithTrigger();
    await serviceAccount(ns, "producer");
    const got = await api("GET", `/api/v1/namespaces/${ns}/serviceaccounts/producer`);
    expect(got.body).toMatchObject({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "producer", namespace: ns } });
    expect((await api("GET", `/api/v1/namespaces/${ns}/serviceaccounts`)).body.items.map((s: any) => s.metadata.name)).toEqual(["producer"]);
    const r = await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/producer/token`, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [audience(ns)], expirationSeconds: 900 } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [audience(ns)], expirationSeconds: 900 } });
    const exp = Date.parse(r.body.status.expirationTimestamp);
    expect(exp - Date.now()).toBeGreaterThan(880_000);
    const claims = JSON.parse(atob(r.body.status.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    expect(claims).toMatchObject({ iss: ORIGIN, sub: `system:serviceaccount:${ns}:producer`, aud: [audience(ns)], exp: exp / 1000 });
    expect((await post(ns, "default", bearer(r.body.status.token))).status).toBe(202);
    await waitLog(k, 1);
  });

  it("answers 404 for an unknown ServiceAccount and 422 for a bad TokenRequest, naming the field", async () => {
    const ns = uid("ns");
    const missing = await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/ghost/token`, { spec: { audiences: ["a"] } });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/serviceaccounts "ghost" not found/);
    await serviceAccount(ns, "sa");
    const short = await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/sa/token`, { spec: { expirationSeconds: 60 } });
    expect(short.status).toBe(422);
    expect(short.body.details.causes[0]).toMatchObject({ field: "spec.expirationSeconds" });
    const aud = await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/sa/token`, { spec: { audiences: [""] } });
    expect(aud.body.details.causes[0]).toMatchObject({ field: "spec.audiences" });
    expect((await api("DELETE", `/api/v1/namespaces/${ns}/serviceaccounts/sa`)).status).toBe(200);
    expect((await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/sa/token`, { spec: {} })).status).toBe(404);
  });

  it("never let a sender token read or write the control plane: the API takes tokens for its own audience only", async () => {
    const ns = uid("ns");
    await serviceAccount(ns, "sa");
    const t = await token(ns, "sa", [audience(ns)]);
    const read = await api("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers`, undefined, bearer(t));
    expect(read.status).toBe(401);
    expect(read.body.message).toMatch(/a token for an addressable sends events; the API takes tokens for its own audience \(http:\/\/eddy\.test\)/);
    expect((await api("POST", `/api/v1/namespaces/${ns}/serviceaccounts/sa/token`, { spec: {} }, bearer(t))).status).toBe(401);
    expect((await api("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers`, undefined, bearer("x.y.z"))).status).toBe(401);
    expect((await api("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers`, undefined, {})).status).toBe(401);
    // A token for the API is the ServiceAccount, which may do nothing until a binding says so.
    const apiToken = await token(ns, "sa", []);
    const refused = await api("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers`, undefined, bearer(apiToken));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ reason: "Forbidden", code: 403, message: `brokers.eventing.knative.dev is forbidden: User "system:serviceaccount:${ns}:sa" cannot list resource "brokers" in API group "eventing.knative.dev" in the namespace "${ns}"` });
    // ...and it never sends events: its audience is the API's, not an addressable's.
    expect((await post(ns, "default", bearer(apiToken))).status).toBe(401);
  });
});

const policy = (ns: string, name: string, spec: Record<string, unknown>) => ({ apiVersion: "eventing.knative.dev/v1alpha1", kind: "EventPolicy", metadata: { name, namespace: ns }, spec });

describe("ingress authorization (403)", () => {
  it("admits the same namespace by default and refuses another, until a policy allows it", async () => {
    const { ns, k } = await brokerWithTrigger();
    const other = uid("ns");
    await serviceAccount(ns, "local");
    await serviceAccount(other, "remote");
    expect((await post(ns, "default", bearer(await token(ns, "local", [audience(ns)])))).status).toBe(202);
    const remote = await token(other, "remote", [audience(ns)]);
    const refused = await post(ns, "default", bearer(remote));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(new RegExp(`"system:serviceaccount:${other}:remote" is not a ServiceAccount of namespace "${ns}"`));
    const p = await apply(policy(ns, "remote-orders", { to: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } }], from: [{ sub: `system:serviceaccount:${other}:*` }], filters: [{ prefix: { type: "com.example.order" } }] }), "eventpolicies");
    expect(p.status.from).toEqual([`system:serviceaccount:${other}:*`]);
    const b = await api("GET", `/apis/eventing.knative.dev/v1/namespaces/${ns}/brokers/default`);
    expect(b.body.status.policies).toEqual([{ apiVersion: "eventing.knative.dev/v1alpha1", name: "remote-orders" }]);
    const order = (t: string) => post(ns, "default", { ...bearer(t), "ce-type": "com.example.order.created" });
    expect((await order(remote)).status).toBe(202);
    const unfiltered = await post(ns, "default", bearer(remote));
    expect(unfiltered.status).toBe(403);
    expect(await unfiltered.text()).toMatch(/does not pass the spec.filters of EventPolicy remote-orders/);
    // Now that a policy applies, the same namespace needs one too; the admin token never does.
    const local = await post(ns, "default", bearer(await token(ns, "local", [audience(ns)])));
    expect(local.status).toBe(403);
    expect(await local.text()).toMatch(/no EventPolicy that applies .*\(remote-orders\) allows/);
    expect((await post(ns, "default", AUTH)).status).toBe(202);
    await waitLog(k, 3);
    expect((await stats(ns, "default")).counters["rejected.403"]).toBe(3);
  });

  it("refuses malformed policies with 422 naming the field", async () => {
    const ns = uid("ns");
    const r = await api("PUT", `/apis/eventing.knative.dev/v1alpha1/namespaces/${ns}/eventpolicies/p`, policy(ns, "p", { from: [{ sub: "a*b" }], to: [{ ref: { apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", name: "gh" } }] }));
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: any) => c.field).sort()).toEqual(["spec.from[0].sub", "spec.to[0].ref"]);
  });
});
