// Sending a delivery and taking it out of the ledger: the steps every path of the state machine
// (./machine.ts) ends in. They live together because they call each other: a drop lets an ordered
// chain's next delivery go, that one is sent, and sending may find its route gone and drop it.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import type { DeliveryMessage } from "../../core/delivery/messages.js";
import { traceFields } from "../../core/cloudevents/trace.js";
import type { DeliveryRow } from "./store.js";
import { flowControlled } from "./gate.js";
import type { Dispatch, TailOutcome } from "./contract.js";
import { hopEvent, hopTarget } from "./hop.js";
import { flowRoutes, hold, release } from "./flow.js";
import { DUE_SLACK_MS, LOCAL_RECOVERY_MS, type LedgerState } from "./state.js";

/** The event a hop sends: the original, the reply, or the original with Knative's error extensions. */
export function payload(s: LedgerState, row: DeliveryRow, preloaded?: CloudEvent): CloudEvent | null {
  const seq = row.hop === "reply" ? row.reply_seq! : row.event_seq;
  let event = preloaded ?? s.loaded?.get(seq);
  if (!event) {
    event = s.store.loadEvent(seq)?.event;
    if (!event) return null;
    s.loaded?.set(seq, event);
  }
  return hopEvent(row, event);
}

/** Leases the row under a new generation and hands the attempt to the transport. */
export function dispatch(s: LedgerState, row: DeliveryRow, preloaded: CloudEvent | undefined, now: number): void {
  const route = s.host.route(row.route);
  if (!route) return drop(s, row, "route-deleted", "its Trigger or Subscription was deleted", now);
  const target = hopTarget(route, row.hop);
  if (!target) return drop(s, row, `${row.hop}-target-removed`, "the route no longer has this destination", now);
  const event = payload(s, row, preloaded);
  if (!event) return drop(s, row, "event-missing", "the stored event is gone", now);
  if (row.hop === "subscriber" && flowControlled(route)) {
    const next = s.gate.nextSend(route, now);
    if (next > now) return hold(s, row, next, now);
    s.gate.took(route, now);
  }
  const start = Math.max(now, row.due_at);
  // First attempts and short retries go out from the object; dead letters, delayed retries and
  // what does not fit in its connection window go through the queues.
  const local = start - now <= DUE_SLACK_MS && row.hop !== "dls" && (!target.internal || !!target.object) && s.transport.hasLocalRoom();
  const gen = row.gen + 1;
  const lease = start + route.policy.timeoutMs + s.opts.leaseSlackMs;
  if (row.id === 0) row.id = s.store.insertDelivery({ ...row, gen, lease_until: lease, local: local ? 1 : 0 });
  else s.store.update(row.id, { gen, lease_until: lease, local: local ? 1 : 0 });
  if (row.lease_until === null) s.inFlight++;
  Object.assign(row, { gen, lease_until: lease, local: local ? 1 : 0 });
  s.leased.set(row.id, row);
  const msg: DeliveryMessage = {
    owner: s.host.owner,
    id: row.id,
    gen,
    hop: row.hop,
    attempt: row.attempt + 1,
    url: target.url,
    internal: target.internal ?? false,
    format: route.policy.format,
    timeoutMs: route.policy.timeoutMs,
    namespace: s.host.namespace,
    route: row.route,
    ...(target.object ? { object: target.object } : {}),
  };
  const d: Dispatch = { msg, event, local };
  if (start - now >= 1000) d.delaySeconds = Math.ceil((start - now) / 1000);
  s.transport.send(d);
  s.timer.wakeAt(local ? now + LOCAL_RECOVERY_MS : lease);
}

/** Dispatches now, via the queue's delay from one second up, or via the alarm below that. */
export function schedule(s: LedgerState, row: DeliveryRow, now: number): void {
  const wait = row.due_at - now;
  if (wait > DUE_SLACK_MS && wait < 1000) {
    s.starved = true;
    s.timer.wakeAt(row.due_at);
  } else trySend(s, row, undefined, now);
}

/** Dispatches now if the in-flight window has room; otherwise the row waits for pump(). */
export function trySend(s: LedgerState, row: DeliveryRow, preloaded: CloudEvent | undefined, now: number): void {
  if (s.inFlight < s.opts.maxInFlight) return dispatch(s, row, preloaded, now);
  if (row.id === 0) row.id = s.store.insertDelivery(row);
  s.starved = true;
}

/** Fills the in-flight window with due rows, oldest first. */
export function pump(s: LedgerState, now: number): void {
  if (!s.starved) return;
  const room = s.opts.maxInFlight - s.inFlight;
  if (room <= 0) return;
  const held = s.gate.blocked(flowRoutes(s), now);
  const rows = s.store.due(now + DUE_SLACK_MS, room, held);
  if (rows.length < room) s.starved = false;
  // Rows of a route that may not send yet stay out of the query, so nothing else would wake them:
  // a pacing tick that fires a moment early (timers are not exact) left them to the alarm, seconds later.
  for (const uid of held) {
    const route = s.host.route(uid);
    const next = route ? s.gate.nextSend(route, now) : Infinity;
    if (next !== Infinity) s.timer.soon(next);
  }
  s.loaded = new Map();
  try {
    for (const row of rows) dispatch(s, row, undefined, now);
  } finally {
    s.loaded = undefined;
  }
}

/** Tells live watchers what became of a delivery (only when someone watches). */
export function observe(s: LedgerState, row: DeliveryRow, outcome: TailOutcome, status: number | undefined): void {
  if (!s.host.watching || !s.host.onOutcome) return;
  const id = String(s.store.loadEvent(row.hop === "reply" ? row.reply_seq! : row.event_seq)?.event.attrs.id ?? "");
  s.host.onOutcome(row, id, outcome, status);
}

/** An ordered delivery left its chain (delivered, dead-lettered or dropped): the chain's next may go. */
export function leaveChain(s: LedgerState, row: DeliveryRow, now: number): void {
  if (row.order_key === null || row.hop === "dls" || row.blocked === 1) return;
  const key = row.order_key;
  const route = row.route;
  // A loop, not recursion: promoting into a deleted route drops that one and promotes the next.
  while (s.chains.leave(route, key)) {
    const next = s.store.nextBlocked(route, key);
    if (!next) return;
    s.store.update(next.id, { blocked: 0, due_at: now });
    Object.assign(next, { blocked: 0, due_at: now });
    s.chains.enter(route, key);
    if (s.host.route(route)) return trySend(s, next, undefined, now);
    drop(s, { ...next, order_key: null }, "route-deleted", "its Trigger or Subscription was deleted", now);
  }
}

export function drop(s: LedgerState, row: DeliveryRow, reason: string, detail: string, now: number): void {
  observe(s, row, "dropped", undefined);
  const ev = s.store.loadEvent(row.hop === "reply" ? row.reply_seq! : row.event_seq)?.event;
  s.counters.drop(reason, {
    id: String(ev?.attrs.id ?? ""), source: String(ev?.attrs.source ?? ""), type: String(ev?.attrs.type ?? ""),
    route: s.host.route(row.route)?.name ?? row.route, detail, ...(ev ? traceFields(ev) : {}),
  }, now);
  remove(s, row);
  leaveChain(s, row, now);
}

export function remove(s: LedgerState, row: DeliveryRow): void {
  s.store.remove(row);
  // A stale dispatch's success removes the row under its current attempt too.
  s.leased.delete(row.id);
  release(s, row);
}
