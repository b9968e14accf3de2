import { attrString } from "../cloudevents/event.js";
import type { FieldError } from "../errors.js";
import { KEY_RE } from "./attributes.js";
import type { Filter } from "./verdict.js";

export type StringDialect = "exact" | "prefix" | "suffix";

/** Validates an `exact`, `prefix` or `suffix` map: non-empty, valid keys, non-empty string values. */
export function validateStringMatch(v: unknown, field: string): FieldError[] {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return [{ field, message: "must map attribute names to strings" }];
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return [{ field, message: "must name at least one attribute (an empty map would match every event)" }];
  const errs: FieldError[] = [];
  for (const [k, val] of entries) {
    if (k === "") errs.push({ field, message: "has an empty attribute name" });
    else if (!KEY_RE.test(k)) errs.push({ field: `${field}.${k}`, message: `"${k}" is not a valid attribute name: use a lower-case letter followed by lower-case letters and digits` });
    if (typeof val !== "string") errs.push({ field: `${field}.${k}`, message: "must be a string" });
    else if (val === "") errs.push({ field: `${field}.${k}`, message: "must not be empty (Knative would silently match every event); use the cesql dialect with EXISTS to test presence" });
  }
  return errs;
}

/**
 * The Subscriptions API `exact`, `prefix` and `suffix` dialects: every key present and its
 * canonical string form equal to / starting with / ending with the value, case-sensitive.
 *
 * @example
 * compileStringMatch("prefix", { type: "com.example." });
 */
export function compileStringMatch(dialect: StringDialect, spec: Record<string, string>): Filter {
  const entries = Object.entries(spec);
  const test =
    dialect === "exact" ? (s: string, w: string) => s === w
    : dialect === "prefix" ? (s: string, w: string) => s.startsWith(w)
    : (s: string, w: string) => s.endsWith(w);
  return (view) => {
    for (const [k, want] of entries) {
      const v = view.attr(k);
      if (v === undefined || !test(attrString(v), want)) return false;
    }
    return true;
  };
}
