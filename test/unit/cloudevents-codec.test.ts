import { CloudEvent as SdkEvent, HTTP } from "cloudevents";
import { describe, expect, it } from "vitest";
import { encodeBatch, encodeBinary, encodeStructured } from "../../core/cloudevents/encode.js";
import type { CloudEvent } from "../../core/cloudevents/event.js";
import { CloudEventError, isCloudEventMessage, parseMessage, validateEvent } from "../../core/cloudevents/http.js";
import { percentDecode, percentEncode } from "../../core/cloudevents/percent.js";
import { loadVectors } from "../support/vectors.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const base = { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t" };

function parse(headers: Record<string, string>, body = ""): CloudEvent[] {
  return parseMessage(new Headers(headers), enc.encode(body)).events;
}
function rejects(headers: Record<string, string>, body: string, pattern: RegExp, status = 400) {
  try {
    parse(headers, body);
  } catch (e) {
    expect(e).toBeInstanceOf(CloudEventError);
    expect((e as CloudEventError).status).toBe(status);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error("expected a rejection");
}
const structured = (obj: unknown) => [{ "Content-Type": "application/cloudevents+json; charset=UTF-8" }, JSON.stringify(obj)] as const;
const ev = (extra: Record<string, unknown> = {}) => ({ specversion: "1.0", id: "1", source: "/s", type: "t", ...extra });

describe("percent-encoding of ce- headers", () => {
  it("decodes per the HTTP binding", () => {
    expect(percentDecode("Euro%20%E2%82%AC%20%F0%9F%98%80")).toBe("Euro € 😀");
    expect(percentDecode("%41%62c")).toBe("Abc");
    expect(percentDecode("100%")).toBe("100%");
    expect(percentDecode("a%zzb")).toBe("a%zzb");
    expect(percentDecode('"quoted \\"value\\""')).toBe('quoted "value"');
    expect(percentDecode("plain value")).toBe("plain value");
  });
  it("refuses bytes that are not UTF-8, overlong forms included", () => {
    expect(() => percentDecode("%C0%A0")).toThrow(/UTF-8/);
    expect(() => percentDecode("%FF")).toThrow(CloudEventError);
  });
  it("encodes space, quote, percent and non-ASCII as UTF-8 %XY", () => {
    expect(percentEncode("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(percentEncode('a"b%c')).toBe("a%22b%25c");
    expect(percentEncode("/plain/path?q=1")).toBe("/plain/path?q=1");
  });
});

describe("binary mode", () => {
  it("reads attributes from ce- headers, datacontenttype from Content-Type, data as the body bytes", () => {
    const [e] = parse({ ...base, "ce-subject": "a%20b", "Ce-MyExt": "x", "Content-Type": "application/json" }, '{"a": 1}');
    expect(e!.attrs).toEqual({ specversion: "1.0", id: "1", source: "/s", type: "t", subject: "a b", myext: "x", datacontenttype: "application/json" });
    expect(dec.decode(e!.data)).toBe('{"a": 1}');
  });
  it("has no data and no datacontenttype when there is no body and no Content-Type", () => {
    const [e] = parse(base);
    expect(e!.data).toBeUndefined();
    expect(e!.attrs.datacontenttype).toBeUndefined();
  });
  it("says what is missing", () => {
    rejects({ "ce-id": "1" }, "", /ce-specversion/);
    for (const a of ["id", "source", "type"]) {
      const h: Record<string, string> = { ...base };
      delete h[`ce-${a}`];
      rejects(h, "", new RegExp(`"${a}"`));
    }
    rejects({ ...base, "ce-id": "" }, "", /"id" must be a non-empty/);
  });
  it("refuses unknown specversions, bad names, bad time, control characters and broken JSON bodies", () => {
    rejects({ ...base, "ce-specversion": "19.0" }, "", /19\.0/);
    rejects({ ...base, "ce-my_ext": "x" }, "", /ce-my_ext/);
    rejects({ ...base, "ce-time": "2018-04-05 03:56" }, "", /time/);
    rejects({ ...base, "ce-subject": "a%0Ab" }, "", /control character/);
    rejects({ ...base, "Content-Type": "application/json" }, "{nope", /not valid JSON/);
    rejects({ ...base, "Content-Type": "application/vnd.x+json" }, "nope", /not valid JSON/);
    rejects({ ...base, "ce-dataschema": "relative/path" }, "", /dataschema/);
    rejects({ ...base, "ce-datacontenttype": "text/plain", "Content-Type": "application/json" }, "{}", /Content-Type/);
  });
  it("accepts what the spec allows: long names, digit-first names, relative source, unknown extensions", () => {
    const [e] = parse({ ...base, "ce-abcdefghijklmnopqrstuvwxyz": "1", "ce-1ext": "2", "ce-source": "1-555-123-4567", "ce-time": "2018-04-26T14:48:09.123456789+02:00" });
    expect(e!.attrs).toMatchObject({ abcdefghijklmnopqrstuvwxyz: "1", "1ext": "2", time: "2018-04-26T14:48:09.123456789+02:00" });
  });
});

describe("structured mode", () => {
  it("keeps the data member's exact bytes and the attributes' JSON types", () => {
    const body = '{"specversion":"1.0","id":"1","source":"/s","type":"t","myint":42,"mybool":true,"datacontenttype":"application/json","data":{"b":1,  "a":[1.50, 2e3], "c":"\\u00e9"}}';
    const [e] = parse({ "Content-Type": "application/cloudevents+json" }, body);
    expect(dec.decode(e!.data)).toBe('{"b":1,  "a":[1.50, 2e3], "c":"\\u00e9"}');
    expect(e!.attrs).toMatchObject({ myint: 42, mybool: true });
    expect(encodeBinary(e!).body).toEqual(e!.data);
  });
  it("implies application/json when datacontenttype is absent and writes it out in binary mode", () => {
    const [e] = parse(...structured(ev({ data: { a: 1 } })));
    expect(e!.impliedJson).toBe(true);
    expect(encodeBinary(e!).headers["Content-Type"]).toBe("application/json");
  });
  it("decodes data_base64 and text data", () => {
    const [b] = parse(...structured(ev({ data_base64: "AAEC/w==" })));
    expect([...b!.data!]).toEqual([0, 1, 2, 255]);
    const [t] = parse(...structured(ev({ datacontenttype: "text/plain", data: "héllo" })));
    expect(dec.decode(t!.data)).toBe("héllo");
  });
  it("treats null attributes as unset", () => {
    const [e] = parse(...structured(ev({ subject: null })));
    expect("subject" in e!.attrs).toBe(false);
  });
  it("refuses invalid JSON, non-objects, bad names, nested values, floats, both data forms, bad base64", () => {
    rejects({ "Content-Type": "application/cloudevents+json" }, "{", /not valid JSON/);
    rejects(...structured([ev()]), /one JSON object/);
    rejects(...structured(ev({ "My-Ext": 1 })), /"My-Ext"/);
    rejects(...structured(ev({ ext: { a: 1 } })), /object/);
    rejects(...structured(ev({ ext: 1.5 })), /32-bit integer/);
    rejects(...structured(ev({ ext: 2 ** 31 })), /32-bit integer/);
    rejects(...structured(ev({ data: 1, data_base64: "AA==" })), /not both/);
    rejects(...structured(ev({ data_base64: "!!" })), /base64/);
    rejects(...structured(ev({ subject: "" })), /subject/);
  });
  it("answers 415 for a CloudEvents format it does not read", () => {
    rejects({ "Content-Type": "application/cloudevents+avro" }, "x", /unsupported event format/, 415);
  });
  it("reads 0.3 base64 data and writes it back the 0.3 way", () => {
    const [e] = parse(...structured({ specversion: "0.3", id: "1", source: "/s", type: "t", datacontentencoding: "Base64", data: "AAE=" }));
    expect([...e!.data!]).toEqual([0, 1]);
    const back = JSON.parse(dec.decode(encodeStructured(e!).body!));
    expect(back).toMatchObject({ specversion: "0.3", datacontentencoding: "base64", data: "AAE=" });
    expect(encodeBinary(e!).headers["ce-datacontentencoding"]).toBeUndefined();
  });
});

describe("batched mode", () => {
  it("reads each event on its own; an empty batch is valid", () => {
    const body = JSON.stringify([ev({ id: "a", data: { n: 1 } }), ev({ id: "b", data: [2] })]);
    const { mode, events } = parseMessage(new Headers({ "Content-Type": "application/cloudevents-batch+json" }), enc.encode(body));
    expect(mode).toBe("batch");
    expect(events.map((e) => dec.decode(e.data))).toEqual(['{"n":1}', "[2]"]);
    expect(parse({ "Content-Type": "application/cloudevents-batch+json" }, "[]")).toEqual([]);
  });
  it("refuses mixed specversions and bad entries, naming the entry", () => {
    rejects({ "Content-Type": "application/cloudevents-batch+json" }, JSON.stringify([ev(), { ...ev(), specversion: "0.3" }]), /specversion/);
    rejects({ "Content-Type": "application/cloudevents-batch+json" }, JSON.stringify([ev(), { id: "x" }]), /batch entry 1/);
    rejects({ "Content-Type": "application/cloudevents-batch+json" }, "{}", /JSON array/);
  });
});

describe("encoding and round trips", () => {
  const samples: CloudEvent[] = [
    { attrs: { specversion: "1.0", id: "j", source: "/s", type: "t", datacontenttype: "application/json", myint: 7, mybool: false }, data: enc.encode('{"x": [1, 2.50]}') },
    { attrs: { specversion: "1.0", id: "b", source: "/s", type: "t", datacontenttype: "application/octet-stream", subject: "Euro € 😀" }, data: new Uint8Array([0, 255, 10]) },
    { attrs: { specversion: "1.0", id: "x", source: "/s", type: "t", datacontenttype: "application/xml" }, data: enc.encode("<a>é</a>") },
    { attrs: { specversion: "1.0", id: "n", source: "/s", type: "t" } },
  ];
  it.each(samples.map((s) => [s.attrs.id, s] as const))("event %s survives binary and structured mode", (_id, s) => {
    const bin = encodeBinary(s);
    const [b] = parseMessage(new Headers(bin.headers), bin.body ?? new Uint8Array()).events;
    const st = encodeStructured(s);
    const [j] = parseMessage(new Headers(st.headers), st.body!).events;
    for (const back of [b!, j!]) {
      expect(back.data ? [...back.data] : undefined).toEqual(s.data ? [...s.data] : undefined);
    }
    expect(j!.attrs).toEqual(s.attrs); // structured keeps JSON types
    expect(Object.keys(b!.attrs).sort()).toEqual(Object.keys(s.attrs).sort());
  });
  it("writes a batch as a JSON array of structured events", () => {
    const out = encodeBatch(samples.slice(0, 2));
    const { events } = parseMessage(new Headers(out.headers), out.body!);
    expect(events.map((e) => e.attrs.id)).toEqual(["j", "b"]);
  });
  it("recognises CloudEvent responses", () => {
    expect(isCloudEventMessage(new Headers({ "ce-specversion": "1.0" }))).toBe(true);
    expect(isCloudEventMessage(new Headers({ "Content-Type": "Application/CloudEvents+JSON" }))).toBe(true);
    expect(isCloudEventMessage(new Headers({ "Content-Type": "text/plain" }))).toBe(false);
  });
  it("validateEvent checks events Eddy builds itself", () => {
    expect(() => validateEvent({ attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", time: "now" } })).toThrow(/RFC 3339/);
  });
});

describe("the official SDK as an independent emitter", () => {
  it.each(["binary", "structured"] as const)("events serialised by the cloudevents SDK in %s mode parse to the same attributes", (mode) => {
    const sdk = new SdkEvent({ specversion: "1.0", id: "sdk-1", source: "/sdk", type: "com.example.sdk", subject: "s", myext: "v", datacontenttype: "application/json", data: { hello: "world" } });
    const msg = mode === "binary" ? HTTP.binary(sdk) : HTTP.structured(sdk);
    const [e] = parseMessage(new Headers(msg.headers as Record<string, string>), enc.encode(msg.body as string)).events;
    expect(e!.attrs).toMatchObject({ id: "sdk-1", source: "/sdk", type: "com.example.sdk", subject: "s", myext: "v", time: sdk.time });
    expect(JSON.parse(dec.decode(e!.data))).toEqual({ hello: "world" });
  });
});

describe("conformance vectors at the codec", () => {
  it.each(loadVectors().map((v) => [`${v.file}#${v.index}`, v] as const))("%s parses and survives re-encoding", (_n, v) => {
    const [e] = parseMessage(new Headers(v.headers), enc.encode(v.body)).events;
    expect(e!.attrs).toMatchObject({ ...v.attrs, ...v.extensions });
    expect(dec.decode(e!.data)).toBe(v.expectedData);
    const bin = encodeBinary(e!);
    const [b] = parseMessage(new Headers(bin.headers), bin.body!).events;
    expect(dec.decode(b!.data)).toBe(v.expectedData); // binary to binary: byte for byte
    const st = encodeStructured(e!);
    const [j] = parseMessage(new Headers(st.headers), st.body!).events;
    expect(j!.attrs.id).toBe(v.attrs.id);
    // Structured mode embeds JSON data as a JSON value: whitespace around the value cannot travel.
    const jsonData = /json/.test(String(e!.attrs.datacontenttype ?? "application/json"));
    if (jsonData) expect(JSON.parse(dec.decode(j!.data))).toEqual(JSON.parse(v.expectedData));
    else expect(dec.decode(j!.data)).toBe(v.expectedData);
  });
});
