import type { CounterStore, DropRecord } from "./counters.js";
import type { Sql } from "./sql.js";

type Counts = Record<string, number>;

/** The counters' tables in the object's SQLite. */
export class SqlCounterStore implements CounterStore {
  constructor(private readonly db: Sql) {}

  totals(): Counts {
    const row = this.db.one<{ data: string }>("SELECT data FROM counter_totals WHERE id = 1");
    return row ? (JSON.parse(row.data) as Counts) : {};
  }

  writeTotals(totals: Counts): void {
    this.db.run("INSERT OR REPLACE INTO counter_totals (id, data) VALUES (1, ?)", JSON.stringify(totals));
  }

  insertDrop(d: DropRecord): void {
    this.db.run("INSERT INTO drops (at, reason, event_id, source, type, route, detail) VALUES (?, ?, ?, ?, ?, ?, ?)", d.at, d.reason, d.id, d.source, d.type, d.route, d.detail);
  }

  trimDrops(keep: number): void {
    this.db.run("DELETE FROM drops WHERE id <= (SELECT MAX(id) FROM drops) - ?", keep);
  }

  recentDrops(limit: number): DropRecord[] {
    return this.db.all<{ at: string; reason: string; event_id: string; source: string; type: string; route: string; detail: string }>(
      "SELECT * FROM drops ORDER BY id DESC LIMIT ?", limit,
    ).map((r) => ({ at: r.at, reason: r.reason, id: r.event_id, source: r.source, type: r.type, route: r.route, detail: r.detail }));
  }
}
