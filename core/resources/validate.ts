import type { FieldError } from "../errors.js";
import { parseDurationMs } from "../duration.js";
import { MAX_ATTEMPT_TIMEOUT_MS } from "../delivery/policy.js";

/** Kubernetes object names: a DNS-1123 label, as Knative resources use. */
export const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_NAME_LENGTH = 63;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Errors for a resource or namespace name, or [] when it is a valid DNS-1123 label. */
export function validateName(name: unknown, field: string): FieldError[] {
  if (typeof name !== "string" || name === "") return [{ field, message: "is required" }];
  if (name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) {
    return [{
      field,
      message: `"${name}" is not a valid name: use at most ${MAX_NAME_LENGTH} lower-case letters, digits and '-', starting and ending with a letter or digit`,
    }];
  }
  return [];
}

/** Kinds a Destination `ref` may name; the control plane resolves them to their ingress URL. */
export interface RefTargets {
  /** `apiVersion/kind` keys of this system's addressable kinds, e.g. `eventing.knative.dev/v1/Broker`. */
  has(apiVersionKind: string): boolean;
  describe(): string;
}

/**
 * Validates a Knative Destination: `uri` (absolute http/https), `ref` (an addressable of this system in
 * the same namespace), or both (then `uri` is resolved relative to the ref's address).
 */
export function validateDestination(
  v: unknown, field: string, namespace: string, refs: RefTargets, required = true,
): FieldError[] {
  if (v === undefined || v === null) return required ? [{ field, message: "is required: give a uri or a ref" }] : [];
  if (!isObject(v)) return [{ field, message: "must be an object with a uri or a ref" }];
  const errs: FieldError[] = [];
  const { ref, uri } = v;
  if (ref === undefined && uri === undefined) errs.push({ field, message: "needs a uri or a ref" });
  if (uri !== undefined) {
    if (typeof uri !== "string" || uri === "") errs.push({ field: `${field}.uri`, message: "must be a non-empty string" });
    else if (ref === undefined) {
      let u: URL | undefined;
      try { u = new URL(uri); } catch { /* reported below */ }
      if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) {
        errs.push({ field: `${field}.uri`, message: `"${uri}" must be an absolute http or https URL (or add a ref and make it relative to it)` });
      }
    }
  }
  if (v.audience !== undefined && (typeof v.audience !== "string" || v.audience === "")) {
    errs.push({ field: `${field}.audience`, message: "must be a non-empty string: the OIDC audience deliveries to this destination are signed for" });
  }
  if (ref !== undefined) {
    if (!isObject(ref)) errs.push({ field: `${field}.ref`, message: "must be an object with apiVersion, kind and name" });
    else {
      for (const k of ["apiVersion", "kind", "name"] as const) {
        if (typeof ref[k] !== "string" || ref[k] === "") errs.push({ field: `${field}.ref.${k}`, message: "is required" });
      }
      if (ref.namespace !== undefined && ref.namespace !== namespace) {
        errs.push({ field: `${field}.ref.namespace`, message: `must be "${namespace}": references across namespaces are not supported` });
      }
      if (typeof ref.apiVersion === "string" && typeof ref.kind === "string" && !refs.has(`${ref.apiVersion}/${ref.kind}`)) {
        errs.push({
          field: `${field}.ref`,
          message: `${ref.kind} (${ref.apiVersion}) is not an addressable of this system; reference one of ${refs.describe()}, or use a uri`,
        });
      }
    }
  }
  return errs;
}

function durationErrors(v: unknown, field: string): FieldError[] {
  if (v === undefined) return [];
  if (typeof v !== "string") return [{ field, message: "must be an ISO-8601 duration string such as PT0.2S" }];
  try {
    parseDurationMs(v);
    return [];
  } catch (e) {
    return [{ field, message: (e as Error).message }];
  }
}

/** Validates a Knative DeliverySpec the way its webhook does, with messages that say how to fix it. */
export function validateDelivery(v: unknown, field: string, namespace: string, refs: RefTargets): FieldError[] {
  if (v === undefined || v === null) return [];
  if (!isObject(v)) return [{ field, message: "must be an object" }];
  const errs: FieldError[] = [];
  if (v.retry !== undefined && (!Number.isInteger(v.retry) || (v.retry as number) < 0)) {
    errs.push({ field: `${field}.retry`, message: `must be an integer >= 0, got ${JSON.stringify(v.retry)}` });
  }
  if (v.backoffPolicy !== undefined && v.backoffPolicy !== "linear" && v.backoffPolicy !== "exponential") {
    errs.push({ field: `${field}.backoffPolicy`, message: `must be "linear" or "exponential", got ${JSON.stringify(v.backoffPolicy)}` });
  }
  errs.push(...durationErrors(v.backoffDelay, `${field}.backoffDelay`));
  errs.push(...durationErrors(v.retryAfterMax, `${field}.retryAfterMax`));
  const te = durationErrors(v.timeout, `${field}.timeout`);
  errs.push(...te);
  if (te.length === 0 && typeof v.timeout === "string") {
    const ms = parseDurationMs(v.timeout);
    if (ms <= 0) errs.push({ field: `${field}.timeout`, message: "must be greater than zero" });
    if (ms > MAX_ATTEMPT_TIMEOUT_MS) {
      errs.push({ field: `${field}.timeout`, message: `must be at most PT10M: one attempt runs inside a queue consumer` });
    }
  }
  if (v.format !== undefined && v.format !== "json" && v.format !== "binary") {
    errs.push({ field: `${field}.format`, message: `must be "json" or "binary", got ${JSON.stringify(v.format)}` });
  }
  errs.push(...validateDestination(v.deadLetterSink, `${field}.deadLetterSink`, namespace, refs, false));
  return errs;
}
