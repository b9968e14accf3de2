import type { Context } from "hono";
import type { Decision } from "../../core/rbac/authorize.js";
import type { Attributes, PolicyRule, RbacWorld, UserInfo } from "../../core/rbac/types.js";
import type { Env } from "../env.js";

/**
 * What the access middleware (./access.ts) leaves for the handlers: who is calling, and what RBAC
 * lets them do, so a handler can shape its answer (Secrets' values only for those who may `get` them).
 */
export interface Access {
  user: UserInfo;
  /** Whether RBAC lets the caller do `a`, and why. */
  decide(a: Attributes): Promise<Decision>;
  /** The rules the caller holds in `namespace` (cluster-wide ones included). */
  rules(namespace: string): Promise<PolicyRule[]>;
  /** The RBAC objects that bear on `namespace` (the roles a binding may name). */
  world(namespace: string): Promise<RbacWorld>;
}

/** Whether the caller may do `verb` on `resource` (or `resource/subresource`) of `group` in `namespace` ("" for the cluster scope). */
export async function can(access: Access, verb: string, group: string, resource: string, namespace: string, name = ""): Promise<boolean> {
  const [res = "", sub = ""] = resource.split("/");
  return (await access.decide({ resourceRequest: true, verb, apiGroup: group, apiVersion: "", resource: res, subresource: sub, namespace, name })).allowed;
}

export type ApiEnv = { Bindings: Env; Variables: { access: Access } };
export type C = Context<ApiEnv>;

/** The object that stores cluster-scoped kinds (ClusterRoles, ClusterRoleBindings): a Namespace object under a name no namespace can have. */
export const CLUSTER_SCOPE_OBJECT = "(cluster)";

export function clusterScope(env: Env): DurableObjectStub<import("../../durable-objects/namespace.js").Namespace> {
  return env.NAMESPACE.get(env.NAMESPACE.idFromName(CLUSTER_SCOPE_OBJECT));
}
