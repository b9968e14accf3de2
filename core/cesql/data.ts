import { NO_JSON, type EventView } from "../cloudevents/view.js";
import type { DataPath } from "./ast.js";
import { type CesqlValue, INT32_MAX, INT32_MIN } from "./cast.js";

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Follows `path` into the event's parsed JSON data (parsed at most once per view). Returns
 * undefined when the data is not JSON or the path leads nowhere; keys are matched exactly and
 * only as own properties, so `data.constructor` never reaches Object.prototype.
 *
 * @example
 * readData(view, ["items", 0, "sku"]); // "A1"
 */
export function readData(view: EventView, path: DataPath): unknown {
  let v = view.json();
  if (v === NO_JSON) return undefined;
  for (let i = 0; i < path.length; i++) {
    if (v === null || typeof v !== "object") return undefined;
    const key = path[i]!;
    if (Array.isArray(v)) {
      if (typeof key !== "number") return undefined;
      v = v[key];
    } else {
      if (typeof key !== "string" || !hasOwn.call(v, key)) return undefined;
      v = (v as Record<string, unknown>)[key];
    }
  }
  return v;
}

/**
 * Maps a JSON value to a CESQL value: string → String, boolean → Boolean, an integer within
 * int32 → Integer. Anything else (absent, null, a fraction, a larger number, an object or an
 * array) has no CESQL value and reads like a missing attribute.
 *
 * @example
 * jsonToCesql(12); // 12
 * jsonToCesql(1.5); // undefined
 */
export function jsonToCesql(v: unknown): CesqlValue | undefined {
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number" && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) return v === 0 ? 0 : v;
  return undefined;
}

/** Why `jsonToCesql` gave nothing, for the missingAttribute error's message. */
export function whyNoValue(v: unknown): string {
  if (v === undefined) return "is absent (or the data is not JSON)";
  if (v === null) return "is null";
  if (typeof v === "number") return `is the number ${v}, which is not a 32-bit integer`;
  return Array.isArray(v) ? "is an array" : "is an object";
}

/**
 * The path as written in canonical form, for messages.
 *
 * @example
 * dataPathText(["customer", "first-name"]); // "data.customer['first-name']"
 */
export function dataPathText(path: DataPath): string {
  let s = "data";
  for (const k of path) {
    if (typeof k === "number") s += `[${k}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) s += `.${k}`;
    else s += `['${k.replace(/'/g, "\\'")}']`;
  }
  return s;
}
