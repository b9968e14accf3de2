import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import { TriggerKind } from "../../core/resources/kinds/trigger.js";
import { ApiError } from "../../core/errors.js";
import type { KindDef } from "../../core/resources/kind.js";
import type { Resource } from "../../core/resources/types.js";

const ctx = { namespace: "demo", refs: ADDRESSABLES };
let n = 0;
function make(kind: KindDef, body: unknown, old?: Resource, name?: string): Resource {
  n += 1;
  return admit({ body, kind, ctx, now: "2026-01-01T00:00:00Z", uid: `uid-${n}`, resourceVersion: String(n), suffix: "abcde", ...(old ? { old } : {}), ...(name ? { name } : {}) });
}
function invalid(kind: KindDef, body: unknown, old?: Resource): ApiError {
  try {
    make(kind, body, old);
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("expected admission to fail");
}
const B = (name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) => ({
  apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name, ...(annotations ? { annotations } : {}) }, spec,
});
const T = (name: string, spec: Record<string, unknown>) => ({ apiVersion: "eventing.knative.dev/v1", kind: "Trigger", metadata: { name }, spec });
const sub = { uri: "http://127.0.0.1:9/" };

describe("Broker admission", () => {
  it("defaults delivery like Knative's config-br-defaults and the class annotation", () => {
    const b = make(BrokerKind, B("default"));
    expect(b.spec!.delivery).toEqual({ retry: 10, backoffPolicy: "exponential", backoffDelay: "PT0.2S" });
    expect(b.metadata.annotations!["eventing.knative.dev/broker.class"]).toBe("Eddy");
    expect(b.metadata).toMatchObject({ name: "default", namespace: "demo", generation: 1, uid: expect.any(String), creationTimestamp: "2026-01-01T00:00:00Z" });
  });
  it("keeps a given delivery as is", () => {
    expect(make(BrokerKind, B("b", { delivery: { retry: 2 } })).spec!.delivery).toEqual({ retry: 2 });
  });
  it("rejects a changed broker class or spec.config with 422 naming the field", () => {
    const old = make(BrokerKind, B("b", {}, { "eventing.knative.dev/broker.class": "MTChannelBasedBroker" }));
    const e = invalid(BrokerKind, B("b", {}, { "eventing.knative.dev/broker.class": "Kafka" }), old);
    expect(e.status).toBe(422);
    expect(e.causes[0]!.field).toBe("metadata.annotations.eventing.knative.dev/broker.class");
    const withConfig = make(BrokerKind, B("c", { config: { apiVersion: "v1", kind: "ConfigMap", name: "x" } }));
    expect(invalid(BrokerKind, B("c", { config: { apiVersion: "v1", kind: "ConfigMap", name: "y" } }), withConfig).causes[0]!.field).toBe("spec.config");
  });
  it("validates every DeliverySpec field", () => {
    const e = invalid(BrokerKind, B("b", { delivery: { retry: -1, backoffPolicy: "fibonacci", backoffDelay: "2s", timeout: "PT0S", retryAfterMax: "soon", format: "xml" } }));
    expect(e.causes.map((c) => c.field).sort()).toEqual([
      "spec.delivery.backoffDelay", "spec.delivery.backoffPolicy", "spec.delivery.format", "spec.delivery.retry", "spec.delivery.retryAfterMax", "spec.delivery.timeout",
    ]);
    expect(e.toStatus()).toMatchObject({ kind: "Status", code: 422, reason: "Invalid", details: { kind: "Broker", name: "b" } });
  });
  it("bumps generation only when the spec changes", () => {
    const a = make(BrokerKind, B("g"));
    const same = make(BrokerKind, { ...B("g"), metadata: { name: "g", labels: { x: "y" } } }, a);
    expect(same.metadata.generation).toBe(1);
    expect(same.metadata.uid).toBe(a.metadata.uid);
    expect(make(BrokerKind, B("g", { delivery: { retry: 1 } }), a).metadata.generation).toBe(2);
  });
  it("answers 400 for a body that does not belong at this URL", () => {
    expect(invalid(BrokerKind, "nope").status).toBe(400);
    expect(invalid(BrokerKind, { ...B("x"), kind: "Trigger" }).status).toBe(400);
    expect(invalid(BrokerKind, { ...B("x"), apiVersion: "eventing.knative.dev/v2" }).status).toBe(400);
    expect(invalid(BrokerKind, { ...B("x"), metadata: { name: "x", namespace: "other" } }).status).toBe(400);
    expect(invalid(BrokerKind, B("Bad_Name")).status).toBe(422);
  });
});

describe("Trigger admission", () => {
  it("defaults filter to {}, ref namespaces, and the broker label", () => {
    const t = make(TriggerKind, T("t", { broker: "default", subscriber: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "other" } } }));
    expect(t.spec!.filter).toEqual({});
    expect((t.spec!.subscriber as any).ref.namespace).toBe("demo");
    expect(t.metadata.labels).toEqual({ "eventing.knative.dev/broker": "default" });
  });
  it("accepts Knative's valid legacy filter keys and round-trips them unchanged", () => {
    const attributes = Object.fromEntries(
      ["source", "id", "specversion", "type", "subject", "time", "datacontenttype", "dataschema", "aaa", "c1d2e3", "abcdefghijklmnopqrst"].map((k) => [k, "v"]),
    );
    expect(make(TriggerKind, T("t", { broker: "b", subscriber: sub, filter: { attributes } })).spec!.filter).toEqual({ attributes });
  });
  it.each(["SOURCE", "Source", "souRce", "s pace s", "s_pace_s", "s-pace-s", "123", "😀", "!"])("rejects legacy filter key %j", (key) => {
    const e = invalid(TriggerKind, T("t", { broker: "b", subscriber: sub, filter: { attributes: { [key]: "v" } } }));
    expect(e.status).toBe(422);
    expect(e.causes.some((c) => c.field.startsWith("spec.filter.attributes"))).toBe(true);
  });
  it("requires broker and subscriber; spec.broker is immutable", () => {
    expect(invalid(TriggerKind, T("t", { subscriber: sub })).causes.map((c) => c.field)).toContain("spec.broker");
    expect(invalid(TriggerKind, T("t", { broker: "b" })).causes.map((c) => c.field)).toContain("spec.subscriber");
    const old = make(TriggerKind, T("t", { broker: "b", subscriber: sub }));
    const e = invalid(TriggerKind, T("t", { broker: "c", subscriber: sub }), old);
    expect(e.causes[0]).toMatchObject({ field: "spec.broker", message: expect.stringContaining("immutable") });
  });
  it("rejects relative URIs without a ref, unknown ref kinds and other namespaces", () => {
    expect(invalid(TriggerKind, T("t", { broker: "b", subscriber: { uri: "/relative" } })).causes[0]!.field).toBe("spec.subscriber.uri");
    expect(invalid(TriggerKind, T("t", { broker: "b", subscriber: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "s" } } })).causes[0]!.field).toBe("spec.subscriber.ref");
    expect(invalid(TriggerKind, T("t", { broker: "b", subscriber: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "s", namespace: "x" } } })).causes[0]!.field).toBe("spec.subscriber.ref.namespace");
  });
});

describe("reconcile", () => {
  const base = "https://eddy.example";
  it("a Trigger without its Broker is not ready, and becomes ready when the Broker appears", () => {
    const t = make(TriggerKind, T("t", { broker: "default", subscriber: sub }));
    let r = reconcileNamespace([t], "demo", base, "2026-01-01T00:00:00Z");
    const ready = (x: Resource) => x.status!.conditions!.find((c) => c.type === "Ready")!;
    expect(ready(t)).toMatchObject({ status: "False", reason: "BrokerDoesNotExist" });
    expect(r.plans.size).toBe(0);
    const b = make(BrokerKind, B("default", { delivery: { retry: 3, deadLetterSink: { uri: "http://dls.example/" } } }));
    r = reconcileNamespace([t, b], "demo", base, "2026-01-01T00:00:01Z");
    expect(ready(t).status).toBe("True");
    expect(b.status).toMatchObject({ address: { url: "https://eddy.example/brokers/demo/default" }, deadLetterSinkUri: "http://dls.example/", observedGeneration: 1 });
    expect(t.status).toMatchObject({ subscriberUri: "http://127.0.0.1:9/", deadLetterSinkUri: "http://dls.example/" });
    const plan = r.plans.get("BROKER:demo/default")!;
    expect(plan.routes).toHaveLength(1);
    expect(plan.routes[0]).toMatchObject({ name: "t", subscriber: { url: "http://127.0.0.1:9/" }, deadLetter: { url: "http://dls.example/" }, policy: { retry: 3 } });
  });
  it("a Trigger's delivery replaces the Broker's as a whole", () => {
    const b = make(BrokerKind, B("default", { delivery: { retry: 5, deadLetterSink: { uri: "http://dls.example/" } } }));
    const t = make(TriggerKind, T("t", { broker: "default", subscriber: sub, delivery: { retry: 1 } }));
    const r = reconcileNamespace([b, t], "demo", base, "2026-01-01T00:00:00Z");
    const route = r.plans.get("BROKER:demo/default")!.routes[0]!;
    expect(route.policy.retry).toBe(1);
    expect(route.deadLetter).toBeUndefined();
  });
  it("resolves a ref to a Broker, with a uri resolved against it per RFC 3986 (as Knative does), as an internal target", () => {
    const b1 = make(BrokerKind, B("one"));
    const b2 = make(BrokerKind, B("two"));
    const t = make(TriggerKind, T("t", { broker: "one", subscriber: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "two" }, uri: "sub/path" } }));
    const r = reconcileNamespace([b1, b2, t], "demo", base, "2026-01-01T00:00:00Z");
    expect(r.plans.get("BROKER:demo/one")!.routes[0]!.subscriber).toEqual({ url: "https://eddy.example/brokers/demo/sub/path", internal: true, audience: "eventing.knative.dev/broker/demo/two" });
  });
  it("keeps lastTransitionTime when a condition does not change", () => {
    const b = make(BrokerKind, B("default"));
    reconcileNamespace([b], "demo", base, "2026-01-01T00:00:00Z");
    const first = b.status!.conditions![0]!.lastTransitionTime;
    const r = reconcileNamespace([b], "demo", base, "2026-01-02T00:00:00Z");
    expect(r.changed).toHaveLength(0);
    expect(b.status!.conditions![0]!.lastTransitionTime).toBe(first);
  });
});
