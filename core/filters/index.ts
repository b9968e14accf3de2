import type { EventView } from "../cloudevents/view.js";
import type { FieldError } from "../errors.js";
import { attributesFilter, validateAttributes } from "./attributes.js";
import { cesqlFilter, checkCesql } from "./cesql.js";
import { allFilter, anyFilter, notFilter } from "./logic.js";
import { STRING_DIALECTS, validateStringMatch } from "./string-match.js";
import { PASS, type Filter } from "./verdict.js";

export type { Filter } from "./verdict.js";
export { PASS } from "./verdict.js";
export { attributesFilter, validateAttributes } from "./attributes.js";
export { exactFilter, prefixFilter, suffixFilter, validateStringMatch } from "./string-match.js";
export { allFilter, anyFilter, notFilter } from "./logic.js";
export { cesqlFilter, checkCesql } from "./cesql.js";
export { filterAttribute, KEY_RE } from "./lookup.js";

/** The filter part of a Trigger spec. */
export interface TriggerFilterSpec {
  filter?: { attributes?: Record<string, string> } | null;
  filters?: unknown[] | null;
}

/** A Trigger's filter, compiled once when the Trigger is stored or the Broker loads its plan. */
export interface CompiledFilter {
  matches(view: EventView): boolean;
  /** Which part of the spec applies: nothing, legacy `filter.attributes`, or `filters`. */
  readonly dialect: "none" | "attributes" | "filters";
}

/**
 * Thrown by the compile functions when given filters that admission would refuse.
 *
 * @example
 * try { compileFilters([{ exact: {} }]); } catch (e) { (e as FilterValidationError).errors[0]?.field; } // "filters[0].exact"
 */
export class FilterValidationError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(`invalid filter: ${errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`);
    this.name = "FilterValidationError";
  }
}

/** The Subscriptions API dialects Knative accepts in `filters`. */
export const DIALECTS = ["exact", "prefix", "suffix", "all", "any", "not", "cesql"] as const;
type Dialect = (typeof DIALECTS)[number];
const DIALECT_LIST = "exact, prefix, suffix, all, any, not or cesql";

/** all/any/not nested deeper than this are refused: validation and evaluation recurse per level. */
export const MAX_FILTER_DEPTH = 32;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates and compiles one filter element in a single pass, so what admission accepts and what
 * runs cannot drift apart. Problems go to `errs`; the returned filter is only meaningful when
 * none were added.
 */
function build(f: unknown, field: string, errs: FieldError[], depth: number): Filter {
  const fail = (at: string, message: string) => (errs.push({ field: at, message }), PASS);
  if (depth > MAX_FILTER_DEPTH) return fail(field, `nests all/any/not more than ${MAX_FILTER_DEPTH} deep`);
  if (!isMap(f)) return fail(field, `must be an object with exactly one dialect: ${DIALECT_LIST}`);
  const keys = Object.keys(f);
  const unknown = keys.find((k) => !(DIALECTS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    const hint = unknown === "sql" ? ' (Knative names the CloudEvents SQL dialect "cesql")' : "";
    return fail(`${field}.${unknown}`, `unknown filter dialect ${JSON.stringify(unknown)}${hint}: use ${DIALECT_LIST}`);
  }
  if (keys.length === 0) return fail(field, `names no dialect: use exactly one of ${DIALECT_LIST}`);
  if (keys.length > 1) return fail(field, `uses ${keys.length} dialects (${keys.join(", ")}); give each its own element, inside all: [...] if needed`);
  const d = keys[0] as Dialect;
  const v = f[d];
  const at = `${field}.${d}`;
  switch (d) {
    case "exact":
    case "prefix":
    case "suffix": {
      const problems = validateStringMatch(v, at);
      errs.push(...problems);
      return problems.length ? PASS : STRING_DIALECTS[d](v as Record<string, string>);
    }
    case "all":
    case "any": {
      if (!Array.isArray(v)) return fail(at, "must be a list of filters");
      if (v.length === 0) return fail(at, `must hold at least one filter (Knative would ignore an empty ${d})`);
      const parts = v.map((x, i) => build(x, `${at}[${i}]`, errs, depth + 1));
      return d === "all" ? allFilter(parts) : anyFilter(parts);
    }
    case "not":
      if (isMap(v) && Object.keys(v).length === 0) return fail(at, "must hold a filter (Knative would let an empty not match every event)");
      return notFilter(build(v, at, errs, depth + 1));
    case "cesql": {
      const { expr, errors } = checkCesql(v, at);
      errs.push(...errors);
      return expr ? cesqlFilter(expr) : PASS;
    }
  }
}

function buildList(list: unknown, field: string, errs: FieldError[]): Filter {
  if (list === undefined || list === null) return PASS;
  if (!Array.isArray(list)) {
    errs.push({ field, message: "must be a list of filters" });
    return PASS;
  }
  if (list.length === 0) return PASS;
  return allFilter(list.map((f, i) => build(f, `${field}[${i}]`, errs, 1)));
}

/**
 * Validates one Subscriptions API filter element.
 *
 * @example
 * validateFilter({ exact: { type: "x" }, suffix: { type: "y" } }, "spec.filters[0]"); // one error: two dialects
 */
export function validateFilter(f: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  build(f, field, errs, 1);
  return errs;
}

/**
 * Validates a bare `filters` list (Trigger, EventPolicy). Absent or null is valid.
 *
 * @example
 * validateFilters([{ cesql: "type = " }], "spec.filters"); // [{ field: "spec.filters[0].cesql", message: "CESQL parse error at position 7: ..." }]
 */
export function validateFilters(list: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  buildList(list, field, errs);
  return errs;
}

/**
 * Compiles one filter element; throws FilterValidationError if it is not valid.
 *
 * @example
 * compileFilter({ prefix: { type: "com.example." } })(eventView(ev));
 */
export function compileFilter(f: unknown): Filter {
  const errs: FieldError[] = [];
  const filter = build(f, "filter", errs, 1);
  if (errs.length) throw new FilterValidationError(errs);
  return filter;
}

/**
 * Compiles a bare `filters` list as an implicit `all`; an empty list passes everything. Throws
 * FilterValidationError if it is not valid.
 *
 * @example
 * const f = compileFilters([{ exact: { type: "a" } }, { cesql: "EXISTS subject" }]);
 */
export function compileFilters(list: unknown[]): Filter {
  const errs: FieldError[] = [];
  const filter = buildList(list, "filters", errs);
  if (errs.length) throw new FilterValidationError(errs);
  return filter;
}

function legacyAttributes(spec: TriggerFilterSpec, path: string, errs: FieldError[]): Record<string, string> | undefined {
  const legacy: unknown = spec.filter;
  if (legacy === undefined || legacy === null) return undefined;
  if (!isMap(legacy)) {
    errs.push({ field: `${path}.filter`, message: "must be an object with attributes" });
    return undefined;
  }
  errs.push(...validateAttributes(legacy.attributes, `${path}.filter.attributes`));
  return isMap(legacy.attributes) ? (legacy.attributes as Record<string, string>) : undefined;
}

/**
 * Validates a Trigger's `filter` and `filters` for admission; the control plane answers 422 with
 * the errors. Both parts are checked even though a non-empty `filters` wins.
 *
 * @example
 * validateTriggerFilters({ filters: [{ exact: { type: "" } }] });
 * // [{ field: "spec.filters[0].exact.type", message: "must not be empty ..." }]
 */
export function validateTriggerFilters(spec: TriggerFilterSpec, path = "spec"): FieldError[] {
  const errs: FieldError[] = [];
  legacyAttributes(spec, path, errs);
  buildList(spec.filters, `${path}.filters`, errs);
  return errs;
}

/**
 * A Trigger's effective filter: a non-empty `filters` overrides `filter` (an implicit `all`);
 * `filters: []` counts as absent; an empty or absent `filter.attributes` passes everything.
 * Throws FilterValidationError when the spec would not pass admission.
 *
 * @example
 * compileTriggerFilter({ filter: { attributes: { type: "t" } }, filters: [] }).dialect; // "attributes"
 */
export function compileTriggerFilter(spec: TriggerFilterSpec): CompiledFilter {
  const errs: FieldError[] = [];
  const attrs = legacyAttributes(spec, "spec", errs);
  const filters = buildList(spec.filters, "spec.filters", errs);
  if (errs.length) throw new FilterValidationError(errs);
  if (Array.isArray(spec.filters) && spec.filters.length > 0) return { matches: filters, dialect: "filters" };
  if (attrs && Object.keys(attrs).length > 0) return { matches: attributesFilter(attrs), dialect: "attributes" };
  return { matches: PASS, dialect: "none" };
}
