// The unit of storage of the ledger: one row per group commit holding every event it recorded,
// with the deliveries each event still owes. Pure encoding and decoding here; the SQL is in
// ./sql-store.ts. Cloudflare bills Durable Object storage by rows written, so a flush that accepts
// forty events writes one row, and deleting it once every delivery answered is the second.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { Hop } from "../../core/delivery/messages.js";

/** Where an event lives: its batch row and its index in that row. */
export interface EventLoc {
  batch: number;
  idx: number;
}

/** One event as a batch row keeps it. */
export interface BatchEvent {
  /** Its place in the object's history: increasing, never reused (archive order, replay cursor). */
  seq: number;
  event: CloudEvent;
  /** Broker TTL left for replies to this event. */
  ttl: number;
  /** When it was accepted (ms). */
  at: number;
  /** It waits for the archive (published events of an archiving owner). */
  archive: boolean;
}

/**
 * One delivery a batch row owes, by its position `n` in the row's list. While it is on its first
 * attempt nothing else records it; a delivery that leaves that path (a retry, a hold, a dead-letter
 * hop, an ordered success) is marked settled in the row (`settled`), and any further state is a
 * row of its own in `deliveries`.
 */
export interface BatchDelivery {
  n: number;
  /** The event it sends (for a reply hop: the reply, whose original is `orig`). */
  idx: number;
  route: string;
  hop: Extract<Hop, "subscriber" | "reply">;
  /** Ordered routes: the key whose deliveries go one at a time ("" without a partitionkey). */
  key?: string;
  /** The kept dead letter this delivery redrives (its entry goes once delivered). */
  redrive?: string;
  /** Reply hops: the original event, sent to the dead-letter sink if the reply cannot be delivered. */
  orig?: EventLoc;
}

/** A batch as written. */
export interface NewBatch {
  id: number;
  events: BatchEvent[];
  dels: BatchDelivery[];
  /** Deliveries already settled when the row is written (settled in the same flush). */
  settled: number[];
  /** The Replay that recorded these events (a Replay's events get batches of their own). */
  replay?: string;
  /** Counter increments committed with this row (see ../counters.ts). */
  counts?: Record<string, number>;
}

/** What the ledger needs of a stored batch to know what it still owes (no events, no data). */
export interface BatchSummary {
  id: number;
  dels: BatchDelivery[];
  settled: number[];
  archive: boolean;
  replay: string | null;
  counts: Record<string, number> | null;
}

/** Columns of a batch row. */
export interface BatchColumns {
  dels: string;
  events: string;
  data: Uint8Array | null;
  archive: number;
  settled: string;
}

type DelTuple = [idx: number, route: string, hop?: 0 | 1, key?: string | null, redrive?: string | null, origBatch?: number, origIdx?: number];
type EventTuple = [seq: number, attrs: CloudEvent["attrs"], ttl: number, at: number, flags: number, dataOff: number, dataLen: number];

const IMPLIED_JSON = 1;
const ARCHIVE = 2;
const HAS_DATA = 4;

export function encodeDels(dels: BatchDelivery[]): string {
  return JSON.stringify(dels.map((d): DelTuple => {
    const t: DelTuple = [d.idx, d.route];
    if (d.hop === "reply" || d.key !== undefined || d.redrive !== undefined || d.orig) {
      t.push(d.hop === "reply" ? 1 : 0, d.key ?? null, d.redrive ?? null);
      if (d.orig) t.push(d.orig.batch, d.orig.idx);
    }
    return t;
  }));
}

export function decodeDels(text: string): BatchDelivery[] {
  return (JSON.parse(text) as DelTuple[]).map((t, n) => {
    const d: BatchDelivery = { n, idx: t[0], route: t[1], hop: t[2] === 1 ? "reply" : "subscriber" };
    if (t[3] !== undefined && t[3] !== null) d.key = t[3];
    if (t[4] !== undefined && t[4] !== null) d.redrive = t[4];
    if (t[5] !== undefined) d.orig = { batch: t[5], idx: t[6]! };
    return d;
  });
}

export function encodeSettled(settled: Iterable<number>): string {
  return [...settled].sort((a, b) => a - b).join(",");
}

export function decodeSettled(text: string | null): number[] {
  return text ? text.split(",").map(Number) : [];
}

/** The events of a batch as two columns: their metadata as JSON and their payloads as one blob. */
export function encodeEvents(events: BatchEvent[]): { events: string; data: Uint8Array | null } {
  let total = 0;
  for (const e of events) total += e.event.data?.byteLength ?? 0;
  const data = total > 0 ? new Uint8Array(total) : null;
  let off = 0;
  const tuples = events.map((e): EventTuple => {
    const d = e.event.data;
    const flags = (e.event.impliedJson ? IMPLIED_JSON : 0) | (e.archive ? ARCHIVE : 0) | (d ? HAS_DATA : 0);
    const t: EventTuple = [e.seq, e.event.attrs, e.ttl, e.at, flags, off, d?.byteLength ?? 0];
    if (d && d.byteLength) {
      data!.set(d, off);
      off += d.byteLength;
    }
    return t;
  });
  return { events: JSON.stringify(tuples), data };
}

export function decodeEvents(text: string, data: Uint8Array | null): BatchEvent[] {
  return (JSON.parse(text) as EventTuple[]).map(([seq, attrs, ttl, at, flags, off, len]) => {
    const event: CloudEvent = { attrs };
    // Each event gets its own copy: the row's blob is not kept alive by one small event.
    if (flags & HAS_DATA) event.data = len && data ? data.slice(off, off + len) : new Uint8Array(0);
    if (flags & IMPLIED_JSON) event.impliedJson = true;
    return { seq, event, ttl, at, archive: (flags & ARCHIVE) !== 0 };
  });
}

/**
 * Bytes a batch row may hold before the flush starts another one: Cloudflare's SQLite allows 2 MB
 * per row, string or BLOB (developers.cloudflare.com/durable-objects/platform/limits, read
 * 2026-12-07); the margin covers the JSON columns' escaping.
 */
export const BATCH_ROW_BYTES = 1024 * 1024;

/** Approximate stored size of an event in a batch row (its data, its attributes as JSON). */
export function storedSize(event: CloudEvent): number {
  let n = 64 + (event.data?.byteLength ?? 0);
  for (const k in event.attrs) n += k.length + String(event.attrs[k]).length * 3 + 6;
  return n;
}
