import type { FieldError } from "../errors.js";
import type { EventView } from "../cloudevents/view.js";
import { compile as compileCesql, CesqlParseError, matches as cesqlMatches } from "../cesql/index.js";
import { compileAttributes, validateAttributes } from "./attributes.js";
import { compileStringMatch, validateStringMatch, type StringDialect } from "./string-match.js";
import { PASS, type Filter } from "./verdict.js";

export type { Filter } from "./verdict.js";

/** The filter part of a Trigger spec. */
export interface TriggerFilterSpec {
  filter?: { attributes?: Record<string, string> } | null;
  filters?: unknown[] | null;
}

/** A Trigger's filter, compiled once when the Trigger is stored. */
export interface CompiledFilter {
  matches(view: EventView): boolean;
  readonly dialect: "none" | "attributes" | "filters";
}

const DIALECTS = ["exact", "prefix", "suffix", "all", "any", "not", "cesql"] as const;
type Dialect = (typeof DIALECTS)[number];

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validates one Subscriptions API filter expression (an element of `filters`). */
export function validateFilter(f: unknown, field: string): FieldError[] {
  if (!isMap(f)) return [{ field, message: "must be an object with exactly one dialect: exact, prefix, suffix, all, any, not or cesql" }];
  const keys = Object.keys(f);
  const unknown = keys.filter((k) => !(DIALECTS as readonly string[]).includes(k));
  if (unknown.length) return [{ field: `${field}.${unknown[0]}`, message: `unknown filter dialect "${unknown[0]}": use exact, prefix, suffix, all, any, not or cesql` }];
  if (keys.length === 0) return [{ field, message: "names no dialect: use exactly one of exact, prefix, suffix, all, any, not or cesql" }];
  if (keys.length > 1) return [{ field, message: `uses ${keys.length} dialects (${keys.join(", ")}); put each in its own element, inside all: [...] if needed` }];
  const d = keys[0] as Dialect;
  const v = f[d];
  const at = `${field}.${d}`;
  switch (d) {
    case "exact":
    case "prefix":
    case "suffix":
      return validateStringMatch(v, at);
    case "all":
    case "any":
      if (!Array.isArray(v)) return [{ field: at, message: "must be a list of filters" }];
      if (v.length === 0) return [{ field: at, message: "must hold at least one filter" }];
      return v.flatMap((x, i) => validateFilter(x, `${at}[${i}]`));
    case "not":
      if (isMap(v) && Object.keys(v).length === 0) return [{ field: at, message: "must hold a filter (an empty not would match every event)" }];
      return validateFilter(v, at);
    case "cesql":
      if (typeof v !== "string" || v.trim() === "") return [{ field: at, message: "must be a non-empty CloudEvents SQL expression" }];
      try {
        const expr = compileCesql(v);
        if (expr.missingFunctions.length) {
          return [{ field: at, message: `calls unknown function(s) ${expr.missingFunctions.join(", ")}: the built-ins are LENGTH, CONCAT, CONCAT_WS, LOWER, UPPER, TRIM, LEFT, RIGHT, SUBSTRING, ABS, INT, BOOL and STRING` }];
        }
        return [];
      } catch (e) {
        if (e instanceof CesqlParseError) return [{ field: at, message: e.message }];
        throw e;
      }
  }
}

/** Validates a `filters` list (Trigger or EventPolicy). */
export function validateFilters(list: unknown, field: string): FieldError[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [{ field, message: "must be a list of filters" }];
  return list.flatMap((f, i) => validateFilter(f, `${field}[${i}]`));
}

/** Compiles one validated filter expression. */
export function compileFilter(f: Record<string, unknown>): Filter {
  const d = Object.keys(f)[0] as Dialect;
  const v = f[d];
  switch (d) {
    case "exact":
    case "prefix":
    case "suffix":
      return compileStringMatch(d as StringDialect, v as Record<string, string>);
    case "all": {
      const parts = (v as Record<string, unknown>[]).map(compileFilter);
      return (view) => parts.every((p) => p(view));
    }
    case "any": {
      const parts = (v as Record<string, unknown>[]).map(compileFilter);
      return (view) => parts.some((p) => p(view));
    }
    case "not": {
      const inner = compileFilter(v as Record<string, unknown>);
      return (view) => !inner(view);
    }
    case "cesql": {
      const expr = compileCesql(v as string);
      return (view) => cesqlMatches(expr, view);
    }
    default:
      throw new Error(`unknown filter dialect ${String(d)}`);
  }
}

/** Compiles a validated `filters` list: an implicit `all`. */
export function compileFilters(list: unknown[]): Filter {
  if (list.length === 0) return PASS;
  const parts = list.map((f) => compileFilter(f as Record<string, unknown>));
  return parts.length === 1 ? parts[0]! : (view) => parts.every((p) => p(view));
}

/**
 * Validates a Trigger's `filter` and `filters` for admission (422 on any error).
 *
 * @example
 * validateTriggerFilters({ filters: [{ exact: { type: "" } }] });
 * // [{ field: "spec.filters[0].exact.type", message: "must not be empty ..." }]
 */
export function validateTriggerFilters(spec: TriggerFilterSpec, path = "spec"): FieldError[] {
  const errs: FieldError[] = [];
  const legacy = spec.filter;
  if (legacy !== undefined && legacy !== null) {
    if (!isMap(legacy)) errs.push({ field: `${path}.filter`, message: "must be an object with attributes" });
    else errs.push(...validateAttributes(legacy.attributes, `${path}.filter.attributes`));
  }
  errs.push(...validateFilters(spec.filters, `${path}.filters`));
  return errs;
}

/**
 * A Trigger's effective filter: a non-empty `filters` overrides `filter`; `filters: []` counts as
 * absent; no filter passes everything.
 *
 * @example
 * compileTriggerFilter({ filter: { attributes: { type: "t" } }, filters: [] }).dialect; // "attributes"
 */
export function compileTriggerFilter(spec: TriggerFilterSpec): CompiledFilter {
  if (Array.isArray(spec.filters) && spec.filters.length > 0) {
    const f = compileFilters(spec.filters);
    return { matches: f, dialect: "filters" };
  }
  const attrs = spec.filter?.attributes;
  if (attrs && Object.keys(attrs).length > 0) return { matches: compileAttributes(attrs), dialect: "attributes" };
  return { matches: PASS, dialect: "none" };
}
