// The ledger settles outcomes of its current dispatches from the rows it remembers leasing, not
// from storage. Differential check: the same random sequence of records, outcomes, lost attempts,
// alarms and refused queue sends, driven through one ledger as it runs and through one that is made
// to forget what it remembers before every outcome (so it reads every row from storage), must leave
// the same storage, counters, drops and dispatches after every step.
import { describe, expect, it } from "vitest";
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import type { Dispatch } from "../../durable-objects/ledger/machine.js";
import { ev, ledgerFixture, route } from "../support/memory-ledger.js";

const T0 = 1_000_000;

/** A small seeded generator (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fixture() {
  const routes = [
    route("a"),
    route("d", { deadLetter: { url: "http://dls.test/" } }),
    route("f", { maxInFlight: 1 }),
    route("o", { ordered: true }),
    route("r", { reply: { url: "http://reply.test/" } }),
  ];
  return { ...ledgerFixture(routes, { maxInFlight: 8 }), outstanding: [] as Dispatch[] };
}

type F = ReturnType<typeof fixture>;

function state(f: F) {
  return {
    rows: [...f.store.rows.entries()].sort((a, b) => a[0] - b[0]),
    events: [...f.store.events.keys()].sort((a, b) => a - b),
    counters: f.counters.values,
    drops: f.counters.drops,
    outstanding: f.outstanding.map((d) => [d.msg.id, d.msg.gen, d.local, d.msg.hop, d.msg.url, d.event.attrs.id]),
    running: [...f.transport.running].sort(),
  };
}

describe("ledger: remembered leases", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`settles like a ledger that reads every row from storage (seed ${seed})`, () => {
      const next = rng(seed);
      const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
      const [a, b] = [fixture(), fixture()];
      let now = T0;
      let n = 0;
      for (let step = 0; step < 400; step++) {
        const op = next();
        const both = (fn: (f: F) => void) => {
          fn(a);
          fn(b);
        };
        if (op < 0.3) {
          const id = `e${++n}`;
          const routes = ["a", "d", "f", "o", "r"].filter(() => next() < 0.5);
          const key = pick(["k1", "k2"]);
          both((f) => f.ledger.record({ ...ev(id), attrs: { ...ev(id).attrs, partitionkey: key } }, 254, routes.length ? routes : ["a"], now));
        } else if (op < 0.65 && a.outstanding.length) {
          const i = Math.floor(next() * a.outstanding.length);
          const kind = next();
          const again = next() < 0.1; // the same outcome reported twice
          const o: Partial<DeliveryOutcome> =
            kind < 0.5 ? {} : kind < 0.6 ? { status: 200, reply: ev(`reply${++n}`) } : kind < 0.8 ? { ok: false, status: 503 } : kind < 0.9 ? { ok: false, status: 400 } : { ok: false, status: 429 };
          both((f) => {
            const d = f.outstanding[i]!;
            if (!again) f.outstanding.splice(i, 1);
            if (f === b) f.ledger.forgetRows();
            f.ledger.settle([f.transport.outcome(d, o)], now);
          });
        } else if (op < 0.72 && a.outstanding.length) {
          const i = Math.floor(next() * a.outstanding.length);
          both((f) => void f.transport.running.delete(f.outstanding[i]!.msg.id)); // the attempt died with nobody told
        } else if (op < 0.78 && a.outstanding.some((d) => !d.local)) {
          const i = a.outstanding.findIndex((d) => !d.local);
          both((f) => {
            const d = f.outstanding.splice(i, 1)[0]!;
            f.ledger.retrySoon([{ id: d.msg.id, gen: d.msg.gen }], now);
          });
        } else if (op < 0.9) {
          both((f) => f.ledger.alarm(now));
        } else if (op < 0.97) {
          both((f) => f.ledger.tick(now));
        } else {
          const room = Math.floor(next() * 4);
          both((f) => void (f.transport.room = room));
        }
        now += Math.floor(next() * 1500);
        both((f) => f.outstanding.push(...f.transport.take()));
        expect(state(a), `step ${step}`).toEqual(state(b));
      }
      // The run did exercise the paths: deliveries, retries and duplicates happened.
      expect(a.counters.values.delivered ?? 0).toBeGreaterThan(0);
    });
  }

  it("forgets a lease the route's pacing takes back, so the old dispatch's outcome frees no second slot", () => {
    const f = ledgerFixture([route("p", { ratePerSecond: 1 }), route("a")], { maxInFlight: 2 });
    f.transport.room = 0; // through the queue, so the lease can lapse
    f.ledger.record(ev("e1"), 254, ["p"], T0);
    const [old] = f.transport.take();
    f.ledger.record(ev("e2"), 254, ["p"], T0 + 11_000); // takes the route's only token
    f.transport.take();
    f.ledger.alarm(T0 + 11_001); // e1's lease ran out, and the route may not send yet: it waits unleased
    expect(f.transport.take()).toEqual([]);
    expect(f.store.leasedCount()).toBe(1);
    f.ledger.settle([f.transport.outcome(old!, { ok: false, status: 503 })], T0 + 11_002);
    // Only e2 is out, so the window (2) has room for exactly one more.
    for (const id of ["x1", "x2", "x3"]) f.ledger.record(ev(id), 254, ["a"], T0 + 11_003);
    expect(f.store.leasedCount()).toBe(2);
  });
});
