/**
 * A counting semaphore for outgoing connections. Cloudflare lets one Worker invocation or Durable
 * Object hold six connections open at once and queues the rest until one closes (workerd does not
 * enforce this locally). Queued behind the platform, an attempt's timeout would run while it waits;
 * queued here, the timeout starts only once the request really goes out.
 *
 * @example
 * const pool = new Limiter(6);
 * const release = await pool.acquire();
 * try { await fetch(url); } finally { release(); }
 */
export class Limiter {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  /** Most slots ever held at once. */
  highWater = 0;

  constructor(readonly limit: number) {}

  /** Slots held now. */
  get inUse(): number {
    return this.active;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<() => void> {
    if (this.active < this.limit) return Promise.resolve(this.take());
    return new Promise((resolve) => this.waiters.push(() => resolve(this.take())));
  }

  private take(): () => void {
    this.active++;
    if (this.active > this.highWater) this.highWater = this.active;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const next = this.waiters.shift();
      if (next) next();
    };
  }
}

/** Cloudflare's documented limit of simultaneous open connections per invocation or object. */
export const PLATFORM_CONNECTIONS = 6;
