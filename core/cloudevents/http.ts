import { fromBase64 } from "../base64.js";
import { type AttrValue, type CloudEvent, isJsonMediaType } from "./event.js";
import { CloudEventError } from "./errors.js";
import { arrayElements, objectMembers, type Span } from "./json-scan.js";
import { percentDecode } from "./percent.js";
import { NAME_RE, validateEvent } from "./validate.js";

export { CloudEventError } from "./errors.js";
export { validateEvent } from "./validate.js";

export type ContentMode = "binary" | "structured" | "batch";

export interface ParsedMessage {
  mode: ContentMode;
  events: CloudEvent[];
}

const STRUCTURED_JSON = "application/cloudevents+json";
const BATCH_JSON = "application/cloudevents-batch+json";
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();
const bad = (msg: string) => new CloudEventError(400, msg);

function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/** True when the headers claim a CloudEvent: `ce-specversion`, or a CloudEvents media type. */
export function isCloudEventMessage(headers: Headers): boolean {
  return headers.has("ce-specversion") || mediaType(headers.get("content-type")).startsWith("application/cloudevents");
}

/**
 * Reads CloudEvents from an HTTP message in binary, structured or batched mode (chosen from
 * Content-Type as the HTTP binding says), validating each. Data is kept byte for byte.
 * Throws CloudEventError: 400 for anything that is not a valid CloudEvent, 415 for an unknown format.
 *
 * @example
 * const { mode, events } = parseMessage(request.headers, new Uint8Array(await request.arrayBuffer()));
 */
export function parseMessage(headers: Headers, body: Uint8Array): ParsedMessage {
  const mt = mediaType(headers.get("content-type"));
  if (mt.startsWith("application/cloudevents-batch")) {
    if (mt !== BATCH_JSON) throw new CloudEventError(415, `unsupported batch format ${mt}: send ${BATCH_JSON}`);
    return { mode: "batch", events: parseBatch(body) };
  }
  if (mt.startsWith("application/cloudevents")) {
    if (mt !== STRUCTURED_JSON) throw new CloudEventError(415, `unsupported event format ${mt}: send ${STRUCTURED_JSON}, or use binary mode`);
    const root = parseJson(body, "structured-mode body");
    if (typeof root !== "object" || root === null || Array.isArray(root)) throw bad("a structured-mode body must be one JSON object holding the event");
    const ev = fromJson(root as Record<string, unknown>, body, { start: 0, end: body.length });
    validateEvent(ev);
    return { mode: "structured", events: [ev] };
  }
  const ev = parseBinary(headers, body);
  validateEvent(ev);
  return { mode: "binary", events: [ev] };
}

function parseJson(body: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw bad(`the ${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw bad(`the ${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function parseBinary(headers: Headers, body: Uint8Array): CloudEvent {
  const attrs: Record<string, AttrValue> = {};
  for (const [name, value] of headers) {
    if (!name.startsWith("ce-")) continue;
    const attr = name.slice(3);
    if (!NAME_RE.test(attr)) {
      throw bad(`header ${name} does not name a valid attribute: CloudEvents attribute names use only a-z and 0-9`);
    }
    attrs[attr] = percentDecode(value, `header ${name}`);
  }
  if (attrs.specversion === undefined) {
    throw bad("not a CloudEvent: binary mode needs the headers ce-specversion, ce-id, ce-source and ce-type (or send the event as JSON with Content-Type: application/cloudevents+json)");
  }
  const ct = headers.get("content-type");
  if (ct !== null) {
    if (attrs.datacontenttype !== undefined && mediaType(String(attrs.datacontenttype)) !== mediaType(ct)) {
      throw bad(`ce-datacontenttype "${attrs.datacontenttype}" disagrees with Content-Type "${ct}": in binary mode the data's type is the Content-Type header alone`);
    }
    attrs.datacontenttype = ct;
  }
  const ev: CloudEvent = { attrs };
  if (body.length > 0) {
    ev.data = body;
    if (ct !== null && isJsonMediaType(mediaType(ct))) parseJson(body, `body (Content-Type ${mediaType(ct)})`);
  }
  return ev;
}

function parseBatch(body: Uint8Array): CloudEvent[] {
  const root = parseJson(body, "batch body");
  if (!Array.isArray(root)) throw bad("a batched-mode body must be a JSON array of events");
  const spans = arrayElements(body, 0);
  const events = root.map((item, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw bad(`batch entry ${i} is not a JSON object`);
    const ev = fromJson(item as Record<string, unknown>, body, spans[i]!);
    try {
      validateEvent(ev);
    } catch (e) {
      throw bad(`batch entry ${i}: ${(e as Error).message}`);
    }
    return ev;
  });
  const versions = new Set(events.map((e) => e.attrs.specversion));
  if (versions.size > 1) throw bad(`all events of a batch must share one specversion; found ${[...versions].join(", ")}`);
  return events;
}

/** A JSON-format event; `span` is where its object lies in `body`, to slice `data` from. */
function fromJson(obj: Record<string, unknown>, body: Uint8Array, span: Span): CloudEvent {
  const attrs: Record<string, AttrValue> = {};
  for (const [key, v] of Object.entries(obj)) {
    if (key === "data" || key === "data_base64" || v === null) continue;
    if (!NAME_RE.test(key)) throw bad(`attribute name "${key}" is invalid: CloudEvents attribute names use only lower-case letters a-z and digits 0-9`);
    if (typeof v === "object") throw bad(`attribute "${key}" must be a string, integer or boolean, not ${Array.isArray(v) ? "an array" : "an object"}`);
    attrs[key] = v as AttrValue;
  }
  const ev: CloudEvent = { attrs };
  const hasData = obj.data !== undefined;
  const b64 = obj.data_base64;
  if (hasData && b64 !== undefined && b64 !== null) throw bad('an event has either "data" or "data_base64", not both');
  if (b64 !== undefined && b64 !== null) {
    if (typeof b64 !== "string") throw bad('"data_base64" must be a base64 string');
    ev.data = decodeB64(b64, "data_base64");
    return ev;
  }
  if (!hasData) return ev;
  const data = obj.data;
  const ct = typeof attrs.datacontenttype === "string" ? mediaType(attrs.datacontenttype) : "";
  const enc = attrs.datacontentencoding;
  if (attrs.specversion === "0.3" && typeof enc === "string" && enc.toLowerCase() === "base64" && typeof data === "string") {
    ev.data = decodeB64(data, "data (datacontentencoding base64)");
    return ev;
  }
  if (ct === "" || isJsonMediaType(ct)) {
    const member = objectMembers(body, span.start).get("data")!;
    ev.data = body.subarray(member.start, member.end);
    if (ct === "") ev.impliedJson = true;
  } else if (typeof data === "string") {
    ev.data = utf8.encode(data);
  } else if (data !== null) {
    const member = objectMembers(body, span.start).get("data")!;
    ev.data = body.subarray(member.start, member.end);
  }
  return ev;
}

function decodeB64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.replace(/\s+/g, "")) ) throw bad(`${what} is not valid base64`);
  try {
    return fromBase64(text.replace(/\s+/g, ""));
  } catch {
    throw bad(`${what} is not valid base64`);
  }
}
