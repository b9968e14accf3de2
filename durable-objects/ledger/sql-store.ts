import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { Sql } from "../sql.js";
import type { DeliveryPatch, DeliveryRow, LedgerStore, NewDelivery, StoredEvent } from "./store.js";

function buffer(u8: Uint8Array): ArrayBuffer {
  return u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength
    ? (u8.buffer as ArrayBuffer)
    : (u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer);
}

const COLUMNS = new Set(["hop", "attempt", "due_at", "lease_until", "gen", "error", "local", "blocked", "throttles"]);
/** Most events whose rows are counted in memory; events past it are checked in storage. */
const MAX_COUNTED = 10_000;

/** The ledger's storage in a Durable Object's SQLite (tables in ./schema.ts). */
export class SqlLedgerStore implements LedgerStore {
  /**
   * Rows using each event stored since the object started, so that of an event's many deliveries
   * only the last one's removal looks for others still using it. A count only ever skips that
   * look; the DELETE keeps its own check. Events stored before a restart are not counted.
   */
  private readonly uses = new Map<number, number>();
  /**
   * The last event seq and delivery id handed out (undefined: read from storage). Ids are chosen
   * here rather than returned by the INSERT (a RETURNING insert costs about twice a plain one).
   * They only go up: the tables are AUTOINCREMENT, so `sqlite_sequence` keeps the largest id ever
   * stored even once its row is deleted, and an outcome of a finished delivery can never settle a
   * new row under a reused id.
   */
  private lastSeq: number | undefined;
  private lastId: number | undefined;

  constructor(private readonly db: Sql) {}

  private largest(table: "events" | "deliveries"): number {
    return this.db.one<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = ?", table)?.seq ?? 0;
  }

  insertEvent(event: CloudEvent, ttl: number, now: number, archive = false, replay?: string): number {
    const seq = (this.lastSeq = (this.lastSeq ?? this.largest("events")) + 1);
    this.db.run(
      "INSERT INTO events (seq, attrs, data, implied_json, ttl, received_at, archive, replay) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      seq, JSON.stringify(event.attrs), event.data ? buffer(event.data) : null, event.impliedJson ? 1 : 0, ttl, now, archive ? 1 : 0, replay ?? null,
    );
    // Archived events are not counted: one may have no delivery at all, and it leaves with its
    // archive batch (archive.ts) or, written already, with its last delivery (the DELETE below).
    if (this.uses.size < MAX_COUNTED && !archive) this.uses.set(seq, 0);
    return seq;
  }

  loadEvent(seq: number): StoredEvent | undefined {
    const r = this.db.one<{ attrs: string; data: ArrayBuffer | null; implied_json: number; ttl: number }>(
      "SELECT attrs, data, implied_json, ttl FROM events WHERE seq = ?", seq,
    );
    if (!r) return undefined;
    const event: CloudEvent = { attrs: JSON.parse(r.attrs) };
    if (r.data) event.data = new Uint8Array(r.data);
    if (r.implied_json) event.impliedJson = true;
    return { event, ttl: r.ttl };
  }

  insertDelivery(d: NewDelivery): number {
    this.use(d.event_seq, 1);
    if (d.reply_seq !== null) this.use(d.reply_seq, 1);
    const id = (this.lastId = (this.lastId ?? this.largest("deliveries")) + 1);
    this.db.run(
      `INSERT INTO deliveries (id, event_seq, route, hop, reply_seq, due_at, gen, lease_until, local, order_key, blocked, redrive_of)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id, d.event_seq, d.route, d.hop, d.reply_seq, d.due_at, d.gen ?? 0, d.lease_until ?? null, d.local ?? 0, d.order_key ?? null, d.blocked ?? 0,
      d.redrive_of ?? null,
    );
    return id;
  }

  delivery(id: number): DeliveryRow | undefined {
    return this.db.one<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", id);
  }

  update(id: number, patch: DeliveryPatch): void {
    const keys = Object.keys(patch).filter((k) => COLUMNS.has(k)) as (keyof DeliveryPatch)[];
    if (!keys.length) return;
    this.db.run(`UPDATE deliveries SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = ?`, ...keys.map((k) => patch[k] ?? null), id);
  }

  remove(row: DeliveryRow): void {
    this.db.run("DELETE FROM deliveries WHERE id = ?", row.id);
    // An event is referenced as `event_seq` (what arrived) or as `reply_seq` (a reply being
    // forwarded), never both ways, so each check needs one index lookup.
    // An event the archive has not written yet stays; the archive deletes it once written (archive.ts).
    if (this.use(row.event_seq, -1)) {
      this.db.run("DELETE FROM events WHERE seq = ?1 AND archive = 0 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_seq = ?1)", row.event_seq);
    }
    if (row.reply_seq !== null && this.use(row.reply_seq, -1)) {
      this.db.run("DELETE FROM events WHERE seq = ?1 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE reply_seq = ?1)", row.reply_seq);
    }
  }

  /** Counts a row more or less for an event; true when no counted row is left (or it is not counted). */
  private use(seq: number, delta: number): boolean {
    const n = this.uses.get(seq);
    if (n === undefined) return true;
    if (n + delta > 0) {
      this.uses.set(seq, n + delta);
      return false;
    }
    this.uses.delete(seq);
    return true;
  }

  /**
   * Writes may have been rolled back, or the tables wiped: counts start over (from nothing). The
   * last ids are kept: ids of rolled-back rows are skipped, never handed out again.
   */
  forget(): void {
    this.uses.clear();
  }

  lapsed(now: number, limit: number): DeliveryRow[] {
    return this.db.all<DeliveryRow>("SELECT * FROM deliveries WHERE lease_until <= ? LIMIT ?", now, limit);
  }

  due(now: number, limit: number, holdRoutes: string[] = []): DeliveryRow[] {
    const hold = holdRoutes.length ? `AND NOT (hop = 'subscriber' AND route IN (${holdRoutes.map(() => "?").join(", ")}))` : "";
    return this.db.all<DeliveryRow>(
      `SELECT * FROM deliveries WHERE lease_until IS NULL AND due_at <= ? AND blocked = 0 ${hold} ORDER BY due_at LIMIT ?`,
      now, ...holdRoutes, limit,
    );
  }

  nextBlocked(route: string, key: string): DeliveryRow | undefined {
    return this.db.one<DeliveryRow>("SELECT * FROM deliveries WHERE route = ? AND order_key = ? AND blocked = 1 ORDER BY id LIMIT 1", route, key);
  }

  chainCounts(): { route: string; order_key: string; n: number }[] {
    return this.db.all("SELECT route, order_key, COUNT(*) AS n FROM deliveries WHERE order_key IS NOT NULL AND blocked = 0 AND hop != 'dls' GROUP BY route, order_key");
  }

  leasedByRoute(): { route: string; n: number }[] {
    return this.db.all("SELECT route, COUNT(*) AS n FROM deliveries WHERE lease_until IS NOT NULL AND hop = 'subscriber' GROUP BY route");
  }

  all(): DeliveryRow[] {
    return this.db.all<DeliveryRow>("SELECT * FROM deliveries");
  }

  count(): number {
    return this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries")!.n;
  }

  leasedCount(): number {
    return this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries WHERE lease_until IS NOT NULL")!.n;
  }

  nextTimes(now: number): { lease?: number; due?: number } {
    const lease = this.db.one<{ t: number | null }>("SELECT MIN(lease_until) AS t FROM deliveries WHERE lease_until IS NOT NULL")?.t;
    const due = this.db.one<{ t: number | null }>("SELECT MIN(due_at) AS t FROM deliveries WHERE lease_until IS NULL AND due_at > ?", now)?.t;
    return { ...(typeof lease === "number" ? { lease } : {}), ...(typeof due === "number" ? { due } : {}) };
  }

  expireLocalLeases(now: number): number {
    return this.db.run("UPDATE deliveries SET lease_until = ?, local = 0 WHERE local = 1 AND lease_until IS NOT NULL", now);
  }
}
