import type { EventView } from "../cloudevents/view.js";
import type { Node } from "./ast.js";
import { castTo, type CesqlType, type CesqlValue, type ErrorSink, raise, toBool, toInt, toStr, typeOf, ZERO } from "./cast.js";
import { dataPathText, jsonToCesql, readData, whyNoValue } from "./data.js";
import type { CesqlError } from "./errors.js";
import { resolveFunction } from "./functions.js";
import { compileLike } from "./like.js";

/** Evaluation state: the event, and the first error raised. One per compiled expression, reused. */
export interface Ctx extends ErrorSink {
  view: EventView;
  err: CesqlError | undefined;
}

/**
 * A compiled node: computes its value, recording an error in the context when one arises.
 *
 * @example
 * const lit: Evaluator = () => 42;
 */
export type Evaluator = (c: Ctx) => CesqlValue;

const ARITHMETIC = new Set(["+", "-", "*", "/", "%"]);

/**
 * The result type of a node when it is known before evaluation; attribute and data references
 * are only known at run time.
 *
 * @example
 * staticType(parse("1 + 1")); // "integer"
 */
export function staticType(n: Node): CesqlType | undefined {
  switch (n.k) {
    case "lit": return typeOf(n.v);
    case "exists": case "not": case "like": case "in": return "boolean";
    case "neg": return "integer";
    case "bin": return ARITHMETIC.has(n.op) ? "integer" : "boolean";
    case "call": return resolveFunction(n.name, n.args.length)?.returns ?? "boolean";
    default: return undefined;
  }
}

/**
 * Compiles a tree to closures, once, so evaluation neither parses nor allocates beyond the odd
 * string a function builds. The error rule (it passes the TCK; see docs/filters.md): a node that
 * raises its own error returns the value the spec gives for that case, or its zero value; a node
 * whose operand raised one stops at once and returns its own zero value; AND and OR
 * short-circuit first. Calls with no matching overload are listed in `missing` as NAME/arity.
 *
 * @example
 * const run = compileNode(parse("hop + 1"), []);
 */
export function compileNode(n: Node, missing: string[]): Evaluator {
  switch (n.k) {
    case "lit": {
      const v = n.v;
      return () => v;
    }
    case "id": {
      const name = n.name;
      // Built once: filters on absent extensions hit this path for most events. Shared safely,
      // since evaluate() copies the error into its result.
      const missingErr: CesqlError = { kind: "missingAttribute", message: `the event has no attribute "${name}"` };
      return (c) => {
        const v = c.view.attr(name);
        if (v !== undefined) return v;
        if (c.err === undefined) c.err = missingErr;
        return false;
      };
    }
    case "data": {
      const path = n.path;
      return (c) => {
        const raw = readData(c.view, path);
        const v = jsonToCesql(raw);
        if (v !== undefined) return v;
        raise(c, "missingAttribute", `${dataPathText(path)} ${whyNoValue(raw)}`);
        return false;
      };
    }
    case "exists": {
      const t = n.target;
      if (t.k === "id") return (c) => c.view.attr(t.name) !== undefined;
      const path = t.path;
      return (c) => {
        const v = readData(c.view, path);
        return v !== undefined && v !== null;
      };
    }
    case "not": {
      const e = compileNode(n.e, missing);
      return (c) => {
        const v = e(c);
        if (c.err) return false;
        const b = typeof v === "boolean" ? v : toBool(v, c);
        return c.err ? false : !b;
      };
    }
    case "neg": {
      const e = compileNode(n.e, missing);
      return (c) => {
        const v = e(c);
        if (c.err) return 0;
        const i = typeof v === "number" ? v : toInt(v, c);
        return c.err ? 0 : -i | 0;
      };
    }
    case "like": {
      const e = compileNode(n.e, missing);
      const match = compileLike(n.pattern);
      const not = n.not;
      return (c) => {
        const v = e(c);
        if (c.err) return false;
        return match(typeof v === "string" ? v : toStr(v)) !== not;
      };
    }
    case "in":
      return compileIn(n, missing);
    case "bin":
      return compileBinary(n.op, n.l, n.r, missing);
    case "call":
      return compileCall(n, missing);
  }
}

/** `[NOT] IN`: the left operand's type decides how the set's elements are cast. */
function compileIn(n: Extract<Node, { k: "in" }>, missing: string[]): Evaluator {
  const e = compileNode(n.e, missing);
  const not = n.not;
  if (n.set.every((s) => s.k === "lit")) {
    // Cast the literal set once per possible left type. Elements are compared in order, so an
    // element that cannot be cast only matters when nothing before it matched.
    const byType = {} as Record<CesqlType, { values: CesqlValue[]; err: CesqlError | undefined }>;
    for (const t of ["string", "integer", "boolean"] as const) {
      const sink: ErrorSink = { err: undefined };
      const values: CesqlValue[] = [];
      for (const s of n.set) {
        const cv = castTo(t, (s as { v: CesqlValue }).v, sink);
        if (sink.err) break;
        values.push(cv);
      }
      byType[t] = { values, err: sink.err };
    }
    return (c) => {
      const v = e(c);
      if (c.err) return false;
      const set = byType[typeOf(v)];
      const values = set.values;
      for (let i = 0; i < values.length; i++) if (values[i] === v) return !not;
      if (set.err) {
        raise(c, set.err.kind, set.err.message);
        return false;
      }
      return not;
    };
  }
  const set = n.set.map((s) => compileNode(s, missing));
  return (c) => {
    const v = e(c);
    if (c.err) return false;
    const t = typeOf(v);
    for (let i = 0; i < set.length; i++) {
      const w = set[i]!(c);
      if (c.err) return false;
      const cw = castTo(t, w, c);
      if (c.err) return false;
      if (cw === v) return !not;
    }
    return not;
  };
}

type IntOp = (x: number, y: number, c: Ctx) => CesqlValue;

// Integers are int32: + - * wrap around as Go's int32 does in sdk-go (the spec is silent).
const INT_OPS: Record<string, IntOp> = {
  "+": (x, y) => (x + y) | 0,
  "-": (x, y) => (x - y) | 0,
  "*": (x, y) => Math.imul(x, y),
  "/": (x, y, c) => {
    if (y !== 0) return (x / y) | 0;
    raise(c, "math", "division by zero");
    return 0;
  },
  "%": (x, y, c) => {
    if (y !== 0) return x % y | 0;
    raise(c, "math", "modulo by zero");
    return 0;
  },
  "<": (x, y) => x < y,
  "<=": (x, y) => x <= y,
  ">": (x, y) => x > y,
  ">=": (x, y) => x >= y,
};

function compileBinary(op: string, ln: Node, rn: Node, missing: string[]): Evaluator {
  const l = compileNode(ln, missing);
  const r = compileNode(rn, missing);
  const bool = (v: CesqlValue, c: Ctx) => (typeof v === "boolean" ? v : toBool(v, c));
  switch (op) {
    case "AND":
    case "OR": {
      // The spec requires short-circuit evaluation: `false AND (1/0 = 0)` raises nothing.
      const stopOn = op === "OR";
      return (c) => {
        const a = bool(l(c), c);
        if (c.err) return false;
        if (a === stopOn) return a;
        const b = bool(r(c), c);
        return c.err ? false : b;
      };
    }
    case "XOR":
      return (c) => {
        const a = bool(l(c), c);
        if (c.err) return false;
        const b = bool(r(c), c);
        return c.err ? false : a !== b;
      };
    case "=":
    case "!=": {
      const eq = op === "=";
      // Overloaded operator: the right operand's type picks the overload, the left is cast to it.
      if (rn.k === "lit") {
        const rv = rn.v;
        const rt = typeOf(rv);
        return (c) => {
          const a = l(c);
          if (c.err) return false;
          const ca = typeof a === typeof rv ? a : castTo(rt, a, c);
          return c.err ? false : (ca === rv) === eq;
        };
      }
      const rt = staticType(rn);
      return (c) => {
        const a = l(c);
        if (c.err) return false;
        const b = r(c);
        if (c.err) return false;
        const ca = typeof a === typeof b ? a : castTo(rt ?? typeOf(b), a, c);
        return c.err ? false : (ca === b) === eq;
      };
    }
  }
  const f = INT_OPS[op];
  if (!f) throw new Error(`unknown operator ${op}`);
  const zero = ARITHMETIC.has(op) ? 0 : false;
  return (c) => {
    const a = l(c);
    if (c.err) return zero;
    const b = r(c);
    if (c.err) return zero;
    const x = typeof a === "number" ? a : toInt(a, c);
    const y = typeof b === "number" ? b : toInt(b, c);
    return c.err ? zero : f(x, y, c);
  };
}

function compileCall(n: Extract<Node, { k: "call" }>, missing: string[]): Evaluator {
  const fn = resolveFunction(n.name, n.args.length);
  if (!fn) {
    missing.push(`${n.name}/${n.args.length}`);
    const msg = `there is no function ${n.name} taking ${n.args.length} argument${n.args.length === 1 ? "" : "s"}`;
    return (c) => {
      raise(c, "missingFunction", msg);
      return false;
    };
  }
  const args = n.args.map((a) => compileNode(a, missing));
  const types = args.map((_, i) => fn.params[i] ?? fn.variadic!);
  const zero = ZERO[fn.returns];
  // One argument buffer per call site: a call site is never re-entered while its arguments are
  // evaluated, and bodies do not keep the buffer.
  const buf: CesqlValue[] = new Array<CesqlValue>(args.length).fill(false);
  return (c) => {
    for (let i = 0; i < args.length; i++) {
      const v = args[i]!(c);
      if (c.err) return zero;
      const t = types[i]!;
      buf[i] = t === "any" || typeOf(v) === t ? v : castTo(t, v, c);
      if (c.err) return zero;
    }
    return fn.call(buf, c);
  };
}
