import { toBase64 } from "../base64.js";
import { attrString, type CloudEvent, dataMediaType, isJsonMediaType } from "./event.js";
import { mediaTypeOf } from "./json-format.js";
import { percentEncode } from "./percent.js";
import { traceHeaders } from "./trace.js";

/** An HTTP message ready to send: header names as written, body bytes (null for none). */
export interface EncodedMessage {
  headers: Record<string, string>;
  body: Uint8Array | null;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }); // only for bytes known to be UTF-8

/** Types whose bytes are text a receiver expects to read as a JSON string in structured mode. */
function isTextMediaType(mt: string): boolean {
  return mt.startsWith("text/") || mt === "application/xml" || mt.endsWith("+xml");
}

const isBase64Encoding = (v: unknown) => typeof v === "string" && v.toLowerCase() === "base64";

/**
 * Binary mode: the body is `data` unchanged (the same Uint8Array, not a copy), Content-Type is
 * `datacontenttype` (application/json when that was only implied by a structured event), and every
 * other attribute is a `ce-` header holding its canonical string, percent-encoded per the 1.0.2
 * binding. Integer and boolean attributes become strings; binary mode has no other way.
 *
 * CloudEvents 0.3: the body is the raw data bytes and `datacontentencoding`, if the event has it,
 * is sent as `ce-datacontentencoding` like any other attribute. This is what sdk-go (Knative)
 * reads and writes; the attribute only describes how the JSON format carries the bytes.
 *
 * Trace context: a valid `traceparent` attribute (and `tracestate`) also goes out as the W3C
 * `traceparent` (`tracestate`) header, for tracing tools; `ce-traceparent` stays, so the receiver
 * still sees the extension attribute.
 *
 * An event binary mode cannot carry is written in structured mode instead (see binaryCanCarry):
 * its `datacontenttype` would become a Content-Type that changes the message's meaning or value.
 *
 * @example
 * encodeBinary({ attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", subject: "a b",
 *                         datacontenttype: "text/plain" }, data });
 * // { headers: { "ce-specversion": "1.0", ..., "ce-subject": "a%20b", "Content-Type": "text/plain" }, body: data }
 */
export function encodeBinary(ev: CloudEvent): EncodedMessage {
  if (!binaryCanCarry(ev)) return encodeStructured(ev);
  const headers: Record<string, string> = {};
  for (const name in ev.attrs) {
    const v = attrString(ev.attrs[name]!);
    if (name === "datacontenttype") headers["Content-Type"] = v;
    else headers[`ce-${name}`] = percentEncode(v);
  }
  if (ev.impliedJson && headers["Content-Type"] === undefined) headers["Content-Type"] = "application/json";
  if (ev.attrs.traceparent !== undefined) Object.assign(headers, traceHeaders(ev));
  return { headers, body: ev.data ?? null };
}

/** Visible ASCII with inner spaces: what a Content-Type value must be to arrive unchanged (tabs are not CloudEvents text). */
const HEADER_SAFE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/**
 * Whether binary mode carries the event unchanged. Its `datacontenttype` becomes Content-Type, so it
 * must not be a CloudEvents media type (`application/cloudevents+json` data would be read as a
 * structured event, `-batch+json` as a batch), and it must survive as a header value: Fetch trims
 * surrounding whitespace and cannot send characters beyond U+00FF, and bytes above 0x7E reach
 * workerd decoded as UTF-8. Such events go out in structured mode, which every receiver accepts.
 */
export function binaryCanCarry(ev: CloudEvent): boolean {
  const ct = ev.attrs.datacontenttype;
  if (typeof ct !== "string") return true;
  return HEADER_SAFE.test(ct) && !mediaTypeOf(ct).startsWith("application/cloudevents");
}

/** Collects JSON text and raw byte slices, then copies each exactly once into the final body. */
class Body {
  private parts: Uint8Array[] = [];
  private size = 0;
  private text = "";
  str(s: string): void {
    this.text += s;
  }
  bytes(b: Uint8Array): void {
    if (b.length <= 1024) {
      this.text += lenientUtf8.decode(b); // small: one encode of one string beats three copies
      return;
    }
    this.flush();
    this.parts.push(b);
    this.size += b.length;
  }
  private flush(): void {
    if (this.text === "") return;
    const b = utf8.encode(this.text);
    this.parts.push(b);
    this.size += b.length;
    this.text = "";
  }
  done(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0]!;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function writeEvent(ev: CloudEvent, out: Body): void {
  const a = ev.attrs;
  const d = ev.data;
  const mt = dataMediaType(ev);
  let data: string | Uint8Array | undefined;
  let addEncoding = false;
  if (d) {
    let text: string | undefined;
    if (a.specversion === "0.3" && isBase64Encoding(a.datacontentencoding)) {
      data = `"data":"${toBase64(d)}"`;
    } else if (isJsonMediaType(mt)) {
      // Spliced in as received: parseMessage and validateEvent guarantee it is JSON text. A BOM is
      // legal before a JSON body but not inside a JSON document, so it stays behind.
      const raw = d[0] === 0xef && d[1] === 0xbb && d[2] === 0xbf ? d.subarray(3) : d;
      if (raw.length > 0) data = raw;
    } else if (isTextMediaType(mt) && (text = decodeText(d)) !== undefined) {
      data = `"data":${JSON.stringify(text)}`;
    } else if (a.specversion === "0.3") {
      addEncoding = true; // 0.3 has no data_base64: the one case where Eddy adds an attribute
      data = `"data":"${toBase64(d)}"`;
    } else {
      data = `"data_base64":"${toBase64(d)}"`;
    }
  }
  out.str("{");
  let sep = "";
  for (const name in a) {
    out.str(`${sep}${JSON.stringify(name)}:${JSON.stringify(a[name])}`);
    sep = ",";
  }
  if (addEncoding) out.str(',"datacontentencoding":"base64"');
  if (typeof data === "string") out.str(`,${data}`);
  else if (data) {
    out.str(',"data":');
    out.bytes(data);
  }
  out.str("}");
}

function decodeText(d: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(d);
  } catch {
    return undefined; // not UTF-8 after all: it travels as base64 instead
  }
}

/**
 * Structured mode (`application/cloudevents+json`): all attributes with their JSON types, then
 * the data. JSON data (a JSON datacontenttype, or none when JSON was implied) is spliced in as the
 * raw text received, so `{"b":1,  "a":[1.50]}` keeps its spacing and `1.50`; text types (`text/*`,
 * `application/xml`, any `+xml` type) go in `data` as a JSON string; anything else goes in
 * `data_base64`. Whitespace around a JSON value is not part of it and does not survive re-parsing.
 *
 * CloudEvents 0.3 has no `data_base64`: an event with `datacontentencoding: base64` gets its bytes
 * as a base64 string in `data` with that attribute as it was; one with other binary data gets
 * `"datacontentencoding":"base64"` added, the only way 0.3 JSON can carry bytes.
 *
 * A valid `traceparent` (and `tracestate`) attribute is also sent as the W3C header of that name.
 *
 * @example
 * const { headers, body } = encodeStructured(ev);
 * // headers: { "Content-Type": "application/cloudevents+json; charset=utf-8" }
 * // body:    {"specversion":"1.0","id":"1",...,"data":{"b":1,  "a":[1.50]}}
 */
export function encodeStructured(ev: CloudEvent): EncodedMessage {
  const out = new Body();
  writeEvent(ev, out);
  return { headers: { "Content-Type": "application/cloudevents+json; charset=utf-8", ...traceHeaders(ev) }, body: out.done() };
}

/**
 * Batched mode (`application/cloudevents-batch+json`): a JSON array of events, each written as
 * encodeStructured writes it. An empty list gives `[]`. Only for receivers that asked for batches.
 * One request has one trace context: the W3C headers are sent only when every event of the batch
 * would send the same ones.
 *
 * @example
 * encodeBatch([a, b]).body; // [{"specversion":"1.0",...},{"specversion":"1.0",...}]
 */
export function encodeBatch(evs: CloudEvent[]): EncodedMessage {
  const out = new Body();
  out.str("[");
  evs.forEach((ev, i) => {
    if (i > 0) out.str(",");
    writeEvent(ev, out);
  });
  out.str("]");
  return { headers: { "Content-Type": "application/cloudevents-batch+json; charset=utf-8", ...sharedTrace(evs) }, body: out.done() };
}

/** The trace headers all events would send, or none when they differ (or there are no events). */
function sharedTrace(evs: CloudEvent[]): Record<string, string> {
  if (evs.length === 0) return {};
  const first = traceHeaders(evs[0]!);
  for (let i = 1; i < evs.length; i++) {
    const t = traceHeaders(evs[i]!);
    if (t.traceparent !== first.traceparent || t.tracestate !== first.tracestate) return {};
  }
  return first;
}
