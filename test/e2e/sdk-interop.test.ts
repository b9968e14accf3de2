// What Eddy delivers, read by the official `cloudevents` SDK (v10) the way a Node subscriber would:
// each local sink hands the received headers and body to HTTP.toEvent. Where the SDK reads an event
// differently from what was sent, the test pins what it does (docs/cloudevents.md, "Receivers using
// the JavaScript SDK").
import { HTTP } from "cloudevents";
import { afterEach, describe, expect, inject, it } from "vitest";
import { encodeBatch } from "../../core/cloudevents/encode.js";
import { parseMessage } from "../../core/cloudevents/http.js";
import { Api, broker, trigger, uniqueNs } from "../support/api.js";
import { binaryHeaders, post } from "../support/emit.js";
import { type Received, type Sink, sinkPool } from "../support/sink.js";

const p = inject("platform");
const api = new Api({ ...p, logs: () => "", stop: async () => {}, kill9: async () => {} });
const sink = sinkPool(afterEach);
const CE_JSON = { "Content-Type": "application/cloudevents+json" };
const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** What a Node subscriber does: text bodies as strings (express.text), anything else as bytes. */
function sdkRead(r: Received): any {
  const ct = r.headers["content-type"] ?? "";
  const body = r.body.length === 0 ? undefined : /json|text\//i.test(ct) ? r.body.toString("utf8") : r.body;
  return HTTP.toEvent({ headers: r.headers, body });
}

/** A Broker with one Trigger per [type, format] to its own sink; returns the ingress URL and the sinks. */
async function brokerWith(prefix: string, routes: [type: string, format: "binary" | "json"][]): Promise<{ url: string; sinks: Sink[] }> {
  const ns = uniqueNs(prefix);
  const url = (await api.apply(broker(ns, "default"))).status.address.url as string;
  const sinks: Sink[] = [];
  for (const [i, [type, format]] of routes.entries()) {
    const s = await sink();
    sinks.push(s);
    await api.apply(trigger(ns, `t${i}`, "default", s.url, { filter: { attributes: { type } }, ...(format === "json" ? { delivery: { format: "json" } } : {}) }));
  }
  for (let i = 0; i < routes.length; i++) await api.waitReady("eventing.knative.dev/v1", "Trigger", ns, `t${i}`);
  return { url, sinks };
}

const order = {
  specversion: "1.0", id: "sdk-1", source: "https://example.com/orders", type: "com.example.sdk.order",
  subject: "café au lait 100%", time: "2026-05-01T12:00:00.123456+02:00", dataschema: "https://example.com/order.json",
  datacontenttype: "application/json", ext: "plain-value", count: 5, flag: true, traceparent: TP,
  data: { total: 1.5, items: ["a"] },
};

describe("the official SDK reads what Eddy delivers", () => {
  it("binary and structured (delivery.format: json) deliveries of one event", async () => {
    const { url, sinks: [bin, json] } = await brokerWith("sdk", [["com.example.sdk.order", "binary"], ["com.example.sdk.order", "json"]]);
    expect((await post(url, CE_JSON, JSON.stringify(order))).status).toBe(202);
    const b = sdkRead((await bin!.waitFor(1))[0]!);
    const s = sdkRead((await json!.waitFor(1))[0]!);
    const same = { specversion: "1.0", id: "sdk-1", source: order.source, type: order.type, dataschema: order.dataschema, datacontenttype: "application/json", ext: "plain-value", traceparent: TP, data: order.data };
    expect(b).toMatchObject(same);
    expect(s).toMatchObject(same);
    expect(typeof b.knativearrivaltime).toBe("string");
    expect(s.knativearrivaltime).toBe(b.knativearrivaltime);
    // Binary mode carries every attribute as a header string (the binding), structured keeps JSON types.
    expect([b.count, b.flag]).toEqual(["5", "true"]);
    expect([s.count, s.flag]).toEqual([5, true]);
    // SDK: binary header values are not percent-decoded, so the subject arrives as Eddy encoded it.
    expect(b.subject).toBe("caf%C3%A9%20au%20lait%20100%25");
    expect(decodeURIComponent(b.subject)).toBe(order.subject);
    expect(s.subject).toBe(order.subject);
    // SDK: time is rewritten to UTC with milliseconds; the offset and the microseconds are lost.
    expect(b.time).toBe("2026-05-01T10:00:00.123Z");
    expect(s.time).toBe("2026-05-01T10:00:00.123Z");
  });

  it("text and binary data: text as a string, structured data_base64 as a Uint32Array; a leap second becomes now", async () => {
    const { url, sinks: [json, bin] } = await brokerWith("sdkd", [["com.example.sdk.data", "json"], ["com.example.sdk.data", "binary"]]);
    const base = { specversion: "1.0", source: "/sdk", type: "com.example.sdk.data" };
    const before = Date.now();
    await post(url, CE_JSON, JSON.stringify({ ...base, id: "text-1", time: "2016-12-31T23:59:60Z", datacontenttype: "text/plain; charset=utf-8", data: "hello wörld" }));
    await post(url, CE_JSON, JSON.stringify({ ...base, id: "bytes-1", datacontenttype: "application/octet-stream", data_base64: "AP8BgA==" }));
    const structured = Object.fromEntries((await json!.waitFor(2)).map((r) => [r.headers["ce-id"] ?? JSON.parse(r.body.toString()).id, sdkRead(r)]));
    const binary = Object.fromEntries((await bin!.waitFor(2)).map((r) => [r.headers["ce-id"], sdkRead(r)]));
    expect(structured["text-1"].data).toBe("hello wörld");
    expect(binary["text-1"].data).toBe("hello wörld");
    // SDK: a leap second, valid RFC 3339 that Eddy passes on unchanged, becomes the current time.
    expect(JSON.parse((await json!.waitFor(2)).find((r) => r.body.includes("text-1"))!.body.toString()).time).toBe("2016-12-31T23:59:60Z");
    expect(Date.parse(structured["text-1"].time)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(binary["text-1"].time)).toBeGreaterThanOrEqual(before - 1000);
    expect(structured["bytes-1"].data_base64).toBe("AP8BgA==");
    expect(structured["bytes-1"].data).toBeInstanceOf(Uint32Array); // SDK: one 32-bit element per byte
    expect(Array.from(structured["bytes-1"].data)).toEqual([0, 255, 1, 128]);
    expect(Array.from(binary["bytes-1"].data)).toEqual([0, 255, 1, 128]);
    expect(binary["bytes-1"].data_base64).toBe("AP8BgA==");
  });

  it("events that came in as a batch are each delivered and read; the SDK also reads Eddy's batch encoding", async () => {
    const { url, sinks: [bin] } = await brokerWith("sdkb", [["com.example.sdk.batch", "binary"]]);
    const base = { specversion: "1.0", source: "/sdk/batch", type: "com.example.sdk.batch" };
    const batch = [
      { ...base, id: "b-obj", datacontenttype: "application/json", data: { a: [1, 2] } },
      { ...base, id: "b-num", datacontenttype: "application/json", data: 42 },
      { ...base, id: "b-bytes", datacontenttype: "application/octet-stream", data_base64: "3q2+7w==" },
      { ...base, id: "b-text", datacontenttype: "text/plain", data: "plain" },
    ];
    const before = Date.now();
    expect((await post(url, { "Content-Type": "application/cloudevents-batch+json" }, JSON.stringify(batch))).status).toBe(202);
    const received = await bin!.waitFor(4);
    const got = Object.fromEntries(received.map((r) => [r.headers["ce-id"], sdkRead(r)]));
    expect(got["b-obj"].data).toEqual({ a: [1, 2] });
    // SDK: a binary JSON body that is a bare number (or true, null) is read as a string.
    expect(got["b-num"].data).toBe("42");
    expect(Array.from(got["b-bytes"].data)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(got["b-text"].data).toBe("plain");
    for (const r of received) expect(r.headers["ce-time"]).toBeUndefined();
    // SDK: an event without `time` gets one, the moment the SDK read it.
    for (const e of Object.values(got) as any[]) expect(Date.parse(e.time)).toBeGreaterThanOrEqual(before - 1000);

    const events = received.map((r) => parseMessage(new Headers(r.headers), new Uint8Array(r.body)).events[0]!);
    const wire = encodeBatch(events);
    const fromBatch = HTTP.toEvent({ headers: wire.headers, body: new TextDecoder().decode(wire.body!) }) as any[];
    expect(fromBatch.map((e) => e.id).sort()).toEqual(["b-bytes", "b-num", "b-obj", "b-text"]);
    const read = Object.fromEntries(fromBatch.map((e) => [e.id, e]));
    expect(read["b-obj"].data).toEqual({ a: [1, 2] });
    expect(read["b-num"].data).toBe(42); // in JSON the number stays a number
    expect(read["b-bytes"].data).toBeInstanceOf(Uint8Array);
    expect(Array.from(read["b-bytes"].data)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(read["b-text"].data).toBe("plain");
    for (const e of fromBatch) expect(e.knativearrivaltime).toBe(got[e.id].knativearrivaltime);
  });

  it("CloudEvents 0.3, binary and structured, including datacontentencoding", async () => {
    const { url, sinks: [bin, json] } = await brokerWith("sdk03", [["com.example.sdk.v03", "binary"], ["com.example.sdk.v03", "json"]]);
    const v03 = { specversion: "0.3", source: "/sdk/v03", type: "com.example.sdk.v03" };
    await post(url, { ...binaryHeaders({ ...v03, id: "v03-json", schemaurl: "/schemas/order" }), "Content-Type": "application/json" }, '{"n":3}');
    await post(url, CE_JSON, JSON.stringify({ ...v03, id: "v03-enc", datacontenttype: "text/plain", datacontentencoding: "base64", data: "aGVsbG8=" }));
    await post(url, { ...binaryHeaders({ ...v03, id: "v03-bytes" }), "Content-Type": "application/octet-stream" }, new Uint8Array([0, 255]));
    const idOf = (r: Received) => r.headers["ce-id"] ?? JSON.parse(r.body.toString()).id;
    const b = Object.fromEntries((await bin!.waitFor(3)).map((r) => [idOf(r), sdkRead(r)]));
    const s = Object.fromEntries((await json!.waitFor(3)).map((r) => [idOf(r), sdkRead(r)]));
    for (const e of [b["v03-json"], s["v03-json"]]) expect(e).toMatchObject({ specversion: "0.3", id: "v03-json", schemaurl: "/schemas/order", data: { n: 3 } });
    // Binary: the body is the decoded bytes and ce-datacontentencoding travels as it was (as sdk-go does).
    expect(b["v03-enc"]).toMatchObject({ specversion: "0.3", datacontentencoding: "base64", data: "hello" });
    // SDK, structured: it decodes the base64 data to a Uint32Array and drops datacontentencoding.
    expect(s["v03-enc"].datacontentencoding).toBeUndefined();
    expect(Buffer.from(s["v03-enc"].data).toString()).toBe("hello");
    expect(Array.from(b["v03-bytes"].data)).toEqual([0, 255]);
    expect(Array.from(s["v03-bytes"].data)).toEqual([0, 255]); // Eddy added datacontentencoding: base64
    expect(s["v03-bytes"].specversion).toBe("0.3");
  });
});
