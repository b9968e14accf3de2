/** The CESQL v1 error kinds, spelled as the TCK spells them. */
export type CesqlErrorKind = "parse" | "math" | "cast" | "missingAttribute" | "missingFunction" | "functionEvaluation" | "generic";

/**
 * An evaluation error. It travels beside a value: CESQL expressions always yield a value.
 *
 * @example
 * const e: CesqlError = { kind: "math", message: "division by zero" };
 */
export interface CesqlError {
  kind: CesqlErrorKind;
  message: string;
}

/**
 * A CESQL expression that does not parse. `position` is the 0-based UTF-16 offset into the
 * expression (its length when the input ended too early); `reason` says what was wrong there.
 *
 * @example
 * try { compile("ABC("); } catch (e) { (e as CesqlParseError).position; } // 4
 */
export class CesqlParseError extends Error {
  constructor(readonly position: number, readonly reason: string) {
    super(`CESQL parse error at position ${position}: ${reason}`);
    this.name = "CesqlParseError";
  }
}
