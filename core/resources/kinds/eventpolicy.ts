import type { FieldError } from "../../errors.js";
import { validateFilters } from "../../filters/index.js";
import { oidcServiceAccountName, subjectOf } from "../../identity/names.js";
import { validateSelector } from "../../identity/selector.js";
import { Conditions } from "../conditions.js";
import { groupOf } from "../identity.js";
import type { KindDef } from "../kind.js";
import { isObject } from "../validate.js";

/**
 * Kinds whose sender identity a `from.ref` may name (they send as `status.auth.serviceAccountName`),
 * by group/kind, with the apiVersion Eddy serves them at: a ref may name any version of the group.
 */
const SENDERS: Record<string, string> = {
  "eventing.knative.dev/Trigger": "eventing.knative.dev/v1",
  "messaging.knative.dev/Subscription": "messaging.knative.dev/v1",
  "sources.knative.dev/PingSource": "sources.knative.dev/v1",
  "sources.eddy.dev/WebhookSource": "sources.eddy.dev/v1alpha1",
  "eventing.knative.dev/EventTransform": "eventing.knative.dev/v1alpha1",
  "eventing.knative.dev/RequestReply": "eventing.knative.dev/v1alpha1",
};
/** Kinds a `to` entry may name: Eddy's addressables that take tokens. */
const TARGETS = new Set([
  "eventing.knative.dev/Broker", "messaging.knative.dev/Channel", "messaging.knative.dev/InMemoryChannel", "flows.knative.dev/Sequence", "flows.knative.dev/Parallel",
  "eventing.knative.dev/EventTransform", "eventing.knative.dev/RequestReply",
]);
const TARGET_LIST = "Broker, Channel, InMemoryChannel, Sequence, Parallel, EventTransform or RequestReply";

function validateRefFields(ref: unknown, at: string): FieldError[] {
  if (!isObject(ref)) return [{ field: at, message: "must be an object with apiVersion, kind and name" }];
  const errs: FieldError[] = [];
  for (const k of ["apiVersion", "kind", "name"] as const) {
    if (typeof ref[k] !== "string" || ref[k] === "") errs.push({ field: `${at}.${k}`, message: "is required" });
  }
  return errs;
}

function validateTo(to: unknown): FieldError[] {
  if (to === undefined || to === null) return [];
  if (!Array.isArray(to)) return [{ field: "spec.to", message: `must be a list of {ref} or {selector} naming a ${TARGET_LIST}; leave it out to cover every addressable of the namespace` }];
  const errs: FieldError[] = [];
  to.forEach((t, i) => {
    const at = `spec.to[${i}]`;
    if (!isObject(t)) return void errs.push({ field: at, message: "must be an object with a ref or a selector" });
    if ((t.ref === undefined) === (t.selector === undefined)) return void errs.push({ field: at, message: "needs exactly one of ref or selector" });
    const which = t.ref !== undefined ? "ref" : "selector";
    const v = t[which];
    if (which === "ref") errs.push(...validateRefFields(v, `${at}.ref`));
    else if (!isObject(v) || typeof v.apiVersion !== "string" || typeof v.kind !== "string") {
      return void errs.push({ field: `${at}.selector`, message: "needs apiVersion and kind, with matchLabels and/or matchExpressions" });
    } else errs.push(...validateSelector(v, `${at}.selector`));
    if (!isObject(v) || typeof v.apiVersion !== "string" || typeof v.kind !== "string") return;
    const key = `${groupOf(v.apiVersion)}/${v.kind}`;
    if (key === "sources.eddy.dev/WebhookSource") {
      errs.push({ field: `${at}.${which}`, message: "a WebhookSource is public: it verifies the provider's signature instead of a token, so EventPolicies do not apply to it" });
    } else if (!TARGETS.has(key)) {
      errs.push({ field: `${at}.${which}.kind`, message: `${v.kind} (${v.apiVersion}) is not an addressable of Eddy that takes tokens; name a ${TARGET_LIST}` });
    }
  });
  return errs;
}

function validateFrom(from: unknown): FieldError[] {
  if (from === undefined || from === null) return [];
  if (!Array.isArray(from)) return [{ field: "spec.from", message: "must be a list of {ref} to a sender or {sub} with a subject" }];
  const errs: FieldError[] = [];
  from.forEach((f, i) => {
    const at = `spec.from[${i}]`;
    if (!isObject(f)) return void errs.push({ field: at, message: "must be an object with a ref or a sub" });
    const hasSub = f.sub !== undefined && f.sub !== null && f.sub !== "";
    if (f.ref === undefined && !hasSub) return void errs.push({ field: at, message: "needs one of ref or sub" });
    if (f.ref !== undefined && f.sub !== undefined) return void errs.push({ field: at, message: "needs exactly one of ref or sub, not both" });
    if (f.ref !== undefined) {
      const e = validateRefFields(f.ref, `${at}.ref`);
      errs.push(...e);
      const r = f.ref as Record<string, unknown>;
      if (e.length === 0 && !SENDERS[`${groupOf(String(r.apiVersion))}/${String(r.kind)}`]) {
        errs.push({ field: `${at}.ref.kind`, message: `${String(r.kind)} (${String(r.apiVersion)}) has no sender identity in Eddy; name a Trigger, Subscription, PingSource or WebhookSource, or give the subject in sub` });
      }
      return;
    }
    if (typeof f.sub !== "string") return void errs.push({ field: `${at}.sub`, message: "must be a string such as system:serviceaccount:<namespace>:<name>" });
    const star = f.sub.indexOf("*");
    if (star >= 0 && star !== f.sub.length - 1) errs.push({ field: `${at}.sub`, message: `"${f.sub}": '*' is only allowed as the last character (a prefix wildcard)` });
  });
  return errs;
}

/**
 * `eventing.knative.dev/v1alpha1` EventPolicy: who may send to which addressables. `spec.to` names
 * targets by ref or label selector (none: every addressable of the namespace); `spec.from` names
 * senders by ref (a Trigger, Subscription or source: its OIDC identity) or by subject, with a
 * trailing `*` as a prefix wildcard; `spec.filters` (the Trigger dialects) must all pass too.
 * `status.from` lists the resolved subjects, which the data plane compares with the token's `sub`.
 */
export const EventPolicyKind: KindDef = {
  group: "eventing.knative.dev",
  version: "v1alpha1",
  kind: "EventPolicy",
  plural: "eventpolicies",
  // Before the addressables: they list the Ready policies that apply to them.
  order: 5,

  defaults(obj, ctx) {
    const from = obj.spec?.from;
    if (!Array.isArray(from)) return;
    for (const f of from) if (isObject(f) && isObject(f.ref) && (f.ref.namespace === undefined || f.ref.namespace === "")) f.ref.namespace = ctx.namespace;
  },

  validate(obj) {
    const spec = obj.spec ?? {};
    return [...validateTo(spec.to), ...validateFrom(spec.from), ...validateFilters(spec.filters, "spec.filters")];
  },

  reconcile(obj, ctx) {
    const c = new Conditions(obj.status?.conditions, ctx.now);
    if (ctx.auth.oidc) c.set("AuthenticationEnabled", true);
    else c.set("AuthenticationEnabled", false, "OIDCAuthenticationDisabled", `feature "authentication-oidc" is not enabled: set AUTHENTICATION_OIDC = "enabled" in wrangler.toml [vars]`);
    const subjects: string[] = [];
    const missing: string[] = [];
    for (const f of (obj.spec?.from ?? []) as { ref?: { apiVersion: string; kind: string; name: string; namespace?: string }; sub?: string }[]) {
      if (typeof f.sub === "string" && f.sub !== "") {
        subjects.push(f.sub);
        continue;
      }
      if (!f.ref) continue;
      const ns = f.ref.namespace ?? ctx.namespace;
      const served = SENDERS[`${groupOf(f.ref.apiVersion)}/${f.ref.kind}`] ?? f.ref.apiVersion;
      // Another namespace is another control plane: its senders follow the same naming rule.
      if (ns === ctx.namespace && !ctx.find(served, f.ref.kind, f.ref.name)) {
        missing.push(`${f.ref.kind} "${f.ref.name}"`);
        continue;
      }
      subjects.push(subjectOf(ns, oidcServiceAccountName(f.ref.name, groupOf(f.ref.apiVersion), f.ref.kind)));
    }
    if (missing.length) c.set("SubjectsResolved", false, "SubjectsNotResolved", `could not resolve ${missing.join(", ")}: it does not exist in namespace "${ctx.namespace}"`);
    else c.set("SubjectsResolved", true);
    c.ready(["AuthenticationEnabled", "SubjectsResolved"]);
    return { observedGeneration: obj.metadata.generation, conditions: c.list(), from: subjects };
  },
};
