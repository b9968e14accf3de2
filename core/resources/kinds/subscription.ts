import { type FieldError, showValue } from "../../errors.js";
import { toPolicy, type DeliverySpec } from "../../delivery/policy.js";
import { routeFlow, validateRouteFlow } from "../flow.js";
import { senderIdentity, signingSecret } from "../identity.js";
import { validateSigningSecret } from "../../identity/webhook-signature.js";
import { Conditions } from "../conditions.js";
import { defaultDeliveryNamespace, defaultRefNamespace, specOf } from "../destinations.js";
import type { KindDef } from "../kind.js";
import type { Destination } from "../types.js";
import { isObject, validateDelivery, validateDestination } from "../validate.js";
import { MESSAGING } from "./channel.js";

const CHANNEL_KINDS = new Set(["Channel", "InMemoryChannel"]);

/**
 * `messaging.knative.dev/v1` Subscription: a subscriber (and optional reply) on a Channel. Its
 * `delivery` replaces the Channel's as a whole. It becomes a route of the Channel's Durable Object.
 */
export const SubscriptionKind: KindDef = {
  group: MESSAGING,
  version: "v1",
  kind: "Subscription",
  plural: "subscriptions",
  order: 20,

  defaults(obj, ctx) {
    const spec = specOf(obj);
    defaultRefNamespace(spec.subscriber, ctx.namespace);
    defaultRefNamespace(spec.reply, ctx.namespace);
    defaultDeliveryNamespace(spec.delivery, ctx.namespace);
  },

  validate(obj, old, ctx) {
    const spec = obj.spec;
    if (!isObject(spec)) return [{ field: "spec", message: "is required: a Subscription needs spec.channel and spec.subscriber" }];
    const errs: FieldError[] = [];
    const ch = spec.channel;
    if (!isObject(ch)) errs.push({ field: "spec.channel", message: "is required: a reference {apiVersion, kind, name} to a Channel or InMemoryChannel" });
    else {
      if (ch.apiVersion !== `${MESSAGING}/v1` || typeof ch.kind !== "string" || !CHANNEL_KINDS.has(ch.kind)) {
        errs.push({ field: "spec.channel", message: `must reference a Channel or InMemoryChannel of ${MESSAGING}/v1, got kind ${showValue(ch.kind)} of ${showValue(ch.apiVersion)}` });
      }
      if (typeof ch.name !== "string" || ch.name === "") errs.push({ field: "spec.channel.name", message: "is required" });
      if (ch.namespace !== undefined && ch.namespace !== ctx.namespace) {
        errs.push({ field: "spec.channel.namespace", message: `must be "${ctx.namespace}": a Subscription lives beside its Channel` });
      }
    }
    if (old && JSON.stringify(old.spec?.channel) !== JSON.stringify(spec.channel)) {
      errs.push({ field: "spec.channel", message: "is immutable; create a new Subscription for another channel" });
    }
    errs.push(...validateDestination(spec.subscriber, "spec.subscriber", ctx.namespace, ctx.refs));
    errs.push(...validateDestination(spec.reply, "spec.reply", ctx.namespace, ctx.refs, false));
    errs.push(...validateDelivery(spec.delivery, "spec.delivery", ctx.namespace, ctx.refs));
    errs.push(...validateRouteFlow(obj.metadata?.annotations));
    errs.push(...validateSigningSecret(obj.metadata?.annotations));
    return errs;
  },

  reconcile(obj, ctx) {
    const spec = obj.spec ?? {};
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const ref = spec.channel as { kind: string; name: string };
    const channel = ctx.find(`${MESSAGING}/v1`, ref.kind, ref.name);
    const channelReady = channel?.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false;
    if (!channel) c.set("ChannelReady", false, "ChannelDoesNotExist", `${ref.kind} "${ref.name}" does not exist`);
    else if (!channelReady) c.set("ChannelReady", false, "ChannelNotReady", `${ref.kind} "${ref.name}" is not ready`);
    else c.set("ChannelReady", true);

    const sub = ctx.resolve(spec.subscriber as Destination);
    const reply = spec.reply ? ctx.resolve(spec.reply as Destination) : undefined;
    const delivery = (spec.delivery ?? channel?.spec?.delivery ?? undefined) as DeliverySpec | undefined;
    const dls = delivery?.deadLetterSink ? ctx.resolve(delivery.deadLetterSink as Destination) : undefined;
    const failed = [sub, reply, dls].find((r) => r?.error);
    // Knative's condition names: ReferencesResolved, and AddedToChannel once the channel exists and
    // every destination resolved (Unknown until then, as Knative initialises it).
    if (failed) c.set("ReferencesResolved", false, "DestinationResolveFailed", failed.error);
    else c.set("ReferencesResolved", true);
    c.set("AddedToChannel", channel && !failed ? true : "Unknown");
    const identity = senderIdentity(obj, ctx, c);
    const signing = signingSecret(obj, ctx, c);
    const ready = c.ready(["ChannelReady", "ReferencesResolved", "OIDCIdentityCreated", "SigningSecretResolved"]);

    const plan = ctx.plan({ binding: "CHANNEL", name: `${ref.kind}/${ctx.namespace}/${ref.name}` });
    if (ready && plan && sub.target) {
      plan.routes.push({
        uid: obj.metadata.uid,
        kind: "Subscription",
        name: obj.metadata.name,
        subscriber: sub.target,
        ...(reply?.target ? { reply: reply.target } : {}),
        ...(dls?.target ? { deadLetter: dls.target } : {}),
        policy: toPolicy(delivery),
        ...routeFlow(obj.metadata.annotations),
        sender: identity.sender,
        ...signing,
      });
    }
    const physical: Record<string, string> = {};
    const audience = (field: string, t: { audience?: string } | undefined) => {
      if (ctx.auth.oidc && t?.audience) physical[field] = t.audience;
    };
    if (sub.target) physical.subscriberUri = sub.target.url;
    audience("subscriberAudience", sub.target);
    if (reply?.target) physical.replyUri = reply.target.url;
    audience("replyAudience", reply?.target);
    if (dls?.target) physical.deadLetterSinkUri = dls.target.url;
    audience("deadLetterSinkAudience", dls?.target);
    return { observedGeneration: obj.metadata.generation, conditions: c.list(), physicalSubscription: physical, ...identity.status };
  },
};
