import type { CloudEvent } from "../core/cloudevents/event.js";
import { eventView } from "../core/cloudevents/view.js";
import { compileTriggerFilter, type CompiledFilter } from "../core/filters/index.js";
import type { ReplayPlan, ReplayReport } from "../core/resources/plan.js";
import { ARCHIVE_SPAN_MS, parseArchiveKey } from "../core/archive.js";
import { log } from "../core/log.js";
import type { Archive } from "./archive.js";
import type { Sql } from "./sql.js";

export type { ReplayReport };

/** The extension every replayed event carries: the name of its Replay. */
export const REPLAY_EXTENSION = "eddyreplay";
/** Events recorded per step: a step's writes commit together with its cursor. */
const STEP_EVENTS = 200;
/** A replay records more only while the ledger holds fewer pending deliveries than this. */
const PENDING_HIGH_WATER = 400;
/** Progress goes to the control plane at most this often while a replay runs. */
const REPORT_EVERY_MS = 1000;
/** How often a replay that has recorded its window looks whether its deliveries have settled. */
const SETTLE_POLL_MS = 200;
/** While a replay runs, the alarm stays this close: a new incarnation resumes from the cursor. */
const RESUME_MS = 3000;

/** What the owning Broker or Channel object provides. */
export interface ReplayHost {
  partition(): number;
  /** The routes an event would take now (each route's filter), limited to `only` when given. */
  replayRoutes(event: CloudEvent, only: string[] | undefined): string[];
  /** Records replayed events with their routes and moves the cursor, in one storage turn. */
  commit(uid: string, write: (record: (event: CloudEvent, ttl: number, routes: string[]) => void) => void): Promise<void>;
  /** Whether a delivery of an event this Replay recorded is still pending (delivering, retrying, dead-lettering). */
  unsettled(uid: string): boolean;
  pendingDeliveries(): number;
  report(plan: ReplayPlan, report: ReplayReport): Promise<void>;
  wakeAt(at: number): void;
}

interface Row {
  uid: string;
  plan: string;
  until: number;
  after_key: string;
  last_seq: number;
  replayed: number;
  position: number | null;
  /** running: reading the archive; settling: all recorded, deliveries pending; then done or failed. */
  state: "running" | "settling" | "done" | "failed";
  message: string | null;
  reported: number;
}

/**
 * Runs the Replays of one partition: reads the partition's archive in acceptance order, from the
 * window's start to its end, and records each event for the routes it would take now, with
 * `eddyreplay`, through the ordinary ledger (retries, dead letters; never into the archive again).
 * The cursor (last object fully read, last seq recorded) commits in the same storage turn as the
 * events it covers, so a kill -9 resumes exactly where the last step ended: nothing skipped, and a
 * delivery that was out when the runtime died is sent again by the ledger (counted as a duplicate).
 *
 * Lifecycle: `configure` (the plan's replays: new ones start, removed ones stop) → `kick` → steps
 * paced by the ledger's backlog → `done`, reported to the control plane, which ends the Replay and
 * takes it out of the plan.
 */
export class Replayer {
  private stepping = false;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastReport = new Map<string, number>();
  private filters = new Map<string, CompiledFilter | null>();

  constructor(private readonly db: Sql, private readonly archive: Archive, private readonly host: ReplayHost) {}

  /** Starts the plan's new replays and forgets those no longer in it (finished, or the Replay was deleted). */
  configure(plans: ReplayPlan[], now: number): void {
    const want = new Map(plans.map((p) => [p.uid, p]));
    for (const r of this.db.all<{ uid: string }>("SELECT uid FROM replays")) {
      if (!want.has(r.uid)) {
        this.db.run("DELETE FROM replays WHERE uid = ?", r.uid);
        this.filters.delete(r.uid);
      }
    }
    for (const p of plans) {
      // The window ends when the replay starts at the latest: later events are live, not replayed.
      this.db.run("INSERT OR IGNORE INTO replays (uid, plan, until) VALUES (?, ?, ?)", p.uid, JSON.stringify(p), Math.min(p.to, now));
    }
    if (plans.length) this.kick(0);
  }

  /** Whether some replay is unfinished or its end is not yet reported. */
  busy(): boolean {
    return this.db.one("SELECT 1 AS x FROM replays WHERE state IN ('running', 'settling') OR reported = 0 LIMIT 1") !== undefined;
  }

  /** Runs a step soon (from a timer; the alarm calls `step` directly). */
  kick(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.step(Date.now()).catch((e) => log.error("replay step failed; it is retried", { error: String(e) }));
    }, ms);
  }

  /** One step of the oldest running replay, then reports; schedules the next. */
  async step(now: number): Promise<void> {
    if (this.stepping) {
      this.again = true; // asked while a step runs: run once more after it
      return;
    }
    this.stepping = true;
    this.again = false;
    try {
      const row = this.db.one<Row>("SELECT * FROM replays WHERE state = 'running' ORDER BY rowid LIMIT 1");
      if (row) {
        this.host.wakeAt(now + RESUME_MS);
        if (this.host.pendingDeliveries() >= PENDING_HIGH_WATER) this.kick(10);
        else if (await this.advance(row)) this.kick(0);
      }
      // Done means delivered: a replay ends once every delivery it recorded has settled.
      for (const r of this.db.all<{ uid: string }>("SELECT uid FROM replays WHERE state = 'settling'")) {
        if (!this.host.unsettled(r.uid)) this.db.run("UPDATE replays SET state = 'done', reported = 0 WHERE uid = ? AND state = 'settling'", r.uid);
        else {
          this.host.wakeAt(now + RESUME_MS);
          this.kick(SETTLE_POLL_MS);
        }
      }
      await this.reportAll(Date.now());
    } finally {
      this.stepping = false;
      if (this.again) this.kick(0);
    }
  }

  /** Records the next events of `row`; false when it finished (or stopped) instead. */
  private async advance(row: Row): Promise<boolean> {
    const plan = JSON.parse(row.plan) as ReplayPlan;
    // What the ledger still holds for the archive belongs to the window too: write it first.
    if (this.archive.hasWaiting()) await this.archive.flush();
    const { keys } = await this.archive.list(row.after_key, 100);
    let skipped: string | undefined;
    for (const key of keys) {
      const firstMs = parseArchiveKey(key)?.firstMs ?? 0;
      if (firstMs > row.until) break; // every later object is later still
      if (firstMs + ARCHIVE_SPAN_MS <= plan.from) {
        skipped = key; // wholly before the window: not even read
        continue;
      }
      const events = (await this.archive.read(key)).filter((e) => e.seq > row.last_seq);
      const chunk = events.slice(0, STEP_EVENTS);
      const finished = chunk.length === events.length;
      let replayed = 0;
      let position = row.position;
      let lastSeq = row.last_seq;
      const filter = this.filterOf(plan);
      const current = () => this.db.one<{ uid: string }>("SELECT uid FROM replays WHERE uid = ? AND state = 'running'", row.uid);
      await this.host.commit(row.uid, (record) => {
        if (!current()) return; // deleted (or failed) while the archive was read: stop here
        for (const e of chunk) {
          lastSeq = e.seq;
          if (e.at < plan.from || e.at > row.until) continue;
          if (filter && !filter.matches(eventView(e.event))) continue;
          const routes = this.host.replayRoutes(e.event, plan.routes);
          if (!routes.length) continue;
          record({ ...e.event, attrs: { ...e.event.attrs, [REPLAY_EXTENSION]: plan.name } }, e.ttl, routes);
          replayed++;
          position = e.at;
        }
        this.db.run(
          "UPDATE replays SET after_key = ?, last_seq = ?, replayed = replayed + ?, position = ? WHERE uid = ?",
          finished ? key : skipped ?? row.after_key, lastSeq, replayed, position, row.uid,
        );
      });
      return true;
    }
    if (skipped !== undefined) {
      this.db.run("UPDATE replays SET after_key = ? WHERE uid = ?", skipped, row.uid);
      return true;
    }
    // Nothing after the cursor falls in the window: this partition has recorded all of it.
    this.db.run("UPDATE replays SET state = 'settling' WHERE uid = ? AND state = 'running'", row.uid);
    log.info("replay recorded its window in this partition", { replay: plan.name, partition: this.host.partition() });
    this.kick(0);
    return false;
  }

  private filterOf(plan: ReplayPlan): CompiledFilter | null {
    let f = this.filters.get(plan.uid);
    if (f === undefined) {
      try {
        f = plan.filters?.length ? compileTriggerFilter({ filters: plan.filters }) : null;
      } catch (e) {
        // Admission validated them; a failure means stored data is damaged: the replay fails.
        this.db.run("UPDATE replays SET state = 'failed', reported = 0, message = ? WHERE uid = ?", `spec.filters do not compile: ${String(e)}`, plan.uid);
        f = { matches: () => false, dialect: "filters" } as CompiledFilter;
      }
      this.filters.set(plan.uid, f);
    }
    return f;
  }

  /** Tells the control plane how far each replay got: at most once a second, and at once when it ends. */
  private async reportAll(now: number): Promise<void> {
    for (const r of this.db.all<Row>("SELECT * FROM replays WHERE reported = 0 OR state IN ('running', 'settling')")) {
      const final = r.state === "done" || r.state === "failed";
      if (!final && now - (this.lastReport.get(r.uid) ?? 0) < REPORT_EVERY_MS) continue;
      this.lastReport.set(r.uid, now);
      const report: ReplayReport = {
        partition: this.host.partition(), replayed: r.replayed, done: r.state === "done",
        ...(r.state === "failed" ? { error: r.message ?? "failed" } : {}), ...(r.position !== null ? { position: r.position } : {}),
      };
      try {
        await this.host.report(JSON.parse(r.plan) as ReplayPlan, report);
        if (final) this.db.run("UPDATE replays SET reported = 1 WHERE uid = ?", r.uid);
      } catch (e) {
        log.warn("could not report replay progress; retrying", { replay: r.uid, error: String(e) });
        this.host.wakeAt(now + RESUME_MS);
      }
    }
  }
}
