import type { FieldError } from "../../errors.js";
import { archiveRetentionMs, ARCHIVE_RETENTION_ANNOTATION, parseRfc3339 } from "../../archive.js";
import { validateTriggerFilters } from "../../filters/index.js";
import { condition } from "../conditions.js";
import type { KindDef, ReconcileContext } from "../kind.js";
import type { Condition, Resource, Status } from "../types.js";
import { isObject, validateName } from "../validate.js";
import { MESSAGING } from "./channel.js";

export const REPLAY_GROUP = "eventing.eddy.dev";

/** The owner a Replay reads: its Broker, or its Channel / InMemoryChannel. */
interface ReplayTarget {
  apiVersion: string;
  kind: "Broker" | "Channel" | "InMemoryChannel";
  name: string;
  binding: "BROKER" | "CHANNEL";
  key: string;
}

function targetOf(spec: Record<string, unknown>, ctx: Pick<ReconcileContext, "namespace" | "find">): ReplayTarget | undefined {
  const ns = ctx.namespace;
  if (typeof spec.broker === "string") {
    return { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: spec.broker, binding: "BROKER", key: `${ns}/${spec.broker}` };
  }
  const ch = spec.channel;
  const name = typeof ch === "string" ? ch : isObject(ch) ? String(ch.name) : undefined;
  if (name === undefined) return undefined;
  let kind = isObject(ch) && ch.kind === "InMemoryChannel" ? "InMemoryChannel" : "Channel";
  // A bare name means a Channel of that name, or else an InMemoryChannel.
  if (typeof ch === "string" && !ctx.find(`${MESSAGING}/v1`, "Channel", name)) kind = "InMemoryChannel";
  return { apiVersion: `${MESSAGING}/v1`, kind: kind as ReplayTarget["kind"], name, binding: "CHANNEL", key: `${kind}/${ns}/${name}` };
}

/**
 * `eventing.eddy.dev/v1alpha1` Replay: delivers again the events an archiving Broker or Channel
 * (`eddy.dev/archive-retention`) accepted between `spec.from` and `spec.to`, in acceptance order,
 * to its Triggers of now whose filters match (or only `spec.trigger` / `spec.subscription`),
 * narrowed by `spec.filters`. Each replayed event carries `eddyreplay: <name>`. A Replay is a job:
 * its spec cannot change, `Succeeded` ends True or False and stays so, and deleting a running
 * Replay stops it. The data plane runs it (durable-objects/replayer.ts) and reports progress.
 */
export const ReplayKind: KindDef = {
  group: REPLAY_GROUP,
  version: "v1alpha1",
  kind: "Replay",
  plural: "replays",
  order: 70,

  defaults(obj, ctx) {
    const ch = obj.spec?.channel;
    if (isObject(ch)) {
      ch.apiVersion ??= `${MESSAGING}/v1`;
      ch.kind ??= "Channel";
      ch.namespace ??= ctx.namespace;
    }
  },

  validate(obj, old) {
    const spec = obj.spec;
    if (!isObject(spec)) return [{ field: "spec", message: "is required: a Replay needs spec.broker (or spec.channel), spec.from and spec.to" }];
    const errs: FieldError[] = [];
    const hasBroker = spec.broker !== undefined;
    const hasChannel = spec.channel !== undefined;
    if (hasBroker === hasChannel) errs.push({ field: "spec", message: "must name exactly one of spec.broker or spec.channel" });
    if (hasBroker) errs.push(...validateName(spec.broker, "spec.broker"));
    if (hasChannel) {
      const ch = spec.channel;
      if (typeof ch === "string") errs.push(...validateName(ch, "spec.channel"));
      else if (!isObject(ch)) errs.push({ field: "spec.channel", message: "must be a channel's name or a reference {kind, name}" });
      else {
        errs.push(...validateName(ch.name, "spec.channel.name"));
        if (ch.kind !== "Channel" && ch.kind !== "InMemoryChannel") errs.push({ field: "spec.channel.kind", message: `must be Channel or InMemoryChannel, got ${JSON.stringify(ch.kind)}` });
      }
    }
    const from = parseRfc3339(spec.from);
    const to = parseRfc3339(spec.to);
    if (from === undefined) errs.push({ field: "spec.from", message: `must be an RFC 3339 time such as 2026-12-03T10:00:00Z, got ${JSON.stringify(spec.from)}` });
    if (to === undefined) errs.push({ field: "spec.to", message: `must be an RFC 3339 time such as 2026-12-03T11:00:00Z, got ${JSON.stringify(spec.to)}` });
    if (from !== undefined && to !== undefined && from > to) errs.push({ field: "spec.to", message: `must not be before spec.from (${String(spec.from)})` });
    if (spec.trigger !== undefined) {
      if (!hasBroker) errs.push({ field: "spec.trigger", message: "is for Brokers; a Channel's replay names spec.subscription" });
      errs.push(...validateName(spec.trigger, "spec.trigger"));
    }
    if (spec.subscription !== undefined) {
      if (!hasChannel) errs.push({ field: "spec.subscription", message: "is for Channels; a Broker's replay names spec.trigger" });
      errs.push(...validateName(spec.subscription, "spec.subscription"));
    }
    if (spec.filters !== undefined) {
      if (!Array.isArray(spec.filters)) errs.push({ field: "spec.filters", message: "must be a list of filters in the Trigger dialects" });
      else errs.push(...validateTriggerFilters({ filters: spec.filters }, "spec"));
    }
    if (old && JSON.stringify(old.spec) !== JSON.stringify(spec)) {
      errs.push({ field: "spec", message: "is immutable: a Replay is a job; delete it and create another to replay a different window" });
    }
    return errs;
  },

  reconcile(obj, ctx) {
    const prev = obj.status?.conditions?.find((c) => c.type === "Succeeded");
    // Finished is final: the window and the outcome stay as they were.
    if (prev && prev.status !== "Unknown") return obj.status as Status;
    const spec = obj.spec ?? {};
    const base: Status = { observedGeneration: obj.metadata.generation, startTime: obj.metadata.creationTimestamp };
    const finish = (ok: boolean, reason: string, message: string, extra: Status = {}): Status => ({
      ...base, ...extra, conditions: [succeeded(ok, prev, ctx.now, reason, message)], completionTime: ctx.now,
    });
    const target = targetOf(spec, ctx);
    const owner = target && ctx.find(target.apiVersion, target.kind, target.name);
    if (!target || !owner) return finish(false, "TargetNotFound", `${target?.kind ?? "Broker"} "${target?.name ?? ""}" does not exist`);
    const retention = archiveRetentionMs(owner.metadata.annotations);
    if (!retention) {
      return finish(false, "ArchiveOff", `${target.kind} "${target.name}" does not archive its events: set the annotation ${ARCHIVE_RETENTION_ANNOTATION} (for example P7D) on it, then replay what it accepts from then on`);
    }
    const from = parseRfc3339(spec.from)!;
    const to = parseRfc3339(spec.to)!;
    const created = Date.parse(obj.metadata.creationTimestamp);
    const kept = created - retention;
    if (from < kept) {
      return finish(false, "WindowBeyondRetention", `spec.from (${String(spec.from)}) is beyond the archive's retention: ${target.kind} "${target.name}" keeps events for ${owner.metadata.annotations?.[ARCHIVE_RETENTION_ANNOTATION]}, so nothing accepted before ${new Date(kept).toISOString()} can be replayed`);
    }
    let routes: string[] | undefined;
    const only = target.kind === "Broker" ? spec.trigger : spec.subscription;
    if (typeof only === "string") {
      const r = routeOf(ctx, target, only);
      if (!r) return finish(false, target.kind === "Broker" ? "TriggerNotFound" : "SubscriptionNotFound", `${target.kind === "Broker" ? "Trigger" : "Subscription"} "${only}" of ${target.kind} "${target.name}" does not exist`);
      routes = [r.metadata.uid];
    }
    const plan = ctx.plan({ binding: target.binding, name: target.key });
    if (!plan) return { ...base, conditions: [succeeded("Unknown", prev, ctx.now, "TargetNotReady", `${target.kind} "${target.name}" is not ready`)], replayed: 0 };
    (plan.replays ??= []).push({
      uid: obj.metadata.uid, name: obj.metadata.name, from, to, ...(routes ? { routes } : {}),
      ...(Array.isArray(spec.filters) && spec.filters.length ? { filters: spec.filters } : {}),
    });
    const partitions = Number(plan.options?.partitions ?? 1);
    const reports = ctx.progress(obj.metadata.uid);
    const replayed = reports.reduce((n, r) => n + r.replayed, 0);
    const done = reports.filter((r) => r.done).length;
    const last = Math.max(...reports.map((r) => r.position ?? 0), 0);
    const progress = { partitions, partitionsDone: done, ...(last ? { position: new Date(last).toISOString() } : {}) };
    const failed = reports.find((r) => r.error);
    if (failed) return finish(false, "ReplayFailed", `partition ${failed.partition}: ${failed.error}`, { replayed, progress });
    if (done >= partitions) return finish(true, "Completed", `${replayed} event(s) replayed`, { replayed, progress });
    return { ...base, conditions: [succeeded("Unknown", prev, ctx.now, "Replaying", `${done} of ${partitions} partition(s) done`)], replayed, progress };
  },
};

function succeeded(ok: boolean | "Unknown", prev: Condition | undefined, now: string, reason: string, message: string): Condition {
  return condition("Succeeded", ok, prev, now, reason, message);
}

function routeOf(ctx: ReconcileContext, target: ReplayTarget, name: string): Resource | undefined {
  if (target.kind === "Broker") {
    const t = ctx.find("eventing.knative.dev/v1", "Trigger", name);
    return t && t.spec?.broker === target.name ? t : undefined;
  }
  const s = ctx.find(`${MESSAGING}/v1`, "Subscription", name);
  const ch = s?.spec?.channel as { kind?: string; name?: string } | undefined;
  return s && ch?.name === target.name && ch?.kind === target.kind ? s : undefined;
}
