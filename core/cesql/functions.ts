import { type CesqlType, type CesqlValue, type ErrorSink, INT32_MAX, INT32_MIN, raise, toBool, toInt, toStr } from "./cast.js";

/**
 * A built-in function: parameter types (arguments are cast to them; "any" takes the value as
 * is), an optional variadic type for the remaining arguments, the result type and the body. A
 * body that hits its own error condition raises it and still returns the value the spec gives.
 * `args` is a buffer owned by the call site: read it, never keep it.
 *
 * @example
 * const def = resolveFunction("LEFT", 2)!; def.returns; // "string"
 */
export interface FunctionDef {
  params: readonly (CesqlType | "any")[];
  variadic?: CesqlType;
  returns: CesqlType;
  call(args: readonly CesqlValue[], c: ErrorSink): CesqlValue;
}

// "Character" is a code point, so LENGTH('😀') is 1; these helpers avoid Array.from per call.

/** Number of code points in `s`. */
function cpLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** UTF-16 offset of code point number `n` (0-based), or s.length past the end. */
function cpOffset(s: string, n: number): number {
  let i = 0;
  for (let k = 0; k < n && i < s.length; k++) {
    const c = s.charCodeAt(i);
    const d = s.charCodeAt(i + 1);
    i += c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
  }
  return i;
}

/** Unicode White_Space (what Go's TrimSpace uses); JS trim() would also strip U+FEFF and keep U+0085. */
function isWhiteSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function trim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWhiteSpace(s.charCodeAt(a))) a++;
  while (b > a && isWhiteSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** 1-based; a negative position counts from the end; position 0 gives "". */
function substring(s: string, pos: number, len: number | undefined, c: ErrorSink): string {
  if (pos === 0) return "";
  const n = cpLength(s);
  if (Math.abs(pos) > n) {
    raise(c, "functionEvaluation", `SUBSTRING: position ${pos} is outside a string of length ${n}`);
    return "";
  }
  if (len !== undefined && len < 0) {
    raise(c, "functionEvaluation", `SUBSTRING: the length must not be negative, got ${len}`);
    return "";
  }
  const start = pos > 0 ? pos - 1 : n + pos;
  const end = len === undefined ? n : Math.min(n, start + len);
  return s.slice(cpOffset(s, start), cpOffset(s, end));
}

function leftOrRight(name: "LEFT" | "RIGHT", s: string, k: number, c: ErrorSink): string {
  if (k < 0) {
    raise(c, "functionEvaluation", `${name}: the length must not be negative, got ${k}`);
    return s;
  }
  const n = cpLength(s);
  if (k >= n) return s;
  return name === "LEFT" ? s.slice(0, cpOffset(s, k)) : s.slice(cpOffset(s, n - k));
}

const str = (a: readonly CesqlValue[], i: number) => a[i] as string;

/**
 * Checks a RequestReply correlation id for `KN_VERIFY_CORRELATION_ID`: (id, name, namespace,
 * secretName, replica, replicas). The engine holds no keys; the data-plane object that evaluates
 * filters installs the deployment's (core/requestreply/correlation.ts). Without one, every id fails.
 */
export type CorrelationVerifier = (id: string, name: string, namespace: string, secretName: string, replica: number, replicas: number) => boolean;

let correlationVerifier: CorrelationVerifier = () => false;

/** Installs the verifier `KN_VERIFY_CORRELATION_ID` calls (once per isolate is enough). */
export function setCorrelationVerifier(v: CorrelationVerifier): void {
  correlationVerifier = v;
}
const int = (a: readonly CesqlValue[], i: number) => a[i] as number;

/** The CESQL v1 built-ins by upper-case name; a name may have several arities. */
export const FUNCTIONS: Readonly<Record<string, readonly FunctionDef[]>> = {
  LENGTH: [{ params: ["string"], returns: "integer", call: (a) => cpLength(str(a, 0)) }],
  CONCAT: [{
    params: [], variadic: "string", returns: "string",
    call: (a) => {
      let out = "";
      for (let i = 0; i < a.length; i++) out += str(a, i);
      return out;
    },
  }],
  CONCAT_WS: [{
    params: ["string"], variadic: "string", returns: "string",
    call: (a) => {
      let out = "";
      for (let i = 1; i < a.length; i++) out += i > 1 ? str(a, 0) + str(a, i) : str(a, i);
      return out;
    },
  }],
  LOWER: [{ params: ["string"], returns: "string", call: (a) => str(a, 0).toLowerCase() }],
  UPPER: [{ params: ["string"], returns: "string", call: (a) => str(a, 0).toUpperCase() }],
  TRIM: [{ params: ["string"], returns: "string", call: (a) => trim(str(a, 0)) }],
  LEFT: [{ params: ["string", "integer"], returns: "string", call: (a, c) => leftOrRight("LEFT", str(a, 0), int(a, 1), c) }],
  RIGHT: [{ params: ["string", "integer"], returns: "string", call: (a, c) => leftOrRight("RIGHT", str(a, 0), int(a, 1), c) }],
  SUBSTRING: [
    { params: ["string", "integer"], returns: "string", call: (a, c) => substring(str(a, 0), int(a, 1), undefined, c) },
    { params: ["string", "integer", "integer"], returns: "string", call: (a, c) => substring(str(a, 0), int(a, 1), int(a, 2), c) },
  ],
  ABS: [{
    params: ["integer"], returns: "integer",
    call: (a, c) => {
      const n = int(a, 0);
      if (n === INT32_MIN) {
        raise(c, "math", "ABS(-2147483648) does not fit in 32 bits");
        return INT32_MAX;
      }
      return n < 0 ? -n : n;
    },
  }],
  // The casting functions of CESQL §3.7, used throughout the TCK.
  INT: [{ params: ["any"], returns: "integer", call: (a, c) => toInt(a[0]!, c) }],
  BOOL: [{ params: ["any"], returns: "boolean", call: (a, c) => toBool(a[0]!, c) }],
  STRING: [{ params: ["any"], returns: "string", call: (a) => toStr(a[0]!) }],
  // Knative's extension for the reply Triggers of a RequestReply (pkg/requestreply/cesql.go).
  KN_VERIFY_CORRELATION_ID: [{
    params: ["string", "string", "string", "string", "integer", "integer"], returns: "boolean",
    call: (a) => correlationVerifier(str(a, 0), str(a, 1), str(a, 2), str(a, 3), int(a, 4), int(a, 5)),
  }],
};

/**
 * The overload of `name` (upper case) taking `n` arguments, if any.
 *
 * @example
 * resolveFunction("SUBSTRING", 3)?.params.length; // 3
 * resolveFunction("CONCAT_WS", 0); // undefined: a missingFunction error at evaluation
 */
export function resolveFunction(name: string, n: number): FunctionDef | undefined {
  const defs = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  return defs?.find((f) => (f.variadic ? n >= f.params.length : n === f.params.length));
}
