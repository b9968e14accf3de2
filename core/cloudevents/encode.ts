import { toBase64 } from "../base64.js";
import { attrString, type CloudEvent, dataMediaType, isJsonMediaType } from "./event.js";
import { percentEncode } from "./percent.js";

export interface EncodedMessage {
  headers: Record<string, string>;
  body: Uint8Array | null;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isTextMediaType(mt: string): boolean {
  return mt.startsWith("text/") || mt.endsWith("/xml") || mt.endsWith("+xml");
}

/**
 * Binary mode: the body is the data bytes unchanged, Content-Type is `datacontenttype` (or the
 * implied application/json), and every other attribute is a percent-encoded `ce-` header.
 * A 0.3 event's `datacontentencoding` describes how JSON carries its data as text, so it is not
 * sent in binary mode, where the body is the raw bytes.
 *
 * @example
 * encodeBinary(ev); // { headers: { "ce-id": "1", ..., "Content-Type": "application/json" }, body }
 */
export function encodeBinary(ev: CloudEvent): EncodedMessage {
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(ev.attrs)) {
    if (name === "datacontenttype") headers["Content-Type"] = attrString(v);
    else if (name === "datacontentencoding" && ev.attrs.specversion === "0.3") continue;
    else headers[`ce-${name}`] = percentEncode(attrString(v));
  }
  if (headers["Content-Type"] === undefined && ev.impliedJson) headers["Content-Type"] = "application/json";
  return { headers, body: ev.data ?? null };
}

/** The JSON-format text of one event, attributes keeping their JSON types. */
export function eventJson(ev: CloudEvent): string {
  const parts: string[] = [];
  const mt = dataMediaType(ev);
  let dataPart = "";
  let setEncoding = false;
  if (ev.data) {
    let text: string | undefined;
    try {
      text = strictUtf8.decode(ev.data);
    } catch {
      text = undefined;
    }
    if (text !== undefined && isJsonMediaType(mt)) dataPart = `"data":${text}`;
    else if (text !== undefined && isTextMediaType(mt)) dataPart = `"data":${JSON.stringify(text)}`;
    else if (ev.attrs.specversion === "0.3") {
      dataPart = `"data":"${toBase64(ev.data)}"`;
      setEncoding = true;
    } else dataPart = `"data_base64":"${toBase64(ev.data)}"`;
  }
  for (const [name, v] of Object.entries(ev.attrs)) {
    if (name === "datacontentencoding" && setEncoding) continue;
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(v)}`);
  }
  if (setEncoding) parts.push('"datacontentencoding":"base64"');
  if (dataPart) parts.push(dataPart);
  return `{${parts.join(",")}}`;
}

/**
 * Structured mode (`application/cloudevents+json`): JSON data is spliced in as received; text
 * types go in `data` as a string; anything else in `data_base64` (0.3: base64 `data` with
 * `datacontentencoding: base64`).
 */
export function encodeStructured(ev: CloudEvent): EncodedMessage {
  return { headers: { "Content-Type": "application/cloudevents+json; charset=utf-8" }, body: utf8.encode(eventJson(ev)) };
}

/** Batched mode: a JSON array of structured events. */
export function encodeBatch(evs: CloudEvent[]): EncodedMessage {
  return {
    headers: { "Content-Type": "application/cloudevents-batch+json; charset=utf-8" },
    body: utf8.encode(`[${evs.map(eventJson).join(",")}]`),
  };
}
