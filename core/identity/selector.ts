import type { FieldError } from "../errors.js";

/** A Kubernetes LabelSelector requirement. */
export interface LabelRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelRequirement[];
}

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];

/**
 * Kubernetes' `LabelSelectorAsSelector(...).Matches(labels)`: every matchLabels pair and every
 * requirement must hold; an empty selector matches everything.
 *
 * @example
 * selectorMatches({ matchExpressions: [{ key: "tier", operator: "In", values: ["edge"] }] }, { tier: "edge" }); // true
 */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const ok = r.operator === "Exists" ? has
      : r.operator === "DoesNotExist" ? !has
      : r.operator === "In" ? has && (r.values ?? []).includes(l[r.key]!)
      : !has || !(r.values ?? []).includes(l[r.key]!);
    if (!ok) return false;
  }
  return true;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** 422 causes for a selector's matchLabels and matchExpressions, named under `field`. */
export function validateSelector(v: Record<string, unknown>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (v.matchLabels !== undefined && (!isMap(v.matchLabels) || Object.values(v.matchLabels).some((x) => typeof x !== "string"))) {
    errs.push({ field: `${field}.matchLabels`, message: "must map label keys to string values" });
  }
  if (v.matchExpressions !== undefined) {
    if (!Array.isArray(v.matchExpressions)) errs.push({ field: `${field}.matchExpressions`, message: "must be a list of {key, operator, values}" });
    else {
      v.matchExpressions.forEach((r, i) => {
        const at = `${field}.matchExpressions[${i}]`;
        if (!isMap(r) || typeof r.key !== "string" || r.key === "") return void errs.push({ field: `${at}.key`, message: "is required" });
        if (!OPERATORS.includes(String(r.operator))) errs.push({ field: `${at}.operator`, message: `must be one of ${OPERATORS.join(", ")}, got ${JSON.stringify(r.operator)}` });
        const needsValues = r.operator === "In" || r.operator === "NotIn";
        const values = r.values;
        if (needsValues && (!Array.isArray(values) || values.length === 0 || values.some((x) => typeof x !== "string"))) {
          errs.push({ field: `${at}.values`, message: `must list at least one string for operator ${String(r.operator)}` });
        } else if (!needsValues && values !== undefined && (!Array.isArray(values) || values.length > 0)) {
          errs.push({ field: `${at}.values`, message: `must be empty for operator ${String(r.operator)}` });
        }
      });
    }
  }
  return errs;
}
