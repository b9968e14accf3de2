import type { EventView } from "../cloudevents/view.js";
import type { CesqlType, CesqlValue } from "./cast.js";
import { compileNode, type Ctx, type Evaluator, staticType } from "./compile.js";
import type { CesqlError, CesqlErrorKind } from "./errors.js";
import { parse } from "./parser.js";

export { CesqlParseError } from "./errors.js";
export type { CesqlErrorKind } from "./errors.js";
export type { CesqlType, CesqlValue } from "./cast.js";

/**
 * What an expression yields: always a value, plus the first error raised if any.
 *
 * @example
 * const r: CesqlResult = { value: 0, error: { kind: "math", message: "division by zero" } };
 */
export interface CesqlResult {
  value: CesqlValue;
  /** The first error raised: evaluation stops there ("fail fast"). */
  error?: { kind: CesqlErrorKind; message: string };
}

/**
 * A parsed and compiled expression, safe to keep and evaluate against any number of events.
 *
 * @example
 * const expr = compile("EXISTS subject");
 * expr.evaluate(eventView(ev)).value; // true or false
 */
export interface CompiledExpression {
  readonly source: string;
  /**
   * Eddy addition: calls that match no built-in (`NAME/arity`). They evaluate to false with a
   * missingFunction error, as the spec says; admission refuses them (see core/filters).
   */
  readonly missingFunctions: readonly string[];
  /** Eddy addition: the result type when known without an event (undefined for `type`, `data.x`). */
  readonly resultType: CesqlType | undefined;
  evaluate(view: EventView): CesqlResult;
}

class Program implements CompiledExpression {
  // Evaluation is synchronous and never re-entrant, so one context per expression suffices.
  private readonly ctx: Ctx = { view: undefined as unknown as EventView, err: undefined };

  constructor(
    readonly source: string,
    private readonly run: Evaluator,
    readonly missingFunctions: readonly string[],
    readonly resultType: CesqlType | undefined,
  ) {}

  evaluate(view: EventView): CesqlResult {
    const c = this.ctx;
    c.view = view;
    c.err = undefined;
    try {
      const value = this.run(c);
      // Read through the interface: TS narrowed c.err to undefined at the reset above.
      const err = (c as { err: CesqlError | undefined }).err;
      return err ? { value, error: { kind: err.kind, message: err.message } } : { value };
    } finally {
      c.view = undefined as unknown as EventView;
      c.err = undefined;
    }
  }

  /** The filter verdict without building a result object. */
  test(view: EventView): boolean {
    const c = this.ctx;
    c.view = view;
    c.err = undefined;
    try {
      return this.run(c) === true && c.err === undefined;
    } finally {
      c.view = undefined as unknown as EventView;
      c.err = undefined;
    }
  }
}

/**
 * Parses and compiles a CloudEvents SQL v1 expression once. Throws CesqlParseError with the
 * position and the reason when it does not parse. Beyond the spec, `data.a.b`, `data.items[0]`,
 * `data['odd-key']` and `EXISTS data.x` read the event's JSON data (docs/filters.md).
 *
 * @example
 * const expr = compile("type LIKE 'com.example.%' AND data.total > 100");
 * expr.evaluate(eventView(ev)); // { value: true }
 */
export function compile(expression: string): CompiledExpression {
  const missing: string[] = [];
  const root = parse(expression);
  const run = compileNode(root, missing);
  return new Program(expression, run, missing, staticType(root));
}

/**
 * The filter verdict: the expression yields Boolean `true` with no error. A non-Boolean result
 * or any error means the event does not pass.
 *
 * @example
 * matches(compile("type = 'com.example'"), eventView(ev)); // true or false
 */
export function matches(expr: CompiledExpression, view: EventView): boolean {
  if (expr instanceof Program) return expr.test(view);
  const r = expr.evaluate(view);
  return r.value === true && r.error === undefined;
}
