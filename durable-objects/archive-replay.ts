// The archive and the Replays of one Broker or Channel partition, wired to its Dispatcher
// (./dispatcher.ts): what the owner's `eddy.dev/archive-retention` turns on, what the alarm does
// for them, and how a Replay records through the ledger. Separate from the Dispatcher because
// none of it is on the delivery path; the archive itself is ./archive.ts, Replays ./replayer.ts.
import type { CloudEvent } from "../core/cloudevents/event.js";
import type { DispatcherPlan, ReplayPlan } from "../core/resources/plan.js";
import type { AlarmClock } from "./alarm.js";
import { Archive } from "./archive.js";
import type { Counters } from "./counters.js";
import type { GroupCommit } from "./group-commit.js";
import type { Ledger } from "./ledger/machine.js";
import type { Namespace } from "./namespace.js";
import { Replayer, type ReplayReport } from "./replayer.js";
import type { Sql } from "./sql.js";

/** What the Dispatcher lends its archive and Replays. */
export interface ArchiveReplayDeps {
  db: Sql;
  bucket: R2Bucket | undefined;
  owner: () => string;
  clock: AlarmClock;
  commits: GroupCommit;
  ledger: Ledger;
  counters: Counters;
  plan: () => DispatcherPlan | null;
  partition: () => number;
  /** The routes a replayed event takes: those it would take now (the Dispatcher's subclass decides), within `only`. */
  replayRoutes: (event: CloudEvent, only: string[] | undefined) => string[];
  /** The control plane's objects, told how each Replay is going. */
  namespaces: DurableObjectNamespace<Namespace>;
  namespace: () => string;
}

/**
 * Archives one partition's accepted events and runs its Replays.
 *
 * @example
 * const archive = new ArchiveReplay({ db, bucket: env.ARCHIVE, owner, clock, commits, ledger, counters, plan, partition, replayRoutes, namespaces: env.NAMESPACE, namespace });
 * if (archive.archiving()) archive.accepted(events.length, Date.now());
 */
export class ArchiveReplay {
  /** Every accepted event, written to R2 behind the ledger when the owner archives (archive.ts). */
  private readonly archive: Archive;
  private readonly replayer: Replayer;

  constructor(private readonly d: ArchiveReplayDeps) {
    const { db, clock, commits, ledger, counters } = d;
    const source = {
      waiting: (limit: number) => ledger.store.archiveWaiting(limit),
      hasWaiting: () => db.one("SELECT 1 AS x FROM batches WHERE archive = 1 LIMIT 1") !== undefined,
      written: (ids: number[]) => commits.run(() => ledger.archived(ids)),
    };
    this.archive = new Archive(source, d.bucket, d.owner, (at) => clock.wakeAt(at));
    this.replayer = new Replayer(db, this.archive, {
      partition: d.partition,
      replayRoutes: d.replayRoutes,
      commit: (uid, write) => commits.run(() => write((ev, ttl, routes) => {
        ledger.record(ev, ttl, routes, Date.now(), false, uid);
        counters.add("replayed");
      })),
      unsettled: (uid) => ledger.replayPending(uid),
      pendingDeliveries: () => ledger.pending(),
      report: (plan, report) => this.report(plan, report),
      wakeAt: (at) => clock.wakeAt(at),
    });
  }

  /** Call once when the object starts. */
  resume(): void {
    // A previous incarnation may have died before writing its archive batch or finishing a replay.
    if (this.archive.hasWaiting()) this.d.clock.wakeAt(Date.now() + 1000);
    if (this.replayer.busy()) this.replayer.kick(0);
  }

  /** The owner's plan changed (its retention, its Replays). */
  configure(): void {
    this.archive.resetSweep();
    const retention = this.retention();
    if (retention) this.d.db.run("INSERT OR REPLACE INTO config (key, value) VALUES ('archiveRetention', ?)", String(retention));
    this.replayer.configure(this.d.plan()?.replays ?? [], Date.now());
  }

  /** The archive's and the Replays' part of the object's alarm. */
  async alarm(now: number): Promise<void> {
    if (this.archive.hasWaiting()) await this.archive.flush();
    // After the annotation is removed, what was archived still expires after the retention it had.
    const retention = this.retention() ?? Number(this.d.db.one<{ value: string }>("SELECT value FROM config WHERE key = 'archiveRetention'")?.value ?? 0);
    if (retention) await this.archive.sweep(now, retention);
    if (this.replayer.busy()) await this.replayer.step(now);
  }

  private async report(plan: ReplayPlan, report: ReplayReport): Promise<void> {
    const ns = this.d.namespaces.get(this.d.namespaces.idFromName(this.d.namespace()));
    await ns.replayProgress(this.d.namespace(), plan.uid, report);
  }

  /** `eddy.dev/archive-retention` of the owner, in ms; undefined when it does not archive. */
  private retention(): number | undefined {
    const ms = this.d.plan()?.options?.archiveRetentionMs;
    return typeof ms === "number" && ms > 0 ? ms : undefined;
  }

  /** Whether accepted events go to the archive now. */
  archiving(): boolean {
    return this.retention() !== undefined && this.archive.available;
  }

  /** `n` events waiting for the archive were committed. */
  accepted(n: number, now: number): void {
    this.archive.accepted(n, now);
  }

  /** Deletes the whole archive (its owner was deleted). */
  purge(): Promise<void> {
    return this.archive.purge();
  }
}
