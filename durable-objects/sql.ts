/**
 * A thin typed layer over `ctx.storage.sql` with schema migrations gated by a version row.
 *
 * @example
 * const db = new Sql(ctx.storage.sql);
 * db.migrate([["CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)"]]);
 * db.run("INSERT INTO t VALUES (?, ?)", "a", "1");
 * db.one<{ v: string }>("SELECT v FROM t WHERE k = ?", "a")?.v; // "1"
 */
export class Sql {
  constructor(private readonly sql: SqlStorage) {}

  all<T>(query: string, ...args: SqlStorageValue[]): T[] {
    return this.sql.exec(query, ...args).toArray() as T[];
  }

  one<T>(query: string, ...args: SqlStorageValue[]): T | undefined {
    return this.all<T>(query, ...args)[0];
  }

  run(query: string, ...args: SqlStorageValue[]): number {
    return this.sql.exec(query, ...args).rowsWritten;
  }

  /** Applies the migrations past the stored version, each list of statements in order. */
  migrate(migrations: string[][]): void {
    this.sql.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
    const row = this.one<{ version: number }>("SELECT version FROM _schema");
    let version = row?.version ?? 0;
    if (!row) this.sql.exec("INSERT INTO _schema (version) VALUES (0)");
    for (; version < migrations.length; version++) {
      for (const stmt of migrations[version]!) this.sql.exec(stmt);
      this.sql.exec("UPDATE _schema SET version = ?", version + 1);
    }
  }
}
