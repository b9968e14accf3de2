import jsonata from "jsonata";
import type { FieldError } from "../errors.js";

/**
 * What one evaluation may use. JSONata checks the time and the depth each time it enters a node,
 * and refuses sequences longer than the limit as they grow; strings are checked as each node
 * returns (a doubling `&` stops one step past the limit) and `$pad` is refused up front. Nothing
 * else stops an expression, and workerd enforces no budget of its own here.
 */
export interface EvalLimits {
  /** Wall-clock time of one evaluation. */
  timeoutMs: number;
  /** Nesting of evaluation (recursion through user functions included). */
  depth: number;
  /** Items of one sequence. */
  sequence: number;
  /** Characters of any string a node produces (the event size limit). */
  stringChars: number;
}

export const DEFAULT_EVAL_LIMITS: EvalLimits = { timeoutMs: 100, depth: 300, sequence: 100_000, stringChars: 256 * 1024 };

/** A JSONata error, as the library throws it (a plain object with a code and a character position). */
interface JsonataFailure {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
}

/** An expression compiled once (per plan) and evaluated for many events. */
export interface CompiledTransform {
  readonly source: string;
  /** The result, or why there is none (the message names the position and the JSONata code). */
  evaluate(input: unknown): Promise<{ value: unknown } | { error: string }>;
}

/** Line and column (both 1-based) of JSONata's 1-based character position in `src`. */
export function lineColumn(src: string, position: number): { line: number; column: number } {
  const upto = src.slice(0, Math.max(0, position - 1));
  const lines = upto.split("\n");
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

function describe(src: string, e: JsonataFailure): string {
  const code = e.code ? ` (${e.code})` : "";
  const text = e.message ?? String(e);
  if (typeof e.position !== "number" || e.position <= 0) return `${text}${code}`;
  const { line, column } = lineColumn(src, e.position);
  const hint = e.token === "#" ? "; JSONata comments are written /* like this */, not with #"
    : e.code === "T1006" && e.token ? `: $${e.token} is not a JSONata function (see https://docs.jsonata.org/string-functions)` : "";
  return `at line ${line}, column ${column}: ${text}${code}${hint}`;
}

/**
 * Compiles an expression, or says at which line and column it does not parse. For admission:
 * an EventTransform whose expression does not compile is refused with 422 naming the field.
 *
 * @example
 * checkExpression("{ \"a\": id", "spec.jsonata.expression");
 * // [{ field: "spec.jsonata.expression", message: 'is not valid JSONata at line 1, column 8: Expected "}" before end of expression (S0203)' }]
 */
export function checkExpression(src: unknown, field: string): FieldError[] {
  if (typeof src !== "string" || src.trim() === "") return [{ field, message: "is required: a JSONata expression that yields the CloudEvent to send" }];
  try {
    jsonata(src);
    return [];
  } catch (e) {
    return [{ field, message: `is not valid JSONata ${describe(src, e as JsonataFailure)}` }];
  }
}

/**
 * Compiles an expression that admission accepted, with the evaluation limits applied. The input
 * is the event in the JSON event format (core/transform/event-json.ts).
 *
 * @example
 * const t = compileTransform('{"specversion": "1.0", "id": id, "source": source, "type": "x", "data": data}');
 * await t.evaluate({ id: "1", source: "/s", data: { a: 1 } }); // { value: { specversion: "1.0", ... } }
 */
export function compileTransform(src: string, limits: EvalLimits = DEFAULT_EVAL_LIMITS): CompiledTransform {
  const expr = jsonata(src, { timeout: limits.timeoutMs, stack: limits.depth, sequence: limits.sequence });
  const tooLong = (n: number) => ({ code: "E0001", message: `a string of ${n} characters is longer than the ${limits.stringChars}-character event limit` });
  // Checked as each node returns, so a growing string stops near the limit rather than at memory's end.
  expr.assign(Symbol.for("jsonata.__evaluate_exit") as unknown as string, (_node: unknown, _input: unknown, _env: unknown, result: unknown) => {
    if (typeof result === "string" && result.length > limits.stringChars) throw tooLong(result.length);
  });
  // $pad builds its whole result in one call, before any node returns: the same function, bounded first.
  expr.registerFunction("pad", (str: string | undefined, width: number, char?: string) => {
    if (str === undefined) return undefined;
    const w = Math.trunc(width);
    if (Math.abs(w) > limits.stringChars) throw tooLong(Math.abs(w));
    const fill = char === undefined || char === "" ? " " : char;
    const missing = Math.abs(w) - [...str].length;
    if (missing <= 0) return str;
    const padding = [...fill.repeat(Math.ceil(missing / [...fill].length))].slice(0, missing).join("");
    return w > 0 ? str + padding : padding + str;
  }, "<s-ns?:s>");
  return {
    source: src,
    async evaluate(input) {
      try {
        return { value: await expr.evaluate(input) };
      } catch (e) {
        return { error: describe(src, e as JsonataFailure) };
      }
    },
  };
}
