// RequestReply end to end, as issue 24's "done when" asks: 100 callers at once through one
// RequestReply to a responder behind its Broker, each getting its own reply; and a request nobody
// answers gets 504 at its timeout. The responder is a real HTTP server that answers the Broker's
// delivery with the reply (Knative's function in eventing#8701 does the same).
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { type Received, type Responder, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const RR = "eventing.knative.dev/v1alpha1";
const sink = sinkPool(afterEach);

/** Replies to each request with an event of another type, carrying its correlation id as replyid and its nonce. */
const responder: Responder = (req: Received) => ({
  status: 200,
  headers: {
    "ce-specversion": "1.0", "ce-id": `answer-${req.headers["ce-id"]}`, "ce-source": "/responder", "ce-type": "com.example.answer",
    "ce-replyid": req.headers["ce-correlationid"] ?? "", "content-type": "application/json",
  },
  body: JSON.stringify({ answerTo: (JSON.parse(req.body.toString()) as { nonce: string }).nonce }),
});

async function requestReply(ns: string, name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) {
  await api.apply({ apiVersion: RR, kind: "RequestReply", metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec: { brokerRef: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: "default" }, ...spec } });
  return api.waitReady(RR, "RequestReply", ns, name, 20_000);
}

describe("RequestReply end to end", () => {
  it("100 concurrent requests through one RequestReply each get their own reply", async () => {
    const ns = uniqueNs("rr");
    const s = await sink(responder);
    await api.apply(broker(ns, "default", {}, { "eddy.dev/partitions": "2" }));
    await api.apply(trigger(ns, "responder", "default", s.url, { filter: { attributes: { type: "com.example.question" } } }));
    await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "responder");
    const rr = await requestReply(ns, "ask");
    expect(rr.status.address.url).toBe(`${p.url}/requestreplies/${ns}/ask`);
    const nonces = Array.from({ length: 100 }, (_, i) => `${i}-${Math.random().toString(36).slice(2)}`);
    const answers = await Promise.all(nonces.map(async (nonce, i) => {
      const r = await post(rr.status.address.url, binaryHeaders({ specversion: "1.0", id: `q-${i}`, source: "/caller", type: "com.example.question" }), JSON.stringify({ nonce }));
      return { i, status: r.status, replyid: r.headers.get("ce-replyid"), type: r.headers.get("ce-type"), body: await r.text() };
    }));
    const seen = new Map(s.received.map((r) => [r.headers["ce-id"], r.headers["ce-correlationid"]]));
    expect(s.received).toHaveLength(100);
    for (const a of answers) {
      expect(a, `caller ${a.i}`).toMatchObject({ status: 200, type: "com.example.answer" });
      expect(JSON.parse(a.body)).toEqual({ answerTo: nonces[a.i] });
      expect(a.replyid).toBe(seen.get(`q-${a.i}`));
    }
    expect(new Set(answers.map((a) => a.replyid)).size).toBe(100);
    const stats = (await api.call("GET", `/apis/${RR}/namespaces/${ns}/requestreplies/ask/stats`)).body;
    expect(stats.counters).toMatchObject({ requests: 100, replies: 100 });
  });

  it("a request nobody answers gets 504 at its timeout, with a message saying what was expected", async () => {
    const ns = uniqueNs("rr");
    const s = await sink(() => ({ status: 202 }));
    await api.apply(broker(ns, "default"));
    await api.apply(trigger(ns, "listener", "default", s.url));
    await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "listener");
    const rr = await requestReply(ns, "silent", { timeout: "PT2S" });
    const started = Date.now();
    const r = await post(rr.status.address.url, binaryHeaders({ specversion: "1.0", id: "unanswered", source: "/caller", type: "com.example.question" }), "{}");
    const took = Date.now() - started;
    expect(r.status).toBe(504);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(10_000);
    const [got] = await s.waitFor(1);
    expect(await r.text()).toBe(`no reply within 2 s (spec.timeout of RequestReply "silent"): the event "unanswered" went to Broker "default" with correlationid=${got!.headers["ce-correlationid"]}, and no event with replyid=${got!.headers["ce-correlationid"]} came back through it; the responder must send its reply to that Broker (or answer the delivery with it) carrying that value\n`);
  });
});
