import type { FieldError } from "../errors.js";
import type { Conditions } from "./conditions.js";
import type { ReconcileContext } from "./kind.js";
import type { KReference } from "./types.js";
import { isObject } from "./validate.js";

/**
 * Knative's `knative.dev/dependency` annotation on a Trigger: a JSON object reference
 * (`{"kind":"PingSource","name":"my-ping","apiVersion":"sources.knative.dev/v1"}`) to a resource
 * the Trigger waits for. `kn` sets it when it creates a source and its Trigger together.
 */
export const DEPENDENCY_ANNOTATION = "knative.dev/dependency";
const FIELD = `metadata.annotations.${DEPENDENCY_ANNOTATION}`;
const EXAMPLE = '{"apiVersion":"sources.knative.dev/v1","kind":"PingSource","name":"my-ping"}';

/** The reference in the annotation, or undefined when absent; admission has checked the shape. */
export function dependencyOf(annotations: Record<string, string> | undefined): KReference | undefined {
  const v = annotations?.[DEPENDENCY_ANNOTATION];
  if (v === undefined) return undefined;
  return JSON.parse(v) as KReference;
}

/**
 * What Knative's Trigger webhook checks: the value parses as an object reference with `kind`,
 * `name` and `apiVersion`, and a `namespace`, if any, is the Trigger's own.
 */
export function validateDependency(annotations: Record<string, unknown> | undefined, namespace: string): FieldError[] {
  const v = annotations?.[DEPENDENCY_ANNOTATION];
  if (v === undefined) return [];
  let ref: unknown;
  try {
    ref = JSON.parse(String(v));
  } catch (e) {
    return [{ field: FIELD, message: `must be a JSON object reference such as ${EXAMPLE}; ${JSON.stringify(v)} is not JSON (${(e as Error).message})` }];
  }
  if (!isObject(ref)) return [{ field: FIELD, message: `must be a JSON object reference such as ${EXAMPLE}, got ${JSON.stringify(v)}` }];
  const errs: FieldError[] = [];
  for (const k of ["kind", "name", "apiVersion"] as const) {
    if (typeof ref[k] !== "string" || ref[k] === "") {
      errs.push({ field: `${FIELD}.${k}`, message: `is required: the annotation must name the dependency's ${k}, as in ${EXAMPLE}` });
    }
  }
  if (ref.namespace !== undefined && ref.namespace !== "" && ref.namespace !== namespace) {
    errs.push({ field: `${FIELD}.namespace`, message: `must be empty or "${namespace}", the Trigger's namespace: a Trigger can only wait for a resource beside it` });
  }
  return errs;
}

/**
 * Sets `DependencyReady` as Knative's Trigger reconciler does: True without the annotation; False
 * (`DependencyDoesNotExist`) while the dependency is missing; Unknown while it has not reconciled
 * its latest generation or has no Ready condition; otherwise its Ready condition, reason included.
 */
export function markDependency(c: Conditions, annotations: Record<string, string> | undefined, ctx: ReconcileContext): void {
  const ref = dependencyOf(annotations);
  if (!ref) return c.set("DependencyReady", true);
  const dep = ctx.find(ref.apiVersion, ref.kind, ref.name);
  if (!dep) {
    const never = ctx.serves(ref.apiVersion, ref.kind)
      ? ""
      : `; Eddy does not serve ${ref.kind} (${ref.apiVersion}), so it never will: remove the ${DEPENDENCY_ANNOTATION} annotation or name a resource Eddy serves`;
    return c.set("DependencyReady", false, "DependencyDoesNotExist", `Dependency does not exist: ${ref.kind} "${ref.name}" (${ref.apiVersion}) not found${never}`);
  }
  const observed = dep.status?.observedGeneration;
  if (observed !== undefined && observed !== dep.metadata.generation) {
    return c.set("DependencyReady", "Unknown", "GenerationNotEqual", `The dependency's metadata.generation, ${dep.metadata.generation}, is not equal to its status.observedGeneration, ${observed}.`);
  }
  const ready = dep.status?.conditions?.find((x) => x.type === "Ready");
  if (!ready) return c.set("DependencyReady", "Unknown", "DependencyNotConfigured", "Dependency has not yet been reconciled.");
  if (ready.status === "True") return c.set("DependencyReady", true);
  c.set("DependencyReady", ready.status === "False" ? false : "Unknown", ready.reason, ready.message);
}
