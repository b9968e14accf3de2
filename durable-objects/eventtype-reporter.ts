import type { CloudEvent } from "../core/cloudevents/event.js";
import type { ObservedType } from "../core/resources/eventtypes.js";
import type { KReference } from "../core/resources/types.js";
import { log } from "../core/log.js";
import type { Env } from "./env.js";
import type { Sql } from "./sql.js";

/** The (type, source) pairs a data-plane object has reported, so a restart does not report them again. */
/** How long a reporter whose owner is at its EventType limit stops reporting new pairs. */
const CAPPED_BACKOFF_MS = 60_000;

export const EVENT_TYPES_SCHEMA = "CREATE TABLE IF NOT EXISTS event_types (type TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (type, source))";

/**
 * Reports each (type, source) pair an object sees, the first time, so the control plane can create
 * its EventType. Off the request path: the producer's 202 never waits for it; a failed report is
 * retried the next time the pair is seen.
 *
 * @example
 * reporter.observe(ev, plan.options.eventTypes, plan.namespace);
 */
export class EventTypeReporter {
  /** Pairs already reported, and those being reported. */
  private readonly seen = new Set<string>();
  private readonly reporting = new Map<string, ObservedType>();
  /** Until then the owner is at its EventType limit: new pairs are counted, not reported nor remembered. */
  private cappedUntil = 0;

  constructor(
    private readonly db: Sql, private readonly env: Env, private readonly owner: () => string,
    /** Counts pairs that got no EventType because the owner reached EVENTTYPE_AUTO_CREATE_LIMIT (`eventtypes.capped`). */
    private readonly count: (name: string, n: number) => void = () => {},
  ) {
    this.load();
  }

  /** Reads back what was reported (after a start, or after the tables were wiped). */
  load(): void {
    this.seen.clear();
    for (const r of this.db.all<{ type: string; source: string }>("SELECT type, source FROM event_types")) this.seen.add(`${r.type}\n${r.source}`);
  }

  observe(ev: CloudEvent, ref: KReference | undefined, namespace: string): void {
    if (!ref) return;
    const t = { type: String(ev.attrs.type), source: String(ev.attrs.source) };
    const key = `${t.type}\n${t.source}`;
    if (this.seen.has(key) || this.reporting.has(key)) return;
    if (Date.now() < this.cappedUntil) return this.count("eventtypes.capped", 1);
    this.reporting.set(key, t);
    if (this.reporting.size === 1) setTimeout(() => void this.report(ref, namespace), 0);
  }

  private async report(ref: KReference, namespace: string): Promise<void> {
    const batch = [...this.reporting];
    try {
      const ns = this.env.NAMESPACE.get(this.env.NAMESPACE.idFromName(ref.namespace ?? namespace));
      const r = await ns.observeEventTypes(ref, batch.map(([, t]) => t));
      const refused = new Set((r?.refused ?? []).map((t) => `${t.type}\n${t.source}`));
      if (refused.size > 0) {
        // The namespace logged it; the owner counts it and stops asking for a while.
        this.count("eventtypes.capped", refused.size);
        this.cappedUntil = Date.now() + CAPPED_BACKOFF_MS;
      }
      for (const [key, t] of batch) {
        if (refused.has(key)) continue;
        this.db.run("INSERT OR IGNORE INTO event_types (type, source) VALUES (?, ?)", t.type, t.source);
        this.seen.add(key);
      }
    } catch (e) {
      log.warn("could not register event types; will retry when they are seen again", { owner: this.owner(), error: String(e) });
    } finally {
      for (const [key] of batch) this.reporting.delete(key);
      // Pairs seen while this report was out (a reply right after its event) go in the next one.
      if (this.reporting.size > 0) setTimeout(() => void this.report(ref, namespace), 0);
    }
  }
}
