// The ledger's state machine, transition by transition, against an in-memory store.
import { describe, expect, it } from "vitest";
import { LOCAL_RECOVERY_MS } from "../../durable-objects/ledger/machine.js";
import { ev, ledgerFixture, route } from "../support/memory-ledger.js";

const T0 = 1_000_000;

describe("ledger: recording and first attempts", () => {
  it("stores the event once with one leased delivery per route, attempted by the object itself", () => {
    const f = ledgerFixture([route("a"), route("b")]);
    const seq = f.ledger.record(ev("e1"), 254, ["a", "b"], T0);
    expect(f.store.events.size).toBe(1);
    expect(f.store.events.get(seq)!.ttl).toBe(254);
    const rows = [...f.store.rows.values()];
    expect(rows.map((r) => [r.route, r.hop, r.gen, r.local, r.lease_until])).toEqual([
      ["a", "subscriber", 1, 1, T0 + 10_000 + 1000],
      ["b", "subscriber", 1, 1, T0 + 10_000 + 1000],
    ]);
    const sent = f.transport.take();
    expect(sent.map((d) => [d.msg.url, d.local, d.msg.attempt, d.event.attrs.id])).toEqual([
      ["http://sink.test/a", true, 1, "e1"], ["http://sink.test/b", true, 1, "e1"],
    ]);
    // The alarm stays close while the object makes attempts: it is the way back after a crash.
    expect(Math.min(...f.wakes)).toBe(T0 + LOCAL_RECOVERY_MS);
  });

  it("sends what does not fit in the object's connection window through the queue", () => {
    const f = ledgerFixture([route("a")]);
    f.transport.room = 2;
    for (let i = 0; i < 4; i++) f.ledger.record(ev(`e${i}`), 254, ["a"], T0);
    expect(f.transport.take().map((d) => d.local)).toEqual([true, true, false, false]);
    expect([...f.store.rows.values()].map((r) => r.local)).toEqual([1, 1, 0, 0]);
  });

  it("keeps at most maxInFlight deliveries out and sends the rest, oldest first, as outcomes come back", () => {
    const f = ledgerFixture([route("a")], { maxInFlight: 2 });
    for (let i = 0; i < 5; i++) f.ledger.record(ev(`e${i}`), 254, ["a"], T0 + i);
    let sent = f.transport.take();
    expect(sent.map((d) => d.event.attrs.id)).toEqual(["e0", "e1"]);
    expect(f.store.leasedCount()).toBe(2);
    f.ledger.settle([f.transport.outcome(sent[0]!)], T0 + 10);
    sent = f.transport.take();
    expect(sent.map((d) => d.event.attrs.id)).toEqual(["e2"]);
    expect(f.store.leasedCount()).toBe(2);
  });

  it("loads the event for a consumer only for the current dispatch", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    expect(f.ledger.eventFor(d!.msg.id, d!.msg.gen)?.attrs.id).toBe("e1");
    expect(f.ledger.eventFor(d!.msg.id, d!.msg.gen + 1)).toBeNull();
    expect(f.ledger.eventFor(999, 1)).toBeNull();
  });
});

describe("ledger: outcomes", () => {
  it("removes a delivered row, and the event with its last delivery", () => {
    const f = ledgerFixture([route("a"), route("b")]);
    f.ledger.record(ev("e1"), 254, ["a", "b"], T0);
    const [da, db] = f.transport.take();
    f.ledger.settle([f.transport.outcome(da!)], T0 + 5);
    expect(f.store.rows.size).toBe(1);
    expect(f.store.events.size).toBe(1);
    f.ledger.settle([f.transport.outcome(db!)], T0 + 6);
    expect(f.store.rows.size).toBe(0);
    expect(f.store.events.size).toBe(0);
    expect(f.counters.values).toEqual({ delivered: 2 });
  });

  it("hands a subscriber's reply to the host with the row it answers", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    f.ledger.settle([f.transport.outcome(d!, { status: 200, reply: ev("r1") })], T0 + 5);
    expect(f.replies.map((r) => [r.row.id, r.reply.attrs.id])).toEqual([[d!.msg.id, "r1"]]);
  });

  it("retries a retriable failure after Knative's backoff: through the queue's delay from one second up", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 503, error: "HTTP 503" })], T0 + 10);
    const row = [...f.store.rows.values()][0]!;
    expect(row).toMatchObject({ attempt: 1, due_at: T0 + 10 + 2000, gen: 2, local: 0 });
    const [retry] = f.transport.take();
    expect(retry).toMatchObject({ local: false, delaySeconds: 2 });
    expect(retry!.msg).toMatchObject({ attempt: 2, gen: 2 });
    expect(f.counters.values.retried).toBe(1);
  });

  it("waits on the alarm for a retry due in under a second, then attempts from the object", () => {
    const f = ledgerFixture([route("a", { policy: { retry: 1, backoffPolicy: "exponential", backoffDelayMs: 200, timeoutMs: 10_000, format: "binary" } })]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 500 })], T0 + 10);
    expect(f.transport.take()).toEqual([]);
    expect(f.wakes).toContain(T0 + 210);
    f.ledger.alarm(T0 + 210);
    const [retry] = f.transport.take();
    expect(retry).toMatchObject({ local: true });
    expect(retry!.msg.attempt).toBe(2);
  });

  it("turns a final failure into a dead-letter hop through the queue, with Knative's error extensions", () => {
    const f = ledgerFixture([route("a", { deadLetter: { url: "http://dls.test/" } })]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 422, errorData: new TextEncoder().encode("nope") })], T0 + 10);
    const [dead] = f.transport.take();
    expect(dead!.local).toBe(false);
    expect(dead!.msg).toMatchObject({ hop: "dls", url: "http://dls.test/", attempt: 1 });
    expect(dead!.event.attrs).toMatchObject({ id: "e1", knativeerrordest: "http://sink.test/a", knativeerrorcode: 422, knativeerrordata: btoa("nope") });
    f.ledger.settle([f.transport.outcome(dead!)], T0 + 20);
    expect(f.counters.values).toEqual({ deadLettered: 1 });
    expect(f.store.rows.size).toBe(0);
  });

  it("drops and counts a delivery whose retries ran out with no dead-letter sink, naming the cause", () => {
    const f = ledgerFixture([route("a", { policy: { retry: 1, timeoutMs: 10_000, backoffDelayMs: 0, format: "binary" } })]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    f.ledger.settle([f.transport.outcome(f.transport.take()[0]!, { ok: false, status: 500, error: "HTTP 500" })], T0 + 1);
    f.ledger.settle([f.transport.outcome(f.transport.take()[0]!, { ok: false, status: 500, error: "HTTP 500" })], T0 + 2);
    expect(f.counters.drops).toEqual([{ reason: "retries-exhausted", id: "e1", detail: "2 attempt(s) to http://sink.test/a failed; last: HTTP 500" }]);
    expect(f.store.rows.size).toBe(0);
    expect(f.store.events.size).toBe(0);
  });

  it("drops a dead letter its sink refuses for good", () => {
    const f = ledgerFixture([route("a", { deadLetter: { url: "http://dls.test/" } })]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    f.ledger.settle([f.transport.outcome(f.transport.take()[0]!, { ok: false, status: 400 })], T0 + 1);
    f.ledger.settle([f.transport.outcome(f.transport.take()[0]!, { ok: false, status: 400 })], T0 + 2);
    expect(f.counters.drops.map((d) => d.reason)).toEqual(["dead-letter-failed"]);
  });

  it("ignores a superseded dispatch's failure, honours its success, and counts the second success as a duplicate", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [first] = f.transport.take();
    f.transport.running.clear(); // the attempt was lost (not running here any more)
    f.ledger.alarm(T0 + 11_001); // its lease ran out: sent again under gen 2
    const [second] = f.transport.take();
    expect(second!.msg.gen).toBe(2);
    expect(f.counters.values.redispatched).toBe(1);
    f.ledger.settle([f.transport.outcome(first!, { ok: false, status: 500 })], T0 + 11_002);
    expect(f.store.rows.size).toBe(1); // a stale failure changes nothing
    f.ledger.settle([f.transport.outcome(first!)], T0 + 11_003);
    expect(f.store.rows.size).toBe(0); // a stale success still means delivered
    f.ledger.settle([f.transport.outcome(second!)], T0 + 11_004);
    expect(f.counters.values).toMatchObject({ delivered: 1, duplicates: 1 });
  });

  it("drops deliveries of a deleted route when they come up, and everything on dropAll", () => {
    const f = ledgerFixture([route("a"), route("b")]);
    f.ledger.record(ev("e1"), 254, ["a", "b"], T0);
    const [da] = f.transport.take();
    f.routes.delete("a");
    f.ledger.settle([f.transport.outcome(da!, { ok: false, status: 500 })], T0 + 1);
    expect(f.counters.drops.map((d) => d.reason)).toEqual(["route-deleted"]);
    f.ledger.dropAll("broker-deleted", T0 + 2);
    expect(f.counters.drops.map((d) => d.reason)).toEqual(["route-deleted", "broker-deleted"]);
    expect(f.store.rows.size).toBe(0);
    expect(f.store.events.size).toBe(0);
  });

  it("counts the success of an attempt that outlived dropAll as a duplicate, not a delivery", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    f.ledger.dropAll("broker-deleted", T0 + 1);
    f.ledger.settle([f.transport.outcome(d!)], T0 + 2);
    expect(f.counters.values.delivered).toBeUndefined();
    expect(f.counters.values.duplicates).toBe(1);
  });

  it("reads rows from storage again after a failed commit, so an attempt whose row was never stored is not delivered", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    // What a rolled-back transaction leaves: the row is not in storage.
    f.store.rows.clear();
    f.ledger.forgetRows();
    f.ledger.settle([f.transport.outcome(d!)], T0 + 2);
    expect(f.counters.values.delivered).toBeUndefined();
    expect(f.counters.values.duplicates).toBe(1);
  });
});

describe("ledger: leases and recovery", () => {
  it("extends the lease of an attempt still running in the object instead of sending it twice", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    f.transport.take();
    f.ledger.alarm(T0 + 11_001);
    expect(f.transport.take()).toEqual([]);
    expect([...f.store.rows.values()][0]!.lease_until).toBe(T0 + 11_001 + 11_000);
    expect(f.counters.values.redispatched).toBeUndefined();
    expect(f.wakes).toContain(T0 + 11_001 + LOCAL_RECOVERY_MS);
  });

  it("resends at once what the previous incarnation was attempting itself when it died", () => {
    const f = ledgerFixture([route("a")]);
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    f.ledger.record(ev("e2"), 254, ["a"], T0);
    f.transport.take();
    f.transport.running.clear(); // the runtime died: nothing runs any more
    f.wakes.length = 0;
    f.ledger.init(T0 + 100); // what a new incarnation does first
    expect(f.wakes).toEqual([T0 + 100]);
    f.ledger.alarm(T0 + 100);
    expect(f.transport.take().map((d) => [d.event.attrs.id, d.msg.gen])).toEqual([["e1", 2], ["e2", 2]]);
    expect(f.counters.values.redispatched).toBe(2);
  });

  it("sends a queue-leased delivery again only once its lease has run out", () => {
    const f = ledgerFixture([route("a")]);
    f.transport.room = 0;
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    f.transport.take();
    f.ledger.init(T0 + 100); // queue leases survive a restart: the consumer may still be attempting
    f.ledger.alarm(T0 + 100);
    expect(f.transport.take()).toEqual([]);
    f.ledger.alarm(T0 + 11_000);
    expect(f.transport.take().map((d) => d.msg.gen)).toEqual([2]);
  });

  it("retries soon what a queue refused", () => {
    const f = ledgerFixture([route("a")]);
    f.transport.room = 0;
    f.ledger.record(ev("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    f.ledger.retrySoon([{ id: d!.msg.id, gen: d!.msg.gen }], T0 + 5);
    expect([...f.store.rows.values()][0]!.lease_until).toBe(T0 + 1005);
    expect(f.wakes).toContain(T0 + 1005);
  });
});
