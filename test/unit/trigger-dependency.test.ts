// knative.dev/dependency on Triggers, as Knative's Trigger webhook and reconciler handle it
// (pkg/apis/eventing/v1/trigger_validation.go, pkg/reconciler/broker/trigger/trigger.go) and as
// rekt's TriggerDependencyAnnotation feature checks it.
import { describe, expect, it } from "vitest";
import { admit } from "../../core/resources/admit.js";
import { Conditions } from "../../core/resources/conditions.js";
import { markDependency } from "../../core/resources/dependency.js";
import type { KindDef, ReconcileContext } from "../../core/resources/kind.js";
import { BrokerKind } from "../../core/resources/kinds/broker.js";
import { PingSourceKind } from "../../core/resources/kinds/sources.js";
import { TriggerKind } from "../../core/resources/kinds/trigger.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES } from "../../core/resources/registry.js";
import type { ApiError } from "../../core/errors.js";
import type { Resource } from "../../core/resources/types.js";

const ANN = "knative.dev/dependency";
const PING_DEP = '{"kind":"PingSource","name":"test-ping-source-annotation","apiVersion":"sources.knative.dev/v1"}';
let n = 0;
function make(kind: KindDef, body: unknown): Resource {
  n += 1;
  return admit({ body, kind, ctx: { namespace: "demo", refs: ADDRESSABLES }, now: "2026-01-01T00:00:00Z", uid: `uid-${n}`, resourceVersion: String(n), suffix: "abcde" });
}
function refused(body: unknown): ApiError {
  try {
    make(TriggerKind, body);
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("expected admission to refuse the Trigger");
}
const trigger = (annotations?: Record<string, string>) => ({
  apiVersion: "eventing.knative.dev/v1", kind: "Trigger",
  metadata: { name: "t", ...(annotations ? { annotations } : {}) },
  spec: { broker: "default", subscriber: { uri: "http://127.0.0.1:9/" } },
});
const ping = (sinkBroker: string) => ({
  apiVersion: "sources.knative.dev/v1", kind: "PingSource", metadata: { name: "test-ping-source-annotation" },
  spec: { schedule: "*/1 * * * *", data: "Test trigger-annotation", sink: { ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: sinkBroker } } },
});
const cond = (r: Resource, type: string) => r.status!.conditions!.find((c) => c.type === type);
const base = "https://eddy.example";

describe("knative.dev/dependency at admission", () => {
  it("accepts the object reference rekt uses, and Triggers without the annotation", () => {
    expect(make(TriggerKind, trigger({ [ANN]: PING_DEP })).metadata.annotations![ANN]).toBe(PING_DEP);
    expect(make(TriggerKind, trigger({ [ANN]: '{"kind":"PingSource","name":"p","apiVersion":"sources.knative.dev/v1","namespace":"demo"}' }))).toBeDefined();
  });
  it("refuses a value that is not a JSON object with 422 naming the annotation", () => {
    for (const bad of ["PingSource/p", '["PingSource","p"]', '"p"', "null"]) {
      const e = refused(trigger({ [ANN]: bad }));
      expect(e.status).toBe(422);
      expect(e.causes.map((c) => c.field)).toEqual([`metadata.annotations.${ANN}`]);
      expect(e.causes[0]!.message).toMatch(/JSON object reference/);
    }
  });
  it("requires kind, name and apiVersion, and the Trigger's own namespace", () => {
    const e = refused(trigger({ [ANN]: '{"name":"","namespace":"elsewhere"}' }));
    expect(e.status).toBe(422);
    expect(e.causes.map((c) => c.field).sort()).toEqual([
      `metadata.annotations.${ANN}.apiVersion`, `metadata.annotations.${ANN}.kind`, `metadata.annotations.${ANN}.name`, `metadata.annotations.${ANN}.namespace`,
    ]);
  });
});

describe("knative.dev/dependency when reconciling", () => {
  it("without the annotation DependencyReady is True, as Knative marks it", () => {
    const t = make(TriggerKind, trigger());
    reconcileNamespace([make(BrokerKind, { metadata: { name: "default" } }), t], "demo", base, "2026-01-01T00:00:00Z");
    expect(cond(t, "DependencyReady")).toMatchObject({ status: "True" });
    expect(cond(t, "Ready")!.status).toBe("True");
  });

  it("keeps the Trigger not ready with DependencyDoesNotExist until the PingSource exists, then ready (rekt TriggerDependencyAnnotation)", () => {
    const b = make(BrokerKind, { metadata: { name: "default" } });
    const t = make(TriggerKind, trigger({ [ANN]: PING_DEP }));
    let r = reconcileNamespace([b, t], "demo", base, "2026-01-01T00:00:00Z");
    expect(cond(b, "Ready")!.status).toBe("True");
    expect(cond(t, "DependencyReady")).toMatchObject({ status: "False", reason: "DependencyDoesNotExist" });
    expect(cond(t, "DependencyReady")!.message).toContain('PingSource "test-ping-source-annotation"');
    expect(cond(t, "Ready")).toMatchObject({ status: "False", reason: "DependencyDoesNotExist" });
    expect(r.plans.get("BROKER:demo/default")!.routes).toHaveLength(0);

    const p = make(PingSourceKind, ping("default"));
    r = reconcileNamespace([b, t, p], "demo", base, "2026-01-01T00:00:05Z");
    expect(cond(p, "Ready")!.status).toBe("True");
    expect(cond(t, "DependencyReady")).toMatchObject({ status: "True", lastTransitionTime: "2026-01-01T00:00:05Z" });
    expect(cond(t, "Ready")!.status).toBe("True");
    expect(r.plans.get("BROKER:demo/default")!.routes.map((x) => x.name)).toEqual(["t"]);
  });

  it("is not ready while the dependency is not Ready, with the dependency's reason and message", () => {
    const b = make(BrokerKind, { metadata: { name: "default" } });
    const t = make(TriggerKind, trigger({ [ANN]: PING_DEP }));
    const p = make(PingSourceKind, ping("missing"));
    reconcileNamespace([b, t, p], "demo", base, "2026-01-01T00:00:00Z");
    const pingReady = cond(p, "Ready")!;
    expect(pingReady.status).toBe("False");
    expect(cond(t, "DependencyReady")).toMatchObject({ status: "False", reason: pingReady.reason, message: pingReady.message });
    expect(cond(t, "Ready")!.status).toBe("False");
  });

  it("a kind Eddy does not serve never appears, and the message says so and how to fix it", () => {
    const t = make(TriggerKind, trigger({ [ANN]: '{"kind":"KafkaSource","name":"k","apiVersion":"sources.knative.dev/v1beta1"}' }));
    reconcileNamespace([make(BrokerKind, { metadata: { name: "default" } }), t], "demo", base, "2026-01-01T00:00:00Z");
    expect(cond(t, "DependencyReady")).toMatchObject({ status: "False", reason: "DependencyDoesNotExist" });
    expect(cond(t, "DependencyReady")!.message).toMatch(/does not serve KafkaSource .*remove the knative\.dev\/dependency annotation/);
  });

  it("is Unknown while the dependency has not reconciled its generation or has no Ready condition, so Ready is Unknown", () => {
    const dep = (status: Resource["status"], generation = 2): Resource => ({
      apiVersion: "sources.knative.dev/v1", kind: "PingSource",
      metadata: { name: "p", namespace: "demo", uid: "u", generation, resourceVersion: "1", creationTimestamp: "" }, ...(status ? { status } : {}),
    });
    const ctxWith = (r: Resource) => ({ find: () => r, serves: () => true }) as unknown as ReconcileContext;
    const annotations = { [ANN]: '{"kind":"PingSource","name":"p","apiVersion":"sources.knative.dev/v1"}' };
    const cases: [Resource, string][] = [
      [dep({ observedGeneration: 1, conditions: [{ type: "Ready", status: "True", lastTransitionTime: "" }] }), "GenerationNotEqual"],
      [dep({ observedGeneration: 2, conditions: [] }), "DependencyNotConfigured"],
      [dep({ observedGeneration: 2, conditions: [{ type: "Ready", status: "Unknown", reason: "Starting", lastTransitionTime: "" }] }), "Starting"],
    ];
    for (const [r, reason] of cases) {
      const c = new Conditions(undefined, "2026-01-01T00:00:00Z");
      c.set("BrokerReady", true);
      markDependency(c, annotations, ctxWith(r));
      expect(c.ready(["BrokerReady", "DependencyReady"])).toBe(false);
      expect(c.list().find((x) => x.type === "DependencyReady")).toMatchObject({ status: "Unknown", reason });
      expect(c.list().find((x) => x.type === "Ready")).toMatchObject({ status: "Unknown", reason });
    }
  });
});
