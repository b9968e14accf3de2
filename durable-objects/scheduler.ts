import { DurableObject } from "cloudflare:workers";
import { compileSchedule } from "../core/sources/ping.js";
import { log } from "../core/log.js";
import type { Env } from "./env.js";
import { Sql } from "./sql.js";

declare module "./env.js" {
  interface Env {
    /** The registry of minute schedules the Cron Trigger fires (one instance, "global"). */
    SCHEDULER: DurableObjectNamespace<Scheduler>;
  }
}

/**
 * The registry behind the Worker's per-minute Cron Trigger: every PingSource whose schedule falls
 * on minute boundaries registers here (one global instance), and each cron tick fires the sources
 * due in that minute. Second-level schedules are not here: their own alarms drive them.
 */
export class Scheduler extends DurableObject<Env> {
  private readonly db: Sql;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Sql(ctx.storage.sql);
    this.db.migrate([["CREATE TABLE schedules (key TEXT PRIMARY KEY, schedule TEXT NOT NULL, timezone TEXT)"]]);
  }

  async register(key: string, schedule: string, timezone: string | null): Promise<void> {
    this.db.run("INSERT OR REPLACE INTO schedules (key, schedule, timezone) VALUES (?, ?, ?)", key, schedule, timezone);
  }

  async unregister(key: string): Promise<void> {
    this.db.run("DELETE FROM schedules WHERE key = ?", key);
  }

  /** Fires every registered source whose schedule matches the minute of `scheduledTime`. */
  async tick(scheduledTime: number): Promise<{ due: number; fired: number }> {
    const minute = Math.floor(scheduledTime / 60_000) * 60_000;
    const rows = this.db.all<{ key: string; schedule: string; timezone: string | null }>("SELECT * FROM schedules");
    const due = rows.filter((r) => {
      try {
        return compileSchedule(r.schedule, r.timezone ?? undefined).next(new Date(minute - 1))?.getTime() === minute;
      } catch {
        return false;
      }
    });
    const results = await Promise.allSettled(due.map((r) => this.env.SOURCE.get(this.env.SOURCE.idFromName(r.key)).fire(minute)));
    let fired = 0;
    results.forEach((res, i) => {
      if (res.status === "fulfilled") fired += res.value ? 1 : 0;
      else log.error("could not fire a PingSource tick; its alarm will", { source: due[i]!.key, error: String(res.reason) });
    });
    return { due: due.length, fired };
  }
}
