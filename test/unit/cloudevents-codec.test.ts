import { CloudEvent as SdkEvent, HTTP } from "cloudevents";
import { describe, expect, it } from "vitest";
import { encodeBatch, encodeBinary, encodeStructured } from "../../core/cloudevents/encode.js";
import type { AttrValue, CloudEvent } from "../../core/cloudevents/event.js";
import { CloudEventError, isCloudEventMessage, parseMessage, validateEvent } from "../../core/cloudevents/http.js";
import { percentDecode, percentEncode } from "../../core/cloudevents/percent.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const base = { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t" };
const CE_JSON = { "Content-Type": "application/cloudevents+json; charset=UTF-8" };
const BATCH = { "Content-Type": "application/cloudevents-batch+json" };
const ev = (extra: Record<string, unknown> = {}) => ({ specversion: "1.0", id: "1", source: "/s", type: "t", ...extra });

const parse = (headers: Record<string, string>, body: string | Uint8Array = "") =>
  parseMessage(new Headers(headers), typeof body === "string" ? enc.encode(body) : body).events;
const one = (headers: Record<string, string>, body: string | Uint8Array = "") => parse(headers, body)[0]!;
const st = (obj: unknown) => one(CE_JSON, JSON.stringify(obj));
const reparse = (m: { headers: Record<string, string>; body: Uint8Array | null }) => one(m.headers, m.body ?? new Uint8Array());
const text = (e: CloudEvent) => (e.data ? dec.decode(e.data) : undefined);

function rejects(fn: () => unknown, pattern: RegExp, status = 400) {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected a rejection matching ${pattern}`).toBeInstanceOf(CloudEventError);
  expect((err as CloudEventError).status).toBe(status);
  expect((err as Error).message).toMatch(pattern);
}
const rejectsBinary = (h: Record<string, string>, body: string, re: RegExp) => rejects(() => parse({ ...base, ...h }, body), re);
const rejectsStructured = (obj: unknown, re: RegExp) => rejects(() => st(obj), re);

describe("percent-encoding of ce- header values", () => {
  it.each([
    ["Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀"],
    ["%41%62c", "Abc"], // needlessly encoded
    ["%e2%82%ac", "€"], // lower-case hex
    ["%2541", "%41"], // exactly one round
    ["100%", "100%"], // stray % passes through
    ["a%zzb%4", "a%zzb%4"],
    ["%41%zz", "A%zz"],
    ["plain value", "plain value"], // raw spaces pass through
    ["café €", "café €"], // raw characters are already text
    ['"quoted \\"value\\""', 'quoted "value"'],
    ['"a%20b"', "a b"], // unquote first, then decode
    ['"a" b', '"a" b'], // not one quoted-string: literal
    ['"open', '"open'],
  ])("decodes %j to %j", (input, out) => expect(percentDecode(input)).toBe(out));

  it.each(["%C0%A0", "%FF", "%E2%82", "%ED%A0%80", "ok%80"])("refuses %s: not UTF-8 (overlong forms included)", (input) =>
    rejects(() => percentDecode(input, "header ce-x"), /ce-x.*not valid UTF-8/),
  );

  it.each([
    ["Euro € 😀", "Euro%20%E2%82%AC%20%F0%9F%98%80"],
    ['a"b%c', "a%22b%25c"],
    ["tab\there\u007f", "tab%09here%7F"],
    ["é", "%C3%A9"],
    ["\ud800x", "%EF%BF%BDx"], // a lone surrogate is written as U+FFFD, like TextEncoder
    ["/plain/path?q=1&r=~", "/plain/path?q=1&r=~"],
  ])("encodes %j as %j", (input, out) => expect(percentEncode(input)).toBe(out));

  it("decodes what it encodes", () => {
    for (const s of ["", "100% sure", '"quoted"', "ä ö ü ß", "😀🎉 mixed ascii", "%41 literal", "\u0080\u07ff\u0800\uffff"]) {
      expect(percentDecode(percentEncode(s))).toBe(s);
    }
  });
});

describe("binary mode", () => {
  it("reads ce- headers (any case), datacontenttype from Content-Type, and keeps the body array as data", () => {
    const body = enc.encode('{"a": 1}');
    const { mode, events } = parseMessage(new Headers({ ...base, "ce-subject": "a%20b", "Ce-MyExt": "x", "Content-Type": "application/json" }), body);
    expect(mode).toBe("binary");
    expect(events[0]!.attrs).toEqual({ specversion: "1.0", id: "1", source: "/s", type: "t", subject: "a b", myext: "x", datacontenttype: "application/json" });
    expect(events[0]!.data).toBe(body);
  });
  it("has neither data nor datacontenttype without a body and a Content-Type", () => {
    const e = one(base);
    expect(e.data).toBeUndefined();
    expect("datacontenttype" in e.attrs).toBe(false);
    expect(one({ ...base, "Content-Type": "application/json" }).data).toBeUndefined(); // empty body: no data, not bad JSON
  });
  it("says which headers a CloudEvent needs", () => {
    rejects(() => parse({ "ce-id": "1", "Content-Type": "application/json" }, "{}"), /not a CloudEvent.*ce-specversion, ce-id, ce-source and ce-type/);
    for (const a of ["id", "source", "type"]) {
      const h: Record<string, string> = { ...base };
      delete h[`ce-${a}`];
      rejects(() => parse(h), new RegExp(`"${a}".*ce-${a}`));
      rejectsBinary({ [`ce-${a}`]: "" }, "", new RegExp(`"${a}" must be a non-empty`));
    }
    rejectsBinary({ "ce-specversion": "" }, "", /"specversion"/);
  });
  it("refuses unknown specversions", () => {
    rejectsBinary({ "ce-specversion": "19.0" }, "", /specversion "19\.0"/);
    rejectsBinary({ "ce-specversion": "1" }, "", /specversion "1"/);
  });
  it("refuses header names that are not attribute names, and ce-data", () => {
    rejectsBinary({ "ce-my_ext": "x" }, "", /ce-my_ext/);
    rejectsBinary({ "ce-my-ext": "x" }, "", /ce-my-ext/);
    rejectsBinary({ "ce-data": "x" }, "", /ce-data.*body/);
  });
  it.each(["2018-04-05 03:56:24Z", "2018-13-01T00:00:00Z", "2019-02-29T00:00:00Z", "2018-04-05T24:00:00Z", "2018-04-05T03:56:24+2:00", "2018-04-05T03:56:24", "now"])(
    "refuses time %j",
    (time) => rejectsBinary({ "ce-time": time }, "", /"time".*RFC 3339/),
  );
  it.each(["2018-04-26T14:48:09.123456789+02:00", "2018-04-26t14:48:09z", "2016-12-31T23:59:60Z", "2020-02-29T00:00:00-23:59"])("accepts time %j", (time) =>
    expect(one({ ...base, "ce-time": time }).attrs.time).toBe(time),
  );
  it("checks control characters after percent-decoding", () => {
    rejectsBinary({ "ce-subject": "a%0Ab" }, "", /"subject".*control character \(U\+000A\)/);
    rejectsBinary({ "ce-myext": "%C2%85" }, "", /"myext".*control character \(U\+0085\)/);
    rejectsBinary({ "ce-myext": "a\tb" }, "", /"myext".*control character/);
    rejectsBinary({ "ce-myext": "%EF%BF%BE" }, "", /"myext".*noncharacter/);
    rejectsBinary({ "ce-myext": "%C0%A0" }, "", /ce-myext.*UTF-8/);
  });
  it("checks dataschema, subject and the media type", () => {
    rejectsBinary({ "ce-dataschema": "relative/path" }, "", /"dataschema".*absolute URI/);
    expect(one({ ...base, "ce-dataschema": "urn:example:schema" }).attrs.dataschema).toBe("urn:example:schema");
    rejectsBinary({ "ce-subject": "" }, "", /"subject" is empty/);
    for (const ct of ["json", "", "text/plain; charset", "text/ plain", "a/b; c=\"open"]) rejectsBinary({ "Content-Type": ct }, "x", /"datacontenttype".*media type/);
    for (const ct of ["text/plain;charset=utf-8;", 'multipart/mixed; boundary="a b"', "Application/JSON ; Charset = UTF-8"]) {
      expect(one({ ...base, "Content-Type": ct }, "{}").attrs.datacontenttype).toBe(ct);
    }
  });
  it("reads ce-datacontenttype only when there is no Content-Type", () => {
    expect(one({ ...base, "ce-datacontenttype": "text/plain" }, "hi").attrs.datacontenttype).toBe("text/plain");
    expect(one({ ...base, "ce-datacontenttype": "application/json;charset=utf-8", "Content-Type": "Application/JSON; charset=UTF-8" }, "{}").attrs.datacontenttype).toBe(
      "Application/JSON; charset=UTF-8",
    );
    rejectsBinary({ "ce-datacontenttype": "text/plain", "Content-Type": "application/json" }, "{}", /ce-datacontenttype.*Content-Type/);
    rejectsBinary({ "ce-datacontenttype": "application/json" }, "{nope", /not valid JSON/);
  });
  it("refuses a body that is not the JSON its Content-Type promises", () => {
    for (const ct of ["application/json", "application/vnd.x+json; charset=utf-8", "text/json"]) rejectsBinary({ "Content-Type": ct }, "nope", /not valid JSON.*content type/);
    rejectsBinary({ "Content-Type": "application/json" }, "\n", /not valid JSON/);
    expect(text(one({ ...base, "Content-Type": "text/plain" }, "nope"))).toBe("nope");
    expect(text(one({ ...base, "Content-Type": "application/json" }, ' {"a":1}\n'))).toBe(' {"a":1}\n');
  });
  it("accepts what the spec allows: long and digit-first names, relative source, quoted and needlessly encoded values", () => {
    const e = one({ ...base, "ce-abcdefghijklmnopqrstuvwxyz": "1", "ce-1ext": "2", "ce-source": "1-555-123-4567", "ce-quoted": '"a \\"b\\""', "ce-enc": "%41" });
    expect(e.attrs).toMatchObject({ abcdefghijklmnopqrstuvwxyz: "1", "1ext": "2", source: "1-555-123-4567", quoted: 'a "b"', enc: "A" });
  });
});

describe("structured mode", () => {
  it("keeps the data member's exact bytes and the attributes' JSON types", () => {
    const body = '{"specversion":"1.0","id":"1","source":"/s","type":"t","myint":42,"mybool":true,"neg":-2147483648,"datacontenttype":"application/json","data":{"b":1,  "a":[1.50]}}';
    const e = one({ "Content-Type": "Application/CloudEvents+JSON" }, body);
    expect(text(e)).toBe('{"b":1,  "a":[1.50]}');
    expect(e.attrs).toMatchObject({ myint: 42, mybool: true, neg: -2147483648 });
    const bin = encodeBinary(e);
    expect(dec.decode(bin.body!)).toBe('{"b":1,  "a":[1.50]}');
    expect(bin.headers).toMatchObject({ "ce-myint": "42", "ce-mybool": "true", "Content-Type": "application/json" });
  });
  it("slices data correctly past escapes, nesting, escaped keys, duplicates and a byte order mark", () => {
    const raw = '{"s": "a\\"}b\\\\", "t": "]", "u": [{"v": "\\u00e9😀"}]}';
    expect(text(one(CE_JSON, `{"specversion":"1.0","id":"1","source":"/s","type":"t","data": ${raw} }`))).toBe(raw);
    expect(text(one(CE_JSON, '{"d\\u0061ta":[1 ,2],"specversion":"1.0","id":"1","source":"/s","type":"t"}'))).toBe("[1 ,2]");
    expect(text(one(CE_JSON, '{"data":1,"specversion":"1.0","id":"1","source":"/s","type":"t","data":"last"}'))).toBe('"last"');
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(JSON.stringify(ev({ data: { x: "é" } })))]);
    expect(text(one(CE_JSON, bom))).toBe('{"x":"é"}');
  });
  it("slices exactly the data text of generated documents (escapes at every position, nesting, spacing)", () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const ws = () => [" ", "", "\n", "\t ", ""][rnd(5)]!;
    const pool = ['"', "\\", "a", "é", "😀", "]", "}", "{", ",", ":", "\n", "x"];
    const gen = (depth: number): string => {
      const k = depth > 2 ? rnd(3) : rnd(6);
      if (k === 0) return JSON.stringify(Array.from({ length: rnd(80) }, () => pool[rnd(pool.length)]).join(""));
      if (k === 1) return ["-0.5e+3", "12", "true", "false", "null", "0"][rnd(6)]!;
      if (k === 2) return `"${"\\\\".repeat(rnd(40))}"`; // runs of escaped backslashes across the 32-byte mark
      if (k === 3) return `[${ws()}${Array.from({ length: rnd(4) }, () => gen(depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
      return `{${ws()}${Array.from({ length: rnd(4) }, (_, i) => `"k${i}\\"x"${ws()}:${ws()}${gen(depth + 1)}`).join(",")}${ws()}}`;
    };
    for (let n = 0; n < 300; n++) {
      const raw = gen(0);
      const body = `{${ws()}"id":"1",${ws()}"data"${ws()}:${ws()}${raw}${ws()},"specversion":"1.0","source":"/s","type":"t"}`;
      expect(text(one(CE_JSON, body))).toBe(raw);
    }
  });
  it("implies application/json without datacontenttype, and writes it out in binary mode", () => {
    const e = st(ev({ data: "x" }));
    expect(e.impliedJson).toBe(true);
    expect(text(e)).toBe('"x"'); // a JSON string is a JSON value: the quotes are part of it
    expect(encodeBinary(e).headers["Content-Type"]).toBe("application/json");
    expect(reparse(encodeBinary(e)).attrs.datacontenttype).toBe("application/json");
  });
  it("decodes data_base64, and keeps text data as its UTF-8 bytes", () => {
    expect([...st(ev({ data_base64: "AAEC/w==" })).data!]).toEqual([0, 1, 2, 255]);
    expect([...st(ev({ data_base64: "AAEC\n/w" })).data!]).toEqual([0, 1, 2, 255]); // whitespace, no padding
    expect(st(ev({ data_base64: "AAE=", data: null })).data).toHaveLength(2);
    expect(text(st(ev({ datacontenttype: "text/plain", data: "héllo\n" })))).toBe("héllo\n");
    expect(text(st(ev({ datacontenttype: "application/json", data_base64: btoa('{"a":1}') })))).toBe('{"a":1}');
  });
  it("treats null attributes as unset, and a null JSON payload as the JSON text null", () => {
    const e = st(ev({ subject: null, datacontenttype: null, myext: null }));
    expect(Object.keys(e.attrs).sort()).toEqual(["id", "source", "specversion", "type"]);
    expect(text(st(ev({ datacontenttype: "application/json", data: null })))).toBe("null");
    expect(st(ev({ datacontenttype: "text/plain", data: null })).data).toBeUndefined();
  });
  it("refuses bodies that are not one JSON event object", () => {
    rejects(() => parse(CE_JSON, "{"), /structured-mode body is not valid JSON/);
    rejects(() => parse(CE_JSON, new Uint8Array([0x7b, 0xff, 0x7d])), /not valid UTF-8/);
    for (const body of ["[]", '"x"', "null", "1"]) rejects(() => parse(CE_JSON, body), /structured-mode body is a JSON|JSON null/);
  });
  it("refuses bad names, nested or non-int32 values, both data forms, bad base64 and bad data", () => {
    for (const name of ["My-Ext", "my_ext", "MYEXT", ""]) rejectsStructured(ev({ [name]: "x" }), new RegExp(`name ${JSON.stringify(name)}`));
    rejectsStructured(ev({ "Bad-Name": null }), /name "Bad-Name"/);
    rejectsStructured(ev({ ext: { a: 1 } }), /"ext" is an object/);
    rejectsStructured(ev({ ext: [1] }), /"ext" is an array/);
    for (const n of [1.5, 2 ** 31, -(2 ** 31) - 1, 1e20]) rejectsStructured(ev({ ext: n }), /"ext".*2147483647/);
    for (const n of ["1.0", "1e3", "10E-1"]) rejects(() => parse(CE_JSON, `{"specversion":"1.0","id":"1","source":"/s","type":"t","ext":${n}}`), /"ext".*without fraction or exponent/);
    rejectsStructured(ev({ data: 1, data_base64: "AA==" }), /both "data" and "data_base64"/);
    for (const b of ["!!", "A", "AA=A"]) rejectsStructured(ev({ data_base64: b }), /"data_base64" is not valid base64/);
    rejectsStructured(ev({ data_base64: 5 }), /"data_base64" must be a base64 string/);
    rejectsStructured(ev({ datacontenttype: "application/json", data_base64: "AAE=" }), /not valid JSON/);
    rejectsStructured(ev({ datacontenttype: "text/plain", data: { a: 1 } }), /"data" must be a string when datacontenttype is text\/plain/);
  });
  it("refuses bad attribute values", () => {
    rejectsStructured(ev({ specversion: 1.0 }), /unsupported specversion 1:.*string "1\.0"/);
    rejectsStructured(ev({ id: 5 }), /"id" must be a non-empty string/);
    rejectsStructured(ev({ source: "  " }), /"source" must be a non-empty string/);
    rejectsStructured(ev({ type: null }), /missing required attribute "type"/);
    rejectsStructured(ev({ subject: "" }), /"subject" is empty/);
    rejectsStructured(ev({ subject: 5 }), /"subject" must be a string/);
    rejectsStructured(ev({ datacontenttype: "" }), /"datacontenttype"/);
    rejectsStructured(ev({ time: "yesterday" }), /"time"/);
    rejectsStructured(ev({ myext: "a\u0001b" }), /"myext".*control character \(U\+0001\)/);
    rejectsStructured(ev({ myext: "a\u009fb" }), /"myext".*control character \(U\+009F\)/);
    rejects(() => parse(CE_JSON, '{"specversion":"1.0","id":"1","source":"/s","type":"t","myext":"\\ud800"}'), /"myext".*unpaired surrogate/);
    rejectsStructured(ev({ myext: "\ufffe" }), /"myext".*noncharacter/);
  });
  it("accepts names over 20 characters, digit-first names, relative sources and unknown extensions", () => {
    const e = st(ev({ abcdefghijklmnopqrstuvwxyz: 1, "1st": true, source: "1-555-123-4567", emoji: "😀" }));
    expect(e.attrs).toMatchObject({ abcdefghijklmnopqrstuvwxyz: 1, "1st": true, source: "1-555-123-4567", emoji: "😀" });
  });
  it("answers 415 for CloudEvents formats other than JSON", () => {
    rejects(() => parse({ "Content-Type": "application/cloudevents+avro" }, "x"), /cloudevents\+avro.*application\/cloudevents\+json/, 415);
    rejects(() => parse({ "Content-Type": "application/cloudevents-batch+protobuf" }, "x"), /cloudevents-batch\+protobuf/, 415);
  });
});

describe("CloudEvents 0.3", () => {
  const v03 = (extra: Record<string, unknown> = {}) => ev({ specversion: "0.3", ...extra });
  it("decodes base64 data and writes it back with the attribute as it was", () => {
    const e = st(v03({ datacontentencoding: "Base64", datacontenttype: "application/octet-stream", schemaurl: "../schema", data: "AAH/" }));
    expect([...e.data!]).toEqual([0, 1, 255]);
    expect(JSON.parse(dec.decode(encodeStructured(e).body!))).toMatchObject({ specversion: "0.3", datacontentencoding: "Base64", data: "AAH/" });
    const bin = encodeBinary(e);
    expect(bin.headers).toMatchObject({ "ce-specversion": "0.3", "ce-datacontentencoding": "Base64", "ce-schemaurl": "../schema" });
    expect([...bin.body!]).toEqual([0, 1, 255]); // binary mode carries the bytes themselves
    for (const back of [reparse(bin), reparse(encodeStructured(e))]) {
      expect(back.attrs).toEqual(e.attrs);
      expect([...back.data!]).toEqual([0, 1, 255]);
    }
  });
  it("adds datacontentencoding base64 for bytes that 0.3 JSON cannot carry otherwise", () => {
    const e = one({ ...base, "ce-specversion": "0.3", "Content-Type": "application/octet-stream" }, new Uint8Array([0, 1, 255]));
    const back = reparse(encodeStructured(e));
    expect(back.attrs).toEqual({ ...e.attrs, datacontentencoding: "base64" });
    expect([...back.data!]).toEqual([0, 1, 255]);
  });
  it("keeps JSON and text data as usual", () => {
    expect(text(st(v03({ data: { a: 1 } })))).toBe('{"a":1}');
    expect(text(reparse(encodeStructured(st(v03({ datacontenttype: "text/xml", data: "<a/>" })))))).toBe("<a/>");
  });
  it("refuses what 0.3 does not define", () => {
    rejectsStructured(v03({ datacontentencoding: "7bit", data: "x" }), /"datacontentencoding".*"base64"/);
    rejectsStructured(v03({ data_base64: "AA==" }), /"data_base64" is CloudEvents 1\.0/);
    rejectsStructured(v03({ datacontentencoding: "base64", data: { a: 1 } }), /must be a base64 string/);
    rejectsStructured(v03({ schemaurl: "" }), /"schemaurl"/);
  });
});

describe("batched mode", () => {
  it("reads each event on its own, slicing each one's data; an empty batch is valid", () => {
    const body = `[ ${JSON.stringify(ev({ id: "a", data: { n: 1 } }))} ,\n${JSON.stringify(ev({ id: "b", data_base64: "AAE=" }))}, {"specversion":"1.0","id":"c","source":"/s","type":"t","data": [ 2 ]}]`;
    const { mode, events } = parseMessage(new Headers(BATCH), enc.encode(body));
    expect(mode).toBe("batch");
    expect(events.map((e) => e.attrs.id)).toEqual(["a", "b", "c"]);
    expect([text(events[0]!), [...events[1]!.data!], text(events[2]!)]).toEqual(['{"n":1}', [0, 1], "[ 2 ]"]);
    expect(parseMessage(new Headers(BATCH), enc.encode(" [ ] ")).events).toEqual([]);
  });
  it("refuses non-arrays, non-object entries, invalid entries and mixed specversions, naming the entry", () => {
    rejects(() => parse(BATCH, "{}"), /batch body is a JSON object.*JSON array/);
    rejects(() => parse(BATCH, "[1"), /batch body is not valid JSON/);
    rejects(() => parse(BATCH, JSON.stringify([ev(), "x"])), /batch entry 1 is a JSON string/);
    rejects(() => parse(BATCH, JSON.stringify([ev(), { ...ev({ id: "x" }), type: "" }])), /batch entry 1 \(id "x"\).*"type"/);
    rejects(() => parse(BATCH, JSON.stringify([ev(), ev({ specversion: "0.3" })])), /batch entry 1 has specversion "0\.3".*share one specversion/);
  });
});

describe("encoding and round trips", () => {
  const samples: CloudEvent[] = [
    { attrs: { specversion: "1.0", id: "j", source: "/s", type: "t", datacontenttype: "application/json", myint: 7, mybool: false }, data: enc.encode('{"x": [1, 2.50]}') },
    { attrs: { specversion: "1.0", id: "b", source: "/s", type: "t", datacontenttype: "application/octet-stream", subject: 'Euro € 😀 "q" 100%' }, data: new Uint8Array([0, 255, 10]) },
    { attrs: { specversion: "1.0", id: "x", source: "/s", type: "t", datacontenttype: "application/atom+xml" }, data: enc.encode("<a>é</a>\n") },
    { attrs: { specversion: "1.0", id: "u", source: "/s", type: "t" }, data: new Uint8Array([1, 2]) },
    { attrs: { specversion: "1.0", id: "i", source: "/s", type: "t" }, data: enc.encode('{"implied":true}'), impliedJson: true },
    { attrs: { specversion: "1.0", id: "n", source: "/s", type: "t", time: "2018-04-26T14:48:09.123456789+02:00" } },
    { attrs: { specversion: "0.3", id: "o", source: "/s", type: "t", schemaurl: "/x", datacontenttype: "text/plain" }, data: enc.encode("hi") },
  ];
  const bytes = (e: CloudEvent) => (e.data ? [...e.data] : undefined);
  it.each(samples.map((s) => [s.attrs.id, s] as const))("event %s survives structured mode exactly and binary mode as strings", (_id, s) => {
    const j = reparse(encodeStructured(s));
    expect(j.attrs).toEqual(s.attrs);
    expect(bytes(j)).toEqual(bytes(s));
    expect(j.impliedJson).toBe(s.impliedJson);
    const bin = encodeBinary(s);
    expect(bin.body).toBe(s.data ?? null);
    const b = reparse(bin);
    const strings: Record<string, AttrValue> = Object.fromEntries(Object.entries(s.attrs).map(([k, v]) => [k, String(v)]));
    expect(b.attrs).toEqual(s.impliedJson ? { ...strings, datacontenttype: "application/json" } : strings);
    expect(bytes(b)).toEqual(bytes(s));
  });
  it("writes JSON data as-is, text as a JSON string, anything else as data_base64", () => {
    const body = (i: number) => dec.decode(encodeStructured(samples[i]!).body!);
    expect(body(0)).toContain('"myint":7,"mybool":false,"data":{"x": [1, 2.50]}}');
    expect(body(1)).toContain('"data_base64":"AP8K"');
    expect(body(2)).toContain('"data":"<a>é</a>\\n"');
    expect(body(3)).toContain('"data_base64":"AQI="'); // no datacontenttype: never assume JSON
    expect(dec.decode(encodeStructured({ attrs: ev({ datacontenttype: "text/plain" }) as CloudEvent["attrs"], data: new Uint8Array([0xff]) }).body!)).toContain('"data_base64":"/w=="');
    expect(encodeStructured(samples[0]!).headers).toEqual({ "Content-Type": "application/cloudevents+json; charset=utf-8" });
  });
  it("percent-encodes every ce- header and nothing else", () => {
    const { headers } = encodeBinary(samples[1]!);
    expect(headers).toEqual({
      "ce-specversion": "1.0", "ce-id": "b", "ce-source": "/s", "ce-type": "t",
      "Content-Type": "application/octet-stream", "ce-subject": "Euro%20%E2%82%AC%20%F0%9F%98%80%20%22q%22%20100%25",
    });
  });
  it("keeps a 36,864-byte text payload intact through every mode", () => {
    const payload = Array.from({ length: 36864 / 64 }, (_, i) => `line ${String(i).padStart(5, "0")} "quoted" \\ tab\t é €${"x".repeat(30)}\n`).join("");
    expect(enc.encode(payload).length).toBe(36864);
    const e = one({ ...base, "Content-Type": "text/plain; charset=utf-8" }, payload);
    const viaStructured = reparse(encodeStructured(e));
    expect(text(viaStructured)).toBe(payload);
    expect(text(reparse(encodeBinary(viaStructured)))).toBe(payload);
    const json = enc.encode(JSON.stringify({ text: payload }));
    const j = one({ ...base, "Content-Type": "application/json" }, json);
    expect([...reparse(encodeStructured(j)).data!]).toEqual([...json]);
  });
  it("writes a batch as a JSON array of structured events", () => {
    const v1 = samples.filter((s) => s.attrs.specversion === "1.0");
    const out = encodeBatch(v1);
    expect(out.headers["Content-Type"]).toBe("application/cloudevents-batch+json; charset=utf-8");
    const events = parse(out.headers, out.body!);
    expect(events.map((e) => e.attrs)).toEqual(v1.map((s) => s.attrs));
    expect(events.map(bytes)).toEqual(v1.map(bytes));
    expect(dec.decode(encodeBatch([]).body!)).toBe("[]");
  });
});

describe("isCloudEventMessage and validateEvent", () => {
  it("recognises CloudEvent messages by ce-specversion or a CloudEvents media type", () => {
    expect(isCloudEventMessage(new Headers({ "CE-SpecVersion": "1.0" }))).toBe(true);
    expect(isCloudEventMessage(new Headers({ "Content-Type": "Application/CloudEvents+JSON; charset=utf-8" }))).toBe(true);
    expect(isCloudEventMessage(new Headers({ "Content-Type": "application/cloudevents-batch+json" }))).toBe(true);
    expect(isCloudEventMessage(new Headers({ "Content-Type": "text/plain", "ce-id": "1" }))).toBe(false);
    expect(isCloudEventMessage(new Headers())).toBe(false);
  });
  it("checks events Eddy builds itself, data included", () => {
    const attrs = { specversion: "1.0", id: "1", source: "/s", type: "t" };
    expect(() => validateEvent({ attrs: { ...attrs, time: "now" } })).toThrow(/RFC 3339/);
    expect(() => validateEvent({ attrs: { ...attrs, datacontenttype: "application/json" }, data: enc.encode("{oops") })).toThrow(/not valid JSON/);
    expect(() => validateEvent({ attrs, data: enc.encode("{oops"), impliedJson: true })).toThrow(CloudEventError);
    expect(() => validateEvent({ attrs: { ...attrs, datacontenttype: "text/plain" }, data: enc.encode("{oops") })).not.toThrow();
    expect(() => validateEvent({ attrs: { ...attrs, myint: 3, mybool: true } })).not.toThrow();
  });
});

describe("the official cloudevents SDK as an independent emitter", () => {
  const cases: [string, Record<string, unknown>][] = [
    ["JSON data", { datacontenttype: "application/json", data: { hello: "wörld", n: [1, 2] } }],
    ["bytes", { datacontenttype: "application/octet-stream", data: new Uint8Array([0, 1, 254, 255]) }],
    ["text", { datacontenttype: "text/plain", data: "plain text\n" }],
    ["no data", {}],
  ];
  it.each(cases)("%s: binary and structured messages parse to the SDK event's attributes and data", (_name, extra) => {
    const sdk = new SdkEvent({ specversion: "1.0", id: "sdk-1", source: "/sdk", type: "com.example.sdk", subject: "a b 100%", myext: "v", myint: 5, mybool: true, ...extra });
    const expected: Record<string, AttrValue> = { specversion: "1.0", id: "sdk-1", source: "/sdk", type: "com.example.sdk", subject: "a b 100%", myext: "v", myint: 5, mybool: true, time: sdk.time! };
    if (extra.datacontenttype) expected.datacontenttype = extra.datacontenttype as string;
    const want = extra.data instanceof Uint8Array ? [...extra.data] : extra.data === undefined ? undefined : typeof extra.data === "string" ? [...enc.encode(extra.data)] : extra.data;
    for (const mode of ["binary", "structured"] as const) {
      const msg = mode === "binary" ? HTTP.binary(sdk) : HTTP.structured(sdk);
      const headers = Object.fromEntries(Object.entries(msg.headers).map(([k, v]) => [k, String(v)]));
      const body = msg.body === undefined || msg.body === null ? new Uint8Array() : typeof msg.body === "string" ? enc.encode(msg.body) : (msg.body as Uint8Array);
      const { mode: got, events } = parseMessage(new Headers(headers), body);
      const e = events[0]!;
      expect(got).toBe(mode);
      // Binary mode carries every attribute as a string; the SDK also adds time and a default Content-Type.
      const attrs = mode === "binary" ? Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, String(v)])) : expected;
      expect(e.attrs).toMatchObject(attrs);
      const data = e.data === undefined ? undefined : extra.data !== undefined && typeof extra.data === "object" && !(extra.data instanceof Uint8Array) ? JSON.parse(dec.decode(e.data)) : [...e.data];
      expect(data).toEqual(want);
    }
  });
  it("reads a 0.3 event from the SDK", () => {
    const sdk = new SdkEvent({ specversion: "0.3", id: "o", source: "/sdk", type: "t", schemaurl: "http://x/s", data: { a: 1 } });
    for (const msg of [HTTP.binary(sdk), HTTP.structured(sdk)]) {
      const e = one(msg.headers as Record<string, string>, msg.body as string);
      expect(e.attrs).toMatchObject({ specversion: "0.3", schemaurl: "http://x/s", time: sdk.time });
      expect(JSON.parse(text(e)!)).toEqual({ a: 1 });
    }
  });
});
