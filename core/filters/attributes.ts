import { attrString } from "../cloudevents/event.js";
import type { FieldError } from "../errors.js";
import type { Filter } from "./verdict.js";

/** Filter attribute names, as Knative's webhook checks them. */
export const KEY_RE = /^[a-z][a-z0-9]*$/;

/** Validates legacy `spec.filter.attributes`. */
export function validateAttributes(attrs: unknown, field: string): FieldError[] {
  if (attrs === undefined || attrs === null) return [];
  if (typeof attrs !== "object" || Array.isArray(attrs)) return [{ field, message: "must map attribute names to values" }];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(attrs as Record<string, unknown>)) {
    if (!KEY_RE.test(k)) {
      errs.push({ field: `${field}.${k}`, message: `"${k}" is not a valid attribute name: use a lower-case letter followed by lower-case letters and digits` });
    }
    if (typeof v !== "string") errs.push({ field: `${field}.${k}`, message: "must be a string" });
  }
  return errs;
}

/**
 * Knative's legacy `filter.attributes`: every key must match exactly (case-sensitive, AND); a value
 * of "" means "present and non-empty". An empty map passes everything.
 *
 * @example
 * const f = compileAttributes({ type: "com.example", myext: "" });
 */
export function compileAttributes(attrs: Record<string, string>): Filter {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return () => true;
  return (view) => {
    for (const [k, want] of entries) {
      const v = view.attr(k);
      if (v === undefined) return false;
      const s = attrString(v);
      if (want === "" ? s === "" : s !== want) return false;
    }
    return true;
  };
}
