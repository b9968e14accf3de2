import {
  ARCHIVE_BATCH_BYTES, ARCHIVE_BATCH_EVENTS, ARCHIVE_SPAN_MS, archiveKey, archiveLine, archivePrefix, parseArchive, parseArchiveKey,
  type ArchivedEvent,
} from "../core/archive.js";
import { log } from "../core/log.js";
import type { Sql } from "./sql.js";

/** Most archive objects one sweep or purge deletes in a run (R2 deletes up to 1,000 keys per call). */
const SWEEP_PAGES = 5;

interface PendingRow {
  seq: number;
  attrs: string;
  data: ArrayBuffer | null;
  implied_json: number;
  ttl: number;
  received_at: number;
}

/**
 * Writes one data-plane object's accepted events to R2 (`ARCHIVE`), behind the ledger: an event
 * is stored with `archive = 1` in the same storage turn that answers its producer (so the 202
 * waits for nothing more), and leaves the ledger only after the batch holding it is in the bucket.
 * Batches are time-ordered NDJSON objects (core/archive.ts), at most a second of acceptance time,
 * 1,000 events or 4 MB each, written about once a second and never one object per event.
 *
 * Crash safety: a batch that was written but not yet marked is written again under the same key
 * (its first event is the same), so the archive never holds an event twice.
 *
 * @example
 * archive.accepted(events.length, Date.now()); // after the publish committed
 * await archive.flush();                        // from the timer, the alarm, or a replay
 */
export class Archive {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private waiting = 0;
  private running: Promise<number> | null = null;
  private again = false;
  private nextSweepAt = 0;

  constructor(
    private readonly db: Sql,
    private readonly bucket: R2Bucket | undefined,
    private readonly owner: () => string,
    /** The object's durable alarm: the backstop that writes what a dead incarnation did not. */
    private readonly wakeAt: (at: number) => void,
  ) {}

  /** Whether the bucket exists at all (a deployment without `ARCHIVE` cannot archive). */
  get available(): boolean {
    return this.bucket !== undefined;
  }

  /** `n` events waiting for the archive were committed: write them within about a second. */
  accepted(n: number, now: number): void {
    this.waiting += n;
    if (this.waiting >= ARCHIVE_BATCH_EVENTS) this.arm(0);
    else this.arm(ARCHIVE_SPAN_MS);
    this.wakeAt(now + ARCHIVE_SPAN_MS + 2000);
  }

  /** Writes every waiting event; resolves with how many were written. One writer at a time. */
  async flush(): Promise<number> {
    if (this.running) {
      // A flush already runs; what was committed after it started is written by one more pass.
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let total = 0;
      do {
        this.again = false;
        total += await this.writeAll();
      } while (this.again);
      return total;
    })();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  /** Whether events still wait in the ledger for the archive. */
  hasWaiting(): boolean {
    return this.db.one("SELECT 1 AS x FROM events WHERE archive = 1 LIMIT 1") !== undefined;
  }

  /** Deletes the objects whose every event is older than the retention; returns how many went. */
  async sweep(now: number, retentionMs: number): Promise<number> {
    if (!this.bucket || now < this.nextSweepAt) return 0;
    const horizon = now - retentionMs;
    let deleted = 0;
    let cursor: string | undefined;
    for (let page = 0; page < SWEEP_PAGES; page++) {
      const list = await this.bucket.list({ prefix: archivePrefix(this.owner()), limit: 1000, ...(cursor ? { cursor } : {}) });
      const expired: string[] = [];
      let next: number | undefined;
      for (const o of list.objects) {
        const k = parseArchiveKey(o.key);
        if (!k) continue;
        if (k.firstMs + ARCHIVE_SPAN_MS <= horizon) expired.push(o.key);
        else {
          next = k.firstMs + ARCHIVE_SPAN_MS + retentionMs;
          break;
        }
      }
      if (expired.length) await this.bucket.delete(expired);
      deleted += expired.length;
      if (next !== undefined || !list.truncated) {
        this.nextSweepAt = next ?? Infinity;
        break;
      }
      cursor = list.cursor;
    }
    if (deleted) log.info("archive: expired batches deleted", { owner: this.owner(), objects: deleted });
    if (Number.isFinite(this.nextSweepAt)) this.wakeAt(Math.max(this.nextSweepAt, now + 1000));
    return deleted;
  }

  /** The retention changed (or the object restarted): the next sweep looks again. */
  resetSweep(): void {
    this.nextSweepAt = 0;
  }

  /** The archive's objects after `afterKey` (all of them from ""), oldest first. */
  async list(afterKey: string, limit: number): Promise<{ keys: string[]; more: boolean }> {
    if (!this.bucket) return { keys: [], more: false };
    const list = await this.bucket.list({ prefix: archivePrefix(this.owner()), limit, ...(afterKey ? { startAfter: afterKey } : {}) });
    return { keys: list.objects.map((o) => o.key), more: list.truncated };
  }

  /** The events of one archive object; an object gone meanwhile (swept) reads as empty. */
  async read(key: string): Promise<ArchivedEvent[]> {
    const obj = await this.bucket?.get(key);
    if (!obj) return [];
    return parseArchive(await obj.text(), (line, error) => log.error("archive: a damaged line is skipped", { owner: this.owner(), key, line, error }));
  }

  /** Deletes the whole archive of this object (its owner was deleted). */
  async purge(): Promise<void> {
    if (!this.bucket) return;
    for (let page = 0; page < SWEEP_PAGES * 20; page++) {
      const list = await this.bucket.list({ prefix: archivePrefix(this.owner()), limit: 1000 });
      if (list.objects.length) await this.bucket.delete(list.objects.map((o) => o.key));
      if (!list.truncated) return;
    }
  }

  private arm(ms: number): void {
    if (this.timer !== undefined) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.waiting = 0;
      void this.flush().catch(() => {});
    }, ms);
  }

  private async writeAll(): Promise<number> {
    if (!this.bucket) return 0;
    let written = 0;
    for (;;) {
      const rows = this.db.all<PendingRow>(
        "SELECT seq, attrs, data, implied_json, ttl, received_at FROM events WHERE archive = 1 ORDER BY seq LIMIT ?", ARCHIVE_BATCH_EVENTS,
      );
      if (!rows.length) return written;
      const first = rows[0]!;
      const lines: string[] = [];
      let bytes = 0;
      let last = first.seq;
      for (const r of rows) {
        // A batch spans at most ARCHIVE_SPAN_MS, so its key bounds the time of everything in it.
        if (r.received_at >= first.received_at + ARCHIVE_SPAN_MS) break;
        const line = archiveLine(r.seq, r.received_at, r.ttl, r.attrs, r.data ? new Uint8Array(r.data) : null, r.implied_json === 1);
        if (lines.length && bytes + line.length > ARCHIVE_BATCH_BYTES) break;
        lines.push(line);
        bytes += line.length;
        last = r.seq;
      }
      const key = archiveKey(this.owner(), first.received_at, first.seq);
      try {
        await this.bucket.put(key, lines.join(""), {
          httpMetadata: { contentType: "application/x-ndjson" },
          customMetadata: { events: String(lines.length), lastSeq: String(last) },
        });
      } catch (e) {
        log.error("archive: writing a batch failed; it stays in the ledger and is written again", { owner: this.owner(), key, error: String(e) });
        this.wakeAt(Date.now() + 5000);
        return written;
      }
      this.db.run("UPDATE events SET archive = 0 WHERE archive = 1 AND seq BETWEEN ? AND ?", first.seq, last);
      // Written: events whose deliveries are done leave the ledger now.
      this.db.run(
        "DELETE FROM events WHERE seq BETWEEN ?1 AND ?2 AND archive = 0 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_seq = events.seq)",
        first.seq, last,
      );
      written += lines.length;
      if (this.nextSweepAt === Infinity) this.nextSweepAt = 0;
      if (lines.length === rows.length && rows.length < ARCHIVE_BATCH_EVENTS) return written;
    }
  }
}
