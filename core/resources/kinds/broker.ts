import type { FieldError } from "../../errors.js";
import type { DeliverySpec } from "../../delivery/policy.js";
import { addressStatus, Conditions } from "../conditions.js";
import { eventTypeReference } from "../eventtypes.js";
import type { KindDef } from "../kind.js";
import { isObject, validateDelivery } from "../validate.js";
import { deadLetterRetentionMs, partitionCount, validateDeadLetterRetention, validatePartitions } from "../../partitions.js";
import { archiveRetentionMs, validateArchiveRetention } from "../../archive.js";
import { targetAuthorization, withAudience } from "../identity.js";
import { placementField, validatePlacement } from "../../placement.js";

export const BROKER_CLASS_ANNOTATION = "eventing.knative.dev/broker.class";
/** Eddy serves every broker class; a Broker without one gets this. */
export const DEFAULT_BROKER_CLASS = "Eddy";
/** Knative's config-br-defaults: what a Broker without `spec.delivery` gets. */
export const DEFAULT_BROKER_DELIVERY: DeliverySpec = { retry: 10, backoffPolicy: "exponential", backoffDelay: "PT0.2S" };

/**
 * `eventing.knative.dev/v1` Broker: an addressable event mesh. Its ingress is served at
 * `/brokers/{namespace}/{name}`; its Triggers become the routes of one Broker Durable Object.
 */
export const BrokerKind: KindDef = {
  group: "eventing.knative.dev",
  version: "v1",
  kind: "Broker",
  plural: "brokers",
  order: 10,
  addressPath: (ns, name) => `/brokers/${ns}/${name}`,
  dataPlane: (ns, name) => ({ binding: "BROKER", name: `${ns}/${name}` }),

  defaults(obj) {
    const meta = (obj.metadata ??= {});
    const ann = (meta.annotations ??= {});
    ann[BROKER_CLASS_ANNOTATION] ??= DEFAULT_BROKER_CLASS;
    const spec = (obj.spec ??= {});
    if (spec.delivery === undefined || spec.delivery === null) spec.delivery = { ...DEFAULT_BROKER_DELIVERY };
  },

  validate(obj, old, ctx) {
    const errs: FieldError[] = [];
    const spec = obj.spec ?? {};
    if (!isObject(spec)) return [{ field: "spec", message: "must be an object" }];
    errs.push(...validateDelivery(spec.delivery, "spec.delivery", ctx.namespace, ctx.refs));
    errs.push(...validatePartitions(obj.metadata?.annotations, old ? old.metadata.annotations ?? {} : undefined));
    errs.push(...validatePlacement(obj.metadata?.annotations, old ? old.metadata.annotations ?? {} : undefined));
    errs.push(...validateDeadLetterRetention(obj.metadata?.annotations));
    errs.push(...validateArchiveRetention(obj.metadata?.annotations));
    if (spec.config !== undefined && !isObject(spec.config)) errs.push({ field: "spec.config", message: "must be an object (a KReference)" });
    if (old) {
      const was = old.metadata.annotations?.[BROKER_CLASS_ANNOTATION];
      const now = obj.metadata?.annotations?.[BROKER_CLASS_ANNOTATION];
      if (was !== now) {
        errs.push({
          field: `metadata.annotations.${BROKER_CLASS_ANNOTATION}`,
          message: `is immutable: it is "${was}" and cannot become "${now}"; delete and recreate the Broker to change its class`,
        });
      }
      if (JSON.stringify(old.spec?.config ?? null) !== JSON.stringify(spec.config ?? null)) {
        errs.push({ field: "spec.config", message: "is immutable; delete and recreate the Broker to change it" });
      }
    }
    return errs;
  },

  reconcile(obj, ctx) {
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const url = ctx.addressOf(obj);
    c.set("Addressable", true);
    const delivery = (obj.spec?.delivery ?? undefined) as DeliverySpec | undefined;
    const dls = delivery?.deadLetterSink ? ctx.resolve(delivery.deadLetterSink as never) : undefined;
    if (dls?.error) c.set("DeadLetterSinkResolved", false, "DeadLetterSinkResolveFailed", dls.error);
    else c.set("DeadLetterSinkResolved", true);
    const authz = targetAuthorization(obj, ctx, c);
    c.ready(["Addressable", "DeadLetterSinkResolved", "EventPoliciesReady"]);
    const key = `${ctx.namespace}/${obj.metadata.name}`;
    ctx.setPlan({ binding: "BROKER", name: key }, {
      key,
      kind: "Broker",
      namespace: ctx.namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      generation: obj.metadata.generation,
      routes: [],
      options: {
        eventTypes: eventTypeReference("eventing.knative.dev/v1", "Broker", obj.metadata.name, ctx.namespace, obj.metadata.annotations),
        partitions: partitionCount(obj.metadata.annotations),
        ...placementField(obj.metadata.annotations),
        deadLetterRetentionMs: deadLetterRetentionMs(obj.metadata.annotations),
        archiveRetentionMs: archiveRetentionMs(obj.metadata.annotations),
        auth: authz.auth,
      },
    });
    const status: Record<string, unknown> = {
      observedGeneration: obj.metadata.generation,
      conditions: c.list(),
      ...(url ? withAudience(addressStatus(url), authz.audience, ctx) : {}),
      ...authz.status,
      ...placementField(obj.metadata.annotations),
    };
    if (dls?.target) status.deadLetterSinkUri = dls.target.url;
    return status;
  },
};
