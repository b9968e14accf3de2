import type { EventView } from "../cloudevents/view.js";
import { compileNode, type Ctx } from "./compile.js";
import type { CesqlValue } from "./cast.js";
import type { CesqlError, CesqlErrorKind } from "./errors.js";
import { parse } from "./parser.js";

export { CesqlParseError } from "./errors.js";
export type { CesqlErrorKind } from "./errors.js";
export type { CesqlValue } from "./cast.js";

export interface CesqlResult {
  value: CesqlValue;
  /** The first error raised, if any: evaluation stops there ("fail fast"). */
  error?: { kind: CesqlErrorKind; message: string };
}

export interface CompiledExpression {
  readonly source: string;
  /** Functions called with no matching overload (`NAME/arity`); they evaluate to false + missingFunction. */
  readonly missingFunctions: readonly string[];
  evaluate(view: EventView): CesqlResult;
}

/**
 * Parses and compiles a CloudEvents SQL v1 expression once; throws CesqlParseError with the
 * position and reason when it does not parse.
 *
 * @example
 * const expr = compile("type LIKE 'com.example.%' AND data.total > 100");
 * expr.evaluate(eventView(ev)); // { value: true }
 */
export function compile(expression: string): CompiledExpression {
  const missingFunctions: string[] = [];
  const run = compileNode(parse(expression), missingFunctions);
  return {
    source: expression,
    missingFunctions,
    evaluate(view) {
      const c: Ctx = { view, err: undefined };
      const value = run(c);
      const err: CesqlError | undefined = c.err;
      return err ? { value, error: err } : { value };
    },
  };
}

/** The filter verdict: the expression yields Boolean true with no error. */
export function matches(expr: CompiledExpression, view: EventView): boolean {
  const r = expr.evaluate(view);
  return r.value === true && !r.error;
}
