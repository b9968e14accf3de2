import type { BindingLike, PolicyRule, RoleLike } from "./types.js";

/** The API groups of Eddy's own kinds (core/resources/registry.ts), for the default roles below. */
const EDDY_GROUPS = ["eventing.knative.dev", "messaging.knative.dev", "flows.knative.dev", "sources.knative.dev", "sources.eddy.dev", "eventing.eddy.dev"];
const READ = ["get", "list", "watch"];
const rbac = "rbac.authorization.k8s.io";

const view: PolicyRule[] = [
  { verbs: READ, apiGroups: EDDY_GROUPS, resources: ["*"] },
  { verbs: READ, apiGroups: [""], resources: ["serviceaccounts"] },
];
const edit: PolicyRule[] = [
  { verbs: ["*"], apiGroups: EDDY_GROUPS, resources: ["*"] },
  { verbs: ["*"], apiGroups: [""], resources: ["serviceaccounts", "serviceaccounts/token", "secrets"] },
];

/**
 * ClusterRoles every Eddy has, as Kubernetes has them: they are not stored, cannot be changed, and
 * a binding may name them. `view` reads Eddy's kinds (not Secrets), `edit` changes them and Secrets
 * and ServiceAccounts too, `admin` also manages Roles and RoleBindings, `cluster-admin` may do
 * anything; `system:discovery` and `system:basic-user` are what every authenticated caller holds.
 */
export const BUILTIN_CLUSTER_ROLES: readonly RoleLike[] = [
  { name: "cluster-admin", rules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, { verbs: ["*"], nonResourceURLs: ["*"] }] },
  { name: "admin", rules: [...edit, { verbs: ["*"], apiGroups: [rbac], resources: ["roles", "rolebindings"] }] },
  { name: "edit", rules: edit },
  { name: "view", rules: view },
  {
    // What kubectl reads before anything else: discovery, OpenAPI and the version.
    name: "system:discovery",
    rules: [{ verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/", "/healthz"] }],
  },
  {
    // Asking what one may do (`kubectl auth can-i`, `kubectl auth whoami`) is always allowed.
    name: "system:basic-user",
    rules: [
      { verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"] },
      { verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"] },
    ],
  },
];

const group = (name: string) => ({ kind: "Group" as const, apiGroup: rbac, name });

export const BUILTIN_CLUSTER_ROLE_BINDINGS: readonly BindingLike[] = [
  { name: "cluster-admin", subjects: [group("system:masters")], roleRef: { apiGroup: rbac, kind: "ClusterRole", name: "cluster-admin" } },
  { name: "system:discovery", subjects: [group("system:authenticated")], roleRef: { apiGroup: rbac, kind: "ClusterRole", name: "system:discovery" } },
  { name: "system:basic-user", subjects: [group("system:authenticated")], roleRef: { apiGroup: rbac, kind: "ClusterRole", name: "system:basic-user" } },
];

/** Whether a name belongs to a built-in ClusterRole or ClusterRoleBinding (writes to it are refused). */
export function isBuiltin(name: string, kind: "ClusterRole" | "ClusterRoleBinding"): boolean {
  return (kind === "ClusterRole" ? BUILTIN_CLUSTER_ROLES : BUILTIN_CLUSTER_ROLE_BINDINGS).some((r) => r.name === name);
}
