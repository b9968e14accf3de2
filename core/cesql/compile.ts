import type { EventView } from "../cloudevents/view.js";
import { NO_JSON } from "../cloudevents/view.js";
import type { DataPath, Node } from "./ast.js";
import { castTo, type CesqlType, type CesqlValue, type ErrorSink, INT32_MAX, INT32_MIN, raise, toBool, toInt, toStr, typeOf, ZERO } from "./cast.js";
import type { CesqlError } from "./errors.js";
import { resolveFunction } from "./functions.js";
import { compileLike } from "./like.js";

/** Evaluation state: the event, and the first error raised (evaluation stops there). */
export interface Ctx extends ErrorSink {
  view: EventView;
  err: CesqlError | undefined;
}

export type Evaluator = (c: Ctx) => CesqlValue;

/** Result type of a node when known before evaluation; identifiers are only known at run time. */
function staticType(n: Node): CesqlType | undefined {
  switch (n.k) {
    case "lit":
      return typeOf(n.v);
    case "exists": case "not": case "like": case "in":
      return "boolean";
    case "neg":
      return "integer";
    case "bin":
      return ["+", "-", "*", "/", "%"].includes(n.op) ? "integer" : "boolean";
    case "call":
      return resolveFunction(n.name, n.args.length)?.returns ?? "boolean";
    default:
      return undefined;
  }
}

function readData(view: EventView, path: DataPath): unknown {
  let v = view.json();
  if (v === NO_JSON) return undefined;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    if (typeof key === "number") {
      if (!Array.isArray(v)) return undefined;
      v = v[key];
    } else {
      if (Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
      v = (v as Record<string, unknown>)[key];
    }
  }
  return v;
}

function pathText(path: DataPath): string {
  return "data" + path.map((k) => (typeof k === "number" ? `[${k}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `['${k}']`)).join("");
}

/**
 * Compiles an AST to a closure tree, so evaluation does no parsing and little allocation.
 * Error rule (passes the TCK): a node that raises its own error returns the spec's value for that
 * case (or its zero value); a node whose operand errored stops and returns its own zero value.
 */
export function compileNode(n: Node, missingFunctions: string[]): Evaluator {
  switch (n.k) {
    case "lit": {
      const v = n.v;
      return () => v;
    }
    case "id": {
      const name = n.name;
      return (c) => {
        const v = c.view.attr(name);
        if (v === undefined) {
          raise(c, "missingAttribute", `the event has no attribute "${name}"`);
          return false;
        }
        return v;
      };
    }
    case "data": {
      const path = n.path;
      const text = pathText(path);
      return (c) => {
        const v = readData(c.view, path);
        if (typeof v === "string" || typeof v === "boolean") return v;
        if (typeof v === "number" && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) return v;
        raise(c, "missingAttribute", `${text} is absent, or not a string, boolean or 32-bit integer`);
        return false;
      };
    }
    case "exists": {
      const t = n.target;
      if (t.k === "id") return (c) => c.view.attr(t.name) !== undefined;
      return (c) => {
        const v = readData(c.view, t.path);
        return v !== undefined && v !== null;
      };
    }
    case "not": {
      const e = compileNode(n.e, missingFunctions);
      return (c) => {
        const v = e(c);
        if (c.err) return false;
        const b = toBool(v, c);
        return c.err ? false : !b;
      };
    }
    case "neg": {
      const e = compileNode(n.e, missingFunctions);
      return (c) => {
        const v = e(c);
        if (c.err) return 0;
        const i = toInt(v, c);
        return c.err ? 0 : -i | 0;
      };
    }
    case "like": {
      const e = compileNode(n.e, missingFunctions);
      const match = compileLike(n.pattern);
      const not = n.not;
      return (c) => {
        const v = e(c);
        if (c.err) return false;
        return match(toStr(v)) !== not;
      };
    }
    case "in": {
      const e = compileNode(n.e, missingFunctions);
      const set = n.set.map((s) => compileNode(s, missingFunctions));
      const not = n.not;
      return (c) => {
        const v = e(c);
        if (c.err) return false;
        const t = typeOf(v);
        for (const s of set) {
          const w = s(c);
          if (c.err) return false;
          const cw = castTo(t, w, c);
          if (c.err) return false;
          if (cw === v) return !not;
        }
        return not;
      };
    }
    case "bin":
      return compileBinary(n.op, n.l, n.r, missingFunctions);
    case "call":
      return compileCall(n, missingFunctions);
  }
}

function compileBinary(op: string, ln: Node, rn: Node, mf: string[]): Evaluator {
  const l = compileNode(ln, mf);
  const r = compileNode(rn, mf);
  if (op === "AND" || op === "OR" || op === "XOR") {
    return (c) => {
      const a = l(c);
      if (c.err) return false;
      const ab = toBool(a, c);
      if (c.err) return false;
      if (op === "AND" && !ab) return false;
      if (op === "OR" && ab) return true;
      const b = r(c);
      if (c.err) return false;
      const bb = toBool(b, c);
      if (c.err) return false;
      return op === "XOR" ? ab !== bb : bb;
    };
  }
  if (op === "=" || op === "!=") {
    const eq = op === "=";
    const rightType = staticType(rn);
    return (c) => {
      const a = l(c);
      if (c.err) return false;
      const b = r(c);
      if (c.err) return false;
      // Overloaded operator: the right operand's type picks the overload; the left is cast to it.
      const ca = castTo(rightType ?? typeOf(b), a, c);
      if (c.err) return false;
      return (ca === b) === eq;
    };
  }
  const arith = ["+", "-", "*", "/", "%"].includes(op);
  return (c) => {
    const zero = arith ? 0 : false;
    const a = l(c);
    if (c.err) return zero;
    const b = r(c);
    if (c.err) return zero;
    const x = toInt(a, c);
    const y = toInt(b, c);
    if (c.err) return zero;
    switch (op) {
      case "+": return (x + y) | 0;
      case "-": return (x - y) | 0;
      case "*": return Math.imul(x, y);
      case "/":
      case "%":
        if (y === 0) {
          raise(c, "math", `${op === "/" ? "division" : "modulo"} by zero`);
          return 0;
        }
        return op === "/" ? Math.trunc(x / y) | 0 : x % y;
      case "<": return x < y;
      case "<=": return x <= y;
      case ">": return x > y;
      default: return x >= y;
    }
  };
}

function compileCall(n: Extract<Node, { k: "call" }>, mf: string[]): Evaluator {
  const fn = resolveFunction(n.name, n.args.length);
  if (!fn) {
    mf.push(`${n.name}/${n.args.length}`);
    const msg = `no function ${n.name} taking ${n.args.length} argument(s)`;
    return (c) => {
      raise(c, "missingFunction", msg);
      return false;
    };
  }
  const args = n.args.map((a) => compileNode(a, mf));
  const types = args.map((_, i) => fn.params[i] ?? fn.variadic!);
  const zero = ZERO[fn.returns];
  return (c) => {
    const vals: CesqlValue[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) {
      const v = args[i]!(c);
      if (c.err) return zero;
      const t = types[i]!;
      vals[i] = t === "any" ? v : castTo(t, v, c);
      if (c.err) return zero;
    }
    return fn.call(vals, c);
  };
}
