// Ordered delivery and per-subscriber flow control in the ledger's state machine.
import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../../core/cloudevents/event.js";
import { ledgerFixture, route } from "../support/memory-ledger.js";

const T0 = 1_000_000;

function keyed(id: string, partitionkey?: string): CloudEvent {
  return { attrs: { specversion: "1.0", id, source: "/s", type: "t", ...(partitionkey ? { partitionkey } : {}) } };
}

const ids = (ds: { event: CloudEvent }[]) => ds.map((d) => d.event.attrs.id);

describe("ledger: ordered routes", () => {
  it("sends one delivery per key at a time, in the order accepted, and keys independently", () => {
    const f = ledgerFixture([route("a", { ordered: true })]);
    for (const [id, k] of [["a1", "A"], ["b1", "B"], ["a2", "A"], ["a3", "A"], ["b2", "B"]] as const) f.ledger.record(keyed(id, k), 254, ["a"], T0);
    let sent = f.transport.take();
    expect(ids(sent)).toEqual(["a1", "b1"]);
    f.ledger.settle([f.transport.outcome(sent[0]!)], T0 + 1);
    sent = [...sent.slice(1), ...f.transport.take()];
    expect(ids(sent)).toEqual(["b1", "a2"]);
    f.ledger.settle([f.transport.outcome(sent[0]!)], T0 + 2);
    f.ledger.settle([f.transport.outcome(sent[1]!)], T0 + 3);
    expect(ids(f.transport.take())).toEqual(["b2", "a3"]);
  });

  it("orders events without a partitionkey as one chain", () => {
    const f = ledgerFixture([route("a", { ordered: true })]);
    f.ledger.record(keyed("e1"), 254, ["a"], T0);
    f.ledger.record(keyed("e2"), 254, ["a"], T0);
    expect(ids(f.transport.take())).toEqual(["e1"]);
    expect([...f.store.rows.values()].map((r) => [r.order_key, r.blocked])).toEqual([["", 0], ["", 1]]);
  });

  it("holds a key behind a failing delivery through its retries, and releases it when it is dead-lettered", () => {
    const f = ledgerFixture([route("a", { ordered: true, deadLetter: { url: "http://dls.test/" }, policy: { retry: 1, timeoutMs: 10_000, backoffDelayMs: 0, format: "binary" } })]);
    f.ledger.record(keyed("k1", "K"), 254, ["a"], T0);
    f.ledger.record(keyed("k2", "K"), 254, ["a"], T0);
    f.ledger.record(keyed("j1", "J"), 254, ["a"], T0);
    let sent = f.transport.take();
    expect(ids(sent)).toEqual(["k1", "j1"]);
    f.ledger.settle([f.transport.outcome(sent[0]!, { ok: false, status: 503 })], T0 + 1); // retry, immediately
    sent = f.transport.take();
    expect(ids(sent)).toEqual(["k1"]); // k2 still waits
    f.ledger.settle([f.transport.outcome(sent[0]!, { ok: false, status: 503 })], T0 + 2); // out of retries: dead letter
    sent = f.transport.take();
    expect(sent.map((d) => [d.event.attrs.id, d.msg.hop])).toEqual([["k1", "dls"], ["k2", "subscriber"]]);
  });

  it("keeps a key busy while a Subscription's reply hop of its head is out", () => {
    const f = ledgerFixture([route("s", { kind: "Subscription", ordered: true, reply: { url: "http://reply.test/" } })]);
    f.ledger.record(keyed("e1", "K"), 254, ["s"], T0);
    f.ledger.record(keyed("e2", "K"), 254, ["s"], T0);
    const [first] = f.transport.take();
    f.ledger.settle([f.transport.outcome(first!, { status: 200, reply: keyed("r1") })], T0 + 1);
    const [hop] = f.transport.take(); // the fixture's host forwards the reply as a Channel does
    expect(hop!.msg.hop).toBe("reply");
    f.ledger.settle([f.transport.outcome(hop!)], T0 + 2);
    expect(ids(f.transport.take())).toEqual(["e2"]);
  });

  it("rebuilds its chains after a restart", () => {
    const f = ledgerFixture([route("a", { ordered: true })]);
    f.ledger.record(keyed("e1", "K"), 254, ["a"], T0);
    f.ledger.record(keyed("e2", "K"), 254, ["a"], T0);
    const [first] = f.transport.take();
    f.ledger.init(T0 + 10); // a new incarnation over the same store
    f.ledger.record(keyed("e3", "K"), 254, ["a"], T0 + 11);
    expect(f.transport.take()).toEqual([]); // e1 is still the head: e3 waits behind e2
    f.ledger.settle([f.transport.outcome(first!)], T0 + 12);
    expect(ids(f.transport.take())).toEqual(["e2"]);
  });
});

describe("ledger: flow control", () => {
  it("keeps at most max-in-flight subscriber requests out, and sends the next as one settles", () => {
    const f = ledgerFixture([route("a", { maxInFlight: 2 })]);
    for (let i = 0; i < 5; i++) f.ledger.record(keyed(`e${i}`), 254, ["a"], T0 + i);
    let sent = f.transport.take();
    expect(ids(sent)).toEqual(["e0", "e1"]);
    expect([...f.store.rows.values()].filter((r) => r.lease_until === null)).toHaveLength(3); // waiting in storage
    f.ledger.settle([f.transport.outcome(sent[0]!)], T0 + 10);
    sent = f.transport.take();
    expect(ids(sent)).toEqual(["e2"]);
  });

  it("paces a rate-limited route with a token bucket whose burst is the rate", () => {
    const f = ledgerFixture([route("a", { ratePerSecond: 2 })]);
    for (let i = 0; i < 4; i++) f.ledger.record(keyed(`e${i}`), 254, ["a"], T0);
    expect(ids(f.transport.take())).toEqual(["e0", "e1"]);
    expect(f.soons).toContain(T0 + 500);
    f.ledger.tick(T0 + 250);
    expect(f.transport.take()).toEqual([]);
    f.ledger.tick(T0 + 500);
    expect(ids(f.transport.take())).toEqual(["e2"]);
    f.ledger.tick(T0 + 1000);
    expect(ids(f.transport.take())).toEqual(["e3"]);
  });

  it("a pacing tick that comes early asks for the next one instead of leaving the waiting rows to the alarm", () => {
    const f = ledgerFixture([route("a", { ratePerSecond: 1 })]);
    f.ledger.record(keyed("e0"), 254, ["a"], T0);
    f.ledger.record(keyed("e1"), 254, ["a"], T0);
    expect(ids(f.transport.take())).toEqual(["e0"]);
    f.soons.length = 0;
    f.ledger.tick(T0 + 999); // a moment before the route's next token
    expect(f.transport.take()).toEqual([]);
    expect(f.soons.length).toBe(1);
    expect(f.soons[0]).toBeGreaterThanOrEqual(T0 + 1000);
    expect(f.soons[0]).toBeLessThan(T0 + 1010);
    f.ledger.tick(f.soons[0]!);
    expect(ids(f.transport.take())).toEqual(["e1"]);
  });

  it("pauses a flow-controlled route on 429 for Retry-After without spending a retry", () => {
    const f = ledgerFixture([route("a", { maxInFlight: 5, policy: { retry: 0, timeoutMs: 10_000, backoffDelayMs: 0, format: "binary" } })]);
    f.ledger.record(keyed("e1"), 254, ["a"], T0);
    const [d] = f.transport.take();
    f.ledger.settle([f.transport.outcome(d!, { ok: false, status: 429, retryAfterMs: 2000 })], T0 + 1);
    expect([...f.store.rows.values()][0]).toMatchObject({ attempt: 0, throttles: 1, due_at: T0 + 2001, lease_until: null });
    expect(f.counters.values.throttled).toBe(1);
    f.ledger.record(keyed("e2"), 254, ["a"], T0 + 5); // the route is paused: e2 waits too
    expect(f.transport.take()).toEqual([]);
    f.ledger.tick(T0 + 2001);
    expect(ids(f.transport.take()).sort()).toEqual(["e1", "e2"]);
    expect(f.counters.drops).toEqual([]); // retry 0, yet nothing was dropped for the 429
  });

  it("treats 429 as an ordinary retriable failure on routes without flow control", () => {
    const f = ledgerFixture([route("a", { policy: { retry: 0, timeoutMs: 10_000, backoffDelayMs: 0, format: "binary" } })]);
    f.ledger.record(keyed("e1"), 254, ["a"], T0);
    f.ledger.settle([f.transport.outcome(f.transport.take()[0]!, { ok: false, status: 429 })], T0 + 1);
    expect(f.counters.drops.map((x) => x.reason)).toEqual(["retries-exhausted"]);
  });
});
