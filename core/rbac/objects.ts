import type { Resource } from "../resources/types.js";
import type { BindingLike, PolicyRule, RoleLike, RoleRef, Subject } from "./types.js";

/**
 * The stored RBAC objects of one scope as the authorizer reads them: Roles or ClusterRoles, and
 * RoleBindings (with their namespace) or ClusterRoleBindings.
 */
export function rbacObjectsOf(resources: Iterable<Resource>): { roles: RoleLike[]; bindings: BindingLike[] } {
  const roles: RoleLike[] = [];
  const bindings: BindingLike[] = [];
  for (const r of resources) {
    if (r.kind === "Role" || r.kind === "ClusterRole") roles.push({ name: r.metadata.name, rules: (r.rules ?? []) as PolicyRule[] });
    else if (r.kind === "RoleBinding" || r.kind === "ClusterRoleBinding") {
      bindings.push({
        name: r.metadata.name, subjects: (r.subjects ?? []) as Subject[], roleRef: r.roleRef as RoleRef,
        ...(r.kind === "RoleBinding" ? { namespace: r.metadata.namespace } : {}),
      });
    }
  }
  return { roles, bindings };
}
