// Sequence and Parallel, end to end: Knative's flow conformance cases with real subscribers.
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { appendReply, startSink, type Received, type Responder, type Sink, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const F = "flows.knative.dev/v1";
const sink = sinkPool(afterEach);
const send = async (url: string, id: string, body: string) => {
  const r = await post(url, binaryHeaders({ specversion: "1.0", id, source: "/flows", type: "com.example.flow" }, "text/plain"), body);
  expect(r.status).toBe(202);
};
/** A filter that passes: replies 200 with the very event it received. */
const echo: Responder = (req: Received) => {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.startsWith("ce-") || k === "content-type") headers[k] = v;
  return { status: 200, headers, body: req.body };
};

describe("Sequence", () => {
  it("runs steps in order, each receiving the previous reply; the last reply goes to spec.reply", async () => {
    const ns = uniqueNs("seq");
    const [s1, s2, s3, out] = [await sink(appendReply("-step1")), await sink(appendReply("-step2")), await sink(appendReply("-step3")), await sink()];
    const seq = await api.apply({
      apiVersion: F, kind: "Sequence", metadata: { name: "seq", namespace: ns },
      spec: { steps: [{ uri: s1.url }, { uri: s2.url }, { uri: s3.url }], reply: { uri: out.url } },
    });
    expect(seq.status.address.url).toBe(`${p.url}/sequences/${ns}/seq`);
    await api.waitReady(F, "Sequence", ns, "seq");
    await send(seq.status.address.url, "q1", "data");
    const [got] = await out.waitFor(1);
    expect(got!.body.toString()).toBe("data-step1-step2-step3");
    expect(got!.headers["content-type"]).toBe("text/plain");
    expect([s1, s2, s3].map((s) => s.received.length)).toEqual([1, 1, 1]);
  });

  it("a step that answers without an event ends the flow", async () => {
    const ns = uniqueNs("seqend");
    const [s1, s2, out] = [await sink(), await sink(appendReply("-2")), await sink()];
    const seq = await api.apply({
      apiVersion: F, kind: "Sequence", metadata: { name: "seq", namespace: ns },
      spec: { steps: [{ uri: s1.url }, { uri: s2.url }], reply: { uri: out.url } },
    });
    await api.waitReady(F, "Sequence", ns, "seq");
    await send(seq.status.address.url, "q2", "data");
    await s1.waitFor(1);
    expect((await s2.settle(600)).length).toBe(0);
    expect(out.received).toHaveLength(0);
  });

  it("can be a Trigger's subscriber by ref, and retries a failing step with that step's delivery", async () => {
    const ns = uniqueNs("seqref");
    let calls = 0;
    const flaky = await sink((req) => (++calls === 1 ? { status: 503 } : appendReply("-ok")(req, calls)));
    const out = await sink();
    await api.apply({ apiVersion: F, kind: "Sequence", metadata: { name: "seq", namespace: ns }, spec: { steps: [{ uri: flaky.url, delivery: { retry: 2 } }], reply: { uri: out.url } } });
    const b = await api.apply(broker(ns, "default"));
    await api.apply(trigger(ns, "to-seq", "default", "", { subscriber: { ref: { apiVersion: F, kind: "Sequence", name: "seq" } } }));
    const t = await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "to-seq");
    expect(t.status.subscriberUri).toBe(`${p.url}/sequences/${ns}/seq`);
    await send(b.status.address.url, "q3", "via-broker");
    const [got] = await out.waitFor(1);
    expect(got!.body.toString()).toBe("via-broker-ok");
    expect(flaky.received).toHaveLength(2);
  });
});

describe("Parallel", () => {
  it("runs only the branches whose filter replies; each branch's output reaches the reply", async () => {
    const ns = uniqueNs("par");
    const out = await sink();
    const [f1, f2] = [await sink(echo), await sink()];
    const [b1, b2] = [await sink(appendReply("-branch1")), await sink(appendReply("-branch2"))];
    const par = await api.apply({
      apiVersion: F, kind: "Parallel", metadata: { name: "par", namespace: ns },
      spec: { branches: [{ filter: { uri: f1.url }, subscriber: { uri: b1.url } }, { filter: { uri: f2.url }, subscriber: { uri: b2.url } }], reply: { uri: out.url } },
    });
    expect(par.status.address.url).toBe(`${p.url}/parallels/${ns}/par`);
    await api.waitReady(F, "Parallel", ns, "par");
    await send(par.status.address.url, "p1", "in");
    const [got] = await out.waitFor(1);
    expect(got!.body.toString()).toBe("in-branch1");
    await f2.waitFor(1);
    expect((await out.settle(600)).length).toBe(1);
    expect(b2.received).toHaveLength(0);
  });

  it("branches are independent: two passing filters give two outputs; no filter means pass; branch reply wins", async () => {
    const ns = uniqueNs("par2");
    const [out, branchOut] = [await sink(), await sink()];
    const f1 = await sink(echo);
    const [b1, b2, b3] = [await sink(appendReply("-1")), await sink(appendReply("-2")), await sink(appendReply("-3"))];
    const par = await api.apply({
      apiVersion: F, kind: "Parallel", metadata: { name: "par", namespace: ns },
      spec: {
        branches: [
          { filter: { uri: f1.url }, subscriber: { uri: b1.url } },
          { subscriber: { uri: b2.url } },
          { subscriber: { uri: b3.url }, reply: { uri: branchOut.url } },
        ],
        reply: { uri: out.url },
      },
    });
    await api.waitReady(F, "Parallel", ns, "par");
    await send(par.status.address.url, "p2", "in");
    await out.waitFor(2);
    const [own] = await branchOut.waitFor(1);
    expect(out.received.map((r) => r.body.toString()).sort()).toEqual(["in-1", "in-2"]);
    expect(own!.body.toString()).toBe("in-3");
  });

  it("validates its branches", async () => {
    const ns = uniqueNs("parv");
    const r = await api.call("PUT", `/apis/${F}/namespaces/${ns}/parallels/bad`, { apiVersion: F, kind: "Parallel", metadata: { name: "bad" }, spec: { branches: [{ filter: { uri: "x" } }] } });
    expect(r.status).toBe(422);
    expect(r.body.details.causes.map((c: { field: string }) => c.field)).toEqual(["spec.branches[0].filter.uri", "spec.branches[0].subscriber"]);
    const s = await api.call("PUT", `/apis/${F}/namespaces/${ns}/sequences/bad`, { apiVersion: F, kind: "Sequence", metadata: { name: "bad" }, spec: { steps: [] } });
    expect(s.status).toBe(422);
  });
});
