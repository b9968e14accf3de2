import type { CesqlError } from "./errors.js";

/**
 * A CESQL value: String, Integer (int32, a JS number) or Boolean.
 *
 * @example
 * const v: CesqlValue = 42;
 */
export type CesqlValue = string | number | boolean;
/**
 * The three CESQL types by name.
 *
 * @example
 * const t: CesqlType = typeOf("x"); // "string"
 */
export type CesqlType = "string" | "integer" | "boolean";

/** The zero value of each type: what an operator returns when it cannot compute its result. */
export const ZERO: Readonly<Record<CesqlType, CesqlValue>> = { string: "", integer: 0, boolean: false };
/** The Integer range: CESQL integers are int32 (e.g. `INT32_MIN - 1` wraps to INT32_MAX). */
export const INT32_MIN = -2147483648;
/** See INT32_MIN. */
export const INT32_MAX = 2147483647;

/**
 * The CESQL type of a JS value.
 *
 * @example
 * typeOf(5); // "integer"
 */
export function typeOf(v: CesqlValue): CesqlType {
  return typeof v === "string" ? "string" : typeof v === "number" ? "integer" : "boolean";
}

/** Where evaluation records its error; only the first one is kept ("fail fast"). */
export interface ErrorSink {
  err: CesqlError | undefined;
}

/**
 * Records an error unless one was already raised.
 *
 * @example
 * raise(ctx, "math", "division by zero");
 */
export function raise(c: ErrorSink, kind: CesqlError["kind"], message: string): void {
  if (c.err === undefined) c.err = { kind, message };
}

/**
 * Parses `[+-]digits` as an int32, by hand: no RegExp on the hot path, and no leniency
 * (`Number(" 1")`, `"1e3"`, `"0x10"` would all be accepted by JS).
 *
 * @example
 * parseInt32("-42"); // -42
 * parseInt32("2147483648"); // undefined
 */
export function parseInt32(s: string): number | undefined {
  let i = 0;
  let neg = false;
  const first = s.charCodeAt(0);
  if (first === 43 /* + */ || first === 45 /* - */) {
    neg = first === 45;
    i = 1;
  }
  if (i >= s.length) return undefined;
  let n = 0;
  for (; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
    // Stop early so a 400-digit string never becomes an imprecise float.
    if (n > 2147483648) return undefined;
  }
  const v = neg ? -n : n;
  return v < INT32_MIN || v > INT32_MAX ? undefined : v === 0 ? 0 : v;
}

/**
 * Casts to Integer per CESQL §3.7: booleans to 1/0, strings parsed as base-10 int32. A failed
 * cast yields 0 and a cast error.
 *
 * @example
 * toInt("10", ctx); // 10
 */
export function toInt(v: CesqlValue, c: ErrorSink): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  const n = parseInt32(v);
  if (n !== undefined) return n;
  raise(c, "cast", `cannot cast the string ${JSON.stringify(v)} to an integer`);
  return 0;
}

/**
 * Casts to Boolean: 0 is false and any other integer true; a string must be `true` or `false`
 * in any case, else the result is false with a cast error.
 *
 * @example
 * toBool("TRUE", ctx); // true
 */
export function toBool(v: CesqlValue, c: ErrorSink): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (v.length === 4 || v.length === 5) {
    const l = v.toLowerCase();
    if (l === "true") return true;
    if (l === "false") return false;
  }
  raise(c, "cast", `cannot cast the string ${JSON.stringify(v)} to a boolean`);
  return false;
}

/**
 * Casts to String: integers in base 10, booleans as `true`/`false`. Never fails.
 *
 * @example
 * toStr(-7); // "-7"
 */
export function toStr(v: CesqlValue): string {
  return typeof v === "string" ? v : String(v);
}

/**
 * Casts to the given type.
 *
 * @example
 * castTo("integer", "5", ctx); // 5
 */
export function castTo(t: CesqlType, v: CesqlValue, c: ErrorSink): CesqlValue {
  return t === "string" ? toStr(v) : t === "integer" ? toInt(v, c) : toBool(v, c);
}
