import type { FieldError } from "../errors.js";
import { filterAttribute, keyProblem } from "./lookup.js";
import type { Filter } from "./verdict.js";

/**
 * The three string-matching dialects of the Subscriptions API.
 *
 * @example
 * const d: StringDialect = "prefix";
 */
export type StringDialect = "exact" | "prefix" | "suffix";

/**
 * Validates an `exact`, `prefix` or `suffix` map: at least one key, valid attribute names, and
 * non-empty string values. Knative accepts empty keys and values and then silently drops them,
 * passing every event; Eddy refuses them.
 *
 * @example
 * validateStringMatch({ type: "" }, "spec.filters[0].exact"); // [{ field: "spec.filters[0].exact.type", ... }]
 */
export function validateStringMatch(v: unknown, field: string): FieldError[] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return [{ field, message: "must map attribute names to strings" }];
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return [{ field, message: "must name at least one attribute (Knative would silently match every event)" }];
  const errs: FieldError[] = [];
  for (const [k, val] of entries) {
    const problem = keyProblem(k);
    if (problem) errs.push({ field: k === "" ? field : `${field}.${k}`, message: problem });
    if (k === "") continue;
    if (typeof val !== "string") errs.push({ field: `${field}.${k}`, message: `must be a string, not ${val === null ? "null" : typeof val}` });
    else if (val === "") errs.push({ field: `${field}.${k}`, message: "must not be empty (Knative would silently match every event); use cesql: \"EXISTS attr\" to test presence" });
  }
  return errs;
}

// Each dialect has its own loop rather than one loop taking a comparison function: a shared
// loop sees three different comparisons and stops inlining them.

/**
 * `s.startsWith(w)`, but twice as fast on Node 20's V8, whose optimiser does not inline
 * startsWith; `lastIndexOf(w, 0)` only ever looks at offset 0.
 *
 * @example
 * startsWith("com.example.a", "com."); // true
 */
export function startsWith(s: string, w: string): boolean {
  return s.length >= w.length && s.lastIndexOf(w, 0) === 0;
}

function entries(spec: Readonly<Record<string, string>>): [string[], string[]] {
  const keys = Object.keys(spec);
  return [keys, keys.map((k) => spec[k]!)];
}

/**
 * The Subscriptions API `exact` dialect: every attribute present and its canonical string equal
 * to the value, case-sensitive. A missing attribute fails.
 *
 * @example
 * exactFilter({ type: "com.example.created", source: "/orders" });
 */
export function exactFilter(spec: Readonly<Record<string, string>>): Filter {
  const [keys, wants] = entries(spec);
  return (view) => {
    for (let i = 0; i < keys.length; i++) {
      if (filterAttribute(view, keys[i]!) !== wants[i]) return false;
    }
    return true;
  };
}

/**
 * The `prefix` dialect: every attribute present and starting with the value, case-sensitive.
 *
 * @example
 * prefixFilter({ type: "com.example." });
 */
export function prefixFilter(spec: Readonly<Record<string, string>>): Filter {
  const [keys, wants] = entries(spec);
  return (view) => {
    for (let i = 0; i < keys.length; i++) {
      const s = filterAttribute(view, keys[i]!);
      if (s === undefined || !startsWith(s, wants[i]!)) return false;
    }
    return true;
  };
}

/**
 * The `suffix` dialect: every attribute present and ending with the value, case-sensitive.
 *
 * @example
 * suffixFilter({ type: ".created" });
 */
export function suffixFilter(spec: Readonly<Record<string, string>>): Filter {
  const [keys, wants] = entries(spec);
  return (view) => {
    for (let i = 0; i < keys.length; i++) {
      const s = filterAttribute(view, keys[i]!);
      if (s === undefined || !s.endsWith(wants[i]!)) return false;
    }
    return true;
  };
}

/** The compiler for each string dialect, by name. */
export const STRING_DIALECTS: Readonly<Record<StringDialect, (spec: Readonly<Record<string, string>>) => Filter>> = {
  exact: exactFilter,
  prefix: prefixFilter,
  suffix: suffixFilter,
};
