// Fault injection: random publishes, outcomes (successes, retriable and final failures, replies),
// lost queue messages, claims, alarms, crashes and storage faults at random writes, driven through
// the ledger, the real group commit and counters over an in-memory store with SQLite's transaction
// semantics. After every step: what the ledger says is pending is what storage owes, and nothing
// was ever sent that storage did not hold. At the end, with faults off and the runtime left alone:
// every acknowledged event reached every route it was recorded for (delivered, dead-lettered or
// kept), nothing is out, and `accepted` counts exactly the acknowledged events, across crashes.
// Fixed seed and bounded in `npm test`; LEDGER_FAULT_RUNS=2000 runs more.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Dispatch } from "../../durable-objects/ledger/machine.js";
import { decodeDels, decodeEvents, decodeSettled } from "../../durable-objects/ledger/batch.js";
import { ev, ledgerFixture, MemoryDb, route } from "../support/memory-ledger.js";

const T0 = 1_000_000;
const RUNS = Number(process.env.LEDGER_FAULT_RUNS ?? 150);
const policy = { retry: 2, backoffPolicy: "exponential" as const, backoffDelayMs: 200, timeoutMs: 1000, format: "binary" as const };
const ROUTES = [
  route("a", { policy }),
  route("d", { policy, deadLetter: { url: "http://dls.test/" } }),
  route("o", { policy, ordered: true }),
  route("r", { policy, kind: "Subscription", reply: { url: "http://reply.test/" } }),
  route("f", { policy, maxInFlight: 1 }),
];

type Step =
  | { t: "publish"; n: number; routes: number; key: number }
  | { t: "answer"; i: number; how: "ok" | "reply" | "503" | "400" }
  | { t: "claim"; i: number }
  | { t: "lose"; i: number }
  | { t: "alarm"; ms: number }
  | { t: "crash" }
  | { t: "fault"; k: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("publish" as const), n: fc.integer({ min: 1, max: 3 }), routes: fc.integer({ min: 1, max: 31 }), key: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant("answer" as const), i: fc.nat(), how: fc.constantFrom("ok" as const, "ok" as const, "reply" as const, "503" as const, "400" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("claim" as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("lose" as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("alarm" as const), ms: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("crash" as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("fault" as const), k: fc.integer({ min: 1, max: 6 }) }) },
);

class Harness {
  readonly db = new MemoryDb();
  f = this.boot();
  now = T0;
  outstanding: Dispatch[] = [];
  /** Event id → routes it was recorded for, for every publish that was acknowledged. */
  readonly acked = new Map<string, string[]>();
  readonly reached = new Set<string>();
  private n = 0;
  private restarts = 0;

  private boot() {
    const f = ledgerFixture(ROUTES, { db: this.db, keep: true, maxInFlight: 6, now: this.now ?? T0 });
    f.transport.room = 3;
    f.transport.onSend = (d) => this.checkStored(d);
    return f;
  }

  /** Sends of something storage did not hold when it left (must stay empty). */
  readonly violations: string[] = [];

  /** Nothing rolled back is ever sent: what goes out is in committed storage at that moment. */
  private checkStored(d: Dispatch): void {
    const id = String(d.event.attrs.id);
    const stored = [...this.db.t.batches.values()].some((b) => decodeEvents(b.events, b.data).some((e) => e.event.attrs.id === id));
    if (!stored) this.violations.push(`sent ${id} (${d.msg.hop}) which storage does not hold`);
  }

  /** What storage owes: rows, and batch deliveries not marked settled. */
  owed(): number {
    let n = this.db.t.rows.size;
    for (const b of this.db.t.batches.values()) {
      const settled = new Set(decodeSettled(b.settled));
      n += decodeDels(b.dels).filter((d) => !settled.has(d.n)).length;
    }
    return n;
  }

  private take(): void {
    this.outstanding.push(...this.f.transport.take());
    for (const k of this.f.kept) this.reached.add(`${k.event.attrs.id}|${k.d.route}`);
    this.f.kept.length = 0;
  }

  /** A job, run now; a storage fault rejects it (the caller learns it was not done). */
  private async job(fn: () => void): Promise<boolean> {
    let ok = true;
    await this.f.job(fn).catch(() => (ok = false));
    this.take();
    await this.recover();
    return ok;
  }

  private async recover(): Promise<void> {
    if (this.f.restarts() > this.restarts) {
      // As the Dispatcher does after a flush that failed: the ledger restarts from storage.
      this.restarts = this.f.restarts();
      this.db.fault = () => false;
      await this.f.job(() => this.f.ledger.start(this.now));
      this.take();
      expect(this.f.ledger.pending(), "after a rolled-back flush, memory is what storage holds").toBe(this.owed());
    }
  }

  async run(s: Step): Promise<void> {
    this.now += 7;
    this.f.clock.now = this.now;
    const pick = (i: number) => (this.outstanding.length ? this.outstanding.splice(i % this.outstanding.length, 1)[0] : undefined);
    switch (s.t) {
      case "publish": {
        const routes = ROUTES.filter((_, i) => s.routes & (1 << i)).map((r) => r.uid);
        const events = Array.from({ length: s.n }, () => ev(`e${++this.n}`, { partitionkey: `k${s.key}` }));
        const ok = await this.job(() => {
          for (const e of events) this.f.ledger.record(e, 254, routes, this.now);
          this.f.counters.add("accepted", events.length);
        });
        if (ok) for (const e of events) this.acked.set(String(e.attrs.id), routes);
        break;
      }
      case "answer": {
        const d = pick(s.i);
        if (!d) break;
        const o = s.how === "ok" ? {} : s.how === "reply" ? { status: 200, reply: ev(`${d.event.attrs.id}-re`) } : { ok: false, status: Number(s.how) };
        if (o.ok !== false && d.msg.hop !== "reply") this.reached.add(`${String(d.event.attrs.id).replace(/-re$/, "")}|${d.msg.route}`);
        await this.job(() => this.f.ledger.settle([this.f.transport.outcome(d, o)], this.now));
        break;
      }
      case "claim": {
        const i = this.outstanding.findIndex((d) => !d.local);
        if (i < 0) break;
        const d = this.outstanding[i]!;
        const out: { ok: boolean }[] = [];
        await this.job(() => this.f.ledger.claim([{ id: d.msg.id, gen: d.msg.gen }], d.msg.epoch, this.now + 10_000, [false], out as never));
        if (out[0] && !out[0].ok) this.outstanding.splice(i, 1); // the consumer acks it without sending
        break;
      }
      case "lose": {
        const i = this.outstanding.findIndex((d) => !d.local);
        if (i >= 0) this.outstanding.splice(i, 1); // a queue message the consumer gave up on
        break;
      }
      case "alarm":
        this.now += s.ms;
        this.f.clock.now = this.now;
        await this.job(() => this.f.ledger.alarm(this.now));
        break;
      case "crash":
        // The object's own attempts die with it; what consumers hold still reports, to the new incarnation.
        this.outstanding = this.outstanding.filter((d) => !d.local);
        this.f = this.boot();
        this.restarts = 0;
        this.take();
        await this.recover(); // its start may have met a fault too
        break;
      case "fault": {
        let k = s.k;
        this.db.fault = () => --k === 0;
        break;
      }
    }
    // Storage owes what is pending, plus plain successes not yet recorded (their batch row goes
    // when its last delivery is done; a restart before that sends them again).
    if (s.t === "crash") expect(this.f.ledger.pending(), "a new incarnation owes exactly what storage owes").toBe(this.owed());
    else expect(this.f.ledger.pending(), "pending deliveries are all in storage").toBeLessThanOrEqual(this.owed());
    expect(this.violations).toEqual([]);
  }

  /** Faults off, the runtime left alone: everything settles. */
  async quiesce(): Promise<void> {
    this.db.fault = () => false;
    await this.run({ t: "crash" });
    for (let round = 0; round < 200 && (this.f.ledger.pending() > 0 || this.outstanding.length > 0); round++) {
      for (const d of this.outstanding.splice(0)) {
        if (d.msg.hop !== "reply") this.reached.add(`${String(d.event.attrs.id).replace(/-re$/, "")}|${d.msg.route}`);
        await this.job(() => this.f.ledger.settle([this.f.transport.outcome(d)], this.now));
      }
      this.now += 70_000;
      this.f.clock.now = this.now;
      await this.job(() => this.f.ledger.alarm(this.now));
    }
  }
}

describe("ledger under faults (property)", () => {
  it(`loses nothing acknowledged, sends nothing rolled back, and settles to zero (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 60 }), async (steps) => {
        const h = new Harness();
        for (const s of steps) await h.run(s);
        await h.quiesce();
        expect(h.f.ledger.pending()).toBe(0);
        expect(h.f.ledger.inFlight()).toBe(0);
        expect(h.owed()).toBe(0);
        for (const [id, routes] of h.acked) for (const r of routes) expect(h.reached.has(`${id}|${r}`), `${id} never reached ${r}`).toBe(true);
        expect(h.f.counters.snapshot().accepted ?? 0, "accepted counts exactly what was acknowledged").toBe([...h.acked.keys()].length);
      }),
      { seed: 20_261_207, numRuns: RUNS },
    );
  }, 120_000);
});
