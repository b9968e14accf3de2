import { type CesqlType, type CesqlValue, type ErrorSink, INT32_MAX, INT32_MIN, raise, toBool, toInt, toStr } from "./cast.js";

/**
 * A built-in function: parameter types (arguments are cast to them), an optional variadic type
 * for the remaining arguments, the result type, and the implementation. An implementation that
 * hits its own error condition raises it and still returns the value the spec gives.
 */
export interface FunctionDef {
  params: (CesqlType | "any")[];
  variadic?: CesqlType;
  returns: CesqlType;
  call(args: CesqlValue[], c: ErrorSink): CesqlValue;
}

const chars = (s: string) => Array.from(s);

/** The CESQL v1 built-ins by upper-case name; several arities per name are allowed. */
export const FUNCTIONS: Record<string, FunctionDef[]> = {
  LENGTH: [{ params: ["string"], returns: "integer", call: ([s]) => chars(s as string).length }],
  CONCAT: [{ params: [], variadic: "string", returns: "string", call: (a) => a.join("") }],
  CONCAT_WS: [{ params: ["string"], variadic: "string", returns: "string", call: ([d, ...rest]) => rest.join(d as string) }],
  LOWER: [{ params: ["string"], returns: "string", call: ([s]) => (s as string).toLowerCase() }],
  UPPER: [{ params: ["string"], returns: "string", call: ([s]) => (s as string).toUpperCase() }],
  TRIM: [{ params: ["string"], returns: "string", call: ([s]) => (s as string).trim() }],
  LEFT: [{
    params: ["string", "integer"], returns: "string",
    call: ([s, n], c) => {
      if ((n as number) < 0) {
        raise(c, "functionEvaluation", `LEFT: the length must not be negative, got ${n}`);
        return s!;
      }
      return chars(s as string).slice(0, n as number).join("");
    },
  }],
  RIGHT: [{
    params: ["string", "integer"], returns: "string",
    call: ([s, n], c) => {
      if ((n as number) < 0) {
        raise(c, "functionEvaluation", `RIGHT: the length must not be negative, got ${n}`);
        return s!;
      }
      const cs = chars(s as string);
      return (n as number) === 0 ? "" : cs.slice(Math.max(0, cs.length - (n as number))).join("");
    },
  }],
  SUBSTRING: [
    { params: ["string", "integer"], returns: "string", call: ([s, p], c) => substring(s as string, p as number, undefined, c) },
    { params: ["string", "integer", "integer"], returns: "string", call: ([s, p, l], c) => substring(s as string, p as number, l as number, c) },
  ],
  ABS: [{
    params: ["integer"], returns: "integer",
    call: ([n], c) => {
      if (n === INT32_MIN) {
        raise(c, "math", "ABS(-2147483648) does not fit in 32 bits");
        return INT32_MAX;
      }
      return Math.abs(n as number);
    },
  }],
  INT: [{ params: ["any"], returns: "integer", call: ([v], c) => toInt(v!, c) }],
  BOOL: [{ params: ["any"], returns: "boolean", call: ([v], c) => toBool(v!, c) }],
  STRING: [{ params: ["any"], returns: "string", call: ([v]) => toStr(v!) }],
};

/** 1-based; a negative position counts from the end; position 0 gives "". */
function substring(s: string, pos: number, len: number | undefined, c: ErrorSink): string {
  const cs = chars(s);
  if (pos === 0) return "";
  if (Math.abs(pos) > cs.length) {
    raise(c, "functionEvaluation", `SUBSTRING: position ${pos} is outside a string of length ${cs.length}`);
    return "";
  }
  if (len !== undefined && len < 0) {
    raise(c, "functionEvaluation", `SUBSTRING: the length must not be negative, got ${len}`);
    return "";
  }
  const start = pos > 0 ? pos - 1 : cs.length + pos;
  return cs.slice(start, len === undefined ? undefined : start + len).join("");
}

/** The overload of `name` taking `n` arguments, if any. */
export function resolveFunction(name: string, n: number): FunctionDef | undefined {
  return FUNCTIONS[name]?.find((f) => (f.variadic ? n >= f.params.length : n === f.params.length));
}
