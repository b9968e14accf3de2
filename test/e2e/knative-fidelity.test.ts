// Knative's rekt features that issue 15 found Eddy failing, replayed against a running Eddy as a
// Knative user would: TriggerDependencyAnnotation (test/rekt/features/trigger/feature.go), the
// channel control-plane conformance (test/rekt/features/channel/control_plane.go), and the flows'
// status shape (pkg/apis/flows/v1), and EventType auto-creation on a channel
// (test/experimental/features/eventtype_autocreate).
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, imc, subscription, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const sink = sinkPool(afterEach);
const V1 = "eventing.knative.dev/v1";
const M = "messaging.knative.dev/v1";
const cond = (obj: any, type: string) => obj?.status?.conditions?.find((c: any) => c.type === type);
const cron = () => fetch(`${p.url}/__scheduled?cron=${encodeURIComponent("* * * * *")}`);

describe("rekt TriggerDependencyAnnotation", () => {
  const dependency = '{"kind":"PingSource","name":"test-ping-source-annotation","apiVersion":"sources.knative.dev/v1"}';

  it("the Trigger is not ready with DependencyDoesNotExist until its PingSource exists, then goes ready and gets the pings", async () => {
    const ns = uniqueNs("dep");
    await api.apply(broker(ns, "brk"));
    await api.waitReady(V1, "Broker", ns, "brk");
    const sub = await sink();
    const t = trigger(ns, "trigger-name", "brk", sub.url);
    const annotated = { ...t, metadata: { ...t.metadata, annotations: { "knative.dev/dependency": dependency } } };
    await api.apply(annotated);
    const waiting = (await api.get(V1, "Trigger", ns, "trigger-name")).body;
    expect(cond(waiting, "Ready").status).not.toBe("True");
    expect(cond(waiting, "DependencyReady")).toMatchObject({ status: "False", reason: "DependencyDoesNotExist" });

    await api.apply({
      apiVersion: "sources.knative.dev/v1", kind: "PingSource", metadata: { name: "test-ping-source-annotation", namespace: ns },
      spec: { schedule: "*/1 * * * *", contentType: "text/plain", data: "Test trigger-annotation", sink: { ref: { apiVersion: V1, kind: "Broker", name: "brk" } } },
    });
    await api.waitReady("sources.knative.dev/v1", "PingSource", ns, "test-ping-source-annotation");
    const ready = await api.waitReady(V1, "Trigger", ns, "trigger-name");
    expect(cond(ready, "DependencyReady").status).toBe("True");
    expect((await cron()).status).toBe(200);
    const [got] = await sub.waitFor(1);
    expect(got!.headers["ce-type"]).toBe("dev.knative.sources.ping");
    expect(got!.body.toString()).toContain("Test trigger-annotation");
  });

  it("a malformed annotation is refused with 422 naming it", async () => {
    const ns = uniqueNs("depbad");
    const t = trigger(ns, "t", "default", "http://127.0.0.1:9/");
    const r = await api.call("PUT", `/apis/${V1}/namespaces/${ns}/triggers/t`, { ...t, metadata: { ...t.metadata, annotations: { "knative.dev/dependency": "PingSource/p" } } });
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: any) => c.field)).toEqual(["metadata.annotations.knative.dev/dependency"]);
  });
});

describe("rekt channel control-plane conformance", () => {
  it("annotation, spec.subscribers and status.subscribers by uid, observedGeneration, address and dead-letter sink URI", async () => {
    const ns = uniqueNs("chcp");
    const created = await api.apply(imc(ns, "ch", { delivery: { deadLetterSink: { uri: "http://127.0.0.1:9/dls" } } }));
    expect(created.metadata.annotations["messaging.knative.dev/subscribable"]).toBe("v1");
    await api.apply(subscription(ns, "sub", "ch", { subscriber: { uri: "http://example.com" } }));
    await expect.poll(async () => {
      const ch = (await api.get(M, "InMemoryChannel", ns, "ch")).body;
      if (ch.status.observedGeneration < ch.metadata.generation) return "status behind spec";
      const want = (ch.spec.subscribers ?? []).find((s: any) => s.subscriberUri === "http://example.com");
      const got = ch.status.subscribers.find((s: any) => s.uid === want?.uid);
      return { specCount: ch.spec.subscribers?.length, statusCount: ch.status.subscribers.length, ready: got?.ready };
    }).toEqual({ specCount: 1, statusCount: 1, ready: "True" });
    const ch = (await api.get(M, "InMemoryChannel", ns, "ch")).body;
    expect(cond(ch, "Ready").status).toBe("True");
    expect(ch.status.address.url).toBe(`${p.url}/inmemorychannels/${ns}/ch`);
    expect(ch.status.deadLetterSinkUri).toBe("http://127.0.0.1:9/dls");
  });

  it("spec.subscribers cannot be written: a changed list is refused with 422, the list as read is accepted and kept", async () => {
    const ns = uniqueNs("chown");
    await api.apply(imc(ns, "ch"));
    const s = await api.apply(subscription(ns, "sub", "ch", { subscriber: { uri: "http://127.0.0.1:9/a" } }));
    await expect.poll(async () => (await api.get(M, "InMemoryChannel", ns, "ch")).body.spec.subscribers?.length).toBe(1);
    const read = (await api.get(M, "InMemoryChannel", ns, "ch")).body;
    const forged = { ...read, spec: { ...read.spec, subscribers: [{ uid: "forged", subscriberUri: "http://evil.example/" }] } };
    const refused = await api.call("PUT", `/apis/${M}/namespaces/${ns}/inmemorychannels/ch`, forged);
    expect(refused.status).toBe(422);
    expect(refused.body.details.causes[0]).toMatchObject({ field: "spec.subscribers", message: expect.stringContaining("Subscription") });
    const roundTrip = await api.call("PUT", `/apis/${M}/namespaces/${ns}/inmemorychannels/ch`, read);
    expect(roundTrip.status).toBe(200);
    expect(roundTrip.body.spec.subscribers.map((x: any) => x.uid)).toEqual([s.metadata.uid]);
    const without = await api.apply(imc(ns, "ch"));
    expect(without.spec.subscribers.map((x: any) => x.uid)).toEqual([s.metadata.uid]);
  });
});

describe("flows status shape", () => {
  it("Parallel branchStatuses carry subscriberSubscriptionStatus, and every ready is a full Condition", async () => {
    const ns = uniqueNs("pst");
    const par = await api.apply({
      apiVersion: "flows.knative.dev/v1", kind: "Parallel", metadata: { name: "par", namespace: ns },
      spec: { branches: [{ subscriber: { uri: "http://127.0.0.1:9/" } }] },
    });
    const [branch] = par.status.branchStatuses;
    expect(Object.keys(branch).sort()).toEqual(["filterChannelStatus", "filterSubscriptionStatus", "subscriberSubscriptionStatus"]);
    for (const entry of [par.status.ingressChannelStatus, ...Object.values(branch)] as any[]) {
      expect(entry.ready).toEqual({ type: "Ready", status: "True", lastTransitionTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    }
  });
});

describe("EventType auto-creation (Knative's experimental eventtype_autocreate)", () => {
  it("AutoCreateEventTypesOnIMC: an event through an InMemoryChannel creates a Ready EventType referencing it", async () => {
    const ns = uniqueNs("etimc");
    const ch = await api.apply(imc(ns, "channel"));
    const sub = await sink();
    await api.apply(subscription(ns, "subscription", "channel", { subscriber: { uri: sub.url } }));
    await api.waitReady(M, "Subscription", ns, "subscription");
    const r = await post(ch.status.address.url, binaryHeaders({ specversion: "1.0", id: "imc-et-1", source: "/rekt", type: "test.imc.custom.event.type" }), "{}");
    expect(r.status).toBe(202);
    await sub.waitFor(1);
    const eventTypes = async () => (await api.call("GET", `/apis/eventing.knative.dev/v1beta3/namespaces/${ns}/eventtypes`)).body.items as any[];
    await expect.poll(async () => (await eventTypes()).map((et) => ({
      reference: et.spec.reference,
      type: et.spec.attributes.find((a: any) => a.name === "type")?.value,
      ready: cond(et, "Ready")?.status,
    }))).toEqual([{ reference: { apiVersion: M, kind: "InMemoryChannel", name: "channel", namespace: ns }, type: "test.imc.custom.event.type", ready: "True" }]);
  });
});

describe("rekt BrokerDeadLetterSinkExtensions", () => {
  it("a 422 without a body dead-letters with knativeerrordest and knativeerrorcode and no knativeerrordata", async () => {
    const ns = uniqueNs("dlsx");
    const url = (await api.apply(broker(ns, "default"))).status.address.url;
    const failer = await sink(() => ({ status: 422 }));
    const dls = await sink();
    await api.apply(trigger(ns, "t", "default", failer.url, { delivery: { deadLetterSink: { uri: dls.url } } }));
    await api.waitReady(V1, "Trigger", ns, "t");
    expect((await post(url, binaryHeaders({ specversion: "1.0", id: "nodata", source: "/rekt", type: "com.example.fail" }), "{}")).status).toBe(202);
    const [dead] = await dls.waitFor(1);
    expect(dead!.headers).toMatchObject({ "ce-id": "nodata", "ce-knativeerrordest": failer.url, "ce-knativeerrorcode": "422" });
    expect(dead!.headers).not.toHaveProperty("ce-knativeerrordata");
  });
});
