import type { FieldError } from "./errors.js";

/**
 * The one shape every RPC between Eddy's Worker and its Durable Objects answers in: the value, or a
 * failure with the HTTP status it maps to and a message that names the cause and the fix (plus,
 * for the API, the Kubernetes reason, the fields at fault and what was asked for). Custom error
 * classes do not cross an RPC boundary, so failures travel as data; `unwrap` (core/errors.ts) turns
 * one back into the ApiError the Worker answers with.
 *
 * @example
 * return fail(404, `Broker "x" does not exist`);
 * return ok({ accepted: 3 });
 */
export interface Failure {
  ok: false;
  status: number;
  message: string;
  reason?: string;
  causes?: FieldError[];
  details?: { name?: string; group?: string; kind?: string };
}

export type Result<T> = { ok: true; value: T } | Failure;

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(status: number, message: string): Failure {
  return { ok: false, status, message };
}
