import { destinationPolicy } from "../core/delivery/destinations.js";
import { authSettings } from "../core/identity/settings.js";
import type { ReplayReport } from "../core/resources/plan.js";
import { reconcileNamespace, type ReconcileResult } from "../core/resources/reconcile.js";
import type { Resource } from "../core/resources/types.js";
import { bindingValue } from "../core/secrets/refs.js";
import type { ChangeLog } from "./changes.js";
import type { Env } from "./env.js";
import { declaredEventTypes, syncReplyTriggers, type ObjectWrites } from "./owned.js";
import type { PlanPusher } from "./plan-pusher.js";
import { keyOf } from "./resource-keys.js";
import type { Sql } from "./sql.js";

export interface ReconcileStore {
  env: Env;
  db: Sql;
  objects: Map<string, Resource>;
  history: ChangeLog;
  pusher: PlanPusher;
  eventTypeLimit: number;
  /** What owned.ts may write to the namespace (its EventTypes, the RequestReplies' reply Triggers). */
  writes(ns: string): ObjectWrites;
  rv(): number;
  nextRv(): string;
  setMeta(key: string, value: string): void;
}

/**
 * A namespace's reconciling, with the deployment's settings: after every write, statuses are
 * recomputed for the whole namespace (core/resources/reconcile.ts), the changed ones saved with
 * their own resourceVersion, and changed plans pushed; one run at a time. A dry run gets the status
 * a write would give, with nothing kept.
 */
export class NamespaceReconciler {
  private sync: Promise<void> = Promise.resolve();

  constructor(private readonly s: ReconcileStore) {}

  /** The object a write would store, with the status reconciling would give it; nothing is kept. */
  preview(ns: string, obj: Resource, baseUrl: string): Resource {
    const key = keyOf(obj.apiVersion, obj.kind, obj.metadata.name);
    const world = [...this.s.objects].filter(([k]) => k !== key).map(([, r]) => structuredClone(r));
    world.push(obj);
    this.compute(world, ns, baseUrl);
    return obj;
  }

  /** Recomputes statuses, saves the changed ones, and sends changed plans. */
  run(ns: string, baseUrl: string): Promise<void> {
    const run = async () => {
      this.s.setMeta("namespace", ns);
      this.s.setMeta("baseUrl", baseUrl);
      syncReplyTriggers(this.s.writes(ns)); // before reconciling, which then sees them
      let { changed, plans } = this.compute([...this.s.objects.values()], ns, baseUrl);
      if (declaredEventTypes(this.s.writes(ns), ns, this.s.eventTypeLimit)) {
        const again = this.compute([...this.s.objects.values()], ns, baseUrl);
        changed = [...new Set([...changed, ...again.changed])];
        plans = again.plans;
      }
      for (const r of changed) {
        // A new status is a change clients can observe: it gets its own resourceVersion (issue 15).
        r.metadata.resourceVersion = this.s.nextRv();
        this.s.db.run("INSERT OR REPLACE INTO resources (key, body) VALUES (?, ?)", keyOf(r.apiVersion, r.kind, r.metadata.name), JSON.stringify(r));
        this.s.history.record("MODIFIED", r);
      }
      await this.s.pusher.push(plans, this.s.rv());
    };
    this.sync = this.sync.then(run, run);
    return this.sync;
  }

  /** Bindings a resource may name (only SECRET_ ones: core/secrets/refs.ts), Replays' progress, and the settings in force. */
  private compute(resources: Resource[], ns: string, baseUrl: string): ReconcileResult {
    const env = this.s.env;
    const progress = (uid: string): ReplayReport[] =>
      this.s.db.all<{ body: string }>("SELECT body FROM reports WHERE uid = ? ORDER BY part", uid).map((r) => JSON.parse(r.body) as ReplayReport);
    return reconcileNamespace(resources, ns, baseUrl, new Date().toISOString(), (name) => bindingValue(env, name) !== undefined, authSettings(env), progress, destinationPolicy(env));
  }
}
