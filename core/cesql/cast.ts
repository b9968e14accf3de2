import type { CesqlError } from "./errors.js";

export type CesqlValue = string | number | boolean;
export type CesqlType = "string" | "integer" | "boolean";

export const ZERO: Record<CesqlType, CesqlValue> = { string: "", integer: 0, boolean: false };
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

export function typeOf(v: CesqlValue): CesqlType {
  return typeof v === "string" ? "string" : typeof v === "number" ? "integer" : "boolean";
}

/** Where a failed cast reports its error; the first error of an evaluation wins. */
export interface ErrorSink {
  err: CesqlError | undefined;
}

export function raise(c: ErrorSink, kind: CesqlError["kind"], message: string): void {
  c.err ??= { kind, message };
}

/** Casts per CESQL §3.7: booleans to 1/0, strings parsed as base-10 int32; failures give 0 and a cast error. */
export function toInt(v: CesqlValue, c: ErrorSink): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (/^[+-]?\d+$/.test(v)) {
    const n = Number(v);
    if (n >= INT32_MIN && n <= INT32_MAX) return n;
  }
  raise(c, "cast", `cannot cast ${JSON.stringify(v)} to an integer`);
  return 0;
}

/** Integers: 0 is false, anything else true; strings: `true`/`false` in any case, else false and a cast error. */
export function toBool(v: CesqlValue, c: ErrorSink): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  const l = v.toLowerCase();
  if (l === "true") return true;
  if (l === "false") return false;
  raise(c, "cast", `cannot cast ${JSON.stringify(v)} to a boolean`);
  return false;
}

export function toStr(v: CesqlValue): string {
  return typeof v === "string" ? v : String(v);
}

export function castTo(t: CesqlType, v: CesqlValue, c: ErrorSink): CesqlValue {
  return t === "string" ? toStr(v) : t === "integer" ? toInt(v, c) : toBool(v, c);
}
