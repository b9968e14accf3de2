/** `rbac.authorization.k8s.io/v1`: the group of Role, RoleBinding, ClusterRole and ClusterRoleBinding. */
export const RBAC_GROUP = "rbac.authorization.k8s.io";

/** One rule of a Role or ClusterRole, as Kubernetes writes it. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  /** ClusterRoles only: paths that are not resources (`/version`, `/openapi/*`). */
  nonResourceURLs?: string[];
}

/** Who a binding grants its role to. */
export interface Subject {
  kind: "ServiceAccount" | "User" | "Group";
  name: string;
  /** ServiceAccounts: their namespace (a RoleBinding's own when absent). */
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: "Role" | "ClusterRole";
  name: string;
}

/** A Role or ClusterRole as the authorizer reads it. */
export interface RoleLike {
  name: string;
  rules: PolicyRule[];
}

/** A RoleBinding (with its namespace) or ClusterRoleBinding (without), as the authorizer reads it. */
export interface BindingLike {
  name: string;
  namespace?: string;
  subjects: Subject[];
  roleRef: RoleRef;
}

/** Who is calling, once authenticated (Kubernetes' user.Info). */
export interface UserInfo {
  username: string;
  groups: string[];
  uid?: string;
}

/**
 * What a request asks to do (Kubernetes' authorizer.Attributes): a verb on a resource, possibly
 * named, in a namespace or at the cluster scope; or a verb on a path that is not a resource.
 */
export type Attributes =
  | { resourceRequest: true; verb: string; apiGroup: string; apiVersion: string; resource: string; subresource: string; namespace: string; name: string }
  | { resourceRequest: false; verb: string; path: string };

/** Every RBAC object that can bear on one request: the cluster's, and those of the request's namespace. */
export interface RbacWorld {
  clusterRoles: RoleLike[];
  clusterRoleBindings: BindingLike[];
  roles: RoleLike[];
  roleBindings: BindingLike[];
}

/** The admin token's user: in `system:masters`, which RBAC never refuses (as in Kubernetes). */
export const ADMIN_USER: UserInfo = { username: "eddy:admin", groups: ["system:masters", "system:authenticated"] };
export const SUPERUSER_GROUP = "system:masters";
