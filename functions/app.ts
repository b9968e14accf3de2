import { Hono } from "hono";
import { ApiError } from "../core/errors.js";
import { log } from "../core/log.js";
import { api } from "./api/routes.js";
import { coreV1 } from "./api/core-v1.js";
import { discardUnreadBody } from "./body.js";
import { serviceAccounts } from "./api/serviceaccounts.js";
import { wellKnown } from "./wellknown.js";
import { discovery } from "./api/discovery.js";
import { consoleRoutes } from "./console.js";
import type { ApiEnv } from "./api/context.js";
import { access } from "./api/access.js";
import { ADDRESSABLE_TABLE } from "../core/addressables.js";
import { addressableIngress } from "./ingress/dispatch.js";
import { webhookIngress } from "./ingress/webhook.js";
import { transformIngress } from "./ingress/transform.js";
import { requestReplyIngress } from "./ingress/request-reply.js";

/**
 * The Worker's HTTP surface: the control-plane API under `/apis`, and the ingress of every
 * addressable. One error type (ApiError) maps to HTTP here: the API answers with a Kubernetes
 * `Status`, ingresses with a plain-text message.
 */
export const app = new Hono<ApiEnv>();

// First of all middleware, so it also runs after routes that threw (onError has answered by then)
// and after notFound: whatever the answer, the request body must not stay on the connection.
app.use("*", async (c, next) => {
  await next();
  await discardUnreadBody(c.req.raw);
});

app.get("/healthz", (c) => c.text("ok"));
// Who may use the control plane, for every API, discovery and OpenAPI path: mounted once, here.
app.use("*", access);
// What someone opening the server's address in a browser, or with curl, is looking for.
app.get("/", (c) => c.text(`Eddy: Knative Eventing on Cloudflare Workers.

The web console: ${new URL(c.req.url).origin}/console (sign in with the admin token, or a ServiceAccount token for the API)
The API (kubectl: npx eddy kubeconfig > eddy.kubeconfig): /apis/{group}/{version}/namespaces/{ns}/{plural}, /api/v1
Addresses that take events: ${ADDRESSABLE_TABLE.map((a) => `/${a.prefix}/{ns}/{name}`).join(", ")}
`));
app.route("/apis", api);
// What kubectl reads first (discovery, OpenAPI, /version), and the core group's namespaces.
app.route("/", discovery);
app.route("/api/v1", coreV1);
// Sender identity: ServiceAccounts with TokenRequests, and the OIDC discovery document with its JWKS.
app.route("/api/v1", serviceAccounts);
app.route("/", wellKnown);
// Every addressable's ingress, from the one table of where each lives (core/addressables.ts).
const INGRESS = { publish: addressableIngress, webhook: webhookIngress, transform: transformIngress, request: requestReplyIngress };
for (const a of ADDRESSABLE_TABLE) app.route(`/${a.prefix}`, INGRESS[a.serves](a));
// The web console: static files only, no part of any ingress or delivery path.
app.route("/console", consoleRoutes);

app.notFound((c) => {
  const msg = `no route for ${c.req.method} ${new URL(c.req.url).pathname}: the API lives under /apis/{group}/{version}/namespaces/{ns}/{plural} and /api/v1 (discovery: /api, /apis, /openapi/v3), addressables under ${ADDRESSABLE_TABLE.map((a) => `/${a.prefix}`).join(", ")}, the web console under /console`;
  return render(c.req.path, new ApiError(404, msg));
});

app.onError((err, c) => answerError(c.req.method, c.req.path, err));

/**
 * The answer to a request that threw: its ApiError when below 500 (or a 5xx that is itself the
 * answer, such as a RequestReply's 504: ApiError.exposing). Anything else — an unexpected
 * error, or a 5xx ApiError (a deployment's misconfiguration) — is logged with its detail and a
 * correlation id, and the caller, who may never have authenticated, gets "internal error" and that
 * id only: no message, path or configuration name of the server's reaches them.
 */
export function answerError(method: string, path: string, err: unknown): Response {
  if (err instanceof ApiError && (err.status < 500 || err.exposed)) return render(path, err);
  const id = crypto.randomUUID();
  const status = err instanceof ApiError ? err.status : 500;
  log.error(err instanceof ApiError ? "request failed" : "unhandled error", {
    correlationId: id, method, path, status, error: err instanceof Error ? err.message : String(err), ...(err instanceof ApiError ? {} : { stack: (err as Error)?.stack }),
  });
  return render(path, new ApiError(status, `internal error; the server's log has the cause under correlationId ${id}`, [], {}, { "X-Correlation-Id": id }));
}

function render(path: string, err: ApiError): Response {
  const headers = new Headers(err.headers);
  if (path.startsWith("/api") || path.startsWith("/openapi") || path === "/version") {
    headers.set("Content-Type", "application/json");
    return new Response(JSON.stringify(err.toStatus()), { status: err.status, headers });
  }
  headers.set("Content-Type", "text/plain; charset=utf-8");
  return new Response(err.message + "\n", { status: err.status, headers });
}
