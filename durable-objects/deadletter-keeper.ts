// The dead letters of one Broker, Channel or Source as its Dispatcher (./dispatcher.ts) serves them:
// kept when the ledger gives a delivery up, listed, redriven and purged over RPC, swept by the alarm,
// under the owner's `eddy.dev/deadletter-retention`. Separate from the Dispatcher so its RPC surface
// stays thin methods; the index and the R2 bodies themselves are ./deadletters.ts.
import type { CloudEvent } from "../core/cloudevents/event.js";
import type { DispatcherPlan, RoutePlan } from "../core/resources/plan.js";
import { MAX_BROKER_TTL } from "../core/broker/ttl.js";
import type { AlarmClock } from "./alarm.js";
import type { GroupCommit } from "./group-commit.js";
import type { DeadLetterFailure, Ledger } from "./ledger/machine.js";
import type { Delivery } from "./ledger/machine.js";
import { DEFAULT_DEAD_LETTER_RETENTION_MS, type DeadLetterEntry, type DeadLetters } from "./deadletters.js";

/** What the Dispatcher lends its dead letters. */
export interface DeadLetterKeeperDeps {
  deadLetters: DeadLetters;
  clock: AlarmClock;
  commits: GroupCommit;
  /** Redrives go through the ledger like any delivery. */
  ledger: Ledger;
  /** The owner's plan; null while the object is not configured (the RPCs then answer null). */
  plan: () => DispatcherPlan | null;
  route: (uid: string) => RoutePlan | undefined;
}

/**
 * Keeps, serves and sweeps one owner's dead letters.
 *
 * @example
 * const keeper = new DeadLetterKeeper({ deadLetters, clock, commits, ledger, plan: () => plan, route });
 * await keeper.redrive({ all: true });
 */
export class DeadLetterKeeper {
  constructor(private readonly d: DeadLetterKeeperDeps) {}

  /** The ledger gave the delivery up: keeps its event instead of dropping it; false when keeping is off. */
  keep(row: Delivery, event: CloudEvent, f: DeadLetterFailure, now: number): boolean {
    if (this.retention() <= 0) return false;
    const name = this.d.route(row.route)?.name ?? row.route;
    this.d.deadLetters.keep(event, { uid: row.route, name }, f.status, f.reason, f.detail, f.attempts, now, row.redrive_of ?? undefined);
    this.flush();
    return true;
  }

  redriveDone(entryId: string): void {
    this.d.deadLetters.remove(entryId);
    this.flush();
  }

  /** `eddy.dev/deadletter-retention` of the owner; 0 turns keeping off (drops, as before). */
  private retention(): number {
    const ms = this.d.plan()?.options?.deadLetterRetentionMs;
    return typeof ms === "number" ? ms : DEFAULT_DEAD_LETTER_RETENTION_MS;
  }

  private flush(): void {
    // After this turn's commit; the alarm is the backstop if the object dies first.
    setTimeout(() => void this.d.deadLetters.flush(), 0);
    this.d.clock.wakeAt(Date.now() + 60_000);
  }

  async list(route?: string): Promise<DeadLetterEntry[] | null> {
    if (!this.d.plan()) return null;
    return this.d.deadLetters.list(route ? { route } : {});
  }

  async get(id: string): Promise<(DeadLetterEntry & { event: unknown }) | null | undefined> {
    if (!this.d.plan()) return null;
    return this.d.deadLetters.get(id);
  }

  /** Delivers kept dead letters again to their route as it is now; each entry goes once delivered. */
  async redrive(sel: { ids?: string[]; route?: string; all?: boolean }): Promise<{ redriven: number; skipped: string[] } | null> {
    if (!this.d.plan()) return null;
    const picked = this.d.deadLetters.select(sel);
    const skipped: string[] = [];
    const ready: { id: string; route: string; event: CloudEvent }[] = [];
    for (const p of picked) {
      const event = this.d.route(p.route) !== undefined ? await this.d.deadLetters.event(p.id) : undefined;
      if (event) ready.push({ ...p, event: withoutErrorExtensions(event) });
      else skipped.push(p.id);
    }
    await this.d.commits.run(() => {
      for (const r of ready) this.d.ledger.redrive(r.event, MAX_BROKER_TTL, r.route, r.id, Date.now());
    });
    return { redriven: ready.length, skipped };
  }

  async purge(id: string): Promise<boolean | null> {
    if (!this.d.plan()) return null;
    const gone = this.d.deadLetters.remove(id);
    await this.d.deadLetters.flush();
    return gone;
  }

  /** Moves kept bodies to R2 and forgets entries past their retention. */
  async sweep(now: number): Promise<void> {
    const retention = this.retention();
    if (retention > 0) this.d.deadLetters.sweep(now, retention);
    await this.d.deadLetters.flush();
    const oldest = this.d.deadLetters.oldest();
    if (oldest !== undefined) this.d.clock.wakeAt(Math.max(now + 1000, oldest + retention));
    if (this.d.deadLetters.unflushed) this.d.clock.wakeAt(now + 5000);
  }
}

/** Knative's error extensions, which a kept dead letter carries as a dead-letter sink would get them. */
const ERROR_EXTENSIONS = ["knativeerrorcode", "knativeerrordest", "knativeerrordata"];

/** A redriven event goes to its subscriber as it was first sent: without the error extensions of its last failure. */
function withoutErrorExtensions(event: CloudEvent): CloudEvent {
  const attrs = { ...event.attrs };
  for (const k of ERROR_EXTENSIONS) delete attrs[k];
  return { ...event, attrs };
}
