import type { Failure, Result } from "./result.js";

/**
 * A problem with one field of a submitted resource, named by its JSON path
 * (`spec.delivery.retry`, `spec.filters[2].cesql`). The control plane answers 422 with all of them.
 *
 * @example
 * const errs: FieldError[] = [{ field: "spec.delivery.retry", message: "must be >= 0, got -1" }];
 */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * A submitted value as messages quote it: JSON (so an object is not "[object Object]"), cut after
 * 60 characters; "nothing" when absent.
 *
 * @example
 * showValue({ a: 1 }); // '{"a":1}'
 * showValue(undefined); // "nothing"
 */
export function showValue(v: unknown): string {
  if (v === undefined) return "nothing";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v); // a cycle; admission refuses those before any message quotes them
  }
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

const REASONS: Record<number, string> = {
  400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
  409: "AlreadyExists", 413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid",
  429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
};

/**
 * The one error type of Eddy's HTTP surface. Anything thrown as an ApiError reaches the client
 * with its status and a message that names the cause and the fix; the control plane renders it as a
 * Kubernetes `Status`, the ingress as plain text.
 *
 * @example
 * throw new ApiError(404, 'brokers "default" not found in namespace "demo"; create it first');
 * throw ApiError.invalid("Trigger", "t1", [{ field: "spec.broker", message: "is required" }]);
 */
export class ApiError extends Error {
  readonly reason: string;
  /** A 5xx whose message is the answer itself (a RequestReply's 504): shown to the caller, not replaced by "internal error". */
  exposed = false;
  constructor(
    readonly status: number,
    message: string,
    readonly causes: FieldError[] = [],
    readonly details: { name?: string; group?: string; kind?: string } = {},
    readonly headers: Record<string, string> = {},
    reason?: string,
  ) {
    super(message);
    this.reason = reason ?? REASONS[status] ?? "Unknown";
  }

  static invalid(kind: string, name: string | undefined, causes: FieldError[], group?: string): ApiError {
    const list = causes.map((c) => `${c.field}: ${c.message}`).join("; ");
    return new ApiError(422, `${kind} "${name ?? ""}" is invalid: ${list}`, causes, {
      ...(name ? { name } : {}), kind, ...(group ? { group } : {}),
    });
  }

  /** Marks a 5xx as an answer to show as it is: a gateway's timeout or refusal, not a fault of the server. */
  exposing(): this {
    this.exposed = true;
    return this;
  }

  /** The error as an RPC failure (core/result.ts), to cross from a Durable Object to the Worker. */
  toFailure(): Failure {
    return { ok: false, status: this.status, message: this.message, reason: this.reason, causes: this.causes, details: this.details };
  }

  /** The ApiError an RPC failure stands for. */
  static from(f: Failure): ApiError {
    return new ApiError(f.status, f.message, f.causes ?? [], f.details ?? {}, {}, f.reason);
  }

  /** The Kubernetes `Status` object kubectl-style clients expect. */
  toStatus(): Record<string, unknown> {
    const details: Record<string, unknown> = { ...this.details };
    if (this.causes.length) {
      details.causes = this.causes.map((c) => ({ reason: "FieldValueInvalid", message: c.message, field: c.field }));
    }
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(Object.keys(details).length ? { details } : {}),
      code: this.status,
    };
  }
}

/**
 * The value of an RPC result, or its failure thrown as the ApiError it maps to. Takes `unknown`
 * because RPC stubs type their answers as `Rpc.Result` wrappers of the object's declared type.
 *
 * @example
 * const obj = unwrap<Resource>(await stub.get(ns, path, name));
 */
export function unwrap<T>(res: unknown): T {
  const r = res as Result<T>;
  if (r.ok) return r.value;
  throw ApiError.from(r);
}
