import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../core/errors.js";
import { authorize, forbiddenMessage, rulesFor } from "../../core/rbac/authorize.js";
import { requestAttributes } from "../../core/rbac/request-info.js";
import { type Attributes, type RbacWorld, SUPERUSER_GROUP, type UserInfo } from "../../core/rbac/types.js";
import type { Env } from "../env.js";
import { authenticateApi, impersonation } from "./authn.js";
import { type Access, type ApiEnv, clusterScope } from "./context.js";

/** The control plane's paths: the Kubernetes API, discovery and OpenAPI, and /version. */
const CONTROL_PLANE = /^\/(api|apis|openapi|version|metrics)(\/|$)/;
const NS_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Authentication and authorization of the control plane, mounted once (functions/app.ts) in front
 * of every API route, watches, dead letters, replays, tails and stats included: who calls
 * (./authn.ts: 401 otherwise), who they act as (`Impersonate-User`, when they may), and whether RBAC
 * lets them do what the method and path ask (core/rbac: 403 worded as Kubernetes words it). The
 * admin token is cluster-admin; a ServiceAccount may do nothing but discovery and self-reviews until
 * a binding grants it more. Other paths (ingress, webhooks, the console's files) pass untouched.
 */
export const access: MiddlewareHandler<ApiEnv> = async (c, next) => {
  if (!CONTROL_PLANE.test(c.req.path)) return next();
  let user = await authenticateApi(c.env, c.req.raw);
  const worlds = new Map<string, Promise<RbacWorld>>();
  const world = (u: UserInfo, ns: string) => {
    const k = `${u.username}\n${ns}`;
    let w = worlds.get(k);
    if (!w) worlds.set(k, (w = loadWorld(c.env, u, ns)));
    return w;
  };
  const imp = impersonation(c.req.raw);
  if (imp) {
    for (const x of imp.checks) {
      const a: Attributes = { resourceRequest: true, verb: "impersonate", apiGroup: "", apiVersion: "v1", resource: x.resource, subresource: "", namespace: x.namespace, name: x.name };
      if (!authorize(user, a, await world(user, x.namespace)).allowed) throw forbidden(user, a, "");
    }
    user = imp.user;
  }
  const attrs = requestAttributes(c.req.method, c.req.path, new URL(c.req.url).searchParams);
  const decision = authorize(user, attrs, await world(user, attrs.resourceRequest ? attrs.namespace : ""));
  if (!decision.allowed) throw forbidden(user, attrs, decision.reason);
  const who = user;
  const grant: Access = {
    user: who,
    decide: async (a) => authorize(who, a, await world(who, a.resourceRequest ? a.namespace : "")),
    rules: async (namespace) => rulesFor(who, namespace, await world(who, namespace)).rules,
    world: (namespace) => loadWorld(c.env, { username: "", groups: [] }, namespace),
  };
  c.set("access", grant);
  await next();
};

function forbidden(user: UserInfo, a: Attributes, reason: string): ApiError {
  const details = a.resourceRequest ? { ...(a.name ? { name: a.name } : {}), group: a.apiGroup, kind: a.resource } : {};
  return new ApiError(403, forbiddenMessage(user, a, reason), [], details, {}, "Forbidden");
}

/**
 * The RBAC objects that bear on a request in `ns`: the cluster's (from the cluster scope's object)
 * and the namespace's own. The admin token needs none; a namespace that cannot exist has none.
 */
async function loadWorld(env: Env, user: UserInfo, ns: string): Promise<RbacWorld> {
  if (user.groups.includes(SUPERUSER_GROUP)) return { clusterRoles: [], clusterRoleBindings: [], roles: [], roleBindings: [] };
  const [cluster, local] = await Promise.all([
    clusterScope(env).rbac(),
    ns && NS_RE.test(ns) && ns.length <= 63 ? env.NAMESPACE.get(env.NAMESPACE.idFromName(ns)).rbac() : Promise.resolve({ roles: [], bindings: [] }),
  ]);
  return { clusterRoles: cluster.roles, clusterRoleBindings: cluster.bindings, roles: local.roles, roleBindings: local.bindings };
}
