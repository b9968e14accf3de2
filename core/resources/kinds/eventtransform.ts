import type { FieldError } from "../../errors.js";
import { checkExpression } from "../../transform/jsonata.js";
import { addressStatus, Conditions } from "../conditions.js";
import { defaultRefNamespace, specOf } from "../destinations.js";
import type { KindDef } from "../kind.js";
import type { RouteSender, Target } from "../plan.js";
import type { Destination } from "../types.js";
import { isObject, validateDestination } from "../validate.js";
import { senderIdentity, targetAuthorization, withAudience } from "../identity.js";

export const EVENTING_ALPHA = "eventing.knative.dev/v1alpha1";

/** What the EventTransform's object runs (`DispatcherPlan.options.transform`). */
export interface TransformPlan {
  expression: string;
  /** How the sink's reply is answered: transformed by its own expression, or dropped. Only with a sink. */
  reply?: { expression: string } | { discard: true };
  /** Where the transformed event goes; without one, the transformed event is the answer. */
  sink?: Target;
  /** Who the deliveries to the sink say they are from. */
  sender: RouteSender;
}

function validateJsonata(v: unknown, at: string): FieldError[] {
  if (!isObject(v)) return [{ field: at, message: "must be an object with an expression, e.g. {expression: '{\"specversion\": \"1.0\", \"id\": id, ...}'}" }];
  return checkExpression(v.expression, `${at}.expression`);
}

function validateReply(spec: Record<string, unknown>): FieldError[] {
  const reply = spec.reply;
  if (reply === undefined || reply === null) return [];
  if (!isObject(reply)) return [{ field: "spec.reply", message: "must be an object with jsonata or discard" }];
  if (spec.sink === undefined || spec.sink === null) {
    return [{ field: "spec.reply", message: "is set without spec.sink: a reply comes from the sink; without a sink the transformed event is itself the answer" }];
  }
  if (reply.discard !== undefined && typeof reply.discard !== "boolean") return [{ field: "spec.reply.discard", message: "must be true or false" }];
  if (reply.discard === true && reply.jsonata !== undefined) {
    return [{ field: "spec.reply", message: "expected exactly one, got both: jsonata, discard (a reply is either transformed or discarded)" }];
  }
  return reply.jsonata === undefined ? [] : validateJsonata(reply.jsonata, "spec.reply.jsonata");
}

/**
 * `eventing.knative.dev/v1alpha1` EventTransform: an addressable that reshapes each event with a
 * JSONata expression (the whole event in the JSON format in, a CloudEvent out). With `spec.sink`
 * the result is sent there and the sink's answer comes back (its reply transformed by
 * `spec.reply.jsonata`, or dropped with `spec.reply.discard`); without, the result is the answer,
 * so as a Trigger's subscriber it becomes a reply the Broker publishes. Its object (the Source
 * class, key `EventTransform/{ns}/{name}`) compiles the expressions once per plan.
 */
export const EventTransformKind: KindDef = {
  group: "eventing.knative.dev",
  version: "v1alpha1",
  kind: "EventTransform",
  plural: "eventtransforms",
  order: 25,
  addressPath: (ns, name) => `/eventtransforms/${ns}/${name}`,
  dataPlane: (ns, name) => ({ binding: "SOURCE", name: `EventTransform/${ns}/${name}` }),

  defaults(obj, ctx) {
    defaultRefNamespace(specOf(obj).sink, ctx.namespace);
  },

  validate(obj, _old, ctx) {
    const spec = obj.spec;
    if (!isObject(spec) || spec.jsonata === undefined) {
      return [{ field: "spec.jsonata", message: "is required: EventTransform needs exactly one transformation, and jsonata is the one there is" }];
    }
    return [
      ...validateJsonata(spec.jsonata, "spec.jsonata"),
      ...validateDestination(spec.sink, "spec.sink", ctx.namespace, ctx.refs, false),
      ...validateReply(spec),
    ];
  },

  reconcile(obj, ctx) {
    const spec = obj.spec ?? {};
    const name = obj.metadata.name;
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const sink = spec.sink ? ctx.resolve(spec.sink as Destination) : undefined;
    // Knative's TransformationReady follows its Deployment and SinkBinding; here, the sink.
    if (sink?.error) c.set("TransformationReady", false, "SinkNotResolved", `spec.sink: ${sink.error}`);
    else c.set("TransformationReady", true);
    c.set("Addressable", true);
    const authz = targetAuthorization(obj, ctx, c);
    const identity = senderIdentity(obj, ctx, c);
    const ready = c.ready(["TransformationReady", "Addressable", "EventPoliciesReady"]);
    const key = `EventTransform/${ctx.namespace}/${name}`;
    const reply = spec.reply as { discard?: boolean; jsonata?: { expression: string } } | undefined;
    const transform: TransformPlan | undefined = ready ? {
      expression: String((spec.jsonata as { expression: string }).expression),
      ...(reply?.discard ? { reply: { discard: true as const } } : reply?.jsonata ? { reply: { expression: reply.jsonata.expression } } : {}),
      ...(sink?.target ? { sink: sink.target } : {}),
      sender: identity.sender,
    } : undefined;
    ctx.setPlan({ binding: "SOURCE", name: key }, {
      key, kind: "EventTransform", namespace: ctx.namespace, name, uid: obj.metadata.uid, generation: obj.metadata.generation, routes: [],
      options: { ...(transform ? { transform } : {}), auth: authz.auth },
    });
    const url = ctx.addressOf(obj)!;
    return {
      observedGeneration: obj.metadata.generation,
      conditions: c.list(),
      ...withAudience(addressStatus(url), authz.audience, ctx),
      ...(sink?.target ? { sinkUri: sink.target.url } : {}),
      ...(ctx.auth.oidc && sink?.target?.audience ? { sinkAudience: sink.target.audience } : {}),
      ...authz.status,
      ...identity.status,
    };
  },
};
