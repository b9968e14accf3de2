import type { FieldError } from "./errors.js";

/**
 * Where the Durable Objects of a Broker, Channel or InMemoryChannel run and keep their data, from
 * two annotations: `eddy.dev/jurisdiction` (Cloudflare's jurisdictions: the objects run and store
 * only inside it) and `eddy.dev/location-hint` (where the objects are first created, best effort).
 * Both are immutable while the object exists: an object's id depends on its jurisdiction, so a
 * change would leave every stored event behind. See docs/scaling.md, "Placement".
 */
export const JURISDICTION_ANNOTATION = "eddy.dev/jurisdiction";
export const LOCATION_HINT_ANNOTATION = "eddy.dev/location-hint";

/** Cloudflare's Durable Object jurisdictions (docs: Data location; `us` since 2026-06-26). */
export const JURISDICTIONS = ["eu", "fedramp", "fedramp-high", "us"] as const;
/** Cloudflare's Durable Object location hints. */
export const LOCATION_HINTS = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"] as const;

export type Jurisdiction = (typeof JURISDICTIONS)[number];
export type LocationHint = (typeof LOCATION_HINTS)[number];

/** Where an owner's objects go; empty for Cloudflare's default (near the first caller). */
export interface Placement {
  jurisdiction?: Jurisdiction;
  locationHint?: LocationHint;
}

/** The kinds whose objects can be placed (a Sequence's or Parallel's channels, and sources, cannot). */
export const PLACEABLE_KINDS: readonly string[] = ["Broker", "Channel", "InMemoryChannel"];

const isJurisdiction = (v: unknown): v is Jurisdiction => (JURISDICTIONS as readonly unknown[]).includes(v);
const isLocationHint = (v: unknown): v is LocationHint => (LOCATION_HINTS as readonly unknown[]).includes(v);

/** The placement valid annotations ask for (unknown values are left out; admission refuses them). */
export function placementOf(annotations: Record<string, string> | undefined): Placement {
  const j = annotations?.[JURISDICTION_ANNOTATION];
  const h = annotations?.[LOCATION_HINT_ANNOTATION];
  return { ...(isJurisdiction(j) ? { jurisdiction: j } : {}), ...(isLocationHint(h) ? { locationHint: h } : {}) };
}

/** Whether a placement asks for anything. */
export function isPlaced(p: Placement | undefined): p is Placement {
  return p !== undefined && (p.jurisdiction !== undefined || p.locationHint !== undefined);
}

/**
 * 422 causes: each annotation must be one of Cloudflare's values and keep the value it had when the
 * object was created (`old`: the stored object's annotations, undefined on create).
 */
export function validatePlacement(annotations: unknown, old: Record<string, string> | undefined): FieldError[] {
  const a = (annotations && typeof annotations === "object" ? annotations : {}) as Record<string, unknown>;
  const errs: FieldError[] = [];
  const rules: [string, readonly string[], string][] = [
    [JURISDICTION_ANNOTATION, JURISDICTIONS, "a Cloudflare jurisdiction"],
    [LOCATION_HINT_ANNOTATION, LOCATION_HINTS, "a Cloudflare location hint"],
  ];
  for (const [name, allowed, what] of rules) {
    const field = `metadata.annotations.${name}`;
    const value = a[name];
    if (value !== undefined && !allowed.includes(value as string)) {
      errs.push({ field, message: `must be ${what}: one of ${allowed.join(", ")}; got "${String(value)}"` });
      continue;
    }
    if (old !== undefined && (old[name] ?? "") !== (value ?? "")) {
      const was = old[name] === undefined ? "unset" : `"${old[name]}"`;
      const now = value === undefined ? "unset" : `"${String(value)}"`;
      errs.push({ field, message: `is immutable: it is ${was} and cannot become ${now}; the objects holding this owner's events were created there. Delete and recreate the object to place it elsewhere` });
    }
  }
  return errs;
}

/**
 * `{ placement }` for a placed owner, `{}` otherwise: spread into its status (`status.placement`)
 * and its plan's options, so owners without placement keep the plans they had.
 */
export function placementField(annotations: Record<string, string> | undefined): { placement?: Placement } {
  const p = placementOf(annotations);
  return isPlaced(p) ? { placement: p } : {};
}
