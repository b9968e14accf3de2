/**
 * A counting semaphore for outgoing connections. Cloudflare lets one Worker invocation or Durable
 * Object hold six connections open at once and queues the rest until one closes (workerd does not
 * enforce this locally). Queued behind the platform, an attempt's timeout would run while it waits;
 * queued here, the timeout starts only once the request really goes out.
 *
 * `reserved` slots are kept for `io` work (queue sends, R2 writes), which counts against the same
 * six: attempts take at most `limit - reserved`, so a queue send never waits behind six slow
 * subscribers for up to their timeout.
 *
 * @example
 * const pool = new Limiter(6, 1);
 * const release = await pool.acquire();       // an attempt
 * const io = await pool.acquire("io");        // a queue send or an R2 write
 */
export class Limiter {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly ioWaiters: (() => void)[] = [];
  /** Most slots ever held at once. */
  highWater = 0;

  constructor(readonly limit: number, readonly reserved = 0) {}

  /** Slots held now. */
  get inUse(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length + this.ioWaiters.length;
  }

  /** Slots attempts may hold at once. */
  get attemptSlots(): number {
    return this.limit - this.reserved;
  }

  acquire(kind: "attempt" | "io" = "attempt"): Promise<() => void> {
    if (this.free(kind)) return Promise.resolve(this.take());
    return new Promise((resolve) => (kind === "io" ? this.ioWaiters : this.waiters).push(() => resolve(this.take())));
  }

  /** Runs `fn` holding an io slot. */
  async io<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire("io");
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private free(kind: "attempt" | "io"): boolean {
    return this.active < (kind === "io" ? this.limit : this.limit - this.reserved);
  }

  private take(): () => void {
    this.active++;
    if (this.active > this.highWater) this.highWater = this.active;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      // io waiters first: they are what the reserved slot is for.
      const next = this.ioWaiters.length ? this.ioWaiters.shift() : this.free("attempt") ? this.waiters.shift() : undefined;
      if (next) next();
    };
  }
}

/** Cloudflare's documented limit of simultaneous open connections per invocation or object. */
export const PLATFORM_CONNECTIONS = 6;
/** Slots of those kept for queue sends and R2 writes. */
export const IO_RESERVED_CONNECTIONS = 1;
