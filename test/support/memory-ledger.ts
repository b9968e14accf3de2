// An in-memory LedgerStore and recording fakes of the ledger's other collaborators, so the state
// machine (durable-objects/ledger/machine.ts) can be driven transition by transition in plain Node.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryOutcome } from "../../core/delivery/messages.js";
import type { RoutePlan } from "../../core/resources/plan.js";
import { Ledger, type Dispatch, type LedgerHost, type Transport } from "../../durable-objects/ledger/machine.js";
import type { DeliveryPatch, DeliveryRow, LedgerStore, NewDelivery, StoredEvent } from "../../durable-objects/ledger/store.js";

export class MemoryStore implements LedgerStore {
  events = new Map<number, StoredEvent & { received_at: number; archive: boolean }>();
  rows = new Map<number, DeliveryRow>();
  private nextSeq = 1;
  private nextId = 1;

  insertEvent(event: CloudEvent, ttl: number, now: number, archive = false, _replay?: string): number {
    const seq = this.nextSeq++;
    this.events.set(seq, { event: structuredClone(event), ttl, received_at: now, archive });
    return seq;
  }
  loadEvent(seq: number): StoredEvent | undefined {
    const e = this.events.get(seq);
    return e ? { event: structuredClone(e.event), ttl: e.ttl } : undefined;
  }
  insertDelivery(d: NewDelivery): number {
    const id = this.nextId++;
    const { event_seq, route, hop, reply_seq, due_at } = d;
    this.rows.set(id, {
      id, event_seq, route, hop, reply_seq, due_at, attempt: 0, lease_until: d.lease_until ?? null, gen: d.gen ?? 0, error: null,
      local: d.local ?? 0, order_key: d.order_key ?? null, blocked: d.blocked ?? 0, throttles: 0, redrive_of: d.redrive_of ?? null,
    });
    return id;
  }
  delivery(id: number): DeliveryRow | undefined {
    const r = this.rows.get(id);
    return r ? { ...r } : undefined;
  }
  update(id: number, patch: DeliveryPatch): void {
    const r = this.rows.get(id);
    if (r) Object.assign(r, patch);
  }
  remove(row: DeliveryRow): void {
    this.rows.delete(row.id);
    for (const seq of row.reply_seq === null ? [row.event_seq] : [row.event_seq, row.reply_seq]) {
      if (this.events.get(seq)?.archive) continue;
      if (![...this.rows.values()].some((r) => (seq === row.event_seq ? r.event_seq === seq : r.reply_seq === seq))) this.events.delete(seq);
    }
  }
  lapsed(now: number, limit: number): DeliveryRow[] {
    return [...this.rows.values()].filter((r) => r.lease_until !== null && r.lease_until <= now).slice(0, limit).map((r) => ({ ...r }));
  }
  due(now: number, limit: number, hold: string[] = []): DeliveryRow[] {
    return [...this.rows.values()]
      .filter((r) => r.lease_until === null && r.due_at <= now && r.blocked === 0 && !(r.hop === "subscriber" && hold.includes(r.route)))
      .sort((a, b) => a.due_at - b.due_at).slice(0, limit).map((r) => ({ ...r }));
  }
  nextBlocked(route: string, key: string): DeliveryRow | undefined {
    const r = [...this.rows.values()].filter((x) => x.route === route && x.order_key === key && x.blocked === 1).sort((a, b) => a.id - b.id)[0];
    return r ? { ...r } : undefined;
  }
  chainCounts(): { route: string; order_key: string; n: number }[] {
    const m = new Map<string, { route: string; order_key: string; n: number }>();
    for (const r of this.rows.values()) {
      if (r.order_key === null || r.blocked === 1 || r.hop === "dls") continue;
      const k = `${r.route}\n${r.order_key}`;
      const e = m.get(k) ?? m.set(k, { route: r.route, order_key: r.order_key, n: 0 }).get(k)!;
      e.n++;
    }
    return [...m.values()];
  }
  leasedByRoute(): { route: string; n: number }[] {
    const m = new Map<string, number>();
    for (const r of this.rows.values()) if (r.lease_until !== null && r.hop === "subscriber") m.set(r.route, (m.get(r.route) ?? 0) + 1);
    return [...m].map(([route, n]) => ({ route, n }));
  }
  all(): DeliveryRow[] {
    return [...this.rows.values()].map((r) => ({ ...r }));
  }
  count(): number {
    return this.rows.size;
  }
  leasedCount(): number {
    return [...this.rows.values()].filter((r) => r.lease_until !== null).length;
  }
  nextTimes(now: number): { lease?: number; due?: number } {
    const leases = [...this.rows.values()].flatMap((r) => (r.lease_until !== null ? [r.lease_until] : []));
    const dues = [...this.rows.values()].flatMap((r) => (r.lease_until === null && r.due_at > now ? [r.due_at] : []));
    return { ...(leases.length ? { lease: Math.min(...leases) } : {}), ...(dues.length ? { due: Math.min(...dues) } : {}) };
  }
  expireLocalLeases(now: number): number {
    let n = 0;
    for (const r of this.rows.values()) {
      if (r.local === 1 && r.lease_until !== null) {
        r.lease_until = now;
        r.local = 0;
        n++;
      }
    }
    return n;
  }
}

export class FakeTransport implements Transport {
  sent: Dispatch[] = [];
  room = 6;
  running = new Set<number>();
  hasLocalRoom(): boolean {
    return this.running.size < this.room;
  }
  isLocal(id: number): boolean {
    return this.running.has(id);
  }
  localCount(): number {
    return this.running.size;
  }
  send(d: Dispatch): void {
    this.sent.push(d);
    if (d.local) this.running.add(d.msg.id);
  }
  /** Takes the dispatches sent so far. */
  take(): Dispatch[] {
    const out = this.sent;
    this.sent = [];
    return out;
  }
  /** The outcome of a dispatch, as the transport would report it. */
  outcome(d: Dispatch, o: Partial<DeliveryOutcome> = {}): DeliveryOutcome {
    this.running.delete(d.msg.id);
    return { id: d.msg.id, gen: d.msg.gen, ok: true, status: 202, ...o };
  }
}

export class FakeCounters {
  values: Record<string, number> = {};
  drops: { reason: string; id: string; detail: string }[] = [];
  add(name: string, n = 1): void {
    this.values[name] = (this.values[name] ?? 0) + n;
  }
  drop(reason: string, ev: { id: string; detail: string }): void {
    this.add(`dropped.${reason}`);
    this.drops.push({ reason, id: ev.id, detail: ev.detail });
  }
}

export function route(uid: string, extra: Partial<RoutePlan> = {}): RoutePlan {
  return {
    uid, kind: "Trigger", name: uid, subscriber: { url: `http://sink.test/${uid}` },
    policy: { retry: 2, backoffPolicy: "exponential", backoffDelayMs: 2000, timeoutMs: 10_000, format: "binary" }, ...extra,
  };
}

export function ledgerFixture(routes: RoutePlan[], opts: { maxInFlight?: number } = {}) {
  const store = new MemoryStore();
  const transport = new FakeTransport();
  const wakes: number[] = [];
  const counters = new FakeCounters();
  const replies: { row: DeliveryRow; reply: CloudEvent }[] = [];
  const byUid = new Map(routes.map((r) => [r.uid, r]));
  const host: LedgerHost = {
    owner: { binding: "BROKER", name: "ns/b" },
    namespace: "ns",
    route: (uid) => byUid.get(uid),
    allRoutes: () => byUid.values(),
    // As a Channel does: a Subscription with a reply destination forwards the reply as a second hop.
    onReply: (row, orig, reply, now) => {
      replies.push({ row, reply });
      if (byUid.get(row.route)?.reply) ledger.recordReply(row, reply, orig.ttl, now);
    },
  };
  const soons: number[] = [];
  const timer = { wakeAt: (at: number) => void wakes.push(at), soon: (at: number) => void soons.push(at) };
  const ledger = new Ledger(store, transport, timer, host, counters, { leaseSlackMs: 1000, maxInFlight: opts.maxInFlight ?? 100 });
  return { ledger, store, transport, wakes, soons, counters, replies, routes: byUid };
}

export function ev(id: string): CloudEvent {
  return { attrs: { specversion: "1.0", id, source: "/s", type: "t" }, data: new TextEncoder().encode(`{"id":"${id}"}`) };
}
