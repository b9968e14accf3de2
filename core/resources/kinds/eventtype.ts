import type { FieldError } from "../../errors.js";
import { Conditions } from "../conditions.js";
import type { KindDef } from "../kind.js";
import { isObject } from "../validate.js";

const REQUIRED = ["type", "source", "specversion", "id"];
export const AUTO_CREATED_LABEL = "eddy.dev/auto-created";

/**
 * `eventing.knative.dev/v1beta3` EventType: a description of events that flow through an
 * addressable (`spec.reference`). Eddy creates one per (type, source) first seen at a Broker,
 * Channel or source; listing them answers "what events flow here?".
 */
export const EventTypeKind: KindDef = {
  group: "eventing.knative.dev",
  version: "v1beta3",
  kind: "EventType",
  plural: "eventtypes",
  order: 50,

  defaults(obj, ctx) {
    const spec = (obj.spec ??= {});
    if (isObject(spec.reference) && spec.reference.namespace === undefined) spec.reference.namespace = ctx.namespace;
    // Knative's `required` is a plain bool (no omitempty): an attribute without it reads as false.
    if (Array.isArray(spec.attributes)) for (const a of spec.attributes) if (isObject(a)) a.required ??= false;
  },

  validate(obj, old) {
    const spec = obj.spec ?? {};
    const errs: FieldError[] = [];
    const attrs = spec.attributes;
    if (!Array.isArray(attrs)) errs.push({ field: "spec.attributes", message: `must list attribute definitions including ${REQUIRED.join(", ")}` });
    else {
      attrs.forEach((a, i) => {
        if (!isObject(a) || typeof a.name !== "string" || !/^[a-z0-9]+$/.test(a.name)) errs.push({ field: `spec.attributes[${i}].name`, message: "must be a CloudEvents attribute name" });
        else if (a.value !== undefined && typeof a.value !== "string") errs.push({ field: `spec.attributes[${i}].value`, message: "must be a string" });
        else if (typeof a.required !== "boolean") errs.push({ field: `spec.attributes[${i}].required`, message: `must be true or false, got ${JSON.stringify(a.required)}` });
      });
      const names = new Set(attrs.map((a) => (isObject(a) ? a.name : undefined)));
      for (const r of REQUIRED) if (!names.has(r)) errs.push({ field: "spec.attributes", message: `must include the required attribute "${r}"` });
    }
    const ref = spec.reference;
    if (ref !== undefined && (!isObject(ref) || typeof ref.kind !== "string" || typeof ref.name !== "string" || typeof ref.apiVersion !== "string")) {
      errs.push({ field: "spec.reference", message: "must be a reference {apiVersion, kind, name}" });
    }
    if (old && JSON.stringify(old.spec) !== JSON.stringify(obj.spec)) errs.push({ field: "spec", message: "is immutable; create a new EventType" });
    return errs;
  },

  reconcile(obj, ctx) {
    const c = new Conditions(obj.status?.conditions, ctx.now);
    const ref = obj.spec?.reference as { apiVersion: string; kind: string; name: string } | undefined;
    if (ref && !ctx.find(ref.apiVersion, ref.kind, ref.name)) c.set("ReferenceExists", false, "ResourceDoesNotExist", `${ref.kind} "${ref.name}" does not exist`);
    else c.set("ReferenceExists", true);
    c.ready(["ReferenceExists"]);
    return { observedGeneration: obj.metadata.generation, conditions: c.list() };
  },
};
