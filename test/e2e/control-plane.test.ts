import { describe, expect, inject, it } from "vitest";
import { Api, broker, pathFor, trigger, uniqueNs } from "../support/api.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";

describe("control-plane API", () => {
  it("requires the admin bearer token: 401 when missing or wrong", async () => {
    const path = pathFor(V1, "Broker", "demo");
    const none = await fetch(p.url + path);
    expect(none.status).toBe(401);
    expect((await none.json()).message).toMatch(/bearer token/i);
    const wrong = await fetch(p.url + path, { headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/Bearer/);
  });

  it("creates a Broker from Knative YAML with status, defaults and an absolute address", async () => {
    const ns = uniqueNs();
    const yaml = `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
  namespace: ${ns}
`;
    const r = await api.call("POST", pathFor(V1, "Broker", ns), yaml, { "Content-Type": "application/yaml" });
    expect(r.status).toBe(201);
    expect(r.body.metadata).toMatchObject({ name: "default", namespace: ns, generation: 1, uid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(r.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(r.body.spec.delivery).toEqual({ retry: 10, backoffPolicy: "exponential", backoffDelay: "PT0.2S" });
    expect(r.body.status.observedGeneration).toBe(1);
    expect(r.body.status.address.url).toBe(`${p.url}/brokers/${ns}/default`);
    expect(r.body.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    const again = await api.call("POST", pathFor(V1, "Broker", ns), yaml, { "Content-Type": "application/yaml" });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ kind: "Status", code: 409, reason: "AlreadyExists" });
  });

  it("reads, lists, replaces and deletes", async () => {
    const ns = uniqueNs();
    await api.apply(broker(ns, "a"));
    await api.apply(broker(ns, "b", { delivery: { retry: 1, deadLetterSink: { uri: "http://127.0.0.1:9/dls" } } }));
    const list = await api.call("GET", pathFor(V1, "Broker", ns));
    expect(list.body.kind).toBe("BrokerList");
    expect(list.body.items.map((i: any) => i.metadata.name)).toEqual(["a", "b"]);
    const b = (await api.get(V1, "Broker", ns, "b")).body;
    expect(b.status.deadLetterSinkUri).toBe("http://127.0.0.1:9/dls");
    b.spec.delivery.retry = 4;
    const put = await api.call("PUT", pathFor(V1, "Broker", ns, "b"), b);
    expect(put.status).toBe(200);
    expect(put.body.metadata.generation).toBe(2);
    expect(put.body.status.observedGeneration).toBe(2);
    const stale = await api.call("PUT", pathFor(V1, "Broker", ns, "b"), { ...b, metadata: { ...b.metadata, resourceVersion: "1" } });
    expect(stale.status).toBe(409);
    expect((await api.del(V1, "Broker", ns, "a")).body.status).toBe("Success");
    expect((await api.get(V1, "Broker", ns, "a")).status).toBe(404);
    expect((await api.del(V1, "Broker", ns, "a")).status).toBe(404);
  });

  it("answers 422 with a Kubernetes Status naming each invalid field", async () => {
    const ns = uniqueNs();
    const r = await api.call("POST", pathFor(V1, "Broker", ns), broker(ns, "bad", {
      delivery: { retry: -1, backoffPolicy: "random", backoffDelay: "1s", timeout: "x", retryAfterMax: "PT-1S", format: "xml" },
    }));
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Invalid", code: 422 });
    expect(r.body.details.causes.map((c: any) => c.field).sort()).toEqual([
      "spec.delivery.backoffDelay", "spec.delivery.backoffPolicy", "spec.delivery.format", "spec.delivery.retry", "spec.delivery.retryAfterMax", "spec.delivery.timeout",
    ]);
  });

  it("keeps the broker class annotation and a Trigger's spec.broker immutable", async () => {
    const ns = uniqueNs();
    await api.apply(broker(ns, "b", {}, { "eventing.knative.dev/broker.class": "MTChannelBasedBroker" }));
    const r = await api.call("PUT", pathFor(V1, "Broker", ns, "b"), broker(ns, "b", {}, { "eventing.knative.dev/broker.class": "Kafka" }));
    expect(r.status).toBe(422);
    expect(r.body.details.causes[0].field).toBe("metadata.annotations.eventing.knative.dev/broker.class");
    await api.apply(trigger(ns, "t", "b", "http://127.0.0.1:9/"));
    const t = await api.call("PUT", pathFor(V1, "Trigger", ns, "t"), trigger(ns, "t", "other", "http://127.0.0.1:9/"));
    expect(t.status).toBe(422);
    expect(t.body.details.causes[0].field).toBe("spec.broker");
  });

  it("rejects malformed bodies with 400 and unknown resources with 404", async () => {
    const ns = uniqueNs();
    const bad = await api.call("POST", pathFor(V1, "Broker", ns), "{not json", { "Content-Type": "application/json" });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/not valid JSON/);
    const badYaml = await api.call("POST", pathFor(V1, "Broker", ns), "a: [", { "Content-Type": "application/yaml" });
    expect(badYaml.status).toBe(400);
    expect((await api.call("GET", `/apis/${V1}/namespaces/${ns}/widgets`)).status).toBe(404);
    expect((await api.get(V1, "Broker", ns, "missing")).body).toMatchObject({ code: 404, reason: "NotFound" });
  });

  it("a Trigger created before its Broker is not ready until the Broker exists", async () => {
    const ns = uniqueNs();
    const t = await api.apply(trigger(ns, "early", "late", "http://127.0.0.1:9/"));
    const ready = t.status.conditions.find((c: any) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "BrokerDoesNotExist" });
    expect(t.spec.filter).toEqual({});
    await api.apply(broker(ns, "late"));
    const now = await api.waitReady(V1, "Trigger", ns, "early");
    expect(now.status.subscriberUri).toBe("http://127.0.0.1:9/");
  });

  it("accepts Knative's legal legacy filter keys and refuses the illegal ones", async () => {
    const ns = uniqueNs();
    const good = await api.call("PUT", pathFor(V1, "Trigger", ns, "t"), trigger(ns, "t", "b", "http://127.0.0.1:9/", {
      filter: { attributes: { source: "s", abcdefghijklmnopqrst: "x", c1d2e3: "" } },
    }));
    expect(good.status).toBe(201);
    expect(good.body.spec.filter.attributes).toEqual({ source: "s", abcdefghijklmnopqrst: "x", c1d2e3: "" });
    for (const key of ["SOURCE", "s-pace-s", "123", "s pace s"]) {
      const r = await api.call("PUT", pathFor(V1, "Trigger", ns, "t"), trigger(ns, "t", "b", "http://127.0.0.1:9/", { filter: { attributes: { [key]: "v" } } }));
      expect(r.status, key).toBe(422);
    }
  });

  it("resolves a subscriber ref to a Broker of the same namespace", async () => {
    const ns = uniqueNs();
    await api.apply(broker(ns, "in"));
    await api.apply(broker(ns, "out"));
    await api.apply(trigger(ns, "fwd", "in", "", { subscriber: { ref: { apiVersion: V1, kind: "Broker", name: "out" } } }));
    const t = await api.waitReady(V1, "Trigger", ns, "fwd");
    expect(t.status.subscriberUri).toBe(`${p.url}/brokers/${ns}/out`);
    expect(t.spec.subscriber.ref.namespace).toBe(ns);
  });
});
