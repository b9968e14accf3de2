import { ApiError } from "../errors.js";

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * RFC 7386 JSON merge patch (`application/merge-patch+json`): maps merge, `null` removes, anything
 * else replaces. What `kubectl patch --type=merge` and client-side `kubectl apply` send for
 * custom resources.
 *
 * @example
 * mergePatch({ spec: { a: 1, b: 2 } }, { spec: { b: null, c: 3 } }); // { spec: { a: 1, c: 3 } }
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function bad(i: number, why: string): ApiError {
  return new ApiError(422, `the JSON patch cannot be applied: operation ${i}: ${why}`, [], {}, {}, "Invalid");
}

/** An RFC 6901 pointer as keys: `/spec/filters/0` → ["spec", "filters", "0"]. */
function pointer(p: unknown, i: number): string[] {
  if (typeof p !== "string" || (p !== "" && !p.startsWith("/"))) throw bad(i, `path ${JSON.stringify(p)} must be a JSON pointer such as /spec/delivery/retry`);
  return p === "" ? [] : p.slice(1).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function parentOf(doc: unknown, keys: string[], i: number, path: string): unknown {
  let cur = doc;
  for (const k of keys.slice(0, -1)) {
    const next = Array.isArray(cur) ? cur[Number(k)] : isMap(cur) ? cur[k] : undefined;
    if (next === undefined || typeof next !== "object" || next === null) throw bad(i, `${path}: ${k} does not exist`);
    cur = next;
  }
  return cur;
}

function index(arr: unknown[], k: string, i: number, path: string, adding: boolean): number {
  if (adding && k === "-") return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(k)) throw bad(i, `${path}: "${k}" is not an array index`);
  const n = Number(k);
  if (n > arr.length || (!adding && n === arr.length)) throw bad(i, `${path}: index ${n} is out of bounds (length ${arr.length})`);
  return n;
}

function read(doc: unknown, keys: string[], i: number, path: string): unknown {
  let cur = doc;
  for (const k of keys) {
    cur = Array.isArray(cur) ? cur[index(cur, k, i, path, false)] : isMap(cur) && k in cur ? cur[k] : undefined;
    if (cur === undefined) throw bad(i, `${path} does not exist`);
  }
  return cur;
}

function remove(doc: unknown, keys: string[], i: number, path: string): unknown {
  if (keys.length === 0) throw bad(i, "cannot remove the whole object");
  const parent = parentOf(doc, keys, i, path);
  const k = keys[keys.length - 1]!;
  if (Array.isArray(parent)) return parent.splice(index(parent, k, i, path, false), 1)[0];
  if (!isMap(parent) || !(k in parent)) throw bad(i, `${path} does not exist`);
  const v = parent[k];
  delete parent[k];
  return v;
}

function add(doc: unknown, keys: string[], value: unknown, i: number, path: string, replace = false): unknown {
  if (keys.length === 0) return value;
  const parent = parentOf(doc, keys, i, path);
  const k = keys[keys.length - 1]!;
  if (Array.isArray(parent)) {
    const n = index(parent, k, i, path, !replace);
    parent.splice(n, replace ? 1 : 0, value);
  } else if (isMap(parent)) {
    if (replace && !(k in parent)) throw bad(i, `${path} does not exist: use "add"`);
    parent[k] = value;
  } else throw bad(i, `${path}: the parent is not an object or array`);
  return doc;
}

/**
 * RFC 6902 JSON patch (`application/json-patch+json`, `kubectl patch --type=json`): add, remove,
 * replace, move, copy and test, applied in order to a copy. A failing operation answers 422 naming
 * its index and path; nothing is applied then.
 *
 * @example
 * jsonPatch(broker, [{ op: "replace", path: "/spec/delivery/retry", value: 3 }]);
 */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(400, "a JSON patch must be a JSON array of operations such as [{\"op\":\"replace\",\"path\":\"/spec/x\",\"value\":1}]");
  let doc = structuredClone(target);
  ops.forEach((raw, i) => {
    if (!isMap(raw)) throw bad(i, "must be an object with op and path");
    const o = raw as unknown as Op;
    const keys = pointer(o.path, i);
    switch (o.op) {
      case "add":
      case "replace":
        if (!("value" in o)) throw bad(i, `"${o.op}" needs a value`);
        doc = add(doc, keys, structuredClone(o.value), i, o.path, o.op === "replace");
        break;
      case "remove":
        remove(doc, keys, i, o.path);
        break;
      case "move":
      case "copy": {
        const from = pointer(o.from, i);
        const v = o.op === "move" ? remove(doc, from, i, String(o.from)) : structuredClone(read(doc, from, i, String(o.from)));
        doc = add(doc, keys, v, i, o.path);
        break;
      }
      case "test":
        if (JSON.stringify(read(doc, keys, i, o.path)) !== JSON.stringify(o.value)) throw bad(i, `test failed: ${o.path} is not ${JSON.stringify(o.value)}`);
        break;
      default:
        throw bad(i, `unknown op ${JSON.stringify(o.op)}: use add, remove, replace, move, copy or test`);
    }
  });
  return doc;
}
