// Generators for the HTTP fuzz suites: adversarial methods, path segments, header names and values,
// content types and bodies. Everything here is deterministic under fast-check's seed.
import fc from "fast-check";

const enc = new TextEncoder();

/** Methods: mostly POST (the interesting path), plus every other verb and a few made-up tokens. */
export const method = fc.oneof(
  { weight: 6, arbitrary: fc.constant("POST") },
  { weight: 3, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD") },
  { weight: 1, arbitrary: fc.constantFrom("FOO", "post", "PROPFIND", "CONNECTX", "M-SEARCH") },
);

// Header values: visible ASCII, space and tab. Fetch refuses CR, LF and NUL, and would send other
// bytes as UTF-8 with a warning per request; percent-escapes below reach the UTF-8 paths instead.
const headerChar = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constant(0x09) },
).map((c) => String.fromCharCode(c));

/** Header values: printable, percent-escapes (valid and broken), quoted, empty, and 16 KiB long. */
export const headerValue = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: headerChar, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom("", " ", "%", "%zz", "%E2%82", "%C0%A0", "%ED%A0%80", "%00", "\"quoted\"", "\"unterminated", "1.0", "0.3", "2.0", "%31.0") },
  { weight: 1, arbitrary: fc.nat({ max: 3 }).map((i) => ["a", "%41", "%E2%82%AC", "x "][i]!.repeat(4096)) },
);

/** Percent-encoded or odd path segments; the caller joins them with `/`. */
export const segment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9][-a-z0-9]{0,12}$/) },
  { weight: 2, arbitrary: fc.constantFrom("", ".", "..", "%2F", "%2e%2e", "%zz", "%", "%E2%82", "%C3%A9", "A", "UPPER", "a b", "a%20b", "é", "😀", "?x=1", "#frag", ";p=1") },
  { weight: 1, arbitrary: fc.nat({ max: 2 }).map((i) => ["x", "%41", "-"][i]!.repeat(3000)) },
);

export const contentType = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("application/json", "application/cloudevents+json", "application/cloudevents-batch+json", "text/plain") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "APPLICATION/CLOUDEVENTS+JSON; charset=utf-8", "application/cloudevents-batch+json;;", "application/cloudevents+xml",
      "application/cloudevents-batch+avro", "application/cloudevents", "application/json; charset=\"", "text/json", "application/vnd.x+json",
      "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/octet-stream", "application/yaml", ";", "/", "json", "",
    ),
  },
  { weight: 1, arbitrary: headerValue },
);

/** JSON values of bounded size, including numbers JSON cannot say and strings with lone surrogates. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -0, 1.5, 1e21, 2147483648, -2147483649, "", "\ud800", "\u0000", "1.0"),
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** JSON text nested `n` deep, as arrays or objects, closed or truncated. */
export const deepJson = fc.record({
  n: fc.oneof(fc.constantFrom(63, 64, 65, 66, 67, 99, 100, 101, 102), fc.integer({ min: 1, max: 6000 })),
  open: fc.constantFrom("[", '{"a":'),
  closed: fc.boolean(),
}).map(({ n, open, closed }) => open.repeat(n) + (closed ? "1" + (open === "[" ? "]" : "}").repeat(n) : ""));

const ATTR_NAMES = ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "schemaurl", "datacontentencoding", "data", "data_base64", "myext", "Bad-Name", "", "traceparent"];

/** A structured-mode event object: mostly valid, with random attributes replaced, dropped or added. */
export const eventObject = fc.record({
  base: fc.record({ specversion: fc.constantFrom("1.0", "1.0", "0.3", 1, null, "9.9"), id: fc.oneof(fc.uuid(), fc.constant(""), jsonValue), source: fc.constantFrom("/fuzz", "", "urn:x"), type: fc.constantFrom("fuzz.event", "") }),
  extra: fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, { weight: 3, arbitrary: fc.dictionary(fc.constantFrom(...ATTR_NAMES), jsonValue, { maxKeys: 3 }) }),
  drop: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.subarray(["specversion", "id", "source", "type"], { maxLength: 1 }) }),
}).map(({ base, extra, drop }) => {
  const o: Record<string, unknown> = { ...base, ...extra };
  for (const k of drop) delete o[k];
  return o;
});

/** Batches: arrays of events and bad members (scalars, arrays, nulls, deep values). */
export const batchText = fc.array(fc.oneof({ weight: 4, arbitrary: eventObject }, { weight: 1, arbitrary: jsonValue }), { maxLength: 5 }).map((a) => JSON.stringify(a));

/** Bytes that are not UTF-8, a BOM, NULs, and random noise. */
export const noise = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.constantFrom(Uint8Array.of(0xff, 0xfe, 0x7b, 0x7d), Uint8Array.of(0xef, 0xbb, 0xbf, 0x5b, 0x5d), Uint8Array.of(0xc0, 0xaf), Uint8Array.of(0x7b, 0x00, 0x7d), Uint8Array.of(0xed, 0xa0, 0x80)),
);

/** The first part of a valid body: JSON cut anywhere. */
export const truncated = fc.tuple(fc.oneof(batchText, eventObject.map((o) => JSON.stringify(o))), fc.nat()).map(([s, k]) => s.slice(0, s.length ? k % s.length : 0));

/** Bodies for the ingress and webhook routes, as bytes; `big` is over MAX_EVENT_BYTES (262144). */
export function bodies(big: number) {
  return fc.oneof(
    { weight: 3, arbitrary: eventObject.map((o) => enc.encode(JSON.stringify(o))) },
    { weight: 3, arbitrary: batchText.map((s) => enc.encode(s)) },
    { weight: 2, arbitrary: deepJson.map((s) => enc.encode(s)) },
    { weight: 2, arbitrary: deepJson.map((s) => enc.encode(`[{"specversion":"1.0","id":"d","source":"/s","type":"t","data":${s}}]`)) },
    { weight: 2, arbitrary: truncated.map((s) => enc.encode(s)) },
    { weight: 2, arbitrary: noise },
    { weight: 2, arbitrary: jsonValue.map((v) => enc.encode(JSON.stringify(v) ?? "")) },
    { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 1, arbitrary: fc.nat({ max: 4000 }).map((extra) => new Uint8Array(big + 1 + extra).fill(0x5b)) },
  );
}

/** Extra headers: ce- attributes with odd names and values, and headers that matter to parsing. */
export const extraHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom("ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-subject", "ce-datacontenttype", "ce-dataschema", "ce-data", "ce-", "ce-Bad_Name", "ce-knativebrokerttl", "ce-traceparent", "traceparent", "tracestate"),
    fc.constantFrom("content-encoding", "transfer-encoding-x", "x-forwarded-for", "prefer", "webhook-request-origin", "authorization", "accept"),
    fc.stringMatching(/^ce-[a-z0-9]{1,30}$/),
  ),
  headerValue,
  { maxKeys: 5 },
);
