/**
 * The deadlines of the attempts out, on one timer: an object making thousands of attempts a minute
 * pays a map entry per attempt instead of a timer set and cleared (which was about 5% of its busy
 * time under load). Attempts of one route share a timeout, so their deadlines mostly come in
 * order and the timer rarely moves. The timer runs only while attempts are out. One per Durable
 * Object or per consumer invocation: a timer belongs to the request context that set it.
 *
 * @example
 * const stop = deadlines.add(Date.now() + 5000, () => abort.abort());
 * try { await fetch(url, { signal: abort.signal }); } finally { stop(); }
 */
export class Deadlines {
  private readonly pending = new Map<number, { at: number; fire: () => void }>();
  private next = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;

  constructor(private readonly now: () => number = Date.now) {}

  /** Calls `fire` at `at` unless the returned function is called first. */
  add(at: number, fire: () => void): () => void {
    const id = this.next++;
    this.pending.set(id, { at, fire });
    if (at < this.timerAt) this.arm(at);
    return () => void this.pending.delete(id);
  }

  get size(): number {
    return this.pending.size;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.run(), Math.max(0, at - this.now()));
  }

  private run(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    let earliest = Infinity;
    for (const [id, d] of this.pending) {
      if (d.at <= now) {
        this.pending.delete(id);
        d.fire();
      } else if (d.at < earliest) earliest = d.at;
    }
    if (earliest !== Infinity) this.arm(earliest);
  }
}
