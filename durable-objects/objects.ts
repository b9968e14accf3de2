import type { CloudEvent } from "../core/cloudevents/event.js";
import type { AttemptSpec, DeliveryOutcome, OwnerRef } from "../core/delivery/messages.js";
import { partitionKey, partitionOf } from "../core/partitions.js";
import type { Dispatcher, DispatcherStats, PublishResult } from "./dispatcher.js";
import type { Sender } from "../core/identity/policy.js";
import { fail, ok } from "../core/result.js";
import { servingOf } from "../core/addressables.js";
import { ERROR_DATA_BYTES } from "../core/delivery/policy.js";
import type { Source } from "./source.js";
import type { MeterSnapshot } from "./meter.js";
import type { Placement } from "../core/placement.js";
import type { DispatcherPlan, PlanBinding } from "../core/resources/plan.js";

/** The bindings of the data-plane objects (Broker, Channel, Source share the Dispatcher RPC surface). */
export interface DataPlaneBindings {
  BROKER: DurableObjectNamespace<Dispatcher>;
  CHANNEL: DurableObjectNamespace<Dispatcher>;
  SOURCE: DurableObjectNamespace<Dispatcher>;
}

/** The Durable Object namespace that runs a data-plane binding (all three share the Dispatcher's RPC surface). */
export function dispatcherNamespace(env: object, binding: "BROKER" | "CHANNEL" | "SOURCE"): DurableObjectNamespace<Dispatcher> {
  return (env as DataPlaneBindings)[binding];
}

/** A data-plane object's name with where its owner was placed (core/placement.ts). */
export type PlacedRef = OwnerRef & { placement?: Placement };

/** Namespaces found without jurisdictions: workerd's (npm start, tests) throw for every one. */
const withoutJurisdictions = new WeakSet<object>();

/**
 * The stub of the data-plane object `ref` (see core/addressables.ts for what lives where), in its
 * owner's jurisdiction and with its location hint. On Cloudflare the same name gives another id
 * in each jurisdiction. workerd has no jurisdictions ("Jurisdiction restrictions are not
 * implemented in workerd") and ignores location hints; there Eddy keeps what matters for
 * correctness: a placed owner's objects are other objects than an unplaced one's, their ids
 * derived from the jurisdiction and the name, so every path that forgets the placement fails
 * locally as it would on Cloudflare. Any other failure of `jurisdiction()` is thrown: an object is
 * never silently put outside the jurisdiction it asked for.
 */
export function dataPlaneStub(env: object, ref: PlacedRef): DurableObjectStub<Dispatcher> {
  // Broker, Channel and Source all extend Dispatcher, so their stubs share its RPC surface.
  const ns = (env as DataPlaneBindings)[ref.binding];
  const { jurisdiction, locationHint } = ref.placement ?? {};
  const within = jurisdiction ? inJurisdiction(ns, jurisdiction) : ns;
  const id = within === ns && jurisdiction ? ns.idFromName(`${jurisdiction}:${ref.name}`) : within.idFromName(ref.name);
  return locationHint ? within.get(id, { locationHint }) : within.get(id);
}

/** The namespace restricted to a jurisdiction; the namespace itself where the runtime has none (workerd). */
function inJurisdiction(ns: DurableObjectNamespace<Dispatcher>, j: string): DurableObjectNamespace<Dispatcher> {
  if (withoutJurisdictions.has(ns)) return ns;
  try {
    // workers-types 4.20260426 predates the "us" jurisdiction (2026-06-26); the runtime takes it.
    return ns.jurisdiction(j as DurableObjectJurisdiction);
  } catch (e) {
    if (!/not implemented in workerd/i.test(String((e as Error)?.message ?? e))) throw e;
    withoutJurisdictions.add(ns);
    return ns;
  }
}

/** The ref of a data-plane object as its plan names it, with its owner's placement. */
export function placedOwner(binding: PlanBinding, plan: DispatcherPlan | null): PlacedRef {
  const placement = plan?.options.placement;
  return { binding, name: plan?.key ?? "(unconfigured)", ...(placement ? { placement } : {}) };
}

/** The partition `i` of `ref`, placed as its owner is. */
export function partitionRef(ref: PlacedRef, i: number): PlacedRef {
  return { ...ref, name: partitionKey(ref.name, i) };
}

/**
 * Partition counts by object, per isolate. The count is immutable while the object exists, so a
 * short cache is safe; an object deleted and recreated with another count is seen within the TTL,
 * and a partition that answers 404 drops the entry at once.
 */
const PARTITIONS_TTL_MS = 10_000;
const partitionCache = new Map<string, { n: number; until: number }>();
let spread = 0;

async function partitionsOf(env: object, ref: PlacedRef): Promise<number | null> {
  const k = `${ref.binding}:${ref.name}`;
  const hit = partitionCache.get(k);
  if (hit && hit.until > Date.now()) return hit.n;
  const n = await dataPlaneStub(env, ref).partitions();
  if (n === null) return null;
  if (partitionCache.size > 10_000) partitionCache.clear();
  partitionCache.set(k, { n, until: Date.now() + PARTITIONS_TTL_MS });
  return n;
}

/** The objects behind an addressable: one per partition; null when it does not exist. */
export async function partitionRefs(env: object, ref: PlacedRef): Promise<PlacedRef[] | null> {
  const n = await partitionsOf(env, ref);
  if (n === null) return null;
  return Array.from({ length: n }, (_, i) => partitionRef(ref, i));
}

/**
 * Publishes events to an addressable, whatever number of partitions stands behind it: each event
 * goes to the partition of its `partitionkey` (events without one are spread evenly), one RPC per
 * partition concerned. Resolves once every event is durable in its partition.
 */
export async function publishTo(env: object, ref: PlacedRef, events: CloudEvent[], sender?: Sender): Promise<PublishResult> {
  const n = await partitionsOf(env, ref);
  if (n === null) return fail(404, "not configured: the addressable does not exist");
  if (n <= 1) return settleCache(ref, await dataPlaneStub(env, ref).publish(events, sender));
  const groups = new Map<number, CloudEvent[]>();
  for (const ev of events) {
    const i = partitionOf(ev.attrs.partitionkey, n, () => spread++);
    (groups.get(i) ?? groups.set(i, []).get(i)!).push(ev);
  }
  const results = await Promise.all(
    [...groups].map(([i, evs]) => dataPlaneStub(env, partitionRef(ref, i)).publish(evs, sender)),
  );
  const failed = results.find((r) => !r.ok);
  if (failed) return settleCache(ref, failed);
  return ok({ accepted: events.length });
}

function settleCache(ref: PlacedRef, r: PublishResult): PublishResult {
  if (!r.ok && r.status === 404) partitionCache.delete(`${ref.binding}:${ref.name}`);
  return r;
}

export interface OwnerStats extends DispatcherStats {
  /** One entry per partition (a single one when the owner is not partitioned). */
  partitions: ({ partition: number } & DispatcherStats)[];
}

/** The stats of an addressable: totals over its partitions, and each partition's own. */
export async function statsOf(env: object, ref: PlacedRef): Promise<OwnerStats | null> {
  const first = (await dataPlaneStub(env, ref).stats()) as DispatcherStats | null;
  if (!first) return null;
  const rest = (await Promise.all(
    Array.from({ length: Math.max(0, first.partitionCount - 1) }, (_, j) => dataPlaneStub(env, partitionRef(ref, j + 1)).stats()),
  )) as (DispatcherStats | null)[];
  const all: DispatcherStats[] = [first, ...rest.filter((s): s is DispatcherStats => s !== null)];
  const counters: Record<string, number> = {};
  for (const s of all) for (const [k, v] of Object.entries(s.counters)) counters[k] = (counters[k] ?? 0) + v;
  const recentDrops = all.flatMap((s) => s.recentDrops).sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 100);
  return {
    ...first,
    counters,
    pending: all.reduce((n, s) => n + s.pending, 0),
    recentDrops,
    connectionsHighWater: Math.max(...all.map((s) => s.connectionsHighWater)),
    groupCommit: {
      flushes: all.reduce((n, s) => n + s.groupCommit.flushes, 0),
      writes: all.reduce((n, s) => n + s.groupCommit.writes, 0),
      rollbacks: all.reduce((n, s) => n + (s.groupCommit.rollbacks ?? 0), 0),
    },
    meter: sumMeters(all.map((s) => s.meter)),
    partitions: all.map((s, i) => ({ partition: i, ...s })),
  };
}

/** What all partitions spent together (each partition's own is in `partitions`). */
function sumMeters(meters: (MeterSnapshot | undefined)[]): MeterSnapshot {
  const out: MeterSnapshot = { rowsRead: 0, rowsWritten: 0, alarmsSet: 0, requests: 0, queueMessages: 0, queueOps: 0, r2ClassA: 0, r2ClassB: 0 };
  for (const m of meters) if (m) for (const k of Object.keys(out) as (keyof MeterSnapshot)[]) out[k] += m[k];
  return out;
}

const enc = new TextEncoder();

/**
 * A delivery to another addressable of this system (a Sequence step, a Parallel branch, a `ref`
 * to a Broker or Channel): an RPC straight to the object behind it (its partition, when it has
 * several), storing the event there, with the outcome an HTTP ingress would have given (202, or
 * 404 when the object is gone).
 */
export async function deliverInternal(env: object, object: PlacedRef, spec: AttemptSpec, event: CloudEvent): Promise<DeliveryOutcome> {
  const base = { id: spec.id, gen: spec.gen };
  if (servingOf(object) === "transform") return transformAt(env, object, spec, event);
  try {
    // The route's identity goes with the event: the target checks it against its EventPolicies.
    const r = await publishTo(env, object, [event], spec.auth?.subject ? { subject: spec.auth.subject } : undefined);
    if (r.ok) return { ...base, ok: true, status: 202 };
    if (r.status === 403) return { ...base, ok: false, status: 403, error: "HTTP 403", errorData: enc.encode(r.message) };
    const text = `${spec.url} does not exist (it was deleted, or is not ready yet)`;
    return { ...base, ok: false, status: 404, error: "HTTP 404", errorData: enc.encode(text) };
  } catch (e) {
    const text = `dispatch error: ${(e as Error).message}`;
    return { ...base, ok: false, error: text, errorData: enc.encode(text) };
  }
}

/**
 * A delivery to an EventTransform: an RPC that answers as its HTTP address would. A 2xx with an
 * event is the subscriber's reply; anything else fails the delivery with the transform's reason
 * (`knativeerrordata`), retried or not by its status as any HTTP answer would be.
 */
async function transformAt(env: object, object: OwnerRef, spec: AttemptSpec, event: CloudEvent): Promise<DeliveryOutcome> {
  const base = { id: spec.id, gen: spec.gen };
  try {
    const stub = dataPlaneStub(env, object) as unknown as DurableObjectStub<Source>;
    const a = await stub.transform(event, spec.auth?.subject ? { subject: spec.auth.subject } : undefined, spec.timeoutMs);
    if (a.status >= 200 && a.status < 300) return { ...base, ok: true, status: a.status, ...(a.event && spec.hop === "subscriber" ? { reply: a.event } : {}) };
    const text = a.message ?? `${spec.url} answered ${a.status}`;
    return {
      ...base, ok: false, status: a.status, error: `HTTP ${a.status}`, errorData: enc.encode(text).subarray(0, ERROR_DATA_BYTES),
      ...(a.retryAfterSeconds ? { retryAfterMs: a.retryAfterSeconds * 1000 } : {}),
    };
  } catch (e) {
    const text = `dispatch error: ${(e as Error).message}`;
    return { ...base, ok: false, error: text, errorData: enc.encode(text) };
  }
}
