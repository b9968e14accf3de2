import type { FieldError } from "../errors.js";
import { isObject } from "../resources/validate.js";

const RESERVED = new Set(["specversion", "id", "source", "type", "datacontenttype", "dataschema", "subject", "time", "data", "data_base64"]);

/** Validates a source's `ceOverrides`: only `extensions`, valid names, string values, no core attributes. */
export function validateCeOverrides(v: unknown, field: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (!isObject(v)) return [{ field, message: "must be an object with extensions" }];
  const errs: FieldError[] = [];
  for (const k of Object.keys(v)) if (k !== "extensions") errs.push({ field: `${field}.${k}`, message: "is not supported; only extensions can be overridden" });
  const ext = v.extensions;
  if (ext === undefined) return errs;
  if (!isObject(ext)) return [...errs, { field: `${field}.extensions`, message: "must map extension names to strings" }];
  for (const [k, val] of Object.entries(ext)) {
    if (!/^[a-z0-9]+$/.test(k)) errs.push({ field: `${field}.extensions.${k}`, message: "is not a CloudEvents attribute name: use lower-case letters and digits" });
    else if (RESERVED.has(k)) errs.push({ field: `${field}.extensions.${k}`, message: `"${k}" is a CloudEvents attribute the source sets; it cannot be overridden` });
    if (typeof val !== "string") errs.push({ field: `${field}.extensions.${k}`, message: "must be a string" });
  }
  return errs;
}

export function extensionsOf(v: unknown): Record<string, string> {
  return isObject(v) && isObject(v.extensions) ? (v.extensions as Record<string, string>) : {};
}
