import { log } from "../core/log.js";

/**
 * Something that takes part in a Durable Object's group commit (the ledger, the counters, the
 * effects that wait for a commit). Each hook is optional.
 */
export interface Participant {
  /** A flush begins (before its first job). */
  flushStart?(): void;
  /** A job begins: what it stages is its own until it returns. */
  jobStart?(): void;
  /** The job returned (`ok`) or threw: what it staged joins the flush, or is discarded. */
  jobEnd?(ok: boolean): void;
  /** Inside the flush's transaction, after its jobs, in the order participants were given. */
  apply?(): void;
  /** The transaction committed. */
  committed?(): void;
  /** The transaction rolled back: nothing of the flush is stored, and memory must say so too. */
  rolledBack?(): void;
}

/** What a group commit needs of the object's storage. */
export interface TransactionalStorage {
  transactionSync<T>(fn: () => T): T;
}

/**
 * Group commit for one Durable Object: the jobs submitted while a flush is pending run together in
 * one transaction on the next turn, so concurrent publishes (and the outcomes of the object's own
 * attempts) share one storage flush, and one batch row (./ledger/batches.ts), instead of paying one
 * each. A job's promise settles after the commit; the runtime's output gate then holds the caller's
 * answer, and any request sent meanwhile, until the write is durable. So a producer hears 202 only
 * once its own event is stored.
 *
 * Exact: each job runs in a savepoint of its own (a nested transaction) and stages its work with
 * the participants, so a job that throws fails alone, with nothing of it written or staged. The
 * participants then apply what the jobs staged, inside the same transaction. If that fails, the
 * whole flush rolls back: every job fails, nothing was sent (sends wait for `committed`), and the
 * participants rebuild their memory from storage.
 *
 * @example
 * const commits = new GroupCommit(ctx.storage, [ledger, counters, effects]);
 * await commits.run(() => ledger.record(event, ttl, routes, Date.now()));
 */
export class GroupCommit {
  private jobs: { job: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private flushing = false;
  /** Flushes so far and jobs they carried (for /stats). */
  flushes = 0;
  jobsRun = 0;
  rollbacks = 0;

  constructor(private readonly storage: TransactionalStorage, private readonly participants: Participant[] = []) {}

  /** Adds a participant (in order: each applies after those added before it). */
  join(p: Participant): void {
    this.participants.push(p);
  }

  /** Whether a flush is running now (its jobs or its apply step). */
  get active(): boolean {
    return this.flushing;
  }

  run<T>(job: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ job, resolve: resolve as (v: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // A timer, not a microtask: calls already waiting at the object's door get in first.
      setTimeout(() => this.flush(), 0);
    });
  }

  /** Runs the pending flush now rather than on its timer (tests drive a ledger step by step with it). */
  flushNow(): void {
    this.flush();
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    this.jobs = [];
    if (!jobs.length) return;
    const results: { ok: boolean; value: unknown }[] = [];
    this.flushing = true;
    for (const p of this.participants) p.flushStart?.();
    try {
      this.storage.transactionSync(() => {
        for (const j of jobs) {
          for (const p of this.participants) p.jobStart?.();
          try {
            results.push({ ok: true, value: this.storage.transactionSync(j.job) });
          } catch (e) {
            results.push({ ok: false, value: e });
          }
          const ok = results[results.length - 1]!.ok;
          for (const p of this.participants) p.jobEnd?.(ok);
        }
        for (const p of this.participants) p.apply?.();
      });
    } catch (e) {
      this.flushing = false;
      this.rollbacks++;
      log.error("group commit failed; its callers get an error and nothing of it is stored", { jobs: jobs.length, error: String(e) });
      for (const p of this.participants) p.rolledBack?.();
      for (const j of jobs) j.reject(e);
      return;
    }
    this.flushing = false;
    this.flushes++;
    this.jobsRun += jobs.length;
    for (const p of this.participants) {
      try {
        p.committed?.();
      } catch (e) {
        log.error("after a commit, releasing what waited for it failed", { error: String(e) });
      }
    }
    jobs.forEach((j, i) => (results[i]!.ok ? j.resolve(results[i]!.value) : j.reject(results[i]!.value)));
  }
}

/**
 * What must wait for the current flush to commit (sends, alarms, tail messages): run then, dropped
 * if it rolls back, and dropped with a job that throws. Outside a flush it runs at once.
 *
 * @example
 * effects.after(() => outbox.start(dispatch));
 */
export class Effects implements Participant {
  private job: (() => void)[] | null = null;
  private pending: (() => void)[] = [];
  private inFlush = false;

  after(fn: () => void): void {
    if (this.job) this.job.push(fn);
    else if (this.inFlush) this.pending.push(fn);
    else fn();
  }

  flushStart(): void {
    this.inFlush = true;
  }

  jobStart(): void {
    this.job = [];
  }

  jobEnd(ok: boolean): void {
    if (ok && this.job) this.pending.push(...this.job);
    this.job = null;
  }

  committed(): void {
    const fns = this.pending;
    this.pending = [];
    this.inFlush = false;
    for (const fn of fns) {
      try {
        fn();
      } catch (e) {
        log.error("an effect after a commit failed", { error: String(e) });
      }
    }
  }

  rolledBack(): void {
    this.pending = [];
    this.job = null;
    this.inFlush = false;
  }
}
