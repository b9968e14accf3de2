// The ledger's SQLite store inside a real Durable Object: ids it hands out never repeat, across
// deleted rows, rolled-back writes and a new incarnation of the store on the same storage.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Sql } from "../../durable-objects/sql.js";
import { SqlLedgerStore } from "../../durable-objects/ledger/sql-store.js";
import { LEDGER_MIGRATIONS, LEDGER_SCHEMA } from "../../durable-objects/ledger/schema.js";
import type { NewDelivery } from "../../durable-objects/ledger/store.js";

const event = { attrs: { specversion: "1.0", id: "e1", source: "/t", type: "t" } };
const delivery = (seq: number): NewDelivery => ({ event_seq: seq, route: "r", hop: "subscriber", reply_seq: null, due_at: 0 });

describe("SqlLedgerStore ids", () => {
  it("never hands out an id twice: not after a delete, a rollback, or a new store on the same storage", async () => {
    const stub = env.BROKER.get(env.BROKER.newUniqueId());
    await runInDurableObject(stub, (_broker, state) => {
      const db = new Sql(state.storage.sql);
      db.migrate([LEDGER_SCHEMA, ...LEDGER_MIGRATIONS]);
      const store = new SqlLedgerStore(db);
      const seqs: number[] = [];
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) {
        seqs.push(store.insertEvent(event, 10, 0));
        ids.push(store.insertDelivery(delivery(seqs[i]!)));
      }
      expect(seqs).toEqual([seqs[0], seqs[0]! + 1, seqs[0]! + 2]);
      expect(ids).toEqual([ids[0], ids[0]! + 1, ids[0]! + 2]);
      // The newest rows go: their ids are not reused.
      for (let i = 2; i >= 0; i--) store.remove(store.delivery(ids[i]!)!);
      expect(db.one<{ n: number }>("SELECT COUNT(*) AS n FROM events")!.n).toBe(0);
      const seq4 = store.insertEvent(event, 10, 0);
      const id4 = store.insertDelivery(delivery(seq4));
      expect(seq4).toBe(seqs[2]! + 1);
      expect(id4).toBe(ids[2]! + 1);
      // A write rolled back: its ids are skipped, not handed out again.
      expect(() =>
        state.storage.transactionSync(() => {
          store.insertDelivery(delivery(seq4));
          throw new Error("rolled back");
        }),
      ).toThrow("rolled back");
      store.forget();
      expect(store.insertDelivery(delivery(seq4))).toBe(id4 + 2);
      store.remove(store.delivery(id4 + 2)!);
      store.remove(store.delivery(id4)!);
      // A new incarnation reads the largest id ever stored, deleted rows included.
      const again = new SqlLedgerStore(db);
      expect(again.insertEvent(event, 10, 0)).toBe(seq4 + 1);
      expect(again.insertDelivery(delivery(seq4 + 1))).toBe(id4 + 3);
    });
  });
});
