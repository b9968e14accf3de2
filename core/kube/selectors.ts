import { ApiError } from "../errors.js";
import type { Resource } from "../resources/types.js";

/** Whether one object is selected. */
export type Matcher = (r: Resource) => boolean;

const all: Matcher = () => true;
const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside `( )`: `a in (x,y),b` has two requirements. */
function requirements(expr: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of expr) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter((s) => s !== "");
}

function bad(kind: string, expr: string, why: string): ApiError {
  return new ApiError(400, `unable to parse requirement "${expr}" of the ${kind}: ${why}`, [], {}, {}, "BadRequest");
}

function checkKey(key: string, expr: string): void {
  if (!KEY.test(key) || key.length > 317) throw bad("labelSelector", expr, `"${key}" is not a valid label key`);
}

function checkValue(v: string, expr: string): void {
  if (!VALUE.test(v) || v.length > 63) throw bad("labelSelector", expr, `"${v}" is not a valid label value`);
}

/**
 * Parses a Kubernetes label selector (`app=web,tier!=db,env in (a,b),!legacy,owner`), answering
 * 400 naming the requirement that cannot be read.
 *
 * @example
 * labelSelector("env in (prod,staging),!canary")(obj);
 */
export function labelSelector(expr: string | undefined | null): Matcher {
  if (!expr) return all;
  const tests = requirements(expr).map((req): Matcher => {
    let m = /^!\s*(\S+)$/.exec(req);
    if (m) {
      checkKey(m[1]!, req);
      return (r) => r.metadata.labels?.[m![1]!] === undefined;
    }
    m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(req);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      checkKey(key, req);
      checkValue(value, req);
      return op === "!=" ? (r) => r.metadata.labels?.[key] !== value : (r) => r.metadata.labels?.[key] === value;
    }
    m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(req);
    if (m) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      checkKey(key, req);
      const values = new Set(list.split(",").map((s) => s.trim()));
      for (const v of values) checkValue(v, req);
      return op === "in"
        ? (r) => values.has(r.metadata.labels?.[key] as string)
        : (r) => !values.has(r.metadata.labels?.[key] as string);
    }
    if (/^\S+$/.test(req)) {
      checkKey(req, req);
      return (r) => r.metadata.labels?.[req] !== undefined;
    }
    throw bad("labelSelector", req, "use key=value, key!=value, key in (a,b), key notin (a,b), key or !key");
  });
  return (r) => tests.every((t) => t(r));
}

const FIELDS: Record<string, (r: Resource) => string> = {
  "metadata.name": (r) => r.metadata.name,
  "metadata.namespace": (r) => r.metadata.namespace,
};

/**
 * Parses a field selector. Like Kubernetes for custom resources, only `metadata.name` and
 * `metadata.namespace` can be selected, with `=`, `==` or `!=`.
 *
 * @example
 * fieldSelector("metadata.name=default")(obj);
 */
export function fieldSelector(expr: string | undefined | null): Matcher {
  if (!expr) return all;
  const tests = requirements(expr).map((req): Matcher => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw new ApiError(400, `invalid field selector "${req}": use field=value or field!=value`, [], {}, {}, "BadRequest");
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = FIELDS[field];
    if (!get) {
      throw new ApiError(400, `field label not supported: "${field}"; select on ${Object.keys(FIELDS).join(" or ")}, or use a labelSelector`, [], {}, {}, "BadRequest");
    }
    return op === "!=" ? (r) => get(r) !== value : (r) => get(r) === value;
  });
  return (r) => tests.every((t) => t(r));
}
