import { type FieldError, showValue } from "../../errors.js";
import { toPolicy, type DeliverySpec } from "../../delivery/policy.js";
import { validateTriggerFilters, type TriggerFilterSpec } from "../../filters/index.js";
import { Conditions } from "../conditions.js";
import { markDependency, validateDependency } from "../dependency.js";
import type { KindDef } from "../kind.js";
import type { Destination } from "../types.js";
import { isObject, validateDelivery, validateDestination, validateName } from "../validate.js";
import { BrokerKind } from "./broker.js";
import { routeFlow, validateRouteFlow } from "../flow.js";
import { senderIdentity, signingSecret } from "../identity.js";
import { validateSigningSecret } from "../../identity/webhook-signature.js";

export const BROKER_LABEL = "eventing.knative.dev/broker";

/**
 * `eventing.knative.dev/v1` Trigger: a filter and a subscriber attached to a Broker. It may exist
 * before its Broker (Ready=False, BrokerDoesNotExist) and becomes a route of that Broker once ready;
 * a `knative.dev/dependency` annotation makes it wait for that resource too (DependencyReady).
 */
export const TriggerKind: KindDef = {
  group: "eventing.knative.dev",
  version: "v1",
  kind: "Trigger",
  plural: "triggers",
  order: 20,

  defaults(obj, ctx) {
    const spec = (obj.spec ??= {});
    if (spec.filter === undefined || spec.filter === null) spec.filter = {};
    const sub = spec.subscriber;
    if (isObject(sub) && isObject(sub.ref) && sub.ref.namespace === undefined) sub.ref.namespace = ctx.namespace;
    const dls = isObject(spec.delivery) ? spec.delivery.deadLetterSink : undefined;
    if (isObject(dls) && isObject(dls.ref) && dls.ref.namespace === undefined) dls.ref.namespace = ctx.namespace;
    if (typeof spec.broker === "string") {
      const meta = (obj.metadata ??= {});
      (meta.labels ??= {})[BROKER_LABEL] = spec.broker;
    }
  },

  validate(obj, old, ctx) {
    const spec = obj.spec;
    if (!isObject(spec)) return [{ field: "spec", message: "is required: a Trigger needs spec.broker and spec.subscriber" }];
    const errs: FieldError[] = [];
    if (spec.brokerRef !== undefined) {
      errs.push({ field: "spec.brokerRef", message: "is not supported; name the Broker in spec.broker" });
    }
    errs.push(...validateName(spec.broker, "spec.broker"));
    if (old && old.spec?.broker !== spec.broker) {
      errs.push({
        field: "spec.broker",
        message: `is immutable: it is ${showValue(old.spec?.broker)} and cannot become ${showValue(spec.broker)}; create a new Trigger instead`,
      });
    }
    errs.push(...validateTriggerFilters(spec as TriggerFilterSpec, "spec"));
    errs.push(...validateDestination(spec.subscriber, "spec.subscriber", ctx.namespace, ctx.refs));
    errs.push(...validateDelivery(spec.delivery, "spec.delivery", ctx.namespace, ctx.refs));
    errs.push(...validateDependency(obj.metadata?.annotations, ctx.namespace));
    errs.push(...validateRouteFlow(obj.metadata?.annotations));
    errs.push(...validateSigningSecret(obj.metadata?.annotations));
    return errs;
  },

  reconcile(obj, ctx) {
    const spec = obj.spec ?? {};
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const brokerName = String(spec.broker);
    const broker = ctx.find("eventing.knative.dev/v1", BrokerKind.kind, brokerName);
    const brokerReady = broker?.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false;
    if (!broker) c.set("BrokerReady", false, "BrokerDoesNotExist", `Broker "${brokerName}" does not exist`);
    else if (!brokerReady) c.set("BrokerReady", false, "BrokerNotReady", `Broker "${brokerName}" is not ready`);
    else c.set("BrokerReady", true);

    const sub = ctx.resolve(spec.subscriber as Destination);
    if (sub.error) c.set("SubscriberResolved", false, "SubscriberResolveFailed", sub.error);
    else c.set("SubscriberResolved", true);

    // A Trigger's delivery replaces the Broker's as a whole (no field-level merge), as in Knative.
    const delivery = (spec.delivery ?? broker?.spec?.delivery ?? undefined) as DeliverySpec | undefined;
    const dls = delivery?.deadLetterSink ? ctx.resolve(delivery.deadLetterSink as Destination) : undefined;
    if (dls?.error) c.set("DeadLetterSinkResolved", false, "DeadLetterSinkResolveFailed", dls.error);
    else c.set("DeadLetterSinkResolved", true);

    // A Trigger waiting for its knative.dev/dependency is not ready and gets no events yet.
    markDependency(c, obj.metadata.annotations, ctx);
    const identity = senderIdentity(obj, ctx, c);
    const signing = signingSecret(obj, ctx, c);

    const ready = c.ready(["BrokerReady", "DependencyReady", "SubscriberResolved", "DeadLetterSinkResolved", "OIDCIdentityCreated", "SigningSecretResolved"]);
    const plan = ctx.plan({ binding: "BROKER", name: `${ctx.namespace}/${brokerName}` });
    if (ready && plan && sub.target) {
      plan.routes.push({
        uid: obj.metadata.uid,
        kind: "Trigger",
        name: obj.metadata.name,
        filter: { filter: spec.filter as TriggerFilterSpec["filter"], filters: spec.filters as unknown[] | undefined },
        subscriber: sub.target,
        ...(dls?.target ? { deadLetter: dls.target } : {}),
        policy: toPolicy(delivery),
        ...routeFlow(obj.metadata.annotations),
        sender: identity.sender,
        ...signing,
      });
    }
    const status: Record<string, unknown> = { observedGeneration: obj.metadata.generation, conditions: c.list(), ...identity.status };
    if (sub.target) status.subscriberUri = sub.target.url;
    if (dls?.target) status.deadLetterSinkUri = dls.target.url;
    if (ctx.auth.oidc && sub.target?.audience) status.subscriberAudience = sub.target.audience;
    if (ctx.auth.oidc && dls?.target?.audience) status.deadLetterSinkAudience = dls.target.audience;
    return status;
  },
};
