import type { FieldError } from "./errors.js";
import type { DispatcherPlan } from "./resources/plan.js";
import { partitionShare } from "./resources/flow.js";
import { retentionMs, validateRetention } from "./duration.js";

/** How many Durable Objects stand behind one Broker, Channel or InMemoryChannel address. */
export const PARTITIONS_ANNOTATION = "eddy.dev/partitions";
export const MAX_PARTITIONS = 64;

/** The partition count a resource's annotations ask for (1 when absent). */
export function partitionCount(annotations: Record<string, string> | undefined): number {
  const raw = annotations?.[PARTITIONS_ANNOTATION];
  const n = raw === undefined ? 1 : Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= MAX_PARTITIONS ? n : 1;
}

/** How many partitions stand behind the address of a plan `physicalPlans` made (1 when it says nothing sensible). */
export function planPartitions(plan: DispatcherPlan | null): number {
  const n = Number(plan?.options?.partitions ?? 1);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** Which partition a plan `physicalPlans` made is (0 when its owner is not partitioned). */
export function planPartition(plan: DispatcherPlan | null): number {
  return Number(plan?.options?.partition ?? 0);
}

/** 422 causes: the count must be a whole number from 1 to 64 and never change once the object exists. */
export function validatePartitions(annotations: unknown, old: Record<string, string> | undefined): FieldError[] {
  const a = (annotations && typeof annotations === "object" ? annotations : {}) as Record<string, string>;
  const field = `metadata.annotations.${PARTITIONS_ANNOTATION}`;
  const raw = a[PARTITIONS_ANNOTATION];
  if (raw !== undefined) {
    const n = Number(raw);
    if (!/^[0-9]{1,2}$/.test(String(raw)) || n < 1 || n > MAX_PARTITIONS) {
      return [{ field, message: `must be a whole number of partitions from 1 to ${MAX_PARTITIONS}, got "${raw}"` }];
    }
  }
  if (old !== undefined && (old[PARTITIONS_ANNOTATION] ?? "1") !== (raw ?? "1")) {
    return [{ field, message: `is immutable: it is "${old[PARTITIONS_ANNOTATION] ?? "1"}" and cannot become "${raw ?? "1"}"; delete and recreate the object to change it` }];
  }
  return [];
}

/** The key of partition `i` of the object `base` (partition 0 keeps the unpartitioned key). */
export function partitionKey(base: string, i: number): string {
  return i === 0 ? base : `${base}#${i}`;
}

/** FNV-1a, 32 bits: a stable spread of partition keys. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The partition an event goes to: by its `partitionkey` extension (the CloudEvents partitioning
 * extension), so every event of a key lands in one partition and keeps its order there; events
 * without one are spread evenly by the caller's counter.
 */
export function partitionOf(partitionkey: unknown, partitions: number, spread: () => number): number {
  if (partitions <= 1) return 0;
  if (partitionkey === undefined || partitionkey === null || partitionkey === "") return spread() % partitions;
  return hash32(String(partitionkey)) % partitions;
}

/**
 * The plans to send, one per Durable Object: a partitioned owner's plan becomes one plan per
 * partition, each with the whole set of routes (every partition delivers to every Trigger or
 * Subscription) and that partition's share of each route's flow limits.
 */
export function physicalPlans(plans: Map<string, DispatcherPlan>): Map<string, DispatcherPlan> {
  const out = new Map<string, DispatcherPlan>();
  for (const [key, plan] of plans) {
    const n = Number(plan.options?.partitions ?? 1);
    if (!(n > 1)) {
      out.set(key, plan);
      continue;
    }
    for (let i = 0; i < n; i++) {
      const name = partitionKey(plan.key, i);
      // The same kind of plan, with that partition's key, share and index.
      out.set(partitionKey(key, i), {
        ...plan,
        key: name,
        routes: plan.routes.map((r) => ({ ...r, ...partitionShare(r, i, n) })),
        options: { ...plan.options, partition: i },
      } as DispatcherPlan);
    }
  }
  return out;
}

/** How long an owner keeps dead letters that no dead-letter sink took (ISO-8601 duration; PT0S drops them). */
export const DEAD_LETTER_RETENTION_ANNOTATION = "eddy.dev/deadletter-retention";

/** The retention in ms from valid annotations; undefined for the default. */
export function deadLetterRetentionMs(annotations: Record<string, string> | undefined): number | undefined {
  return retentionMs(annotations, DEAD_LETTER_RETENTION_ANNOTATION);
}

export function validateDeadLetterRetention(annotations: unknown): FieldError[] {
  return validateRetention(annotations, DEAD_LETTER_RETENTION_ANNOTATION, "keep none", "P14D");
}
