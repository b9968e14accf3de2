import { audienceOf, oidcServiceAccountName, subjectOf } from "../identity/names.js";
import type { AuthPlan, PlanPolicy } from "../identity/policy.js";
import { selectorMatches, type LabelSelector } from "../identity/selector.js";
import { SIGNING_SECRET_ANNOTATION } from "../identity/webhook-signature.js";
import { annotationSecretSource, describeSecretSource, encodeSecretSource, secretSourceOf, type SecretSource } from "../secrets/refs.js";
import { type Conditions, isReady } from "./conditions.js";
import type { ReconcileContext } from "./kind.js";
import type { RoutePlan, RouteSender } from "./plan.js";
import type { DeliveryAuth } from "../delivery/messages.js";
import type { Resource } from "./types.js";

export const EVENT_POLICY_API = "eventing.knative.dev/v1alpha1";
const OIDC_FEATURE = "authentication-oidc";

/** The API group of an apiVersion (`eventing.knative.dev/v1` → `eventing.knative.dev`; `v1` → ""). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.lastIndexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

/**
 * The sender identity of a Trigger, Subscription or source, as Knative gives it: the OIDC
 * ServiceAccount `<name>-oidc-<group>-<kind>` in `status.auth.serviceAccountName` and the condition
 * `OIDCIdentityCreated`. The route carries the identity whatever the setting, so turning
 * authentication on takes effect at the next delivery; the status shows it only when it is on.
 *
 * @example
 * const { sender, status } = senderIdentity(obj, ctx, c); // status: { auth: { serviceAccountName } }
 */
export function senderIdentity(obj: Resource, ctx: ReconcileContext, c: Conditions, name = obj.metadata.name, kind = obj.kind, group = groupOf(obj.apiVersion)): { sender: RouteSender; status: Record<string, unknown> } {
  const sa = oidcServiceAccountName(name, group, kind);
  const sender = { subject: subjectOf(ctx.namespace, sa), issuer: ctx.baseUrl };
  if (!ctx.auth.oidc) {
    c.set("OIDCIdentityCreated", true, `${OIDC_FEATURE} feature disabled`);
    return { sender, status: {} };
  }
  c.set("OIDCIdentityCreated", true);
  return { sender, status: { auth: { serviceAccountName: sa } } };
}

/**
 * The identities of a Sequence's or Parallel's routes: each sends as the Subscription Knative would
 * create for it (`<flow>-kn-sequence-<i>`...), listed in `status.auth.serviceAccountNames`.
 */
export function flowIdentities(ctx: ReconcileContext, subscriptionNames: string[]): { senders: Map<string, RouteSender>; status: Record<string, unknown> } {
  const names = subscriptionNames.map((n) => [n, oidcServiceAccountName(n, "messaging.knative.dev", "Subscription")] as const);
  const senders = new Map(names.map(([n, sa]) => [n, { subject: subjectOf(ctx.namespace, sa), issuer: ctx.baseUrl }]));
  return { senders, status: ctx.auth.oidc ? { auth: { serviceAccountNames: names.map(([, sa]) => sa) } } : {} };
}

/** The route fields of the `eddy.dev/signing-secret` annotation, and whether its secret is there. */
export function signingSecret(obj: Resource, ctx: ReconcileContext, c: Conditions): { signingSecret?: SecretSource } {
  const value = obj.metadata.annotations?.[SIGNING_SECRET_ANNOTATION];
  if (value === undefined) return {};
  const r = resolveSecret(secretSourceOf(annotationSecretSource(value)), ctx);
  if (r.source) c.set("SigningSecretResolved", true);
  else c.set("SigningSecretResolved", false, "SigningSecretNotFound", `${r.error}; it must hold a whsec_ secret`);
  return r.source ? { signingSecret: r.source } : {};
}

/**
 * A secret as a plan carries it: a binding that is set, or a secretKeyRef to a Secret of the
 * namespace that has the key, with that Secret's resourceVersion; otherwise what is missing.
 */
export function resolveSecret(src: SecretSource, ctx: ReconcileContext): { source?: SecretSource; error?: string } {
  if ("binding" in src) {
    return ctx.hasSecret(src.binding) ? { source: src } : { error: `the wrangler secret ${src.binding} is not set: run \`wrangler secret put ${src.binding}\` (or add it to .dev.vars locally)` };
  }
  const { name, key } = src.secretKeyRef;
  const secret = ctx.find("v1", "Secret", name);
  if (!secret) return { error: `${describeSecretSource(src)}: the Secret does not exist in namespace "${ctx.namespace}"; create it (kubectl create secret generic ${name} --from-literal=${key}=...)` };
  const keys = Object.keys((secret.data ?? {}) as object);
  if (!keys.includes(key)) return { error: `${describeSecretSource(src)}: the Secret has no such key (it has ${keys.length ? keys.join(", ") : "none"})` };
  return { source: { secretKeyRef: { name, key }, version: secret.metadata.resourceVersion } };
}

interface PolicyTo {
  ref?: { apiVersion?: string; kind?: string; name?: string };
  selector?: { apiVersion?: string; kind?: string } & LabelSelector;
}

/** Knative's `GetEventPoliciesForResource`: group, kind and name compare without case; no `to` means all. */
export function policyAppliesTo(policy: Resource, target: Resource): boolean {
  const to = policy.spec?.to as PolicyTo[] | undefined;
  if (!to || to.length === 0) return true;
  const group = groupOf(target.apiVersion).toLowerCase();
  const kind = target.kind.toLowerCase();
  return to.some((t) => {
    if (t.ref) {
      return groupOf(t.ref.apiVersion ?? "").toLowerCase() === group && (t.ref.kind ?? "").toLowerCase() === kind
        && (t.ref.name ?? "").toLowerCase() === target.metadata.name.toLowerCase();
    }
    if (t.selector) {
      return groupOf(t.selector.apiVersion ?? "").toLowerCase() === group && (t.selector.kind ?? "").toLowerCase() === kind
        && selectorMatches(t.selector, target.metadata.labels);
    }
    return false;
  });
}

/**
 * The authorization of an addressable, as Knative's reconcilers compute it: the EventPolicies that
 * apply (`status.policies`, Ready ones only), the condition `EventPoliciesReady`, the audience, and
 * the plan's AuthPlan. Returns `ok` false when EventPoliciesReady is False.
 *
 * @example
 * const a = targetAuthorization(obj, ctx, c); // a.status: { policies? }, a.auth → plan.options.auth
 */
export function targetAuthorization(obj: Resource, ctx: ReconcileContext, c: Conditions): { audience: string; auth: AuthPlan; status: Record<string, unknown> } {
  const audience = audienceOf(groupOf(obj.apiVersion), obj.kind, ctx.namespace, obj.metadata.name);
  const applying = ctx.list(EVENT_POLICY_API, "EventPolicy")
    .filter((p) => policyAppliesTo(p, obj))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const ready = applying.filter((p) => isReady(p));
  const policies: PlanPolicy[] = ready.map((p) => ({
    name: p.metadata.name,
    from: Array.isArray(p.status?.from) ? (p.status.from as string[]) : [],
    ...(Array.isArray(p.spec?.filters) && p.spec.filters.length ? { filters: p.spec.filters as unknown[] } : {}),
  }));
  if (applying.length === 0) {
    if (ctx.auth.oidc) c.set("EventPoliciesReady", true, "DefaultAuthorizationMode", `Default authz mode is "${ctx.auth.defaultMode}"`);
    else c.set("EventPoliciesReady", true, "OIDCDisabled", `Feature "${OIDC_FEATURE}" must be enabled to support Authorization`);
  } else if (!ctx.auth.oidc) {
    c.set("EventPoliciesReady", false, "OIDCDisabled", `Feature "${OIDC_FEATURE}" must be enabled to support Authorization: set AUTHENTICATION_OIDC = "enabled", or delete the EventPolicies ${applying.map((p) => p.metadata.name).join(", ")}`);
  } else if (ready.length < applying.length) {
    c.set("EventPoliciesReady", false, "EventPoliciesNotReady", `event policies ${applying.filter((p) => !isReady(p)).map((p) => p.metadata.name).join(", ")} are not ready`);
  } else c.set("EventPoliciesReady", true);
  const status: Record<string, unknown> = {};
  if (ctx.auth.oidc && ready.length) status.policies = ready.map((p) => ({ apiVersion: EVENT_POLICY_API, name: p.metadata.name }));
  return { audience, auth: { audience, policies }, status };
}

/** Adds the audience to `status.address` and every `status.addresses` entry, when authentication is on. */
export function withAudience<S extends Record<string, unknown>>(status: S, audience: string, ctx: ReconcileContext): S {
  if (!ctx.auth.oidc) return status;
  const out: Record<string, unknown> = { ...status };
  if (status.address && typeof status.address === "object") out.address = { ...(status.address as object), audience };
  if (Array.isArray(status.addresses)) out.addresses = status.addresses.map((a) => ({ ...(a as object), audience }));
  return out as S;
}

/** The plan auth of a flow's internal channel: only the flow's own routes (and the admin token) may send. */
export function internalAuth(audience: string, senders: RouteSender[]): AuthPlan {
  return { audience, policies: [{ name: "(internal channel of the flow)", from: [...new Set(senders.map((s) => s.subject))] }] };
}

/**
 * What a delivery on `hop` of `route` needs to say who sends it: the target's audience with the
 * route's identity, and the route's signing secret (which signs dead letters and replies too).
 */
export function deliveryAuth(route: RoutePlan, hop: "subscriber" | "reply" | "dls"): DeliveryAuth | undefined {
  const target = hop === "dls" ? route.deadLetter : hop === "reply" ? route.reply : route.subscriber;
  const out: DeliveryAuth = {};
  if (route.sender) Object.assign(out, { subject: route.sender.subject, issuer: route.sender.issuer });
  if (target?.audience) out.audience = target.audience;
  // Delivery messages carry it as one string; the signer reads it back (durable-objects/delivery-signer.ts).
  if (route.signingSecret) out.signingSecret = encodeSecretSource(typeof route.signingSecret === "string" ? { binding: route.signingSecret } : route.signingSecret);
  return Object.keys(out).length ? out : undefined;
}
