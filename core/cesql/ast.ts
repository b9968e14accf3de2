import type { CesqlValue } from "./cast.js";

/** Path into the JSON data: object keys and array indexes (Eddy's extension, see docs/filters.md). */
export type DataPath = (string | number)[];

export type Node =
  | { k: "lit"; v: CesqlValue }
  | { k: "id"; name: string }
  | { k: "data"; path: DataPath }
  | { k: "exists"; target: { k: "id"; name: string } | { k: "data"; path: DataPath } }
  | { k: "not"; e: Node }
  | { k: "neg"; e: Node }
  | { k: "bin"; op: string; l: Node; r: Node }
  | { k: "like"; e: Node; pattern: string; not: boolean }
  | { k: "in"; e: Node; set: Node[]; not: boolean }
  | { k: "call"; name: string; args: Node[]; pos: number };
