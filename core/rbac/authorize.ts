import { BUILTIN_CLUSTER_ROLE_BINDINGS, BUILTIN_CLUSTER_ROLES } from "./builtin.js";
import { type Attributes, type BindingLike, type PolicyRule, RBAC_GROUP, type RbacWorld, type RoleLike, type Subject, SUPERUSER_GROUP, type UserInfo } from "./types.js";

/**
 * Kubernetes' RBAC authorizer, for Eddy's API: a request is allowed when a ClusterRoleBinding, or a
 * RoleBinding of the request's namespace, names the caller (a User, a Group it is in, or its
 * ServiceAccount) and its role has a rule that covers the request. Nothing is denied explicitly;
 * what no rule allows is refused. `system:masters` (the admin token) is never refused.
 */
export interface Decision {
  allowed: boolean;
  /** Allowed: which binding and role. Refused: roles the bindings named that do not exist. */
  reason: string;
}

/** Whether one rule covers the request (rbac.RuleAllows). */
export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) return (rule.nonResourceURLs ?? []).some((u) => u === "*" || u === a.path || (u.endsWith("*") && a.path.startsWith(u.slice(0, -1))));
  if (!has(rule.apiGroups ?? [], a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  if (!resources.some((r) => r === "*" || r === combined || (a.subresource !== "" && r === `*/${a.subresource}`))) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

function has(list: readonly string[], v: string): boolean {
  return list.includes("*") || list.includes(v);
}

/** Whether a binding's subject is the caller (rbac.appliesToUser). */
export function subjectIs(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  if (s.kind === "User") return s.name === user.username;
  if (s.kind === "Group") return user.groups.includes(s.name);
  if (s.kind === "ServiceAccount") return user.username === `system:serviceaccount:${s.namespace || bindingNamespace || ""}:${s.name}`;
  return false;
}

/** The rules a binding grants, or why it grants nothing (its role does not exist). */
function rulesOf(b: BindingLike, world: RbacWorld): PolicyRule[] | string {
  const from = b.roleRef.kind === "ClusterRole" ? [...BUILTIN_CLUSTER_ROLES, ...world.clusterRoles] : world.roles;
  const role = from.find((r) => r.name === b.roleRef.name);
  if (role) return role.rules;
  return `${b.roleRef.kind.toLowerCase()}.${RBAC_GROUP} "${b.roleRef.name}" not found`;
}

/** Every (binding, rules) pair that applies to the caller for a request in `namespace` ("" for the cluster scope). */
function grants(user: UserInfo, namespace: string, world: RbacWorld): { binding: BindingLike; rules: PolicyRule[] | string }[] {
  const bindings = [...BUILTIN_CLUSTER_ROLE_BINDINGS, ...world.clusterRoleBindings, ...(namespace ? world.roleBindings.filter((b) => b.namespace === namespace) : [])];
  return bindings.filter((b) => b.subjects.some((s) => subjectIs(s, user, b.namespace))).map((binding) => ({ binding, rules: rulesOf(binding, world) }));
}

/**
 * Whether `user` may do `a`, with the binding that allows it or what went wrong.
 *
 * @example
 * authorize({ username: "system:serviceaccount:demo:reader", groups: [...] }, { resourceRequest: true, verb: "list", ... }, world);
 */
export function authorize(user: UserInfo, a: Attributes, world: RbacWorld): Decision {
  if (user.groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: `${SUPERUSER_GROUP} may do anything` };
  const errors: string[] = [];
  for (const { binding, rules } of grants(user, a.resourceRequest ? a.namespace : "", world)) {
    if (typeof rules === "string") {
      errors.push(rules);
      continue;
    }
    if (rules.some((r) => ruleAllows(r, a))) {
      const kind = binding.namespace ? "RoleBinding" : "ClusterRoleBinding";
      return { allowed: true, reason: `RBAC: allowed by ${kind} "${binding.name}${binding.namespace ? `/${binding.namespace}` : ""}" of ${binding.roleRef.kind} "${binding.roleRef.name}"` };
    }
  }
  return { allowed: false, reason: errors.length ? `RBAC: ${[...new Set(errors)].join(", ")}` : "" };
}

/**
 * The rules `user` holds in `namespace` (cluster-wide ones included), for SelfSubjectRulesReview and
 * for checking that a role or binding someone writes grants nothing they do not hold themselves.
 */
export function rulesFor(user: UserInfo, namespace: string, world: RbacWorld): { rules: PolicyRule[]; errors: string[] } {
  if (user.groups.includes(SUPERUSER_GROUP)) return { rules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, { verbs: ["*"], nonResourceURLs: ["*"] }], errors: [] };
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  for (const g of grants(user, namespace, world)) {
    if (typeof g.rules === "string") errors.push(g.rules);
    else rules.push(...g.rules);
  }
  return { rules, errors };
}

/**
 * The 403 message Kubernetes gives (responsewriters.forbiddenMessage): `brokers.eventing.knative.dev
 * is forbidden: User "..." cannot create resource "brokers" in API group "eventing.knative.dev" in
 * the namespace "demo"`, with the refused roles' problems after it.
 */
export function forbiddenMessage(user: UserInfo, a: Attributes, reason = ""): string {
  const tail = reason ? `: ${reason}` : "";
  if (!a.resourceRequest) return `forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"${tail}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : "at the cluster scope";
  const what = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${what} "${a.name}"` : what;
  return `${subject} is forbidden: User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${where}${tail}`;
}

export type { RoleLike };
