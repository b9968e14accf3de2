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

/** Stores the auto-created EventTypes that do not exist yet; true when any was created. */
export function ensureEventTypes(w: ObjectWrites, reference: KReference, types: ObservedType[]): boolean {
  let created = false;
  for (const t of types) {
    const manifest = autoEventType(reference, t);
    if (w.objects.has(w.key(EVENT_TYPE_API, "EventType", manifest.metadata.name))) continue;
    w.put(w.admit(EventTypeKind, manifest));
    created = true;
  }
  return created;
}

/** Sources declare what they emit in `status.ceAttributes`; those become EventTypes too. */
export function declaredEventTypes(w: ObjectWrites, ns: string): boolean {
  let created = false;
  for (const r of [...w.objects.values()]) {
    const attrs = r.status?.ceAttributes as ObservedType[] | undefined;
    if (!Array.isArray(attrs) || attrs.length === 0) continue;
    created = ensureEventTypes(w, { apiVersion: r.apiVersion, kind: r.kind, name: r.metadata.name, namespace: ns }, attrs) || created;
  }
  return created;
}

/** Auto-created EventTypes go with the object they describe. */
export function dropOwnedEventTypes(w: ObjectWrites, owner: Resource): void {
  for (const r of [...w.objects.values()]) {
    const ref = r.spec?.reference as KReference | undefined;
    if (r.kind === "EventType" && r.metadata.labels?.[AUTO_CREATED_LABEL] === "true" && ref?.kind === owner.kind && ref.name === owner.metadata.name) w.remove(r);
  }
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
