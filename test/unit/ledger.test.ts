// The ledger's state machine, transition by transition, against an in-memory store with SQLite's
// transaction semantics, through the real group commit and counters.
import { describe, expect, it } from "vitest";
import { LOCAL_RECOVERY_MS } from "../../durable-objects/ledger/machine.js";
import { ev, ledgerFixture, MemoryDb, route } from "../support/memory-ledger.js";

const T0 = 1_000_000;

describe("ledger: storage of a delivery", () => {
  it("stores every event of a flush in one batch row, with no row per delivery, and sends only after the commit", async () => {
    const f = ledgerFixture([route("a"), route("b")]);
    const rowsBefore = f.db.rowsWritten;
    let sentInJob = -1;
    await f.job(() => {
      for (let i = 0; i < 5; i++) f.ledger.record(ev(`e${i}`), 254, ["a", "b"], T0);
      f.counters.add("accepted", 5);
      sentInJob = f.transport.sent.length;
    });
    expect(sentInJob).toBe(0);
    expect(f.store.batches()).toHaveLength(1);
    expect(f.store.batches()[0]!.dels).toHaveLength(10);
    expect(f.store.rowCount()).toBe(0);
    // One row for the events and their ten deliveries; the accepted count rides in it.
    expect(f.db.rowsWritten - rowsBefore).toBe(1);
    expect(f.store.batches()[0]!.counts).toEqual({ accepted: 5 });
    const sent = f.transport.take();
    expect(sent.map((d) => [d.event.attrs.id, d.msg.route, d.local]).slice(0, 3)).toEqual([["e0", "a", true], ["e0", "b", true], ["e1", "a", true]]);
    expect(Math.min(...f.wakes)).toBe(T0 + LOCAL_RECOVERY_MS);
  });

  it("deletes the batch row when its last delivery succeeds: two rows written for the whole flush", async () => {
    const f = ledgerFixture([route("a"), route("b")]);
    const rowsBefore = f.db.rowsWritten;
    await f.job(() => {
      f.ledger.record(ev("e1"), 254, ["a", "b"], T0);
      f.counters.add("accepted");
    });
    const [da, db] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(da!)], T0 + 5));
    expect(f.store.batches()).toHaveLength(1);
    await f.job(() => f.ledger.settle([f.transport.outcome(db!)], T0 + 6));
    expect(f.store.batches()).toHaveLength(0);
    // Inserted, deleted, and the counts the deleted row held written to the totals.
    expect(f.db.rowsWritten - rowsBefore).toBe(3);
    expect(f.counters.snapshot()).toEqual({ accepted: 1, delivered: 2 });
    expect(f.ledger.pending()).toBe(0);
  });

  it("moves counts of a deleted batch row into the row its flush inserts", async () => {
    const f = ledgerFixture([route("a")]);
    await f.job(() => {
      f.ledger.record(ev("e1"), 254, ["a"], T0);
      f.counters.add("accepted");
    });
    const [d] = f.transport.take();
    await f.job(() => {
      f.ledger.settle([f.transport.outcome(d!)], T0 + 5);
      f.ledger.record(ev("e2"), 254, ["a"], T0 + 5);
      f.counters.add("accepted");
    });
    const [batch] = f.store.batches();
    expect(batch!.counts).toEqual({ accepted: 2, delivered: 1 });
    expect(f.db.t.totals).toBeNull();
    expect(f.counters.snapshot()).toEqual({ accepted: 2, delivered: 1 });
  });

  it("sends what does not fit in the object's connection window through the queue", async () => {
    const f = ledgerFixture([route("a")]);
    f.transport.room = 2;
    await f.job(() => {
      for (let i = 0; i < 4; i++) f.ledger.record(ev(`e${i}`), 254, ["a"], T0);
    });
    expect(f.transport.take().map((d) => d.local)).toEqual([true, true, false, false]);
  });

  it("keeps at most maxInFlight deliveries out and sends the rest, oldest first, as outcomes come back", async () => {
    const f = ledgerFixture([route("a")], { maxInFlight: 2 });
    await f.job(() => {
      for (let i = 0; i < 5; i++) f.ledger.record(ev(`e${i}`), 254, ["a"], T0 + i);
    });
    let sent = f.transport.take();
    expect(sent.map((d) => d.event.attrs.id)).toEqual(["e0", "e1"]);
    await f.job(() => f.ledger.settle([f.transport.outcome(sent[0]!)], T0 + 10));
    sent = f.transport.take();
    expect(sent.map((d) => d.event.attrs.id)).toEqual(["e2"]);
    expect(f.ledger.pending()).toBe(4);
  });
});

describe("ledger: outcomes", () => {
  it("hands a subscriber's reply to the host, and records that success in its batch", async () => {
    const f = ledgerFixture([route("a"), route("b")]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a", "b"], T0));
    const [d] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(d!, { status: 200, reply: ev("r1") })], T0 + 5));
    expect(f.replies.map((r) => [r.d.route, r.reply.attrs.id])).toEqual([["a", "r1"]]);
    expect(f.store.batches()[0]!.settled).toEqual([0]);
  });

  it("retries a retriable failure after Knative's backoff in a row of its own, through the queue's delay from one second up", async () => {
    const f = ledgerFixture([route("a"), route("b")]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a", "b"], T0));
    const [d] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 503 })], T0 + 5));
    const rows = f.store.rows();
    expect(rows.map((r) => [r.id, r.route, r.attempt, r.leased])).toEqual([[d!.msg.id, "a", 1, 1]]);
    expect(f.store.batches()[0]!.settled).toEqual([0]);
    const [retry] = f.transport.take();
    expect([retry!.local, retry!.delaySeconds, retry!.msg.attempt, retry!.msg.id]).toEqual([false, 2, 2, d!.msg.id]);
    expect(f.counters.snapshot().retried).toBe(1);
  });

  it("waits for a retry under a second with the alarm, not the queue", async () => {
    const f = ledgerFixture([route("a", { policy: { retry: 3, backoffPolicy: "exponential", backoffDelayMs: 300, timeoutMs: 1000, format: "binary" } })]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a"], T0));
    const [d] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 500 })], T0 + 5));
    expect(f.transport.take()).toEqual([]);
    await f.job(() => f.ledger.alarm(T0 + 5));
    expect(f.transport.take()).toEqual([]);
    f.clock.now = T0 + 5 + 300;
    await f.job(() => f.ledger.alarm(T0 + 5 + 300));
    expect(f.transport.take().map((x) => [x.local, x.msg.attempt])).toEqual([[true, 2]]);
  });

  it("dead-letters with Knative's error extensions when retries run out", async () => {
    const f = ledgerFixture([route("a", { deadLetter: { url: "http://dls.test/" }, policy: { retry: 0, backoffPolicy: "linear", backoffDelayMs: 0, timeoutMs: 1000, format: "binary" } })]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a"], T0));
    const [d] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 503, errorData: new TextEncoder().encode("busy") })], T0 + 5));
    const [dl] = f.transport.take();
    expect(dl!.msg.hop).toBe("dls");
    expect(dl!.event.attrs).toMatchObject({ knativeerrordest: "http://sink.test/a", knativeerrorcode: 503, knativeerrordata: btoa("busy") });
    await f.job(() => f.ledger.settle([f.transport.outcome(dl!)], T0 + 6));
    expect(f.counters.snapshot()).toMatchObject({ deadLettered: 1 });
    expect(f.store.rowCount() + f.store.batches().length).toBe(0);
  });

  it("names the failed destination with its secrets hidden, in knativeerrordest and in the drop's detail", async () => {
    const secret = "https://hooks.slack.example/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXXabcDEF123?token=s3cr3t";
    const policy = { retry: 0, backoffPolicy: "linear" as const, backoffDelayMs: 0, timeoutMs: 1000, format: "binary" as const };
    const f = ledgerFixture([route("a", { subscriber: { url: secret }, deadLetter: { url: "http://dls.test/" }, policy }), route("b", { subscriber: { url: secret }, policy })]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a", "b"], T0));
    const [da, db] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(da!, { ok: false, status: 500 }), f.transport.outcome(db!, { ok: false, status: 500 })], T0 + 1));
    const [dl] = f.transport.take();
    expect(String(dl!.event.attrs.knativeerrordest)).toMatch(/^https:\/\/hooks\.slack\.example\/services\//);
    expect(String(dl!.event.attrs.knativeerrordest)).not.toMatch(/s3cr3t|XXXXXXXXXXXXXXXXXXXXXXXXabcDEF123/);
    expect(f.db.t.drops[0]!.detail).not.toMatch(/s3cr3t|XXXXXXXXXXXXXXXXXXXXXXXXabcDEF123/);
  });

  it("keeps an event as a dead letter when there is no dead-letter sink, or drops it (logged and counted) when keeping is off", async () => {
    const policy = { retry: 0, backoffPolicy: "linear" as const, backoffDelayMs: 0, timeoutMs: 1000, format: "binary" as const };
    const kept = ledgerFixture([route("a", { policy })], { keep: true });
    await kept.job(() => kept.ledger.record(ev("e1"), 254, ["a"], T0));
    await kept.job(() => kept.ledger.settle([kept.transport.outcome(kept.transport.take()[0]!, { ok: false, status: 500 })], T0 + 1));
    expect(kept.kept.map((k) => [k.event.attrs.id, k.reason, k.event.attrs.knativeerrorcode])).toEqual([["e1", "retries-exhausted", 500]]);
    expect(kept.counters.snapshot()["kept.retries-exhausted"]).toBe(1);
    const dropped = ledgerFixture([route("a", { policy })]);
    await dropped.job(() => dropped.ledger.record(ev("e1"), 254, ["a"], T0));
    await dropped.job(() => dropped.ledger.settle([dropped.transport.outcome(dropped.transport.take()[0]!, { ok: false, status: 500 })], T0 + 1));
    expect(dropped.counters.snapshot()["dropped.retries-exhausted"]).toBe(1);
    expect(dropped.db.t.drops.map((d) => d.id)).toEqual(["e1"]);
  });

  it("ignores a superseded dispatch's failure, honours its success, and counts a second success as a duplicate", async () => {
    const f = ledgerFixture([route("a")]);
    f.transport.room = 0;
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a"], T0));
    const [first] = f.transport.take();
    f.clock.now = T0 + 70_000; // its lease (60 s) ran out unclaimed: sent again
    await f.job(() => f.ledger.alarm(T0 + 70_000));
    const [second] = f.transport.take();
    expect(second!.msg.gen).not.toBe(first!.msg.gen);
    expect(f.counters.snapshot().redispatched).toBe(1);
    await f.job(() => f.ledger.settle([f.transport.outcome(first!, { ok: false, status: 500 })], T0 + 70_001));
    expect(f.ledger.pending()).toBe(1);
    await f.job(() => f.ledger.settle([f.transport.outcome(first!)], T0 + 70_002));
    expect(f.ledger.pending()).toBe(0);
    await f.job(() => f.ledger.settle([f.transport.outcome(second!)], T0 + 70_003));
    expect(f.counters.snapshot()).toMatchObject({ delivered: 1, duplicates: 1 });
  });

  it("counts a success for a deleted route as the drop it is, not as delivered", async () => {
    const f = ledgerFixture([route("a")]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a"], T0));
    const [d] = f.transport.take();
    f.routes.delete("a");
    await f.job(() => f.ledger.settle([f.transport.outcome(d!)], T0 + 1));
    expect(f.counters.snapshot()).toEqual({ "dropped.route-deleted": 1 });
  });
});

describe("ledger: claims by queue consumers", () => {
  it("answers go for the current dispatch (with the event on request) and restarts its lease; skip for anything else", async () => {
    const f = ledgerFixture([route("a")]);
    f.transport.room = 0;
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a"], T0));
    const [d] = f.transport.take();
    const claim = async (gen: number, epoch: number | undefined, until: number) => {
      const out: unknown[] = [];
      await f.job(() => f.ledger.claim([{ id: d!.msg.id, gen }], epoch, until, [true], out as never));
      return out[0];
    };
    expect(await claim(d!.msg.gen, d!.msg.epoch, T0 + 100_000)).toMatchObject({ ok: true, event: { attrs: { id: "e1" } } });
    // Claimed until T0 + 100 s (plus the slack): the lease no longer runs out at T0 + 60 s.
    f.clock.now = T0 + 90_000;
    await f.job(() => f.ledger.alarm(T0 + 90_000));
    expect(f.transport.take()).toEqual([]);
    expect(await claim(d!.msg.gen + 1, d!.msg.epoch, T0)).toMatchObject({ ok: false });
    expect(await claim(d!.msg.gen, (d!.msg.epoch ?? 0) + 1, T0)).toMatchObject({ ok: false, reason: expect.stringMatching(/incarnation/) });
    f.routes.delete("a");
    expect(await claim(d!.msg.gen, d!.msg.epoch, T0)).toMatchObject({ ok: false, reason: "its route was deleted" });
    expect(f.counters.snapshot()["dropped.route-deleted"]).toBe(1);
    expect(f.ledger.pending()).toBe(0);
  });

  it("tells the object's own attempt whether it is still current before it goes out", async () => {
    const f = ledgerFixture([route("a")]);
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a"], T0));
    const [d] = f.transport.take();
    expect(f.ledger.check(d!.msg.id, d!.msg.gen)).toBe("go");
    expect(f.ledger.check(d!.msg.id, d!.msg.gen + 1)).toBe("stale");
    f.routes.delete("a");
    expect(f.ledger.check(d!.msg.id, d!.msg.gen)).toBe("cancel");
  });
});

describe("ledger: restarts", () => {
  it("sends again what storage owes after a restart, and never a delivery whose success was recorded", async () => {
    const db = new MemoryDb();
    const f = ledgerFixture([route("a"), route("b")], { db });
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a", "b"], T0));
    const [da, dbb] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(da!, { status: 200, reply: ev("r1") })], T0 + 1)); // recorded: it had a reply
    void dbb;
    const g = ledgerFixture([route("a"), route("b")], { db }); // a new incarnation over the same storage
    const again = g.transport.take();
    expect(again.map((d) => [d.event.attrs.id, d.msg.route])).toEqual([["e1", "b"]]);
    expect(again[0]!.msg.epoch).toBe((da!.msg.epoch ?? 0) + 1);
    // Ids never come back: the new incarnation's are all above the old one's.
    expect(again[0]!.msg.id).toBeGreaterThan(dbb!.msg.gen);
  });

  it("sends a plain success again after a restart that came before its batch was deleted (at least once)", async () => {
    const db = new MemoryDb();
    const f = ledgerFixture([route("a"), route("b")], { db });
    await f.job(() => f.ledger.record(ev("e1"), 254, ["a", "b"], T0));
    const [da] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(da!)], T0 + 1));
    const g = ledgerFixture([route("a"), route("b")], { db });
    expect(g.transport.take().map((d) => d.msg.route).sort()).toEqual(["a", "b"]);
  });
});

describe("ledger: exact group commit", () => {
  it("fails a job that throws alone: nothing it staged is stored or sent, the others commit", async () => {
    const f = ledgerFixture([route("a")]);
    const good = f.commits.run(() => f.ledger.record(ev("ok"), 254, ["a"], T0));
    const bad = f.commits.run(() => {
      f.ledger.record(ev("half"), 254, ["a"], T0);
      throw new Error("validation failed half-way");
    });
    f.commits.flushNow();
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow("half-way");
    expect(f.transport.take().map((d) => d.event.attrs.id)).toEqual(["ok"]);
    expect(f.store.batches()[0]!.dels).toHaveLength(1);
  });

  it("rolls a failed flush back whole: every job fails, nothing is sent, and memory is rebuilt from storage", async () => {
    const f = ledgerFixture([route("a")], { maxInFlight: 2 });
    await f.job(() => f.ledger.record(ev("e0"), 254, ["a"], T0));
    expect(f.transport.take()).toHaveLength(1);
    let writes = 0;
    f.db.fault = () => ++writes === 1; // the flush's batch insert fails
    const p = f.job(() => f.ledger.record(ev("e1"), 254, ["a"], T0 + 1));
    await expect(p).rejects.toThrow("injected");
    f.db.fault = () => false;
    expect(f.transport.take()).toEqual([]);
    expect(f.restarts()).toBe(1);
    await f.job(() => f.ledger.start(T0 + 2));
    // Storage holds e0 only; the rebuilt ledger owes it (and sends it again), and e1 was never stored.
    expect(f.transport.take().map((d) => d.event.attrs.id)).toEqual(["e0"]);
    expect(f.ledger.pending()).toBe(1);
  });
});
