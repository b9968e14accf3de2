/**
 * The CloudEvent as Eddy holds it between ingress and delivery.
 *
 * Attributes keep the JSON type they arrived with (binary-mode headers are always strings; structured
 * JSON may carry integer or boolean extensions) so that CESQL sees `myint` as an Integer and a
 * structured delivery writes it back unchanged. `data` holds the payload bytes exactly as received:
 * the binary-mode body, the decoded `data_base64`, or the raw JSON text of a structured `data` member.
 * Nothing in Eddy rewrites either of them; only Knative's own extensions are added.
 *
 * @example
 * const ev: CloudEvent = {
 *   attrs: { specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype: "application/json" },
 *   data: new TextEncoder().encode('{"a":1}'),
 * };
 */
export type AttrValue = string | number | boolean;

export interface CloudEvent {
  /** Context attributes and extensions by (lowercase) name. Never contains `data` or `data_base64`. */
  attrs: Record<string, AttrValue>;
  /** Payload bytes, byte for byte as received; absent when the event has no data. */
  data?: Uint8Array;
  /**
   * True when the event arrived in structured mode with a JSON `data` member and no `datacontenttype`:
   * its content type is the implied `application/json`, written out when the event goes binary.
   */
  impliedJson?: boolean;
}

export type SpecVersion = "1.0" | "0.3";

export const SPEC_VERSIONS: readonly SpecVersion[] = ["1.0", "0.3"];

/** The four attributes every CloudEvent must carry. */
export const REQUIRED_ATTRIBUTES = ["specversion", "id", "source", "type"] as const;

/** Attribute names the specs define (1.0 and 0.3); anything else is an extension. */
export const CONTEXT_ATTRIBUTES = new Set([
  "specversion", "id", "source", "type", "subject", "time", "datacontenttype",
  "dataschema", "schemaurl", "datacontentencoding",
]);

/** Canonical string form of an attribute value (integers in base 10, booleans `true`/`false`). */
export function attrString(v: AttrValue): string {
  return typeof v === "string" ? v : String(v);
}

/** The media type of the event's data, without parameters, lower-cased; "" when unknown. */
export function dataMediaType(ev: CloudEvent): string {
  const ct = ev.attrs.datacontenttype;
  if (typeof ct === "string") return ct.split(";")[0]!.trim().toLowerCase();
  return ev.impliedJson ? "application/json" : "";
}

/** `application/json`, `text/json`, `application/*+json`, ... */
export function isJsonMediaType(mt: string): boolean {
  return mt === "application/json" || mt === "text/json" || mt.endsWith("+json") || mt.endsWith("/json");
}

/**
 * The event with its data in a buffer of its own. A Uint8Array view serialises with its whole
 * backing buffer (RPC, queue messages), and parsing leaves `data` as a view into the request body.
 */
export function compact(ev: CloudEvent): CloudEvent {
  const d = ev.data;
  if (!d || (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength)) return ev;
  return { ...ev, data: d.slice() };
}
