import type { DispatcherPlan, PlanBinding } from "../core/resources/plan.js";
import { physicalPlans } from "../core/partitions.js";
import { log } from "../core/log.js";
import type { Placement } from "../core/placement.js";
import type { Env } from "./env.js";
import { dataPlaneStub } from "./objects.js";
import type { Sql } from "./sql.js";

/** What the namespace last delivered to each data-plane object (a hash of the plan). */
export const PUSHED_SCHEMA = ["CREATE TABLE pushed (key TEXT PRIMARY KEY, hash TEXT NOT NULL)"];

/** Where a plan's object was placed (its owner's `eddy.dev/jurisdiction` and `eddy.dev/location-hint`). */
function placementOfPlan(plan: DispatcherPlan | null): Placement | undefined {
  return plan?.options.placement;
}

/** The plan last delivered, from its hash (the plan's JSON): a deleted owner's `null` goes where its objects were placed. */
function lastPlan(hash: string | undefined): DispatcherPlan | null {
  try {
    return hash ? (JSON.parse(hash) as DispatcherPlan | null) : null;
  } catch {
    return null;
  }
}

/**
 * Hands every data-plane object of a namespace its plan: partitioned owners get one plan per
 * partition, an object whose owner is gone gets `null` (it forgets everything), and a plan already
 * delivered is not sent again. A plan that fails to arrive is retried from the namespace's alarm.
 */
export class PlanPusher {
  constructor(private readonly db: Sql, private readonly env: Env, private readonly retryAt: (at: number) => Promise<void>) {}

  async push(plans: Map<string, DispatcherPlan>, version: number): Promise<void> {
    const pushed = new Map(this.db.all<{ key: string; hash: string }>("SELECT key, hash FROM pushed").map((r) => [r.key, r.hash]));
    const want = new Map<string, DispatcherPlan | null>(physicalPlans(plans));
    for (const key of pushed.keys()) if (!want.has(key)) want.set(key, null);
    let failed = false;
    await Promise.all([...want].map(async ([key, plan]) => {
      const hash = JSON.stringify(plan);
      if (pushed.get(key) === hash) return;
      try {
        const binding = key.slice(0, key.indexOf(":")) as PlanBinding;
        const placement = placementOfPlan(plan ?? lastPlan(pushed.get(key)));
        await dataPlaneStub(this.env, { binding, name: key.slice(key.indexOf(":") + 1), ...(placement ? { placement } : {}) }).configure(plan, version);
        this.db.run("INSERT OR REPLACE INTO pushed (key, hash) VALUES (?, ?)", key, hash);
      } catch (e) {
        failed = true;
        log.error("could not configure a data-plane object; retrying", { object: key, error: String(e) });
      }
    }));
    if (failed) await this.retryAt(Date.now() + 1000);
  }
}
