import { apiVersionOf } from "./kind.js";
import type { KindDef, ReconcileContext } from "./kind.js";
import { KINDS, kindOf } from "./registry.js";
import type { DispatcherPlan, PlanKey, ReplayReport } from "./plan.js";
import { locate } from "../addressables.js";
import { isPlaced, PLACEABLE_KINDS, placementOf } from "../placement.js";
import { planKeyString } from "./plan.js";
import type { Destination, Resource } from "./types.js";
import { DEFAULT_AUTH_SETTINGS, type AuthSettings } from "../identity/settings.js";
import { audienceOf } from "../identity/names.js";
import { groupOf } from "./identity.js";
import { refusal, type DestinationPolicy } from "../delivery/destinations.js";

export interface ReconcileResult {
  /** Resources whose status changed, with the new status set. */
  changed: Resource[];
  /** Every data-plane plan of the namespace, by `planKeyString`. */
  plans: Map<string, DispatcherPlan>;
}

/**
 * Recomputes the status of every resource in a namespace and the plans of its data-plane objects.
 * Pure and whole-namespace on purpose: a write to one object (a Broker appearing) can change the
 * readiness of others (its Triggers), and recomputing everything is cheap next to a network hop.
 *
 * @example
 * const { changed, plans } = reconcileNamespace(all, "default", "https://eddy.example", new Date().toISOString());
 */
export function reconcileNamespace(
  resources: Resource[], namespace: string, baseUrl: string, now: string, hasSecret: (name: string) => boolean = () => true,
  auth: AuthSettings = DEFAULT_AUTH_SETTINGS,
  progress: (uid: string) => ReplayReport[] = () => [],
  destinations: DestinationPolicy = "allow-all",
): ReconcileResult {
  const index = new Map<string, Resource>();
  for (const r of resources) index.set(`${r.apiVersion}/${r.kind}/${r.metadata.name}`, r);
  const plans = new Map<string, DispatcherPlan>();

  const addressOf = (r: Resource): string | undefined => {
    const k = kindOf(r.apiVersion, r.kind);
    return k?.addressPath ? baseUrl + k.addressPath(namespace, r.metadata.name) : undefined;
  };

  const ctx: ReconcileContext = {
    namespace,
    baseUrl,
    now,
    auth,
    find: (apiVersion, kind, name) => index.get(`${apiVersion}/${kind}/${name}`),
    list: (apiVersion, kind) => resources.filter((r) => r.apiVersion === apiVersion && r.kind === kind),
    serves: (apiVersion, kind) => kindOf(apiVersion, kind) !== undefined,
    addressOf,
    resolve(dest: Destination | undefined) {
      if (!dest) return { error: "no destination given" };
      // A Destination's `audience` is for targets that cannot tell theirs (Knative: it wins over the addressable's).
      const aud = typeof dest.audience === "string" && dest.audience !== "" ? { audience: dest.audience } : {};
      if (!dest.ref) {
        if (!dest.uri) return { error: "destination has neither uri nor ref" };
        const refused = refusal(dest.uri, destinations);
        return refused ? { error: refused } : { target: { url: dest.uri, ...aud } };
      }
      const { apiVersion, kind, name } = dest.ref;
      const target = index.get(`${apiVersion}/${kind}/${name}`);
      if (!target) return { error: `${kind} "${name}" does not exist` };
      const refReady = kindOf(apiVersion, kind)?.refReady;
      const ready = refReady ? refReady(target) : target.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      const url = addressOf(target);
      if (!url || !ready) return { error: `${kind} "${name}" is not ready` };
      const own = kind === "WebhookSource" ? {} : { audience: audienceOf(groupOf(apiVersion), kind, namespace, name) };
      const at = dest.uri ? new URL(dest.uri, url).toString() : url;
      return { target: { url: at, internal: true, ...placedObject(at, target), ...own, ...aud } };
    },
    plan: (key) => plans.get(planKeyString(key)),
    hasSecret,
    setPlan: (key, plan) => void plans.set(planKeyString(key), plan),
    progress,
  };

  // Objects of one kind can refer to each other (a Broker dead-lettering into another Broker), so
  // repeat until nothing moves; a handful of passes settles any chain a namespace really has.
  const changed = new Set<Resource>();
  const ordered = [...resources].sort(
    (a, b) => (kindOf(a.apiVersion, a.kind)?.order ?? 99) - (kindOf(b.apiVersion, b.kind)?.order ?? 99),
  );
  const before = new Map<Resource, { spec: string; generation: number }>();
  for (let pass = 0; pass < 5; pass++) {
    plans.clear();
    let moved = false;
    for (const r of ordered) {
      const k = kindOf(r.apiVersion, r.kind);
      if (!k?.reconcile) continue;
      if (k.deriveSpec && deriveSpec(r, k, ctx, before)) {
        changed.add(r);
        moved = true;
      }
      const status = k.reconcile(r, ctx);
      if (JSON.stringify(status) !== JSON.stringify(r.status ?? null)) {
        r.status = status;
        changed.add(r);
        moved = true;
      }
    }
    if (!moved) break;
  }
  return { changed: [...changed], plans };
}

/**
 * The object behind an internal target whose owner is placed (core/placement.ts), so deliveries to
 * it reach the object in its jurisdiction; others get theirs from the URL where they are sent.
 */
function placedObject(url: string, target: Resource): { object?: PlanKey } {
  const placement = PLACEABLE_KINDS.includes(target.kind) ? placementOf(target.metadata.annotations) : {};
  const object = isPlaced(placement) ? locate(new URL(url).pathname) : undefined;
  return object ? { object: { ...object, placement } } : {};
}

/**
 * Writes the server-owned spec fields of `r`; true when they moved in this pass. A spec that
 * differs from what it was before this reconcile gets one new `generation` (as a controller's
 * patch gives one in Kubernetes), however many passes it takes to settle.
 */
function deriveSpec(r: Resource, k: KindDef, ctx: ReconcileContext, before: Map<Resource, { spec: string; generation: number }>): boolean {
  let first = before.get(r);
  if (!first) before.set(r, (first = { spec: JSON.stringify(r.spec ?? {}), generation: r.metadata.generation }));
  const last = JSON.stringify(r.spec ?? {});
  const spec = { ...(r.spec ?? {}) };
  const derived = k.deriveSpec!(r, ctx);
  for (const f of Object.keys(k.serverOwnedSpec ?? {})) {
    delete spec[f]; // server-owned fields go last, as admission keeps them
    if (derived[f] !== undefined) spec[f] = derived[f];
  }
  const now = JSON.stringify(spec);
  r.spec = spec;
  r.metadata.generation = first.generation + (now === first.spec ? 0 : 1);
  return now !== last;
}

export { KINDS, apiVersionOf };
