import { type CST, Composer, LineCounter, Parser } from "yaml";
import { ApiError } from "../../core/errors.js";
import { fieldPath, jsonChildren, jsonTooDeepAt, MAX_MANIFEST_DEPTH, type PathKey, treeTooDeep } from "../../core/nesting.js";
import { readBody } from "../body.js";
import { protobufObject } from "../../core/kube/protobuf.js";

const MAX_MANIFEST_BYTES = 1024 * 1024;
const YAML_TYPES = new Set(["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"]);
const FLATTEN = `manifests may nest objects and lists at most ${MAX_MANIFEST_DEPTH} levels deep`;

/**
 * Reads one resource manifest from a request: JSON, or YAML with `Content-Type: application/yaml`.
 * Without a clear type (curl's default form encoding) JSON is tried first, then YAML. A manifest
 * nested deeper than MAX_MANIFEST_DEPTH is refused with 400 before anything recursive reads it.
 *
 * @example
 * const body = await readManifest(c.req.raw); // { apiVersion: "eventing.knative.dev/v1", kind: "Broker", ... }
 */
export async function readManifest(req: Request): Promise<unknown> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const bytes = await readBody(req, MAX_MANIFEST_BYTES);
  const text = new TextDecoder().decode(bytes);
  if (!text.trim()) throw new ApiError(400, "the request body is empty: send the resource as JSON or YAML");
  // What kubectl sends for Kubernetes' own kinds (Secrets, Roles, bindings, reviews).
  if (type === "application/vnd.kubernetes.protobuf") {
    try {
      return protobufObject(bytes);
    } catch (e) {
      throw new ApiError(400, `the protobuf body cannot be read (${(e as Error).message}); send it as JSON or YAML instead`);
    }
  }
  if (YAML_TYPES.has(type)) return parseYaml(text);
  if (type === "application/json" || type.endsWith("+json")) return parseJson(bytes, text);
  let value: unknown;
  try {
    value = JSON.parse(text); // iterative in V8: safe to run before the depth check
  } catch {
    return parseYaml(text);
  }
  checkJsonDepth(bytes);
  return value;
}

function checkJsonDepth(bytes: Uint8Array): void {
  const at = jsonTooDeepAt(bytes, MAX_MANIFEST_DEPTH);
  if (at >= 0) throw new ApiError(400, `the JSON body nests deeper than ${MAX_MANIFEST_DEPTH} levels (level ${MAX_MANIFEST_DEPTH + 1} opens at byte ${at}): ${FLATTEN}`);
}

function parseJson(bytes: Uint8Array, text: string): unknown {
  checkJsonDepth(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError(400, `the body is not valid JSON (${(e as Error).message}); for YAML send Content-Type: application/yaml`);
  }
}

/** Children of a YAML syntax-tree node: the keys and values of a collection's items. */
function cstChildren(t: CST.Token): Iterable<[PathKey, CST.Token]> | undefined {
  if (t.type !== "block-map" && t.type !== "block-seq" && t.type !== "flow-collection") return undefined;
  const out: [PathKey, CST.Token][] = [];
  t.items.forEach((item, i) => {
    if (item.key) out.push([i, item.key]);
    if (item.value) out.push([i, item.value]);
  });
  return out;
}

function parseYaml(text: string): unknown {
  const lines = new LineCounter();
  // The parser keeps an explicit stack; the composer and toJS recurse per level, so the syntax tree
  // is measured between them.
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  for (const t of tokens) {
    if (t.type !== "document" || !t.value) continue;
    const deep = treeTooDeep(t.value, MAX_MANIFEST_DEPTH, cstChildren);
    if (deep) {
      const { line, col } = lines.linePos(deep.node.offset);
      throw new ApiError(400, `the YAML body nests deeper than ${MAX_MANIFEST_DEPTH} levels (level ${MAX_MANIFEST_DEPTH + 1} starts at line ${line}, column ${col}): ${FLATTEN}`);
    }
  }
  const docs = [...new Composer().compose(tokens)].filter((d) => d.contents !== null);
  if (docs.length === 0) throw new ApiError(400, "the YAML body holds no document");
  if (docs.length > 1) throw new ApiError(400, `the YAML body holds ${docs.length} documents; send one resource per request`);
  const doc = docs[0]!;
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const { line, col } = lines.linePos(e.pos[0]);
    throw new ApiError(400, `the body is not valid YAML at line ${line}, column ${col}: ${e.message.split("\n")[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS(); // caps alias expansion (maxAliasCount), throwing on a "billion laughs" body
  } catch (e) {
    throw new ApiError(400, `the YAML body cannot be read: ${(e as Error).message}; expand fewer aliases, or send JSON`);
  }
  // Aliases reuse a node, so a short text can stand for a deep or even cyclic value.
  const deep = treeTooDeep(value, MAX_MANIFEST_DEPTH, jsonChildren);
  if (deep) {
    throw new ApiError(400, `the YAML body nests deeper than ${MAX_MANIFEST_DEPTH} levels once its aliases are expanded (at ${fieldPath(deep.path)}), or an alias refers to a node that contains it: ${FLATTEN}`);
  }
  const odd = notJson(value);
  if (odd) {
    throw new ApiError(400, `the YAML body holds ${odd.what} at ${fieldPath(odd.path)}: a manifest holds only what JSON can (strings, finite numbers, booleans, null, lists and maps); write it as a string`);
  }
  return value;
}

/**
 * The first value JSON cannot carry, which YAML tags produce: `!!binary` (bytes), `!!set`,
 * `!!omap`, `!!timestamp` (a Date), `.nan` and `.inf`. Iterative; the value is known to be at most
 * MAX_MANIFEST_DEPTH deep and acyclic by now, and shared nodes are visited once.
 */
function notJson(root: unknown): { path: PathKey[]; what: string } | undefined {
  const seen = new Set<object>();
  const stack: { v: unknown; path: PathKey[] }[] = [{ v: root, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v === "string" || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return { path, what: `a number JSON cannot write (${Number.isNaN(v) ? ".nan" : v > 0 ? ".inf" : "-.inf"})` };
      continue;
    }
    if (typeof v !== "object") return { path, what: `a value of type ${typeof v}` };
    if (seen.has(v)) continue;
    seen.add(v);
    const proto = Object.getPrototypeOf(v);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
    else if (proto === Object.prototype || proto === null) for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
    else return { path, what: `a ${proto?.constructor?.name ?? "non-JSON"} value (a YAML tag such as !!binary, !!set, !!omap or !!timestamp)` };
  }
  return undefined;
}
