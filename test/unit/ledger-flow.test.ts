// Ordered delivery and per-subscriber flow control in the ledger's state machine.
import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../../core/cloudevents/event.js";
import { ledgerFixture, MemoryDb, route } from "../support/memory-ledger.js";

const T0 = 1_000_000;

function keyed(id: string, partitionkey?: string): CloudEvent {
  return { attrs: { specversion: "1.0", id, source: "/s", type: "t", ...(partitionkey ? { partitionkey } : {}) } };
}

const ids = (ds: { event: CloudEvent }[]) => ds.map((d) => d.event.attrs.id);

describe("ledger: ordered routes", () => {
  it("sends one delivery per key at a time, in the order accepted, and keys independently", async () => {
    const f = ledgerFixture([route("a", { ordered: true })]);
    await f.job(() => {
      for (const [id, k] of [["a1", "A"], ["b1", "B"], ["a2", "A"], ["a3", "A"], ["b2", "B"]] as const) f.ledger.record(keyed(id, k), 254, ["a"], T0);
    });
    let sent = f.transport.take();
    expect(ids(sent)).toEqual(["a1", "b1"]);
    // The rest wait behind their chain's head in rows of their own (holds write more: docs/costs.md).
    expect(f.store.rows().map((r) => [r.order_key, r.blocked])).toEqual([["A", 1], ["A", 1], ["B", 1]]);
    await f.job(() => f.ledger.settle([f.transport.outcome(sent[0]!)], T0 + 1));
    sent = [...sent.slice(1), ...f.transport.take()];
    expect(ids(sent)).toEqual(["b1", "a2"]);
    await f.job(() => f.ledger.settle([f.transport.outcome(sent[0]!), f.transport.outcome(sent[1]!)], T0 + 2));
    expect(ids(f.transport.take())).toEqual(["b2", "a3"]);
  });

  it("orders events without a partitionkey as one chain", async () => {
    const f = ledgerFixture([route("a", { ordered: true })]);
    await f.job(() => {
      f.ledger.record(keyed("e1"), 254, ["a"], T0);
      f.ledger.record(keyed("e2"), 254, ["a"], T0);
    });
    expect(ids(f.transport.take())).toEqual(["e1"]);
    expect(f.store.rows().map((r) => [r.order_key, r.blocked])).toEqual([["", 1]]);
  });

  it("holds a key behind a failing delivery through its retries, and releases it when it is dead-lettered", async () => {
    const f = ledgerFixture([route("a", { ordered: true, deadLetter: { url: "http://dls.test/" }, policy: { retry: 1, backoffPolicy: "linear", timeoutMs: 10_000, backoffDelayMs: 0, format: "binary" } })]);
    await f.job(() => {
      f.ledger.record(keyed("k1", "K"), 254, ["a"], T0);
      f.ledger.record(keyed("k2", "K"), 254, ["a"], T0);
      f.ledger.record(keyed("j1", "J"), 254, ["a"], T0);
    });
    let sent = f.transport.take();
    expect(ids(sent)).toEqual(["k1", "j1"]);
    await f.job(() => f.ledger.settle([f.transport.outcome(sent[0]!, { ok: false, status: 503 })], T0 + 1)); // retry, immediately
    sent = f.transport.take();
    expect(ids(sent)).toEqual(["k1"]); // k2 still waits
    await f.job(() => f.ledger.settle([f.transport.outcome(sent[0]!, { ok: false, status: 503 })], T0 + 2)); // out of retries: dead letter
    sent = f.transport.take();
    expect(sent.map((d) => [d.event.attrs.id, d.msg.hop])).toEqual([["k1", "dls"], ["k2", "subscriber"]]);
  });

  it("keeps a key busy while a Subscription's reply hop of its head is out", async () => {
    const f = ledgerFixture([route("s", { kind: "Subscription", ordered: true, reply: { url: "http://reply.test/" } })]);
    await f.job(() => {
      f.ledger.record(keyed("e1", "K"), 254, ["s"], T0);
      f.ledger.record(keyed("e2", "K"), 254, ["s"], T0);
    });
    const [first] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(first!, { status: 200, reply: keyed("r1") })], T0 + 1));
    const [hop] = f.transport.take(); // the fixture's host forwards the reply as a Channel does
    expect(hop!.msg.hop).toBe("reply");
    expect(hop!.event.attrs.id).toBe("r1");
    await f.job(() => f.ledger.settle([f.transport.outcome(hop!)], T0 + 2));
    expect(ids(f.transport.take())).toEqual(["e2"]);
  });

  it("rebuilds its chains after a restart, in the order accepted", async () => {
    const db = new MemoryDb();
    const f = ledgerFixture([route("a", { ordered: true })], { db });
    await f.job(() => {
      f.ledger.record(keyed("e1", "K"), 254, ["a"], T0);
      f.ledger.record(keyed("e2", "K"), 254, ["a"], T0);
    });
    expect(ids(f.transport.take())).toEqual(["e1"]);
    const g = ledgerFixture([route("a", { ordered: true })], { db }); // a new incarnation over the same storage
    const [head] = g.transport.take();
    expect(head!.event.attrs.id).toBe("e1"); // the head goes again; e2 still waits behind it
    await g.job(() => g.ledger.record(keyed("e3", "K"), 254, ["a"], T0 + 11));
    expect(g.transport.take()).toEqual([]);
    await g.job(() => g.ledger.settle([g.transport.outcome(head!)], T0 + 12));
    const [next] = g.transport.take();
    expect(next!.event.attrs.id).toBe("e2");
    await g.job(() => g.ledger.settle([g.transport.outcome(next!)], T0 + 13));
    expect(ids(g.transport.take())).toEqual(["e3"]);
  });

  it("never sends an earlier event of a key after a later one, across a restart", async () => {
    const db = new MemoryDb();
    const f = ledgerFixture([route("a", { ordered: true })], { db });
    await f.job(() => f.ledger.record(keyed("e1", "K"), 254, ["a"], T0));
    const [d1] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(d1!)], T0 + 1)); // an ordered success is recorded
    await f.job(() => f.ledger.record(keyed("e2", "K"), 254, ["a"], T0 + 2));
    const [d2] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(d2!, { ok: false, status: 503 })], T0 + 3)); // e2 retries
    const g = ledgerFixture([route("a", { ordered: true })], { db });
    g.clock.now = T0 + 10_000;
    await g.job(() => g.ledger.alarm(T0 + 10_000));
    expect(ids(g.transport.take())).toEqual(["e2"]);
  });
});

describe("ledger: flow control", () => {
  it("keeps at most max-in-flight subscriber requests out, and sends the next as one settles", async () => {
    const f = ledgerFixture([route("a", { maxInFlight: 2 })]);
    await f.job(() => {
      for (let i = 0; i < 5; i++) f.ledger.record(keyed(`e${i}`), 254, ["a"], T0 + i);
    });
    let sent = f.transport.take();
    expect(ids(sent)).toEqual(["e0", "e1"]);
    expect(f.store.rows().filter((r) => r.leased === 0)).toHaveLength(3); // held, each in a row of its own
    await f.job(() => f.ledger.settle([f.transport.outcome(sent[0]!)], T0 + 10));
    sent = f.transport.take();
    expect(ids(sent)).toEqual(["e2"]);
  });

  it("paces a rate-limited route with a token bucket whose burst is the rate", async () => {
    const f = ledgerFixture([route("a", { ratePerSecond: 2 })]);
    await f.job(() => {
      for (let i = 0; i < 4; i++) f.ledger.record(keyed(`e${i}`), 254, ["a"], T0);
    });
    expect(ids(f.transport.take())).toEqual(["e0", "e1"]);
    expect(f.soons).toContain(T0 + 500);
    await f.job(() => f.ledger.tick(T0 + 250));
    expect(f.transport.take()).toEqual([]);
    await f.job(() => f.ledger.tick(T0 + 500));
    expect(ids(f.transport.take())).toEqual(["e2"]);
    await f.job(() => f.ledger.tick(T0 + 1000));
    expect(ids(f.transport.take())).toEqual(["e3"]);
  });

  it("a pacing tick that comes early asks for the next one instead of leaving the waiting rows to the alarm", async () => {
    const f = ledgerFixture([route("a", { ratePerSecond: 1 })]);
    await f.job(() => {
      f.ledger.record(keyed("e0"), 254, ["a"], T0);
      f.ledger.record(keyed("e1"), 254, ["a"], T0);
    });
    expect(ids(f.transport.take())).toEqual(["e0"]);
    f.soons.length = 0;
    await f.job(() => f.ledger.tick(T0 + 999)); // a moment before the route's next token
    expect(f.transport.take()).toEqual([]);
    expect(f.soons.length).toBe(1);
    expect(f.soons[0]).toBeGreaterThanOrEqual(T0 + 1000);
    expect(f.soons[0]).toBeLessThan(T0 + 1010);
    await f.job(() => f.ledger.tick(f.soons[0]!));
    expect(ids(f.transport.take())).toEqual(["e1"]);
  });

  it("pauses a flow-controlled route on 429 for Retry-After without spending a retry", async () => {
    const f = ledgerFixture([route("a", { maxInFlight: 5, policy: { retry: 0, backoffPolicy: "linear", timeoutMs: 10_000, backoffDelayMs: 0, format: "binary" } })]);
    await f.job(() => f.ledger.record(keyed("e1"), 254, ["a"], T0));
    const [d] = f.transport.take();
    await f.job(() => f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 429, retryAfterMs: 2000 })], T0 + 1));
    expect(f.store.rows()[0]).toMatchObject({ attempt: 0, throttles: 1, due_at: T0 + 2001, leased: 0 });
    expect(f.counters.snapshot().throttled).toBe(1);
    await f.job(() => f.ledger.record(keyed("e2"), 254, ["a"], T0 + 5)); // the route is paused: e2 waits too
    expect(f.transport.take()).toEqual([]);
    await f.job(() => f.ledger.tick(T0 + 2001));
    expect(ids(f.transport.take()).sort()).toEqual(["e1", "e2"]);
    expect(f.db.t.drops).toEqual([]); // retry 0, yet nothing was dropped for the 429
  });

  it("treats 429 as an ordinary retriable failure on routes without flow control", async () => {
    const f = ledgerFixture([route("a", { policy: { retry: 0, backoffPolicy: "linear", timeoutMs: 10_000, backoffDelayMs: 0, format: "binary" } })]);
    await f.job(() => f.ledger.record(keyed("e1"), 254, ["a"], T0));
    await f.job(() => f.ledger.settle([f.transport.outcome(f.transport.take()[0]!, { ok: false, status: 429 })], T0 + 1));
    expect(f.db.t.drops.map((x) => x.reason)).toEqual(["retries-exhausted"]);
  });
});
