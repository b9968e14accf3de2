import { Meter } from "./meter.js";

export { Meter, type MeterSnapshot } from "./meter.js";

/**
 * A thin typed layer over `ctx.storage.sql` with schema migrations gated by a version row, counting
 * the rows each statement read and wrote.
 *
 * @example
 * const db = new Sql(ctx.storage.sql);
 * db.migrate([["CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)"]]);
 * db.run("INSERT INTO t VALUES (?, ?)", "a", "1");
 * db.one<{ v: string }>("SELECT v FROM t WHERE k = ?", "a")?.v; // "1"
 */
export class Sql {
  constructor(private readonly sql: SqlStorage, readonly meter: Meter = new Meter()) {}

  all<T>(query: string, ...args: SqlStorageValue[]): T[] {
    const cursor = this.sql.exec(query, ...args);
    const rows = cursor.toArray() as T[];
    this.meter.rowsRead += cursor.rowsRead;
    this.meter.rowsWritten += cursor.rowsWritten;
    return rows;
  }

  one<T>(query: string, ...args: SqlStorageValue[]): T | undefined {
    return this.all<T>(query, ...args)[0];
  }

  run(query: string, ...args: SqlStorageValue[]): number {
    const cursor = this.sql.exec(query, ...args);
    // Reading to the end makes the counters final (a statement runs as its cursor is read).
    cursor.toArray();
    this.meter.rowsRead += cursor.rowsRead;
    this.meter.rowsWritten += cursor.rowsWritten;
    return cursor.rowsWritten;
  }

  /** Applies the migrations past the stored version, each list of statements in order. */
  migrate(migrations: string[][]): void {
    this.run("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
    const row = this.one<{ version: number }>("SELECT version FROM _schema");
    let version = row?.version ?? 0;
    if (!row) this.run("INSERT INTO _schema (version) VALUES (0)");
    for (; version < migrations.length; version++) {
      for (const stmt of migrations[version]!) this.run(stmt);
      this.run("UPDATE _schema SET version = ?", version + 1);
    }
  }
}
