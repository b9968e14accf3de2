import type { EventView } from "../cloudevents/view.js";

/**
 * The one verdict type every dialect compiles to: a pure predicate over an event, true when the
 * event passes. `all`, `any` and `not` combine these without knowing which dialect is inside.
 * (Knative's tri-state Pass/Fail/NoFilter is unnecessary: the filters that would give NoFilter,
 * such as `exact: {}` or `not: {}`, are refused at admission.)
 *
 * @example
 * const f: Filter = (v) => v.attr("type") === "com.example";
 */
export type Filter = (view: EventView) => boolean;

/** Passes every event: no filter, or an empty legacy `filter.attributes`. */
export const PASS: Filter = () => true;
