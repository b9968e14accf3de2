import type { Filter } from "./verdict.js";

/**
 * The `all` dialect (and the implicit `all` of a top-level `filters` list): every filter passes.
 * Evaluation stops at the first failure, in the order written.
 *
 * @example
 * allFilter([exactFilter({ type: "t" }), prefixFilter({ source: "/a" })]);
 */
export function allFilter(parts: readonly Filter[]): Filter {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) {
    const [a, b] = parts as [Filter, Filter];
    return (view) => a(view) && b(view);
  }
  const list = parts.slice();
  return (view) => {
    for (let i = 0; i < list.length; i++) if (!list[i]!(view)) return false;
    return true;
  };
}

/**
 * The `any` dialect: at least one filter passes. Evaluation stops at the first pass.
 *
 * @example
 * anyFilter([exactFilter({ type: "a" }), exactFilter({ type: "b" })]);
 */
export function anyFilter(parts: readonly Filter[]): Filter {
  if (parts.length === 1) return parts[0]!;
  if (parts.length === 2) {
    const [a, b] = parts as [Filter, Filter];
    return (view) => a(view) || b(view);
  }
  const list = parts.slice();
  return (view) => {
    for (let i = 0; i < list.length; i++) if (list[i]!(view)) return true;
    return false;
  };
}

/**
 * The `not` dialect: the filter inside does not pass. A CESQL expression that errors fails, so
 * `not` of it passes: `not: {cesql: "missing = 'x'"}` passes events without `missing`.
 *
 * @example
 * notFilter(exactFilter({ type: "com.example.deleted" }));
 */
export function notFilter(inner: Filter): Filter {
  return (view) => !inner(view);
}
