import type { FieldError } from "../../errors.js";
import { parseDurationMs } from "../../duration.js";
import { toPolicy, type DeliverySpec } from "../../delivery/policy.js";
import { CONTEXT_ATTRIBUTES } from "../../cloudevents/event.js";
import { NAME_RE as ATTRIBUTE_NAME } from "../../cloudevents/validate.js";
import { oidcServiceAccountName, subjectOf } from "../../identity/names.js";
import { partitionCount, validatePartitions } from "../../partitions.js";
import { managingRequestReply, replyTriggerName } from "../../requestreply/managed.js";
import { addressStatus, Conditions, isReady } from "../conditions.js";
import { defaultDeliveryNamespace, specOf } from "../destinations.js";
import type { KindDef } from "../kind.js";
import type { Destination, Resource } from "../types.js";
import { isObject, validateDelivery, validateName } from "../validate.js";
import { internalAuth, senderIdentity, targetAuthorization, withAudience } from "../identity.js";
import { BROKER_LABEL } from "./trigger.js";

/** Knative's default `spec.timeout` (config-features `requestreply-default-timeout`). */
export const DEFAULT_REQUEST_TIMEOUT = "PT30S";
/** The longest wait Eddy holds a request open for. */
export const MAX_REQUEST_TIMEOUT_MS = 10 * 60_000;

/** What a RequestReply shard runs (`DispatcherPlan.options.requestReply`). */
export interface RequestReplyPlan {
  shard: number;
  shards: number;
  correlationAttribute: string;
  replyAttribute: string;
  timeoutMs: number;
  broker: string;
  /** Why requests are refused (503) while the RequestReply is not ready. */
  notReady?: string;
  /** Who may send requests: the RequestReply's EventPolicies. (`options.auth` says who may send replies.) */
  requestAuth: ReturnType<typeof targetAuthorization>["auth"];
}

function validateAttribute(v: unknown, field: string): FieldError[] {
  if (typeof v !== "string" || !ATTRIBUTE_NAME.test(v)) return [{ field, message: `must be a CloudEvents extension name (lower-case letters and digits), got ${JSON.stringify(v)}` }];
  if (CONTEXT_ATTRIBUTES.has(v)) return [{ field, message: `cannot be a core CloudEvents attribute (${[...CONTEXT_ATTRIBUTES].join(", ")}): use an extension such as correlationid` }];
  return [];
}

/** Its reply Triggers that exist and are Ready, out of how many it needs. */
function replyTriggersReady(obj: Resource, shards: number, list: Resource[]): number {
  const mine = new Map(list.filter((t) => managingRequestReply(t)?.uid === obj.metadata.uid).map((t) => [t.metadata.name, t]));
  let ready = 0;
  for (let i = 0; i < shards; i++) if (isReady(mine.get(replyTriggerName(obj.metadata.name, i, shards)))) ready++;
  return ready;
}

/**
 * `eventing.knative.dev/v1alpha1` RequestReply: synchronous request/response over a Broker. A
 * request posted to its address stays open; its event goes to `spec.brokerRef` (with
 * `spec.delivery`) carrying a signed correlation id, and the first event that comes back through
 * the Broker with that id in `spec.replyAttribute` is the answer (504 at `spec.timeout`). Replies
 * come back through Triggers Eddy creates and manages (core/requestreply/managed.ts), one per
 * shard (`eddy.dev/partitions`, default 1); each shard is an object of the Source class.
 */
export const RequestReplyKind: KindDef = {
  group: "eventing.knative.dev",
  version: "v1alpha1",
  kind: "RequestReply",
  plural: "requestreplies",
  order: 25,
  addressPath: (ns, name) => `/requestreplies/${ns}/${name}`,
  dataPlane: (ns, name) => ({ binding: "SOURCE", name: `RequestReply/${ns}/${name}/0` }),
  // Its reply Triggers point at it, and it is Ready only once they are: a ref to it resolves as
  // soon as its Broker is (Knative resolves refs by address, not by Ready).
  refReady: (obj) => obj.status?.conditions?.some((c) => c.type === "BrokerReady" && c.status === "True") ?? false,

  defaults(obj, ctx) {
    const spec = specOf(obj);
    if (spec.timeout === undefined || spec.timeout === "") spec.timeout = DEFAULT_REQUEST_TIMEOUT;
    if (spec.correlationAttribute === undefined || spec.correlationAttribute === "") spec.correlationAttribute = "correlationid";
    if (spec.replyAttribute === undefined || spec.replyAttribute === "") spec.replyAttribute = "replyid";
    defaultDeliveryNamespace(spec.delivery, ctx.namespace);
    const ref = spec.brokerRef;
    if (isObject(ref) && typeof ref.name === "string") ((obj.metadata ??= {}).labels ??= {})[BROKER_LABEL] = ref.name;
  },

  validate(obj, old, ctx) {
    const spec = obj.spec ?? {};
    const errs: FieldError[] = [];
    const ref = spec.brokerRef;
    if (!isObject(ref)) errs.push({ field: "spec.brokerRef", message: "is required: {apiVersion: eventing.knative.dev/v1, kind: Broker, name: ...}" });
    else {
      if (typeof ref.kind !== "string" || ref.kind.toLowerCase() !== "broker") errs.push({ field: "spec.brokerRef.kind", message: `brokerRef kind must be Broker, got ${JSON.stringify(ref.kind)}` });
      errs.push(...validateName(ref.name, "spec.brokerRef.name"));
      if (ref.namespace !== undefined && ref.namespace !== "") errs.push({ field: "spec.brokerRef.namespace", message: "must not be set: the Broker is in the RequestReply's namespace" });
      if (ref.apiVersion !== undefined && ref.apiVersion !== "eventing.knative.dev/v1") errs.push({ field: "spec.brokerRef.apiVersion", message: `must be eventing.knative.dev/v1, got ${JSON.stringify(ref.apiVersion)}` });
    }
    try {
      const ms = parseDurationMs(String(spec.timeout));
      if (ms <= 0) errs.push({ field: "spec.timeout", message: "timeout must be a positive duration" });
      else if (ms > MAX_REQUEST_TIMEOUT_MS) errs.push({ field: "spec.timeout", message: "must be at most PT10M: Eddy holds each request open that long at most" });
    } catch (e) {
      errs.push({ field: "spec.timeout", message: (e as Error).message });
    }
    errs.push(...validateAttribute(spec.correlationAttribute, "spec.correlationAttribute"));
    errs.push(...validateAttribute(spec.replyAttribute, "spec.replyAttribute"));
    if (spec.correlationAttribute === spec.replyAttribute) {
      errs.push({ field: "spec.replyAttribute", message: "must differ from spec.correlationAttribute, or every request would come back as its own reply" });
    }
    errs.push(...validateDelivery(spec.delivery, "spec.delivery", ctx.namespace, ctx.refs));
    errs.push(...validatePartitions(obj.metadata?.annotations, old ? old.metadata.annotations ?? {} : undefined));
    return errs;
  },

  reconcile(obj, ctx) {
    const spec = obj.spec ?? {};
    const ns = ctx.namespace;
    const name = obj.metadata.name;
    const shards = partitionCount(obj.metadata.annotations);
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const brokerName = String((spec.brokerRef as { name: string }).name);
    const broker = ctx.find("eventing.knative.dev/v1", "Broker", brokerName);
    const target = broker ? ctx.resolve({ ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: brokerName, namespace: ns } }) : undefined;
    if (!broker) c.set("BrokerReady", "Unknown", "NotFound", `could not get broker: Broker "${brokerName}" does not exist`);
    else if (!target?.target) c.set("BrokerReady", false, "NotReady", `broker is not ready: ${target?.error ?? ""}`);
    else c.set("BrokerReady", true);
    const delivery = spec.delivery as DeliverySpec | undefined;
    const dls = delivery?.deadLetterSink ? ctx.resolve(delivery.deadLetterSink as Destination) : undefined;
    if (dls?.error) c.set("DeadLetterSinkResolved", false, "DeadLetterSinkResolveFailed", dls.error);
    else c.set("DeadLetterSinkResolved", true);
    const readyReplicas = replyTriggersReady(obj, shards, ctx.list("eventing.knative.dev/v1", "Trigger"));
    if (readyReplicas === shards) c.set("TriggersReady", true);
    else c.set("TriggersReady", "Unknown", "TriggersNotReady", "not all triggers are ready yet");
    c.set("Addressable", true);
    const authz = targetAuthorization(obj, ctx, c);
    const identity = senderIdentity(obj, ctx, c);
    const ready = c.ready(["TriggersReady", "Addressable", "EventPoliciesReady", "BrokerReady", "DeadLetterSinkResolved"]);
    const why = c.list().find((x) => x.type === "Ready");
    const triggerSenders = Array.from({ length: shards }, (_, i) => ({
      subject: subjectOf(ns, oidcServiceAccountName(replyTriggerName(name, i, shards), "eventing.knative.dev", "Trigger")), issuer: ctx.baseUrl,
    }));
    for (let i = 0; i < shards; i++) {
      const key = `RequestReply/${ns}/${name}/${i}`;
      const rr: RequestReplyPlan = {
        shard: i, shards, correlationAttribute: String(spec.correlationAttribute), replyAttribute: String(spec.replyAttribute),
        timeoutMs: parseDurationMs(String(spec.timeout)), broker: brokerName, requestAuth: authz.auth,
        ...(ready ? {} : { notReady: `RequestReply "${name}" is not ready (${why?.reason ?? "Unknown"}: ${why?.message ?? ""})` }),
      };
      ctx.setPlan({ binding: "SOURCE", name: key }, {
        key, kind: "RequestReply", namespace: ns, name, uid: obj.metadata.uid, generation: obj.metadata.generation,
        // The forward leg: the request's event into the Broker, with spec.delivery's retries and dead-letter sink.
        routes: target?.target ? [{
          uid: `${obj.metadata.uid}/forward`, kind: "RequestReply", name, subscriber: target.target, policy: toPolicy(delivery),
          ...(dls?.target ? { deadLetter: dls.target } : {}), sender: identity.sender,
        }] : [],
        // Replies are posted by its reply Triggers only.
        options: { requestReply: rr, auth: internalAuth(authz.audience, triggerSenders) },
      });
    }
    return {
      observedGeneration: obj.metadata.generation,
      conditions: c.list(),
      ...withAudience(addressStatus(ctx.addressOf(obj)!), authz.audience, ctx),
      ...(target?.target ? { annotations: { "knative.dev/brokerAddress": target.target.url, ...(ctx.auth.oidc && target.target.audience ? { "knative.dev/brokerAudience": target.target.audience } : {}) } } : {}),
      desiredReplicas: shards,
      readyReplicas,
      ...authz.status,
      ...identity.status,
    };
  },
};
