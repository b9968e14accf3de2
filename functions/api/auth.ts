import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../core/errors.js";
import type { Env } from "../env.js";
import { looksLikeJwt } from "../../core/identity/tokens.js";

/**
 * Requires `Authorization: Bearer <ADMIN_TOKEN>` on every control-plane call. The token is a
 * wrangler secret in production and comes from `.dev.vars` locally (`npm start` writes one).
 */
export const requireAdmin: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) {
    throw new ApiError(500, "the control plane has no ADMIN_TOKEN: set it with `wrangler secret put ADMIN_TOKEN` (or in .dev.vars locally)");
  }
  const header = c.req.header("authorization") ?? bearerFromSubprotocol(c.req.header("sec-websocket-protocol"));
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) {
    throw new ApiError(401, "missing bearer token: send `Authorization: Bearer <ADMIN_TOKEN>` (the token is in .dev.vars locally)", [], {}, { "WWW-Authenticate": 'Bearer realm="eddy"' });
  }
  const given = m[1]!.trim();
  // Tokens from TokenRequests identify senders of events; they never reach the control plane.
  if (looksLikeJwt(given) && !(await sameSecret(given, expected))) {
    throw new ApiError(403, "this bearer token is a sender token (from a ServiceAccount TokenRequest): it may send events to an ingress, but the control-plane API takes only the ADMIN_TOKEN", [], {}, {}, "Forbidden");
  }
  if (!(await sameSecret(given, expected))) {
    throw new ApiError(401, "wrong bearer token: use the ADMIN_TOKEN of this deployment", [], {}, { "WWW-Authenticate": 'Bearer realm="eddy", error="invalid_token"' });
  }
  await next();
};

/** Constant-time comparison of two secrets (hashing first so lengths do not leak either). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [ha, hb] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

/**
 * Browsers cannot set headers on a WebSocket, so (as the Kubernetes API server does) the token may
 * come as the subprotocol `base64url.bearer.authorization.k8s.io.<base64url of the token>`.
 */
function bearerFromSubprotocol(protocols: string | undefined): string {
  const p = protocols?.split(",").map((x) => x.trim()).find((x) => x.startsWith("base64url.bearer.authorization.k8s.io."));
  if (!p) return "";
  try {
    const b64 = p.slice("base64url.bearer.authorization.k8s.io.".length).replaceAll("-", "+").replaceAll("_", "/");
    return `Bearer ${atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4))}`;
  } catch {
    return "";
  }
}
