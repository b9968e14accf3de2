import type { FieldError } from "../../errors.js";
import { toPolicy, type DeliverySpec } from "../../delivery/policy.js";
import { addressStatus, condition, Conditions } from "../conditions.js";
import { defaultDeliveryNamespace, defaultRefNamespace, specOf } from "../destinations.js";
import type { KindDef, ReconcileContext } from "../kind.js";
import type { RoutePlan, Target } from "../plan.js";
import type { Condition, Destination, Resource } from "../types.js";
import { isObject, validateDelivery, validateDestination } from "../validate.js";
import type { AuthPlan } from "../../identity/policy.js";
import { flowIdentities, internalAuth, targetAuthorization, withAudience } from "../identity.js";

export const FLOWS = "flows.knative.dev";

/** Sequence step i's channel; step 0's is the Sequence's own address. */
export function sequenceStepPath(ns: string, name: string, i: number): string {
  return i === 0 ? `/sequences/${ns}/${name}` : `/sequences/${ns}/${name}/steps/${i}`;
}

export function parallelBranchPath(ns: string, name: string, i: number): string {
  return `/parallels/${ns}/${name}/branches/${i}`;
}

function resolveAll(ctx: ReconcileContext, dests: [string, unknown][]): { targets: Map<string, Target>; error?: string } {
  const targets = new Map<string, Target>();
  for (const [label, d] of dests) {
    if (d === undefined || d === null) continue;
    const r = ctx.resolve(d as Destination);
    if (r.error) return { targets, error: `${label}: ${r.error}` };
    targets.set(label, r.target!);
  }
  return { targets };
}

/** A flow's internal channels always exist; it is ready when every destination resolves. */
function flowReady(c: Conditions, error: string | undefined): boolean {
  if (error) c.set("SubscriptionsReady", false, "DestinationResolveFailed", error);
  else c.set("SubscriptionsReady", true);
  c.set("ChannelsReady", true);
  c.set("Addressable", true); // a flow always has its address; Knative reports it as a condition
  return c.ready(["ChannelsReady", "SubscriptionsReady", "EventPoliciesReady"]);
}

/**
 * The `ready` of an internal channel or subscription in a flow's status: a full Knative Condition
 * (type Ready), its lastTransitionTime kept from `prev` while the status holds. Internal channels
 * always exist; their subscriptions are as ready as the flow's SubscriptionsReady.
 */
function readyEntry(prev: unknown, now: string, sub?: Conditions): Condition {
  const p = prev as Condition | undefined;
  const before = p?.type === "Ready" && p.lastTransitionTime ? p : undefined;
  const s = sub?.list().find((c) => c.type === "SubscriptionsReady");
  if (!s) return condition("Ready", true, before, now);
  return condition("Ready", s.status === "True" ? true : s.status === "False" ? false : "Unknown", before, now, s.reason, s.message);
}

const ref = (kind: string, name: string, namespace: string) => ({ apiVersion: "messaging.knative.dev/v1", kind, name, namespace });
/** Knative's config-default-channel: what a flow without `spec.channelTemplate` gets. */
const DEFAULT_TEMPLATE = { apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel" };
/** An internal channel as Knative names it: of the template's kind (Eddy serves every kind the same way). */
function channelRef(obj: Resource, name: string, namespace: string) {
  const t = (obj.spec?.channelTemplate ?? DEFAULT_TEMPLATE) as { apiVersion: string; kind: string };
  return { apiVersion: t.apiVersion, kind: t.kind, name, namespace };
}

function validateTemplate(t: unknown): FieldError[] {
  if (isObject(t) && typeof t.apiVersion === "string" && t.apiVersion !== "" && typeof t.kind === "string" && t.kind !== "") return [];
  return [{ field: "spec.channelTemplate", message: "must name an apiVersion and a kind, e.g. {apiVersion: messaging.knative.dev/v1, kind: InMemoryChannel} (any kind is served by Eddy's durable channel)" }];
}

function channelPlan(ctx: ReconcileContext, obj: Resource, key: string, routes: RoutePlan[], auth: AuthPlan): void {
  ctx.setPlan({ binding: "CHANNEL", name: key }, {
    key, kind: obj.kind as "Sequence" | "Parallel", namespace: ctx.namespace, name: obj.metadata.name, uid: obj.metadata.uid, generation: obj.metadata.generation, routes,
    options: { auth },
  });
}

function route(uid: string, name: string, kind: string, subscriber: Target, reply: Target | undefined, delivery: DeliverySpec | undefined, dls: Target | undefined): RoutePlan {
  return {
    uid, kind, name, subscriber, policy: toPolicy(delivery),
    ...(reply ? { reply } : {}), ...(dls ? { deadLetter: dls } : {}),
  };
}

/**
 * `flows.knative.dev/v1` Sequence: step i+1 receives step i's reply; a step that answers without
 * an event ends the flow; the last reply goes to `spec.reply`. Each step is an internal durable
 * channel with one route, whose reply goes to the next step's channel; each step's `delivery`
 * governs its subscriber call and its reply hop.
 */
export const SequenceKind: KindDef = {
  group: FLOWS,
  version: "v1",
  kind: "Sequence",
  plural: "sequences",
  order: 30,
  addressPath: (ns, name) => sequenceStepPath(ns, name, 0),

  defaults(obj, ctx) {
    const spec = specOf(obj);
    for (const step of Array.isArray(spec.steps) ? spec.steps : []) {
      defaultRefNamespace(step, ctx.namespace);
      if (isObject(step)) defaultDeliveryNamespace(step.delivery, ctx.namespace);
    }
    defaultRefNamespace(spec.reply, ctx.namespace);
    spec.channelTemplate ??= { ...DEFAULT_TEMPLATE };
  },

  validate(obj, _old, ctx) {
    const spec = obj.spec ?? {};
    const errs: FieldError[] = [];
    if (!Array.isArray(spec.steps) || spec.steps.length === 0) return [{ field: "spec.steps", message: "must list at least one step" }];
    spec.steps.forEach((step, i) => {
      errs.push(...validateDestination(isObject(step) ? { ref: step.ref, uri: step.uri } : step, `spec.steps[${i}]`, ctx.namespace, ctx.refs));
      if (isObject(step)) errs.push(...validateDelivery(step.delivery, `spec.steps[${i}].delivery`, ctx.namespace, ctx.refs));
    });
    errs.push(...validateDestination(spec.reply, "spec.reply", ctx.namespace, ctx.refs, false));
    errs.push(...validateTemplate(spec.channelTemplate));
    return errs;
  },

  reconcile(obj, ctx) {
    const { namespace: ns } = ctx;
    const name = obj.metadata.name;
    const steps = (obj.spec?.steps ?? []) as (Destination & { delivery?: DeliverySpec })[];
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const dests: [string, unknown][] = [["spec.reply", obj.spec?.reply]];
    steps.forEach((s, i) => {
      dests.push([`step ${i}`, { ref: s.ref, uri: s.uri }]);
      if (s.delivery?.deadLetterSink) dests.push([`step ${i} deadLetterSink`, s.delivery.deadLetterSink]);
    });
    const { targets, error } = resolveAll(ctx, dests);
    const authz = targetAuthorization(obj, ctx, c);
    const ids = flowIdentities(ctx, steps.map((_, i) => `${name}-kn-sequence-${i}`));
    const ready = flowReady(c, error);
    const stepUrl = (i: number) => ctx.baseUrl + sequenceStepPath(ns, name, i);
    steps.forEach((s, i) => {
      const sub = targets.get(`step ${i}`);
      const reply = i < steps.length - 1 ? { url: stepUrl(i + 1), internal: true } : targets.get("spec.reply");
      const routes = ready && sub
        ? [{ ...route(`${obj.metadata.uid}/step/${i}`, `${name}/step-${i}`, "Sequence", sub, reply, s.delivery, targets.get(`step ${i} deadLetterSink`)), sender: ids.senders.get(`${name}-kn-sequence-${i}`)! }]
        : [];
      // Step 0 is the Sequence's address; later steps take events only from the flow's own steps.
      channelPlan(ctx, obj, `Sequence/${ns}/${name}/${i}`, routes, i === 0 ? authz.auth : internalAuth(authz.audience, [...ids.senders.values()]));
    });
    const url = stepUrl(0);
    const prev = obj.status as { channelStatuses?: { ready?: unknown }[]; subscriptionStatuses?: { ready?: unknown }[] } | undefined;
    return {
      observedGeneration: obj.metadata.generation,
      conditions: c.list(),
      ...withAudience(addressStatus(url), authz.audience, ctx),
      ...authz.status,
      ...ids.status,
      channelStatuses: steps.map((_, i) => ({ channel: channelRef(obj, `${name}-kn-sequence-${i}`, ns), address: { url: stepUrl(i) }, ready: readyEntry(prev?.channelStatuses?.[i]?.ready, ctx.now) })),
      subscriptionStatuses: steps.map((_, i) => ({ subscription: ref("Subscription", `${name}-kn-sequence-${i}`, ns), ready: readyEntry(prev?.subscriptionStatuses?.[i]?.ready, ctx.now, c) })),
    };
  },
};

interface Branch {
  filter?: Destination;
  subscriber: Destination;
  reply?: Destination;
  delivery?: DeliverySpec;
}

/**
 * `flows.knative.dev/v1` Parallel: the ingress channel offers each event to every branch; a branch
 * whose filter replies 200 with an event (or that has no filter) passes that event to its
 * subscriber, whose reply goes to the branch `reply` or the Parallel's. Branches are independent.
 * The branch `delivery` governs the branch subscriber, not the filter (as in Knative).
 */
export const ParallelKind: KindDef = {
  group: FLOWS,
  version: "v1",
  kind: "Parallel",
  plural: "parallels",
  order: 30,
  addressPath: (ns, name) => `/parallels/${ns}/${name}`,

  defaults(obj, ctx) {
    const spec = specOf(obj);
    for (const b of Array.isArray(spec.branches) ? spec.branches : []) {
      if (!isObject(b)) continue;
      for (const k of ["filter", "subscriber", "reply"]) defaultRefNamespace(b[k], ctx.namespace);
      defaultDeliveryNamespace(b.delivery, ctx.namespace);
    }
    defaultRefNamespace(spec.reply, ctx.namespace);
    spec.channelTemplate ??= { ...DEFAULT_TEMPLATE };
  },

  validate(obj, _old, ctx) {
    const spec = obj.spec ?? {};
    if (!Array.isArray(spec.branches) || spec.branches.length === 0) return [{ field: "spec.branches", message: "must list at least one branch" }];
    const errs: FieldError[] = [];
    spec.branches.forEach((b, i) => {
      const at = `spec.branches[${i}]`;
      if (!isObject(b)) return void errs.push({ field: at, message: "must be an object with a subscriber" });
      errs.push(...validateDestination(b.filter, `${at}.filter`, ctx.namespace, ctx.refs, false));
      errs.push(...validateDestination(b.subscriber, `${at}.subscriber`, ctx.namespace, ctx.refs));
      errs.push(...validateDestination(b.reply, `${at}.reply`, ctx.namespace, ctx.refs, false));
      errs.push(...validateDelivery(b.delivery, `${at}.delivery`, ctx.namespace, ctx.refs));
    });
    errs.push(...validateDestination(spec.reply, "spec.reply", ctx.namespace, ctx.refs, false));
    errs.push(...validateTemplate(spec.channelTemplate));
    return errs;
  },

  reconcile(obj, ctx) {
    const { namespace: ns } = ctx;
    const name = obj.metadata.name;
    const branches = (obj.spec?.branches ?? []) as Branch[];
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const dests: [string, unknown][] = [["spec.reply", obj.spec?.reply]];
    branches.forEach((b, i) => {
      dests.push([`branch ${i} filter`, b.filter], [`branch ${i} subscriber`, b.subscriber], [`branch ${i} reply`, b.reply]);
      if (b.delivery?.deadLetterSink) dests.push([`branch ${i} deadLetterSink`, b.delivery.deadLetterSink]);
    });
    const { targets, error } = resolveAll(ctx, dests);
    const authz = targetAuthorization(obj, ctx, c);
    const ids = flowIdentities(ctx, branches.flatMap((_, i) => [`${name}-kn-parallel-filter-${i}`, `${name}-kn-parallel-${i}`]));
    const sent = (sub: string, r: RoutePlan): RoutePlan => ({ ...r, sender: ids.senders.get(sub)! });
    const ready = flowReady(c, error);
    const url = ctx.baseUrl + `/parallels/${ns}/${name}`;
    const ingressRoutes: RoutePlan[] = [];
    branches.forEach((b, i) => {
      const branchChannel = { url: ctx.baseUrl + parallelBranchPath(ns, name, i), internal: true };
      const filter = targets.get(`branch ${i} filter`);
      const sub = targets.get(`branch ${i} subscriber`);
      if (ready) {
        ingressRoutes.push(sent(`${name}-kn-parallel-filter-${i}`, filter
          ? route(`${obj.metadata.uid}/filter/${i}`, `${name}/filter-${i}`, "Parallel", filter, branchChannel, undefined, undefined)
          : route(`${obj.metadata.uid}/filter/${i}`, `${name}/filter-${i}`, "Parallel", branchChannel, undefined, undefined, undefined)));
      }
      const reply = targets.get(`branch ${i} reply`) ?? targets.get("spec.reply");
      const routes = ready && sub
        ? [sent(`${name}-kn-parallel-${i}`, route(`${obj.metadata.uid}/branch/${i}`, `${name}/branch-${i}`, "Parallel", sub, reply, b.delivery, targets.get(`branch ${i} deadLetterSink`)))]
        : [];
      // Branch channels take events only from the flow's own routes; the ingress channel is the Parallel's address.
      channelPlan(ctx, obj, `Parallel/${ns}/${name}/${i}`, routes, internalAuth(authz.audience, [...ids.senders.values()]));
    });
    channelPlan(ctx, obj, `Parallel/${ns}/${name}`, ingressRoutes, authz.auth);
    type Entry = { ready?: unknown };
    const prev = obj.status as { ingressChannelStatus?: Entry; branchStatuses?: Record<string, Entry | undefined>[] } | undefined;
    const was = (i: number, f: string) => prev?.branchStatuses?.[i]?.[f]?.ready;
    // Field names as in Knative's ParallelBranchStatus (pkg/apis/flows/v1/parallel_types.go).
    return {
      observedGeneration: obj.metadata.generation,
      conditions: c.list(),
      ...withAudience(addressStatus(url), authz.audience, ctx),
      ...authz.status,
      ...ids.status,
      ingressChannelStatus: { channel: channelRef(obj, `${name}-kn-parallel`, ns), ready: readyEntry(prev?.ingressChannelStatus?.ready, ctx.now) },
      branchStatuses: branches.map((_, i) => ({
        filterSubscriptionStatus: { subscription: ref("Subscription", `${name}-kn-parallel-filter-${i}`, ns), ready: readyEntry(was(i, "filterSubscriptionStatus"), ctx.now, c) },
        filterChannelStatus: { channel: channelRef(obj, `${name}-kn-parallel-${i}`, ns), ready: readyEntry(was(i, "filterChannelStatus"), ctx.now) },
        subscriberSubscriptionStatus: { subscription: ref("Subscription", `${name}-kn-parallel-${i}`, ns), ready: readyEntry(was(i, "subscriberSubscriptionStatus"), ctx.now, c) },
      })),
    };
  },
};
