import { ApiError } from "../core/errors.js";
import type { WatchEventType } from "../core/kube/watch.js";
import type { Resource } from "../core/resources/types.js";
import type { Sql } from "./sql.js";

/** The change log's table; a migration of the Namespace object. */
export const CHANGES_SCHEMA = [
  "CREATE TABLE changes (rv INTEGER PRIMARY KEY, kind TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL)",
];

/**
 * How many changes a namespace keeps for watches to resume from. Kubernetes keeps about five
 * minutes of history; a count bounds storage whatever the write rate. A watch from an older
 * resourceVersion gets 410 Gone and lists again, as clients of Kubernetes do.
 */
export const CHANGE_LOG_LIMIT = 1000;

/** At most this many changes per answer; a watcher that is further behind asks again at once. */
const PAGE = 200;

export interface Changes {
  events: { type: WatchEventType; object: Resource }[];
  /** Ask for the changes after this version next. */
  resourceVersion: string;
}

/**
 * The namespace's bounded history of changes. Every stored change, status included, is recorded
 * with its resourceVersion. Watches are served by the Worker, which asks here for the changes after
 * the version it has reached and waits (long polling) while there are none: the Worker owns the
 * response stream, and no stream crosses from one request to another inside this object.
 */
export class ChangeLog {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly db: Sql,
    /** Changes at or below this version are no longer in the log. */
    private readonly floor: () => number,
    private readonly setFloor: (rv: number) => void,
    private readonly limit: number = CHANGE_LOG_LIMIT,
  ) {}

  /** Records a change (its object carries the new resourceVersion) and wakes the waiting watches. */
  record(type: WatchEventType, obj: Resource): void {
    const rv = Number(obj.metadata.resourceVersion);
    this.db.run("INSERT OR REPLACE INTO changes (rv, kind, type, body) VALUES (?, ?, ?, ?)", rv, `${obj.apiVersion}/${obj.kind}`, type, JSON.stringify(obj));
    const oldest = rv - this.limit;
    if (oldest > this.floor() && this.db.run("DELETE FROM changes WHERE rv <= ?", oldest) > 0) this.setFloor(oldest);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /**
   * The changes of one kind after `from`, waiting up to `waitMs` for one when there is none yet.
   * 410 when `from` is older than the log; `current` is the namespace's version now.
   */
  async since(kind: string, from: string, waitMs: number, current: () => number): Promise<Changes> {
    if (!/^\d+$/.test(from)) throw new ApiError(400, `resourceVersion "${from}" is not a version of this namespace: use the metadata.resourceVersion of a list or object`);
    const start = Number(from);
    if (start < this.floor()) {
      throw new ApiError(410, `too old resource version: ${from} (${this.floor() + 1}): list again and watch from the list's resourceVersion`, [], {}, {}, "Expired");
    }
    let page = this.page(kind, start);
    if (page.events.length === 0 && waitMs > 0) {
      await this.wait(waitMs);
      page = this.page(kind, start);
    }
    return page.events.length === PAGE ? page : { ...page, resourceVersion: String(Math.max(start, current())) };
  }

  private page(kind: string, start: number): Changes {
    const rows = this.db.all<{ rv: number; type: WatchEventType; body: string }>(
      "SELECT rv, type, body FROM changes WHERE rv > ? AND kind = ? ORDER BY rv LIMIT ?", start, kind, PAGE);
    return {
      events: rows.map((r) => ({ type: r.type, object: JSON.parse(r.body) as Resource })),
      resourceVersion: String(rows.length ? rows[rows.length - 1]!.rv : start),
    };
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
