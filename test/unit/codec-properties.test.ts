// Round-trip properties of Eddy's CloudEvents codec: for arbitrary valid events (1.0 and 0.3, random
// extensions of every CloudEvents type, random data and content types), parseMessage of what
// encodeBinary / encodeStructured / encodeBatch write gives back the same event, up to the changes
// docs/cloudevents.md documents (binary mode makes every attribute a string and writes the implied
// application/json; 0.3 structured adds datacontentencoding for bytes it cannot write otherwise).
// Fixed seed; `FUZZ_RUNS=5000 npx vitest run --project unit test/unit/codec-properties.test.ts` to dig deeper.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { binaryCanCarry, encodeBatch, encodeBinary, encodeStructured, type EncodedMessage } from "../../core/cloudevents/encode.js";
import { type AttrValue, attrString, type CloudEvent, CONTEXT_ATTRIBUTES, dataMediaType, isJsonMediaType } from "../../core/cloudevents/event.js";
import { parseMessage } from "../../core/cloudevents/http.js";
import { validateEvent } from "../../core/cloudevents/validate.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = 0x0edd7;
const opts = { seed: SEED, numRuns: RUNS };
const enc = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// --- arbitraries -------------------------------------------------------------------------------

const BAD_CHAR = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
/** Characters a CloudEvents String may hold, weighted towards the ones header encoding must escape. */
const char = fc.oneof(
  fc.constantFrom(" ", "%", '"', "\\", ",", ";", "=", "+", "/", "é", "€", "😀", "\u00a0", "\ufeff", "%41", "%zz"),
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xa0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)).filter((s) => !BAD_CHAR.test(s)),
);
const text = (min = 0, max = 24) => fc.string({ unit: char, minLength: min, maxLength: max });
const nonBlank = text(1).filter((s) => s.trim() !== "");
const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
const pad = (n: number, w = 2) => String(n).padStart(w, "0");
const timestamp = fc
  .record({
    d: fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }),
    frac: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
    zone: fc.oneof(fc.constantFrom("Z", "z"), fc.tuple(fc.constantFrom("+", "-"), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([s, h, m]) => `${s}${pad(h)}:${pad(m)}`)),
    t: fc.constantFrom("T", "t"),
  })
  .map(({ d, frac, zone, t }) => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}${t}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac ? "." + frac : ""}${zone}`);
const uriRef = fc.oneof(fc.webUrl(), fc.stringMatching(/^\/[a-z0-9/._~-]{0,20}$/), fc.constantFrom("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "1-555-123-4567"));
const base64 = fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString("base64"));
/** A value of each CloudEvents type: String, Integer, Boolean, URI, URI-reference, Timestamp, Binary. */
const extValue: fc.Arbitrary<AttrValue> = fc.oneof(text(), int32, fc.boolean(), fc.webUrl(), uriRef, timestamp, base64);
const extName = fc.stringMatching(/^[a-z0-9]{1,24}$/).filter((n) => !CONTEXT_ATTRIBUTES.has(n) && n !== "data");

const JSON_TYPES = ["application/json", "application/json; charset=utf-8", "text/json", "application/cloudevents+json", "application/vnd.eddy.order+json"];
const TEXT_TYPES = ["text/plain", "text/plain; charset=utf-8", "text/csv", "application/xml", "image/svg+xml"];
const BYTE_TYPES = ["application/octet-stream", "image/png", "application/vnd.apache.thrift.binary"];
/** Any RFC 2046 media type Eddy accepts: tokens, parameters with token or quoted values, optional whitespace. */
const token = fc.stringMatching(/^[A-Za-z0-9!#$&'*+.^_`|~-]{1,12}$/);
const quoted = text(0, 8).map((v) => `"${v.replace(/[\\"]/g, (c) => "\\" + c)}"`);
const ows = fc.constantFrom("", "", " ", "  ");
const mediaType = fc
  .tuple(ows, token, fc.constantFrom("json", "xml", "plain", "cloudevents+json", "vnd.x+json"), token, fc.array(fc.tuple(ows, token, ows, fc.oneof(token, quoted)), { maxLength: 3 }), fc.constantFrom("", ";", " "))
  .map(([lead, type, known, sub, params, tail]) => `${lead}${type === "A" ? "application" : type}/${sub.length % 2 ? known : sub}${params.map(([a, n, b, v]) => `${a};${b}${n}=${v}`).join("")}${tail}`)
  .filter((ct) => !/^\s*$/.test(ct));
const isJsonType = (ct: string) => isJsonMediaType(ct.split(";")[0]!.trim().toLowerCase());
const JSON_WS = fc.stringMatching(/^[ \t\r\n]{0,3}$/);
/** JSON text, compact or pretty-printed, sometimes with whitespace around it, sometimes over 1 KiB (another writer path). */
const jsonBytes = fc
  .tuple(fc.oneof(fc.json({ maxDepth: 3 }), text(1100, 1400).map((t) => JSON.stringify(t))), fc.boolean(), JSON_WS, JSON_WS)
  .map(([j, pretty, lead, trail]) => enc.encode(lead + (pretty ? JSON.stringify(JSON.parse(j), null, 2) : j) + trail));
const bytes = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ minLength: 1025, maxLength: 3000 }));
const anyBytes = fc.oneof(text(1, 40).map((s) => enc.encode(s)), bytes);

/** Content type and data together, since JSON types need JSON bytes. `ct` undefined means no datacontenttype. */
const payload = fc.oneof(
  fc.record({ ct: fc.constant(undefined), data: fc.constant(undefined), implied: fc.constant(false) }),
  fc.record({ ct: fc.constantFrom(...JSON_TYPES), data: fc.option(jsonBytes, { nil: undefined }), implied: fc.constant(false) }),
  fc.record({ ct: fc.constant(undefined), data: jsonBytes, implied: fc.constant(true) }),
  fc.record({ ct: fc.constantFrom(...TEXT_TYPES), data: anyBytes, implied: fc.constant(false) }),
  fc.record({ ct: fc.option(fc.constantFrom(...BYTE_TYPES), { nil: undefined }), data: bytes, implied: fc.constant(false) }),
  mediaType.chain((ct) => fc.record({ ct: fc.constant(ct), data: fc.option(isJsonType(ct) ? jsonBytes : anyBytes, { nil: undefined }), implied: fc.constant(false) })),
);

function cloudEvent(sv: "1.0" | "0.3"): fc.Arbitrary<CloudEvent> {
  return fc
    .record({
      id: nonBlank, source: nonBlank, type: nonBlank,
      subject: fc.option(nonBlank, { nil: undefined }),
      time: fc.option(timestamp, { nil: undefined }),
      schema: fc.option(sv === "1.0" ? fc.webUrl() : uriRef, { nil: undefined }),
      encoding: sv === "0.3" ? fc.option(fc.constantFrom("base64", "Base64", "BASE64"), { nil: undefined }) : fc.constant(undefined),
      ext: fc.dictionary(extName, extValue, { maxKeys: 5 }),
      p: payload,
    })
    .map(({ id, source, type, subject, time, schema, encoding, ext, p }) => {
      const attrs: Record<string, AttrValue> = { ...ext, specversion: sv, id, source, type };
      if (subject !== undefined) attrs.subject = subject;
      if (time !== undefined) attrs.time = time;
      if (schema !== undefined) attrs[sv === "1.0" ? "dataschema" : "schemaurl"] = schema;
      if (encoding !== undefined && !p.implied) attrs.datacontentencoding = encoding;
      if (p.ct !== undefined) attrs.datacontenttype = p.ct;
      const ev: CloudEvent = { attrs };
      if (p.data !== undefined) ev.data = p.data;
      if (p.implied) ev.impliedJson = true;
      return ev;
    });
}
const anyEvent = fc.oneof(cloudEvent("1.0"), cloudEvent("0.3"));

// --- the documented changes, and the round trip ------------------------------------------------

const is03Base64 = (ev: CloudEvent) =>
  ev.attrs.specversion === "0.3" && typeof ev.attrs.datacontentencoding === "string" && ev.attrs.datacontentencoding.toLowerCase() === "base64";
const isJsonWs = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
function trimJson(d: Uint8Array): Uint8Array {
  let a = 0;
  let z = d.length;
  while (isJsonWs(d[a])) a++;
  while (z > a && isJsonWs(d[z - 1])) z--;
  return d.subarray(a, z);
}
const isText = (mt: string) => mt.startsWith("text/") || mt === "application/xml" || mt.endsWith("+xml");
const isUtf8 = (b: Uint8Array) => {
  try {
    strictUtf8.decode(b);
    return true;
  } catch {
    return false;
  }
};

/** The event parseMessage should give back after `mode`, per docs/cloudevents.md "Data fidelity" and "CloudEvents 0.3". */
function expected(ev: CloudEvent, mode: "binary" | "structured"): CloudEvent {
  const out: CloudEvent = { attrs: { ...ev.attrs } };
  if (ev.data) out.data = ev.data;
  if (mode === "binary") {
    for (const k in out.attrs) out.attrs[k] = attrString(out.attrs[k]!);
    if (ev.impliedJson && ev.data) out.attrs.datacontenttype = "application/json";
    return out;
  }
  if (ev.impliedJson) out.impliedJson = true;
  const mt = dataMediaType(ev);
  // Whitespace around a JSON value is not part of it and cannot travel inside a structured event.
  if (ev.data && isJsonMediaType(mt) && !is03Base64(ev)) out.data = trimJson(ev.data);
  if (ev.attrs.specversion === "0.3" && ev.data && !is03Base64(ev) && !isJsonMediaType(mt) && !(isText(mt) && isUtf8(ev.data))) {
    out.attrs.datacontentencoding = "base64";
  }
  return out;
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : undefined);
const decode = (m: EncodedMessage) => parseMessage(new Headers(m.headers), m.body ?? new Uint8Array()).events;
function same(got: CloudEvent, want: CloudEvent): void {
  expect(got.attrs).toEqual(want.attrs);
  expect(hex(got.data)).toBe(hex(want.data));
  expect(!!got.impliedJson).toBe(!!want.impliedJson);
}

describe("codec round trips (fast-check)", () => {
  it("generates only valid events", () => {
    fc.assert(fc.property(anyEvent, (ev) => validateEvent(ev)), opts);
  });

  it("binary: parse(encodeBinary(ev)) is ev with string attributes (structured when binary cannot carry it)", () => {
    fc.assert(fc.property(anyEvent, (ev) => {
      const { events, mode } = parseMessage(new Headers(encodeBinary(ev).headers), encodeBinary(ev).body ?? new Uint8Array());
      expect(mode).toBe(binaryCanCarry(ev) ? "binary" : "structured");
      same(events[0]!, expected(ev, mode === "binary" ? "binary" : "structured"));
    }), opts);
  });

  it("structured: parse(encodeStructured(ev)) is ev, attribute types kept", () => {
    fc.assert(fc.property(anyEvent, (ev) => {
      const [back] = decode(encodeStructured(ev));
      same(back!, expected(ev, "structured"));
    }), opts);
  });

  it("batched: parse(encodeBatch(evs)) is each event, in order", () => {
    const batch = fc.constantFrom("1.0" as const, "0.3" as const).chain((sv) => fc.array(cloudEvent(sv), { maxLength: 5 }));
    fc.assert(fc.property(batch, (evs) => {
      const { mode, events } = parseMessage(new Headers(encodeBatch(evs).headers), encodeBatch(evs).body!);
      expect(mode).toBe("batch");
      expect(events.length).toBe(evs.length);
      evs.forEach((ev, i) => same(events[i]!, expected(ev, "structured")));
    }), opts);
  });

  it("binary then structured then binary again changes nothing more", () => {
    fc.assert(fc.property(anyEvent, (ev) => {
      const once = decode(encodeBinary(ev))[0]!;
      const again = decode(encodeStructured(once))[0]!;
      same(decode(encodeBinary(again))[0]!, expected(expected(once, "structured"), binaryCanCarry(again) ? "binary" : "structured"));
    }), opts);
  });
});

describe("regressions the properties found", () => {
  const base = { specversion: "1.0", id: "outer", source: "/s", type: "t" };

  it("an event whose data is a structured CloudEvent is not delivered as that inner event", () => {
    const inner = JSON.stringify({ specversion: "1.0", id: "inner", source: "/inner", type: "inner.type", data: { x: 1 } });
    const ev: CloudEvent = { attrs: { ...base, datacontenttype: "application/cloudevents+json" }, data: enc.encode(inner) };
    const m = encodeBinary(ev);
    // In binary mode this Content-Type makes every receiver read the body as the event itself.
    expect(m.headers["Content-Type"]).toBe("application/cloudevents+json; charset=utf-8");
    const [back] = decode(m);
    expect(back!.attrs).toEqual(ev.attrs);
    expect(new TextDecoder().decode(back!.data)).toBe(inner);
    const batchType: CloudEvent = { attrs: { ...base, datacontenttype: "application/cloudevents-batch+json" }, data: enc.encode("[]") };
    expect(decode(encodeBinary(batchType))[0]!.attrs).toEqual(batchType.attrs);
  });

  it("a datacontenttype that is no faithful header value goes structured instead of failing or changing", () => {
    const euro: CloudEvent = { attrs: { ...base, datacontenttype: 'text/plain; note="5 €"' }, data: enc.encode("x") };
    expect(() => new Headers(encodeBinary(euro).headers)).not.toThrow(); // Fetch refuses code points above U+00FF
    expect(decode(encodeBinary(euro))[0]!.attrs).toEqual(euro.attrs);
    const spaced: CloudEvent = { attrs: { ...base, datacontenttype: " text/plain" }, data: enc.encode("x") };
    expect(decode(encodeBinary(spaced))[0]!.attrs.datacontenttype).toBe(" text/plain"); // Fetch would trim it
    const plain: CloudEvent = { attrs: { ...base, datacontenttype: "text/plain; charset=utf-8" }, data: enc.encode("x") };
    expect(encodeBinary(plain).headers["Content-Type"]).toBe("text/plain; charset=utf-8");
  });
});
