// W3C trace context through a running Eddy: what arrives as `traceparent`/`tracestate` (HTTP headers
// or event attributes) reaches every delivery, dead letter and reply of that event.
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const V1 = "eventing.knative.dev/v1";
const sink = sinkPool(afterEach);

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const TP = `00-${TRACE}-00f067aa0ba902b7-01`;
const TS = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
const traceId = (tp: string | undefined) => tp?.split("-")[1];

async function setup(prefix: string, triggers: [name: string, type: string, url: string, extra?: Record<string, unknown>][]) {
  const ns = uniqueNs(prefix);
  const url = (await api.apply(broker(ns, "default"))).status.address.url as string;
  for (const [name, type, to, extra] of triggers) await api.apply(trigger(ns, name, "default", to, { filter: { attributes: { type } }, ...extra }));
  for (const [name] of triggers) await api.waitReady(V1, "Trigger", ns, name);
  return url;
}

describe("trace context", () => {
  it("carries traceparent/tracestate request headers to the subscriber and to the dead-letter sink of a failing Trigger", async () => {
    const ok = await sink();
    const failing = await sink(() => ({ status: 503, body: "down" }));
    const dls = await sink();
    const url = await setup("trace", [
      ["ok", "com.example.traced", ok.url],
      ["fails", "com.example.traced", failing.url, { delivery: { retry: 0, deadLetterSink: { uri: dls.url } } }],
    ]);
    const headers = { ...binaryHeaders({ specversion: "1.0", id: "t-1", source: "/trace", type: "com.example.traced" }), traceparent: TP, tracestate: TS };
    expect((await post(url, headers, '{"n":1}')).status).toBe(202);
    const [got] = await ok.waitFor(1);
    const [dead] = await dls.waitFor(1);
    for (const r of [got!, dead!]) {
      expect(r.headers).toMatchObject({ traceparent: TP, tracestate: TS, "ce-traceparent": TP, "ce-tracestate": TS, "ce-id": "t-1" });
      expect(traceId(r.headers.traceparent)).toBe(TRACE);
    }
    expect(dead!.headers).toMatchObject({ "ce-knativeerrorcode": "503" });
    expect((await failing.waitFor(1))[0]!.headers.traceparent).toBe(TP);
  });

  it("sends the trace of an event that carried it as an attribute (structured JSON members) as W3C headers, also structured", async () => {
    const bin = await sink();
    const json = await sink();
    const url = await setup("tracea", [
      ["bin", "com.example.attr", bin.url],
      ["json", "com.example.attr", json.url, { delivery: { format: "json" } }],
    ]);
    const body = JSON.stringify({ specversion: "1.0", id: "t-2", source: "/trace", type: "com.example.attr", traceparent: TP, tracestate: TS, data: { n: 2 } });
    // A different traceparent header: the event's own attribute wins (it is the event's trace).
    const other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    expect((await post(url, { "Content-Type": "application/cloudevents+json", traceparent: other }, body)).status).toBe(202);
    const [b] = await bin.waitFor(1);
    const [j] = await json.waitFor(1);
    expect(b!.headers).toMatchObject({ traceparent: TP, tracestate: TS, "ce-traceparent": TP });
    expect(j!.headers).toMatchObject({ traceparent: TP, tracestate: TS });
    expect(JSON.parse(j!.body.toString())).toMatchObject({ traceparent: TP, tracestate: TS, data: { n: 2 } });
  });

  it("gives every event of a batch the trace of the request headers", async () => {
    const sub = await sink();
    const url = await setup("traceb", [["all", "com.example.batch", sub.url]]);
    const batch = JSON.stringify([1, 2].map((i) => ({ specversion: "1.0", id: `b-${i}`, source: "/trace", type: "com.example.batch" })));
    expect((await post(url, { "Content-Type": "application/cloudevents-batch+json", traceparent: TP }, batch)).status).toBe(202);
    const got = await sub.waitFor(2);
    expect(got.map((r) => [r.headers["ce-id"], r.headers.traceparent]).sort()).toEqual([["b-1", TP], ["b-2", TP]]);
    expect(got.every((r) => r.headers.tracestate === undefined)).toBe(true);
  });

  it("ignores an invalid traceparent header: the event is delivered without a trace", async () => {
    const sub = await sink();
    const url = await setup("tracex", [["all", "com.example.bad", sub.url]]);
    const headers = { ...binaryHeaders({ specversion: "1.0", id: "x-1", source: "/trace", type: "com.example.bad" }), traceparent: TP.toUpperCase(), tracestate: TS };
    expect((await post(url, headers, "{}")).status).toBe(202);
    const [got] = await sub.waitFor(1);
    expect(got!.headers.traceparent).toBeUndefined();
    expect(got!.headers.tracestate).toBeUndefined();
    expect(got!.headers["ce-traceparent"]).toBeUndefined();
  });

  it("a reply that names its own trace keeps it", async () => {
    const own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const replier = await sink(() => ({
      status: 200,
      headers: { "ce-specversion": "1.0", "ce-id": "r-own", "ce-source": "/replier", "ce-type": "com.example.reply", "ce-traceparent": own },
    }));
    const next = await sink();
    const url = await setup("tracer", [["a", "com.example.start", replier.url], ["b", "com.example.reply", next.url]]);
    await post(url, { ...binaryHeaders({ specversion: "1.0", id: "s-1", source: "/trace", type: "com.example.start" }), traceparent: TP }, "{}");
    const [got] = await next.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-id": "r-own", traceparent: own });
  });

  // Passes once the delivery engine applies core/cloudevents/trace.ts inheritTrace(original, reply)
  // to every subscriber reply before it re-enters the Broker.
  it("a reply without a trace of its own carries the trace of the event it answers to the next Trigger", async () => {
    const replier = await sink(() => ({
      status: 200,
      headers: { "ce-specversion": "1.0", "ce-id": "r-1", "ce-source": "/replier", "ce-type": "com.example.reply", "Content-Type": "text/plain" },
      body: "answer",
    }));
    const next = await sink();
    const url = await setup("tracei", [["a", "com.example.start", replier.url], ["b", "com.example.reply", next.url]]);
    await post(url, { ...binaryHeaders({ specversion: "1.0", id: "s-2", source: "/trace", type: "com.example.start" }), traceparent: TP, tracestate: TS }, "{}");
    expect((await replier.waitFor(1))[0]!.headers.traceparent).toBe(TP);
    const [got] = await next.waitFor(1);
    expect(got!.headers).toMatchObject({ "ce-id": "r-1", traceparent: TP, tracestate: TS, "ce-traceparent": TP });
    expect(got!.body.toString()).toBe("answer");
  });
});
