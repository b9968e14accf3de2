import type { FieldError } from "../errors.js";
import { filterAttribute, keyProblem } from "./lookup.js";
import { PASS, type Filter } from "./verdict.js";

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates legacy `spec.filter.attributes`: a map of valid attribute names to strings. An empty
 * value is allowed here (it means "present and non-empty").
 *
 * @example
 * validateAttributes({ Type: "x" }, "spec.filter.attributes"); // [{ field: "spec.filter.attributes.Type", ... }]
 */
export function validateAttributes(attrs: unknown, field: string): FieldError[] {
  if (attrs === undefined || attrs === null) return [];
  if (!isMap(attrs)) return [{ field, message: "must map attribute names to string values" }];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    const problem = keyProblem(k);
    if (problem) errs.push({ field: k === "" ? field : `${field}.${k}`, message: problem });
    if (k === "") continue;
    if (typeof v !== "string") errs.push({ field: `${field}.${k}`, message: `must be a string, not ${v === null ? "null" : typeof v}` });
  }
  return errs;
}

/**
 * Knative's legacy `filter.attributes`: every key must be present and equal to the value
 * (case-sensitive, AND over keys, on the canonical string form); a value of "" means "present
 * and non-empty". An empty map passes everything.
 *
 * @example
 * const f = attributesFilter({ type: "com.example", myext: "" });
 * f(eventView(ev)); // true when type is com.example and myext is set and non-empty
 */
export function attributesFilter(attrs: Readonly<Record<string, string>>): Filter {
  const keys = Object.keys(attrs);
  const wants = keys.map((k) => attrs[k]!);
  if (keys.length === 0) return PASS;
  return (view) => {
    for (let i = 0; i < keys.length; i++) {
      const s = filterAttribute(view, keys[i]!);
      if (s === undefined) return false;
      const want = wants[i]!;
      if (want === "" ? s === "" : s !== want) return false;
    }
    return true;
  };
}
