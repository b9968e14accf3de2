/**
 * The platform's budgets that workerd does not enforce locally, kept in code. Figures from
 * developers.cloudflare.com/workers/platform/limits and /queues/platform/limits, read 2026-12-07:
 * - subrequests per invocation (fetch and calls to other Cloudflare services): 50 on Workers Free,
 *   10,000 on Workers Paid by default;
 * - a queue consumer's batch must finish within 15 minutes of wall time.
 */
export const SUBREQUESTS = { free: 50, paid: 10_000 } as const;
export const CONSUMER_WALL_MS = 15 * 60_000;
/** What a consumer batch plans for, leaving room to report outcomes and carry the rest. */
export const CONSUMER_BUDGET_MS = 12 * 60_000;

/**
 * Subrequests one invocation may make: `SUBREQUEST_LIMIT` (a number) if set, else by
 * `WORKERS_PLAN` ("free" or "paid"; paid when unset).
 */
export function subrequestLimit(env: { WORKERS_PLAN?: string; SUBREQUEST_LIMIT?: string }): number {
  const n = Number(env.SUBREQUEST_LIMIT);
  if (env.SUBREQUEST_LIMIT !== undefined && env.SUBREQUEST_LIMIT !== "" && Number.isInteger(n) && n > 0) return n;
  return env.WORKERS_PLAN?.toLowerCase() === "free" ? SUBREQUESTS.free : SUBREQUESTS.paid;
}

/**
 * A count of subrequests against one invocation's limit: work asks before it spends, and what
 * does not fit is carried to the next invocation (an alarm, the next queue batch), never failed.
 *
 * @example
 * const budget = new Budget(50);
 * if (budget.take(2)) await attempt(); else carry();
 */
export class Budget {
  private used = 0;
  /** Most ever used in one invocation (for tests and /stats). */
  highWater = 0;

  constructor(readonly limit: number) {}

  get left(): number {
    return this.limit - this.used;
  }

  /** Spends `n` if it fits; false (and nothing spent) otherwise. */
  take(n = 1): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    if (this.used > this.highWater) this.highWater = this.used;
    return true;
  }

  /** Whether `n` more would fit, spending nothing. */
  fits(n = 1): boolean {
    return this.used + n <= this.limit;
  }

  /** A new invocation begins: its own limit. */
  reset(): void {
    this.used = 0;
  }
}
