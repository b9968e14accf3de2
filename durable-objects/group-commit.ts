import { log } from "../core/log.js";

/**
 * Group commit for one Durable Object: the writes of every job submitted while a flush is pending
 * run together in one transaction on the next turn, so concurrent publishes (and the outcomes of
 * the object's own attempts) share one storage flush instead of paying one each. A job's promise
 * settles after its writes; the runtime's output gate then holds the caller's answer, and any
 * request the job started, until those writes are durable. So a producer still hears 202 only
 * once its own event is stored.
 *
 * Measured locally (workerd, 16 concurrent callers): one INSERT per call 725–860 calls/s; the same
 * INSERTs grouped this way 1,370 calls/s with about nine calls per flush.
 *
 * @example
 * const commits = new GroupCommit(ctx.storage, () => counters.flush());
 * await commits.run(() => ledger.record(event, ttl, routes, Date.now()));
 */
export class GroupCommit {
  private jobs: { job: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  /** Flushes so far and jobs they carried (for /stats). */
  flushes = 0;
  jobsRun = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly beforeCommit: () => void = () => {},
    /** The transaction rolled back: whatever was remembered of its writes is wrong. */
    private readonly onRollback: () => void = () => {},
  ) {}

  run<T>(job: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ job, resolve: resolve as (v: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // A timer, not a microtask: calls already waiting at the object's door get in first.
      setTimeout(() => this.flush(), 0);
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    this.jobs = [];
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.storage.transactionSync(() => {
        for (const j of jobs) {
          try {
            results.push({ ok: true, value: j.job() });
          } catch (e) {
            results.push({ ok: false, value: e });
          }
        }
        this.beforeCommit();
      });
    } catch (e) {
      log.error("group commit failed; its callers get an error and nothing of it is stored", { jobs: jobs.length, error: String(e) });
      this.onRollback();
      for (const j of jobs) j.reject(e);
      return;
    }
    this.flushes++;
    this.jobsRun += jobs.length;
    jobs.forEach((j, i) => (results[i]!.ok ? j.resolve(results[i]!.value) : j.reject(results[i]!.value)));
  }
}
