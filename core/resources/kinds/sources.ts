import type { FieldError } from "../../errors.js";
import { parseDurationMs } from "../../duration.js";
import { toPolicy, type DeliverySpec } from "../../delivery/policy.js";
import { pingConfig, PING_TYPE, pingSourceUri, validatePingSpec, DEFAULT_SCHEDULE } from "../../sources/ping.js";
import { extensionsOf, validateCeOverrides } from "../../sources/overrides.js";
import { defaultTolerance, PROVIDERS, type WebhookConfig, type WebhookProvider } from "../../webhooks/index.js";
import { addressStatus, Conditions } from "../conditions.js";
import { defaultDeliveryNamespace, defaultRefNamespace, specOf } from "../destinations.js";
import type { KindDef, ReconcileContext } from "../kind.js";
import type { Destination, Resource, Status } from "../types.js";
import { isObject, validateDelivery, validateDestination } from "../validate.js";
import { DEFAULT_BROKER_DELIVERY } from "./broker.js";
import type { SourceOptions, SourcePlan } from "../plan.js";
import { resolveSecret, senderIdentity, signingSecret } from "../identity.js";
import { describeSecretSource, secretSourceOf, validateSecretSource } from "../../secrets/refs.js";
import { validateSigningSecret } from "../../identity/webhook-signature.js";

/** How long a WebhookSource remembers delivery ids to drop provider redeliveries. */
export const DEFAULT_DEDUP_WINDOW = "PT24H";

/** The sink route and status shared by every source kind (Knative's source duck type). */
function reconcileSource(obj: Resource, ctx: ReconcileContext, key: string, extra: { ok: boolean; reason?: string; message?: string }, options: SourceOptions, status: Record<string, unknown>): Status {
  const spec = obj.spec ?? {};
  const c = new Conditions(obj.status?.conditions, ctx.now);
  const sink = ctx.resolve(spec.sink as Destination);
  if (sink.error) c.set("SinkProvided", false, "SinkNotFound", sink.error);
  else c.set("SinkProvided", true);
  const delivery = (spec.delivery ?? DEFAULT_BROKER_DELIVERY) as DeliverySpec;
  const dls = delivery.deadLetterSink ? ctx.resolve(delivery.deadLetterSink as Destination) : undefined;
  if (dls?.error) c.set("DeadLetterSinkResolved", false, "DeadLetterSinkResolveFailed", dls.error);
  else c.set("DeadLetterSinkResolved", true);
  c.set("Configured", extra.ok, extra.reason, extra.message);
  const identity = senderIdentity(obj, ctx, c);
  const signing = signingSecret(obj, ctx, c);
  const ready = c.ready(["SinkProvided", "DeadLetterSinkResolved", "Configured", "OIDCIdentityCreated", "SigningSecretResolved"]);
  ctx.setPlan({ binding: "SOURCE", name: key }, {
    key, kind: obj.kind as SourcePlan["kind"], namespace: ctx.namespace, name: obj.metadata.name, uid: obj.metadata.uid, generation: obj.metadata.generation,
    routes: ready && sink.target
      ? [{ uid: obj.metadata.uid, kind: obj.kind, name: obj.metadata.name, subscriber: sink.target, ...(dls?.target ? { deadLetter: dls.target } : {}), policy: toPolicy(delivery), sender: identity.sender, ...signing }]
      : [],
    // Sources always register the event types they emit.
    options: { ...options, eventTypes: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: ctx.namespace } },
  });
  return {
    observedGeneration: obj.metadata.generation,
    conditions: c.list(),
    ...(sink.target ? { sinkUri: sink.target.url } : {}),
    ...(ctx.auth.oidc && sink.target?.audience ? { sinkAudience: sink.target.audience } : {}),
    ...identity.status,
    ...status,
  };
}

function validateSourceCommon(spec: Record<string, unknown>, ns: string, refs: Parameters<KindDef["validate"]>[2]["refs"], annotations?: unknown): FieldError[] {
  return [
    ...validateSigningSecret(annotations),
    ...validateDestination(spec.sink, "spec.sink", ns, refs),
    ...validateCeOverrides(spec.ceOverrides, "spec.ceOverrides"),
    ...validateDelivery(spec.delivery, "spec.delivery", ns, refs),
  ];
}

function defaultsCommon(spec: Record<string, unknown>, ns: string): void {
  defaultRefNamespace(spec.sink, ns);
  defaultDeliveryNamespace(spec.delivery, ns);
}

/**
 * `sources.knative.dev/v1` PingSource: emits `dev.knative.sources.ping` on a cron schedule.
 * Minute schedules are driven by the Worker's per-minute Cron Trigger, second-level ones by the
 * source's Durable Object alarm; each tick fires once.
 */
export const PingSourceKind: KindDef = {
  group: "sources.knative.dev",
  version: "v1",
  kind: "PingSource",
  plural: "pingsources",
  order: 40,
  dataPlane: (ns, name) => ({ binding: "SOURCE", name: `PingSource/${ns}/${name}` }),

  defaults(obj, ctx) {
    const spec = specOf(obj);
    if (spec.schedule === undefined || spec.schedule === "") spec.schedule = DEFAULT_SCHEDULE; // Knative defaults "" too
    defaultsCommon(spec, ctx.namespace);
  },

  validate(obj, _old, ctx) {
    const spec = obj.spec ?? {};
    return [...validatePingSpec(spec), ...validateSourceCommon(spec, ctx.namespace, ctx.refs, obj.metadata?.annotations)];
  },

  reconcile(obj, ctx) {
    const ns = ctx.namespace;
    const cfg = pingConfig(ns, obj.metadata.name, obj.spec ?? {});
    return reconcileSource(obj, ctx, `PingSource/${ns}/${obj.metadata.name}`, { ok: true }, { ping: cfg }, {
      ceAttributes: [{ type: PING_TYPE, source: pingSourceUri(ns, obj.metadata.name) }],
    });
  },
};

const PROVIDER_NAMES = Object.keys(PROVIDERS) as WebhookProvider[];

/**
 * `sources.eddy.dev/v1alpha1` WebhookSource: a public webhook URL (`status.address.url`) that
 * verifies a provider's signature, answers its handshakes, deduplicates its redeliveries, and sends
 * each delivery to `spec.sink` as a CloudEvent. In Knative's source duck shape.
 */
export const WebhookSourceKind: KindDef = {
  group: "sources.eddy.dev",
  version: "v1alpha1",
  kind: "WebhookSource",
  plural: "webhooksources",
  order: 40,
  addressPath: (ns, name) => `/webhooks/${ns}/${name}`,
  dataPlane: (ns, name) => ({ binding: "SOURCE", name: `WebhookSource/${ns}/${name}` }),

  defaults(obj, ctx) {
    const spec = specOf(obj);
    if (spec.secret !== undefined && spec.secrets === undefined) spec.secrets = [spec.secret];
    defaultsCommon(spec, ctx.namespace);
  },

  validate(obj, _old, ctx) {
    const spec = obj.spec ?? {};
    const errs: FieldError[] = [...validateSourceCommon(spec, ctx.namespace, ctx.refs, obj.metadata?.annotations)];
    if (!PROVIDER_NAMES.includes(spec.provider as WebhookProvider)) {
      errs.push({ field: "spec.provider", message: `must be one of ${PROVIDER_NAMES.join(", ")}, got ${JSON.stringify(spec.provider)}` });
    }
    const secrets = spec.secrets;
    if (!Array.isArray(secrets) || secrets.length === 0) {
      errs.push({ field: "spec.secrets", message: "must list where the signing secret is: [{secretKeyRef: {name: github-webhook, key: secret}}] (a Secret of this namespace), or a wrangler secret starting with SECRET_" });
    } else secrets.forEach((s, i) => errs.push(...validateSecretSource(s, `spec.secrets[${i}]`)));
    for (const f of ["tolerance", "dedupWindow"] as const) {
      if (spec[f] === undefined) continue;
      try {
        parseDurationMs(String(spec[f]));
      } catch (e) {
        errs.push({ field: `spec.${f}`, message: (e as Error).message });
      }
    }
    if (spec.provider === "generic-hmac") {
      const g = spec.genericHmac;
      if (!isObject(g) || typeof g.header !== "string" || g.header === "") errs.push({ field: "spec.genericHmac.header", message: "is required for generic-hmac: the header carrying the signature" });
      else {
        if (g.algorithm !== undefined && !["sha1", "sha256", "sha512"].includes(String(g.algorithm))) errs.push({ field: "spec.genericHmac.algorithm", message: "must be sha1, sha256 or sha512" });
        if (g.encoding !== undefined && !["hex", "base64"].includes(String(g.encoding))) errs.push({ field: "spec.genericHmac.encoding", message: "must be hex or base64" });
      }
    } else if (spec.genericHmac !== undefined) errs.push({ field: "spec.genericHmac", message: "is only for provider generic-hmac" });
    return errs;
  },

  reconcile(obj, ctx) {
    const spec = obj.spec ?? {};
    const ns = ctx.namespace;
    const provider = spec.provider as WebhookProvider;
    const wanted = ((spec.secrets ?? []) as unknown[]).map(secretSourceOf);
    const resolved = wanted.map((s) => resolveSecret(s, ctx));
    const missing = resolved.filter((r) => r.error).map((r) => r.error!);
    const url = ctx.addressOf(obj)!;
    const webhook: WebhookConfig = {
      provider,
      secrets: resolved.flatMap((r) => (r.source ? [r.source] : [])),
      toleranceMs: spec.tolerance ? parseDurationMs(String(spec.tolerance)) : defaultTolerance(provider),
      eventSource: typeof spec.eventSource === "string" ? spec.eventSource : url,
      ...(typeof spec.typePrefix === "string" ? { typePrefix: spec.typePrefix } : {}),
      ...(isObject(spec.genericHmac) ? { genericHmac: spec.genericHmac as unknown as WebhookConfig["genericHmac"] } : {}),
      extensions: extensionsOf(spec.ceOverrides),
    };
    const ok = missing.length < wanted.length;
    return reconcileSource(obj, ctx, `WebhookSource/${ns}/${obj.metadata.name}`,
      ok ? { ok: true } : { ok: false, reason: "SecretsNotFound", message: `no signing secret is there: ${missing.join("; ")}` },
      { webhook, dedupWindowMs: parseDurationMs(String(spec.dedupWindow ?? DEFAULT_DEDUP_WINDOW)) },
      { ...addressStatus(url), ...(missing.length ? { missingSecrets: wanted.filter((_, i) => resolved[i]!.error).map(describeSecretSource) } : {}) },
    );
  },
};
