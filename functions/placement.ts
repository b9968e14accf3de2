import type { OwnerRef } from "../core/delivery/messages.js";
import { isPlaced, PLACEABLE_KINDS, type Placement } from "../core/placement.js";
import type { PlacedRef } from "../durable-objects/objects.js";
import type { Env } from "./env.js";

/** The resource behind a data-plane object, as the URL names it. */
export interface OwnerName {
  kind: string;
  ns: string;
  name: string;
}

/**
 * Placements by owner, per isolate. A placement cannot change while its owner exists; an owner
 * deleted and created again elsewhere is seen within the TTL, or at once when its object answers
 * 404 (`forgetPlacement`). Owners not found are not remembered, so a new one is reachable at once.
 */
const PLACEMENT_TTL_MS = 10_000;
const known = new Map<string, { placement: Placement; until: number }>();
const keyOf = (o: OwnerName) => `${o.ns}/${o.kind}/${o.name}`;

/**
 * The ref of an owner's objects with its placement (core/placement.ts), from the namespace's
 * object, which holds the owner's annotations: a placed owner's objects have other ids than the
 * default ones. Kinds that cannot be placed are returned as they are, without asking.
 */
export async function placed(env: Env, ref: OwnerRef, owner: OwnerName): Promise<PlacedRef> {
  if (!PLACEABLE_KINDS.includes(owner.kind)) return ref;
  const k = keyOf(owner);
  let hit = known.get(k);
  if (!hit || hit.until <= Date.now()) {
    const placement = await env.NAMESPACE.get(env.NAMESPACE.idFromName(owner.ns)).placement(owner.kind, owner.name);
    if (placement === null) return ref;
    if (known.size > 10_000) known.clear();
    known.set(k, (hit = { placement, until: Date.now() + PLACEMENT_TTL_MS }));
  }
  return isPlaced(hit.placement) ? { ...ref, placement: hit.placement } : ref;
}

/** The owner's object answered 404: it may have been deleted and created again elsewhere. */
export function forgetPlacement(owner: OwnerName): void {
  known.delete(keyOf(owner));
}
