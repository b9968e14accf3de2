import { CesqlParseError, compile, matches, type CompiledExpression } from "../cesql/index.js";
import type { FieldError } from "../errors.js";
import type { Filter } from "./verdict.js";

const BUILT_INS = "LENGTH, CONCAT, CONCAT_WS, LOWER, UPPER, TRIM, LEFT, RIGHT, SUBSTRING, ABS, INT, BOOL, STRING and Knative's KN_VERIFY_CORRELATION_ID";

/**
 * Validates a `cesql` expression and returns it compiled, or the reasons it is refused: not a
 * non-empty string, does not parse (the message carries the position and the reason), calls a
 * function that does not exist, or can never yield a Boolean (`'gold'`, `1 + 1`).
 *
 * @example
 * checkCesql("type = ", "spec.filters[0].cesql").errors[0]?.message;
 * // "CESQL parse error at position 7: expected a value, ... but found end of input"
 */
export function checkCesql(v: unknown, field: string): { expr?: CompiledExpression; errors: FieldError[] } {
  if (typeof v !== "string" || v.trim() === "") return { errors: [{ field, message: "must be a non-empty CloudEvents SQL expression" }] };
  let expr: CompiledExpression;
  try {
    expr = compile(v);
  } catch (e) {
    if (e instanceof CesqlParseError) return { errors: [{ field, message: e.message }] };
    throw e;
  }
  if (expr.missingFunctions.length) {
    return { errors: [{ field, message: `calls ${expr.missingFunctions.join(", ")}, which does not exist (NAME/number of arguments); the built-ins are ${BUILT_INS}` }] };
  }
  if (expr.resultType !== undefined && expr.resultType !== "boolean") {
    return { errors: [{ field, message: `always yields ${expr.resultType === "string" ? "a String" : "an Integer"}, so it would never match: a filter passes only when the expression is true` }] };
  }
  return { expr, errors: [] };
}

/**
 * The `cesql` dialect: the event passes when the expression yields Boolean true with no error;
 * false, a non-Boolean result or any evaluation error (a missing attribute, a failed cast) fails.
 *
 * @example
 * cesqlFilter(compile("type LIKE 'com.example.%' AND EXISTS subject"));
 */
export function cesqlFilter(expr: CompiledExpression): Filter {
  return (view) => matches(expr, view);
}
