import type { CloudEvent } from "../core/cloudevents/event.js";
import { encodeStructured } from "../core/cloudevents/encode.js";
import { parseMessage } from "../core/cloudevents/http.js";
import { log } from "../core/log.js";
import type { Sql } from "./sql.js";

/** The index of kept dead letters; the events themselves go to R2 (`ARCHIVE`) once written there. */
export const DEAD_LETTER_SCHEMA: string[] = [
  `CREATE TABLE IF NOT EXISTS deadletters (
     id TEXT PRIMARY KEY,
     event_id TEXT NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,
     route TEXT NOT NULL, route_name TEXT NOT NULL,
     status INTEGER, reason TEXT NOT NULL, detail TEXT NOT NULL, attempts INTEGER NOT NULL,
     at INTEGER NOT NULL,
     body TEXT)`,
  "CREATE INDEX IF NOT EXISTS deadletters_by_at ON deadletters (at)",
];

/** How long a kept dead letter stays unless `eddy.dev/deadletter-retention` says otherwise. */
export const DEFAULT_DEAD_LETTER_RETENTION_MS = 14 * 24 * 3600_000;

export interface DeadLetterEntry {
  id: string;
  eventId: string;
  type: string;
  source: string;
  /** The Trigger or Subscription that could not deliver it. */
  route: string;
  /** Last HTTP status, when there was an answer. */
  status: number | null;
  reason: string;
  detail: string;
  attempts: number;
  at: string;
}

interface Row {
  id: string; event_id: string; type: string; source: string; route: string; route_name: string;
  status: number | null; reason: string; detail: string; attempts: number; at: number; body: string | null;
}

/**
 * Dead letters kept instead of dropped: an event whose retries ran out with no dead-letter sink, or
 * that its dead-letter sink refused for good. Keeping is part of the same storage turn as the
 * failure (the event is copied into the index row), so nothing is lost between the ledger and the
 * bucket; the body moves to R2 afterwards, and an object that dies first moves it on its next alarm.
 *
 * @example
 * const id = deadLetters.keep(event, { uid: "t-uid", name: "orders" }, 503, "retries-exhausted", "...", 3, Date.now());
 * await deadLetters.flush();
 */
export class DeadLetters {
  private pendingFlush = false;
  /** R2 objects of entries removed from the index, deleted on the next flush. */
  private doomed: string[] = [];

  constructor(private readonly db: Sql, private readonly bucket: R2Bucket | undefined, private readonly owner: () => string) {}

  private key(id: string): string {
    return `deadletters/${this.owner()}/${id}.json`;
  }

  /** Keeps the event; returns the entry id. Synchronous: it commits with the failure that caused it. */
  keep(event: CloudEvent, route: { uid: string; name: string }, status: number | undefined, reason: string, detail: string, attempts: number, now: number, replaces?: string): string {
    const id = replaces ?? `${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    this.db.run(
      `INSERT OR REPLACE INTO deadletters (id, event_id, type, source, route, route_name, status, reason, detail, attempts, at, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id, String(event.attrs.id ?? ""), String(event.attrs.type ?? ""), String(event.attrs.source ?? ""), route.uid, route.name,
      status ?? null, reason, detail, attempts, now, dec.decode(encodeStructured(event).body ?? new Uint8Array()),
    );
    this.pendingFlush = true;
    return id;
  }

  /** Whether some kept event is still only in the index (not yet in R2). */
  get unflushed(): boolean {
    return this.pendingFlush;
  }

  /** Moves kept events' bodies to R2; bodies stay in the index until their write succeeded. */
  async flush(): Promise<void> {
    this.pendingFlush = false;
    if (!this.bucket) return; // no bucket bound: the index keeps the body
    const doomed = this.doomed;
    this.doomed = [];
    if (doomed.length) await this.bucket.delete(doomed).catch((e) => log.warn("could not delete purged dead letters from R2", { owner: this.owner(), error: String(e) }));
    const rows = this.db.all<{ id: string; body: string }>("SELECT id, body FROM deadletters WHERE body IS NOT NULL LIMIT 100");
    for (const r of rows) {
      try {
        await this.bucket.put(this.key(r.id), r.body, { httpMetadata: { contentType: "application/cloudevents+json" } });
        this.db.run("UPDATE deadletters SET body = NULL WHERE id = ? AND body IS NOT NULL", r.id);
      } catch (e) {
        this.pendingFlush = true;
        log.error("could not write a dead letter to R2; it stays in the object's storage until the next try", { owner: this.owner(), id: r.id, error: String(e) });
        return;
      }
    }
    if (rows.length === 100) this.pendingFlush = true;
  }

  list(filter: { route?: string } = {}, limit = 500): DeadLetterEntry[] {
    const rows = filter.route
      ? this.db.all<Row>("SELECT * FROM deadletters WHERE route_name = ? ORDER BY at DESC LIMIT ?", filter.route, limit)
      : this.db.all<Row>("SELECT * FROM deadletters ORDER BY at DESC LIMIT ?", limit);
    return rows.map(entry);
  }

  /** The entry and its event (structured JSON format), or undefined. */
  async get(id: string): Promise<(DeadLetterEntry & { event: unknown }) | undefined> {
    const r = this.db.one<Row>("SELECT * FROM deadletters WHERE id = ?", id);
    if (!r) return undefined;
    let body = r.body;
    if (body === null && this.bucket) body = (await (await this.bucket.get(this.key(id)))?.text()) ?? null;
    return { ...entry(r), event: body === null ? null : JSON.parse(body) };
  }

  /** Ids and routes of the entries a redrive selects. */
  select(sel: { ids?: string[]; route?: string; all?: boolean }): { id: string; route: string }[] {
    if (sel.all) return this.db.all("SELECT id, route FROM deadletters ORDER BY at");
    if (sel.route) return this.db.all("SELECT id, route FROM deadletters WHERE route_name = ? ORDER BY at", sel.route);
    return (sel.ids ?? []).flatMap((id) => this.db.all<{ id: string; route: string }>("SELECT id, route FROM deadletters WHERE id = ?", id));
  }

  /** Removes an entry from the index now (synchronously, with whatever caused it); its R2 object goes on the next flush. */
  remove(id: string): boolean {
    const gone = this.db.run("DELETE FROM deadletters WHERE id = ?", id) > 0;
    if (gone) {
      this.doomed.push(this.key(id));
      this.pendingFlush = true;
    }
    return gone;
  }

  /** The event of an entry, from the index or from R2. */
  async event(id: string): Promise<CloudEvent | undefined> {
    const got = await this.get(id);
    if (!got?.event) return undefined;
    const bytes = enc.encode(JSON.stringify(got.event));
    return parseMessage(new Headers({ "content-type": "application/cloudevents+json" }), bytes).events[0];
  }

  /** Forgets entries older than the retention (an R2 lifecycle rule does the same in production). */
  sweep(now: number, retentionMs: number): number {
    const old = this.db.all<{ id: string }>("SELECT id FROM deadletters WHERE at < ? LIMIT 500", now - retentionMs);
    for (const r of old) this.remove(r.id);
    return old.length;
  }

  count(): number {
    return this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM deadletters")!.n;
  }

  oldest(): number | undefined {
    return this.db.one<{ t: number | null }>("SELECT MIN(at) AS t FROM deadletters")?.t ?? undefined;
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function entry(r: Row): DeadLetterEntry {
  return {
    id: r.id, eventId: r.event_id, type: r.type, source: r.source, route: r.route_name, status: r.status,
    reason: r.reason, detail: r.detail, attempts: r.attempts, at: new Date(r.at).toISOString(),
  };
}
