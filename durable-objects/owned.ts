// Objects the namespace writes on behalf of others: EventTypes it registers for what flows, and the
// reply Triggers each RequestReply needs. Each write is a write like any other (a resourceVersion,
// a change-log entry), so kubectl sees and watches them; they go when their owner goes.
import type { KindDef } from "../core/resources/kind.js";
import type { KReference, Manifest, Resource } from "../core/resources/types.js";
import { autoEventType, type ObservedType } from "../core/resources/eventtypes.js";
import { AUTO_CREATED_LABEL, EventTypeKind } from "../core/resources/kinds/eventtype.js";
import { TriggerKind } from "../core/resources/kinds/trigger.js";
import { partitionCount } from "../core/partitions.js";
import { managingRequestReply, ownerOf, replyTriggers } from "../core/requestreply/managed.js";
import { log } from "../core/log.js";

/** What these helpers may do to the namespace's objects. */
export interface ObjectWrites {
  readonly objects: ReadonlyMap<string, Resource>;
  key(apiVersion: string, kind: string, name: string): string;
  /** Admission of a manifest the namespace writes itself (`old`: the stored object it replaces). */
  admit(kind: KindDef, body: Manifest, old?: Resource): Resource;
  /** Stores an admitted object (added or modified), with the next resourceVersion. */
  put(obj: Resource): void;
  remove(obj: Resource): void;
}

const EVENT_TYPE_API = "eventing.knative.dev/v1beta3";

/** Auto-created EventTypes one owner (a Broker, Channel or source) may have, unless EVENTTYPE_AUTO_CREATE_LIMIT says otherwise. */
export const DEFAULT_EVENTTYPE_LIMIT = 200;

/** EVENTTYPE_AUTO_CREATE_LIMIT: a whole number from 0 (create none) up; anything else is the default. */
export function eventTypeLimit(env: { EVENTTYPE_AUTO_CREATE_LIMIT?: string }): number {
  const raw = env.EVENTTYPE_AUTO_CREATE_LIMIT ?? "";
  const n = Number(raw);
  return raw !== "" && Number.isInteger(n) && n >= 0 ? n : DEFAULT_EVENTTYPE_LIMIT;
}

/** What a report of observed types came to. */
export interface Observed {
  created: number;
  /** Pairs not registered because the owner has reached its limit. */
  refused: ObservedType[];
}

/** Whether `r` is an EventType auto-created for `owner`. */
function ownedBy(r: Resource, owner: Pick<KReference, "kind" | "name">): boolean {
  const ref = r.spec?.reference as KReference | undefined;
  return r.kind === "EventType" && r.metadata.labels?.[AUTO_CREATED_LABEL] === "true" && ref?.kind === owner.kind && ref.name === owner.name;
}

/**
 * Stores the auto-created EventTypes that do not exist yet, at most `limit` per owner: every
 * resource of a namespace is kept in its object's memory, and a producer allowed to send could
 * otherwise grow it without bound by varying `source`. Reaching the limit is logged; the owner's
 * reporter counts what it was refused (`eventtypes.capped` in its /stats).
 */
export function ensureEventTypes(w: ObjectWrites, reference: KReference, types: ObservedType[], limit: number): Observed {
  const out: Observed = { created: 0, refused: [] };
  let owned = -1;
  for (const t of types) {
    const manifest = autoEventType(reference, t);
    if (w.objects.has(w.key(EVENT_TYPE_API, "EventType", manifest.metadata.name))) continue;
    if (owned < 0) owned = [...w.objects.values()].filter((r) => ownedBy(r, reference)).length;
    if (owned >= limit) {
      out.refused.push(t);
      continue;
    }
    w.put(w.admit(EventTypeKind, manifest));
    owned++;
    out.created++;
  }
  if (out.refused.length > 0) {
    log.warn("EventType auto-creation limit reached: new (type, source) pairs of this owner get no EventType", {
      namespace: reference.namespace ?? "", owner: `${reference.kind}/${reference.name}`, limit, refused: out.refused.length,
      fix: "delete EventTypes that are no longer needed, or raise EVENTTYPE_AUTO_CREATE_LIMIT",
    });
  }
  return out;
}

/** Sources declare what they emit in `status.ceAttributes`; those become EventTypes too. */
export function declaredEventTypes(w: ObjectWrites, ns: string, limit: number): boolean {
  let created = false;
  for (const r of [...w.objects.values()]) {
    const attrs = r.status?.ceAttributes as ObservedType[] | undefined;
    if (!Array.isArray(attrs) || attrs.length === 0) continue;
    created = ensureEventTypes(w, { apiVersion: r.apiVersion, kind: r.kind, name: r.metadata.name, namespace: ns }, attrs, limit).created > 0 || created;
  }
  return created;
}

/** Auto-created EventTypes go with the object they describe. */
export function dropOwnedEventTypes(w: ObjectWrites, owner: Resource): void {
  for (const r of [...w.objects.values()]) if (ownedBy(r, { kind: owner.kind, name: owner.metadata.name })) w.remove(r);
}

/**
 * Makes the Triggers every RequestReply manages what it needs (core/requestreply/managed.ts):
 * creates the missing ones, puts back any that drifted, deletes those of RequestReplies that are
 * gone or have fewer shards. A Trigger of that name that a user made is left alone (the
 * RequestReply then stays not ready, and says so). True when anything was written.
 */
export function syncReplyTriggers(w: ObjectWrites): boolean {
  let wrote = false;
  const wanted = new Set<string>();
  const owners = new Set<string>();
  for (const rr of [...w.objects.values()]) {
    if (rr.kind !== "RequestReply") continue;
    owners.add(rr.metadata.uid);
    for (const manifest of replyTriggers(rr, partitionCount(rr.metadata.annotations))) {
      const key = w.key("eventing.knative.dev/v1", "Trigger", manifest.metadata.name);
      wanted.add(key);
      const old = w.objects.get(key);
      if (old && managingRequestReply(old)?.uid !== rr.metadata.uid) continue;
      let next: Resource;
      try {
        next = w.admit(TriggerKind, manifest, old);
      } catch (e) {
        // Admission of the RequestReply vouches for every field used; this would be a bug, not bad input.
        log.error("the reply Trigger of a RequestReply does not pass admission; the RequestReply stays not ready", { requestReply: rr.metadata.name, trigger: manifest.metadata.name, error: String((e as Error).message) });
        continue;
      }
      next.metadata.ownerReferences = [ownerOf(rr)];
      const same = old && JSON.stringify(old.spec) === JSON.stringify(next.spec) && JSON.stringify(old.metadata.labels) === JSON.stringify(next.metadata.labels);
      if (same) continue;
      w.put(next);
      wrote = true;
    }
  }
  for (const [key, r] of [...w.objects]) {
    const owner = managingRequestReply(r);
    if (!owner || (owners.has(owner.uid) && wanted.has(key))) continue;
    w.remove(r);
    wrote = true;
  }
  return wrote;
}
