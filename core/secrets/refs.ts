import type { FieldError } from "../errors.js";

/**
 * Where a signing or verification secret comes from: a key of a Secret in the same namespace
 * (`secretKeyRef`, as Knative's sources name theirs), or a deployment binding (a wrangler secret or
 * `.dev.vars` entry) whose name starts with BINDING_PREFIX. Bindings without the prefix are never
 * reachable this way, so no resource can name ADMIN_TOKEN, EDDY_SIGNING_KEY or EDDY_SECRETS_KEY.
 * A resolved secretKeyRef carries the Secret's resourceVersion: a changed Secret changes the plans
 * that name it, and what was cached under the old version is not used again.
 */
export type SecretSource = { secretKeyRef: { name: string; key: string }; version?: string } | { binding: string };

export const BINDING_PREFIX = "SECRET_";

const BINDING_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEY_RE = /^[-._a-zA-Z0-9]+$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const HOW = `a secretKeyRef {name: <Secret>, key: <key>} of this namespace, or the name of a wrangler secret starting with ${BINDING_PREFIX}`;

/** 422 causes for a binding name or a `{secretKeyRef: {name, key}}` object at `field`. */
export function validateSecretSource(v: unknown, field: string): FieldError[] {
  if (typeof v === "string") {
    if (!BINDING_RE.test(v)) return [{ field, message: `must be ${HOW}, got ${JSON.stringify(v)}` }];
    if (!v.startsWith(BINDING_PREFIX)) {
      return [{ field, message: `names the binding ${v}, which does not start with ${BINDING_PREFIX}: only such bindings may be named (never ADMIN_TOKEN or Eddy's keys); put the value in a Secret and use a secretKeyRef, or rename it ${BINDING_PREFIX}${v}` }];
    }
    return [];
  }
  const ref = v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>).secretKeyRef : undefined;
  if (!ref || typeof ref !== "object" || Array.isArray(ref)) return [{ field, message: `must be ${HOW}` }];
  const { name, key } = ref as Record<string, unknown>;
  const errs: FieldError[] = [];
  if (typeof name !== "string" || !SUBDOMAIN_RE.test(name) || name.length > 253) errs.push({ field: `${field}.secretKeyRef.name`, message: "must name a Secret of this namespace" });
  if (typeof key !== "string" || !KEY_RE.test(key) || key.length > 253) errs.push({ field: `${field}.secretKeyRef.key`, message: "must name a key of the Secret's data (letters, digits, '-', '_', '.')" });
  return errs;
}

/** A validated value as a SecretSource. */
export function secretSourceOf(v: unknown): SecretSource {
  if (typeof v === "string") return { binding: v };
  const { name, key } = (v as { secretKeyRef: { name: string; key: string } }).secretKeyRef;
  return { secretKeyRef: { name, key } };
}

/** How a source is named in messages: `Secret "github" key "token"`, or the binding's name. */
export function describeSecretSource(s: SecretSource): string {
  return "binding" in s ? s.binding : `Secret "${s.secretKeyRef.name}" key "${s.secretKeyRef.key}"`;
}

/**
 * The one-string form a route's signing secret travels in (a delivery message's `auth.signingSecret`):
 * the binding's name, or `secretKeyRef:<name>/<key>@<resourceVersion>`.
 */
export function encodeSecretSource(s: SecretSource): string {
  return "binding" in s ? s.binding : `secretKeyRef:${s.secretKeyRef.name}/${s.secretKeyRef.key}@${s.version ?? ""}`;
}

export function decodeSecretSource(text: string): SecretSource {
  const m = /^secretKeyRef:([^/]+)\/([^@]+)@(.*)$/.exec(text);
  return m ? { secretKeyRef: { name: m[1]!, key: m[2]! }, version: m[3]! } : { binding: text };
}

/**
 * The annotation form (`eddy.dev/signing-secret`): `<secret>/<key>` is a secretKeyRef, anything else
 * a binding name.
 */
export function annotationSecretSource(value: string): unknown {
  const i = value.indexOf("/");
  return i < 0 ? value : { secretKeyRef: { name: value.slice(0, i), key: value.slice(i + 1) } };
}

/** A binding's value when its name may be read (it has the prefix), else undefined. */
export function bindingValue(env: object, name: string): string | undefined {
  if (!name.startsWith(BINDING_PREFIX) || !BINDING_RE.test(name)) return undefined;
  const v = (env as Record<string, unknown>)[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}
