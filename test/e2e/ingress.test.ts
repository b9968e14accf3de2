import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, emit, post } from "../support/emit.js";
import { startSink, type Sink } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const ns = uniqueNs("ing");
let sink: Sink;
let structuredSink: Sink;
let url: string;
const ce = (id: string, extra: Record<string, string> = {}) => ({ specversion: "1.0", id, source: "/ingress", type: "com.example.ingress", ...extra });

beforeAll(async () => {
  sink = await startSink();
  structuredSink = await startSink();
  const b = await api.apply(broker(ns, "default"));
  url = b.status.address.url;
  await api.apply(trigger(ns, "all", "default", sink.url));
  await api.apply(trigger(ns, "json", "default", structuredSink.url, { filter: { attributes: { type: "com.example.structured" } }, delivery: { format: "json" } }));
  await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, "json");
});
afterAll(async () => {
  await sink.close();
  await structuredSink.close();
});

const byId = (s: Sink, id: string) => s.received.filter((r) => r.headers["ce-id"] === id);

describe("broker ingress: accepted events", () => {
  it("accepts binary CloudEvents 1.0 with any content type and delivers them", async () => {
    for (const [i, type] of ["application/vnd.apache.thrift.binary", "application/xml", "application/json"].entries()) {
      const r = await post(url, binaryHeaders(ce(`bin-${i}`), type), type === "application/json" ? "{}" : "<x/>");
      expect(r.status, type).toBe(202);
    }
    await sink.waitFor(3);
    expect(byId(sink, "bin-1")[0]!.headers["content-type"]).toBe("application/xml");
  });

  it("accepts events from the official SDK in binary and structured mode", async () => {
    expect((await emit(url, { id: "sdk-b", data: { hello: "binary" } }, "binary")).status).toBe(202);
    expect((await emit(url, { id: "sdk-s", data: { hello: "structured" } }, "structured")).status).toBe(202);
    await sink.waitFor(2);
    await expect.poll(() => byId(sink, "sdk-s").length).toBe(1);
    expect(JSON.parse(byId(sink, "sdk-s")[0]!.body.toString())).toEqual({ hello: "structured" });
    expect(JSON.parse(byId(sink, "sdk-b")[0]!.body.toString())).toEqual({ hello: "binary" });
  });

  it("accepts CloudEvents 0.3 and delivers them still as 0.3", async () => {
    const r = await post(url, binaryHeaders({ specversion: "0.3", id: "v03", source: "/old", type: "com.example.ingress", schemaurl: "http://schema/x" }), '{"v":3}');
    expect(r.status).toBe(202);
    await expect.poll(() => byId(sink, "v03").length).toBe(1);
    expect(byId(sink, "v03")[0]!.headers).toMatchObject({ "ce-specversion": "0.3", "ce-schemaurl": "http://schema/x" });
  });

  it("routes each event of a batch on its own; an empty batch is fine", async () => {
    const batch = JSON.stringify([{ ...ce("batch-1"), data: { n: 1 } }, { ...ce("batch-2"), data: { n: 2 } }]);
    expect((await post(url, { "Content-Type": "application/cloudevents-batch+json" }, batch)).status).toBe(202);
    expect((await post(url, { "Content-Type": "application/cloudevents-batch+json" }, "[]")).status).toBe(202);
    await expect.poll(() => byId(sink, "batch-1").length + byId(sink, "batch-2").length).toBe(2);
  });

  it("passes data on byte for byte, adds knativearrivaltime, keeps every attribute", async () => {
    const body = `{"spaced" :  [1.50, 2e3],   "text":"caf\\u00e9"}`;
    const structured = `{"specversion":"1.0","id":"bytes-1","source":"/ingress","type":"com.example.ingress","subject":"s","myext":"v","datacontenttype":"application/json","data":${body}}`;
    expect((await post(url, { "Content-Type": "application/cloudevents+json; charset=UTF-8" }, structured)).status).toBe(202);
    await expect.poll(() => byId(sink, "bytes-1").length).toBe(1);
    const got = byId(sink, "bytes-1")[0]!;
    expect(got.body.toString()).toBe(body);
    expect(got.headers).toMatchObject({ "ce-subject": "s", "ce-myext": "v", "content-type": "application/json", "ce-source": "/ingress" });
    expect(got.headers["ce-knativearrivaltime"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(got.headers["ce-knativebrokerttl"]).toBeUndefined();
  });

  it("percent-decodes ce- headers and encodes them again on the way out", async () => {
    const r = await post(url, binaryHeaders({ ...ce("pct-1"), subject: "Euro%20%E2%82%AC%20%F0%9F%98%80", type: "com.example.structured" }), "{}");
    expect(r.status).toBe(202);
    await structuredSink.waitFor(1);
    const got = structuredSink.received.find((x) => JSON.parse(x.body.toString()).id === "pct-1")!;
    expect(got.headers["content-type"]).toMatch(/^application\/cloudevents\+json/);
    expect(JSON.parse(got.body.toString()).subject).toBe("Euro € 😀");
    await expect.poll(() => byId(sink, "pct-1").length).toBe(1);
    expect(byId(sink, "pct-1")[0]!.headers["ce-subject"]).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
  });

  it("delivers a 36,864-byte text payload intact exactly once", async () => {
    const text = "x".repeat(36_864);
    expect((await post(url, binaryHeaders(ce("big-1"), "text/plain"), text)).status).toBe(202);
    await expect.poll(() => byId(sink, "big-1").length).toBe(1);
    expect(byId(sink, "big-1")[0]!.body.toString()).toBe(text);
  });
});

describe("broker ingress: refusals", () => {
  it("400 for an unknown specversion, naming it", async () => {
    const r = await post(url, binaryHeaders({ ...ce("bad"), specversion: "19.0" }), "{}");
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/19\.0/);
  });

  it.each(["specversion", "id", "source", "type"])("400 when ce-%s is missing", async (attr) => {
    const attrs: Record<string, string> = ce("missing");
    delete attrs[attr];
    const r = await post(url, binaryHeaders(attrs), "{}");
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(new RegExp(attr));
  });

  it("400 for invalid JSON, bad attribute names and a bad time", async () => {
    expect((await post(url, { "Content-Type": "application/cloudevents+json" }, "{oops")).status).toBe(400);
    expect((await post(url, { "Content-Type": "application/cloudevents+json" }, JSON.stringify({ ...ce("n"), "Bad-Name": "x" }))).status).toBe(400);
    const r = await post(url, binaryHeaders({ ...ce("t"), time: "yesterday" }), "{}");
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/time/);
  });

  it("404 for a Broker that does not exist", async () => {
    expect((await post(`${p.url}/brokers/${ns}/nope`, binaryHeaders(ce("x")), "{}")).status).toBe(404);
  });

  it("405 with Allow for other methods; OPTIONS answers the webhook handshake", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const r = await fetch(url, { method, headers: binaryHeaders(ce("m")) });
      expect(r.status, method).toBe(405);
      expect(r.headers.get("allow")).toBe("POST, OPTIONS");
    }
    const o = await fetch(url, { method: "OPTIONS", headers: { "WebHook-Request-Origin": "eventemitter.example.com" } });
    expect(o.status).toBe(200);
    expect(o.headers.get("allow")).toBe("POST, OPTIONS");
    expect(o.headers.get("webhook-allowed-origin")).toBe("eventemitter.example.com");
    expect(o.headers.get("webhook-allowed-rate")).toBe("*");
  });

  it("413 above the 256 KiB limit, and nothing of it is delivered", async () => {
    const r = await post(url, binaryHeaders(ce("huge"), "text/plain"), "y".repeat(256 * 1024 + 1));
    expect(r.status).toBe(413);
    expect(await r.text()).toMatch(/MAX_EVENT_BYTES/);
    expect((await post(url, binaryHeaders(ce("edge"), "text/plain"), "y".repeat(200 * 1024))).status).toBe(202);
    await expect.poll(() => byId(sink, "edge").length).toBe(1);
    expect(byId(sink, "huge")).toHaveLength(0);
  });
});
