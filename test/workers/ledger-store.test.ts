// The ledger's SQLite store inside a real Durable Object: what a batch row keeps comes back byte for
// byte, ids never repeat across incarnations and wipes, rows written are what the issue budgets,
// and storage from before batch rows migrates with nothing lost.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Sql } from "../../durable-objects/sql.js";
import { SqlLedgerStore } from "../../durable-objects/ledger/sql-store.js";
import { LEDGER_MIGRATIONS, LEDGER_SCHEMA } from "../../durable-objects/ledger/schema.js";
import { COUNTER_SCHEMA } from "../../durable-objects/counters.js";
import type { BatchEvent } from "../../durable-objects/ledger/batch.js";

/** A Durable Object's SQLite with nothing of ours in it. */
async function blank<T>(fn: (db: Sql, state: DurableObjectState) => T): Promise<T> {
  const stub = env.BROKER.get(env.BROKER.newUniqueId());
  return runInDurableObject(stub, (_b, state) => {
    for (const { name } of state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").toArray()) {
      state.storage.sql.exec(`DROP TABLE IF EXISTS "${name}"`);
    }
    return fn(new Sql(state.storage.sql), state);
  });
}

const ALL = [[...LEDGER_SCHEMA, ...COUNTER_SCHEMA, "CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL)"], ...LEDGER_MIGRATIONS];

describe("SqlLedgerStore", () => {
  it("gives back a batch's events exactly: attribute types and scripts, bytes, implied JSON, no data and empty data", async () => {
    const events: BatchEvent[] = [
      { seq: 7, ttl: 250, at: 1000, archive: true, event: { attrs: { specversion: "1.0", id: "ü-1", source: "/ソース", type: "t", myint: 42, mybool: true }, data: new Uint8Array([0, 255, 10, 13]) } },
      { seq: 8, ttl: 255, at: 1001, archive: false, event: { attrs: { specversion: "1.0", id: "2", source: "/s", type: "t" }, data: new TextEncoder().encode('{"a":"é"}'), impliedJson: true } },
      { seq: 9, ttl: 255, at: 1002, archive: false, event: { attrs: { specversion: "1.0", id: "3", source: "/s", type: "t" } } },
      { seq: 10, ttl: 255, at: 1003, archive: false, event: { attrs: { specversion: "1.0", id: "4", source: "/s", type: "t" }, data: new Uint8Array(0) } },
    ];
    const back = await blank((db) => {
      db.migrate(ALL);
      const store = new SqlLedgerStore(db);
      store.insertBatch({ id: 5, events, dels: [{ n: 0, idx: 0, route: "r", hop: "subscriber", key: "k" }, { n: 1, idx: 1, route: "s", hop: "reply", orig: { batch: 4, idx: 2 } }], settled: [1] }, true);
      return { batch: store.batch(5)!, waiting: store.archiveWaiting(10).map((b) => b.id) };
    });
    expect(back.batch.events).toEqual(events);
    expect(back.batch.summary).toMatchObject({ id: 5, settled: [1], archive: true, dels: [{ n: 0, idx: 0, route: "r", hop: "subscriber", key: "k" }, { n: 1, idx: 1, route: "s", hop: "reply", orig: { batch: 4, idx: 2 } }] });
    expect(back.waiting).toEqual([5]);
  });

  it("never hands out an id twice: each incarnation gets a block above every earlier one, and a wipe keeps them", async () => {
    await blank((db) => {
      db.migrate(ALL);
      const store = new SqlLedgerStore(db);
      const a = store.begin(100);
      const b = store.begin(100);
      expect(b.epoch).toBe(a.epoch + 1);
      expect(b.from).toBeGreaterThanOrEqual(a.to);
      store.reserve(b.to + 500);
      store.wipe();
      const c = new SqlLedgerStore(db).begin(100);
      expect(c.from).toBeGreaterThanOrEqual(b.to + 500);
      expect(c.epoch).toBe(b.epoch + 1);
    });
  });

  it("writes one row to store a flush's batch and one to delete it, with no index rows", async () => {
    const written = await blank((db) => {
      db.migrate(ALL);
      const store = new SqlLedgerStore(db);
      const before = db.meter.rowsWritten;
      store.insertBatch({ id: 1, events: [{ seq: 1, ttl: 255, at: 0, archive: false, event: { attrs: { specversion: "1.0", id: "x", source: "/s", type: "t" } } }], dels: Array.from({ length: 10 }, (_, n) => ({ n, idx: 0, route: `r${n}`, hop: "subscriber" as const })), settled: [] }, false);
      const inserted = db.meter.rowsWritten - before;
      store.deleteBatch(1);
      return { inserted, deleted: db.meter.rowsWritten - before - inserted };
    });
    expect(written).toEqual({ inserted: 1, deleted: 1 });
  });

  it("migrates storage from before batch rows: every event and delivery kept, leases ended, counters summed", async () => {
    const after = await blank((db) => {
      db.migrate(ALL.slice(0, 7)); // the schema as it was at 7d7e627
      db.run("INSERT INTO events (seq, attrs, data, implied_json, ttl, received_at, archive) VALUES (3, ?, ?, 1, 250, 1000, 1)", JSON.stringify({ specversion: "1.0", id: "old", source: "/s", type: "t" }), new Uint8Array([1, 2, 3]).buffer);
      db.run("INSERT INTO events (seq, attrs, ttl, received_at) VALUES (4, ?, 255, 1001)", JSON.stringify({ specversion: "1.0", id: "reply", source: "/s", type: "t" }));
      db.run("INSERT INTO deliveries (id, event_seq, route, hop, reply_seq, attempt, due_at, lease_until, gen, local) VALUES (9, 3, 'r', 'reply', 4, 2, 5000, 99999, 3, 1)");
      db.run("INSERT INTO deliveries (id, event_seq, route, hop, attempt, due_at, order_key, blocked) VALUES (10, 3, 'o', 'subscriber', 0, 6000, 'k', 1)");
      db.run("INSERT INTO counters (name, value) VALUES ('accepted', 5), ('delivered', 3)");
      db.migrate(ALL);
      const store = new SqlLedgerStore(db);
      return {
        batches: store.batches().map((b) => ({ id: b.id, dels: b.dels.length, archive: b.archive })),
        event: store.batch(3)!.events[0],
        rows: store.rows().map((r) => [r.id, r.event, r.reply, r.hop, r.attempt, r.due_at, r.leased, r.order_key, r.blocked]),
        totals: JSON.parse(db.one<{ data: string }>("SELECT data FROM counter_totals")!.data),
        next: store.begin(10).from,
      };
    });
    expect(after.batches).toEqual([{ id: 3, dels: 0, archive: true }, { id: 4, dels: 0, archive: false }]);
    expect(after.event).toEqual({ seq: 3, ttl: 250, at: 1000, archive: true, event: { attrs: { specversion: "1.0", id: "old", source: "/s", type: "t" }, data: new Uint8Array([1, 2, 3]), impliedJson: true } });
    expect(after.rows).toEqual([
      [9, { batch: 3, idx: 0 }, { batch: 4, idx: 0 }, "reply", 2, 0, 0, null, 0],
      [10, { batch: 3, idx: 0 }, null, "subscriber", 0, 6000, 0, "k", 1],
    ]);
    expect(after.totals).toEqual({ accepted: 5, delivered: 3 });
    expect(after.next).toBeGreaterThan(10);
  });
});
