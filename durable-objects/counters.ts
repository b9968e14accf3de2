import { log } from "../core/log.js";
import type { Participant } from "./group-commit.js";

export const COUNTER_SCHEMA: string[] = [
  "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
  `CREATE TABLE drops (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL, reason TEXT NOT NULL, event_id TEXT, source TEXT, type TEXT, route TEXT, detail TEXT)`,
];

/** How many dropped events each Durable Object keeps for inspection. */
const DROP_LOG_SIZE = 1000;
/** Increments that nothing else writes (refusals, handshakes) are written within this long. */
const IDLE_WRITE_MS = 10_000;

export interface DropRecord {
  at: string;
  reason: string;
  id: string;
  source: string;
  type: string;
  route: string;
  detail: string;
}

type Counts = Record<string, number>;

/** Where counters live: one row of totals, and the log of drops. */
export interface CounterStore {
  totals(): Counts;
  writeTotals(totals: Counts): void;
  insertDrop(d: DropRecord): void;
  /** Keeps the last `keep` drops. */
  trimDrops(keep: number): void;
  recentDrops(limit: number): DropRecord[];
}

function addInto(into: Counts, from: Counts | undefined): Counts {
  if (from) for (const k in from) into[k] = (into[k] ?? 0) + from[k]!;
  return into;
}

function empty(c: Counts): boolean {
  for (const _ in c) return false;
  return true;
}

/**
 * Durable counters of what a data-plane object did, plus a bounded log of every event it dropped
 * on purpose, so no drop is silent: each is counted under `dropped.<reason>`, logged, and listed.
 *
 * Cheap to keep: increments are written with what they count, in the same flush, and never on a
 * row of their own when they can ride on one the flush writes anyway. The ledger takes them
 * (`take`) into the batch row it inserts; a flush that inserts no batch but writes something else
 * writes them to `counter_totals`, one row for all counters; a flush that writes nothing keeps
 * them in memory until one does (or at most IDLE_WRITE_MS). A batch row that is deleted gives its
 * counts back to be written again. The totals are `counter_totals` plus every live batch row's counts.
 *
 * @example
 * counters.add("accepted", 3);
 * counters.snapshot(); // { accepted: 3 }
 */
export class Counters implements Participant {
  private stored: Counts = {};
  /** Counts held by live batch rows. */
  private readonly inRows = new Map<number, Counts>();
  /** Committed increments no row holds yet. */
  private unwritten: Counts = {};
  /** Increments of the flush being applied, and of the job running in it. */
  private flush: Counts = {};
  private job: Counts | null = null;
  private inFlush = false;
  /** This flush: counts taken into a batch row, rows deleted, totals written. */
  private taken: { batch?: number; counts: Counts } | null = null;
  private deleted: number[] = [];
  private wroteTotals = false;
  /** Write the totals in this flush even if nothing else is written (the idle timer asked). */
  private force = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private sinceTrim = 0;

  constructor(
    private readonly db: CounterStore,
    private readonly owner: () => string,
    /** Rows written so far by the object (the flush writes counters only if it writes anything else). */
    private readonly rowsWritten: () => number = () => 0,
    /** Runs a job in a group commit of its own (to write increments nothing else wrote). */
    private readonly commit: (job: () => void) => Promise<void> = async (job) => job(),
  ) {
    this.load();
  }

  /** Reads the stored totals (at start, or after the tables were wiped). */
  load(): void {
    this.stored = this.db.totals();
    this.inRows.clear();
    this.unwritten = {};
  }

  add(name: string, n = 1): void {
    const into = this.job ?? (this.inFlush ? this.flush : this.unwritten);
    into[name] = (into[name] ?? 0) + n;
    if (!this.inFlush) this.armIdle();
  }

  /** `ev.traceId` (from `traceFields(event)`) goes to the log line only, so a drop can be found by its trace. */
  drop(reason: string, ev: Omit<DropRecord, "at" | "reason"> & { traceId?: string }, now: number): void {
    const at = new Date(now).toISOString();
    this.add(`dropped.${reason}`);
    this.db.insertDrop({ at, reason, id: ev.id, source: ev.source, type: ev.type, route: ev.route, detail: ev.detail });
    if (++this.sinceTrim >= 100) {
      this.sinceTrim = 0;
      this.db.trimDrops(DROP_LOG_SIZE);
    }
    log.warn("event dropped", { owner: this.owner(), reason, ...ev });
  }

  // --- the group commit --------------------------------------------------------------------------

  private rowsAtStart = 0;

  flushStart(): void {
    this.inFlush = true;
    this.flush = {};
    this.taken = null;
    this.deleted = [];
    this.wroteTotals = false;
    this.rowsAtStart = this.rowsWritten();
  }

  jobStart(): void {
    this.job = {};
  }

  jobEnd(ok: boolean): void {
    if (ok && this.job) addInto(this.flush, this.job);
    this.job = null;
  }

  /** Increments this flush must make durable: earlier ones no row holds, its own, and those of rows it deletes. */
  private owed(): Counts {
    const counts = addInto(addInto({}, this.unwritten), this.flush);
    for (const id of this.deleted) addInto(counts, this.inRows.get(id));
    return counts;
  }

  /** What this flush must make durable, for the batch row the ledger inserts (it writes them). */
  take(): Counts | undefined {
    const counts = this.owed();
    if (empty(counts)) return undefined;
    this.taken = { counts };
    return counts;
  }

  untake(): void {
    this.taken = null;
  }

  inRow(batch: number, counts: Counts): void {
    if (this.taken && this.taken.counts === counts) this.taken.batch = batch;
    else this.inRows.set(batch, counts); // read back at start
  }

  rowDeleted(batch: number): void {
    if (this.inRows.has(batch)) this.deleted.push(batch);
  }

  /** After the ledger: a flush that wrote anything writes the increments no batch row took. */
  apply(): void {
    if (this.taken?.batch !== undefined) return;
    const counts = this.owed();
    if (empty(counts) || (!this.force && this.rowsWritten() === this.rowsAtStart)) return;
    this.db.writeTotals(addInto(addInto({}, this.stored), counts));
    this.wroteTotals = true;
  }

  committed(): void {
    this.inFlush = false;
    this.force = false;
    const counts = this.owed();
    for (const id of this.deleted) this.inRows.delete(id);
    if (this.taken?.batch !== undefined) {
      this.inRows.set(this.taken.batch, this.taken.counts);
      this.unwritten = {};
    } else if (this.wroteTotals) {
      addInto(this.stored, counts);
      this.unwritten = {};
    } else this.unwritten = counts; // nothing was written: they wait for the next flush that writes
    this.flush = {};
    this.taken = null;
    this.deleted = [];
    this.wroteTotals = false;
    if (!empty(this.unwritten)) this.armIdle();
  }

  rolledBack(): void {
    this.inFlush = false;
    this.force = false;
    this.flush = {};
    this.job = null;
    this.taken = null;
    this.deleted = [];
    this.wroteTotals = false;
  }

  /** Increments nothing else writes are written on their own after a while (before the object may be evicted). */
  private armIdle(): void {
    if (this.idleTimer !== undefined) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (empty(this.unwritten)) return;
      void this.commit(() => {
        this.force = true;
      }).catch((e) => log.warn("could not write counters; they are written with the next flush", { owner: this.owner(), error: String(e) }));
    }, IDLE_WRITE_MS);
  }

  snapshot(): Counts {
    const out = addInto(addInto({}, this.stored), this.unwritten);
    for (const c of this.inRows.values()) addInto(out, c);
    addInto(out, this.flush);
    const sorted: Counts = {};
    for (const k of Object.keys(out).sort()) if (out[k] !== 0) sorted[k] = out[k]!;
    return sorted;
  }

  recentDrops(limit = 100): DropRecord[] {
    return this.db.recentDrops(limit);
  }
}
