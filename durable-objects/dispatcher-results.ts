// What the Dispatcher's RPCs answer (./dispatcher.ts), apart from the class, so that callers of the
// stubs (./objects.ts, the Worker) read the shapes without the Durable Object's code.
import type { DropRecord } from "./counters.js";
import type { MeterSnapshot } from "./meter.js";
import type { Result } from "../core/result.js";
import type { CloudEvent } from "../core/cloudevents/event.js";

/** How many events were stored; or 404 (the object is not configured) or 403 (its EventPolicies refuse the sender). */
export type PublishResult = Result<{ accepted: number }>;

export interface DispatcherStats {
  counters: Record<string, number>;
  pending: number;
  recentDrops: DropRecord[];
  /** Most of the object's own delivery attempts it had out at once (at most six, the platform's limit). */
  connectionsHighWater: number;
  /** Storage flushes of the data path, the calls they carried, and those rolled back, since the object started. */
  groupCommit: { flushes: number; writes: number; rollbacks?: number };
  /** How many partitions stand behind the address (this object is one of them). */
  partitionCount: number;
  /** What the object spent of what Cloudflare bills, since it started (durable-objects/sql.ts). */
  meter?: MeterSnapshot;
  /** Most subrequests one of its invocations made. */
  subrequestsHighWater?: number;
}

/**
 * What an address that answers with an event says (an EventTransform, a RequestReply): an HTTP
 * status, the event that is the answer (2xx), or why there is none, and how long to wait before
 * trying again (429/503).
 */
export interface EventAnswer {
  status: number;
  event?: CloudEvent;
  message?: string;
  retryAfterSeconds?: number;
}
