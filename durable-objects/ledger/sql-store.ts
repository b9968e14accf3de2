import type { Sql } from "../sql.js";
import {
  decodeDels, decodeEvents, decodeSettled, encodeDels, encodeEvents, encodeSettled,
  type BatchEvent, type BatchSummary, type NewBatch,
} from "./batch.js";
import type { DeliveryRow, LedgerStore, RowPatch } from "./store.js";

const PATCHABLE = new Set(["hop", "attempt", "due_at", "leased", "error", "blocked", "throttles"]);
/** Tables the ledger empties when its owner is deleted (ledger_meta stays: ids never repeat). */
const WIPED = ["batches", "deliveries"];

interface RawRow {
  id: number; batch: number; idx: number; reply_batch: number | null; reply_idx: number | null; route: string; hop: DeliveryRow["hop"];
  attempt: number; due_at: number; leased: number; error: string | null; order_key: string | null; blocked: number; throttles: number; redrive_of: string | null;
}

interface RawSummary {
  id: number; dels: string; settled: string | null; archive: number; replay: string | null; counts: string | null;
}

function toRow(r: RawRow): DeliveryRow {
  return {
    id: r.id, event: { batch: r.batch, idx: r.idx }, reply: r.reply_batch === null ? null : { batch: r.reply_batch, idx: r.reply_idx ?? 0 },
    route: r.route, hop: r.hop, attempt: r.attempt, due_at: r.due_at, leased: r.leased, error: r.error, order_key: r.order_key,
    blocked: r.blocked, throttles: r.throttles, redrive_of: r.redrive_of,
  };
}

function toSummary(r: RawSummary): BatchSummary {
  return {
    id: r.id, dels: decodeDels(r.dels), settled: decodeSettled(r.settled), archive: r.archive === 1, replay: r.replay,
    counts: r.counts ? (JSON.parse(r.counts) as Record<string, number>) : null,
  };
}

function bytes(b: ArrayBuffer | null): Uint8Array | null {
  return b ? new Uint8Array(b) : null;
}

/** The ledger's storage in a Durable Object's SQLite (tables in ./schema.ts). */
export class SqlLedgerStore implements LedgerStore {
  constructor(private readonly db: Sql) {}

  begin(block: number): { epoch: number; from: number; to: number } {
    const m = this.db.one<{ epoch: number; next_id: number }>("SELECT epoch, next_id FROM ledger_meta WHERE id = 1") ?? { epoch: 0, next_id: 1 };
    const epoch = m.epoch + 1;
    const to = m.next_id + block;
    this.db.run("INSERT OR REPLACE INTO ledger_meta (id, epoch, next_id) VALUES (1, ?, ?)", epoch, to);
    return { epoch, from: m.next_id, to };
  }

  reserve(to: number): void {
    this.db.run("UPDATE ledger_meta SET next_id = ? WHERE id = 1 AND next_id < ?", to, to);
  }

  insertBatch(b: NewBatch, archive: boolean): void {
    const { events, data } = encodeEvents(b.events);
    const blob = data ? (data.buffer as ArrayBuffer) : null;
    this.db.run(
      "INSERT INTO batches (id, dels, events, data, archive, replay, settled, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      b.id, encodeDels(b.dels), events, blob, archive ? 1 : 0, b.replay ?? null, encodeSettled(b.settled),
      b.counts && Object.keys(b.counts).length ? JSON.stringify(b.counts) : null,
    );
  }

  batches(): BatchSummary[] {
    return this.db.all<RawSummary>("SELECT id, dels, settled, archive, replay, counts FROM batches ORDER BY id").map(toSummary);
  }

  batch(id: number): { events: BatchEvent[]; summary: BatchSummary } | undefined {
    const r = this.db.one<RawSummary & { events: string; data: ArrayBuffer | null }>(
      "SELECT id, dels, settled, archive, replay, counts, events, data FROM batches WHERE id = ?", id,
    );
    return r ? { events: decodeEvents(r.events, bytes(r.data)), summary: toSummary(r) } : undefined;
  }

  setSettled(id: number, settled: Iterable<number>): void {
    this.db.run("UPDATE batches SET settled = ? WHERE id = ?", encodeSettled(settled), id);
  }

  setArchived(id: number): void {
    this.db.run("UPDATE batches SET archive = 0 WHERE id = ?", id);
  }

  deleteBatch(id: number): void {
    this.db.run("DELETE FROM batches WHERE id = ?", id);
  }

  archiveWaiting(limit: number): { id: number; events: BatchEvent[] }[] {
    return this.db.all<{ id: number; events: string; data: ArrayBuffer | null }>(
      "SELECT id, events, data FROM batches WHERE archive = 1 ORDER BY id LIMIT ?", limit,
    ).map((r) => ({ id: r.id, events: decodeEvents(r.events, bytes(r.data)) }));
  }

  insertRow(r: DeliveryRow): void {
    this.db.run(
      `INSERT INTO deliveries (id, batch, idx, reply_batch, reply_idx, route, hop, attempt, due_at, leased, error, order_key, blocked, throttles, redrive_of)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.id, r.event.batch, r.event.idx, r.reply?.batch ?? null, r.reply?.idx ?? null, r.route, r.hop, r.attempt, r.due_at, r.leased,
      r.error, r.order_key, r.blocked, r.throttles, r.redrive_of,
    );
  }

  row(id: number): DeliveryRow | undefined {
    const r = this.db.one<RawRow>("SELECT * FROM deliveries WHERE id = ?", id);
    return r ? toRow(r) : undefined;
  }

  update(id: number, patch: RowPatch): void {
    const keys = Object.keys(patch).filter((k) => PATCHABLE.has(k)) as (keyof RowPatch)[];
    if (!keys.length) return;
    this.db.run(`UPDATE deliveries SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = ?`, ...keys.map((k) => patch[k] ?? null), id);
  }

  deleteRow(id: number): void {
    this.db.run("DELETE FROM deliveries WHERE id = ?", id);
  }

  due(now: number, limit: number, holdRoutes: string[]): DeliveryRow[] {
    // Held routes go as one JSON parameter: an IN list of parameters would meet the 100-parameter limit.
    const hold = holdRoutes.length ? "AND NOT (hop = 'subscriber' AND route IN (SELECT value FROM json_each(?)))" : "";
    const args = holdRoutes.length ? [now, JSON.stringify(holdRoutes), limit] : [now, limit];
    return this.db.all<RawRow>(
      `SELECT * FROM deliveries WHERE blocked = 0 AND leased = 0 AND due_at <= ? ${hold} ORDER BY due_at LIMIT ?`, ...args,
    ).map(toRow);
  }

  nextBlocked(route: string, key: string): DeliveryRow | undefined {
    const r = this.db.one<RawRow>("SELECT * FROM deliveries WHERE blocked = 1 AND route = ? AND order_key = ? ORDER BY id LIMIT 1", route, key);
    return r ? toRow(r) : undefined;
  }

  rows(): DeliveryRow[] {
    return this.db.all<RawRow>("SELECT * FROM deliveries ORDER BY id").map(toRow);
  }

  rowCount(): number {
    return this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries")!.n;
  }

  nextDue(now: number): number | undefined {
    const t = this.db.one<{ t: number | null }>("SELECT MIN(due_at) AS t FROM deliveries WHERE blocked = 0 AND leased = 0 AND due_at > ?", now)?.t;
    return typeof t === "number" ? t : undefined;
  }

  unleaseAll(now: number): number {
    const n = this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries WHERE leased = 1")!.n;
    if (n > 0) this.db.run("UPDATE deliveries SET leased = 0, due_at = ? WHERE leased = 1", now);
    return n;
  }

  wipe(): void {
    for (const t of WIPED) this.db.run(`DELETE FROM ${t}`);
  }
}
