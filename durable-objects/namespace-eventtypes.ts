import { autoEventType, type ObservedType } from "../core/resources/eventtypes.js";
import { admit } from "../core/resources/admit.js";
import { AUTO_CREATED_LABEL, EventTypeKind } from "../core/resources/kinds/eventtype.js";
import { ADDRESSABLES } from "../core/resources/registry.js";
import type { KReference, Resource } from "../core/resources/types.js";
import { log } from "../core/log.js";
import type { ChangeLog } from "./changes.js";
import type { Sql } from "./sql.js";

/** Auto-created EventTypes one owner (a Broker, Channel or source) may have, unless EVENTTYPE_AUTO_CREATE_LIMIT says otherwise. */
export const DEFAULT_EVENTTYPE_LIMIT = 200;

/** EVENTTYPE_AUTO_CREATE_LIMIT: a whole number from 0 (create none) up; anything else is the default. */
export function eventTypeLimit(env: { EVENTTYPE_AUTO_CREATE_LIMIT?: string }): number {
  const n = Number(env.EVENTTYPE_AUTO_CREATE_LIMIT ?? "");
  return env.EVENTTYPE_AUTO_CREATE_LIMIT !== undefined && env.EVENTTYPE_AUTO_CREATE_LIMIT !== "" && Number.isInteger(n) && n >= 0 ? n : DEFAULT_EVENTTYPE_LIMIT;
}

export interface EventTypeStore {
  objects: Map<string, Resource>;
  db: Sql;
  history: ChangeLog;
  upcomingRv(): string;
  nextRv(): string;
  keyOf(apiVersion: string, kind: string, name: string): string;
  suffix(): string;
}

/** What a report of observed types came to. */
export interface Observed {
  created: number;
  /** Pairs not registered because the owner has reached the limit. */
  refused: ObservedType[];
}

const EVENT_TYPE_API = "eventing.knative.dev/v1beta3";

/**
 * The EventTypes a namespace creates by itself: one per (type, source) its addressables report
 * (durable-objects/eventtype-reporter.ts), or its sources declare, at most `limit` per owner, since
 * every resource of a namespace is kept in its object's memory and a producer allowed to send could
 * otherwise grow it without bound by varying `source`. Reaching the limit is logged; the owner's
 * reporter counts what it no longer reports (`eventtypes.capped` in its /stats).
 */
export class NamespaceEventTypes {
  constructor(private readonly s: EventTypeStore, private readonly limit: number) {}

  /** Stores the auto-created EventTypes that do not exist yet, within the owner's limit. */
  ensure(ns: string, reference: KReference, types: ObservedType[]): Observed {
    const out: Observed = { created: 0, refused: [] };
    let owned = -1;
    for (const t of types) {
      const manifest = autoEventType(reference, t);
      if (this.s.objects.has(this.s.keyOf(EVENT_TYPE_API, "EventType", manifest.metadata.name))) continue;
      if (owned < 0) owned = [...this.s.objects.values()].filter((r) => this.owns(reference, r)).length;
      if (owned >= this.limit) {
        out.refused.push(t);
        continue;
      }
      const obj = admit({ body: manifest, kind: EventTypeKind, ctx: { namespace: ns, refs: ADDRESSABLES }, now: new Date().toISOString(), uid: crypto.randomUUID(), resourceVersion: this.s.upcomingRv(), suffix: this.s.suffix() });
      this.s.nextRv();
      const key = this.s.keyOf(obj.apiVersion, obj.kind, obj.metadata.name);
      this.s.objects.set(key, obj);
      this.s.db.run("INSERT OR REPLACE INTO resources (key, body) VALUES (?, ?)", key, JSON.stringify(obj));
      this.s.history.record("ADDED", obj);
      owned++;
      out.created++;
    }
    if (out.refused.length > 0) {
      log.warn("EventType auto-creation limit reached: new (type, source) pairs of this owner get no EventType", {
        namespace: ns, owner: `${reference.kind}/${reference.name}`, limit: this.limit, refused: out.refused.length,
        fix: "delete EventTypes that are no longer needed, or raise EVENTTYPE_AUTO_CREATE_LIMIT",
      });
    }
    return out;
  }

  /** Sources declare what they emit in `status.ceAttributes`; those become EventTypes too. */
  declared(ns: string): boolean {
    let created = false;
    for (const r of [...this.s.objects.values()]) {
      const attrs = r.status?.ceAttributes as ObservedType[] | undefined;
      if (!Array.isArray(attrs) || attrs.length === 0) continue;
      created = this.ensure(ns, { apiVersion: r.apiVersion, kind: r.kind, name: r.metadata.name, namespace: ns }, attrs).created > 0 || created;
    }
    return created;
  }

  /** Auto-created EventTypes go with the object they describe. */
  dropOwned(owner: Resource): void {
    const ref = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name };
    for (const [key, r] of this.s.objects) {
      if (!this.owns(ref, r)) continue;
      this.s.objects.delete(key);
      this.s.db.run("DELETE FROM resources WHERE key = ?", key);
      this.s.history.record("DELETED", { ...r, metadata: { ...r.metadata, resourceVersion: this.s.nextRv() } });
    }
  }

  private owns(owner: Pick<KReference, "kind" | "name">, r: Resource): boolean {
    const ref = r.spec?.reference as KReference | undefined;
    return r.kind === "EventType" && r.metadata.labels?.[AUTO_CREATED_LABEL] === "true" && ref?.kind === owner.kind && ref.name === owner.name;
  }
}
