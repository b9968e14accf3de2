import type { FieldError } from "../../errors.js";
import type { DeliverySpec } from "../../delivery/policy.js";
import { deadLetterRetentionMs, partitionCount, validateDeadLetterRetention, validatePartitions } from "../../partitions.js";
import { channelSubscribers, defaultSubscribable } from "../channelable.js";
import { addressStatus, Conditions } from "../conditions.js";
import { archiveRetentionMs, validateArchiveRetention } from "../../archive.js";
import { targetAuthorization, withAudience } from "../identity.js";
import { placementField, validatePlacement } from "../../placement.js";
import { eventTypeReference } from "../eventtypes.js";
import { defaultDeliveryNamespace, specOf } from "../destinations.js";
import type { KindDef } from "../kind.js";
import type { Destination } from "../types.js";
import { isObject, validateDelivery } from "../validate.js";

export const MESSAGING = "messaging.knative.dev";
const DEFAULT_TEMPLATE = { apiVersion: "messaging.knative.dev/v1", kind: "InMemoryChannel" };

/**
 * `messaging.knative.dev/v1` InMemoryChannel and Channel. Both are served by Eddy's durable
 * channel (a Channel DO): whatever kind a Channel's `channelTemplate` names, the events are stored
 * before 202 and survive restarts — "InMemory" is kept as a name so Knative manifests apply as they are.
 */
function channelKind(kind: "Channel" | "InMemoryChannel", plural: string): KindDef {
  return {
    group: MESSAGING,
    version: "v1",
    kind,
    plural,
    order: 10,
    addressPath: (ns, name) => `/${plural}/${ns}/${name}`,
    dataPlane: (ns, name) => ({ binding: "CHANNEL", name: `${kind}/${ns}/${name}` }),
    // The Channelable duck's spec.subscribers, filled from the Subscriptions as Knative's
    // Subscription reconciler does; on a generic Channel too, which has no backing channel here.
    serverOwnedSpec: { subscribers: "to change a channel's subscribers, create, change or delete a Subscription" },
    deriveSpec: channelSubscribers,

    defaults(obj, ctx) {
      defaultSubscribable(obj);
      const spec = specOf(obj);
      if (kind === "Channel" && spec.channelTemplate === undefined) spec.channelTemplate = { ...DEFAULT_TEMPLATE };
      defaultDeliveryNamespace(spec.delivery, ctx.namespace);
    },

    validate(obj, old, ctx) {
      const spec = obj.spec ?? {};
      const errs: FieldError[] = [...validateDelivery(spec.delivery, "spec.delivery", ctx.namespace, ctx.refs)];
      errs.push(...validatePartitions(obj.metadata?.annotations, old ? old.metadata.annotations ?? {} : undefined));
      errs.push(...validatePlacement(obj.metadata?.annotations, old ? old.metadata.annotations ?? {} : undefined));
      errs.push(...validateDeadLetterRetention(obj.metadata?.annotations));
      errs.push(...validateArchiveRetention(obj.metadata?.annotations));
      if (kind === "Channel") {
        const t = spec.channelTemplate;
        if (!isObject(t) || typeof t.apiVersion !== "string" || typeof t.kind !== "string") {
          errs.push({ field: "spec.channelTemplate", message: "must name an apiVersion and a kind (any kind is served by Eddy's durable channel)" });
        } else if (old && JSON.stringify(old.spec?.channelTemplate) !== JSON.stringify(t)) {
          errs.push({ field: "spec.channelTemplate", message: "is immutable; delete and recreate the Channel to change it" });
        }
      } else if (spec.channelTemplate !== undefined) {
        errs.push({ field: "spec.channelTemplate", message: "is only for Channel; an InMemoryChannel is already concrete" });
      }
      return errs;
    },

    reconcile(obj, ctx) {
      const c = new Conditions(obj.status?.conditions, ctx.now);
      const url = ctx.addressOf(obj)!;
      c.set("Addressable", true);
      const delivery = obj.spec?.delivery as DeliverySpec | undefined;
      const dls = delivery?.deadLetterSink ? ctx.resolve(delivery.deadLetterSink as Destination) : undefined;
      if (dls?.error) c.set("DeadLetterSinkResolved", false, "DeadLetterSinkResolveFailed", dls.error);
      else c.set("DeadLetterSinkResolved", true);
      const authz = targetAuthorization(obj, ctx, c);
      c.ready(["Addressable", "DeadLetterSinkResolved", "EventPoliciesReady"]);
      const key = `${kind}/${ctx.namespace}/${obj.metadata.name}`;
      ctx.setPlan({ binding: "CHANNEL", name: key }, {
        key, kind, namespace: ctx.namespace, name: obj.metadata.name, uid: obj.metadata.uid, generation: obj.metadata.generation, routes: [],
        options: {
          eventTypes: eventTypeReference(`${MESSAGING}/v1`, kind, obj.metadata.name, ctx.namespace, obj.metadata.annotations),
          partitions: partitionCount(obj.metadata.annotations),
          ...placementField(obj.metadata.annotations),
          deadLetterRetentionMs: deadLetterRetentionMs(obj.metadata.annotations),
          archiveRetentionMs: archiveRetentionMs(obj.metadata.annotations),
          auth: authz.auth,
        },
      });
      const subscribers = ctx.list(`${MESSAGING}/v1`, "Subscription")
        .filter((s) => {
          const ch = s.spec?.channel as { kind?: string; name?: string } | undefined;
          return ch?.kind === kind && ch?.name === obj.metadata.name;
        })
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
        .map((s) => {
          const ready = s.status?.conditions?.find((x) => x.type === "Ready");
          return {
            uid: s.metadata.uid,
            observedGeneration: s.metadata.generation,
            ready: ready?.status ?? "Unknown",
            ...(ready?.status === "False" && ready.message ? { message: ready.message } : {}),
          };
        });
      const status: Record<string, unknown> = {
        observedGeneration: obj.metadata.generation,
        conditions: c.list(),
        ...withAudience(addressStatus(url), authz.audience, ctx),
        subscribers,
        ...authz.status,
        ...placementField(obj.metadata.annotations),
      };
      if (dls?.target) status.deadLetterSinkUri = dls.target.url;
      return status;
    },
  };
}

export const InMemoryChannelKind = channelKind("InMemoryChannel", "inmemorychannels");
export const ChannelKind = channelKind("Channel", "channels");
