/**
 * What one Durable Object spends of what Cloudflare bills, counted where it is spent: SQL rows
 * read and written (from each cursor's own counters; index rows included, as billed), alarms set
 * (each `setAlarm` is billed as a row written), requests it received (RPC calls and alarms), queue
 * messages it sent, and R2 operations. Since the object started; `/stats` reports it and
 * `npm run bench` turns it into a cost per event (docs/costs.md).
 */
export class Meter {
  rowsRead = 0;
  rowsWritten = 0;
  alarmsSet = 0;
  requests = 0;
  queueMessages = 0;
  /** Queue operations as billed: every 64 KB of a message is one write, one read and one delete. */
  queueOps = 0;
  r2ClassA = 0;
  r2ClassB = 0;

  snapshot(): MeterSnapshot {
    const { rowsRead, rowsWritten, alarmsSet, requests, queueMessages, queueOps, r2ClassA, r2ClassB } = this;
    return { rowsRead, rowsWritten, alarmsSet, requests, queueMessages, queueOps, r2ClassA, r2ClassB };
  }

  /** A queue message of `bytes` was sent (and will be read and deleted once). */
  queued(bytes: number): void {
    this.queueMessages++;
    // A KB here is 1,000 bytes, and each message carries about 100 bytes of metadata (Queues pricing).
    this.queueOps += 3 * Math.max(1, Math.ceil((bytes + 100) / 64_000));
  }
}

export type MeterSnapshot = Pick<Meter, "rowsRead" | "rowsWritten" | "alarmsSet" | "requests" | "queueMessages" | "queueOps" | "r2ClassA" | "r2ClassB">;
