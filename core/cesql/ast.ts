import type { CesqlValue } from "./cast.js";

/**
 * A path into the event's JSON data: object keys and array indexes. Eddy's extension to CESQL;
 * see docs/filters.md.
 *
 * @example
 * const p: DataPath = ["items", 0, "sku"]; // data.items[0].sku
 */
export type DataPath = readonly (string | number)[];

/** An attribute reference (lower-cased name) or a data path; what EXISTS accepts. */
export type Ref = { k: "id"; name: string } | { k: "data"; path: DataPath };

/**
 * The parsed expression. Binary operators are spelled as in the source, upper-cased, with `<>`
 * normalised to `!=`.
 *
 * @example
 * const n: Node = { k: "bin", op: "=", l: { k: "id", name: "type" }, r: { k: "lit", v: "t" } };
 */
export type Node =
  | { k: "lit"; v: CesqlValue }
  | Ref
  | { k: "exists"; target: Ref }
  | { k: "not"; e: Node }
  | { k: "neg"; e: Node }
  | { k: "bin"; op: string; l: Node; r: Node }
  | { k: "like"; e: Node; pattern: string; not: boolean }
  | { k: "in"; e: Node; set: Node[]; not: boolean }
  | { k: "call"; name: string; args: Node[]; pos: number };
