// How a ledger comes back: at the start of each incarnation of its object (after a crash, an
// eviction, a deploy) and after a flush that failed, memory is rebuilt from storage alone. Every
// delivery storage still owes is sent again (a delivery whose success was not yet recorded is
// delivered twice, as at-least-once allows); nothing it owes is lost. Also the way out: dropping
// everything when the owner is deleted.
import { log } from "../../core/log.js";
import type { BatchDelivery } from "./batch.js";
import { refsOf } from "./batches.js";
import { drop, pump, recOfDel, recOfRow } from "./dispatch.js";
import { ID_BLOCK, Ids, LOCAL_RECOVERY_MS, type BatchState, type LedgerState } from "./state.js";

/** Forgets everything this incarnation held in memory (storage stays as it is). */
export function clear(s: LedgerState): void {
  s.leased.clear();
  s.batches.clear();
  s.unopened.length = 0;
  s.ready = [];
  s.building.clear();
  s.doomed.clear();
  s.chains.clear();
  s.gate.reset([]);
  s.firstPathTotal = 0;
  s.starved = true;
}

/** A new incarnation: a new epoch and id block, then what storage owes, rebuilt and sent. */
export function start(s: LedgerState, now: number): void {
  clear(s);
  const { epoch, from, to } = s.store.begin(ID_BLOCK);
  s.epoch = epoch;
  s.ids = new Ids(from, to, (t) => s.store.reserve(t));
  const unleased = s.store.unleaseAll(now);
  const refs = new Map<number, number>();
  const add = (batch: number) => refs.set(batch, (refs.get(batch) ?? 0) + 1);
  const chains = new Map<string, { route: string; order_key: string; n: number }>();
  for (const row of s.store.rows()) {
    for (const b of refsOf(row)) add(b);
    if (row.order_key === null || row.blocked === 1 || row.hop === "dls") continue;
    const k = `${row.route}\n${row.order_key}`;
    const c = chains.get(k) ?? chains.set(k, { route: row.route, order_key: row.order_key, n: 0 }).get(k)!;
    c.n++;
  }
  s.chains.reset([...chains.values()]);
  const owed = (d: BatchDelivery, settled: Set<number>) => !settled.has(d.n);
  for (const sum of s.store.batches()) {
    const settled = new Set(sum.settled);
    const b: BatchState = {
      id: sum.id, refs: 0, firstPath: 0, archive: sum.archive, replay: sum.replay, settled, dirty: false, fresh: false, opened: false, ready: 0,
    };
    s.batches.set(sum.id, b);
    for (const d of sum.dels) {
      if (!owed(d, settled)) continue;
      b.firstPath++;
      add(sum.id);
      if (d.orig) add(d.orig.batch);
    }
    s.firstPathTotal += b.firstPath;
    if (b.firstPath > 0) s.unopened.push(sum.id);
    if (sum.counts) s.counters.inRow?.(sum.id, sum.counts);
  }
  for (const b of s.batches.values()) {
    b.refs = refs.get(b.id) ?? 0;
    // Nothing needs it (a row left over by an earlier version): it goes at the end of this flush.
    if (b.refs <= 0 && !b.archive) s.doomed.add(b.id);
  }
  // Taken over from storage: sent again (some may never have gone out before the restart).
  const recovered = s.firstPathTotal + unleased;
  if (recovered > 0) {
    s.counters.add("recovered", recovered);
    log.info("a new incarnation took over deliveries from storage", { owner: s.host.owner.name, firstAttempts: s.firstPathTotal, rows: unleased });
  }
  if (s.firstPathTotal > 0 || refs.size > 0) s.timer.wakeAt(now + LOCAL_RECOVERY_MS);
  s.starved = true;
  pump(s, now);
}

/** Drops every pending delivery, each logged and counted (the owner was deleted). */
export function dropAll(s: LedgerState, reason: string, now: number): void {
  s.chains.clear();
  const detail = "its owner was deleted";
  for (const rec of [...s.leased.values()]) drop(s, { ...rec, order_key: null }, reason, detail, now);
  for (const rec of s.ready.splice(0)) drop(s, { ...rec, order_key: null }, reason, detail, now);
  for (const id of s.unopened.splice(0)) {
    const stored = s.store.batch(id);
    const b = s.batches.get(id);
    if (!stored || !b) continue;
    b.events = stored.events;
    for (const d of stored.summary.dels) if (!b.settled.has(d.n)) drop(s, { ...recOfDel(s, id, d, now), order_key: null }, reason, detail, now);
  }
  for (const row of s.store.rows()) drop(s, { ...recOfRow(row), order_key: null }, reason, detail, now);
}
