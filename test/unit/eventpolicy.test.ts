import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import { TriggerKind } from "../../core/resources/kinds/trigger.js";
import { InMemoryChannelKind } from "../../core/resources/kinds/channel.js";
import { SubscriptionKind } from "../../core/resources/kinds/subscription.js";
import { SequenceKind } from "../../core/resources/kinds/flows.js";
import { PingSourceKind } from "../../core/resources/kinds/sources.js";
import { EventPolicyKind } from "../../core/resources/kinds/eventpolicy.js";
import { ApiError } from "../../core/errors.js";
import { planAuth } from "../../core/resources/plan.js";
import type { KindDef } from "../../core/resources/kind.js";
import type { Resource } from "../../core/resources/types.js";

const ctx = { namespace: "demo", refs: ADDRESSABLES };
const base = "https://eddy.example";
const now = "2026-01-01T00:00:00Z";
let n = 0;
function make(kind: KindDef, body: Record<string, unknown>): Resource {
  n += 1;
  return admit({ body: { apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version, kind: kind.kind, ...body }, kind, ctx, now, uid: `uid-${n}`, resourceVersion: String(n), suffix: "abcde" });
}
function causes(kind: KindDef, body: Record<string, unknown>): { field: string; message: string }[] {
  try {
    make(kind, body);
  } catch (e) {
    expect((e as ApiError).status).toBe(422);
    return (e as ApiError).causes;
  }
  throw new Error("expected 422");
}
const policy = (name: string, spec: Record<string, unknown>) => make(EventPolicyKind, { metadata: { name }, spec });
const cond = (r: Resource, type: string) => r.status!.conditions!.find((c) => c.type === type);
const broker = (name: string, labels?: Record<string, string>) => make(BrokerKind, { metadata: { name, ...(labels ? { labels } : {}) } });

describe("EventPolicy admission", () => {
  it("names every malformed field", () => {
    const errs = causes(EventPolicyKind, {
      metadata: { name: "p" },
      spec: {
        to: [{}, { ref: { apiVersion: "sources.eddy.dev/v1alpha1", kind: "WebhookSource", name: "gh" } }, { ref: { apiVersion: "v1", kind: "Pod", name: "x" } },
          { selector: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", matchExpressions: [{ key: "a", operator: "Near" }] } }],
        from: [{}, { sub: "system:*:demo" }, { ref: { apiVersion: "v1", kind: "Pod", name: "p" } }, { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", name: "t" }, sub: "x" }],
        filters: [{ cesql: "type = " }],
      },
    });
    const fields = errs.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining([
      "spec.to[0]", "spec.to[1].ref", "spec.to[2].ref.kind", "spec.to[3].selector.matchExpressions[0].operator",
      "spec.from[0]", "spec.from[1].sub", "spec.from[2].ref.kind", "spec.from[3]", "spec.filters[0].cesql",
    ]));
    expect(errs.find((e) => e.field === "spec.to[1].ref")!.message).toMatch(/WebhookSource is public/);
    expect(errs.find((e) => e.field === "spec.from[1].sub")!.message).toMatch(/only allowed as the last character/);
  });
  it("defaults a from.ref's namespace to the policy's", () => {
    const p = policy("p", { from: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", name: "t" } }] });
    expect((p.spec!.from as { ref: { namespace: string } }[])[0]!.ref.namespace).toBe("demo");
  });
});

describe("EventPolicy reconcile", () => {
  it("resolves refs to the senders' OIDC subjects and subs as given; a missing ref is not resolved", () => {
    const ping = make(PingSourceKind, { metadata: { name: "tick" }, spec: { sink: { uri: "http://127.0.0.1:9/" } } });
    const ok = policy("ok", { from: [{ ref: { apiVersion: "sources.knative.dev/v1", kind: "PingSource", name: "tick" } }, { sub: "system:serviceaccount:other:*" }] });
    const bad = policy("bad", { from: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", name: "nope" } }] });
    reconcileNamespace([ping, ok, bad], "demo", base, now);
    expect(ok.status!.from).toEqual(["system:serviceaccount:demo:tick-oidc-sources.knative.dev-pingsource", "system:serviceaccount:other:*"]);
    expect(cond(ok, "Ready")!.status).toBe("True");
    expect(cond(bad, "SubjectsResolved")).toMatchObject({ status: "False", message: expect.stringMatching(/Trigger "nope"/) });
    expect(cond(bad, "Ready")!.status).toBe("False");
  });
  it("is not ready with authentication disabled", () => {
    const p = policy("p", {});
    reconcileNamespace([p], "demo", base, now, () => true, { oidc: false, defaultMode: "allow-same-namespace" });
    expect(cond(p, "AuthenticationEnabled")).toMatchObject({ status: "False", reason: "OIDCAuthenticationDisabled" });
  });
});

describe("targets", () => {
  it("publish their audience and the default mode when no policy applies", () => {
    const b = broker("default");
    reconcileNamespace([b], "demo", base, now);
    expect(b.status!.address).toEqual({ url: `${base}/brokers/demo/default`, audience: "eventing.knative.dev/broker/demo/default" });
    expect(cond(b, "EventPoliciesReady")).toMatchObject({ status: "True", reason: "DefaultAuthorizationMode", message: 'Default authz mode is "allow-same-namespace"' });
    expect(b.status!.policies).toBeUndefined();
  });
  it("list the Ready policies that apply, by ref, selector or namespace-wide, and carry them in the plan", () => {
    const one = broker("one", { tier: "edge" });
    const two = broker("two");
    const byRef = policy("by-ref", { to: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "one" } }], from: [{ sub: "system:serviceaccount:x:a" }] });
    const bySel = policy("by-selector", { to: [{ selector: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", matchLabels: { tier: "edge" } } }], from: [{ sub: "system:serviceaccount:x:b" }], filters: [{ prefix: { type: "com.example." } }] });
    const all = policy("everything", { from: [{ sub: "system:serviceaccount:x:c" }] });
    const r = reconcileNamespace([one, two, byRef, bySel, all], "demo", base, now);
    expect(one.status!.policies).toEqual(["by-ref", "by-selector", "everything"].map((name) => ({ apiVersion: "eventing.knative.dev/v1alpha1", name })));
    expect(two.status!.policies).toEqual([{ apiVersion: "eventing.knative.dev/v1alpha1", name: "everything" }]);
    expect(cond(one, "EventPoliciesReady")!.status).toBe("True");
    const auth = planAuth(r.plans.get("BROKER:demo/one"))!;
    expect(auth.audience).toBe("eventing.knative.dev/broker/demo/one");
    expect(auth.policies).toContainEqual({ name: "by-selector", from: ["system:serviceaccount:x:b"], filters: [{ prefix: { type: "com.example." } }] });
  });
  it("are not ready while a policy that applies is not", () => {
    const b = broker("b");
    const p = policy("waiting", { from: [{ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Trigger", name: "later" } }] });
    reconcileNamespace([b, p], "demo", base, now);
    expect(cond(b, "EventPoliciesReady")).toMatchObject({ status: "False", reason: "EventPoliciesNotReady", message: "event policies waiting are not ready" });
    expect(cond(b, "Ready")!.status).toBe("False");
  });
});

describe("senders", () => {
  it("give Triggers, Subscriptions and sources their own identity, on their routes too", () => {
    const b = broker("default");
    const t = make(TriggerKind, { metadata: { name: "greetings" }, spec: { broker: "default", subscriber: { uri: "http://127.0.0.1:9/", audience: "my-app" } } });
    const c = make(InMemoryChannelKind, { metadata: { name: "c" } });
    const s = make(SubscriptionKind, { metadata: { name: "s" }, spec: { channel: { apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel", name: "c" }, subscriber: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" } } } });
    const r = reconcileNamespace([b, t, c, s], "demo", base, now);
    expect(t.status!.auth).toEqual({ serviceAccountName: "greetings-oidc-eventing.knative.dev-trigger" });
    expect(t.status!.subscriberAudience).toBe("my-app");
    expect(s.status!.auth).toEqual({ serviceAccountName: "s-oidc-messaging.knative.dev-subscription" });
    expect(s.status!.physicalSubscription).toMatchObject({ subscriberAudience: "eventing.knative.dev/broker/demo/default" });
    const route = r.plans.get("BROKER:demo/default")!.routes[0]!;
    expect(route.sender).toEqual({ subject: "system:serviceaccount:demo:greetings-oidc-eventing.knative.dev-trigger", issuer: base });
    expect(route.subscriber.audience).toBe("my-app");
  });
  it("leave status.auth and audiences out when authentication is disabled", () => {
    const b = broker("default");
    const t = make(TriggerKind, { metadata: { name: "t" }, spec: { broker: "default", subscriber: { uri: "http://127.0.0.1:9/" } } });
    reconcileNamespace([b, t], "demo", base, now, () => true, { oidc: false, defaultMode: "allow-same-namespace" });
    expect(t.status!.auth).toBeUndefined();
    expect(cond(t, "OIDCIdentityCreated")).toMatchObject({ status: "True", reason: "authentication-oidc feature disabled" });
    expect(b.status!.address).toEqual({ url: `${base}/brokers/demo/default` });
    expect(cond(b, "EventPoliciesReady")).toMatchObject({ status: "True", reason: "OIDCDisabled" });
  });
  it("make a Trigger whose signing secret is missing not ready, naming the secret", () => {
    const b = broker("default");
    const t = make(TriggerKind, { metadata: { name: "t", annotations: { "eddy.dev/signing-secret": "SECRET_ORDERS" } }, spec: { broker: "default", subscriber: { uri: "http://127.0.0.1:9/" } } });
    const r = reconcileNamespace([b, t], "demo", base, now, () => false);
    expect(cond(t, "Ready")).toMatchObject({ status: "False", reason: "SigningSecretNotFound", message: expect.stringMatching(/wrangler secret put SECRET_ORDERS/) });
    expect(r.plans.get("BROKER:demo/default")!.routes).toEqual([]);
    const ok = reconcileNamespace([b, t], "demo", base, now, () => true);
    expect(ok.plans.get("BROKER:demo/default")!.routes[0]!.signingSecret).toEqual({ binding: "SECRET_ORDERS" });
    const annotated = (v: string) => ({ metadata: { name: "x", annotations: { "eddy.dev/signing-secret": v } }, spec: { broker: "b", subscriber: { uri: "http://x/" } } });
    expect(causes(TriggerKind, annotated("not a name"))[0]!.field).toBe("metadata.annotations.eddy.dev/signing-secret");
    // Only SECRET_ bindings may be named: never the admin token or Eddy's own keys.
    for (const v of ["ADMIN_TOKEN", "EDDY_SIGNING_KEY", "EDDY_SECRETS_KEY", "ORDERS_SECRET"]) expect(causes(TriggerKind, annotated(v))[0]!.message).toContain("does not start with SECRET_");
  });
  it("sign with a Secret's key named by the annotation, carrying the Secret's resourceVersion", () => {
    const b = broker("default");
    const t = make(TriggerKind, { metadata: { name: "t", annotations: { "eddy.dev/signing-secret": "orders/whsec" } }, spec: { broker: "default", subscriber: { uri: "http://127.0.0.1:9/" } } });
    const secret = (data: Record<string, string>, rv: string) => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "orders", namespace: "demo", uid: "u", generation: 1, resourceVersion: rv, creationTimestamp: now }, type: "Opaque", data }) as Resource;
    reconcileNamespace([b, t], "demo", base, now);
    expect(cond(t, "SigningSecretResolved")).toMatchObject({ status: "False", message: expect.stringContaining('Secret "orders" key "whsec": the Secret does not exist') });
    reconcileNamespace([b, t, secret({ other: "eA==" }, "5")], "demo", base, now);
    expect(cond(t, "SigningSecretResolved")!.message).toContain("has no such key (it has other)");
    const r = reconcileNamespace([b, t, secret({ whsec: "eA==" }, "7")], "demo", base, now);
    expect(r.plans.get("BROKER:demo/default")!.routes[0]!.signingSecret).toEqual({ secretKeyRef: { name: "orders", key: "whsec" }, version: "7" });
    expect(cond(t, "Ready")!.status).toBe("True");
  });
  it("let a Sequence's later steps take events only from the flow's own routes", () => {
    const seq = make(SequenceKind, { metadata: { name: "seq" }, spec: { steps: [{ uri: "http://127.0.0.1:9/a" }, { uri: "http://127.0.0.1:9/b" }] } });
    const r = reconcileNamespace([seq], "demo", base, now);
    const step0 = r.plans.get("CHANNEL:Sequence/demo/seq/0")!;
    const step1 = r.plans.get("CHANNEL:Sequence/demo/seq/1")!;
    expect(planAuth(step0)!.policies).toEqual([]);
    expect(planAuth(step1)!.policies[0]!.from).toEqual([
      "system:serviceaccount:demo:seq-kn-sequence-0-oidc-messaging.knative.dev-subscription",
      "system:serviceaccount:demo:seq-kn-sequence-1-oidc-messaging.knative.dev-subscription",
    ]);
    expect(step0.routes[0]!.sender!.subject).toBe("system:serviceaccount:demo:seq-kn-sequence-0-oidc-messaging.knative.dev-subscription");
    expect(seq.status!.auth).toEqual({ serviceAccountNames: ["seq-kn-sequence-0-oidc-messaging.knative.dev-subscription", "seq-kn-sequence-1-oidc-messaging.knative.dev-subscription"] });
    expect((seq.status!.address as { audience: string }).audience).toBe("flows.knative.dev/sequence/demo/seq");
  });
});
