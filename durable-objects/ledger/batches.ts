// The ledger's batch rows while they live: the batch a flush fills, the references that keep a row
// (a delivery still needs one of its events), the settled marks written into it, and what the end
// of a flush writes. One flush inserts one row for everything it recorded and deletes the rows
// nothing needs any more; that is the whole storage cost of a delivery that succeeds at once.
import type { CloudEvent } from "../../core/cloudevents/event.js";
import { BATCH_ROW_BYTES, storedSize, type BatchDelivery, type BatchEvent, type EventLoc } from "./batch.js";
import type { StoredEvent } from "./contract.js";
import type { BatchState, Building, LedgerState, Rec } from "./state.js";

/** The batch the current flush fills for `replay` ("" for what producers and replies bring). */
function building(s: LedgerState, replay: string, size: number, opened: boolean): Building {
  let b = s.building.get(replay);
  // A full batch is finished here; the next events start another row (Cloudflare's 2 MB row limit).
  if (b && b.events.length > 0 && (b.bytes + size > BATCH_ROW_BYTES || b.state.opened !== opened)) {
    s.building.set(`${replay}\n${b.state.id}`, b);
    b = undefined;
  }
  if (!b) {
    const state: BatchState = {
      id: s.ids.take(), refs: 0, firstPath: 0, archive: false, replay: replay || null, settled: new Set(), dirty: false, fresh: true, opened, ready: 0,
    };
    s.batches.set(state.id, state);
    if (!opened) s.unopened.push(state.id);
    b = { state, events: [], dels: [], bytes: 0 };
    s.building.set(replay, b);
  }
  return b;
}

/**
 * Adds an event and the deliveries it owes to the flush's batch; returns where it is and the new
 * deliveries. `opened`: their records are made now (the caller sends them); otherwise they wait in
 * storage for room in the in-flight window.
 */
export function addEvent(
  s: LedgerState, event: CloudEvent, ttl: number, now: number,
  dels: Omit<BatchDelivery, "n" | "idx">[], opts: { archive?: boolean; replay?: string; opened: boolean },
): { loc: EventLoc; dels: BatchDelivery[]; batch: BatchState } {
  const b = building(s, opts.replay ?? "", storedSize(event), opts.opened);
  const idx = b.events.length;
  b.events.push({ seq: s.ids.take(), event, ttl, at: now, archive: opts.archive ?? false });
  b.bytes += storedSize(event);
  if (opts.archive) b.state.archive = true;
  const added: BatchDelivery[] = [];
  for (const d of dels) {
    const del: BatchDelivery = { ...d, n: b.dels.length, idx };
    b.dels.push(del);
    added.push(del);
    ref(s, b.state.id);
    b.state.firstPath++;
    if (del.orig) ref(s, del.orig.batch);
  }
  s.firstPathTotal += dels.length;
  if (opts.opened) b.state.events = b.events;
  return { loc: { batch: b.state.id, idx }, dels: added, batch: b.state };
}

export function ref(s: LedgerState, batch: number): void {
  const b = s.batches.get(batch);
  if (b) {
    b.refs++;
    s.doomed.delete(batch);
  }
}

export function deref(s: LedgerState, batch: number): void {
  const b = s.batches.get(batch);
  if (!b) return;
  b.refs--;
  if (b.refs <= 0 && !b.archive) s.doomed.add(batch);
}

/** The batches a delivery needs: its event's, and a reply hop's reply's. */
export function refsOf(d: { event: EventLoc; reply: EventLoc | null }): number[] {
  return d.reply && d.reply.batch !== d.event.batch ? [d.event.batch, d.reply.batch] : [d.event.batch];
}

/**
 * A first-path delivery leaves that path (settled, or moved to a row of its own). `mark`: the row
 * records it, so that after a restart it is not sent again; a plain success goes unmarked (the
 * batch row is deleted once all of its deliveries are done, and a restart before that sends it
 * again, as at-least-once allows).
 */
export function leaveFirstPath(s: LedgerState, rec: Rec, mark: boolean): void {
  const home = rec.home;
  if (!home) return;
  const b = s.batches.get(home.batch);
  if (b) {
    b.firstPath--;
    if (mark) {
      b.settled.add(home.n);
      b.dirty = true;
    }
  }
  s.firstPathTotal--;
  rec.home = null;
}

/** An event a delivery sends: from the batch's cache, this pump's loads, or storage. */
export function eventAt(s: LedgerState, loc: EventLoc): BatchEvent | undefined {
  const b = s.batches.get(loc.batch);
  const cached = b?.events?.[loc.idx];
  if (cached) return cached;
  for (const bb of s.building.values()) if (bb.state.id === loc.batch) return bb.events[loc.idx];
  const key = `${loc.batch}:${loc.idx}`;
  const hit = s.loaded?.get(key);
  if (hit) return hit;
  const stored = s.store.batch(loc.batch);
  // A pump sends mostly one batch's deliveries: its other events are kept for the rest of the pump.
  if (stored && s.loaded) stored.events.forEach((e, i) => s.loaded!.set(`${loc.batch}:${i}`, e));
  return stored?.events[loc.idx];
}

export function storedEvent(s: LedgerState, loc: EventLoc): StoredEvent | undefined {
  const e = eventAt(s, loc);
  return e ? { event: e.event, ttl: e.ttl } : undefined;
}

/**
 * The end of a flush, inside its transaction: rows nothing needs are deleted (their counter
 * increments move to the new row), the new batches are inserted (one row each, carrying the
 * flush's counter increments), and settled marks are written. Returns the rows it wrote.
 */
export function endFlush(s: LedgerState): void {
  for (const id of s.doomed) {
    const b = s.batches.get(id);
    if (!b || b.refs > 0 || b.archive) continue;
    s.batches.delete(id);
    if (b.fresh) continue;
    s.store.deleteBatch(id);
    s.counters.rowDeleted?.(id);
  }
  s.doomed.clear();
  let carry = s.counters.take?.();
  for (const b of s.building.values()) {
    const st = b.state;
    if (!s.batches.has(st.id)) continue; // nothing needed it by the end of the flush
    const counts = carry;
    s.store.insertBatch({ id: st.id, events: b.events, dels: b.dels, settled: [...st.settled], ...(st.replay ? { replay: st.replay } : {}), ...(counts ? { counts } : {}) }, st.archive);
    if (counts) {
      s.counters.inRow?.(st.id, counts);
      carry = undefined;
    }
    st.fresh = false;
    st.dirty = false;
    // Opened batches keep their events while some of their deliveries wait to be sent.
    if (!st.opened || st.ready === 0) delete st.events;
    else st.events = b.events;
  }
  if (carry) s.counters.untake?.(carry);
  s.building.clear();
  for (const b of s.batches.values()) {
    if (!b.dirty) continue;
    s.store.setSettled(b.id, b.settled);
    b.dirty = false;
  }
}
