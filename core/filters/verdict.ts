import type { EventView } from "../cloudevents/view.js";

/**
 * One compiled filter: a pure predicate over an event. Every dialect compiles to this, so `all`,
 * `any` and `not` combine them without knowing which dialect is inside.
 *
 * @example
 * const f: Filter = (v) => v.attr("type") === "com.example";
 */
export type Filter = (view: EventView) => boolean;

export const PASS: Filter = () => true;
