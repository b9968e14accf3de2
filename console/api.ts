/** The console's client for Eddy's API: the same calls kubectl makes, with the admin token or a ServiceAccount's. */

export interface Cause {
  field?: string;
  message?: string;
  reason?: string;
}

/** A refused call, with what a Kubernetes `Status` said: the message and the fields it names. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly causes: Cause[] = [],
  ) {
    super(message);
  }
}

/** Reads a Kubernetes `Status` (or plain text) answer into an ApiFailure. */
export function failureFrom(status: number, body: unknown): ApiFailure {
  if (body && typeof body === "object") {
    const s = body as { message?: unknown; details?: { causes?: unknown } };
    const causes = Array.isArray(s.details?.causes) ? (s.details!.causes as Cause[]).filter((c) => c && typeof c === "object") : [];
    if (typeof s.message === "string") return new ApiFailure(status, s.message, causes);
  }
  const text = typeof body === "string" && body.trim() ? body.trim() : `HTTP ${status}`;
  return new ApiFailure(status, text);
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
}

export class Client {
  /** Called on any 401: the token stopped working (or never did). */
  onUnauthorized: () => void = () => {};

  constructor(
    readonly token: string,
    readonly origin: string,
  ) {}

  async raw(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(this.origin + path, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, Accept: "application/json", ...headers },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : "";
    } catch {
      // a plain-text answer (ingresses answer errors as text)
    }
    return { status: res.status, body: parsed };
  }

  /** A JSON call that must succeed; anything but 2xx throws an ApiFailure. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const a = await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { "Content-Type": "application/json" });
    if (a.status === 401) this.onUnauthorized();
    if (a.status < 200 || a.status > 299) throw failureFrom(a.status, a.body);
    return a.body as T;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>("GET", path);
  }
}

/**
 * Whether a token is accepted: `kubectl auth whoami`'s call (a SelfSubjectReview), which every
 * authenticated caller may make, whatever RBAC lets it do otherwise. True, false (401), or an
 * ApiFailure for anything else so the sign-in form can say what went wrong.
 */
export async function checkToken(token: string, origin: string): Promise<boolean> {
  const a = await new Client(token, origin).raw("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }), { "Content-Type": "application/json" });
  if (a.status === 401) return false;
  if (a.status >= 200 && a.status < 300) return true;
  throw failureFrom(a.status, a.body);
}

const KEY = "eddy.console.token";

/** The token lives in session storage: it goes with the tab, and never into a URL. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (t: string) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};
