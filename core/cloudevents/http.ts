import type { AttrValue, CloudEvent } from "./event.js";
import { CloudEventError } from "./errors.js";
import { eventFromJson, mediaTypeOf } from "./json-format.js";
import { elements, type Span } from "./json-scan.js";
import { percentDecode } from "./percent.js";
import { NAME_RE, tooDeepMessage, validateAttributes, validateData } from "./validate.js";
import { jsonTooDeepAt, MAX_JSON_DEPTH } from "../nesting.js";

export { CloudEventError } from "./errors.js";
export { validateEvent } from "./validate.js";

/** How an HTTP message carries its event(s), per the CloudEvents HTTP binding. */
export type ContentMode = "binary" | "structured" | "batch";

/** What parseMessage read: the mode the message used and its validated events. */
export interface ParsedMessage {
  mode: ContentMode;
  /** One event for binary and structured mode; zero or more for a batch. */
  events: CloudEvent[];
}

const STRUCTURED_JSON = "application/cloudevents+json";
const BATCH_JSON = "application/cloudevents-batch+json";
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
const bad = (msg: string) => new CloudEventError(400, msg);

/**
 * True when the headers claim a CloudEvent: a `ce-specversion` header, or a Content-Type that is a
 * CloudEvents media type (structured or batch, any format). Tells a reply event from a plain body.
 *
 * @example
 * isCloudEventMessage(new Headers({ "Content-Type": "application/cloudevents+json" })); // true
 * isCloudEventMessage(new Headers({ "Content-Type": "text/plain" }));                   // false
 */
export function isCloudEventMessage(headers: Headers): boolean {
  return headers.has("ce-specversion") || mediaTypeOf(headers.get("content-type")).startsWith("application/cloudevents");
}

/**
 * Reads the CloudEvent(s) of an HTTP message. The mode comes from Content-Type as the binding says
 * (batch first, then structured, else binary; case-insensitive). Every event is validated, and its
 * data is kept byte for byte: the body itself in binary mode, the raw text of a JSON `data` member.
 * Throws CloudEventError: 400 for anything that is not a valid CloudEvent, with a message naming
 * the cause and the fix; 415 for a CloudEvents format other than JSON.
 *
 * @example
 * const { mode, events } = parseMessage(request.headers, new Uint8Array(await request.arrayBuffer()));
 */
export function parseMessage(headers: Headers, body: Uint8Array): ParsedMessage {
  const mt = mediaTypeOf(headers.get("content-type"));
  if (mt.startsWith("application/cloudevents-batch")) {
    if (mt !== BATCH_JSON) throw new CloudEventError(415, `Content-Type ${mt} is a batch format Eddy does not read: send ${BATCH_JSON}`);
    return { mode: "batch", events: parseBatch(body) };
  }
  if (mt.startsWith("application/cloudevents")) {
    if (mt !== STRUCTURED_JSON) {
      throw new CloudEventError(415, `Content-Type ${mt} is an event format Eddy does not read: send ${STRUCTURED_JSON}, or binary mode with ce- headers`);
    }
    return { mode: "structured", events: [parseStructured(body)] };
  }
  return { mode: "binary", events: [parseBinary(headers, body)] };
}

/**
 * The body as JSON: its parse and where its text starts (after a UTF-8 byte order mark, if any).
 * `wrappers` is how many levels the event format adds around the data (1 structured, 2 batch).
 */
function parseJsonBody(body: Uint8Array, what: string, fix: string, wrappers: number): { root: unknown; at: number } {
  // Measured before anything else reads it, so a body of 5,000 `[` costs MAX_JSON_DEPTH bytes.
  const deep = jsonTooDeepAt(body, MAX_JSON_DEPTH + wrappers);
  if (deep >= 0) throw bad(tooDeepMessage(`the ${what}`, MAX_JSON_DEPTH + wrappers, deep, wrappers));
  let text: string;
  try {
    text = strictUtf8.decode(body); // also drops a leading BOM, which JSON.parse would refuse
  } catch {
    throw bad(`the ${what} is not valid UTF-8: JSON must be sent as UTF-8`);
  }
  try {
    const at = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
    return { root: JSON.parse(text), at };
  } catch (e) {
    throw bad(`the ${what} is not valid JSON (${(e as Error).message}): ${fix}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parseStructured(body: Uint8Array): CloudEvent {
  const fix = "send one JSON object holding the attributes and data";
  const { root, at } = parseJsonBody(body, "structured-mode body", fix, 1);
  if (!isObject(root)) throw bad(`the structured-mode body is ${describe(root)}, not an event: ${fix}`);
  const ev = eventFromJson(root, body, at);
  validateAttributes(ev.attrs);
  return ev;
}

function parseBatch(body: Uint8Array): CloudEvent[] {
  const fix = "send a JSON array of event objects ([] for none)";
  const { root, at } = parseJsonBody(body, "batch body", fix, 2);
  if (!Array.isArray(root)) throw bad(`the batch body is ${describe(root)}: ${fix}`);
  let spans: Iterator<Span> | undefined;
  const events: CloudEvent[] = [];
  for (let i = 0; i < root.length; i++) {
    const item: unknown = root[i];
    // The byte ranges of the entries are walked in step with them, to slice each one's data.
    spans ??= elements(body, at);
    const span = spans.next().value as Span;
    if (!isObject(item)) throw bad(`batch entry ${i} is ${describe(item)}: each entry must be one event object`);
    try {
      const ev = eventFromJson(item, body, span.start);
      validateAttributes(ev.attrs);
      events.push(ev);
    } catch (e) {
      if (e instanceof CloudEventError) throw bad(`batch entry ${i} (id ${JSON.stringify(item.id ?? null)}): ${e.message}`);
      throw e;
    }
    const first = events[0]!.attrs.specversion;
    if (events[i]!.attrs.specversion !== first) {
      throw bad(`batch entry ${i} has specversion ${JSON.stringify(events[i]!.attrs.specversion)} but entry 0 has ${JSON.stringify(first)}: all events of a batch must share one specversion; send separate batches`);
    }
  }
  return events;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "a JSON array";
  return v === null ? "JSON null" : `a JSON ${typeof v}`;
}

/** Content-Type values compared as media types: case and whitespace do not matter. */
const sameContentType = (a: string, b: string) => a.replace(/\s+/g, "").toLowerCase() === b.replace(/\s+/g, "").toLowerCase();

function parseBinary(headers: Headers, body: Uint8Array): CloudEvent {
  const attrs: Record<string, AttrValue> = {};
  for (const [name, value] of headers) {
    // Fetch Headers yield lower-case names, so Ce-Id and CE-ID arrive here as ce-id.
    if (name.charCodeAt(0) !== 0x63 || name.charCodeAt(1) !== 0x65 || name.charCodeAt(2) !== 0x2d) continue;
    const attr = name.slice(3);
    if (!NAME_RE.test(attr)) {
      throw bad(`header ${name} does not name a valid attribute: after "ce-", attribute names use only letters a-z and digits 0-9`);
    }
    if (attr === "data") throw bad("header ce-data is not allowed: in binary mode the event data is the request body");
    attrs[attr] = percentDecode(value, `header ${name}`);
  }
  if (attrs.specversion === undefined) {
    throw bad(
      "not a CloudEvent: binary mode needs the headers ce-specversion, ce-id, ce-source and ce-type (ce-specversion is missing); " +
        "or send the event as JSON with Content-Type: application/cloudevents+json",
    );
  }
  const ct = headers.get("content-type");
  if (ct !== null) {
    const own = attrs.datacontenttype;
    if (own !== undefined && !sameContentType(String(own), ct)) {
      throw bad(
        `header ce-datacontenttype (${String(own)}) disagrees with Content-Type (${ct}): in binary mode the data's media type travels in Content-Type only; drop ce-datacontenttype`,
      );
    }
    attrs.datacontenttype = ct;
  }
  const ev: CloudEvent = { attrs };
  validateAttributes(attrs);
  if (body.length > 0) {
    ev.data = body; // the body itself: no copy on the hot path
    validateData(ev);
  }
  return ev;
}
