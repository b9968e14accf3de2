import type { FieldError } from "./errors.js";
import type { CloudEvent } from "./cloudevents/event.js";
import { fromBase64, toBase64 } from "./base64.js";
import { retentionMs, validateRetention } from "./duration.js";

/**
 * The archive: every event a Broker or Channel accepts, kept in R2 for a retention period so that a
 * Replay can deliver a window of it again. Pure helpers here (the annotation, object keys, the
 * line format); the writer is durable-objects/archive.ts, the reader durable-objects/replayer.ts.
 */
export const ARCHIVE_RETENTION_ANNOTATION = "eddy.dev/archive-retention";
/**
 * One archive object spans at most this much acceptance time: a batch closes at the first event
 * accepted this long after the batch's first one, so the object's key (its first event's time)
 * bounds every event in it, for the retention sweep and for skipping objects outside a window.
 */
export const ARCHIVE_SPAN_MS = 1000;
/** And at most this many events, or about this many bytes. */
export const ARCHIVE_BATCH_EVENTS = 1000;
export const ARCHIVE_BATCH_BYTES = 4 * 1024 * 1024;

/** The retention in ms of valid annotations; undefined when archiving is off (absent or PT0S). */
export function archiveRetentionMs(annotations: Record<string, string> | undefined): number | undefined {
  const ms = retentionMs(annotations, ARCHIVE_RETENTION_ANNOTATION);
  return ms && ms > 0 ? ms : undefined;
}

export function validateArchiveRetention(annotations: unknown): FieldError[] {
  return validateRetention(annotations, ARCHIVE_RETENTION_ANNOTATION, "archive off", "P7D");
}

/** Where one data-plane object's archive lives in the bucket (its partition's own prefix). */
export function archivePrefix(owner: string): string {
  return `archive/${owner}/`;
}

/**
 * One batch's key: the acceptance time and sequence number of its first event, zero-padded, so a
 * listing returns the batches of an object in acceptance order. Writing the same batch again
 * after a crash (its first event is the same) overwrites the same key.
 */
export function archiveKey(owner: string, firstMs: number, firstSeq: number): string {
  return `${archivePrefix(owner)}${String(firstMs).padStart(13, "0")}-${String(firstSeq).padStart(12, "0")}.ndjson`;
}

/** The first event's time and seq of an archive key; undefined for a key of another shape. */
export function parseArchiveKey(key: string): { firstMs: number; firstSeq: number } | undefined {
  const m = /(\d{13})-(\d{12})\.ndjson$/.exec(key);
  return m ? { firstMs: Number(m[1]), firstSeq: Number(m[2]) } : undefined;
}

/** One archived event: its place in its partition (`seq`), when it was accepted, and the event as stored. */
export interface ArchivedEvent {
  seq: number;
  at: number;
  ttl: number;
  event: CloudEvent;
}

/**
 * One line of an archive object (NDJSON). The event is kept exactly as the ledger held it:
 * attributes with their JSON types, the payload bytes in base64, and whether JSON was implied,
 * so a replay sends byte for byte what was accepted.
 */
export function archiveLine(seq: number, at: number, ttl: number, attrsJson: string, data: Uint8Array | null, impliedJson: boolean): string {
  const d = data && data.byteLength > 0 ? `,"data":"${toBase64(data)}"` : data ? ',"data":""' : "";
  return `{"seq":${seq},"at":${at},"ttl":${ttl}${impliedJson ? ',"impliedJson":true' : ""},"attrs":${attrsJson}${d}}\n`;
}

/** The events of an archive object, in the order written; a damaged line is skipped and reported. */
export function parseArchive(text: string, onBad: (line: number, error: string) => void = () => {}): ArchivedEvent[] {
  const out: ArchivedEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    try {
      const o = JSON.parse(line) as { seq: number; at: number; ttl: number; impliedJson?: boolean; attrs: CloudEvent["attrs"]; data?: string };
      const event: CloudEvent = { attrs: o.attrs };
      if (o.data !== undefined) event.data = fromBase64(o.data);
      if (o.impliedJson) event.impliedJson = true;
      out.push({ seq: o.seq, at: o.at, ttl: o.ttl, event });
    } catch (e) {
      onBad(i + 1, String(e));
    }
  }
  return out;
}

/** RFC 3339 date-time (with a zone), as Kubernetes writes times; undefined otherwise. */
export function parseRfc3339(v: unknown): number | undefined {
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}
