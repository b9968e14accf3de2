// W3C trace context and the CloudEvents Distributed Tracing extension: validation, adoption of the
// request's headers at ingress, the headers every encoder writes, log fields, and replies.
import { describe, expect, it } from "vitest";
import { encodeBatch, encodeBinary, encodeStructured } from "../../core/cloudevents/encode.js";
import type { AttrValue, CloudEvent } from "../../core/cloudevents/event.js";
import { parseMessage } from "../../core/cloudevents/http.js";
import { adoptTrace, inheritTrace, isTracestate, requestTraceFields, traceFields, traceFromHeaders, traceHeaders, traceIdOf } from "../../core/cloudevents/trace.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const TP = `00-${TRACE}-00f067aa0ba902b7-01`;
const TS = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
const OTHER_TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
const ev = (extra: Record<string, AttrValue> = {}, data?: string): CloudEvent => ({
  attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", ...extra },
  ...(data !== undefined ? { data: new TextEncoder().encode(data) } : {}),
});

describe("traceparent and tracestate validation (W3C Trace Context)", () => {
  it("reads the trace id of a version 00 traceparent", () => {
    expect(traceIdOf(TP)).toBe(TRACE);
    expect(traceIdOf(` ${TP} `)).toBe(TRACE); // optional whitespace around a header value
  });

  it.each([
    ["upper-case hex", TP.toUpperCase()],
    ["all-zero trace id", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`],
    ["all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["version ff", `ff-${TRACE}-00f067aa0ba902b7-01`],
    ["version 00 with more fields", `${TP}-extra`],
    ["a short trace id", `00-${TRACE.slice(1)}-00f067aa0ba902b7-01`],
    ["non-hex flags", `00-${TRACE}-00f067aa0ba902b7-0x`],
    ["two headers joined by a comma", `${TP}, ${OTHER_TP}`],
    ["garbage", "not-a-traceparent"],
  ])("refuses %s", (_why, v) => expect(traceIdOf(v)).toBeUndefined());

  it("accepts a later version with extra fields after a dash, as W3C asks parsers to", () => {
    expect(traceIdOf(`01-${TRACE}-00f067aa0ba902b7-01-abcdef`)).toBe(TRACE);
    expect(traceIdOf(`01-${TRACE}-00f067aa0ba902b7-01abcdef`)).toBeUndefined();
  });

  it("checks tracestate list members", () => {
    expect(isTracestate(TS)).toBe(true);
    expect(isTracestate("a=1 , , tenant@vendor=x y")).toBe(true); // OWS, empty members, spaces inside values
    expect(isTracestate("Rojo=1")).toBe(false);
    expect(isTracestate("rojo")).toBe(false);
    expect(isTracestate("rojo=1,rojo=2")).toBe(false);
    expect(isTracestate("rojo=a,b")).toBe(false);
    expect(isTracestate("rojo=x=y")).toBe(false); // "=" inside a value
    expect(isTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","))).toBe(false);
    expect(isTracestate("")).toBe(false);
  });
});

describe("adoptTrace at ingress", () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it("gives an event without trace attributes the request's traceparent and tracestate", () => {
    const e = ev({}, '{"a":1}');
    const out = adoptTrace(e, headers({ traceparent: TP, tracestate: TS }));
    expect(out.attrs).toEqual({ ...e.attrs, traceparent: TP, tracestate: TS });
    expect(out.data).toBe(e.data);
    expect(e.attrs.traceparent).toBeUndefined(); // pure: the input is untouched
  });

  it("keeps the event's own attributes over the headers, valid or not", () => {
    const own = ev({ traceparent: OTHER_TP });
    expect(adoptTrace(own, headers({ traceparent: TP, tracestate: TS }))).toBe(own);
    const odd = ev({ traceparent: "producer-specific" });
    expect(adoptTrace(odd, headers({ traceparent: TP }))).toBe(odd);
    const stateOnly = ev({ tracestate: "a=1" });
    expect(adoptTrace(stateOnly, headers({ traceparent: TP }))).toBe(stateOnly);
  });

  it("ignores an invalid traceparent header, and an invalid tracestate beside a valid one", () => {
    const e = ev();
    expect(adoptTrace(e, headers({ traceparent: "00-zz", tracestate: TS }))).toBe(e);
    expect(adoptTrace(e, headers({ tracestate: TS }))).toBe(e);
    expect(adoptTrace(e, headers({ traceparent: TP, tracestate: "Bad=1" })).attrs).toEqual({ ...e.attrs, traceparent: TP });
    expect(traceFromHeaders(headers({}))).toBeUndefined();
  });
});

describe("outgoing trace headers", () => {
  const traced = ev({ traceparent: TP, tracestate: TS, subject: "a b" }, '{"a":1}');

  it("binary mode sends the W3C headers and keeps ce-traceparent / ce-tracestate", () => {
    const m = encodeBinary(traced);
    expect(m.headers).toMatchObject({ traceparent: TP, tracestate: TS, "ce-traceparent": TP, "ce-tracestate": TS });
    const back = parseMessage(new Headers(m.headers), m.body!).events[0]!;
    expect(back.attrs).toMatchObject({ traceparent: TP, tracestate: TS });
  });

  it("structured mode sends the W3C headers beside the attributes in the body", () => {
    const m = encodeStructured(traced);
    expect(m.headers).toEqual({ "Content-Type": "application/cloudevents+json; charset=utf-8", traceparent: TP, tracestate: TS });
    expect(JSON.parse(new TextDecoder().decode(m.body!))).toMatchObject({ traceparent: TP, tracestate: TS });
  });

  it("sends no W3C header for an event without a valid traceparent, and no tracestate that is invalid", () => {
    expect(encodeBinary(ev()).headers.traceparent).toBeUndefined();
    const odd = encodeBinary(ev({ traceparent: "producer-specific", tracestate: TS }));
    expect(odd.headers).toMatchObject({ "ce-traceparent": "producer-specific" });
    expect(odd.headers.traceparent).toBeUndefined();
    expect(odd.headers.tracestate).toBeUndefined();
    expect(traceHeaders(ev({ traceparent: TP, tracestate: "Bad=1" }))).toEqual({ traceparent: TP });
  });

  it("a batch sends the W3C headers only when all its events share them", () => {
    const a = ev({ traceparent: TP, tracestate: TS });
    const b = { ...a, attrs: { ...a.attrs, id: "2" } };
    expect(encodeBatch([a, b]).headers).toMatchObject({ traceparent: TP, tracestate: TS });
    expect(encodeBatch([a, ev({ id: "3", traceparent: OTHER_TP })]).headers.traceparent).toBeUndefined();
    expect(encodeBatch([a, ev({ id: "4" })]).headers.traceparent).toBeUndefined();
    expect(encodeBatch([]).headers.traceparent).toBeUndefined();
  });
});

describe("log fields and replies", () => {
  it("traceFields names the trace id, and nothing without a valid traceparent", () => {
    expect(traceFields(ev({ traceparent: TP }))).toEqual({ traceId: TRACE });
    expect(traceFields(ev({ traceparent: "x" }))).toEqual({});
    expect(traceFields(ev())).toEqual({});
    expect(requestTraceFields(new Headers({ traceparent: TP }))).toEqual({ traceId: TRACE });
    expect(requestTraceFields(new Headers({ traceparent: "00-bad" }))).toEqual({});
  });

  it("a reply without a trace inherits the original's traceparent and tracestate", () => {
    const original = ev({ traceparent: TP, tracestate: TS });
    const reply = ev({ id: "r1", type: "reply" }, "done");
    const out = inheritTrace(original, reply);
    expect(out.attrs).toEqual({ ...reply.attrs, traceparent: TP, tracestate: TS });
    expect(out.data).toBe(reply.data);
  });

  it("a reply with a trace of its own keeps it; an untraced original passes nothing on", () => {
    const own = ev({ id: "r2", traceparent: OTHER_TP });
    expect(inheritTrace(ev({ traceparent: TP }), own)).toBe(own);
    const plain = ev({ id: "r3" });
    expect(inheritTrace(ev(), plain)).toBe(plain);
    expect(inheritTrace(ev({ traceparent: "x" }), plain)).toBe(plain);
    expect(inheritTrace(ev({ traceparent: TP, tracestate: "Bad=1" }), plain).attrs).toEqual({ ...plain.attrs, traceparent: TP });
  });
});
