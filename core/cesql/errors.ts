export type CesqlErrorKind = "parse" | "math" | "cast" | "missingAttribute" | "missingFunction" | "functionEvaluation" | "generic";

export interface CesqlError {
  kind: CesqlErrorKind;
  message: string;
}

/**
 * A CESQL expression that does not parse. `position` is the 0-based character offset.
 *
 * @example
 * try { compile("ABC("); } catch (e) { (e as CesqlParseError).message; } // "CESQL parse error at position 4: ..."
 */
export class CesqlParseError extends Error {
  constructor(readonly position: number, readonly reason: string) {
    super(`CESQL parse error at position ${position}: ${reason}`);
    this.name = "CesqlParseError";
  }
}
