import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { admit } from "../../core/resources/admit.js";
import { reconcileNamespace } from "../../core/resources/reconcile.js";
import { ADDRESSABLES, kindOf } from "../../core/resources/registry.js";
import { ApiError } from "../../core/errors.js";
import { type DispatcherPlan, planAuth, planKeyString } from "../../core/resources/plan.js";

/** A RequestReply shard's part of its plan. */
const rrPlan = (p: DispatcherPlan | undefined) => (p?.kind === "RequestReply" ? p.options.requestReply : undefined);
import type { Manifest, Resource } from "../../core/resources/types.js";
import { ownerOf, refuseManaged, replyTriggers } from "../../core/requestreply/managed.js";

const EXAMPLES = resolve(import.meta.dirname, "..", "fixtures", "knative-examples", "eventtransform");
const BASE = "https://eddy.example";
let n = 0;

function make(body: Manifest, old?: Resource): Resource {
  const kind = kindOf(String(body.apiVersion), String(body.kind))!;
  n += 1;
  return admit({ body, kind, ctx: { namespace: "demo", refs: ADDRESSABLES }, now: "2026-01-01T00:00:00Z", uid: `uid-${n}`, resourceVersion: String(n), suffix: "abcde", ...(old ? { old } : {}) });
}
function refused(body: Manifest, old?: Resource): { field: string; message: string }[] {
  try {
    make(body, old);
  } catch (e) {
    expect((e as ApiError).status).toBe(422);
    return (e as ApiError).causes;
  }
  throw new Error("expected 422");
}
const example = (f: string) => parseAllDocuments(readFileSync(resolve(EXAMPLES, f), "utf8")).map((d) => d.toJS() as Manifest);
const broker = (name = "default") => make({ apiVersion: "eventing.knative.dev/v1", kind: "Broker", metadata: { name }, spec: {} });
const reconcile = (all: Resource[]) => reconcileNamespace(all, "demo", BASE, "2026-01-01T00:00:01Z");
const cond = (r: Resource, type: string) => r.status?.conditions?.find((c) => c.type === type);
const rrManifest = (spec: Record<string, unknown> = {}, annotations?: Record<string, string>): Manifest => ({
  apiVersion: "eventing.knative.dev/v1alpha1", kind: "RequestReply", metadata: { name: "rr", ...(annotations ? { annotations } : {}) },
  spec: { brokerRef: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" }, ...spec },
});

/** The reply Triggers as the namespace's object stores them (durable-objects/owned.ts). */
function withReplyTriggers(rr: Resource, shards = 1): Resource[] {
  return replyTriggers(rr, shards).map((m) => {
    const t = make(m);
    t.metadata.ownerReferences = [ownerOf(rr)];
    return t;
  });
}

describe("EventTransform", () => {
  it("Knative's Broker-reply example applies unchanged: the Trigger's subscriber is the transform's address, and both go Ready", () => {
    const all = [broker(), ...example("broker-reply.yaml").map((m) => make(m))];
    const { plans } = reconcile(all);
    const [trigger, transform] = all.slice(1) as [Resource, Resource];
    expect(transform.status).toMatchObject({
      address: { url: `${BASE}/eventtransforms/demo/event-transformer`, audience: "eventing.knative.dev/eventtransform/demo/event-transformer" },
      addresses: [{ name: "https", url: `${BASE}/eventtransforms/demo/event-transformer` }],
      auth: { serviceAccountName: "event-transformer-oidc-eventing.knative.dev-eventtransform" },
    });
    for (const t of ["TransformationReady", "Addressable", "EventPoliciesReady", "Ready"]) expect(cond(transform, t)?.status, t).toBe("True");
    expect(trigger.status).toMatchObject({ subscriberUri: `${BASE}/eventtransforms/demo/event-transformer` });
    expect(cond(trigger, "Ready")?.status).toBe("True");
    const plan = plans.get("SOURCE:EventTransform/demo/event-transformer")!;
    expect(plan.kind === "EventTransform" && plan.options.transform).toMatchObject({ expression: expect.stringContaining('"type": "transformed.event.type"') });
    expect(plans.get("BROKER:demo/default")!.routes[0]!.subscriber).toMatchObject({ internal: true, url: `${BASE}/eventtransforms/demo/event-transformer` });
  });

  it("with a Broker as sink: sinkUri and sinkAudience, the sink in its plan; a missing sink is TransformationReady False", () => {
    const t = make(example("user-registration-transformer.yaml")[0]!);
    reconcile([t]);
    expect(cond(t, "TransformationReady")).toMatchObject({ status: "False", reason: "SinkNotResolved", message: 'spec.sink: Broker "default" does not exist' });
    expect(cond(t, "Ready")?.status).toBe("False");
    const { plans } = reconcile([t, broker()]);
    expect(t.status).toMatchObject({ sinkUri: `${BASE}/brokers/demo/default`, sinkAudience: "eventing.knative.dev/broker/demo/default" });
    const tp = plans.get("SOURCE:EventTransform/demo/user-registration-transformer")!;
    expect(tp.kind === "EventTransform" && tp.options.transform).toMatchObject({ sink: { url: `${BASE}/brokers/demo/default`, internal: true } });
  });

  it("refuses what Knative refuses, and what cannot run, naming the field", () => {
    const et = (spec: Record<string, unknown>): Manifest => ({ apiVersion: "eventing.knative.dev/v1alpha1", kind: "EventTransform", metadata: { name: "t" }, spec });
    const ok = { jsonata: { expression: "$" } };
    expect(refused(et({}))[0]!.field).toBe("spec.jsonata");
    expect(refused(et({ jsonata: { expression: '{"a": }' } }))).toEqual([{ field: "spec.jsonata.expression", message: expect.stringMatching(/^is not valid JSONata at line 1, column 7: /) }]);
    expect(refused(et({ ...ok, reply: { discard: true } }))).toEqual([{ field: "spec.reply", message: expect.stringContaining("is set without spec.sink") }]);
    const sink = { uri: "http://127.0.0.1:9/" };
    expect(refused(et({ ...ok, sink, reply: { discard: true, jsonata: { expression: "$" } } }))[0]!.message).toContain("exactly one, got both: jsonata, discard");
    expect(refused(et({ ...ok, sink, reply: { jsonata: { expression: "$$$(" } } }))[0]!.field).toBe("spec.reply.jsonata.expression");
    // Knative's format-conversion example sends to a Knative Service, which Eddy does not serve.
    expect(refused(example("format-converter.yaml")[0]!)).toEqual([{ field: "spec.sink.ref", message: expect.stringContaining("Service (serving.knative.dev/v1) is not an addressable of this system") }]);
    expect(make(et({ ...ok, sink, reply: { discard: true } })).spec).toMatchObject({ reply: { discard: true } });
  });
});

describe("RequestReply", () => {
  it("defaults as Knative does: PT30S, correlationid, replyid, and the broker label", () => {
    const rr = make(rrManifest());
    expect(rr.spec).toMatchObject({ timeout: "PT30S", correlationAttribute: "correlationid", replyAttribute: "replyid" });
    expect(rr.metadata.labels).toEqual({ "eventing.knative.dev/broker": "default" });
  });

  it("refuses what Knative refuses, and what would loop or cannot be held, naming each field", () => {
    const fields = (spec: Record<string, unknown>) => refused(rrManifest(spec)).map((c) => c.field).sort();
    expect(fields({ brokerRef: { kind: "Channel", name: "x", namespace: "other" } })).toEqual(["spec.brokerRef.kind", "spec.brokerRef.namespace"]);
    expect(fields({ timeout: "30s" })).toEqual(["spec.timeout"]);
    expect(fields({ timeout: "PT0S" })).toEqual(["spec.timeout"]);
    expect(fields({ timeout: "PT11M" })).toEqual(["spec.timeout"]);
    expect(fields({ correlationAttribute: "id", replyAttribute: "Reply-Id" })).toEqual(["spec.correlationAttribute", "spec.replyAttribute"]);
    expect(refused(rrManifest({ correlationAttribute: "cid", replyAttribute: "cid" }))[0]!.message).toContain("must differ from spec.correlationAttribute");
    expect(fields({ delivery: { retry: -1 } })).toEqual(["spec.delivery.retry"]);
    expect(refused(rrManifest({}, { "eddy.dev/partitions": "99" }))[0]!.field).toBe("metadata.annotations.eddy.dev/partitions");
  });

  it("is Ready once its Broker and its reply Trigger are; each shard's plan forwards to the Broker and takes replies only from its Trigger", () => {
    const b = broker();
    const rr = make(rrManifest({ delivery: { retry: 2 } }));
    const triggers = withReplyTriggers(rr);
    expect(triggers[0]!.metadata.name).toBe("rr0-1");
    expect(triggers[0]!.spec).toMatchObject({
      broker: "default",
      filters: [{ cesql: 'KN_VERIFY_CORRELATION_ID(replyid, "rr", "demo", "request-reply-keys", 0, 1)' }],
      subscriber: { ref: { apiVersion: "eventing.knative.dev/v1alpha1", kind: "RequestReply", name: "rr", namespace: "demo" }, uri: "/requestreplies/demo/rr/replies/0" },
    });
    const { plans } = reconcile([b, rr, ...triggers]);
    for (const t of ["BrokerReady", "TriggersReady", "Addressable", "EventPoliciesReady", "Ready"]) expect(cond(rr, t)?.status, t).toBe("True");
    expect(rr.status).toMatchObject({
      address: { url: `${BASE}/requestreplies/demo/rr`, audience: "eventing.knative.dev/requestreply/demo/rr" },
      desiredReplicas: 1, readyReplicas: 1, annotations: { "knative.dev/brokerAddress": `${BASE}/brokers/demo/default` },
    });
    expect(triggers[0]!.status).toMatchObject({ subscriberUri: `${BASE}/requestreplies/demo/rr/replies/0` });
    const plan = plans.get(planKeyString({ binding: "SOURCE", name: "RequestReply/demo/rr/0" }))!;
    expect(plan.routes).toEqual([expect.objectContaining({ subscriber: expect.objectContaining({ url: `${BASE}/brokers/demo/default`, internal: true }), policy: expect.objectContaining({ retry: 2 }) })]);
    const shard = rrPlan(plan);
    expect(shard).toMatchObject({ shard: 0, shards: 1, correlationAttribute: "correlationid", replyAttribute: "replyid", timeoutMs: 30_000, broker: "default" });
    expect(shard).not.toHaveProperty("notReady");
    expect(planAuth(plan)).toEqual({ audience: "eventing.knative.dev/requestreply/demo/rr", policies: [{ name: "(internal channel of the flow)", from: ["system:serviceaccount:demo:rr0-1-oidc-eventing.knative.dev-trigger"] }] });
    expect(plans.get("BROKER:demo/default")!.routes.map((r) => r.name)).toEqual(["rr0-1"]);
  });

  it("says why it is not ready, and its shards refuse requests with that reason", () => {
    const rr = make(rrManifest());
    const { plans } = reconcile([rr]);
    expect(cond(rr, "BrokerReady")).toMatchObject({ status: "Unknown", reason: "NotFound" });
    expect(cond(rr, "TriggersReady")).toMatchObject({ status: "Unknown", reason: "TriggersNotReady" });
    expect(rrPlan(plans.get("SOURCE:RequestReply/demo/rr/0"))!.notReady).toMatch(/^RequestReply "rr" is not ready/);
  });

  it("with eddy.dev/partitions: one shard, one reply Trigger and one plan each, named as Knative names replicas", () => {
    const rr = make(rrManifest({}, { "eddy.dev/partitions": "3" }));
    const triggers = withReplyTriggers(rr, 3);
    expect(triggers.map((t) => t.metadata.name)).toEqual(["rr0-3", "rr1-3", "rr2-3"]);
    const { plans } = reconcile([broker(), rr, ...triggers]);
    expect(rr.status).toMatchObject({ desiredReplicas: 3, readyReplicas: 3 });
    expect([0, 1, 2].map((i) => rrPlan(plans.get(`SOURCE:RequestReply/demo/rr/${i}`))!.shard)).toEqual([0, 1, 2]);
  });

  it("its reply Triggers cannot be changed or deleted by a client (403 naming the RequestReply)", () => {
    const [t] = withReplyTriggers(make(rrManifest()));
    let e: ApiError | undefined;
    try {
      refuseManaged(t!, "triggers");
    } catch (x) {
      e = x as ApiError;
    }
    expect(e?.status).toBe(403);
    expect(e?.message).toBe('triggers "rr0-1" is managed by RequestReply "rr" (its reply path) and cannot be changed or deleted: change or delete the RequestReply instead');
    // A client cannot make an object managed: ownerReferences are the server's.
    expect(make({ ...t!, metadata: { name: "mine", ownerReferences: [ownerOf(make(rrManifest()))] } } as Manifest).metadata.ownerReferences).toBeUndefined();
  });
});
