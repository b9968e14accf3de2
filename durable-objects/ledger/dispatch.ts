// Sending a delivery and taking it out of the ledger: the steps every path of the state machine
// (./machine.ts) ends in. They live together because they call each other: a drop lets an ordered
// chain's next delivery go, that one is sent, and sending may find its route gone and drop it.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryMessage } from "../../core/delivery/messages.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import type { BatchDelivery, EventLoc } from "./batch.js";
import { deref, eventAt, leaveFirstPath, refsOf } from "./batches.js";
import { flowControlled } from "./gate.js";
import type { Dispatch, TailOutcome } from "./contract.js";
import { hopEvent, hopTarget } from "./hop.js";
import { flowRoutes, hold } from "./flow.js";
import type { DeliveryRow, RowPatch } from "./store.js";
import { DUE_SLACK_MS, LOCAL_RECOVERY_MS, type LedgerState, type Rec } from "./state.js";

/** Most first-path deliveries waiting in memory for room; past it, new batches wait in storage. */
export const READY_MAX = 2_000;

/** The event a hop sends: the original, the reply, or the original with Knative's error extensions. */
export function payload(s: LedgerState, rec: Rec, preloaded?: CloudEvent): CloudEvent | null {
  const event = preloaded ?? eventAt(s, rec.hop === "reply" ? rec.reply! : rec.event)?.event;
  return event ? hopEvent(rec, event) : null;
}

/** A first-path delivery's record, made from what its batch row owes. */
export function recOfDel(s: LedgerState, batch: number, del: BatchDelivery, now: number): Rec {
  const here: EventLoc = { batch, idx: del.idx };
  return {
    id: s.ids.take(), event: del.orig ?? here, reply: del.orig ? here : null, route: del.route, hop: del.hop, attempt: 0, due_at: now,
    leased: 0, error: null, order_key: del.key ?? null, blocked: 0, throttles: 0, redrive_of: del.redrive ?? null,
    home: { batch, n: del.n }, gen: 0, lease_until: null, local: false,
  };
}

export function recOfRow(row: DeliveryRow): Rec {
  return { ...row, home: null, gen: 0, lease_until: null, local: false };
}

/**
 * A delivery's state changes on its own path: a first-path delivery gets a row of its own (and is
 * marked settled in its batch), a row is updated.
 */
export function persist(s: LedgerState, rec: Rec, patch: RowPatch): void {
  Object.assign(rec, patch);
  if (rec.home) {
    leaveFirstPath(s, rec, true);
    s.store.insertRow(rec);
  } else s.store.update(rec.id, patch);
}

/** A first-path delivery enters: into its ordered chain (or blocked behind it), then sent when there is room. */
export function admit(s: LedgerState, rec: Rec, preloaded: CloudEvent | undefined, now: number): void {
  if (rec.order_key !== null) {
    // A reply hop continues the chain of the event it answers; anything else waits for the chain's head.
    if (rec.hop !== "reply" && s.chains.busy(rec.route, rec.order_key)) return persist(s, rec, { blocked: 1 });
    s.chains.enter(rec.route, rec.order_key);
  }
  trySend(s, rec, preloaded, now);
}

/** Leases the delivery under a new generation and hands the attempt to the transport. */
export function dispatch(s: LedgerState, rec: Rec, preloaded: CloudEvent | undefined, now: number): void {
  const route = s.host.route(rec.route);
  if (!route) return drop(s, rec, "route-deleted", "its Trigger or Subscription was deleted", now);
  const target = hopTarget(route, rec.hop);
  if (!target) return drop(s, rec, `${rec.hop}-target-removed`, "the route no longer has this destination", now);
  const event = payload(s, rec, preloaded);
  if (!event) return drop(s, rec, "event-missing", "the stored event is gone", now);
  if (rec.hop === "subscriber" && flowControlled(route)) {
    const next = s.gate.nextSend(route, now);
    if (next > now) return hold(s, rec, next, now);
    s.gate.took(route, now);
  }
  const start = Math.max(now, rec.due_at);
  // First attempts and short retries go out from the object; dead letters, delayed retries and
  // what does not fit in its connection window or budget go through the queues.
  const local = start - now <= DUE_SLACK_MS && rec.hop !== "dls" && (!target.internal || !!target.object) && s.transport.hasLocalRoom();
  const gen = s.ids.take();
  // The object's own attempt always reports back (or dies with the object); a queued one is
  // presumed lost only if no consumer claims it for a long while (a claim restarts the lease).
  const lease = local ? Infinity : start + s.opts.queueLeaseMs;
  if (!rec.home) s.store.update(rec.id, { leased: 1, due_at: local ? start + route.policy.timeoutMs + s.opts.leaseSlackMs : lease });
  Object.assign(rec, { gen, lease_until: lease, local, leased: 1 });
  s.leased.set(rec.id, rec);
  const msg: DeliveryMessage = {
    owner: s.host.owner, epoch: s.epoch, id: rec.id, gen, hop: rec.hop, attempt: rec.attempt + 1, url: target.url, internal: target.internal ?? false,
    format: route.policy.format, timeoutMs: route.policy.timeoutMs, namespace: s.host.namespace, route: rec.route,
    ...(target.object ? { object: target.object } : {}),
  };
  const d: Dispatch = { msg, event, local };
  if (start - now >= 1000) d.delaySeconds = Math.ceil((start - now) / 1000);
  s.transport.send(d);
  s.timer.wakeAt(local ? now + LOCAL_RECOVERY_MS : lease);
}

/** Dispatches now, via the queue's delay from one second up, or via the alarm below that. */
export function schedule(s: LedgerState, rec: Rec, now: number): void {
  const wait = rec.due_at - now;
  if (wait > DUE_SLACK_MS && wait < 1000) {
    s.starved = true;
    s.timer.wakeAt(rec.due_at);
  } else trySend(s, rec, undefined, now);
}

/** Dispatches now if the in-flight window has room; otherwise the delivery waits (in memory or its row). */
export function trySend(s: LedgerState, rec: Rec, preloaded: CloudEvent | undefined, now: number): void {
  if (s.leased.size < s.opts.maxInFlight) return dispatch(s, rec, preloaded, now);
  s.starved = true;
  if (!rec.home) return; // its row waits in storage, due; pump() finds it
  s.ready.push(rec);
  const b = s.batches.get(rec.home.batch);
  if (b) b.ready++;
}

/** The object's first-path deliveries of a batch that waited in storage get records and go out. */
export function open(s: LedgerState, id: number, now: number): void {
  const b = s.batches.get(id);
  if (!b) return;
  const stored = s.store.batch(id);
  if (!stored) {
    s.batches.delete(id); // gone meanwhile (its owner was wiped): nothing to send
    return;
  }
  b.opened = true;
  b.events = stored.events;
  for (const del of stored.summary.dels) {
    if (b.settled.has(del.n)) continue;
    admit(s, recOfDel(s, id, del, now), undefined, now);
  }
  if (b.ready === 0) delete b.events;
}

/** Fills the in-flight window: due rows first (retries), then waiting first attempts, then batches from storage. */
export function pump(s: LedgerState, now: number): void {
  if (!s.starved) return;
  const room = () => s.opts.maxInFlight - s.leased.size;
  if (room() <= 0) return;
  s.starved = false;
  const held = s.gate.blocked(flowRoutes(s), now);
  // Rows of a route that may not send yet stay out of the query, so nothing else would wake them:
  // a pacing tick that fires a moment early (timers are not exact) left them to the alarm, seconds later.
  for (const uid of held) {
    const route = s.host.route(uid);
    const next = route ? s.gate.nextSend(route, now) : Infinity;
    if (next !== Infinity) s.timer.soon(next);
  }
  s.loaded = new Map();
  try {
    const want = room();
    const rows = s.store.due(now + DUE_SLACK_MS, want, held);
    if (rows.length === want) s.starved = true;
    for (const row of rows) dispatch(s, recOfRow(row), undefined, now);
    while (room() > 0 && s.ready.length > 0) {
      const rec = s.ready.shift()!;
      const event = eventAt(s, rec.hop === "reply" ? rec.reply! : rec.event)?.event;
      const b = rec.home ? s.batches.get(rec.home.batch) : undefined;
      // The batch's events stay cached only while some of its deliveries wait here.
      if (b && --b.ready === 0 && !b.fresh) delete b.events;
      dispatch(s, rec, event, now);
    }
    while (room() > 0 && s.ready.length < READY_MAX && s.unopened.length > 0) {
      const id = s.unopened[0]!;
      if (s.batches.get(id)?.fresh) break; // written at the end of this flush; opened by a later one
      s.unopened.shift();
      open(s, id, now);
    }
    if (s.ready.length > 0 || s.unopened.length > 0) s.starved = true;
  } finally {
    s.loaded = undefined;
  }
}

/** Tells live watchers what became of a delivery (only when someone watches). */
export function observe(s: LedgerState, rec: Rec, outcome: TailOutcome, status: number | undefined): void {
  if (!s.host.watching || !s.host.onOutcome) return;
  const id = String(eventAt(s, rec.hop === "reply" ? rec.reply! : rec.event)?.event.attrs.id ?? "");
  s.host.onOutcome(rec, id, outcome, status);
}

/** What leaving an ordered chain needs to know of a delivery (its state before the transition). */
export interface ChainMember {
  route: string;
  order_key: string | null;
  hop: Rec["hop"];
  blocked: number;
}

/** An ordered delivery left its chain (delivered, dead-lettered or dropped): the chain's next may go. */
export function leaveChain(s: LedgerState, m: ChainMember, now: number): void {
  if (m.order_key === null || m.hop === "dls" || m.blocked === 1) return;
  const key = m.order_key;
  const route = m.route;
  // A loop, not recursion: promoting into a deleted route drops that one and promotes the next.
  while (s.chains.leave(route, key)) {
    const row = s.store.nextBlocked(route, key);
    if (!row) return;
    const next = recOfRow(row);
    s.store.update(next.id, { blocked: 0, due_at: now });
    Object.assign(next, { blocked: 0, due_at: now });
    s.chains.enter(route, key);
    if (s.host.route(route)) return trySend(s, next, undefined, now);
    drop(s, { ...next, order_key: null }, "route-deleted", "its Trigger or Subscription was deleted", now);
  }
}

export function drop(s: LedgerState, rec: Rec, reason: string, detail: string, now: number): void {
  observe(s, rec, "dropped", undefined);
  const ev = eventAt(s, rec.hop === "reply" ? rec.reply! : rec.event)?.event;
  s.counters.drop(reason, {
    id: String(ev?.attrs.id ?? ""), source: String(ev?.attrs.source ?? ""), type: String(ev?.attrs.type ?? ""),
    route: s.host.route(rec.route)?.name ?? rec.route, detail, ...(ev ? traceFields(ev) : {}),
  }, now);
  const member: ChainMember = { route: rec.route, order_key: rec.order_key, hop: rec.hop, blocked: rec.blocked };
  finish(s, rec, true);
  leaveChain(s, member, now);
}

/**
 * The delivery is done (delivered, kept or dropped): its row goes, or its batch learns it (`mark`:
 * recorded as settled there), and the batches it needed lose a reference.
 */
export function finish(s: LedgerState, rec: Rec, mark: boolean): void {
  release(s, rec);
  if (rec.home) leaveFirstPath(s, rec, mark);
  else s.store.deleteRow(rec.id);
  for (const b of refsOf(rec)) deref(s, b);
}

/** A delivery's attempt is no longer out: its place in the window and its route's count are free. */
export function release(s: LedgerState, rec: Rec): void {
  if (rec.lease_until === null) return;
  if (s.leased.get(rec.id) === rec) s.leased.delete(rec.id);
  rec.lease_until = null;
  rec.leased = 0;
  rec.local = false;
  s.starved = true;
  if (rec.hop === "subscriber") s.gate.released(rec.route);
}
