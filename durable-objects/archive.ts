import {
  ARCHIVE_BATCH_BYTES, ARCHIVE_BATCH_EVENTS, ARCHIVE_SPAN_MS, archiveKey, archiveLine, archivePrefix, parseArchive, parseArchiveKey,
  type ArchivedEvent,
} from "../core/archive.js";
import { log } from "../core/log.js";
import type { BatchEvent } from "./ledger/batch.js";

/** Most archive objects one sweep or purge deletes in a run (R2 deletes up to 1,000 keys per call). */
const SWEEP_PAGES = 5;

/** Where the archive finds what waits for it: the ledger's batch rows flagged for the archive. */
export interface ArchiveSource {
  /** Batches whose events wait for the archive, oldest first. */
  waiting(limit: number): { id: number; events: BatchEvent[] }[];
  hasWaiting(): boolean;
  /** These batches are in the bucket (the ledger deletes what nothing else needs, in a flush). */
  written(ids: number[]): Promise<void>;
}

/** Ledger batches read per archive object at most. */
const READ_BATCHES = 64;

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
    private readonly source: ArchiveSource,
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
    return this.source.hasWaiting();
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
      const batches = this.source.waiting(READ_BATCHES);
      if (!batches.length) return written;
      const lines: string[] = [];
      const ids: number[] = [];
      let first: BatchEvent | undefined;
      let bytes = 0;
      // Whole ledger batches (one flush each, so one moment): an archive object never splits one.
      for (const b of batches) {
        const events = b.events.filter((e) => e.archive);
        const mine = events.map((e) => archiveLine(e.seq, e.at, e.ttl, JSON.stringify(e.event.attrs), e.event.data ?? null, e.event.impliedJson === true));
        const size = mine.reduce((n, l) => n + l.length, 0);
        // A batch spans at most ARCHIVE_SPAN_MS, so its key bounds the time of everything in it.
        if (first && events[0] && (events[0].at >= first.at + ARCHIVE_SPAN_MS || lines.length + mine.length > ARCHIVE_BATCH_EVENTS || bytes + size > ARCHIVE_BATCH_BYTES)) break;
        first ??= events[0];
        lines.push(...mine);
        bytes += size;
        ids.push(b.id);
      }
      if (first) {
        const key = archiveKey(this.owner(), first.at, first.seq);
        try {
          await this.bucket.put(key, lines.join(""), {
            httpMetadata: { contentType: "application/x-ndjson" },
            customMetadata: { events: String(lines.length) },
          });
        } catch (e) {
          log.error("archive: writing a batch failed; it stays in the ledger and is written again", { owner: this.owner(), key, error: String(e) });
          this.wakeAt(Date.now() + 5000);
          return written;
        }
      }
      // Written: batches whose deliveries are done leave the ledger now.
      await this.source.written(ids);
      written += lines.length;
      if (this.nextSweepAt === Infinity) this.nextSweepAt = 0;
      if (ids.length === batches.length && batches.length < READ_BATCHES) return written;
    }
  }
}
