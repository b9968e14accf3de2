import { log } from "../core/log.js";
import type { Sql } from "./sql.js";

export const COUNTER_SCHEMA: string[] = [
  "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
  `CREATE TABLE drops (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL, reason TEXT NOT NULL, event_id TEXT, source TEXT, type TEXT, route TEXT, detail TEXT)`,
];

/** How many dropped events each Durable Object keeps for inspection. */
const DROP_LOG_SIZE = 1000;

export interface DropRecord {
  at: string;
  reason: string;
  id: string;
  source: string;
  type: string;
  route: string;
  detail: string;
}

/**
 * Durable counters of what a data-plane object did, plus a bounded log of every event it dropped
 * on purpose, so no drop is silent: each is counted under `dropped.<reason>`, logged, and listed.
 *
 * @example
 * counters.add("accepted", 3);
 * counters.drop("no-matching-trigger", { id: "e1", source: "/s", type: "t", route: "", detail: "" }, Date.now());
 * counters.snapshot(); // { accepted: 3, "dropped.no-matching-trigger": 1 }
 */
export class Counters {
  private sinceTrim = 0;

  constructor(private readonly db: Sql, private readonly owner: () => string) {}

  /** Increments not yet written; flushed before the turn ends, so they commit with what they count. */
  private pending = new Map<string, number>();
  private flushQueued = false;

  add(name: string, n = 1): void {
    this.pending.set(name, (this.pending.get(name) ?? 0) + n);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  /** Writes the pending increments (one statement per counter, however many events they count). */
  flush(): void {
    this.flushQueued = false;
    for (const [name, n] of this.pending) {
      this.db.run(
        "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        name, n,
      );
    }
    this.pending.clear();
  }

  /** `ev.traceId` (from `traceFields(event)`) goes to the log line only, so a drop can be found by its trace. */
  drop(reason: string, ev: Omit<DropRecord, "at" | "reason"> & { traceId?: string }, now: number): void {
    const at = new Date(now).toISOString();
    this.add(`dropped.${reason}`);
    this.db.run(
      "INSERT INTO drops (at, reason, event_id, source, type, route, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
      at, reason, ev.id, ev.source, ev.type, ev.route, ev.detail,
    );
    if (++this.sinceTrim >= 100) {
      this.sinceTrim = 0;
      this.db.run("DELETE FROM drops WHERE id <= (SELECT MAX(id) FROM drops) - ?", DROP_LOG_SIZE);
    }
    log.warn("event dropped", { owner: this.owner(), reason, ...ev });
  }

  snapshot(): Record<string, number> {
    this.flush();
    const out: Record<string, number> = {};
    for (const r of this.db.all<{ name: string; value: number }>("SELECT name, value FROM counters ORDER BY name")) {
      out[r.name] = r.value;
    }
    return out;
  }

  recentDrops(limit = 100): DropRecord[] {
    return this.db.all<{ at: string; reason: string; event_id: string; source: string; type: string; route: string; detail: string }>(
      "SELECT * FROM drops ORDER BY id DESC LIMIT ?", limit,
    ).map((r) => ({ at: r.at, reason: r.reason, id: r.event_id, source: r.source, type: r.type, route: r.route, detail: r.detail }));
  }
}
