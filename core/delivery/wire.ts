import type { CloudEvent } from "../cloudevents/event.js";
import type { DeliveryMessage } from "./messages.js";

/**
 * Cloudflare Queues' limits, in bytes (developers.cloudflare.com/queues/platform/limits, read
 * 2026-12-07): 128 KB per message, 256 KB and 100 messages per sendBatch. Kept below them by a
 * margin for what the platform adds to each message.
 */
export const QUEUE_MESSAGE_BYTES = 128 * 1024;
export const QUEUE_BATCH_BYTES = 256 * 1024;
export const QUEUE_BATCH_MESSAGES = 100;
export const MESSAGE_MARGIN_BYTES = 2 * 1024;

const MAGIC = 0xed;
const VERSION = 1;
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A delivery message as the bytes a queue carries (`contentType: "bytes"`): a header of JSON (the
 * attempt's spec and the event's attributes) and the event's data as it is, so its size is known
 * exactly before it is sent, in bytes, whatever scripts its attributes are written in. An event too
 * large to ride along is left out (`withEvent` false): the consumer claims it from its owner.
 */
export function encodeMessage(msg: DeliveryMessage, withEvent = true): Uint8Array {
  const { event, ...spec } = msg;
  const ev = withEvent && event ? { attrs: event.attrs, ...(event.impliedJson ? { impliedJson: true } : {}), ...(event.data ? { data: event.data.byteLength } : {}) } : undefined;
  const header = enc.encode(JSON.stringify(ev ? { ...spec, ev } : spec));
  const data = ev && event?.data ? event.data : undefined;
  const out = new Uint8Array(6 + header.byteLength + (data?.byteLength ?? 0));
  out[0] = MAGIC;
  out[1] = VERSION;
  new DataView(out.buffer).setUint32(2, header.byteLength);
  out.set(header, 6);
  if (data) out.set(data, 6 + header.byteLength);
  return out;
}

/** The message a queue delivered: the bytes above, or (from before them) the structured-clone object. */
export function decodeMessage(body: unknown): DeliveryMessage {
  if (!(body instanceof ArrayBuffer || ArrayBuffer.isView(body))) return body as DeliveryMessage;
  const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (bytes[0] !== MAGIC || bytes[1] !== VERSION) throw new Error(`not a delivery message (starts ${bytes[0]}, ${bytes[1]})`);
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(2);
  const head = JSON.parse(dec.decode(bytes.subarray(6, 6 + len))) as DeliveryMessage & { ev?: { attrs: CloudEvent["attrs"]; impliedJson?: boolean; data?: number } };
  const { ev, ...msg } = head;
  if (!ev) return msg;
  const event: CloudEvent = { attrs: ev.attrs };
  if (ev.data !== undefined) event.data = bytes.slice(6 + len, 6 + len + ev.data);
  if (ev.impliedJson) event.impliedJson = true;
  return { ...msg, event };
}

/** The message to send for a delivery: with its event when that fits in a queue message, else without. */
export function wireMessage(msg: DeliveryMessage): Uint8Array {
  const full = encodeMessage(msg, true);
  if (full.byteLength <= QUEUE_MESSAGE_BYTES - MESSAGE_MARGIN_BYTES) return full;
  return encodeMessage(msg, false);
}
